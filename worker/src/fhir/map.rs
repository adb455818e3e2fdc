//! From a read document and its entities to FHIR R4 resources.
//!
//! How each finding's assertion is written:
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
//! Resources carry no processing timestamps: the Provenance is recorded at the source object's
//! modification time, so reprocessing gives byte-identical resources.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::ids::{derive, PatientKey};
use super::{Bundle, Entry};
use crate::config::FhirConfig;
use crate::decode::Kind;
use crate::model::{Document, ReadBy};
use crate::nlp::{Assertion, Code, Entity, EntityType, Gender, NlpOutput, SectionKind, Subtype, SYSTEM_UCUM};
use crate::source::SourceObject;

const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_VER: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
const ALLERGY_VER: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const OBS_INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
const GTS: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

pub struct Mapper {
    cfg: FhirConfig,
    /// Who made the resources, for the Provenance agent.
    agent: String,
}

/// What mapping produced.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub bundle: Bundle,
    /// Set when the document names no patient well enough to file facts under one.
    pub needs_review: Option<String>,
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

fn coding(c: &Code) -> Value {
    json!({"system": c.system, "code": c.code, "display": c.display})
}

fn concept(codes: &[Code], text: &str) -> Value {
    let mut v = Map::new();
    if !codes.is_empty() {
        v.insert("coding".into(), Value::Array(codes.iter().map(coding).collect()));
    }
    v.insert("text".into(), Value::String(text.to_string()));
    Value::Object(v)
}

fn simple(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": SYSTEM_UCUM, "code": unit})
}

fn reference(resource_type: &str, id: &str) -> Value {
    json!({"reference": format!("{resource_type}/{id}")})
}

/// A canonical key for a finding: its first code, or its words.
fn key_of(e: &Entity) -> String {
    match e.codes.first() {
        Some(c) => format!("{}|{}", c.system, c.code),
        None => e.text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
    }
}

/// The relative a family-history finding belongs to: the nearest relative named before it on its
/// line ("Father - diabetes; Mother - hypertension"), else after it ("cancer in her mother").
fn relationship(text: &str, e: &Entity) -> (&'static str, &'static str) {
    let start = text[..e.start].rfind('\n').map_or(0, |p| p + 1);
    let end = text[e.end..].find('\n').map_or(text.len(), |p| e.end + p);
    let words =
        |s: &str| s.to_lowercase().split(|c: char| !c.is_alphanumeric()).map(str::to_string).collect::<Vec<_>>();
    let before = words(&text[start..e.start]);
    let after = words(&text[e.end..end]);
    const RELATIVES: &[(&str, &str, &str)] = &[
        ("mother", "MTH", "mother"),
        ("mom", "MTH", "mother"),
        ("father", "FTH", "father"),
        ("dad", "FTH", "father"),
        ("sister", "SIS", "sister"),
        ("brother", "BRO", "brother"),
        ("son", "SONC", "son"),
        ("daughter", "DAUC", "daughter"),
        ("grandmother", "GRMTH", "grandmother"),
        ("grandfather", "GRFTH", "grandfather"),
        ("aunt", "AUNT", "aunt"),
        ("uncle", "UNCLE", "uncle"),
        ("cousin", "COUSN", "cousin"),
        ("sibling", "SIB", "sibling"),
        ("siblings", "SIB", "sibling"),
        ("parent", "PRN", "parent"),
        ("parents", "PRN", "parent"),
    ];
    let lookup = |w: &String| RELATIVES.iter().find(|(r, _, _)| r == w).map(|(_, c, d)| (*c, *d));
    before
        .iter()
        .rev()
        .find_map(lookup)
        .or_else(|| after.iter().find_map(lookup))
        .unwrap_or(("FAMMEMB", "family member"))
}

impl Mapper {
    pub fn new(cfg: FhirConfig, agent: String) -> Mapper {
        Mapper { cfg, agent }
    }

