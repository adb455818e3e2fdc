//! The settings each stage takes, as the configuration's sections carry them.
//!
//! A stage crate reads only its own section ([`NlpSettings`] for the NLP, [`FhirSettings`] for the
//! mapping, [`OcrSettings`] and [`crate::file::Limits`] for reading), never the whole
//! configuration; `paperchart-core`'s `Config` gathers them and loads them in layers.

use serde::{Deserialize, Serialize};

/// Tesseract and the page reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrSettings {
    /// `tesseract` (the embedded default).
    pub engine: String,
    /// Tesseract language(s), `+`-separated.
    pub language: String,
    /// Folder holding `<language>.traineddata`; empty for Tesseract's own default.
    pub datapath: String,
    /// OCR threads, one Tesseract engine each; 0 means one per core.
    pub threads: usize,
}

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings { engine: "tesseract".into(), language: "eng".into(), datapath: String::new(), threads: 0 }
    }
}

/// The built-in clinical NLP: release files added to the built-in terminology.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NlpSettings {
    /// NLM RxNorm release file `RXNCONSO.RRF` to add to the built-in drug codes; empty for none.
    pub rxnorm_rrf: String,
    /// LOINC release table `Loinc.csv` to add to the built-in lab codes; empty for none.
    pub loinc_csv: String,
}

/// The FHIR mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FhirSettings {
    /// Identifier system of the medical record numbers found in documents.
    pub mrn_system: String,
    /// Identifier system of health plan member ids read from cards (Patient.identifier and
    /// Coverage.identifier, type MB).
    pub member_system: String,
    /// Identifier system of the source documents (DocumentReference.identifier).
    pub document_system: String,
    /// Carry the extracted text in the DocumentReference as a `text/plain` attachment.
    pub include_text: bool,
    /// A finding read with less confidence than this (0..1: its words' OCR confidence times its
    /// rule's measured precision) is not written as fact: its Condition is `unconfirmed`, its
    /// Observation `preliminary`, and the document goes to review.
    pub min_confidence: f32,
    /// What becomes of a finding below `min_confidence`: `flag` writes it as said above; `omit`
    /// leaves it out of the patient's record and keeps it in the review object only.
    pub low_confidence: LowConfidence,
    /// Write de-identified FHIR: every piece of PHI replaced by a surrogate (the same original by
    /// the same surrogate), dates shifted, and `meta.security` PSEUDED on every resource.
    pub deidentify: bool,
    /// What the surrogates derive from: the same key gives the same surrogates in every run and
    /// every worker (keep it secret: it links surrogates to originals). Empty: a new key per
    /// process, so surrogates agree within one run only.
    pub deidentify_key: String,
}

/// What becomes of a finding read with low confidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum LowConfidence {
    /// Written, marked as not confirmed; the document goes to review.
    #[default]
    Flag,
    /// Held for review only.
    Omit,
}

/// A setting's value read from its name (any case), so a wrong one is answered with the names
/// there are: `unknown <what> "x": one of a, b`.
pub fn by_name<T: Copy>(s: &str, what: &str, names: &[(&str, T)]) -> Result<T, String> {
    let wanted = s.trim().to_ascii_lowercase();
    names.iter().find(|(n, _)| *n == wanted).map(|(_, v)| *v).ok_or_else(|| {
        let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!("unknown {what} {s:?}: one of {}", all.join(", "))
    })
}

impl TryFrom<String> for LowConfidence {
    type Error = String;

    fn try_from(s: String) -> Result<LowConfidence, String> {
        by_name(&s, "low-confidence handling", &[("flag", LowConfidence::Flag), ("omit", LowConfidence::Omit)])
    }
}

impl Default for FhirSettings {
    fn default() -> Self {
        FhirSettings {
            mrn_system: "urn:paperchart:mrn".into(),
            member_system: "urn:paperchart:member-id".into(),
            document_system: "urn:paperchart:document".into(),
            include_text: true,
            min_confidence: 0.5,
            low_confidence: LowConfidence::Flag,
            deidentify: false,
            deidentify_key: String::new(),
        }
    }
}
