//! What kind of document it is, decided before anything is extracted: the class decides what is
//! read (see [`paperchart_model::class::DocumentClass`]).
//!
//! Each class has weighted cue phrases (`data/terminology/curated/document_classes.tsv`): a claim
//! names its form ("HEALTH INSURANCE CLAIM FORM", "UB-04") and its boxes, a card its member id and
//! Rx BIN, a bank statement its balances. A class wins when its cues outweigh every other class and
//! reach its threshold; with no clear winner a document is read as a clinical note, the class that
//! reads the most. Being called non-clinical costs a document all its findings, so it also needs
//! the clinical cues to be nearly absent; a card is short.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use paperchart_model::class::DocumentClass;
use paperchart_model::document::Document;

use crate::tables;

const CLASSES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/document_classes.tsv"));

/// A phrase counts at most this many times: a long statement's hundred "balance"s say no more
/// than three.
const MAX_REPEATS: u32 = 3;

struct Cues {
    matcher: AhoCorasick,
    /// Per pattern: its class and weight.
    rows: Vec<(DocumentClass, u32)>,
}

fn cues() -> &'static Cues {
    static C: OnceLock<Cues> = OnceLock::new();
    C.get_or_init(|| {
        let mut phrases = Vec::new();
        let mut rows = Vec::new();
        for row in tables::rows(CLASSES) {
            let class = DocumentClass::from_name(row[0]).expect("document_classes.tsv: a known class");
            let weight: u32 = row[1].parse().expect("document_classes.tsv: a weight");
            for cue in row[2].split('|') {
                phrases.push(fold(cue));
                rows.push((class, weight));
            }
        }
        let matcher =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&phrases).expect("document class cues");
        Cues { matcher, rows }
    })
}

