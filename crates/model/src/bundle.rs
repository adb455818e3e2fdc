//! FHIR R4 resources as a sink receives them: one document's transaction Bundle.
//!
//! `paperchart-fhir` builds a [`Bundle`]; every sink (a folder, a FHIR server, HealthLake, the
//! NDJSON staging area) writes one. Entries are written as `PUT Type/id`, ids being
//! deterministic, so writing the same Bundle twice changes nothing.

use serde_json::{json, Value};

/// One resource of a Bundle, written as `PUT Type/id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub resource_type: &'static str,
    pub id: String,
    pub resource: Value,
}

/// A document's resources, in write order: Patient, DocumentReference, the clinical resources,
/// Provenance last.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The DocumentReference id; the Bundle's own id too.
    pub id: String,
    pub entries: Vec<Entry>,
}

impl Bundle {
    /// The FHIR transaction Bundle of this document.
    pub fn to_transaction(&self) -> Value {
        let entries: Vec<Value> = self.entries.iter().map(Entry::request).collect();
        json!({"resourceType": "Bundle", "id": self.id, "type": "transaction", "entry": entries})
    }

    /// Splits the entries into transaction Bundles of at most `max` entries each (servers cap
    /// Bundle size). Each part stands alone: references between parts resolve once all are written.
    pub fn chunks(&self, max: usize) -> Vec<Value> {
        transactions(self.entries.iter().map(Entry::request).collect(), max)
    }

    pub fn count(&self, resource_type: &str) -> usize {
        self.entries.iter().filter(|e| e.resource_type == resource_type).count()
    }

    /// Resources written per type, for summaries.
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut out = std::collections::BTreeMap::new();
        for e in &self.entries {
            *out.entry(e.resource_type).or_insert(0) += 1;
        }
        out
    }

    /// The entry of `resource_type` with this id, if the Bundle has one.
    pub fn entry(&self, resource_type: &str, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.resource_type == resource_type && e.id == id)
    }

    /// The document's Patient entry (the first; a document names one patient).
    pub fn patient(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.resource_type == "Patient")
    }

    /// The Provenance entry, which lists every resource the document wrote: the document's
    /// manifest, on a server as in a folder.
    pub fn provenance(&self) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.resource_type == "Provenance")
    }

    /// Files the document under another Patient id (one the target server already has for the
    /// same person): the Patient entry takes that id and every reference to the old one follows.
    pub fn repoint_patient(&mut self, from: &str, to: &str) {
        let (old, new) = (format!("Patient/{from}"), format!("Patient/{to}"));
        for e in &mut self.entries {
            if e.resource_type == "Patient" && e.id == from {
                e.id = to.to_string();
                e.resource["id"] = Value::String(to.to_string());
            }
            repoint(&mut e.resource, &old, &new);
        }
    }

    /// One resource per line, in write order: the NDJSON HealthLake's import reads.
    pub fn ndjson(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&e.resource.to_string());
            out.push('\n');
        }
        out
    }
}

fn repoint(v: &mut Value, old: &str, new: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "reference" && child.as_str() == Some(old) {
                    *child = Value::String(new.to_string());
                } else {
                    repoint(child, old, new);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| repoint(c, old, new)),
        _ => {}
    }
}

impl Entry {
    /// The entry as a transaction's `PUT Type/id`.
    pub fn request(&self) -> Value {
        put_request(self.resource_type, &self.id, &self.resource)
    }
}

/// A transaction's `PUT Type/id` entry of `resource`.
pub fn put_request(resource_type: &str, id: &str, resource: &Value) -> Value {
    json!({
        "fullUrl": format!("urn:uuid:{id}"),
        "resource": resource,
        "request": {"method": "PUT", "url": format!("{resource_type}/{id}")}
    })
}

/// A transaction's `DELETE Type/id` entry.
pub fn delete_request(resource_type: &str, id: &str) -> Value {
    json!({"request": {"method": "DELETE", "url": format!("{resource_type}/{id}")}})
}

/// Transaction Bundles of at most `max` of these entries each, in order.
pub fn transactions(requests: Vec<Value>, max: usize) -> Vec<Value> {
    requests
        .chunks(max.max(1))
        .map(|part| json!({"resourceType": "Bundle", "type": "transaction", "entry": part}))
        .collect()
}

