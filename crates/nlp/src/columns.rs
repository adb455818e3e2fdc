//! Results printed as tables, read by column from the page's layout: labs and vital signs.
//!
//! A report prints its results under a header that says what each column holds: "Test | Result
//! | Units | Reference Range | Flag", one result a row, in whatever order of columns the report
//! chose; or a flowsheet "Date | BP | Pulse | Temp | SpO2", one measurement a cell and a row a
//! date. The text the inline readers see runs a row's columns together ("Glucose H 142 mg/dL"
//! reads no value), and a flowsheet's values stand far from their names. Here the header's words
//! name the columns; every word of the rows below goes to the column it stands under (by its
//! box); each result is then written as its own "name value unit range flag" phrase and read by
//! the inline readers ([`measure`]), so a table and a sentence give the same result, and its
//! evidence is placed on the row's words in the document's text.

use paperchart_model::document::{Document, Line};

use super::lexicon::ConceptKind;
use super::measure;
use super::terminology::Terminology;
use super::text::{parse_date, tokenize};
use super::{Assertion, Entity, EntityType, Subtype};

/// What a column of a results table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Name,
    Value,
    Unit,
    Range,
    Flag,
    Date,
    /// A flowsheet's column: one measurement named by the header — a lab concept's index, or
    /// `None` for a vital sign the vital-sign patterns know by that name ("BP", "Temp").
    Measure(Option<u32>),
    Other,
}

/// A header's words for each role (lower case, as a whole header cell).
const ROLES: &[(Role, &[&str])] = &[
    (
        Role::Name,
        &["test", "tests", "test name", "analyte", "component", "parameter", "lab", "investigation", "description"],
    ),
    (Role::Value, &["result", "results", "value", "values", "your value", "observed", "reading"]),
    (Role::Unit, &["unit", "units", "uom"]),
    (
        Role::Range,
        &[
            "reference range",
            "ref range",
            "reference",
            "ref",
            "range",
            "normal range",
            "normal",
            "reference interval",
            "ref. range",
            "expected",
        ],
    ),
    (Role::Flag, &["flag", "flags", "abnormal", "abn", "h/l", "indicator"]),
    // Only columns that hold a date: a "Time" or "Visit" column dates nothing.
    (Role::Date, &["date", "date/time", "visit date", "collected", "date collected"]),
];

struct Column {
    role: Role,
    /// The header cell's words (a flowsheet's measure name, with its unit in brackets).
    header: String,
    center: f32,
}

/// A row's word: its text, its box's horizontal centre, its byte span in the document's text.
struct Placed<'a> {
    text: &'a str,
    center: f32,
    start: usize,
    end: usize,
}

/// The words of a line with their byte spans in the document's text (`at`: the line's start).
fn placed(line: &Line, at: usize) -> Vec<Placed<'_>> {
    let mut out = Vec::new();
    let mut cursor = 0;
    for w in &line.words {
        let (Some(b), Some(found)) = (w.bbox, line.text.get(cursor..).and_then(|r| r.find(w.text.as_str()))) else {
            continue;
        };
        let start = at + cursor + found;
        cursor += found + w.text.len();
        out.push(Placed { text: &w.text, center: b.left + b.width / 2.0, start, end: start + w.text.len() });
    }
    out
}

/// A lab or vital-sign concept that the whole of `name` names ("Hemoglobin A1c", "Pulse",
/// "Temp (F)": brackets are the unit's).
fn concept_of(name: &str, term: &Terminology, flowsheet_header: bool) -> Option<u32> {
    let bare = name.split('(').next().unwrap_or(name).trim();
    if bare.is_empty() {
        return None;
    }
    let tokens = tokenize(bare);
    let ids = term.lexicon.ids(bare, &tokens);
    let whole = |k: ConceptKind| {
        term.lexicon.find(bare, &tokens, &ids, |x| x == k).into_iter().find(|h| h.start == 0 && h.end == bare.len())
    };
    // A flowsheet column named for a drug ("Insulin (units)" in a diabetes log) holds doses, not
    // levels; a results table's row of that name ("Potassium 4.2 mmol/L") is the lab.
    if flowsheet_header && whole(ConceptKind::Drug).is_some() {
        return None;
    }
    whole(ConceptKind::Lab).map(|h| h.concept)
}

