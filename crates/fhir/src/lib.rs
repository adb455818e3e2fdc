//! FHIR R4 mapping: one document, its text and what the NLP found, to one transaction Bundle.
//!
//! One module per resource kind, as FHIR-Converter keeps a template per resource: [`patient`],
//! [`document_reference`], [`condition`], [`medication`] (MedicationStatement), [`observation`],
//! [`allergy`], [`procedure`], [`family`] (FamilyMemberHistory), [`social`] (smoking and alcohol
//! status Observations) and [`provenance`]; every id comes
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
//! Every clinical resource is marked as machine-extracted and carries its finding's confidence
//! ([`extraction`]); a finding below `fhir.min_confidence` is not written as fact (Condition and
//! AllergyIntolerance `unconfirmed`, Observation `preliminary`, or left out with `omit`) and the
//! document goes to review.
//!
//! Resources carry no processing timestamps, so reprocessing gives byte-identical resources and
//! the PUT entries of the second Bundle change nothing.

mod allergy;
mod codes;
mod condition;
mod coverage;
mod document_reference;
pub mod extraction;
mod family;
pub mod ids;
mod immunization;
mod medication;
mod observation;
mod patient;
mod procedure;
mod provenance;
mod questionnaire;
mod social;

use std::collections::HashSet;

use paperchart_model::bundle::{Bundle, Entry, Mapped, Review, ReviewReason};
use paperchart_model::class::DocumentClass;
use paperchart_model::document::Document;
use paperchart_model::file::Kind;
use paperchart_model::findings::{Entity, EntityType, NlpOutput};
use paperchart_model::object::SourceObject;
use paperchart_model::settings::{FhirSettings, LowConfidence};
use serde_json::Value;

pub use codes::ROLE_CODE;
pub use patient::{carries as patient_carries, conflict as patient_conflict, merge as merge_patient, same_named};

/// The subject of a held resource: a reviewer names the patient before it is written.
pub const UNIDENTIFIED: &str = "patient not identified: held for review";

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
    /// `None` while the document names no patient: the resources are held for review.
    pub patient: Option<&'a str>,
    pub document: &'a str,
    /// The document's clinical date.
    pub date: Option<&'a str>,
}

