//! FHIR R4 mapping: one document, its text and what the NLP found, to one transaction Bundle.
//!
//! One module per resource kind, as FHIR-Converter keeps a template per resource: [`patient`],
//! [`document_reference`], [`condition`], [`medication`] (MedicationStatement), [`observation`],
//! [`allergy`], [`procedure`], [`family`] (FamilyMemberHistory) and [`provenance`]; every id comes
//! from [`ids`]. How each finding's assertion is written:
//!
//! | assertion    | Condition                          | MedicationStatement | Procedure | AllergyIntolerance |
//! |--------------|------------------------------------|---------------------|-----------|--------------------|
//! | present      | active, confirmed                  | active              | completed | active, confirmed  |
//! | absent       | refuted (no clinical status)       | not-taken           | not-done  | inactive, refuted  |
//! | possible     | active, provisional                | unknown             | —         | active, unconfirmed|
//! | historical   | inactive, confirmed                | completed           | completed | inactive, confirmed|
//! | family       | FamilyMemberHistory                | —                   | —         | —                  |
//! | hypothetical | not written                        | intended            | —         | —                  |
//!
//! Resources carry no processing timestamps, so reprocessing gives byte-identical resources and
//! the PUT entries of the second Bundle change nothing.

mod allergy;
mod codes;
mod condition;
mod document_reference;
mod family;
pub mod ids;
mod medication;
mod observation;
mod patient;
mod procedure;
mod provenance;

use std::collections::HashSet;

use paperchart_model::bundle::{Bundle, Entry, Mapped};
use paperchart_model::document::Document;
use paperchart_model::file::Kind;
use paperchart_model::findings::{Entity, EntityType, NlpOutput};
use paperchart_model::object::SourceObject;
use paperchart_model::settings::FhirSettings;
use serde_json::Value;

pub use codes::ROLE_CODE;

pub struct Mapper {
    cfg: FhirSettings,
    /// Who made the resources, for the Provenance agent.
    agent: String,
}

/// Everything the mapper reads about one document.
pub struct MapInput<'a> {
    pub object: &'a SourceObject,
    pub kind: Kind,
    pub document: &'a Document,
    pub text: &'a str,
    /// Entities with byte offsets into `text`.
    pub nlp: &'a NlpOutput,
}

/// What every clinical resource of one document shares: whose it is, where it comes from, when.
pub(crate) struct Context<'a> {
    /// The source object's identity: every id of the document derives from it.
    pub identity: &'a str,
    pub patient: &'a str,
    pub document: &'a str,
    /// The document's clinical date.
    pub date: Option<&'a str>,
}

impl Context<'_> {
    pub fn id(&self, resource_type: &str, key: &[&str]) -> String {
        ids::resource_id(self.identity, resource_type, key)
    }

    pub fn subject(&self) -> Value {
        codes::reference("Patient", self.patient)
    }

    pub fn derived_from(&self) -> Value {
        Value::Array(vec![codes::reference("DocumentReference", self.document)])
    }
}

impl Mapper {
    pub fn new(cfg: FhirSettings, agent: String) -> Mapper {
        Mapper { cfg, agent }
    }

    /// Maps one document to its transaction Bundle: Patient, DocumentReference, the clinical
    /// resources in the order of their findings, the family histories, Provenance last. Without
    /// a patient identity only the document is written, and the result says it needs review.
    pub fn map(&self, input: &MapInput) -> Mapped {
        let identity = input.object.identity.as_str();
        let doc_id = ids::document_id(identity);
        let nlp = input.nlp;
        let date = nlp.document.date.as_deref();
        let mut entries: Vec<Entry> = Vec::new();
        let patient_key = patient::key(&self.cfg, &nlp.demographics);
        let needs_review = patient_key
            .is_none()
            .then(|| "needs review: no patient identity (no MRN, and no name with a birth date)".to_string());
        let pid = patient_key.as_ref().map(ids::PatientKey::id);
        if let Some(pid) = &pid {
            entries.push(Entry {
                resource_type: "Patient",
                id: pid.clone(),
                resource: patient::resource(&self.cfg, pid, &nlp.demographics),
            });
        }
        entries.push(Entry {
            resource_type: "DocumentReference",
            id: doc_id.clone(),
            resource: document_reference::resource(&self.cfg, &doc_id, input, pid.as_deref()),
        });
        if let Some(pid) = &pid {
            let cx = Context { identity, patient: pid, document: &doc_id, date };
            let mut clinical: Vec<Entry> = nlp.entities.iter().filter_map(|e| clinical(e, &cx)).collect();
            clinical.extend(family::entries(&nlp.entities, &cx));
            // One resource per id (a finding mentioned twice is one fact), in a stable order.
            let mut seen = HashSet::new();
            clinical.retain(|e| seen.insert((e.resource_type, e.id.clone())));
            entries.extend(clinical);
        }
        let recorded = input
            .object
            .modified
            .clone()
            .or_else(|| date.map(|d| format!("{d}T00:00:00Z")))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
        let prov =
            provenance::entry(ids::resource_id(identity, "Provenance", &[]), &entries, &doc_id, &recorded, &self.agent);
        entries.push(prov);
        Mapped { bundle: Bundle { id: doc_id, entries }, needs_review }
    }
}