/// A header line's cells with their centres: the layout's segments (words apart by a column's
/// gap), each cut again after a unit in brackets, where a narrow gap ran two cells together
/// ("Weight (kg) Temp (F)"). `None`-boxed lines give none.
fn header_cells(line: &Line) -> Vec<(String, f32)> {
    let segs = paperchart_model::layout::segments(line);
    if segs.iter().any(|s| s.bbox.is_none()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for seg in segs {
        let b = seg.bbox.expect("boxed");
        let words: Vec<_> = line
            .words
            .iter()
            .filter_map(|w| w.bbox.map(|wb| (w.text.as_str(), wb)))
            .filter(|(_, wb)| wb.left + wb.width / 2.0 >= b.left && wb.left + wb.width / 2.0 <= b.left + b.width)
            .collect();
        let mut cell: Vec<(&str, paperchart_model::document::BBox)> = Vec::new();
        let flush = |cell: &mut Vec<(&str, paperchart_model::document::BBox)>, out: &mut Vec<(String, f32)>| {
            if let (Some(first), Some(last)) = (cell.first(), cell.last()) {
                let (l, r) = (first.1.left, last.1.left + last.1.width);
                out.push((cell.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" "), (l + r) / 2.0));
            }
            cell.clear();
        };
        for (t, wb) in words {
            cell.push((t, wb));
            if t.ends_with(')') {
                flush(&mut cell, &mut out);
            }
        }
        flush(&mut cell, &mut out);
    }
    out
}

/// The header of a results table: each cell's role, or `None` when the line is no such header
/// (a result table names at least its values and what they are; a flowsheet two measures).
fn header(line: &Line, term: &Terminology) -> Option<Vec<Column>> {
    // A header is a few short cells: prose and long lines are never looked up.
    if line.text.len() > 200 || line.words.len() > 24 {
        return None;
    }
    let segs = header_cells(line);
    if segs.len() < 2 || segs.iter().any(|(t, _)| t.len() > 40 || t.split_whitespace().count() > 4) {
        return None;
    }
    let cols: Vec<Column> = segs
        .into_iter()
        .map(|(text, center)| {
            let words = text.to_lowercase().trim_end_matches(':').trim().to_string();
            let role = ROLES
                .iter()
                .find(|(_, names)| names.contains(&words.as_str()))
                .map(|(r, _)| *r)
                .or_else(|| concept_of(&text, term, true).map(|c| Role::Measure(Some(c))))
                .or_else(|| {
                    measure::is_vital_name(text.split('(').next().unwrap_or("").trim(), term)
                        .then_some(Role::Measure(None))
                })
                .unwrap_or(Role::Other);
            Column { role, header: text, center }
        })
        .collect();
    let has = |r: Role| cols.iter().any(|c| c.role == r);
    let measures = cols.iter().filter(|c| matches!(c.role, Role::Measure(_))).count();
    let results = has(Role::Value) && (has(Role::Name) || has(Role::Unit) || has(Role::Range) || has(Role::Flag));
    if results {
        // The first column is the test's name when no header word says so ("  | Result | Units").
        let mut cols = cols;
        if !cols.iter().any(|c| c.role == Role::Name) && cols[0].role == Role::Other {
            cols[0].role = Role::Name;
        }
        // In a results table a column named like a test is no flowsheet's.
        for c in cols.iter_mut().filter(|c| matches!(c.role, Role::Measure(_))) {
            c.role = Role::Other;
        }
        return Some(cols);
    }
    // A flowsheet: two measures or more; a column it does not know ("Initials") is left out.
    (measures >= 2 && !has(Role::Value)).then_some(cols)
}

/// Which column a word at `center` stands under: the one whose header's centre is nearest.
fn column_of(cols: &[Column], center: f32) -> usize {
    let mut best = 0;
    for (i, c) in cols.iter().enumerate() {
        if (c.center - center).abs() < (cols[best].center - center).abs() {
            best = i;
        }
    }
    best
}