    /// Who the document is about, if it says well enough.
    fn patient_key(&self, nlp: &NlpOutput) -> Option<PatientKey> {
        let d = &nlp.demographics;
        if let Some(mrn) = &d.mrn {
            return Some(PatientKey::Mrn { system: self.cfg.mrn_system.clone(), value: mrn.clone() });
        }
        match (&d.family, &d.birth_date) {
            (Some(family), Some(birth_date)) => Some(PatientKey::NameBirthDate {
                family: family.clone(),
                given: d.given.join(" "),
                birth_date: birth_date.clone(),
            }),
            _ => None,
        }
    }

    fn patient(&self, id: &str, nlp: &NlpOutput) -> Value {
        let d = &nlp.demographics;
        let mut p = Map::new();
        p.insert("resourceType".into(), json!("Patient"));
        p.insert("id".into(), json!(id));
        if let Some(mrn) = &d.mrn {
            p.insert(
                "identifier".into(),
                json!([{
                    "use": "usual",
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
                    "system": self.cfg.mrn_system,
                    "value": mrn
                }]),
            );
        }
        if let Some(family) = &d.family {
            let mut name = json!({"use": "official", "family": family});
            if !d.given.is_empty() {
                name["given"] = json!(d.given);
            }
            p.insert("name".into(), json!([name]));
        }
        let mut telecom = Vec::new();
        if let Some(phone) = &d.phone {
            telecom.push(json!({"system": "phone", "value": phone, "use": "home"}));
        }
        if let Some(email) = &d.email {
            telecom.push(json!({"system": "email", "value": email}));
        }
        if !telecom.is_empty() {
            p.insert("telecom".into(), Value::Array(telecom));
        }
        if let Some(g) = d.gender {
            let g = match g {
                Gender::Male => "male",
                Gender::Female => "female",
                Gender::Other => "other",
                Gender::Unknown => "unknown",
            };
            p.insert("gender".into(), json!(g));
        }
        if let Some(b) = &d.birth_date {
            p.insert("birthDate".into(), json!(b));
        }
        if let Some(a) = &d.address {
            let mut addr = Map::new();
            addr.insert("use".into(), json!("home"));
            addr.insert("text".into(), json!(a.text));
            if !a.line.is_empty() {
                addr.insert("line".into(), json!(a.line));
            }
            for (k, v) in [("city", &a.city), ("state", &a.state), ("postalCode", &a.postal_code)] {
                if let Some(v) = v {
                    addr.insert(k.into(), json!(v));
                }
            }
            p.insert("address".into(), json!([Value::Object(addr)]));
        }
        Value::Object(p)
    }

    fn document_reference(&self, id: &str, input: &MapInput, subject: Option<&str>) -> Value {
        let o = input.object;
        let b64 = base64::engine::general_purpose::STANDARD;
        let doc = input.document;
        let (text_pages, ocr_pages) =
            (doc.pages_read_by(ReadBy::TextLayer), doc.pages.len() - doc.pages_read_by(ReadBy::TextLayer));
        let mut r = json!({
            "resourceType": "DocumentReference",
            "id": id,
            "identifier": [{"system": self.cfg.document_system, "value": o.identity}],
            "status": "current",
            "docStatus": "final",
            "type": match &input.nlp.document.doc_type {
                Some(code) => concept(std::slice::from_ref(code), &code.display),
                None => json!({"text": "Scanned clinical document"}),
            },
            "description": format!("{} ({} pages: {text_pages} from the text layer, {ocr_pages} by OCR)", o.name, doc.pages.len()),
            "content": [{"attachment": {
                "contentType": input.kind.mime(),
                "url": o.uri,
                "size": o.size,
                "title": o.name
            }}]
        });
        if let Some(sha1) = o.sha1 {
            r["content"][0]["attachment"]["hash"] = json!(b64.encode(sha1));
        }
        if let Some(s) = subject {
            r["subject"] = reference("Patient", s);
        }
        if let Some(m) = &o.modified {
            r["date"] = json!(m);
        }
        if self.cfg.include_text {
            r["content"].as_array_mut().expect("array").push(json!({"attachment": {
                "contentType": "text/plain",
                "language": "en",
                "data": b64.encode(input.text.as_bytes()),
                "size": input.text.len(),
                "title": "Extracted text"
            }}));
        }
        if let Some(date) = &input.nlp.document.date {
            r["context"] = json!({"period": {"start": date}});
        }
        r
    }

