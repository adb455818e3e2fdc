//! PHI that no label announces, for recall (de-identification, and nothing identifying left
//! unnoticed): names in forms that say they are names ("SMITH, JOHN", "Jane Q. Doe, MD", "signed
//! by Robert Kim"), partial dates ("DOB 3/80", "May 2020"), short phone numbers after a phone
//! word, hospitals and clinics, street addresses. These are reported as PHI entities only: they
//! never fill the patient's demographics, which only labelled fields do.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use super::{Entity, Subtype};
use crate::tables::rows;

const NAMES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/names.tsv"));
const WORDS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/words.tsv"));

/// The words of the clinical vocabulary (ICD-10-CM and SNOMED CT names).
fn clinical_word(w: &str) -> bool {
    static W: OnceLock<HashSet<String>> = OnceLock::new();
    W.get_or_init(|| rows(WORDS).map(|r| r[0].to_string()).collect()).contains(&w.to_lowercase())
}

/// Words a "LAST, FIRST" line of a report may hold that are no name: headings and their parts.
const NOT_NAMES: &[&str] = &[
    "history",
    "physical",
    "assessment",
    "plan",
    "exam",
    "examination",
    "review",
    "systems",
    "diagnosis",
    "diagnoses",
    "impression",
    "medications",
    "allergies",
    "labs",
    "vitals",
    "summary",
    "discharge",
    "admission",
    "note",
    "report",
    "progress",
    "consult",
    "procedure",
    "procedures",
    "findings",
    "results",
    "chief",
    "complaint",
    "social",
    "family",
    "past",
    "medical",
    "surgical",
    "follow",
    "instructions",
    "patient",
    "name",
    "date",
    "signs",
    "symptoms",
    "hospital",
    "course",
    "condition",
    "disposition",
    "reason",
    "visit",
    "tests",
    "imaging",
    "orders",
];

struct Names {
    given: HashSet<String>,
    family: HashSet<String>,
}

fn names() -> &'static Names {
    static N: OnceLock<Names> = OnceLock::new();
    N.get_or_init(|| {
        let (mut given, mut family) = (HashSet::new(), HashSet::new());
        for r in rows(NAMES) {
            match r.get(1).copied() {
                Some("given") => given.insert(r[0].to_string()),
                Some("family") => family.insert(r[0].to_string()),
                _ => false,
            };
        }
        Names { given, family }
    })
}

struct Patterns {
    last_first: Regex,
    credentialed: Regex,
    signed: Regex,
    month_year: Regex,
    month_name_year: Regex,
    short_phone: Regex,
    facility: Regex,
    street: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("phi pattern");
        const CREDENTIAL: &str = r"(?:MD|M\.D\.|DO|D\.O\.|NP|PA-C|PA|RN|APRN|PhD|MBBS|DNP|FNP|CNM|MPH)";
        // A capitalised name word: "Kim", "O'Neil", "McDonald", "Smith-Jones".
        const NAME_WORD: &str = r"[A-Z][a-z]*(?:['-]?[A-Z][a-z]+)*[a-z]*";
        Patterns {
            // "SMITH, JOHN", "Doe, Jane Q."
            last_first: re(r"\b([A-Z][A-Za-z'-]+),[ \t]+([A-Z][A-Za-z'-]+)(?:[ \t]+[A-Z]\.?)?\b"),
            credentialed: re(&format!(
                r"\b({NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{1,2}}),?[ \t]+{CREDENTIAL}(?:\b|\s|,|$)"
            )),
            signed: re(
                &format!(r"(?i:\b(?:signed|dictated|transcribed|reviewed|cosigned|attested)(?:[ \t]+electronically)?[ \t]+by)\s*:?\s*(?:Dr\.?[ \t]+)?({NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{1,2}})"),
            ),
            // "3/80", "03/2019" after a word dates follow.
            month_year: re(
                r"(?i)\b(?:in|on|since|from|until|till|dated|dob|d\.o\.b\.?|date|seen|around|circa|admitted|discharged|born)\b[\s:]*((?:0?[1-9]|1[0-2])/(?:\d{2}|\d{4}))\b",
            ),
            month_name_year: re(
                r"\b((?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?,?[ \t]+(?:of[ \t]+)?(?:19|20)\d{2})\b",
            ),
            short_phone: re(r"(?i)\b(?:phone|tel|telephone|call|pager|beeper|page|ext|extension|cell|fax)\b[^\n\d]{0,12}((?:\d{3}-\d{4}|x\d{3,5}))\b"),
            facility: re(
                r"\b((?:[A-Z][a-z'-]+[ \t]+){1,4}(?:Medical[ \t]+Center|Hospital|Clinic|Health[ \t]+Center|Health[ \t]+System|Medical[ \t]+Group|Infirmary|Nursing[ \t]+Home|Rehabilitation[ \t]+Center|Cancer[ \t]+Center))\b",
            ),
            street: re(
                r"\b(\d{1,5}[ \t]+(?:[A-Z][a-z]+[ \t]+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Ct|Way|Place|Pl|Terrace|Circle|Parkway|Pkwy)\b\.?(?:,?[ \t]+(?:Apt|Suite|Unit)\.?\s*#?\s*\w+)?(?:,\s*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?,?[ \t]+[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?)?)",
            ),
        }
    })
}

fn is_given(w: &str) -> bool {
    names().given.contains(&w.to_lowercase())
}

