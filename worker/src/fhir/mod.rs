//! FHIR R4: one transaction Bundle per document.
//!
//! [`map`] turns a document, its text and what the NLP found into resources; [`ids`] derives
//! every resource id deterministically, so a document processed twice gives byte-identical
//! resources and the PUT entries of the second Bundle change nothing.

pub mod ids;
pub mod map;

use serde_json::{json, Value};

pub use map::{Mapped, Mapper};

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
        let entries: Vec<Value> = self.entries.iter().map(entry_json).collect();
        json!({"resourceType": "Bundle", "id": self.id, "type": "transaction", "entry": entries})
    }

    /// Splits the entries into transaction Bundles of at most `max` entries each (servers cap
    /// Bundle size). Each part stands alone: references between parts resolve once all are written.
    pub fn chunks(&self, max: usize) -> Vec<Value> {
        let max = max.max(1);
        self.entries
            .chunks(max)
            .map(|part| json!({"resourceType": "Bundle", "type": "transaction", "entry": part.iter().map(entry_json).collect::<Vec<_>>()}))
            .collect()
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
}

fn entry_json(e: &Entry) -> Value {
    json!({
        "fullUrl": format!("urn:uuid:{}", e.id),
        "resource": e.resource,
        "request": {"method": "PUT", "url": format!("{}/{}", e.resource_type, e.id)}
    })
}
