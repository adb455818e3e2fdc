//! The one document model every OCR engine produces and everything downstream reads.
//!
//! It follows the shape of Amazon Textract's blocks so the Textract adapter converts without loss:
//! PAGE → [`Page`], LINE → [`Line`], WORD → [`Word`], KEY_VALUE_SET (KEY + VALUE) → [`KeyValue`],
//! TABLE / CELL → [`Table`] / [`Cell`], SELECTION_ELEMENT → [`Field::selected`]. Geometry is a
//! bounding box relative to the page (0..1, origin top left), as Textract reports it; confidence is
//! 0..100 for every engine. A page read from a PDF text layer has lines without boxes and full
//! confidence.

use serde::{Deserialize, Serialize};

/// How the text of one page was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadBy {
    /// The PDF's own text layer, read as it is.
    TextLayer,
    /// Rendered or decoded to pixels and recognised by Tesseract.
    Tesseract,
    /// Amazon Textract's document analysis.
    Textract,
}

impl ReadBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadBy::TextLayer => "text_layer",
            ReadBy::Tesseract => "tesseract",
            ReadBy::Textract => "textract",
        }
    }
}

/// Axis-aligned box relative to the page: all four values in 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

impl BBox {
    /// A box from pixel coordinates on a page of `page_w` × `page_h` pixels.
    pub fn from_pixels(left: f32, top: f32, width: f32, height: f32, page_w: f32, page_h: f32) -> Self {
        let (pw, ph) = (page_w.max(1.0), page_h.max(1.0));
        BBox { left: left / pw, top: top / ph, width: width / pw, height: height / ph }
    }

    /// The smallest box holding both.
    pub fn union(self, other: BBox) -> BBox {
        let left = self.left.min(other.left);
        let top = self.top.min(other.top);
        let right = (self.left + self.width).max(other.left + other.width);
        let bottom = (self.top + self.height).max(other.top + other.height);
        BBox { left, top, width: right - left, height: bottom - top }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    /// 0..100.
    pub confidence: f32,
    /// The engine says the word is handwritten (Textract's `TextType` HANDWRITING).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handwritten: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    /// 0..100.
    pub confidence: f32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
}

impl Line {
    /// A line of `words` in reading order: its text the words joined by spaces, its box their
    /// union, its confidence their mean.
    pub fn from_words(words: Vec<Word>) -> Line {
        let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        let bbox = words.iter().filter_map(|w| w.bbox).reduce(BBox::union);
        let confidence = words.iter().map(|w| w.confidence).sum::<f32>() / words.len().max(1) as f32;
        Line { text, bbox, confidence, words }
    }

    /// A line whose words are its whitespace-separated parts, all at one confidence and without
    /// boxes: what a text layer gives.
    pub fn from_text(text: &str, confidence: f32) -> Line {
        let words = text
            .split_whitespace()
            .map(|w| Word { text: w.to_string(), bbox: None, confidence, handwritten: false })
            .collect();
        Line { text: text.to_string(), bbox: None, confidence, words }
    }
}

/// One side of a key/value pair, or a table cell's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    pub confidence: f32,
    /// A check box (Textract SELECTION_ELEMENT): `Some(true)` when ticked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<bool>,
}

/// A form field: Textract's KEY_VALUE_SET pair, or a `Key: value` line recognised locally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: Field,
    pub value: Field,
}

impl KeyValue {
    /// The key as a name: no space around it, no colon after it ("Last Name:" → "Last Name").
    pub fn key_name(&self) -> &str {
        self.key.text.trim().trim_end_matches(':').trim()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// 1-based, as Textract counts.
    pub row: u32,
    pub col: u32,
    pub row_span: u32,
    pub col_span: u32,
    pub content: Field,
    #[serde(default)]
    pub header: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    pub cells: Vec<Cell>,
    /// The table runs on from the last table of the previous page (same columns, no new header
    /// or the same one repeated): [`Document::tables`] joins them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continues: bool,
}

impl Table {
    pub fn rows(&self) -> u32 {
        self.cells.iter().map(|c| c.row + c.row_span.max(1) - 1).max().unwrap_or(0)
    }
    pub fn cols(&self) -> u32 {
        self.cells.iter().map(|c| c.col + c.col_span.max(1) - 1).max().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// 1-based page number in the source document.
    pub number: u32,
    pub read_by: ReadBy,
    /// Lines in reading order.
    pub lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_values: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<Table>,
    /// The page had a text layer that was not real text (a scanner's garbage OCR layer): it was
    /// read by OCR instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_layer_rejected: bool,
    /// What was done to the page's image before it was read ("despeckled", "rotated 90": turned
    /// a quarter clockwise), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepared: Vec<String>,
}

impl Page {
    /// Mean word confidence of the page, or `None` when it holds no words.
    pub fn mean_confidence(&self) -> Option<f32> {
        let (sum, n) = self
            .lines
            .iter()
            .flat_map(|l| l.words.iter())
            .fold((0.0f64, 0usize), |(s, n), w| (s + w.confidence as f64, n + 1));
        (n > 0).then(|| (sum / n as f64) as f32)
    }

