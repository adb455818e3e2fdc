//! What the clinical NLP finds in a document's text, and the seam it is found through.
//!
//! [`NlpEngine`] is the seam (the built-in engine is `paperchart-nlp`); everything downstream
//! (the FHIR mapping, the summaries) reads [`NlpOutput`]. Offsets are byte offsets into the text
//! the engine read. Entities and demographics are patient data: never logged.

use serde::{Deserialize, Serialize};

use crate::class::DocumentClass;

/// The section of a document a finding stands in: it changes how the finding is read (a drug
/// under Allergies is an allergen, a problem under Past Medical History is historical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

impl SectionKind {
    pub const ALL: [SectionKind; 18] = [
        SectionKind::ChiefComplaint,
        SectionKind::PresentIllness,
        SectionKind::PastMedicalHistory,
        SectionKind::PastSurgicalHistory,
        SectionKind::Medications,
        SectionKind::Allergies,
        SectionKind::ProblemList,
        SectionKind::FamilyHistory,
        SectionKind::SocialHistory,
        SectionKind::ReviewOfSystems,
        SectionKind::PhysicalExam,
        SectionKind::VitalSigns,
        SectionKind::Labs,
        SectionKind::Procedures,
        SectionKind::HospitalCourse,
        SectionKind::AssessmentPlan,
        SectionKind::Instructions,
        SectionKind::Demographics,
    ];

    /// The name data files use (`past_medical_history`).
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::ChiefComplaint => "chief_complaint",
            SectionKind::PresentIllness => "present_illness",
            SectionKind::PastMedicalHistory => "past_medical_history",
            SectionKind::PastSurgicalHistory => "past_surgical_history",
            SectionKind::Medications => "medications",
            SectionKind::Allergies => "allergies",
            SectionKind::ProblemList => "problem_list",
            SectionKind::FamilyHistory => "family_history",
            SectionKind::SocialHistory => "social_history",
            SectionKind::ReviewOfSystems => "review_of_systems",
            SectionKind::PhysicalExam => "physical_exam",
            SectionKind::VitalSigns => "vital_signs",
            SectionKind::Labs => "labs",
            SectionKind::Procedures => "procedures",
            SectionKind::HospitalCourse => "hospital_course",
            SectionKind::AssessmentPlan => "assessment_plan",
            SectionKind::Instructions => "instructions",
            SectionKind::Demographics => "demographics",
        }
    }

    pub fn from_name(name: &str) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

