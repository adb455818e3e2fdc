//! Layout from word boxes, for engines that give words and lines only (Tesseract, text layers):
//! a line cut into segments where its words stand apart (form columns), key/value fields whose
//! value stands beside its label or below it, what stands below a caption in its column, and
//! tables of lines whose segments stand in the same columns.
//!
//! Pure geometry on page-relative boxes; no vocabulary. Which captions matter (a patient's name,
//! a claim's diagnosis box) is the NLP's business: it asks [`below`] for what stands under them.

use crate::document::{BBox, Cell, Field, KeyValue, Line, Table, Word};

/// Words further apart than this many character widths start a new segment: a form's next
/// column, not the next word of a phrase.
const COLUMN_GAP_CHARS: f32 = 3.0;

/// How far below a label its value may stand, in the label's own heights.
const BELOW_HEIGHTS: f32 = 4.0;

/// A run of words of one line that stand together.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    pub bbox: Option<BBox>,
    pub confidence: f32,
}

fn right(b: &BBox) -> f32 {
    b.left + b.width
}

/// Border and box strokes OCR reads as characters: `|`, `[`, `_`, dashes.
fn is_stroke(word: &str) -> bool {
    !word.chars().any(|c| c.is_alphanumeric())
}

/// The words of `line` cut where they stand apart. Stroke-only words (`|`, `—`) are dropped:
/// they are the form's rules, not its text. Lines without word boxes are cut at runs of three or
/// more spaces, as text layers lay out columns.
pub fn segments(line: &Line) -> Vec<Segment> {
    let boxed = !line.words.is_empty() && line.words.iter().all(|w| w.bbox.is_some());
    if !boxed {
        return line
            .text
            .split("   ")
            .map(|t| t.split_whitespace().filter(|w| !is_stroke(w)).collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty())
            .map(|text| Segment { text, bbox: None, confidence: line.confidence })
            .collect();
    }
    let words: Vec<_> = line.words.iter().filter(|w| !is_stroke(&w.text)).collect();
    let (chars, width) = words
        .iter()
        .fold((0usize, 0f32), |(c, w), word| (c + word.text.chars().count(), w + word.bbox.map_or(0.0, |b| b.width)));
    let char_w = if chars == 0 { 0.0 } else { width / chars as f32 };
    let mut out: Vec<(Vec<&str>, BBox, f32, usize)> = Vec::new();
    for w in words {
        let b = w.bbox.expect("boxed");
        match out.last_mut() {
            Some((texts, bb, conf, n)) if b.left - right(bb) <= COLUMN_GAP_CHARS * char_w => {
                texts.push(&w.text);
                *bb = bb.union(b);
                *conf += w.confidence;
                *n += 1;
            }
            _ => out.push((vec![&w.text], b, w.confidence, 1)),
        }
    }
    out.into_iter()
        .map(|(texts, bbox, conf, n)| Segment { text: texts.join(" "), bbox: Some(bbox), confidence: conf / n as f32 })
        .collect()
}

/// A field key: short, starting with a letter, no digits (so times like "10:30" and ratios are
/// not fields).
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= 32
        && key.chars().next().is_some_and(|c| c.is_alphabetic())
        && key.chars().all(|c| c.is_alphabetic() || " /#.-()'’&".contains(c))
        && key.split_whitespace().count() <= 4
}

/// `Key: value` of a segment, the value possibly empty; `None` when it is no field.
fn split_field(text: &str) -> Option<(&str, &str)> {
    let (key, value) = text.split_once(':')?;
    let key = key.trim();
    is_key(key).then_some((key, value.trim()))
}

/// A key's last word that is only half a key without the word before it: "Zip Code", "Last
/// Name", "Group Number", "Marital Status", "Member ID", "Date of Birth".
const KEY_TAILS: &[(&str, &[&str])] = &[
    ("code", &["zip", "postal", "area"]),
    ("name", &["first", "last", "middle", "family", "given", "member", "patient", "maiden", "subscriber", "insured's"]),
    ("number", &["phone", "group", "member", "policy", "account", "record", "id", "social", "contact"]),
    ("status", &["marital", "employment", "smoking"]),
    ("id", &["member", "patient", "payer", "subscriber", "group"]),
    ("phone", &["home", "cell", "work", "mobile", "pcp"]),
    ("address", &["home", "email", "e-mail", "mailing", "street"]),
    ("birth", &["of"]),
    ("bin", &["rx"]),
    ("pcn", &["rx"]),
    ("grp", &["rx"]),
    ("group", &["rx"]),
];