    pub fn word_count(&self) -> usize {
        self.lines.iter().map(|l| l.words.len()).sum()
    }

    /// Lines the engine read as handwriting (most of their words marked handwritten: Textract's
    /// HANDWRITING), 0-based. A machine reads handwriting less surely than print, however sure
    /// it says it is: such lines are for a person to check.
    pub fn handwritten_lines(&self) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                !l.words.is_empty() && l.words.iter().filter(|w| w.handwritten).count() * 2 > l.words.len()
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Fewer than half its words are sure ones ([`poorly_read`]): handwriting, or a page too
    /// damaged for the engine that read it.
    pub fn poorly_read(&self) -> bool {
        poorly_read(&self.lines)
    }

    /// On a page read well as a whole, the runs of lines each read poorly ([`poorly_read`]):
    /// a handwritten note on a typed page, a stamp, a smear. A run counts from
    /// [`REGION_LINES`] lines and [`REGION_WORDS`] words of letters, so a logo or a rule read as
    /// letters is none. Line indices, first and last, 0-based.
    pub fn poorly_read_regions(&self) -> Vec<(usize, usize)> {
        if self.poorly_read() {
            return Vec::new();
        }
        let poor = |l: &Line| poorly_read(std::slice::from_ref(l));
        // A line without a word of letters (a scrawl read as "1 / 7") says nothing either way:
        // it continues a run, but neither starts nor ends one.
        let neutral = |l: &Line| words_of_letters(std::slice::from_ref(l)).next().is_none();
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.lines.len() {
            let mut run = 0;
            if poor(&self.lines[i]) {
                run = self.lines[i..].iter().take_while(|l| poor(l) || neutral(l)).count();
                while run > 0 && neutral(&self.lines[i + run - 1]) {
                    run -= 1;
                }
            }
            let lines = &self.lines[i..i + run];
            if lines.iter().filter(|l| poor(l)).count() >= REGION_LINES
                && words_of_letters(lines).count() >= REGION_WORDS
            {
                out.push((i, i + run - 1));
            }
            i += run.max(1);
        }
        out
    }
}

/// The fewest lines in a row, each poorly read, that make a poorly read region of a page
/// ([`Page::poorly_read_regions`]). Typed real documents have runs of two (a letterhead's
/// stylised name, a card's fine print), never three.
pub const REGION_LINES: usize = 3;

/// The fewest words of two letters or more in a poorly read region.
pub const REGION_WORDS: usize = 6;

/// The most a finding read from a poorly read page ([`Page::poorly_read`]: handwriting, or
/// damage) may be trusted: under any sensible `fhir.min_confidence`, so it is never written as
/// fact; a person, or Textract, reads the page.
pub const POORLY_READ_CONFIDENCE: f64 = 0.2;

/// Words of two letters or more: what a reading is judged on (a table's rules read as "|", a
/// stray mark as "a", say nothing of how well the words were read).
fn words_of_letters(lines: &[Line]) -> impl Iterator<Item = &Word> {
    lines.iter().flat_map(|l| l.words.iter()).filter(|w| w.text.chars().filter(|c| c.is_alphabetic()).count() >= 2)
}

/// Words of two letters or more read with confidence 80 or more.
pub fn sure_words(lines: &[Line]) -> usize {
    words_of_letters(lines).filter(|w| w.confidence >= 80.0).count()
}

/// A reading in which fewer than half the words of two letters or more are sure ones: a page
/// upside down, turned the wrong quarter, handwritten, or too damaged to read.
pub fn poorly_read(lines: &[Line]) -> bool {
    let all = words_of_letters(lines).count();
    all > 0 && sure_words(lines) * 2 < all
}

/// What any OCR engine returns for one source document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub pages: Vec<Page>,
    /// Pages the engine reported as missing (Textract PARTIAL_SUCCESS), 1-based.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_pages: Vec<u32>,
    /// Engine warnings (never document text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Separator between pages in [`Document::text`]: a blank line, so sections and sentences never
/// run across a page break.
pub const PAGE_BREAK: &str = "\n\n";

impl Document {
    /// Every table of the document, a table that runs over several pages as one: the rows of each
    /// continuation follow the rows before them, a repeated header row left out.
    pub fn tables(&self) -> Vec<Table> {
        let mut out: Vec<Table> = Vec::new();
        for t in self.pages.iter().flat_map(|p| &p.tables) {
            match out.last_mut() {
                Some(whole) if t.continues => {
                    let offset = whole.rows();
                    let repeated: Vec<u32> = t.cells.iter().filter(|c| c.header).map(|c| c.row).collect();
                    let skip = repeated.iter().max().copied().unwrap_or(0);
                    whole.cells.extend(
                        t.cells
                            .iter()
                            .filter(|c| c.row > skip)
                            .map(|c| Cell { row: c.row - skip + offset, ..c.clone() }),
                    );
                }
                _ => out.push(Table { continues: false, ..t.clone() }),
            }
        }
        out
    }