pub const SYSTEM_ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const SYSTEM_SNOMED: &str = "http://snomed.info/sct";
pub const SYSTEM_RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const SYSTEM_LOINC: &str = "http://loinc.org";
pub const SYSTEM_UCUM: &str = "http://unitsofmeasure.org";
/// CDC's vaccine codes (CVX), as FHIR names the system.
pub const SYSTEM_CVX: &str = "http://hl7.org/fhir/sid/cvx";
/// HL7 v3 RoleCode: the relatives of family history (`MTH` mother, `FTH` father …).
pub const SYSTEM_ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EntityType {
    Condition,
    Medication,
    Procedure,
    Test,
    Allergy,
    Phi,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Condition => "CONDITION",
            EntityType::Medication => "MEDICATION",
            EntityType::Procedure => "PROCEDURE",
            EntityType::Test => "TEST",
            EntityType::Allergy => "ALLERGY",
            EntityType::Phi => "PHI",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Subtype {
    Lab,
    Vital,
    Name,
    Date,
    Id,
    Age,
    Address,
    Phone,
    Email,
    Profession,
    Location,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assertion {
    #[default]
    Present,
    Absent,
    Possible,
    Historical,
    Family,
    Hypothetical,
}

impl Assertion {
    pub fn as_str(self) -> &'static str {
        match self {
            Assertion::Present => "present",
            Assertion::Absent => "absent",
            Assertion::Possible => "possible",
            Assertion::Historical => "historical",
            Assertion::Family => "family",
            Assertion::Hypothetical => "hypothetical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Code {
    pub system: String,
    pub code: String,
    pub display: String,
}

impl Code {
    pub fn new(system: &str, code: &str, display: &str) -> Code {
        Code { system: system.to_string(), code: code.to_string(), display: display.to_string() }
    }
}

/// A timing parsed from a medication order (FHIR `Timing.repeat` and its abbreviation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frequency {
    /// As written, normalised: `BID`, `q6h`, `daily`, `nightly`.
    pub text: String,
    /// HL7 v3 GTSAbbreviation code when there is one (`BID`, `TID`, `Q6H` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub frequency: u32,
    pub period: f64,
    /// UCUM-style unit of `period`: `h`, `d`, `wk`.
    pub period_unit: String,
    /// Event code for `Timing.repeat.when` (`HS`, `MORN`, `EVE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// The longest period of a range ("q4-6h": period 4, at most 6), `Timing.repeat.periodMax`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_max: Option<f64>,
}

/// What the engine learned about an entity besides its codes. Empty fields are not serialised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attrs {
    /// Medication: one administration as written, e.g. `1 tablet`, `2 puffs`, `500 mg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose: Option<String>,
    /// Medication: strength as written, e.g. `10 mg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<String>,
    /// Medication: route, normalised (`oral`, `intravenous` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Medication: frequency as written, normalised (`BID`, `q6h`, `daily`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// Medication: taken as needed.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub prn: bool,
    /// Medication: for how long, e.g. `7 days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Medication: what the text says of the order, when it is not simply taken: `stopped`
    /// ("discontinued", "was stopped"), `on-hold` ("held", "hold X"), or `unknown` (taken, but
    /// whether still taken is not said: the drug a condition is named for) — FHIR's status codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Test: the numeric result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Test: UCUM code of the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Test: the comparator when the value was written `<5` or `>90`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    /// Test: the H/L flag as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Test: a reference range as written, e.g. `4.0-5.6`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Test: components of a panel (blood pressure): LOINC code and value.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub components: Vec<Component>,
    /// PHI: what the value is for the patient (`patient_name`, `birth_date`, `mrn` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// PHI DATE: the date in FHIR form (`2024-03-07`). Test: the date its row of a flowsheet
    /// gives, when it is not the document's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalized: Option<String>,
    /// Medication: the structured timing behind `frequency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Frequency>,
    /// Medication: route's SNOMED CT code when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_code: Option<Code>,
    /// Medication: dose quantity and its UCUM unit, when the dose is numeric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_quantity: Option<(f64, String)>,
    /// Medication: a dose written as a range ("1-2 puffs"): low, high and their UCUM unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose_range: Option<(f64, f64, String)>,
    /// Allergy: the reaction as written (`hives`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    /// Allergy: the reaction's SNOMED CT code when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction_code: Option<Code>,
    /// Family finding: whose it is (an HL7 v3 RoleCode: `MTH`, `FTH` …), when the text names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<Code>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub code: Code,
    pub value: f64,
    pub unit: String,
}

/// One finding in the text. `start`/`end` are byte offsets until [`NlpOutput::char_offsets`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: EntityType,
    pub subtype: Option<Subtype>,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub codes: Vec<Code>,
    pub assertion: Assertion,
    pub attrs: Attrs,
    /// How likely the finding is right, 0..1: the measured precision of the way it was read
    /// times its words' OCR confidence. `None` for what was not scored (PHI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    #[serde(skip)]
    pub section: Option<SectionKind>,
}

impl Entity {
    pub fn code(&self, system: &str) -> Option<&Code> {
        self.codes.iter().find(|c| c.system == system)
    }
}

/// Administrative gender as FHIR codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
    Other,
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub text: String,
    pub line: Vec<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 when the document names the country ("India" → IN), else as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The patient as the document names them. Patient data: never logged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    pub family: Option<String>,
    pub given: Vec<String>,
    pub birth_date: Option<String>,
    pub gender: Option<Gender>,
    pub mrn: Option<String>,
    /// A health plan's member id (an insurance card's "Member ID"): an identifier of type MB.
    pub member_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<Address>,
    /// The patient's other identifiers the document gives ("Patient ID" beside a provider's
    /// "Pt ID", a claim's "Patient's Account No."), each with its kind; never the one in `mrn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ids: Vec<PatientId>,
}

/// One more identifier of the patient, typed as HL7 v2 table 0203 types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientId {
    pub kind: IdKind,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Another record number (v2-0203 MR) from an assigner the document does not name.
    MedicalRecord,
    /// The patient's account number with the provider (v2-0203 AN).
    Account,
}

impl Demographics {
    /// Adds an identifier unless the patient already has that value.
    pub fn add_id(&mut self, kind: IdKind, value: &str) {
        let known = self.mrn.as_deref() == Some(value)
            || self.member_id.as_deref() == Some(value)
            || self.other_ids.iter().any(|i| i.value == value);
        if !known {
            self.other_ids.push(PatientId { kind, value: value.to_string() });
        }
    }