/// A row's words gathered by column: text joined, byte span.
fn cells<'a>(cols: &[Column], words: &[Placed<'a>]) -> Vec<Option<(String, usize, usize)>> {
    let mut out: Vec<Option<(String, usize, usize)>> = vec![None; cols.len()];
    for w in words {
        let c = column_of(cols, w.center);
        out[c] = Some(match out[c].take() {
            Some((t, s, _)) => (format!("{t} {}", w.text), s, w.end),
            None => (w.text.to_string(), w.start, w.end),
        });
    }
    out
}

fn has_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
}

/// The unit a flowsheet header gives in brackets: "Temp (F)" → "F", "Weight (kg)" → "kg".
fn bracketed_unit(header: &str) -> &str {
    header.split_once('(').and_then(|(_, r)| r.split_once(')')).map_or("", |(u, _)| u.trim())
}

/// Reads `synth` ("name value unit range flag") as the inline readers do: a vital sign's
/// pattern, else a lab result after the name. The entity's codes and attributes, or `None`.
fn read_phrase(synth: &str, name_end: usize, concept: Option<u32>, term: &Terminology) -> Option<Entity> {
    if let Some(v) = measure::vitals(synth, term).into_iter().find(|e| e.start == 0) {
        return Some(v);
    }
    let c = &term.concepts[concept? as usize];
    let (_, attrs) = measure::lab_result(synth, name_end, term)?;
    let vital = c.codes.first().is_some_and(|code| term.is_vital(&code.code));
    Some(Entity {
        kind: EntityType::Test,
        subtype: Some(if vital { Subtype::Vital } else { Subtype::Lab }),
        start: 0,
        end: synth.len(),
        text: String::new(),
        codes: c.codes.clone(),
        assertion: Assertion::Present,
        attrs,
        confidence: None,
        section: None,
    })
}

/// Places a result read from a synthesized phrase on the document's text `start..end` (none when
/// the span is not in `text`).
fn placed_entity(mut e: Entity, text: &str, start: usize, end: usize) -> Option<Entity> {
    e.text = text.get(start..end)?.to_string();
    e.start = start;
    e.end = end;
    e.assertion = Assertion::Present;
    Some(e)
}

/// The first date a cell holds ("03/01/2024 08:00" → 2024-03-01).
fn first_date(cell: &str) -> Option<String> {
    parse_date(cell).or_else(|| cell.split_whitespace().find_map(parse_date))
}