    /// The plain text the NLP reads and the DocumentReference carries: lines joined by newlines,
    /// pages by a blank line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, page) in self.pages.iter().enumerate() {
            if i > 0 {
                out.push_str(PAGE_BREAK);
            }
            for (j, line) in page.lines.iter().enumerate() {
                if j > 0 {
                    out.push('\n');
                }
                out.push_str(&line.text);
            }
        }
        out
    }

    /// Every word with its byte span in [`Document::text`], in text order: (start, end, how it
    /// was read, its confidence 0..100). Computed in one pass, so a caller placing many findings
    /// asks once.
    pub fn word_spans(&self) -> Vec<(usize, usize, ReadBy, f32)> {
        let mut out = Vec::new();
        for (page, offsets) in self.pages.iter().zip(self.line_offsets()) {
            for (line, at) in page.lines.iter().zip(offsets) {
                let mut cursor = 0;
                for w in &line.words {
                    let Some(found) = line.text.get(cursor..).and_then(|rest| rest.find(w.text.as_str())) else {
                        continue;
                    };
                    let ws = at + cursor + found;
                    cursor += found + w.text.len();
                    out.push((ws, ws + w.text.len(), page.read_by, w.confidence));
                }
            }
        }
        out
    }

    /// Mean confidence (0..100) of the words that overlap bytes `start..end` of
    /// [`Document::text`]; `None` when no word does.
    pub fn span_confidence(&self, start: usize, end: usize) -> Option<f32> {
        let words: Vec<f32> =
            self.word_spans().into_iter().filter(|&(ws, we, _, _)| ws < end && start < we).map(|w| w.3).collect();
        (!words.is_empty()).then(|| words.iter().sum::<f32>() / words.len() as f32)
    }