    /// Takes from `other` what this one lacks (forms give a name's parts in separate fields).
    pub fn fill_from(&mut self, other: Demographics) {
        self.family = self.family.take().or(other.family);
        if self.given.is_empty() {
            self.given = other.given;
        }
        self.birth_date = self.birth_date.take().or(other.birth_date);
        self.gender = self.gender.take().or(other.gender);
        match (&self.mrn, other.mrn) {
            (None, theirs) => self.mrn = theirs,
            // Two record numbers: the first stays the key, the other is one more identifier.
            (Some(_), Some(theirs)) => self.add_id(IdKind::MedicalRecord, &theirs),
            (Some(_), None) => {}
        }
        self.member_id = self.member_id.take().or(other.member_id);
        self.phone = self.phone.take().or(other.phone);
        self.email = self.email.take().or(other.email);
        for id in other.other_ids {
            self.add_id(id.kind, &id.value);
        }
        self.address = match (self.address.take(), other.address) {
            // A form gives an address in parts (street, city, state, zip): each fills its own.
            (Some(mut a), Some(b)) => {
                if a.line.is_empty() {
                    a.line = b.line;
                }
                a.city = a.city.or(b.city);
                a.state = a.state.or(b.state);
                a.postal_code = a.postal_code.or(b.postal_code);
                a.country = a.country.or(b.country);
                if a.text.is_empty() {
                    a.text = b.text;
                }
                Some(a)
            }
            (a, b) => a.or(b),
        };
    }

    pub fn has_name(&self) -> bool {
        self.family.is_some()
    }

    /// Nothing read at all.
    pub fn is_empty(&self) -> bool {
        *self == Demographics::default()
    }
}

/// Facts about the document itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentFacts {
    /// LOINC document type, when the title says what the document is.
    pub doc_type: Option<Code>,
    /// The clinical date of the document (service, report or discharge date), FHIR form.
    pub date: Option<String>,
    /// What kind of document it is: decides what was read from it.
    #[serde(default)]
    pub class: DocumentClass,
    /// What a fax machine printed on the pages, when it was faxed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<FaxFacts>,
}

/// A fax transmission's own lines ("12/03/2026 10:42 FROM: … P.002/005"): never read as clinical
/// text; their page numbers say whether the transmission arrived whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaxFacts {
    /// How many transmission lines were found (one a page, as a rule).
    pub lines: usize,
    /// The page numbers they give, in text order ("P.002/005" → 2).
    pub pages: Vec<u32>,
    /// How many pages the transmission said it sent ("P.002/005", "Page 2 of 5" → 5), the
    /// largest any line gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced: Option<u32>,
    /// How many pages the fax's cover sheet said were sent, the cover included ("Pages: 4").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_pages: Option<u32>,
}

impl FaxFacts {
    /// When the transmission did not arrive whole: more pages announced than the file holds, or
    /// a page number given twice (a page sent again, maybe in place of another). Says how many
    /// and which numbers no fax line gave ("fax announced 5 page(s), the file holds 4; no fax
    /// line for page 3", "fax page 2 came twice; no fax line for page 3").
    pub fn incomplete(&self, received: usize) -> Option<String> {
        let mut counts = std::collections::BTreeMap::new();
        for n in &self.pages {
            *counts.entry(*n).or_insert(0usize) += 1;
        }
        // Only where a page carries one line at most: a header and a footer on each page, a
        // forwarded fax or two transmissions in one file give numbers twice by design.
        let twice: Vec<String> = if self.lines <= received {
            counts.iter().filter(|(_, &c)| c > 1).map(|(n, _)| n.to_string()).collect()
        } else {
            Vec::new()
        };
        let total = self.announced.unwrap_or(0);
        // The fax machine's own count when its lines give one; the sender's cover sheet otherwise.
        let cover = if self.announced.is_some() { 0 } else { self.cover_pages.unwrap_or(0) };
        let fewer = total.max(cover) as usize > received;
        if !fewer && twice.is_empty() {
            return None;
        }
        // The page numbers no line gave, where lines give numbers at all.
        let unseen: Vec<String> = if self.pages.is_empty() {
            Vec::new()
        } else {
            (1..=total).filter(|n| !self.pages.contains(n)).map(|n| n.to_string()).collect()
        };
        let mut note = if fewer && cover > total {
            format!("fax cover sheet announced {cover} page(s), the file holds {received}")
        } else if fewer {
            format!("fax announced {total} page(s), the file holds {received}")
        } else {
            format!("fax page {} came twice", twice.join(", "))
        };
        if fewer && !twice.is_empty() {
            note.push_str(&format!("; fax page {} came twice", twice.join(", ")));
        }
        if !unseen.is_empty() {
            note.push_str(&format!("; no fax line for page {}", unseen.join(", ")));
        }
        Some(note)
    }
}