impl Context<'_> {
    pub fn id(&self, resource_type: &str, key: &[&str]) -> String {
        ids::resource_id(self.identity, resource_type, key)
    }

    pub fn subject(&self) -> Value {
        match self.patient {
            Some(patient) => codes::reference("Patient", patient),
            None => serde_json::json!({"display": UNIDENTIFIED}),
        }
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
        // Pages read too poorly to trust (handwriting, damage): a document read only from such
        // pages names no patient (a misread name or birth date would file it under someone
        // else), and what it holds that carries no confidence of its own is not fact.
        let pages = &input.document.pages;
        let poor: Vec<bool> = pages.iter().map(|p| p.poorly_read()).collect();
        // A poorly read region of a page read well otherwise (a handwritten note under typed
        // text) counts too: an immunization or a family history read from it is not fact either.
        let poorly_read = poor.contains(&true) || pages.iter().any(|p| !p.poorly_read_regions().is_empty());
        let all_poorly_read =
            !pages.is_empty() && pages.iter().zip(&poor).all(|(p, &poor)| poor || p.word_count() == 0);
        // A non-clinical document is about no patient, whatever names it holds.
        let patient_key = patient::key(&self.cfg, &nlp.demographics)
            .filter(|_| nlp.document.class.is_clinical())
            .filter(|_| !all_poorly_read);
        let pid = patient_key.as_ref().map(ids::PatientKey::id);
        if let Some(pid) = &pid {
            entries.push(Entry {
                resource_type: "Patient",
                id: pid.clone(),
                resource: patient::resource(&self.cfg, pid, &nlp.demographics),
            });
        }
        let document = document_reference::resource(&self.cfg, &doc_id, input, pid.as_deref());
        entries.push(Entry { resource_type: "DocumentReference", id: doc_id.clone(), resource: document.clone() });
        let cx = Context { identity, patient: pid.as_deref(), document: &doc_id, date };
        let class = nlp.document.class;
        // Each finding's resource, marked as read by a machine and with its confidence; those
        // below `fhir.min_confidence` are written as not confirmed (or, with `omit`, only held).
        let mut clinical: Vec<Entry> = Vec::new();
        let mut unsure: Vec<Entry> = Vec::new();
        for e in &nlp.entities {
            let Some(mut entry) = crate::clinical(e, &cx) else { continue };
            let low = extraction::stamp(&mut entry, e.confidence, &self.cfg);
            if low && self.cfg.low_confidence == LowConfidence::Omit {
                unsure.push(entry);
            } else {
                if low {
                    unsure.push(entry.clone());
                }
                clinical.push(entry);
            }
        }
        let mut others: Vec<Entry> = family::entries(&nlp.entities, &cx);
        others.extend(nlp.immunizations.iter().map(|f| immunization::entry(f, &cx)));
        // An intake form's questions and the answers its boxes give, as read.
        if class == DocumentClass::IntakeForm {
            others.extend(questionnaire::entry(&nlp.answers, &cx));
        }
        // Immunizations, family histories and a form's answers have no status that says "not
        // sure": from a document with a poorly read page they are only held for review.
        let unscored = poorly_read.then_some(paperchart_model::document::POORLY_READ_CONFIDENCE);
        for mut entry in others {
            if extraction::stamp(&mut entry, unscored, &self.cfg) {
                unsure.push(entry);
            } else {
                clinical.push(entry);
            }
        }
        // One resource per id (a finding mentioned twice is one fact), in a stable order.
        let mut seen = HashSet::new();
        clinical.retain(|e| seen.insert((e.resource_type, e.id.clone())));
        let mut seen_unsure = HashSet::new();
        unsure.retain(|e| seen_unsure.insert((e.resource_type, e.id.clone())));
        // What a card says of the patient's insurance: filed with them, not a clinical fact.
        let coverage = nlp.coverage.as_ref().and_then(|c| coverage::entry(&self.cfg, c, &cx));
        let expects_clinical = class.is_clinical() && class != DocumentClass::InsuranceCard;
        let (needs_review, review) = if !class.is_clinical() {
            // A bank statement or an invoice: the document is kept, nothing is filed under anyone.
            (None, None)
        } else if pid.is_some() && clinical.is_empty() && unsure.is_empty() && expects_clinical {
            // Filed under its patient, yet nothing clinical was read: a kind of document paperchart
            // cannot read yet (a vaccination card), or a reading failure. A person looks.
            let candidate = entries[0].resource.clone();
            entries.extend(coverage);
            let review = held(input, &doc_id, ReviewReason::NothingRead, document, candidate, clinical);
            (Some("needs review: nothing clinical was read from it".to_string()), Some(review))
        } else if let (Some(_), n @ 1..) = (&pid, withheld_answers(nlp)) {
            // Filed, but findings inside questions whose boxes could not be read were withheld:
            // they wait for a person with the rest of what was read.
            let candidate = entries[0].resource.clone();
            // What was written and what was only held (low confidence, `omit`): all of it waits.
            let mut held_resources = clinical.clone();
            held_resources.extend(only_held(&unsure, &clinical));
            entries.extend(clinical);
            entries.extend(coverage);
            let review = held(input, &doc_id, ReviewReason::Unanswered, document, candidate, held_resources);
            (
                Some(format!("needs review: {n} question(s) with findings have no answer that could be read")),
                Some(review),
            )
        } else if pid.is_some() && !unsure.is_empty() {
            // Filed, but some findings were read with low confidence: a person confirms them.
            let candidate = entries[0].resource.clone();
            let n = unsure.len();
            entries.extend(clinical);
            entries.extend(coverage);
            let review = held(input, &doc_id, ReviewReason::LowConfidence, document, candidate, unsure);
            let written = if self.cfg.low_confidence == LowConfidence::Omit { "held" } else { "written unconfirmed" };
            (Some(format!("needs review: {n} finding(s) read with low confidence, {written}")), Some(review))
        } else if pid.is_some() {
            entries.extend(clinical);
            entries.extend(coverage);
            (None, None)
        } else {
            // Everything read waits for the reviewer, what was only held (`omit`) too.
            let held_back = only_held(&unsure, &clinical);
            clinical.extend(held_back);
            clinical.extend(coverage);
            // The patient as far as the document names one, as the Patient resource it would be
            // (its id from the document: a reviewer matches it to the real patient).
            let candidate =
                patient::resource(&self.cfg, &ids::resource_id(identity, "Patient", &["candidate"]), &nlp.demographics);
            let review = held(input, &doc_id, ReviewReason::NoIdentity, document, candidate, clinical);
            let reason = format!(
                "needs review: no patient identity (no MRN, no name with a birth date or a member id); {} finding(s) held for review",
                review.held()
            );
            (Some(reason), Some(review))
        };
        let recorded = input
            .object
            .modified
            .clone()
            .filter(|_| !self.cfg.deidentify)
            .or_else(|| date.map(|d| format!("{d}T00:00:00Z")))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
        let prov =
            provenance::entry(ids::resource_id(identity, "Provenance", &[]), &entries, &doc_id, &recorded, &self.agent);
        entries.push(prov);
        let mut review = review;
        if self.cfg.deidentify {
            for e in entries.iter_mut() {
                extraction::pseudonymized(&mut e.resource);
            }
            // The review object names the document by its id alone, like the DocumentReference.
            if let Some(r) = review.as_mut() {
                r.document["name"] = serde_json::json!(format!("Document {doc_id}"));
                r.document["uri"] = Value::Null;
                for res in r.resources.iter_mut() {
                    extraction::pseudonymized(res);
                }
            }
        }
        Mapped { bundle: Bundle { id: doc_id, entries }, needs_review, review }
    }
}