fn is_family(w: &str) -> bool {
    names().family.contains(&w.to_lowercase())
}

fn not_a_name(w: &str) -> bool {
    NOT_NAMES.contains(&w.to_lowercase().as_str())
}

/// Adds to `out` the PHI no label announced, where nothing found already covers it.
pub fn extract(text: &str, out: &mut Vec<Entity>) {
    let p = patterns();
    let add = |out: &mut Vec<Entity>, subtype: Subtype, start: usize, end: usize| {
        if !out.iter().any(|x| x.start < end && start < x.end) {
            out.push(super::phi::entity(subtype, start, end, text, None));
        }
    };
    for c in p.last_first.captures_iter(text) {
        let (last, first) = (c.get(1).expect("group"), c.get(2).expect("group"));
        // Both in capitals or both capitalised ("GERD, Major depressive disorder" is a list), no
        // heading word, and the census knows the surname and the given name.
        let caps = |w: &str| !w.chars().any(char::is_lowercase);
        if caps(last.as_str()) != caps(first.as_str()) || not_a_name(last.as_str()) || not_a_name(first.as_str()) {
            continue;
        }
        // A line of its own ("SMITH, TOMASZ" heading a note): a census surname is enough, with a
        // given name that is no clinical word.
        // Alone on its line: only spaces to the line breaks either side (looked for nearby only,
        // so a huge line costs no more than a short one).
        let m0 = c.get(0).expect("match");
        let before = &text[..last.start()];
        let after = &text[m0.end()..];
        let alone = before.chars().rev().take(80).find(|c| !c.is_whitespace() || *c == '\n').is_none_or(|c| c == '\n')
            && after.chars().take(80).find(|c| !c.is_whitespace() || *c == '\n').is_none_or(|c| c == '\n');
        let known = is_family(last.as_str()) && is_given(first.as_str());
        let heading = alone && is_family(last.as_str()) && !clinical_word(first.as_str()) && first.as_str().len() >= 2;
        if known || heading {
            let m = c.get(0).expect("match");
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    for re in [&p.credentialed, &p.signed] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            let words: Vec<&str> = m.as_str().split_whitespace().filter(|w| !w.ends_with('.') || w.len() > 2).collect();
            // A name, not a clinical phrase before a capitalised word ("Chest Pain, MD notified",
            // "Aspirin Enteric Coated DO NOT crush"): no clinical word unless the census knows it
            // as a name, and the census knows one of its words.
            let named = |w: &&str| is_given(w) || is_family(w);
            if words.iter().any(|w| not_a_name(w) || (clinical_word(w) && !named(w))) || !words.iter().any(named) {
                continue;
            }
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    for re in [&p.month_year, &p.month_name_year] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            add(out, Subtype::Date, m.start(), m.end());
        }
    }
    for c in p.short_phone.captures_iter(text) {
        let m = c.get(1).expect("group");
        add(out, Subtype::Phone, m.start(), m.end());
    }
    for c in p.facility.captures_iter(text) {
        let m = c.get(1).expect("group");
        // "Brief Hospital Course" is a heading.
        if text[m.end()..].trim_start().starts_with("Course") || m.as_str().starts_with("Brief ") {
            continue;
        }
        add(out, Subtype::Location, m.start(), m.end());
    }
    for c in p.street.captures_iter(text) {
        let m = c.get(1).expect("group");
        add(out, Subtype::Address, m.start(), m.end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Subtype, &str)> {
        let mut out = Vec::new();
        extract(text, &mut out);
        out.sort_by_key(|e| e.start);
        out.iter().map(|e| (e.subtype.expect("subtype"), &text[e.start..e.end])).collect()
    }

    #[test]
    fn names_dates_phones_places_no_label_announces() {
        let text = "SMITH, JOHN\nDOB 3/80. Seen at Riverside Medical Center in May 2020.\nPhone 555-1234.\n\
                    Lives at 12 Oak Street, Boston, MA 02115.\nJane Q. Doe, MD\nSigned electronically by: Robert Kim, M.D.";
        let got = found(text);
        for want in [
            (Subtype::Name, "SMITH, JOHN"),
            (Subtype::Date, "3/80"),
            (Subtype::Location, "Riverside Medical Center"),
            (Subtype::Date, "May 2020"),
            (Subtype::Phone, "555-1234"),
            (Subtype::Address, "12 Oak Street, Boston, MA 02115"),
            (Subtype::Name, "Jane Q. Doe"),
            (Subtype::Name, "Robert Kim"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
    }

    #[test]
    fn clinical_words_and_scores_are_not_phi() {
        assert!(found("ASSESSMENT, PLAN").is_empty());
        assert!(found("HYPERTENSION, DIABETES").is_empty());
        assert!(found("60 y/o man with GERD, Major depressive disorder").is_empty());
        assert!(found("GERD, MAJOR\n").is_empty());
        assert_eq!(found("\nSMITH, TOMASZ\nMRN 1"), [(Subtype::Name, "SMITH, TOMASZ")], "a line of its own");
        assert!(found("Pain 3/10 at rest. Took 1/2 tab.").is_empty());
        assert!(found("Chest pain, fever and cough.").is_empty());
        assert!(found("Chest Pain, MD notified.").is_empty());
        assert!(found("Aspirin Enteric Coated DO NOT crush").is_empty());
        assert!(found("Rates pain of 8/10 today.").is_empty());
        assert!(found("Brief Hospital Course: stable.").is_empty());
    }
}
