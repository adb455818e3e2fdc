//! The small JSON shapes every resource module writes: codings, concepts, quantities,
//! references, and the code systems of FHIR's own value sets.

use paperchart_model::findings::{Code, Entity, SYSTEM_ROLE_CODE, SYSTEM_UCUM};
use serde_json::{json, Map, Value};

pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub const CONDITION_VER: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
pub const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
pub const ALLERGY_VER: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
pub const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const OBS_INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
pub const ROLE_CODE: &str = SYSTEM_ROLE_CODE;
pub const GTS: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

pub fn coding(c: &Code) -> Value {
    json!({"system": c.system, "code": c.code, "display": c.display})
}

/// A CodeableConcept: every code, and the words as written.
pub fn concept(codes: &[Code], text: &str) -> Value {
    let mut v = Map::new();
    if !codes.is_empty() {
        v.insert("coding".into(), Value::Array(codes.iter().map(coding).collect()));
    }
    v.insert("text".into(), Value::String(text.to_string()));
    Value::Object(v)
}

pub fn simple(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

/// A Quantity in UCUM.
pub fn quantity(value: f64, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": SYSTEM_UCUM, "code": unit})
}

pub fn reference(resource_type: &str, id: &str) -> Value {
    json!({"reference": format!("{resource_type}/{id}")})
}

/// A canonical key for a finding: its first code, or its words.
pub fn key_of(e: &Entity) -> String {
    match e.codes.first() {
        Some(c) => format!("{}|{}", c.system, c.code),
        None => e.text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
    }
}