/// Every `Key: value` of a segment that runs several fields together ("City: Ashford State: CT
/// Zip Code: 06278"): each inner key is the word before its colon, with the word before that
/// when the two make one key.
fn split_fields(text: &str) -> Vec<(String, String)> {
    if split_field(text).is_none() {
        return Vec::new();
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    // Where each key starts and ends (index of its word with the colon), in words.
    let first_end = words.iter().position(|w| w.contains(':')).unwrap_or(0);
    let mut keys: Vec<(usize, usize)> = vec![(0, first_end)];
    for (i, w) in words.iter().enumerate().skip(first_end + 1) {
        if !w.ends_with(':') || w.len() < 2 {
            continue;
        }
        let prev_value_start = keys.last().map_or(0, |k| k.1 + 1);
        let bare = |w: &str| w.trim_end_matches(':').to_lowercase();
        let mut start = i;
        let tail = bare(w);
        if let Some((_, heads)) = KEY_TAILS.iter().find(|(t, _)| *t == tail) {
            // The head may take the whole of the previous value: a label alone ("Member Name: Payer ID: 1").
            if i > prev_value_start && heads.contains(&bare(words[i - 1]).as_str()) {
                start = i - 1;
                // "Date of Birth": one more word before "of".
                if bare(words[i - 1]) == "of" && i > prev_value_start + 1 {
                    start = i - 2;
                }
            }
        }
        let key: String = words[start..=i].join(" ");
        if start >= prev_value_start && is_key(key.trim_end_matches(':')) {
            keys.push((start, i));
        }
    }
    keys.iter()
        .enumerate()
        .map(|(n, &(s, e))| {
            let value_end = keys.get(n + 1).map_or(words.len(), |k| k.0);
            let key = words[s..=e].join(" ");
            let (key, rest) = key.split_once(':').unwrap_or((&key, ""));
            let mut value: Vec<&str> = Vec::new();
            if !rest.trim().is_empty() {
                value.push(rest.trim());
            }
            value.extend(&words[e + 1..value_end]);
            (key.trim().to_string(), value.join(" "))
        })
        .filter(|(k, _)| is_key(k))
        .collect()
}

/// The segments of the lines after `line` whose boxes overlap the column `left..right`, nearest
/// first, as far down as `max_lines` lines and a few of the caption's heights (`caption`).
pub fn below<'a>(
    lines: &'a [Line],
    line: usize,
    caption: BBox,
    left: f32,
    right_edge: f32,
    max_lines: usize,
) -> impl Iterator<Item = (usize, Segment)> + 'a {
    let limit = caption.top + caption.height * (1.0 + BELOW_HEIGHTS);
    lines
        .iter()
        .enumerate()
        .skip(line + 1)
        .take(max_lines)
        .take_while(move |(_, l)| l.bbox.is_none_or(|b| b.top <= limit))
        .flat_map(move |(i, l)| {
            segments(l).into_iter().filter_map(move |s| {
                let b = s.bbox?;
                (b.left < right_edge && right(&b) > left).then_some((i, s))
            })
        })
}

/// The first run of words standing below a caption in the column `left..right` (by their
/// centres), on each of the next `max_lines` lines that has any there: a box's value on a form whose boxes
/// stand close together (a claim's "10 BIRTHDATE 11 SEX" over "11171981 F").
pub fn words_below(lines: &[Line], line: usize, left: f32, right_edge: f32, max_lines: usize) -> Vec<(usize, String)> {
    lines
        .iter()
        .enumerate()
        .skip(line + 1)
        .take(max_lines)
        .map(|(i, l)| {
            let words: Vec<Word> = l
                .words
                .iter()
                .filter(|w| {
                    !is_stroke(&w.text)
                        && w.bbox.is_some_and(|b| {
                            let c = b.left + b.width / 2.0;
                            c >= left && c < right_edge
                        })
                })
                .cloned()
                .collect();
            // The first run of words that stand together: the box's value, not the next box's.
            let run = Line::from_words(words);
            (i, segments(&run).into_iter().next().map(|s| s.text).unwrap_or_default())
        })
        .filter(|(_, t)| !t.is_empty())
        .collect()
}