/// The resource a finding becomes, if it becomes one of its own.
fn clinical(e: &Entity, cx: &Context) -> Option<Entry> {
    match e.kind {
        EntityType::Condition => condition::entry(e, cx),
        EntityType::Medication => medication::entry(e, cx),
        EntityType::Test => observation::entry(e, cx),
        EntityType::Allergy => allergy::entry(e, cx),
        EntityType::Procedure => procedure::entry(e, cx),
        EntityType::Phi => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::document::{Line, Page, ReadBy};
    use paperchart_model::findings::{
        Assertion, Attrs, Code, Demographics, DocumentFacts, EntityType, SYSTEM_ICD10CM, SYSTEM_SNOMED,
    };

    fn object() -> SourceObject {
        SourceObject::from_bytes(
            "file:///x.pdf".into(),
            "x.pdf".into(),
            b"%PDF-1.4 fake".to_vec(),
            Some("2024-03-02T10:00:00Z".into()),
        )
    }

    fn entity(kind: EntityType, text: &str, codes: Vec<Code>, assertion: Assertion) -> Entity {
        Entity {
            kind,
            subtype: None,
            start: 0,
            end: text.len(),
            text: text.into(),
            codes,
            assertion,
            attrs: Attrs::default(),
            section: None,
        }
    }

    fn input_doc() -> Document {
        Document {
            pages: vec![Page {
                number: 1,
                read_by: ReadBy::Tesseract,
                lines: vec![Line::from_text("x", 90.0)],
                key_values: vec![],
                tables: vec![],
            }],
            ..Default::default()
        }
    }

    fn nlp(entities: Vec<Entity>, mrn: Option<&str>) -> NlpOutput {
        NlpOutput {
            entities,
            demographics: Demographics {
                family: Some("Doe".into()),
                given: vec!["Jane".into()],
                mrn: mrn.map(str::to_string),
                ..Default::default()
            },
            document: DocumentFacts { doc_type: None, date: Some("2024-03-01".into()) },
        }
    }

    fn map(n: &NlpOutput) -> Mapped {
        let o = object();
        let d = input_doc();
        Mapper::new(FhirSettings::default(), "paperchart test".into()).map(&MapInput {
            object: &o,
            kind: Kind::Pdf,
            document: &d,
            text: "Mother: asthma",
            nlp: n,
        })
    }

    #[test]
    fn assertions_shape_the_resources() {
        let htn = vec![
            Code::new(SYSTEM_ICD10CM, "I10", "Essential (primary) hypertension"),
            Code::new(SYSTEM_SNOMED, "38341003", "Hypertensive disorder"),
        ];
        let n = nlp(
            vec![
                entity(EntityType::Condition, "HTN", htn.clone(), Assertion::Present),
                entity(EntityType::Condition, "hypertension", htn.clone(), Assertion::Present),
                entity(EntityType::Condition, "chest pain", vec![], Assertion::Absent),
                entity(EntityType::Condition, "DVT", vec![], Assertion::Hypothetical),
                Entity {
                    attrs: Attrs { relative: Some(Code::new(codes::ROLE_CODE, "MTH", "mother")), ..Attrs::default() },
                    ..entity(EntityType::Condition, "asthma", vec![], Assertion::Family)
                },
            ],
            Some("123"),
        );
        let m = map(&n);
        assert!(m.needs_review.is_none());
        let b = &m.bundle;
        assert_eq!(b.count("Condition"), 2, "duplicates merge, hypothetical is dropped");
        assert_eq!(b.count("FamilyMemberHistory"), 1);
        let fmh = &b.entries.iter().find(|e| e.resource_type == "FamilyMemberHistory").unwrap().resource;
        assert_eq!(fmh["relationship"]["coding"][0]["code"], "MTH");
        let refuted =
            b.entries.iter().find(|e| e.resource["verificationStatus"]["coding"][0]["code"] == "refuted").unwrap();
        assert!(refuted.resource.get("clinicalStatus").is_none());
        assert_eq!(b.entries.first().unwrap().resource_type, "Patient");
        let prov = &b.entries.last().unwrap().resource;
        assert_eq!(prov["resourceType"], "Provenance");
        assert_eq!(prov["target"].as_array().unwrap().len(), b.entries.len() - 1);
        assert_eq!(prov["recorded"], "2024-03-02T10:00:00Z");
        let tx = b.to_transaction();
        assert_eq!(tx["type"], "transaction");
        assert!(tx["entry"][0]["request"]["url"].as_str().unwrap().starts_with("Patient/"));
    }

    #[test]
    fn same_input_same_bundle() {
        let n = nlp(vec![entity(EntityType::Condition, "HTN", vec![], Assertion::Present)], Some("123"));
        assert_eq!(map(&n).bundle, map(&n).bundle);
    }

    #[test]
    fn without_identity_only_the_document_is_written() {
        let mut n = nlp(vec![entity(EntityType::Condition, "HTN", vec![], Assertion::Present)], None);
        n.demographics.birth_date = None;
        let m = map(&n);
        assert!(m.needs_review.as_deref().unwrap().starts_with("needs review"));
        let types: Vec<_> = m.bundle.entries.iter().map(|e| e.resource_type).collect();
        assert_eq!(types, ["DocumentReference", "Provenance"]);
        // Name and birth date are enough.
        n.demographics.birth_date = Some("1950-01-01".into());
        assert!(map(&n).needs_review.is_none());
    }

    #[test]
    fn chunks_respect_the_entry_limit() {
        let n = nlp(
            (0..7).map(|i| entity(EntityType::Condition, &format!("c{i}"), vec![], Assertion::Present)).collect(),
            Some("1"),
        );
        let b = map(&n).bundle;
        let parts = b.chunks(4);
        assert_eq!(parts.len(), b.entries.len().div_ceil(4));
        assert!(parts.iter().all(|p| p["entry"].as_array().unwrap().len() <= 4));
    }
}
