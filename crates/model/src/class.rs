//! What kind of document a page set is. Decided before extraction, the class decides what is read
//! and how (see `paperchart-nlp`'s `classify` and `forms`): narrative NLP for notes and letters,
//! identity and coverage for an insurance card, vaccine rows for an immunization record, the
//! diagnosis field for a claim, and nothing clinical from a bank statement or an invoice.
//!
//! The mapping records it in `DocumentReference.category` (code system [`SYSTEM_DOCUMENT_CLASS`])
//! and, where the title named no more exact type, in `DocumentReference.type`.

use serde::{Deserialize, Serialize};

/// The code system of [`DocumentClass`] codes in `DocumentReference.category`.
pub const SYSTEM_DOCUMENT_CLASS: &str = "urn:paperchart:document-class";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentClass {
    /// A clinical note or summary: discharge summary, progress or visit note, H&P, consult.
    #[default]
    ClinicalNote,
    LabReport,
    MedicationList,
    /// An intake, registration or history questionnaire.
    IntakeForm,
    /// A claim form (CMS-1500, UB-04).
    Claim,
    InsuranceCard,
    ImmunizationRecord,
    /// A referral, a letter, a fax cover.
    Referral,
    /// Not a medical record: a bank statement, an invoice, a receipt.
    NonClinical,
}

impl DocumentClass {
    pub const ALL: [DocumentClass; 9] = [
        DocumentClass::ClinicalNote,
        DocumentClass::LabReport,
        DocumentClass::MedicationList,
        DocumentClass::IntakeForm,
        DocumentClass::Claim,
        DocumentClass::InsuranceCard,
        DocumentClass::ImmunizationRecord,
        DocumentClass::Referral,
        DocumentClass::NonClinical,
    ];

    /// The code (`DocumentReference.category`, summaries, metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentClass::ClinicalNote => "clinical_note",
            DocumentClass::LabReport => "lab_report",
            DocumentClass::MedicationList => "medication_list",
            DocumentClass::IntakeForm => "intake_form",
            DocumentClass::Claim => "claim",
            DocumentClass::InsuranceCard => "insurance_card",
            DocumentClass::ImmunizationRecord => "immunization_record",
            DocumentClass::Referral => "referral",
            DocumentClass::NonClinical => "non_clinical",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            DocumentClass::ClinicalNote => "Clinical note or summary",
            DocumentClass::LabReport => "Laboratory report",
            DocumentClass::MedicationList => "Medication list",
            DocumentClass::IntakeForm => "Intake or registration form",
            DocumentClass::Claim => "Health insurance claim form",
            DocumentClass::InsuranceCard => "Health insurance card",
            DocumentClass::ImmunizationRecord => "Immunization record",
            DocumentClass::Referral => "Referral or letter",
            DocumentClass::NonClinical => "Non-clinical document",
        }
    }

    /// The LOINC document type a class stands for when the title named none more exact
    /// (`None`: LOINC has no document code that fits; the type is written as text).
    pub fn loinc(self) -> Option<(&'static str, &'static str)> {
        match self {
            DocumentClass::ClinicalNote => Some(("34109-9", "Note")),
            DocumentClass::LabReport => Some(("11502-2", "Laboratory report")),
            DocumentClass::MedicationList => Some(("10160-0", "History of Medication use Narrative")),
            DocumentClass::IntakeForm => Some(("34109-9", "Note")),
            DocumentClass::ImmunizationRecord => Some(("11369-6", "History of Immunization Narrative")),
            DocumentClass::Referral => Some(("57133-1", "Referral note")),
            DocumentClass::Claim | DocumentClass::InsuranceCard | DocumentClass::NonClinical => None,
        }
    }

    /// Whether the document belongs in a medical record at all: a non-clinical one gives no
    /// Patient and no clinical resource.
    pub fn is_clinical(self) -> bool {
        self != DocumentClass::NonClinical
    }

    /// Whether the narrative NLP reads the document's words as findings. Cards, claims and
    /// non-clinical documents are read by their fields only: their captions and boxes are not
    /// sentences ("Booster Shot", "ILLNESS, INJURY, or PREGNANCY", "Employed").
    pub fn reads_narrative(self) -> bool {
        !matches!(
            self,
            DocumentClass::Claim
                | DocumentClass::InsuranceCard
                | DocumentClass::ImmunizationRecord
                | DocumentClass::NonClinical
        )
    }

    pub fn from_name(name: &str) -> Option<DocumentClass> {
        DocumentClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serialise_as_codes() {
        for c in DocumentClass::ALL {
            assert_eq!(DocumentClass::from_name(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert!(!DocumentClass::NonClinical.is_clinical());
        assert!(!DocumentClass::Claim.reads_narrative() && DocumentClass::Referral.reads_narrative());
    }
}