/// The low-confidence resources `omit` kept out of `written`: a review holds them too.
fn only_held(unsure: &[Entry], written: &[Entry]) -> Vec<Entry> {
    unsure.iter().filter(|u| !written.iter().any(|c| c.id == u.id)).cloned().collect()
}

/// Questions of a form with a finding in them whose boxes could not be read: their findings were
/// withheld. (A question left blank asserts nothing and needs no one.)
fn withheld_answers(nlp: &NlpOutput) -> usize {
    nlp.answers
        .iter()
        .filter(|a| a.unread)
        .filter(|a| nlp.entities.iter().any(|e| e.kind != EntityType::Phi && a.start <= e.start && e.end <= a.end))
        .count()
}

/// What a document without a patient keeps for review: every finding but the identity's own PHI,
/// and the resources they would be.
fn held(
    input: &MapInput,
    doc_id: &str,
    reason: ReviewReason,
    document: Value,
    candidate: Value,
    resources: Vec<Entry>,
) -> Review {
    let mut chars = CharCount::new(input.text);
    let findings = input
        .nlp
        .entities
        .iter()
        .filter(|e| e.kind != EntityType::Phi)
        .map(|e| {
            let mut v = serde_json::to_value(e).expect("entities serialise");
            v["start"] = chars.at(e.start).into();
            v["end"] = chars.at(e.end).into();
            v
        })
        .collect();
    Review {
        document_id: doc_id.to_string(),
        reason,
        document: serde_json::json!({
            "name": input.object.name, "uri": input.object.uri, "DocumentReference": document
        }),
        candidate,
        findings,
        resources: resources.into_iter().map(|e| e.resource).collect(),
    }
}

/// Byte offsets to character offsets, walking forward (entities come mostly in text order).
struct CharCount<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCount<'a> {
    fn new(text: &'a str) -> Self {
        CharCount { text, byte: 0, chars: 0 }
    }

    fn at(&mut self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        if byte < self.byte {
            (self.byte, self.chars) = (0, 0);
        }
        self.chars += self.text.get(self.byte..byte).map_or(0, |s| s.chars().count());
        self.byte = byte;
        self.chars
    }
}

