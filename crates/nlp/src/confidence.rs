//! How sure paperchart is of each finding: the measured precision of the way it was read (its
//! type, its form — an abbreviation, one word, several — and whether it got a code), times the OCR
//! confidence of its words when it was read from a page.
//!
//! The precisions are data (`data/calibration/rules.tsv`), measured on the development sets by
//! `scripts/demo/calibrate.py` (`make calibrate`). A word's OCR confidence is not a probability:
//! a Tesseract word counts for the share of words Tesseract gets right at that confidence
//! (`data/calibration/ocr.tsv`, measured by `scripts/demo/calibrate_ocr.py` on a generated set with
//! its true text); Textract's confidence is taken as it is; a text layer's words are the text.
//! PHI is not scored: it is identity, not a fact.

use std::collections::HashMap;
use std::sync::OnceLock;

use paperchart_model::document::{Document, ReadBy};
use paperchart_model::findings::{Entity, EntityType};

use crate::tables::rows;

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/calibration/rules.tsv"));
const OCR: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/calibration/ocr.tsv"));

/// The share of Tesseract's words that are right, per ten points of its confidence.
fn tesseract_bands() -> &'static [f64; 10] {
    static T: OnceLock<[f64; 10]> = OnceLock::new();
    T.get_or_init(|| {
        let mut bands = [0.0f64; 10];
        for r in rows(OCR) {
            let (Some(from), Some(share)) = (r.first().and_then(|v| v.parse::<usize>().ok()), r.get(2)) else {
                continue;
            };
            if let (Some(slot), Ok(share)) = (bands.get_mut(from / 10), share.parse::<f64>()) {
                *slot = share;
            }
        }
        bands
    })
}

/// How likely a word read this way at this confidence is right, 0..1.
fn word_right(read_by: ReadBy, confidence: f32) -> f64 {
    match read_by {
        ReadBy::TextLayer => 1.0,
        ReadBy::Tesseract => tesseract_bands()[((confidence.max(0.0) / 10.0) as usize).min(9)],
        _ => (f64::from(confidence) / 100.0).clamp(0.0, 1.0),
    }
}

/// What no row covers: no better than a coin with a slight lean.
const UNMEASURED: f64 = 0.6;

fn table() -> &'static HashMap<(String, String, String), f64> {
    static T: OnceLock<HashMap<(String, String, String), f64>> = OnceLock::new();
    T.get_or_init(|| {
        rows(RULES)
            .filter_map(|r| {
                let conf = r.get(3)?.parse::<f64>().ok()?;
                Some(((r[0].to_string(), r[1].to_string(), r[2].to_string()), conf))
            })
            .collect()
    })
}

/// The form of a finding's words, as the calibration groups them.
fn form(text: &str) -> &'static str {
    let t = text.trim();
    let upper = t.chars().any(char::is_alphabetic) && !t.chars().any(char::is_lowercase);
    if t.chars().count() <= 4 || (upper && t.chars().count() <= 5) {
        "abbr"
    } else if t.contains(char::is_whitespace) {
        "multi-word"
    } else {
        "one-word"
    }
}

/// The measured precision of findings read as `e` was.
pub fn rule(e: &Entity) -> f64 {
    let t = table();
    let kind = e.kind.as_str().to_string();
    let coded = if e.codes.is_empty() { "uncoded" } else { "coded" };
    t.get(&(kind.clone(), form(&e.text).to_string(), coded.to_string()))
        .or_else(|| t.get(&(kind, "*".to_string(), "*".to_string())))
        .copied()
        .unwrap_or(UNMEASURED)
}

/// Gives every finding but PHI its rule confidence, where it has none yet.
pub fn score(entities: &mut [Entity]) {
    for e in entities.iter_mut().filter(|e| e.kind != EntityType::Phi && e.confidence.is_none()) {
        e.confidence = Some(round(rule(e)));
    }
}

use paperchart_model::document::POORLY_READ_CONFIDENCE;

/// Multiplies each finding's confidence by how likely its words on the page were read right
/// (their mean); a finding on a poorly read page keeps at most [`POORLY_READ_CONFIDENCE`].
pub fn weigh_by_ocr(entities: &mut [Entity], document: &Document) {
    // The words once, in text order: each finding looks only at those from its start on.
    let words = document.word_spans();
    let poor = document.poorly_read_spans();
    for e in entities.iter_mut() {
        let Some(c) = e.confidence else { continue };
        let first = words.partition_point(|w| w.1 <= e.start);
        let (sum, n) = words[first..]
            .iter()
            .take_while(|w| w.0 < e.end)
            .fold((0.0f64, 0usize), |(s, n), &(_, _, by, conf)| (s + word_right(by, conf), n + 1));
        let mut c = if n > 0 { c * sum / n as f64 } else { c };
        if poor.iter().any(|&(_, s, t)| s < e.end && e.start < t) {
            c = c.min(POORLY_READ_CONFIDENCE);
        }
        e.confidence = Some(round(c));
    }
}