/// Lower case, one apostrophe, one space between the words of a line; lines kept.
fn fold(s: &str) -> String {
    let s = s.to_lowercase().replace(['’', '`'], "'");
    s.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

/// A title says most: a cue that names a kind of document (weight 8 or more: "MEDICATION LIST",
/// "Vaccination Record") in the first lines counts this many times over. A header's "Patient:"
/// is no title.
const TITLE_LINES: usize = 5;
const TITLE_FACTOR: u32 = 3;
const TITLE_WEIGHT: u32 = 8;

/// Weighted cue counts per class, in [`DocumentClass::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scores(pub [u32; 9]);

impl Scores {
    pub fn of(&self, class: DocumentClass) -> u32 {
        self.0[class as usize]
    }
}

/// The cue scores of a text.
pub fn scores(text: &str) -> Scores {
    let folded = fold(text);
    let c = cues();
    let mut seen = vec![0u32; c.rows.len()];
    let mut out = [0u32; 9];
    let bytes = folded.as_bytes();
    let title_end = folded.match_indices('\n').nth(TITLE_LINES - 1).map_or(folded.len(), |(i, _)| i);
    let boundary = |i: Option<&u8>| i.is_none_or(|b| !b.is_ascii_alphanumeric());
    for m in c.matcher.find_iter(&folded) {
        let before = m.start().checked_sub(1).map(|i| &bytes[i]);
        if !boundary(before) || !boundary(bytes.get(m.end())) {
            continue;
        }
        let p = m.pattern().as_usize();
        if seen[p] < MAX_REPEATS {
            seen[p] += 1;
            let (class, weight) = c.rows[p];
            let title = m.start() < title_end && weight >= TITLE_WEIGHT;
            out[class as usize] += if title { weight * TITLE_FACTOR } else { weight };
        }
    }
    Scores(out)
}

/// The least a class's cues must weigh to be chosen.
fn threshold(class: DocumentClass) -> u32 {
    match class {
        DocumentClass::ClinicalNote => 0,
        DocumentClass::Claim => 12,
        DocumentClass::NonClinical => 12,
        _ => 10,
    }
}

/// The class of a document from its text and what its engine found beside it (selection
/// elements mark a form).
pub fn classify(text: &str, document: Option<&Document>) -> DocumentClass {
    let mut s = scores(text);
    if let Some(doc) = document {
        let boxes = doc
            .pages
            .iter()
            .flat_map(|p| {
                p.key_values
                    .iter()
                    .map(|kv| &kv.value)
                    .chain(p.tables.iter().flat_map(|t| t.cells.iter().map(|c| &c.content)))
            })
            .filter(|f| f.selected.is_some())
            .count() as u32;
        // A page of check boxes is a questionnaire, unless it is a claim (whose boxes are
        // counted in its own cues).
        s.0[DocumentClass::IntakeForm as usize] += boxes.min(6);
    }
    let clinical = s.of(DocumentClass::ClinicalNote);
    let words = text.split_whitespace().count();
    let eligible = |c: DocumentClass| {
        let score = s.of(c);
        score >= threshold(c)
            && match c {
                // A card is a card's worth of words.
                DocumentClass::InsuranceCard => words <= 250 && score > clinical,
                // Never non-clinical with the words of a medical record in it.
                DocumentClass::NonClinical => clinical <= 8 && score >= 3 * clinical.max(1),
                // Forms and records whose own cues are strong win over the clinical words they
                // contain ("patient", "diagnosis" on a claim).
                DocumentClass::Claim => true,
                _ => score > clinical,
            }
    };
    DocumentClass::ALL
        .into_iter()
        .filter(|&c| c != DocumentClass::ClinicalNote && eligible(c))
        .max_by_key(|&c| (s.of(c), std::cmp::Reverse(c as usize)))
        .unwrap_or(DocumentClass::ClinicalNote)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> DocumentClass {
        classify(text, None)
    }

    #[test]
    fn forms_and_cards_name_themselves() {
        assert_eq!(
            class("HEALTH INSURANCE CLAIM FORM\n1a. INSURED'S I.D. NUMBER\n2. PATIENT'S NAME\n21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY\nR10.9"),
            DocumentClass::Claim
        );
        assert_eq!(class("1 PROVIDER\n4 TYPE OF BILL 0111\nUB-04\n67 PRINCIPAL DIAGNOSIS I10"), DocumentClass::Claim);
        assert_eq!(
            class(
                "Acme Health Plan\nMember ID: W123456789\nGroup Number: 0042\nRx BIN 610014 Rx PCN 9999\nCopay PCP $20"
            ),
            DocumentClass::InsuranceCard
        );
        assert_eq!(
            class("COVID-19 Vaccination Record Card\nVaccine  Lot Number  Date\n1st Dose Pfizer EK5730 01/02/21\n2nd Dose"),
            DocumentClass::ImmunizationRecord
        );
    }

    #[test]
    fn statements_and_invoices_are_not_medical_records() {
        let statement = "AnyCompany Banking Services\nYour consolidated statement\nAccount summary\nPrevious balance $1,000.00\nDeposits 200.00\nWithdrawals 50.00\nNew balance $1,150.00\nMember FDIC";
        assert_eq!(class(statement), DocumentClass::NonClinical);
        let invoice =
            "INVOICE 2231\nBill to: Northwind Traders\nQuantity Unit price Subtotal\nSales tax\nAmount due $420.00";
        assert_eq!(class(invoice), DocumentClass::NonClinical);
        // A hospital's bill with diagnoses and medications is not thrown away as non-clinical.
        let bill = "Statement of account\nBalance due $20\nPatient: Jane Doe\nDiagnosis: hypertension\nMedications: lisinopril 10 mg\nAssessment and plan: follow up";
        assert_ne!(class(bill), DocumentClass::NonClinical);
    }

    #[test]
    fn notes_stay_notes() {
        let note = "DISCHARGE SUMMARY\nPatient: John Doe\nChief Complaint: chest pain\nHistory of Present Illness: ...\nMedications: aspirin 81 mg daily\nAllergies: NKDA\nAssessment and Plan: ...";
        assert_eq!(class(note), DocumentClass::ClinicalNote);
        assert_eq!(class(""), DocumentClass::ClinicalNote);
        // A note that mentions a vaccine and a member id is still a note.
        let visit = "Progress note\nPatient reports cough. Denies fever.\nVaccines: flu vaccine given today.\nAssessment: viral URI. Member ID on file.";
        assert_eq!(class(visit), DocumentClass::ClinicalNote);
        let letter = "Dear Dr. Patel,\nThank you for seeing Ms. Lee, whom I am referring for evaluation of a thyroid nodule.\nReason for referral: thyroid nodule.\nSincerely,\nDr. Chen";
        assert_eq!(class(letter), DocumentClass::Referral);
        let lab = "LABORATORY REPORT\nSpecimen collected 03/01/2024\nTest Result Flag Units Reference Range\nSodium 141 mmol/L 135-145\nPotassium 5.9 H mmol/L 3.5-5.1";
        assert_eq!(class(lab), DocumentClass::LabReport);
        let list = "MEDICATION LIST\nPatient: Lindqvist, Harold B.\nDOB: 11/02/1955 MRN: 30077215\nCurrent Medications:\n1. Amlodipine 2.5 mg tablet daily\n2. Simvastatin 20 mg tablet at bedtime\n3. Omeprazole 20 mg capsule every morning\nAllergies: Codeine\nDiagnoses: Coronary artery disease";
        assert_eq!(class(list), DocumentClass::MedicationList, "the title, not the header's clinical words");
        let intake = "NEW PATIENT INTAKE FORM\nPlease print\nEmergency contact:\nMarital status: [ ] single [ ] married\nDo you have diabetes? [ ] Yes [X] No";
        assert_eq!(class(intake), DocumentClass::IntakeForm);
    }

    #[test]
    fn cues_need_word_boundaries_and_count_at_most_three_times() {
        assert_eq!(scores("bankruptcy").of(DocumentClass::NonClinical), 0, "'bank' inside a word");
        let five = "\n\n\n\n\nbalance balance balance balance balance";
        assert_eq!(scores(five).of(DocumentClass::NonClinical), 3 * 3);
        assert_eq!(scores("\n\n\n\n\nINSURED’S I.D. NUMBER").of(DocumentClass::Claim), 5, "typographic apostrophes");
        assert_eq!(scores("Balance").of(DocumentClass::NonClinical), 3, "a weak cue is no title");
        assert_eq!(scores("Lab report").of(DocumentClass::LabReport), 8 * TITLE_FACTOR, "a title counts more");
    }
}