/// Every result the document's tables print, placed on `text` (the document's text).
pub fn read(document: &Document, text: &str, term: &Terminology) -> Vec<Entity> {
    let mut out = Vec::new();
    for (page, offsets) in document.pages.iter().zip(document.line_offsets()) {
        let mut i = 0;
        while i < page.lines.len() {
            let Some(cols) = header(&page.lines[i], term) else {
                i += 1;
                continue;
            };
            let flowsheet = cols.iter().any(|c| matches!(c.role, Role::Measure(_)));
            let mut j = i + 1;
            while j < page.lines.len() && header(&page.lines[j], term).is_none() {
                let words = placed(&page.lines[j], offsets[j]);
                let row = cells(&cols, &words);
                let cell = |r: Role| cols.iter().position(|c| c.role == r).and_then(|k| row[k].clone());
                // A row with no number where the values stand ends the table (a comment, a
                // signature, the lab's address); a row whose test is not known is passed over.
                let values = cols.iter().zip(&row).any(|(c, v)| {
                    matches!(c.role, Role::Value | Role::Measure(_)) && v.as_ref().is_some_and(|v| has_number(&v.0))
                });
                if !values {
                    break;
                }
                // The row's date, where the table has a date column: a row whose date cannot be
                // read is passed over (never given the document's date, which may be another).
                let dated = cols.iter().any(|c| c.role == Role::Date);
                let date = cell(Role::Date).and_then(|(d, _, _)| first_date(&d));
                if dated && date.is_none() {
                    j += 1;
                    continue;
                }
                if flowsheet {
                    for (k, col) in cols.iter().enumerate() {
                        let (Role::Measure(concept), Some((value, s, e))) = (col.role, row[k].clone()) else {
                            continue;
                        };
                        if !has_number(&value) {
                            continue;
                        }
                        let name = col.header.split('(').next().unwrap_or("").trim();
                        let synth = format!("{name} {value} {}", bracketed_unit(&col.header));
                        if let Some(mut r) = read_phrase(synth.trim_end(), name.len(), concept, term) {
                            r.attrs.normalized = date.clone();
                            out.extend(placed_entity(r, text, s, e));
                        }
                    }
                } else if let (Some((name, _, _)), Some((value, _, _))) = (cell(Role::Name), cell(Role::Value)) {
                    if let Some(concept) = concept_of(&name, term, false).filter(|_| has_number(&value)).map(Some) {
                        let part = |r: Role| cell(r).map(|(t, _, _)| t).unwrap_or_default();
                        let synth =
                            format!("{name} {value} {} {} {}", part(Role::Unit), part(Role::Range), part(Role::Flag));
                        if let Some(mut r) = read_phrase(synth.trim_end(), name.len(), concept, term) {
                            // The evidence: the row's cells, whatever their order.
                            let spans = [Role::Name, Role::Value, Role::Unit, Role::Range, Role::Flag]
                                .iter()
                                .filter_map(|&r| cell(r).map(|c| (c.1, c.2)));
                            let (start, end) = spans.fold((usize::MAX, 0), |(s, e), (cs, ce)| (s.min(cs), e.max(ce)));
                            r.attrs.normalized = date.clone();
                            out.extend(placed_entity(r, text, start, end));
                        }
                    }
                }
                j += 1;
            }
            i = j.max(i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::document::{BBox, Page, ReadBy, Word};

    /// A page of lines, each a list of (text, left) words 0.08 wide, one line every 0.04.
    pub(crate) fn page(rows: &[&[(&str, f32)]]) -> Document {
        let lines = rows
            .iter()
            .enumerate()
            .map(|(r, words)| {
                Line::from_words(
                    words
                        .iter()
                        .map(|&(t, left)| Word {
                            text: t.into(),
                            bbox: Some(BBox { left, top: 0.1 + r as f32 * 0.04, width: 0.06, height: 0.02 }),
                            confidence: 90.0,
                            handwritten: false,
                        })
                        .collect(),
                )
            })
            .collect();
        Document {
            pages: vec![Page {
                number: 1,
                lines,
                read_by: ReadBy::Tesseract,
                key_values: vec![],
                tables: vec![],
                text_layer_rejected: false,
                prepared: Vec::new(),
            }],
            ..Document::default()
        }
    }

    fn term() -> &'static Terminology {
        super::super::terminology::shared_for_tests()
    }

    #[test]
    fn a_results_table_in_its_own_order_of_columns() {
        // Flag before the result, units after the range: the inline reader finds no value here.
        let doc = page(&[
            &[("Test", 0.1), ("Flag", 0.3), ("Result", 0.45), ("Reference", 0.6), ("Units", 0.8)],
            &[("Glucose", 0.1), ("H", 0.3), ("142", 0.45), ("70-99", 0.6), ("mg/dL", 0.8)],
            &[("Creatinine", 0.1), ("0.9", 0.45), ("0.7-1.3", 0.6), ("mg/dL", 0.8)],
            &[("Comment:", 0.1), ("fasting", 0.3)],
        ]);
        let text = doc.text();
        let got = read(&doc, &text, term());
        let summary: Vec<_> = got
            .iter()
            .map(|e| {
                (
                    e.codes[0].code.as_str(),
                    e.attrs.value,
                    e.attrs.unit.as_deref(),
                    e.attrs.flag.as_deref(),
                    e.attrs.range.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("2345-7", Some(142.0), Some("mg/dL"), Some("H"), Some("70-99")),
                ("2160-0", Some(0.9), Some("mg/dL"), None, Some("0.7-1.3")),
            ]
        );
        assert!(got[0].text.starts_with("Glucose"), "evidence on the row: {}", got[0].text);
    }

    #[test]
    fn a_flowsheet_gives_each_cell_its_measure_and_its_rows_date() {
        let doc = page(&[
            &[("Date", 0.1), ("BP", 0.3), ("Pulse", 0.45), ("Temp", 0.6), ("(F)", 0.66), ("SpO2", 0.8)],
            &[("03/01/2024", 0.1), ("128/82", 0.3), ("72", 0.45), ("98.6", 0.6), ("97%", 0.8)],
            &[("03/08/2024", 0.1), ("118/76", 0.3), ("67.6", 0.45), ("99.1", 0.6), ("95%", 0.8)],
        ]);
        let text = doc.text();
        let got = read(&doc, &text, term());
        let row = |d: &str| {
            got.iter()
                .filter(|e| e.attrs.normalized.as_deref() == Some(d))
                .map(|e| (e.codes[0].code.clone(), e.attrs.value.or(e.attrs.components.first().map(|c| c.value))))
                .collect::<Vec<_>>()
        };
        let second = row("2024-03-08");
        assert_eq!(second.len(), 4, "{got:?}");
        assert!(second.contains(&("8867-4".into(), Some(67.6))), "decimals kept: {second:?}");
        assert!(second.contains(&("8310-5".into(), Some(99.1))), "{second:?}");
        assert!(second.iter().any(|(c, _)| c == "85354-9"), "{second:?}");
        assert_eq!(row("2024-03-01").len(), 4);
    }

    #[test]
    fn a_drugs_column_holds_doses_and_an_unread_date_gives_no_date() {
        let doc = page(&[
            &[("Date", 0.1), ("Glucose", 0.3), ("Insulin", 0.45), ("(units)", 0.51), ("Pulse", 0.7)],
            &[("03/01/2024", 0.1), ("08:00", 0.16), ("142", 0.3), ("10", 0.45), ("72", 0.7)],
            &[("Visit", 0.1), ("2", 0.16), ("150", 0.3), ("12", 0.45), ("80", 0.7)],
        ]);
        let got = read(&doc, &doc.text(), term());
        let codes: Vec<_> = got.iter().map(|e| (e.codes[0].code.as_str(), e.attrs.normalized.as_deref())).collect();
        assert!(!codes.iter().any(|(c, _)| *c == "20448-7"), "no serum insulin from a dose: {codes:?}");
        assert!(codes.iter().all(|(_, d)| *d == Some("2024-03-01")), "the row with no date is passed over: {codes:?}");
        assert_eq!(codes.len(), 2, "{codes:?}");
    }

    #[test]
    fn a_results_table_with_the_name_last_and_a_text_that_is_not_the_documents() {
        let doc = page(&[
            &[("Result", 0.1), ("Units", 0.3), ("Test", 0.5)],
            &[("142", 0.1), ("mg/dL", 0.3), ("Glucose", 0.5)],
        ]);
        let got = read(&doc, &doc.text(), term());
        assert_eq!(got.len(), 1);
        assert!(got[0].text.starts_with("142") && got[0].text.ends_with("Glucose"), "{}", got[0].text);
        assert!(read(&doc, "", term()).is_empty(), "no panic and nothing placed outside the text");
    }

    #[test]
    fn a_time_column_dates_nothing_and_a_labs_name_that_is_a_drugs_is_still_the_lab() {
        let doc =
            page(&[&[("Time", 0.1), ("BP", 0.3), ("Pulse", 0.45)], &[("08:00", 0.1), ("128/82", 0.3), ("72", 0.45)]]);
        let got = read(&doc, &doc.text(), term());
        assert_eq!(got.len(), 2, "the rows are read: {got:?}");
        assert!(got.iter().all(|e| e.attrs.normalized.is_none()));
        let doc = page(&[
            &[("Test", 0.1), ("Result", 0.3), ("Units", 0.45)],
            &[("Potassium", 0.1), ("4.2", 0.3), ("mmol/L", 0.45)],
        ]);
        let got = read(&doc, &doc.text(), term());
        assert_eq!(got.iter().map(|e| e.codes[0].code.as_str()).collect::<Vec<_>>(), ["2823-3"]);
    }

    #[test]
    fn a_line_of_prose_is_no_header() {
        let doc = page(&[&[("The", 0.1), ("result", 0.3), ("was", 0.45)], &[("normal", 0.1), ("today", 0.3)]]);
        assert!(read(&doc, &doc.text(), term()).is_empty());
    }
}