/// Three decimals: what is written stays stable across runs and platforms.
fn round(c: f64) -> f64 {
    (c * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::document::{Line, Page, ReadBy, Word};

    fn entity(kind: EntityType, text: &str, coded: bool) -> Entity {
        Entity {
            kind,
            subtype: None,
            start: 0,
            end: text.len(),
            text: text.to_string(),
            codes: if coded { vec![paperchart_model::findings::Code::new("s", "c", "d")] } else { Vec::new() },
            assertion: Default::default(),
            attrs: Default::default(),
            confidence: None,
            section: None,
        }
    }

    #[test]
    fn every_row_parses_and_abbreviations_count_for_less() {
        assert_eq!(table().len(), rows(RULES).count(), "a row without a confidence");
        assert!(table().values().all(|c| (0.0..=0.95).contains(c)));
        let abbr = rule(&entity(EntityType::Medication, "MTX", false));
        let word = rule(&entity(EntityType::Medication, "methotrexate", false));
        assert!(abbr < word, "{abbr} {word}");
        assert_eq!(form("HCTZ"), "abbr");
        assert_eq!(form("chest pain"), "multi-word");
    }

    #[test]
    fn a_finding_read_from_unsure_words_is_less_sure() {
        let word = |text: &str, confidence| Word { text: text.into(), bbox: None, confidence, handwritten: false };
        let line = Line::from_words(vec![word("Dx:", 95.0), word("asthma", 40.0)]);
        let page = Page {
            number: 1,
            read_by: ReadBy::Tesseract,
            lines: vec![line],
            key_values: Vec::new(),
            tables: Vec::new(),
            text_layer_rejected: false,
            prepared: Vec::new(),
        };
        let doc = Document { pages: vec![page], ..Default::default() };
        let text = doc.text();
        let at = text.find("asthma").unwrap();
        let mut es = vec![entity(EntityType::Condition, "asthma", true)];
        es[0].start = at;
        es[0].end = at + 6;
        score(&mut es);
        let before = es[0].confidence.unwrap();
        weigh_by_ocr(&mut es, &doc);
        assert_eq!(es[0].confidence, Some(round(before * tesseract_bands()[4])));
        assert!(es[0].confidence < Some(before));
        assert_eq!(doc.span_confidence(0, 3), Some(95.0));
        // The bands were measured and never fall as confidence rises.
        let bands = tesseract_bands();
        assert!(bands.iter().all(|b| (0.3..=1.0).contains(b)), "{bands:?}");
        assert!(bands.windows(2).all(|w| w[0] <= w[1]), "{bands:?}");
        assert_eq!(word_right(ReadBy::TextLayer, 0.0), 1.0);
    }

    #[test]
    fn a_finding_on_a_poorly_read_page_is_never_sure_enough_to_be_fact() {
        let word = |text: &str, confidence| Word { text: text.into(), bbox: None, confidence, handwritten: false };
        let page = |words: Vec<Word>, number| Page {
            number,
            read_by: ReadBy::Tesseract,
            lines: vec![Line::from_words(words)],
            key_values: Vec::new(),
            tables: Vec::new(),
            text_layer_rejected: false,
            prepared: Vec::new(),
        };
        // Page 2 is a scrawl in which one word happened to read well.
        let doc = Document {
            pages: vec![
                page(vec![word("Dx:", 95.0), word("asthma", 96.0)], 1),
                page(vec![word("xqzr", 20.0), word("asthma", 96.0), word("Wvl", 31.0), word("ommn", 12.0)], 2),
            ],
            ..Default::default()
        };
        assert!(!doc.pages[0].poorly_read() && doc.pages[1].poorly_read());
        let text = doc.text();
        let mut es: Vec<Entity> = text
            .match_indices("asthma")
            .map(|(at, _)| Entity { start: at, end: at + 6, ..entity(EntityType::Condition, "asthma", true) })
            .collect();
        score(&mut es);
        weigh_by_ocr(&mut es, &doc);
        assert!(es[0].confidence > Some(0.5), "{:?}", es[0].confidence);
        assert_eq!(es[1].confidence, Some(POORLY_READ_CONFIDENCE), "the same word on the scrawled page");
        assert_eq!(doc.poorly_read_spans().iter().map(|s| s.0).collect::<Vec<_>>(), [2]);
    }
}
