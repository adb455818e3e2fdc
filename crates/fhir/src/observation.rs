//! `Observation`: a lab result or vital sign with its value in UCUM, flag and reference range;
//! blood pressure as a panel with systolic and diastolic components.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Entity, Subtype};
use serde_json::{json, Value};

use crate::codes::{concept, key_of, quantity, OBS_CATEGORY, OBS_INTERPRETATION};
use crate::Context;

/// Only results the document states as the patient's (present or historical).
pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    if !matches!(e.assertion, Assertion::Present | Assertion::Historical) {
        return None;
    }
    let at = &e.attrs;
    let value_key =
        format!("{:?}|{:?}|{:?}", at.value, at.unit, at.components.iter().map(|c| c.value).collect::<Vec<_>>());
    let id = cx.id("Observation", &[&key_of(e), &value_key]);
    let category = if e.subtype == Some(Subtype::Vital) { "vital-signs" } else { "laboratory" };
    let label = e.codes.first().map(|c| c.display.clone()).unwrap_or_else(|| e.text.clone());
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
        "code": concept(&e.codes, &label),
        "subject": cx.subject(),
        "derivedFrom": cx.derived_from(),
    });
    if let Some(d) = cx.date {
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