/// The resource a finding becomes, if it becomes one of its own.
fn clinical(e: &Entity, cx: &Context) -> Option<Entry> {
    match e.kind {
        EntityType::Condition if social::is_social(e) => social::entry(e, cx),
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
            confidence: None,
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
                text_layer_rejected: false,
                prepared: Vec::new(),
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
            document: DocumentFacts { date: Some("2024-03-01".into()), ..Default::default() },
            ..NlpOutput::default()
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
    fn a_poorly_read_document_names_no_patient_and_its_unscored_facts_are_only_held() {
        use paperchart_model::document::Word;
        let scrawl = |number| Page {
            number,
            read_by: ReadBy::Tesseract,
            lines: vec![Line::from_words(vec![
                Word { text: "Jnae".into(), bbox: None, confidence: 21.0, handwritten: false },
                Word { text: "Deo".into(), bbox: None, confidence: 30.0, handwritten: false },
            ])],
            key_values: vec![],
            tables: vec![],
            text_layer_rejected: false,
            prepared: Vec::new(),
        };
        let family = Entity {
            attrs: Attrs { relative: Some(Code::new(codes::ROLE_CODE, "MTH", "mother")), ..Attrs::default() },
            ..entity(EntityType::Condition, "asthma", vec![], Assertion::Family)
        };
        let n = nlp(vec![family], Some("123"));
        let o = object();
        let mapper = Mapper::new(FhirSettings::default(), "paperchart test".into());
        let mapped = |d: &Document| {
            mapper.map(&MapInput { object: &o, kind: Kind::Pdf, document: d, text: "Mother: asthma", nlp: &n })
        };
        // Every page a scrawl: no Patient from a misread name; the finding waits for a person.
        let only = Document { pages: vec![scrawl(1)], ..Default::default() };
        let m = mapped(&only);
        assert_eq!((m.bundle.count("Patient"), m.bundle.count("FamilyMemberHistory")), (0, 0));
        assert!(m.needs_review.as_deref().unwrap().contains("no patient identity"));
        assert_eq!(m.review.expect("held").resources.len(), 1, "held, not dropped");
        // One good page and one scrawl: filed under the patient, the family history only held.
        let mut both = input_doc();
        both.pages.push(scrawl(2));
        let m = mapped(&both);
        assert_eq!((m.bundle.count("Patient"), m.bundle.count("FamilyMemberHistory")), (1, 0));
        let review = m.review.expect("held");
        assert_eq!(review.resources.len(), 1);
        assert!(m.needs_review.unwrap().contains("low confidence"));
        // A document read well writes it.
        assert_eq!(mapped(&input_doc()).bundle.count("FamilyMemberHistory"), 1);
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
    fn without_identity_only_the_document_is_written_and_the_findings_are_held() {
        let mut n = nlp(
            vec![
                entity(EntityType::Condition, "HTN", vec![], Assertion::Absent),
                entity(EntityType::Phi, "Jane Doe", vec![], Assertion::Present),
                Entity { start: 8, end: 14, ..entity(EntityType::Condition, "asthma", vec![], Assertion::Family) },
            ],
            None,
        );
        n.demographics.birth_date = None;
        let m = map(&n);
        assert!(m.needs_review.as_deref().unwrap().starts_with("needs review"));
        let types: Vec<_> = m.bundle.entries.iter().map(|e| e.resource_type).collect();
        assert_eq!(types, ["DocumentReference", "Provenance"]);
        let review = m.review.expect("the findings are held").to_json();
        assert_eq!(review["reason"], "no_identity");
        assert_eq!(review["candidate_identity"]["resourceType"], "Patient");
        assert_eq!(review["candidate_identity"]["name"][0]["family"], "Doe");
        let findings = review["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2, "every finding but the identity's PHI: {findings:?}");
        assert_eq!(findings[0]["assertion"], "absent");
        assert_eq!((findings[1]["start"].as_u64(), findings[1]["end"].as_u64()), (Some(8), Some(14)));
        let resources = review["resources"].as_array().unwrap();
        let kinds: Vec<&str> = resources.iter().map(|r| r["resourceType"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Condition", "FamilyMemberHistory"]);
        assert_eq!(resources[0]["subject"]["display"], UNIDENTIFIED);
        assert_eq!(resources[0]["verificationStatus"]["coding"][0]["code"], "refuted");
        assert_eq!(resources[1]["patient"]["display"], UNIDENTIFIED);
        assert_eq!(review["document"]["DocumentReference"]["resourceType"], "DocumentReference");
        // Name and birth date are enough: the findings are written, nothing is held.
        n.demographics.birth_date = Some("1950-01-01".into());
        let m = map(&n);
        assert!(m.needs_review.is_none() && m.review.is_none());
        assert_eq!(m.bundle.count("Condition"), 1);
    }

    #[test]
    fn a_discontinued_or_held_drug_is_not_active() {
        let mut stopped = entity(EntityType::Medication, "lisinopril", vec![], Assertion::Present);
        stopped.attrs.status = Some("stopped".into());
        let mut held = entity(EntityType::Medication, "warfarin", vec![], Assertion::Present);
        held.attrs.status = Some("on-hold".into());
        let mut denied = entity(EntityType::Medication, "aspirin", vec![], Assertion::Absent);
        denied.attrs.status = Some("stopped".into());
        let m = map(&nlp(vec![stopped, held, denied], Some("1")));
        let status = |text: &str| {
            m.bundle
                .entries
                .iter()
                .find(|e| e.resource["medicationCodeableConcept"]["text"] == text)
                .map(|e| e.resource["status"].clone())
                .unwrap_or_else(|| panic!("{text}"))
        };
        assert_eq!(status("lisinopril"), "stopped");
        assert_eq!(status("warfarin"), "on-hold");
        assert_eq!(status("aspirin"), "not-taken", "not taken stays not taken");
    }

    #[test]
    fn findings_read_with_low_confidence_are_not_written_as_fact() {
        let mut sure = entity(EntityType::Condition, "asthma", vec![], Assertion::Present);
        sure.confidence = Some(0.88);
        let mut unsure = entity(EntityType::Condition, "gout", vec![], Assertion::Present);
        unsure.confidence = Some(0.31);
        let n = nlp(vec![sure, unsure], Some("1"));
        let m = map(&n);
        let conditions: Vec<&Value> =
            m.bundle.entries.iter().filter(|e| e.resource_type == "Condition").map(|e| &e.resource).collect();
        let status = |text: &str| {
            let c = conditions.iter().find(|c| c["code"]["text"] == text).unwrap_or_else(|| panic!("{text}"));
            (c["verificationStatus"]["coding"][0]["code"].clone(), c["extension"][0]["valueDecimal"].clone())
        };
        assert_eq!(status("asthma"), (serde_json::json!("confirmed"), serde_json::json!(0.88)));
        assert_eq!(status("gout"), (serde_json::json!("unconfirmed"), serde_json::json!(0.31)));
        assert!(conditions.iter().all(|c| c["meta"]["security"][0]["code"] == "AIAST"));
        assert!(m.needs_review.as_deref().unwrap().contains("1 finding(s) read with low confidence"));
        let review = m.review.expect("a person confirms it").to_json();
        assert_eq!(review["reason"], "low_confidence");

        // With `omit`, the unsure finding stays out of the record and waits in the review.
        let cfg = FhirSettings { low_confidence: LowConfidence::Omit, ..FhirSettings::default() };
        let (o, d) = (object(), input_doc());
        let m = Mapper::new(cfg, "paperchart test".into()).map(&MapInput {
            object: &o,
            kind: Kind::Pdf,
            document: &d,
            text: "asthma gout",
            nlp: &n,
        });
        let filed: Vec<_> = m.bundle.entries.iter().filter(|e| e.resource_type == "Condition").collect();
        assert_eq!(filed.len(), 1);
        assert_eq!(m.review.expect("held").resources.len(), 1);
    }

    #[test]
    fn a_patient_document_with_nothing_clinical_is_written_and_held() {
        let n = nlp(vec![entity(EntityType::Phi, "Jane Doe", vec![], Assertion::Present)], Some("55501234"));
        let m = map(&n);
        assert!(m.needs_review.as_deref().unwrap().contains("nothing clinical"), "{:?}", m.needs_review);
        let types: Vec<_> = m.bundle.entries.iter().map(|e| e.resource_type).collect();
        assert_eq!(types, ["Patient", "DocumentReference", "Provenance"], "still filed under its patient");
        let review = m.review.expect("held for a person").to_json();
        assert_eq!(review["reason"], "nothing_read");
        assert_eq!(review["candidate_identity"]["resourceType"], "Patient");
    }

    #[test]
    fn the_class_decides_the_document_type_and_category() {
        let mut n = nlp(vec![entity(EntityType::Condition, "HTN", vec![], Assertion::Present)], Some("1"));
        n.document.class = DocumentClass::LabReport;
        let m = map(&n);
        let doc = &m.bundle.entries.iter().find(|e| e.resource_type == "DocumentReference").unwrap().resource;
        assert_eq!(doc["type"]["coding"][0]["code"], "11502-2");
        assert_eq!(doc["category"][0]["coding"][0]["system"], paperchart_model::class::SYSTEM_DOCUMENT_CLASS);
        assert_eq!(doc["category"][0]["coding"][0]["code"], "lab_report");
        // A title's more exact type wins over the class's.
        n.document.doc_type = Some(Code::new(paperchart_model::findings::SYSTEM_LOINC, "18842-5", "Discharge summary"));
        let m = map(&n);
        let doc = &m.bundle.entries.iter().find(|e| e.resource_type == "DocumentReference").unwrap().resource;
        assert_eq!(doc["type"]["coding"][0]["code"], "18842-5");
    }

    #[test]
    fn a_non_clinical_document_is_kept_and_files_nothing() {
        let mut n = nlp(vec![entity(EntityType::Condition, "toxoplasmosis", vec![], Assertion::Present)], Some("1"));
        n.document.class = DocumentClass::NonClinical;
        let m = map(&n);
        let types: Vec<_> = m.bundle.entries.iter().map(|e| e.resource_type).collect();
        assert_eq!(types, ["DocumentReference", "Provenance"], "no Patient, no clinical resource");
        assert!(m.needs_review.is_none() && m.review.is_none());
        assert!(m.bundle.entries[0].resource.get("subject").is_none());
    }

    #[test]
    fn cards_give_coverage_and_records_give_immunizations() {
        let mut n = nlp(vec![], None);
        n.demographics.member_id = Some("W-1234".into());
        n.document.class = DocumentClass::InsuranceCard;
        n.coverage = Some(paperchart_model::findings::CoverageFact {
            member_id: Some("W-1234".into()),
            group: Some("G7".into()),
            rx_bin: Some("610014".into()),
            payer_id: Some("87726".into()),
            ..Default::default()
        });
        let m = map(&n);
        assert!(m.needs_review.is_none(), "a card with a member is filed: {:?}", m.needs_review);
        let patient = &m.bundle.entries[0].resource;
        assert_eq!(patient["identifier"][0]["type"]["coding"][0]["code"], "MB");
        let cov = &m.bundle.entries.iter().find(|e| e.resource_type == "Coverage").expect("a Coverage").resource;
        assert_eq!(cov["subscriberId"], "W-1234");
        assert_eq!(cov["beneficiary"]["reference"], format!("Patient/{}", m.bundle.entries[0].id));
        assert_eq!(cov["class"][0]["type"]["coding"][0]["code"], "group");
        assert_eq!(cov["payor"][0]["display"], "Payer ID 87726");

        let mut n = nlp(vec![], Some("55501234"));
        n.demographics.add_id(paperchart_model::findings::IdKind::Account, "K4471-2");
        n.demographics.add_id(paperchart_model::findings::IdKind::MedicalRecord, "NARH-36640");
        let patient = map(&n).bundle.entries[0].resource.clone();
        let ids: Vec<(&str, &str, bool)> = patient["identifier"]
            .as_array()
            .expect("identifiers")
            .iter()
            .map(|i| {
                (
                    i["type"]["coding"][0]["code"].as_str().unwrap(),
                    i["value"].as_str().unwrap(),
                    i.get("system").is_some(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [("MR", "55501234", true), ("AN", "K4471-2", false), ("MR", "NARH-36640", false)],
            "the key's MRN with its system; the others typed, with no system the document did not give"
        );
        n.document.class = DocumentClass::ImmunizationRecord;
        n.immunizations = vec![paperchart_model::findings::ImmunizationFact {
            vaccine: "Pfizer".into(),
            code: Some(Code::new(paperchart_model::findings::SYSTEM_CVX, "208", "COVID-19, mRNA")),
            date: Some("2021-01-18".into()),
            lot: Some("AA1234".into()),
            dose_number: Some(1),
            ..Default::default()
        }];
        let m = map(&n);
        let imm =
            &m.bundle.entries.iter().find(|e| e.resource_type == "Immunization").expect("an Immunization").resource;
        assert_eq!(
            (imm["occurrenceDateTime"].as_str(), imm["lotNumber"].as_str()),
            (Some("2021-01-18"), Some("AA1234"))
        );
        assert_eq!(imm["vaccineCode"]["coding"][0]["code"], "208");
        assert_eq!(imm["protocolApplied"][0]["doseNumberPositiveInt"], 1);
        // A record with no legible dose is held: something was expected and nothing was read.
        n.immunizations.clear();
        assert!(map(&n).review.is_some());
    }

    #[test]
    fn an_intake_form_gives_its_questions_and_answers() {
        let mut n = nlp(vec![], Some("1"));
        n.document.class = DocumentClass::IntakeForm;
        let answer = |q: &str, a| paperchart_model::findings::Answer {
            question: q.into(),
            answer: a,
            unread: a.is_none(),
            start: 0,
            end: 1,
        };
        n.answers = vec![answer("Diabetes", Some(false)), answer("Asthma", Some(true)), answer("Seizures", None)];
        let m = map(&n);
        let qr =
            &m.bundle.entries.iter().find(|e| e.resource_type == "QuestionnaireResponse").expect("a response").resource;
        assert_eq!(qr["status"], "completed");
        assert_eq!(qr["item"][0]["text"], "Diabetes");
        assert_eq!(qr["item"][0]["answer"][0]["valueBoolean"], false);
        assert_eq!(qr["item"][1]["answer"][0]["valueBoolean"], true);
        assert!(qr["item"][2].get("answer").is_none(), "a blank question has no answer");
        assert_eq!(qr["authored"], "2024-03-01");
        // A question whose boxes could not be read, with a finding in it: filed and also held.
        n.entities = vec![Entity {
            start: 0,
            end: 1,
            ..entity(EntityType::Condition, "Seizures", vec![], Assertion::Hypothetical)
        }];
        let m = map(&n);
        assert_eq!(m.review.expect("held").to_json()["reason"], "unanswered");
        assert!(m.needs_review.unwrap().contains("1 question(s)"));
        assert_eq!(m.bundle.count("QuestionnaireResponse"), 1, "and still written");
        n.entities.clear();
        // Not an intake form: its boxes answer findings, but no questionnaire is written.
        n.document.class = DocumentClass::ClinicalNote;
        assert_eq!(map(&n).bundle.count("QuestionnaireResponse"), 0);
    }

    #[test]
    fn character_offsets_from_byte_offsets() {
        let mut c = CharCount::new("Café — asthma");
        assert_eq!(c.at(0), 0);
        assert_eq!(c.at(5), 4, "é is two bytes");
        assert_eq!(c.at(16), 13);
        assert_eq!(c.at(9), 6, "going back starts over");
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