    /// Maps one document to its transaction Bundle.
    pub fn map(&self, input: &MapInput) -> Mapped {
        let doc_key = input.object.identity.as_str();
        let doc_id = derive(&[doc_key, "DocumentReference"]);
        let nlp = input.nlp;
        let date = nlp.document.date.clone();
        let mut entries: Vec<Entry> = Vec::new();
        let patient_key = self.patient_key(nlp);
        let needs_review = patient_key
            .is_none()
            .then(|| "needs review: no patient identity (no MRN, and no name with a birth date)".to_string());
        let pid = patient_key.as_ref().map(PatientKey::id);
        if let Some(pid) = &pid {
            entries.push(Entry { resource_type: "Patient", id: pid.clone(), resource: self.patient(pid, nlp) });
        }
        entries.push(Entry {
            resource_type: "DocumentReference",
            id: doc_id.clone(),
            resource: self.document_reference(&doc_id, input, pid.as_deref()),
        });

        if let Some(pid) = &pid {
            let mut clinical: Vec<Entry> = Vec::new();
            let mut family: BTreeMap<(&'static str, &'static str), Vec<Value>> = BTreeMap::new();
            for e in &nlp.entities {
                if let Some(entry) = self.clinical(e, input, pid, &doc_id, doc_key, date.as_deref(), &mut family) {
                    clinical.push(entry);
                }
            }
            for ((code, display), conditions) in family {
                let id = derive(&[doc_key, "FamilyMemberHistory", code]);
                let mut seen = HashSet::new();
                let conditions: Vec<Value> = conditions.into_iter().filter(|c| seen.insert(c.to_string())).collect();
                clinical.push(Entry {
                    resource_type: "FamilyMemberHistory",
                    id: id.clone(),
                    resource: json!({
                        "resourceType": "FamilyMemberHistory",
                        "id": id,
                        "status": "completed",
                        "patient": reference("Patient", pid),
                        "relationship": {"coding": [{"system": ROLE_CODE, "code": code, "display": display}], "text": display},
                        "condition": conditions
                    }),
                });
            }
            // One resource per id (a finding mentioned twice is one fact), in a stable order.
            let mut seen = HashSet::new();
            clinical.retain(|e| seen.insert((e.resource_type, e.id.clone())));
            entries.extend(clinical);
        }

        let prov_id = derive(&[doc_key, "Provenance"]);
        let targets: Vec<Value> = entries.iter().map(|e| reference(e.resource_type, &e.id)).collect();
        let recorded = input
            .object
            .modified
            .clone()
            .or_else(|| date.as_ref().map(|d| format!("{d}T00:00:00Z")))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
        entries.push(Entry {
            resource_type: "Provenance",
            id: prov_id.clone(),
            resource: json!({
                "resourceType": "Provenance",
                "id": prov_id,
                "target": targets,
                "recorded": recorded,
                "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"}]},
                "agent": [{
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "assembler", "display": "Assembler"}]},
                    "who": {"display": self.agent}
                }],
                "entity": [{"role": "source", "what": reference("DocumentReference", &doc_id)}]
            }),
        });
        Mapped { bundle: Bundle { id: doc_id, entries }, needs_review }
    }

    #[allow(clippy::too_many_arguments)]
    fn clinical(
        &self,
        e: &Entity,
        input: &MapInput,
        pid: &str,
        doc_id: &str,
        doc_key: &str,
        date: Option<&str>,
        family: &mut BTreeMap<(&'static str, &'static str), Vec<Value>>,
    ) -> Option<Entry> {
        let subject = reference("Patient", pid);
        let derived = json!([reference("DocumentReference", doc_id)]);
        let a = e.assertion;
        match e.kind {
            EntityType::Condition => {
                if a == Assertion::Family {
                    family
                        .entry(relationship(input.text, e))
                        .or_default()
                        .push(json!({"code": concept(&e.codes, &e.text)}));
                    return None;
                }
                if a == Assertion::Hypothetical {
                    return None;
                }
                let id = derive(&[doc_key, "Condition", &key_of(e), a.as_str()]);
                let problem_list =
                    matches!(e.section, Some(SectionKind::ProblemList | SectionKind::PastMedicalHistory));
                let category =
                    if problem_list && a != Assertion::Absent { "problem-list-item" } else { "encounter-diagnosis" };
                let (clinical, verification) = match a {
                    Assertion::Absent => (None, "refuted"),
                    Assertion::Possible => (Some("active"), "provisional"),
                    Assertion::Historical => (Some("inactive"), "confirmed"),
                    _ => (Some("active"), "confirmed"),
                };
                let mut r = json!({
                    "resourceType": "Condition",
                    "id": id,
                    "verificationStatus": simple(CONDITION_VER, verification),
                    "category": [simple(CONDITION_CATEGORY, category)],
                    "code": concept(&e.codes, &e.text),
                    "subject": subject,
                });
                if let Some(c) = clinical {
                    r["clinicalStatus"] = simple(CONDITION_CLINICAL, c);
                }
                if let Some(d) = date {
                    r["recordedDate"] = json!(d);
                }
                Some(Entry { resource_type: "Condition", id, resource: r })
            }
            EntityType::Medication => {
                let status = match a {
                    Assertion::Absent => "not-taken",
                    Assertion::Historical => "completed",
                    Assertion::Possible => "unknown",
                    Assertion::Hypothetical => "intended",
                    Assertion::Family => return None,
                    Assertion::Present => "active",
                };
                let at = &e.attrs;
                let id = derive(&[
                    doc_key,
                    "MedicationStatement",
                    &key_of(e),
                    at.strength.as_deref().unwrap_or(""),
                    at.frequency.as_deref().unwrap_or(""),
                    status,
                ]);
                let mut dosage = Map::new();
                let parts: Vec<&str> = [
                    at.strength.as_deref(),
                    at.dose.as_deref().filter(|d| Some(*d) != at.strength.as_deref()),
                    at.route.as_deref(),
                    at.frequency.as_deref(),
                    at.prn.then_some("as needed"),
                    at.duration.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !parts.is_empty() {
                    dosage.insert("text".into(), json!(parts.join(" ")));
                }
                if let Some(t) = &at.timing {
                    let mut repeat = json!({"frequency": t.frequency, "period": t.period, "periodUnit": t.period_unit});
                    if let Some(w) = &t.when {
                        repeat["when"] = json!([w]);
                    }
                    let mut timing = json!({"repeat": repeat});
                    timing["code"] = match &t.code {
                        Some(c) => json!({"coding": [{"system": GTS, "code": c}], "text": t.text}),
                        None => json!({"text": t.text}),
                    };
                    dosage.insert("timing".into(), timing);
                }
                if at.prn {
                    dosage.insert("asNeededBoolean".into(), json!(true));
                }
                if let Some(route) = &at.route {
                    dosage.insert("route".into(), concept(at.route_code.as_slice(), route));
                }
                let dose = at.dose_quantity.clone().or_else(|| {
                    let s = at.strength.as_deref()?;
                    let (v, u) = s.split_once(' ')?;
                    let unit = match u {
                        "mg" | "mcg" | "g" | "meq" => u.to_string(),
                        "ml" => "mL".to_string(),
                        "unit" | "units" | "iu" => "[iU]".to_string(),
                        _ => return None,
                    };
                    Some((v.parse().ok()?, unit))
                });
                if let Some((v, u)) = dose {
                    dosage.insert("doseAndRate".into(), json!([{"doseQuantity": quantity(v, &u)}]));
                }
                let mut r = json!({
                    "resourceType": "MedicationStatement",
                    "id": id,
                    "status": status,
                    "medicationCodeableConcept": concept(&e.codes, &e.text),
                    "subject": subject,
                    "derivedFrom": derived,
                });
                if !dosage.is_empty() {
                    r["dosage"] = json!([Value::Object(dosage)]);
                }
                if let Some(d) = date {
                    r["dateAsserted"] = json!(d);
                }
                Some(Entry { resource_type: "MedicationStatement", id, resource: r })
            }
            EntityType::Test => {
                if !matches!(a, Assertion::Present | Assertion::Historical) {
                    return None;
                }
                let at = &e.attrs;
                let value_key = format!(
                    "{:?}|{:?}|{:?}",
                    at.value,
                    at.unit,
                    at.components.iter().map(|c| c.value).collect::<Vec<_>>()
                );
                let id = derive(&[doc_key, "Observation", &key_of(e), &value_key]);
                let category = if e.subtype == Some(Subtype::Vital) { "vital-signs" } else { "laboratory" };
                let label = e.codes.first().map(|c| c.display.clone()).unwrap_or_else(|| e.text.clone());
                let mut r = json!({
                    "resourceType": "Observation",
                    "id": id,
                    "status": "final",
                    "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
                    "code": concept(&e.codes, &label),
                    "subject": subject,
                    "derivedFrom": derived,
                });
                if let Some(d) = date {
                    r["effectiveDateTime"] = json!(d);
                }
                if let Some(v) = at.value {
                    let mut q = match &at.unit {
                        Some(u) => quantity(v, u),
                        None => json!({"value": v}),
                    };
                    if let Some(c) = &at.comparator {
                        q["comparator"] = json!(c);
                    }
                    r["valueQuantity"] = q;
                }
                if !at.components.is_empty() {
                    r["component"] = Value::Array(
                        at.components
                            .iter()
                            .map(|c| json!({"code": concept(std::slice::from_ref(&c.code), &c.code.display), "valueQuantity": quantity(c.value, &c.unit)}))
                            .collect(),
                    );
                }
                if let Some(f) = &at.flag {
                    r["interpretation"] = json!([{"coding": [{"system": OBS_INTERPRETATION, "code": f}]}]);
                }
                if let Some(range) = &at.range {
                    r["referenceRange"] = json!([{"text": range}]);
                }
                Some(Entry { resource_type: "Observation", id, resource: r })
            }
            EntityType::Allergy => {
                let (clinical, verification) = match a {
                    Assertion::Absent => ("inactive", "refuted"),
                    Assertion::Possible => ("active", "unconfirmed"),
                    Assertion::Historical => ("inactive", "confirmed"),
                    Assertion::Present => ("active", "confirmed"),
                    Assertion::Family | Assertion::Hypothetical => return None,
                };
                let id = derive(&[doc_key, "AllergyIntolerance", &key_of(e), a.as_str()]);
                let mut r = json!({
                    "resourceType": "AllergyIntolerance",
                    "id": id,
                    "clinicalStatus": simple(ALLERGY_CLINICAL, clinical),
                    "verificationStatus": simple(ALLERGY_VER, verification),
                    "code": concept(&e.codes, &e.text),
                    "patient": subject,
                });
                if let Some(d) = date {
                    r["recordedDate"] = json!(d);
                }
                if let Some(reaction) = &e.attrs.reaction {
                    r["reaction"] = json!([{"manifestation": [concept(e.attrs.reaction_code.as_slice(), reaction)]}]);
                }
                Some(Entry { resource_type: "AllergyIntolerance", id, resource: r })
            }
            EntityType::Procedure => {
                let status = match a {
                    Assertion::Present | Assertion::Historical => "completed",
                    Assertion::Absent => "not-done",
                    _ => return None,
                };
                let id = derive(&[doc_key, "Procedure", &key_of(e), status]);
                Some(Entry {
                    resource_type: "Procedure",
                    id: id.clone(),
                    resource: json!({
                        "resourceType": "Procedure",
                        "id": id,
                        "status": status,
                        "code": concept(&e.codes, &e.text),
                        "subject": subject,
                    }),
                })
            }
            EntityType::Phi => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Line, Page};
    use crate::nlp::{Attrs, Demographics, DocumentFacts, SYSTEM_ICD10CM, SYSTEM_SNOMED};

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
        Mapper::new(FhirConfig::default(), "paperchart test".into()).map(&MapInput {
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
                Entity { start: 8, end: 14, ..entity(EntityType::Condition, "asthma", vec![], Assertion::Family) },
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