/// Form fields of a page's lines: `Key: value` segments (several per line where columns stand
/// apart), and a `Key:` standing alone whose value is the first segment below it in its column
/// that is not itself a field (a card's "Member:" over "JOHN DOE").
pub fn key_values(lines: &[Line]) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let segs = segments(line);
        for (n, seg) in segs.iter().enumerate() {
            let mut fields = split_fields(&seg.text);
            // The last field of a segment may take its value from the next column or below.
            let Some((key, value)) = fields.pop() else { continue };
            let chars = seg.text.chars().count().max(1) as f32;
            for (n, (k, v)) in fields.iter().enumerate() {
                let field = |text: &str, bbox| Field {
                    text: text.to_string(),
                    bbox,
                    confidence: seg.confidence,
                    selected: None,
                };
                if !v.is_empty() {
                    out.push(KeyValue { key: field(k, seg.bbox), value: field(v, seg.bbox) });
                    continue;
                }
                // "Member Name: Payer ID: 12111" over "JOHN DOE": an inner key with nothing after
                // it takes the value below its own part of the segment (the next key's place
                // estimated from the characters before it).
                let next = fields.get(n + 1).map_or(&key, |f| &f.0);
                let Some(b) = seg.bbox else { continue };
                let at = seg.text.find(next.as_str()).unwrap_or(0);
                let split = b.left + b.width * seg.text[..at].chars().count() as f32 / chars;
                let own = BBox { width: split - b.left, ..b };
                let found = below(lines, i, own, b.left, split, 3)
                    .find(|(_, s)| s.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2);
                if let Some((_, v)) = found.filter(|(_, s)| split_field(&s.text).is_none()) {
                    out.push(KeyValue { key: field(k, Some(own)), value: field(&v.text, v.bbox) });
                }
            }
            let (key, value) = (key.as_str(), value.as_str());
            let field = |text: &str, bbox: Option<BBox>, confidence: f32| Field {
                text: text.to_string(),
                bbox,
                confidence,
                selected: None,
            };
            if !value.is_empty() {
                out.push(KeyValue {
                    key: field(key, seg.bbox, seg.confidence),
                    value: field(value, seg.bbox, seg.confidence),
                });
                continue;
            }
            // The value in the next column of the same line ("Name:      Jane Doe"), else below.
            if let Some(next) = segs.get(n + 1).filter(|s| split_field(&s.text).is_none()) {
                out.push(KeyValue {
                    key: field(key, seg.bbox, seg.confidence),
                    value: field(&next.text, next.bbox, next.confidence),
                });
                continue;
            }
            let Some(b) = seg.bbox else { continue };
            let found = below(lines, i, b, b.left, right(&b).max(b.left + 0.15), 3)
                .find(|(_, s)| s.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2);
            if let Some((_, v)) = found.filter(|(_, s)| split_field(&s.text).is_none()) {
                out.push(KeyValue {
                    key: field(key, seg.bbox, seg.confidence),
                    value: field(&v.text, v.bbox, v.confidence),
                });
            }
        }
    }
    out
}

