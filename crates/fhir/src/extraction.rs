//! What says a resource was read from a document by a machine, and how sure that reading is.
//!
//! Every clinical resource paperchart writes carries
//! - `meta.security` HL7 v3 ObservationValue `AIAST` ("Artificial Intelligence asserted"): a
//!   machine, not a clinician, asserted it;
//! - `meta.tag` `urn:paperchart:extraction#machine-extracted`, to find them all with `_tag`;
//! - when it comes from one finding, the finding's confidence (0..1) as the extension
//!   [`CONFIDENCE_URL`] (`valueDecimal`).
//!
//! Below `fhir.min_confidence` a finding is not written as fact: its Condition or
//! AllergyIntolerance is `unconfirmed`, its Observation `preliminary`, its MedicationStatement
//! or Procedure `unknown` (and with
//! `fhir.low_confidence = "omit"` it is left out and kept for review only).

use paperchart_model::bundle::Entry;
use paperchart_model::settings::FhirSettings;
use serde_json::{json, Value};

use crate::codes::{simple, ALLERGY_VER, CONDITION_VER};

pub const CONFIDENCE_URL: &str = "urn:paperchart:fhir:StructureDefinition:extraction-confidence";
pub const TAG_SYSTEM: &str = "urn:paperchart:extraction";
pub const OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// Marks `entry` as machine-extracted, with `confidence` when it has one. True when the
/// confidence is below the threshold: the resource was written as not confirmed.
pub fn stamp(entry: &mut Entry, confidence: Option<f64>, cfg: &FhirSettings) -> bool {
    let r = &mut entry.resource;
    r["meta"] = json!({
        "security": [{"system": OBSERVATION_VALUE, "code": "AIAST", "display": "Artificial Intelligence asserted"}],
        "tag": [{"system": TAG_SYSTEM, "code": "machine-extracted", "display": "Read from a document by paperchart"}],
    });
    let Some(c) = confidence else { return false };
    let extension = json!({"url": CONFIDENCE_URL, "valueDecimal": decimal(c)});
    match r.get_mut("extension").and_then(Value::as_array_mut) {
        Some(list) => list.push(extension),
        None => r["extension"] = json!([extension]),
    }
    if c >= f64::from(cfg.min_confidence) {
        return false;
    }
    match entry.resource_type {
        "Condition" if verification(r) != Some("refuted") => {
            r["verificationStatus"] = simple(CONDITION_VER, "unconfirmed");
        }
        "AllergyIntolerance" if verification(r) != Some("refuted") => {
            r["verificationStatus"] = simple(ALLERGY_VER, "unconfirmed");
        }
        "Observation" if r["status"] == "final" => r["status"] = json!("preliminary"),
        // Whether it is taken, or was done, is not known for sure: said so, never `active`.
        "MedicationStatement" if r["status"] != "not-taken" => r["status"] = json!("unknown"),
        "Procedure" if r["status"] == "completed" => r["status"] = json!("unknown"),
        _ => {}
    }
    true
}

/// Marks a resource written from a de-identified document: `meta.security` PSEUDED
/// (pseudonymized: PHI replaced by surrogates).
pub fn pseudonymized(r: &mut Value) {
    let label = json!({"system": OBSERVATION_VALUE, "code": "PSEUDED", "display": "pseudonymized"});
    match r["meta"]["security"].as_array_mut() {
        Some(list) => list.push(label),
        None => r["meta"]["security"] = json!([label]),
    }
}

fn verification(r: &Value) -> Option<&str> {
    r["verificationStatus"]["coding"][0]["code"].as_str()
}

/// A confidence as a JSON number of at most three decimals (0.812, never 0.8119999).
fn decimal(c: f64) -> Value {
    let rounded = (c * 1000.0).round() / 1000.0;
    json!(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(verification: &str) -> Entry {
        Entry {
            resource_type: "Condition",
            id: "c".into(),
            resource: json!({"resourceType": "Condition", "verificationStatus": simple(CONDITION_VER, verification)}),
        }
    }

    #[test]
    fn low_confidence_is_never_written_as_fact() {
        let cfg = FhirSettings::default();
        let mut sure = condition("confirmed");
        assert!(!stamp(&mut sure, Some(0.9), &cfg));
        assert_eq!(verification(&sure.resource), Some("confirmed"));
        assert_eq!(sure.resource["extension"][0]["valueDecimal"], json!(0.9));
        assert_eq!(sure.resource["meta"]["security"][0]["code"], "AIAST");
        let mut unsure = condition("confirmed");
        assert!(stamp(&mut unsure, Some(0.3), &cfg));
        assert_eq!(verification(&unsure.resource), Some("unconfirmed"));
        let mut refuted = condition("refuted");
        stamp(&mut refuted, Some(0.3), &cfg);
        assert_eq!(verification(&refuted.resource), Some("refuted"), "a denial stays a denial");
        let mut obs = Entry {
            resource_type: "Observation",
            id: "o".into(),
            resource: json!({"resourceType": "Observation", "status": "final"}),
        };
        stamp(&mut obs, Some(0.2), &cfg);
        assert_eq!(obs.resource["status"], "preliminary");
        let mut med = Entry {
            resource_type: "MedicationStatement",
            id: "m".into(),
            resource: json!({"resourceType": "MedicationStatement", "status": "active"}),
        };
        stamp(&mut med, Some(0.2), &cfg);
        assert_eq!(med.resource["status"], "unknown", "never active when unsure");
        let mut untagged = condition("confirmed");
        assert!(!stamp(&mut untagged, None, &cfg));
        assert!(untagged.resource.get("extension").is_none());
        assert_eq!(untagged.resource["meta"]["tag"][0]["code"], "machine-extracted");
    }
}
