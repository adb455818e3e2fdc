//! Whose a family-history finding is: the relative the text names beside it.
//!
//! The words and their HL7 v3 RoleCodes are data (`data/terminology/curated/relatives.tsv`). A
//! finding belongs to the nearest relative named before it on its line ("Father - diabetes;
//! Mother - hypertension"), else to the first one after it ("cancer in her mother").

use std::collections::HashMap;
use std::sync::OnceLock;

use paperchart_model::findings::{Code, SYSTEM_ROLE_CODE};

use crate::tables::rows;

const RELATIVES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/relatives.tsv"));

fn table() -> &'static HashMap<String, Code> {
    static T: OnceLock<HashMap<String, Code>> = OnceLock::new();
    T.get_or_init(|| {
        rows(RELATIVES)
            .filter(|r| r.len() >= 3)
            .map(|r| (r[0].to_lowercase(), Code::new(SYSTEM_ROLE_CODE, r[1], r[2])))
            .collect()
    })
}

/// The relative of the finding at bytes `start..end` of `text`, when its line names one.
pub fn relative_of(text: &str, start: usize, end: usize) -> Option<Code> {
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |p| end + p);
    let words =
        |s: &str| s.to_lowercase().split(|c: char| !c.is_alphanumeric()).map(str::to_string).collect::<Vec<_>>();
    let lookup = |w: &String| table().get(w).cloned();
    let before = words(&text[line_start..start]);
    let after = words(&text[end..line_end]);
    before.iter().rev().find_map(lookup).or_else(|| after.iter().find_map(lookup))
}

/// Words that say a note is about a newborn. Two different ones make it one: "neonatal" alone
/// may be an adult's history. (A mother's delivery note speaks of Apgars, GBS and the infant too:
/// those are no cue.)
const NEWBORN_CUES: &[&str] = &[
    "newborn",
    "neonate",
    "nicu",
    "baby boy",
    "baby girl",
    "nursery",
    "term male",
    "term female",
    "male infant",
    "female infant",
    "birth weight",
    "newborn exam",
    "neonatal intensive care",
];

/// Words of a mother's own obstetric note: then the patient is the mother, never the newborn.
const MOTHER_CUES: &[&str] = &[
    "gravida",
    "postpartum",
    "post-partum",
    "she delivered",
    "vaginal delivery of",
    "estimated blood loss",
    "cesarean section",
    "c-section",
    "primigravida",
    "multigravida",
    "antepartum",
    "labor and delivery",
];

/// Is `text` a newborn's note? Then "maternal hypertension" and what the pregnancy was
/// "complicated by" are the mother's.
pub fn newborn_note(text: &str) -> bool {
    let lower = text.to_lowercase();
    let has = |cue: &str| {
        lower.match_indices(cue).any(|(i, m)| {
            let before = lower[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = lower[i + m.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
    };
    NEWBORN_CUES.iter().filter(|c| has(c)).count() >= 2 && !MOTHER_CUES.iter().any(|c| has(c))
}

/// In a newborn's note, is the finding at `start..end` the mother's: named "maternal …", or the
/// pregnancy itself or what it was complicated by, on the finding's line?
pub fn mothers_in_newborn_note(text: &str, start: usize, end: usize) -> bool {
    let finding = text[start..end].to_lowercase();
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let before = text[line_start..start].to_lowercase();
    let clause_before = before.rsplit(['.', ';']).next().unwrap_or("");
    finding.starts_with("maternal")
        || finding.starts_with("pregnan")
        || ["maternal", "mother", "mom", "pregnancy", "prenatal", "antenatal", "gestational"].iter().any(|w| {
            clause_before.split(|c: char| !c.is_alphanumeric()).any(|x| x == *w || x.strip_suffix('s') == Some(w))
        })
}

/// The mother's RoleCode.
pub fn mother() -> Option<Code> {
    table().get("mother").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newborns_note_gives_the_mother_her_conditions() {
        let t =
            "Term male infant, birth weight 3.2 kg. Pregnancy complicated by maternal hypertension.\nInfant has jaundice.";
        assert!(newborn_note(t));
        let at = |w: &str| {
            let s = t.find(w).unwrap();
            mothers_in_newborn_note(t, s, s + w.len())
        };
        assert!(at("maternal hypertension"));
        assert!(at("Pregnancy"));
        assert!(!at("jaundice"));
        assert!(!newborn_note("History of neonatal jaundice. Now 45 with hypertension."));
        let delivery = "G2P2, gravida 2, postpartum day 1. She delivered a term male infant, birth weight 3.4 kg, \
                      Apgars 8 and 9. Pregnancy complicated by preeclampsia.";
        assert!(!newborn_note(delivery), "the mother's own delivery note");
        assert_eq!(mother().map(|c| c.code).as_deref(), Some("MTH"));
    }

    #[test]
    fn nearest_before_then_first_after() {
        let t = "Father - diabetes; Mother - hypertension\ncancer in her maternal aunt";
        let at = |w: &str| {
            let s = t.find(w).unwrap();
            relative_of(t, s, s + w.len()).map(|c| c.code)
        };
        assert_eq!(at("diabetes").as_deref(), Some("FTH"));
        assert_eq!(at("hypertension").as_deref(), Some("MTH"));
        assert_eq!(at("cancer").as_deref(), Some("AUNT"));
        assert_eq!(relative_of("asthma", 0, 6), None);
    }

    #[test]
    fn every_row_has_a_code_and_no_word_twice() {
        let words: Vec<_> = rows(RELATIVES).map(|r| r[0].to_lowercase()).collect();
        assert_eq!(words.len(), table().len(), "a relative listed twice");
        assert!(rows(RELATIVES).all(|r| r.len() == 3 && !r[1].is_empty()));
    }
}