/// Tables of aligned columns: runs of two or more consecutive lines, each cut into the same
/// number (two or more) of segments, every segment standing over the same column as the first
/// line's (their boxes overlap horizontally), the lines no further apart than two of their
/// heights. Each line is a row (the first as it stands, unflagged: the reader decides whether it
/// is a header); a line that breaks the columns ends the table. Lines without word boxes give
/// none.
pub fn tables(lines: &[Line]) -> Vec<Table> {
    let rows: Vec<Option<Vec<Segment>>> = lines
        .iter()
        .map(|l| {
            let segs = segments(l);
            (segs.len() >= 2 && segs.iter().all(|s| s.bbox.is_some())).then_some(segs)
        })
        .collect();
    let aligned = |a: &[Segment], b: &[Segment]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                let (x, y) = (x.bbox.expect("boxed"), y.bbox.expect("boxed"));
                x.left < right(&y) && y.left < right(&x)
            })
    };
    let close = |i: usize| {
        let (Some(a), Some(b)) = (lines[i - 1].bbox, lines[i].bbox) else { return false };
        b.top - (a.top + a.height) <= 2.0 * a.height.max(b.height)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let Some(first) = &rows[i] else {
            i += 1;
            continue;
        };
        let mut end = i + 1;
        while end < rows.len() && rows[end].as_ref().is_some_and(|r| aligned(first, r)) && close(end) {
            end += 1;
        }
        if end - i >= 2 {
            let mut cells = Vec::new();
            let mut bbox: Option<BBox> = None;
            for (r, row) in rows[i..end].iter().enumerate() {
                for (c, seg) in row.as_ref().expect("aligned rows").iter().enumerate() {
                    let b = seg.bbox.expect("boxed");
                    bbox = Some(bbox.map_or(b, |x| x.union(b)));
                    cells.push(Cell {
                        row: r as u32 + 1,
                        col: c as u32 + 1,
                        row_span: 1,
                        col_span: 1,
                        content: Field {
                            text: seg.text.clone(),
                            bbox: Some(b),
                            confidence: seg.confidence,
                            selected: None,
                        },
                        header: false,
                    });
                }
            }
            out.push(Table { bbox, cells, continues: false });
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Word;

    /// A line of words at (left, width) in page fractions, all at `top`.
    fn line(top: f32, words: &[(&str, f32, f32)]) -> Line {
        Line::from_words(
            words
                .iter()
                .map(|&(t, left, width)| Word {
                    text: t.into(),
                    bbox: Some(BBox { left, top, width, height: 0.03 }),
                    confidence: 90.0,
                    handwritten: false,
                })
                .collect(),
        )
    }

    #[test]
    fn aligned_columns_are_a_table_and_a_line_that_breaks_them_ends_it() {
        let lines = [
            line(0.10, &[("LABORATORY", 0.05, 0.2), ("REPORT", 0.26, 0.12)]),
            line(
                0.20,
                &[
                    ("Patient", 0.05, 0.1),
                    ("Name", 0.16, 0.07),
                    ("Date", 0.50, 0.06),
                    ("of", 0.57, 0.03),
                    ("Birth", 0.61, 0.07),
                    ("MRN", 0.80, 0.06),
                ],
            ),
            line(0.24, &[("Wei", 0.05, 0.05), ("Chen", 0.11, 0.07), ("01/06/1958", 0.50, 0.15), ("A-7731", 0.80, 0.1)]),
            line(0.28, &[("Collected:", 0.05, 0.14), ("03/01/2024", 0.20, 0.15)]),
            line(0.40, &[("Glucose", 0.05, 0.1), ("182", 0.50, 0.05)]),
        ];
        let t = tables(&lines);
        assert_eq!(t.len(), 1, "{t:?}");
        let cells: Vec<(u32, u32, &str)> = t[0].cells.iter().map(|c| (c.row, c.col, c.content.text.as_str())).collect();
        assert_eq!(
            cells,
            [
                (1, 1, "Patient Name"),
                (1, 2, "Date of Birth"),
                (1, 3, "MRN"),
                (2, 1, "Wei Chen"),
                (2, 2, "01/06/1958"),
                (2, 3, "A-7731")
            ]
        );
        assert!(tables(&[lines[3].clone(), lines[4].clone()]).is_empty(), "too far apart, other columns: no table");
        assert!(
            tables(&[Line::from_text("a   b", 90.0), Line::from_text("c   d", 90.0)]).is_empty(),
            "no boxes, no table"
        );
    }

    #[test]
    fn columns_cut_a_line_and_strokes_are_dropped() {
        let l = line(
            0.3,
            &[
                ("|", 0.0, 0.01),
                ("Member", 0.08, 0.11),
                ("ID:", 0.19, 0.04),
                ("11-22", 0.24, 0.1),
                ("Group", 0.52, 0.07),
                ("No:", 0.60, 0.04),
                ("A1", 0.66, 0.03),
            ],
        );
        let s: Vec<String> = segments(&l).into_iter().map(|s| s.text).collect();
        assert_eq!(s, ["Member ID: 11-22", "Group No: A1"]);
        let kv = key_values(&[l]);
        let pairs: Vec<(&str, &str)> = kv.iter().map(|k| (k.key.text.as_str(), k.value.text.as_str())).collect();
        assert_eq!(pairs, [("Member ID", "11-22"), ("Group No", "A1")]);
    }

    #[test]
    fn a_label_alone_takes_the_value_below_it() {
        let lines = [
            line(0.38, &[("|", 0.05, 0.005), ("Member:", 0.09, 0.10), ("|", 0.21, 0.005)]),
            line(0.42, &[("4", 0.0, 0.02), ("Payer", 0.56, 0.07), ("ID:", 0.64, 0.03), ("87726", 0.68, 0.07)]),
            line(0.45, &[("|", 0.05, 0.01), ("JOHN", 0.09, 0.07), ("DOE", 0.17, 0.05), ("|", 0.40, 0.01)]),
        ];
        let kv = key_values(&lines);
        let pairs: Vec<(&str, &str)> = kv.iter().map(|k| (k.key.text.as_str(), k.value.text.as_str())).collect();
        assert_eq!(pairs, [("Member", "JOHN DOE"), ("Payer ID", "87726")]);
        // The label alone shares its segment with a field to its right.
        let lines = [
            line(
                0.38,
                &[
                    ("Member", 0.09, 0.1),
                    ("Name:", 0.2, 0.08),
                    ("Payer", 0.29, 0.08),
                    ("ID:", 0.38, 0.04),
                    ("12111", 0.43, 0.08),
                ],
            ),
            line(0.42, &[("AISHA", 0.09, 0.09), ("FISCHER", 0.19, 0.12)]),
        ];
        let kv = key_values(&lines);
        let pairs: Vec<(&str, &str)> = kv.iter().map(|k| (k.key.text.as_str(), k.value.text.as_str())).collect();
        assert_eq!(pairs, [("Member Name", "AISHA FISCHER"), ("Payer ID", "12111")]);
        // Nothing below in the column, or a field there: no value.
        let beside = [line(0.1, &[("Name:", 0.1, 0.05), ("Jane", 0.4, 0.04), ("Doe", 0.45, 0.04)])];
        assert_eq!(key_values(&beside)[0].value.text, "Jane Doe", "a column further right");
        let lines = [line(0.1, &[("Name:", 0.1, 0.1)]), line(0.13, &[("DOB:", 0.1, 0.05), ("1/2/50", 0.16, 0.1)])];
        assert!(key_values(&lines).iter().all(|k| k.key.text != "Name"));
        let far = [line(0.1, &[("Name:", 0.1, 0.1)]), line(0.5, &[("Jane", 0.1, 0.1), ("Doe", 0.21, 0.1)])];
        assert!(key_values(&far).is_empty(), "too far below to be its value");
    }

    #[test]
    fn fields_run_together_are_told_apart() {
        let pairs = |t: &str| split_fields(t);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            pairs("City: Ashford State: CT Zip Code: 06278"),
            [s("City", "Ashford"), s("State", "CT"), s("Zip Code", "06278")]
        );
        assert_eq!(pairs("First Name: Wei Last Name: Kowalski"), [s("First Name", "Wei"), s("Last Name", "Kowalski")]);
        assert_eq!(
            pairs("Name: Elena Brennan Relationship: Spouse"),
            [s("Name", "Elena Brennan"), s("Relationship", "Spouse")]
        );
        assert_eq!(pairs("Date of Birth: 02/25/1952 Sex: M"), [s("Date of Birth", "02/25/1952"), s("Sex", "M")]);
        assert_eq!(pairs("Time 10:30 today"), Vec::<(String, String)>::new());
        assert_eq!(pairs("Note: see 10:30 visit"), [s("Note", "see 10:30 visit")], "a time is no key");
    }

    #[test]
    fn text_layer_lines_keep_their_fields() {
        let lines: Vec<Line> = ["Patient Name: Jane Doe", "Time 10:30", "MRN: 12345     Sex: F", "no colon"]
            .iter()
            .map(|t| Line::from_text(t, 90.0))
            .collect();
        let kv = key_values(&lines);
        let pairs: Vec<(&str, &str)> = kv.iter().map(|k| (k.key.text.as_str(), k.value.text.as_str())).collect();
        assert_eq!(pairs, [("Patient Name", "Jane Doe"), ("MRN", "12345"), ("Sex", "F")]);
    }
}