#[cfg(test)]
mod fax_tests {
    use super::FaxFacts;

    #[test]
    fn a_fax_short_of_pages_or_with_a_page_twice_says_so() {
        let fax = |pages: &[u32], announced: Option<u32>| FaxFacts {
            lines: pages.len(),
            pages: pages.to_vec(),
            announced,
            cover_pages: None,
        };
        assert_eq!(fax(&[1, 2, 3], Some(3)).incomplete(3), None);
        assert_eq!(fax(&[1, 2], None).incomplete(2), None, "nothing announced, nothing twice");
        assert_eq!(
            fax(&[1, 2], Some(3)).incomplete(2).as_deref(),
            Some("fax announced 3 page(s), the file holds 2; no fax line for page 3")
        );
        assert_eq!(
            fax(&[1, 2, 2, 4], Some(4)).incomplete(4).as_deref(),
            Some("fax page 2 came twice; no fax line for page 3")
        );
        assert_eq!(fax(&[1, 1, 2, 2], Some(2)).incomplete(2), None, "a header and a footer on each page");
        let covered = |cover: u32| FaxFacts { cover_pages: Some(cover), ..Default::default() };
        assert_eq!(covered(3).incomplete(3), None);
        assert_eq!(covered(4).incomplete(3).as_deref(), Some("fax cover sheet announced 4 page(s), the file holds 3"));
        // The lines' own count wins over the cover sheet's.
        let both = FaxFacts { cover_pages: Some(4), ..fax(&[1, 2, 3], Some(3)) };
        assert_eq!(both.incomplete(3), None);
        let lines_without_total = FaxFacts { cover_pages: Some(4), ..fax(&[1, 2], None) };
        assert_eq!(
            lines_without_total.incomplete(2).as_deref(),
            Some("fax cover sheet announced 4 page(s), the file holds 2")
        );
    }
}

/// One dose of a vaccine as an immunization record lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImmunizationFact {
    /// The vaccine as written (a product, a manufacturer, a disease).
    pub vaccine: String,
    /// CVX code, when the words name one vaccine.
    pub code: Option<Code>,
    /// FHIR date of administration, when legible.
    pub date: Option<String>,
    pub lot: Option<String>,
    /// Dose number in the series ("1st Dose").
    pub dose_number: Option<u32>,
    /// Byte span of the row in the text: its evidence.
    pub start: usize,
    pub end: usize,
}

/// What an insurance card says of the patient's coverage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageFact {
    /// The payer's name as written, when the card shows it.
    pub payer: Option<String>,
    pub payer_id: Option<String>,
    pub member_id: Option<String>,
    pub group: Option<String>,
    pub plan: Option<String>,
    /// Pharmacy benefit routing: BIN, PCN, Rx group.
    pub rx_bin: Option<String>,
    pub rx_pcn: Option<String>,
    pub rx_group: Option<String>,
}

/// One question a form asks with boxes, and the answer ticked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The question as written.
    pub question: String,
    /// `Some(true)` yes or ticked, `Some(false)` no, `None` left blank.
    pub answer: Option<bool>,
    /// No answer because the boxes could not be read (or contradict each other), not because
    /// they were left blank: a person looks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unread: bool,
    /// Byte span of the question in the text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NlpOutput {
    pub entities: Vec<Entity>,
    pub demographics: Demographics,
    pub document: DocumentFacts,
    /// Doses an immunization record lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub immunizations: Vec<ImmunizationFact>,
    /// What an insurance card says of the coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageFact>,
    /// The questions a form asks with boxes, with their answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
}

impl NlpOutput {
    /// Entities per type, for summaries.
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        for e in &self.entities {
            *out.entry(e.kind.as_str()).or_insert(0) += 1;
        }
        out
    }
}

/// The clinical NLP seam. Implementations must be deterministic: the same text gives the same
/// output, which is what makes reprocessing a document change nothing downstream.
pub trait NlpEngine: Send + Sync {
    /// Finds entities, demographics and document facts in `text` (byte offsets).
    fn analyze(&self, text: &str) -> NlpOutput;

    /// Decides the assertion of a concept already found at byte span `start..end` of `text`.
    fn assertion(&self, text: &str, start: usize, end: usize) -> Assertion;

    /// Reads a whole document: its text (`document.text()`), and what its engine found beside
    /// the text, such as form fields whose value layout put away from its label. The default
    /// reads the text only.
    fn analyze_document(&self, document: &crate::document::Document, text: &str) -> NlpOutput {
        let _ = document;
        self.analyze(text)
    }
}