    /// The byte ranges of [`Document::text`] that poorly read pages ([`Page::poorly_read`]) and
    /// poorly read regions of other pages ([`Page::poorly_read_regions`]) hold, with their page
    /// numbers.
    pub fn poorly_read_spans(&self) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        for (page, offsets) in self.pages.iter().zip(self.line_offsets()) {
            let span = |a: usize, b: usize| (page.number, offsets[a], offsets[b] + page.lines[b].text.len());
            if page.poorly_read() && !page.lines.is_empty() {
                out.push(span(0, page.lines.len() - 1));
            }
            out.extend(page.poorly_read_regions().into_iter().map(|(a, b)| span(a, b)));
        }
        out
    }

    /// Where each page's lines start in [`Document::text`] (byte offsets, per page), so what is
    /// found by layout (a caption, a box) can be placed in the text the NLP reads.
    pub fn line_offsets(&self) -> Vec<Vec<usize>> {
        let mut at = 0;
        self.pages
            .iter()
            .enumerate()
            .map(|(p, page)| {
                if p > 0 {
                    at += PAGE_BREAK.len() - 1;
                }
                page.lines
                    .iter()
                    .map(|line| {
                        let start = at;
                        at += line.text.len() + 1;
                        start
                    })
                    .collect()
            })
            .collect()
    }

    /// Mean word confidence over the OCR'd pages (text-layer pages excluded).
    pub fn mean_ocr_confidence(&self) -> Option<f32> {
        let (sum, n) = self
            .pages
            .iter()
            .filter(|p| p.read_by != ReadBy::TextLayer)
            .flat_map(|p| p.lines.iter().flat_map(|l| l.words.iter()))
            .fold((0.0f64, 0usize), |(s, n), w| (s + w.confidence as f64, n + 1));
        (n > 0).then(|| (sum / n as f64) as f32)
    }

    pub fn pages_read_by(&self, how: ReadBy) -> usize {
        self.pages.iter().filter(|p| p.read_by == how).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: u32, read_by: ReadBy, lines: &[&str], conf: f32) -> Page {
        Page {
            number: n,
            read_by,
            lines: lines.iter().map(|t| Line::from_text(t, conf)).collect(),
            key_values: vec![],
            tables: vec![],
            text_layer_rejected: false,
            prepared: Vec::new(),
        }
    }

    #[test]
    fn a_run_of_poorly_read_lines_is_a_region_and_a_line_without_letters_does_not_break_it() {
        let typed = ["Discharge summary", "Plan reviewed with the patient", "Follow up in the clinic today"];
        let mut p = page(1, ReadBy::Tesseract, &typed, 95.0);
        let scrawl = |t: &str| Line::from_text(t, 30.0);
        p.lines.extend([scrawl("sore throat since Monday"), scrawl("1 / 7"), scrawl("call back if worse")]);
        assert!(p.poorly_read_regions().is_empty(), "two poorly read lines are no region");
        p.lines.push(scrawl("see nurse note"));
        assert!(!p.poorly_read());
        assert_eq!(p.poorly_read_regions(), [(3, 6)]);
        let doc = Document { pages: vec![p], ..Default::default() };
        let text = doc.text();
        let spans = doc.poorly_read_spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(
            &text[spans[0].1..spans[0].2],
            "sore throat since Monday\n1 / 7\ncall back if worse\nsee nurse note"
        );
    }

    #[test]
    fn text_joins_lines_and_pages() {
        let doc = Document {
            pages: vec![page(1, ReadBy::TextLayer, &["a b", "c"], 100.0), page(2, ReadBy::Tesseract, &["d"], 80.0)],
            ..Default::default()
        };
        assert_eq!(doc.text(), "a b\nc\n\nd");
        let text = doc.text();
        let offsets = doc.line_offsets();
        for (page, starts) in doc.pages.iter().zip(&offsets) {
            for (line, &at) in page.lines.iter().zip(starts) {
                assert_eq!(&text[at..at + line.text.len()], line.text);
            }
        }
        assert_eq!(doc.mean_ocr_confidence(), Some(80.0));
        assert_eq!(doc.pages_read_by(ReadBy::TextLayer), 1);
    }

    #[test]
    fn table_dimensions_count_spans() {
        let cell = |row, col, col_span| Cell {
            row,
            col,
            row_span: 1,
            col_span,
            content: Field { text: String::new(), bbox: None, confidence: 99.0, selected: None },
            header: false,
        };
        let t = Table { bbox: None, cells: vec![cell(1, 1, 3), cell(2, 1, 1), cell(2, 2, 1)], continues: false };
        assert_eq!((t.rows(), t.cols()), (2, 3));
    }

    #[test]
    fn bbox_union_and_pixels() {
        let a = BBox::from_pixels(10.0, 10.0, 10.0, 10.0, 100.0, 100.0);
        let b = BBox::from_pixels(50.0, 0.0, 10.0, 40.0, 100.0, 100.0);
        let u = a.union(b);
        assert!((u.left - 0.1).abs() < 1e-6 && (u.top - 0.0).abs() < 1e-6);
        assert!((u.width - 0.5).abs() < 1e-6 && (u.height - 0.4).abs() < 1e-6);
    }
}
