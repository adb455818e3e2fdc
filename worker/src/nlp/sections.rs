//! Section headings and the spans they govern.
//!
//! A heading is a line that starts with a known section name followed by a colon, or a line that
//! is nothing but the name. The section runs to the next heading. Sections change how findings
//! are read: a drug under Allergies is an allergen, a disease under Family History belongs to a
//! relative, a problem under Past Medical History is historical.

use super::text::{fold, lines};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionKind {
    ChiefComplaint,
    PresentIllness,
    PastMedicalHistory,
    PastSurgicalHistory,
    Medications,
    Allergies,
    ProblemList,
    FamilyHistory,
    SocialHistory,
    ReviewOfSystems,
    PhysicalExam,
    VitalSigns,
    Labs,
    Procedures,
    HospitalCourse,
    AssessmentPlan,
    Instructions,
    Demographics,
}

const HEADINGS: &[(&str, SectionKind)] = &[
    ("chief complaint", SectionKind::ChiefComplaint),
    ("reason for visit", SectionKind::ChiefComplaint),
    ("reason for referral", SectionKind::ChiefComplaint),
    ("reason for admission", SectionKind::ChiefComplaint),
    ("cc", SectionKind::ChiefComplaint),
    ("history of present illness", SectionKind::PresentIllness),
    ("hpi", SectionKind::PresentIllness),
    ("presenting complaint", SectionKind::PresentIllness),
    ("subjective", SectionKind::PresentIllness),
    ("past medical history", SectionKind::PastMedicalHistory),
    ("medical history", SectionKind::PastMedicalHistory),
    ("pmh", SectionKind::PastMedicalHistory),
    ("pmhx", SectionKind::PastMedicalHistory),
    ("past history", SectionKind::PastMedicalHistory),
    ("past surgical history", SectionKind::PastSurgicalHistory),
    ("surgical history", SectionKind::PastSurgicalHistory),
    ("psh", SectionKind::PastSurgicalHistory),
    ("medications", SectionKind::Medications),
    ("medication", SectionKind::Medications),
    ("current medications", SectionKind::Medications),
    ("home medications", SectionKind::Medications),
    ("discharge medications", SectionKind::Medications),
    ("medications on discharge", SectionKind::Medications),
    ("medication list", SectionKind::Medications),
    ("active medications", SectionKind::Medications),
    ("meds", SectionKind::Medications),
    ("current meds", SectionKind::Medications),
    ("allergies", SectionKind::Allergies),
    ("allergy", SectionKind::Allergies),
    ("drug allergies", SectionKind::Allergies),
    ("allergies and adverse reactions", SectionKind::Allergies),
    ("allergies adverse reactions", SectionKind::Allergies),
    ("known allergies", SectionKind::Allergies),
    ("allergies intolerances", SectionKind::Allergies),
    ("allergies and intolerances", SectionKind::Allergies),
    ("intolerances", SectionKind::Allergies),
    ("adverse reactions", SectionKind::Allergies),
    ("problem list", SectionKind::ProblemList),
    ("active problems", SectionKind::ProblemList),
    ("problems", SectionKind::ProblemList),
    ("diagnoses", SectionKind::ProblemList),
    ("diagnosis", SectionKind::ProblemList),
    ("discharge diagnoses", SectionKind::ProblemList),
    ("discharge diagnosis", SectionKind::ProblemList),
    ("admission diagnosis", SectionKind::ProblemList),
    ("principal diagnosis", SectionKind::ProblemList),
    ("secondary diagnoses", SectionKind::ProblemList),
    ("family history", SectionKind::FamilyHistory),
    ("family medical history", SectionKind::FamilyHistory),
    ("fh", SectionKind::FamilyHistory),
    ("fhx", SectionKind::FamilyHistory),
    ("social history", SectionKind::SocialHistory),
    ("sh", SectionKind::SocialHistory),
    ("review of systems", SectionKind::ReviewOfSystems),
    ("ros", SectionKind::ReviewOfSystems),
    ("physical exam", SectionKind::PhysicalExam),
    ("physical examination", SectionKind::PhysicalExam),
    ("exam", SectionKind::PhysicalExam),
    ("pe", SectionKind::PhysicalExam),
    ("objective", SectionKind::PhysicalExam),
    ("vital signs", SectionKind::VitalSigns),
    ("vitals", SectionKind::VitalSigns),
    ("vs", SectionKind::VitalSigns),
    ("labs", SectionKind::Labs),
    ("laboratory", SectionKind::Labs),
    ("laboratory results", SectionKind::Labs),
    ("laboratory data", SectionKind::Labs),
    ("lab results", SectionKind::Labs),
    ("results", SectionKind::Labs),
    ("procedures", SectionKind::Procedures),
    ("procedures performed", SectionKind::Procedures),
    ("performed today", SectionKind::Procedures),
    ("procedures today", SectionKind::Procedures),
    ("procedure", SectionKind::Procedures),
    ("operations", SectionKind::Procedures),
    ("hospital course", SectionKind::HospitalCourse),
    ("brief hospital course", SectionKind::HospitalCourse),
    ("assessment and plan", SectionKind::AssessmentPlan),
    ("assessment plan", SectionKind::AssessmentPlan),
    ("a p", SectionKind::AssessmentPlan),
    ("assessment", SectionKind::AssessmentPlan),
    ("impression", SectionKind::AssessmentPlan),
    ("impression and plan", SectionKind::AssessmentPlan),
    ("plan", SectionKind::AssessmentPlan),
    ("discharge instructions", SectionKind::Instructions),
    ("patient instructions", SectionKind::Instructions),
    ("instructions", SectionKind::Instructions),
    ("follow up", SectionKind::Instructions),
    ("patient information", SectionKind::Demographics),
    ("demographics", SectionKind::Demographics),
    ("patient demographics", SectionKind::Demographics),
];

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
        if let Some((_, kind)) = HEADINGS.iter().find(|(h, _)| *h == key) {
            return Some((*kind, indent + colon + 1));
        }
    }
    if trimmed.len() > 48 {
        return None;
    }
    let key = heading_key(trimmed);
    // A bare heading line: the whole line is the name (often in capitals).
    HEADINGS.iter().find(|(h, _)| *h == key && key.len() > 2).map(|(_, k)| (*k, line.len()))
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
    sections.iter().rev().find(|s| s.start <= offset && offset < s.end.max(s.start + 1))
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
