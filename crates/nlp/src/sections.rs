//! Section headings and the spans they govern.
//!
//! A heading is a line that starts with a known section name followed by a colon, or a line that
//! is nothing but the name. The section runs to the next heading. Sections change how findings
//! are read: a drug under Allergies is an allergen, a disease under Family History belongs to a
//! relative, a problem under Past Medical History is historical.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use paperchart_model::findings::SectionKind;

use super::text::{fold, lines};
use crate::tables::rows;

const HEADINGS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/headings.tsv"));

/// Heading (folded words) → section, from `data/terminology/curated/headings.tsv`.
fn headings() -> &'static HashMap<String, SectionKind> {
    static H: OnceLock<HashMap<String, SectionKind>> = OnceLock::new();
    H.get_or_init(|| {
        rows(HEADINGS)
            .map(|r| {
                let kind =
                    SectionKind::from_name(r[1]).unwrap_or_else(|| panic!("headings.tsv: unknown section {:?}", r[1]));
                (r[0].to_string(), kind)
            })
            .collect()
    })
}

/// A section and the byte range it covers (heading included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub start: usize,
    pub end: usize,
    /// Where the body starts: after the heading's colon, or on the next line.
    pub body_start: usize,
}

fn heading_key(s: &str) -> String {
    fold(s).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The heading a line starts with, and the byte offset (within the line) where its body begins.
fn heading_of(line: &str) -> Option<(SectionKind, usize)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    // Headings are short: a long line is never one, and need not be folded to tell.
    if let Some(colon) = trimmed.find(':').filter(|&c| c <= 48) {
        let key = heading_key(&trimmed[..colon]);
        if let Some(kind) = headings().get(&key) {
            return Some((*kind, indent + colon + 1));
        }
    }
    if trimmed.len() > 48 {
        return None;
    }
    let key = heading_key(trimmed);
    // A bare heading line: the whole line is the name (often in capitals).
    headings().get(&key).filter(|_| key.len() > 2).map(|k| (*k, line.len()))
}

/// Finds the sections of `text` in order.
pub fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for (start, end) in lines(text) {
        if let Some((kind, body)) = heading_of(&text[start..end]) {
            if let Some(last) = out.last_mut() {
                last.end = start;
            }
            out.push(Section { kind, start, end: text.len(), body_start: start + body });
        }
    }
    out
}

/// The section holding byte `offset`, if any.
pub fn section_at(sections: &[Section], offset: usize) -> Option<&Section> {
    // Sections follow one another without overlapping: only the last one starting at or before
    // `offset` can hold it (found by halving, not by walking every heading before it).
    let after = sections.partition_point(|s| s.start <= offset);
    sections[..after].last().filter(|s| offset < s.end.max(s.start + 1))
}

/// `sections` as seen from the passage `range` of their text: those that cover part of it, with
/// offsets into the passage (one begun before it starts at 0).
pub fn within(sections: &[Section], range: &std::ops::Range<usize>) -> Vec<Section> {
    let first = sections.partition_point(|s| s.end <= range.start);
    let last = sections.partition_point(|s| s.start < range.end);
    sections[first..last.max(first)]
        .iter()
        .map(|s| {
            let at = |x: usize| x.clamp(range.start, range.end) - range.start;
            Section { kind: s.kind, start: at(s.start), end: at(s.end), body_start: at(s.body_start) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_headings_with_and_without_colons() {
        let text = "DISCHARGE SUMMARY\nPast Medical History: HTN, DM2\nMEDICATIONS\nlisinopril 10 mg\nAllergies: NKDA\nFamily History:\nMother - breast cancer\nPlan: follow up";
        let s = sections(text);
        let kinds: Vec<_> = s.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::PastMedicalHistory,
                SectionKind::Medications,
                SectionKind::Allergies,
                SectionKind::FamilyHistory,
                SectionKind::AssessmentPlan
            ]
        );
        let lis = text.find("lisinopril").unwrap();
        assert_eq!(section_at(&s, lis).unwrap().kind, SectionKind::Medications);
        let htn = text.find("HTN").unwrap();
        assert_eq!(section_at(&s, htn).unwrap().kind, SectionKind::PastMedicalHistory);
        assert!(section_at(&s, 3).is_none());
        assert_eq!(&text[s[0].body_start..s[0].body_start + 5], " HTN,");
    }

    #[test]
    fn a_sentence_with_a_colon_is_not_a_heading() {
        assert!(sections("The patient reports: chest pain").is_empty());
        assert!(sections("Time 10:30").is_empty());
    }
}