/// What mapping one document produced.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub bundle: Bundle,
    /// Set when someone should look at the document: it names no patient well enough to file
    /// facts under one, or the engine missed pages.
    pub needs_review: Option<String>,
    /// Findings that were not filed under a patient, kept for a person to decide: nothing the
    /// document said is dropped without a trace.
    pub review: Option<Review>,
}

/// Why a document's findings wait for a person (the `reason` label of the review metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewReason {
    /// No MRN, and no name with a birth date: the findings are held, not written.
    NoIdentity,
    /// Filed under its patient, but nothing clinical was read from it: a person checks what it
    /// holds (a kind of document not read yet, or a reading failure).
    NothingRead,
    /// Filed under its patient, but some of its form's questions have findings and boxes that
    /// could not be read (OCR could not make them out, or yes and no are both ticked): those
    /// findings were withheld, and a person reads the boxes.
    Unanswered,
    /// Filed under its patient, but some findings were read with less confidence than
    /// `fhir.min_confidence` (unsure OCR, a rule that is often wrong): a person confirms them.
    LowConfidence,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 4] =
        [ReviewReason::NoIdentity, ReviewReason::NothingRead, ReviewReason::Unanswered, ReviewReason::LowConfidence];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewReason::NoIdentity => "no_identity",
            ReviewReason::NothingRead => "nothing_read",
            ReviewReason::Unanswered => "unanswered",
            ReviewReason::LowConfidence => "low_confidence",
        }
    }
}

/// A document's held findings, as `review/<document id>.json` keeps them: the document, the
/// identity as far as it was read, every finding with its assertion (the `nlp extract` format,
/// offsets in characters), and the FHIR resources they would become once a patient is named
/// (their subject says so; a reviewer sets it). Patient data: stored, never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub document_id: String,
    pub reason: ReviewReason,
    /// The document as the summary names it: `{"name", "uri"}` and its DocumentReference.
    pub document: Value,
    /// The patient as far as the document names one: a FHIR Patient, however incomplete.
    pub candidate: Value,
    pub findings: Vec<Value>,
    pub resources: Vec<Value>,
}

impl Review {
    pub fn to_json(&self) -> Value {
        json!({
            "paperchart_review": 1,
            "document_id": self.document_id,
            "reason": self.reason.as_str(),
            "document": self.document,
            "candidate_identity": self.candidate,
            "findings": self.findings,
            "resources": self.resources,
        })
    }

    /// The bytes every review store writes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&self.to_json()).expect("a review serialises");
        out.push(b'\n');
        out
    }

    /// Findings held (not counting the identity's own PHI).
    pub fn held(&self) -> usize {
        self.findings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        Bundle {
            id: "d1".into(),
            entries: vec![
                Entry {
                    resource_type: "Patient",
                    id: "p1".into(),
                    resource: json!({"resourceType": "Patient", "id": "p1"}),
                },
                Entry {
                    resource_type: "DocumentReference",
                    id: "d1".into(),
                    resource: json!({"resourceType": "DocumentReference", "id": "d1", "note": "a\nb"}),
                },
            ],
        }
    }

    #[test]
    fn ndjson_is_one_resource_per_line() {
        let text = bundle().ndjson();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "a newline inside a value stays escaped");
        assert_eq!(serde_json::from_str::<Value>(lines[1]).unwrap()["note"], "a\nb");
    }

    #[test]
    fn transactions_put_every_entry() {
        let b = bundle();
        let t = b.to_transaction();
        assert_eq!(t["type"], "transaction");
        assert_eq!(t["entry"][1]["request"]["url"], "DocumentReference/d1");
        assert_eq!(b.chunks(1).len(), 2);
        assert_eq!(b.counts()["Patient"], 1);
    }

    #[test]
    fn repointing_moves_the_patient_and_every_reference_to_it() {
        let mut b = bundle();
        b.entries[1].resource["subject"] = json!({"reference": "Patient/p1"});
        b.entries[1].resource["context"] =
            json!({"related": [{"reference": "Patient/p1"}, {"reference": "Patient/p10"}]});
        b.repoint_patient("p1", "srv-7");
        assert_eq!(b.patient().unwrap().id, "srv-7");
        assert_eq!(b.entries[0].resource["id"], "srv-7");
        assert_eq!(b.entries[1].resource["subject"]["reference"], "Patient/srv-7");
        assert_eq!(b.entries[1].resource["context"]["related"][0]["reference"], "Patient/srv-7");
        assert_eq!(b.entries[1].resource["context"]["related"][1]["reference"], "Patient/p10", "only whole references");
    }
}
