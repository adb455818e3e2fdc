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
    // A flowsheet's rows are the same measure on other dates: the date is part of the identity.
    let dated = at.normalized.as_deref().unwrap_or("");
    let id = if dated.is_empty() {
        cx.id("Observation", &[&key_of(e), &value_key])
    } else {
        cx.id("Observation", &[&key_of(e), &value_key, dated])
    };
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
    // The date its row gives (a flowsheet), else the document's.
    if let Some(d) = at.normalized.as_deref().or(cx.date) {
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
        r["referenceRange"] = json!([reference_range(range, at.unit.as_deref())]);
    }
    Some(Entry { resource_type: "Observation", id, resource: r })
}

/// A reference range as written ("70-99", "<200", ">40") with its bounds as quantities in the
/// result's unit, so the range can be queried; the written text is kept.
fn reference_range(range: &str, unit: Option<&str>) -> Value {
    let q = |v: &str| {
        let v: f64 = v.trim().parse().ok()?;
        Some(match unit {
            Some(u) => quantity(v, u),
            None => json!({"value": v}),
        })
    };
    let mut r = json!({"text": range});
    let t = range.trim();
    let (low, high) = if let Some(h) = t.strip_prefix("<=").or_else(|| t.strip_prefix('<')) {
        (None, q(h))
    } else if let Some(l) = t.strip_prefix(">=").or_else(|| t.strip_prefix('>')) {
        (q(l), None)
    } else if let Some((l, h)) = t.split_once('-').filter(|(l, _)| !l.trim().is_empty()) {
        (q(l), q(h))
    } else {
        (None, None)
    };
    if let Some(l) = low {
        r["low"] = l;
    }
    if let Some(h) = high {
        r["high"] = h;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_range_keeps_its_text_and_gives_its_bounds() {
        let r = reference_range("70-99", Some("mg/dL"));
        assert_eq!((r["low"]["value"].as_f64(), r["high"]["value"].as_f64()), (Some(70.0), Some(99.0)));
        assert_eq!((r["low"]["code"].as_str(), r["text"].as_str()), (Some("mg/dL"), Some("70-99")));
        assert!(reference_range("<200", Some("mg/dL")).get("low").is_none());
        assert_eq!(reference_range("<200", Some("mg/dL"))["high"]["value"].as_f64(), Some(200.0));
        assert_eq!(reference_range(">40", None)["low"]["value"].as_f64(), Some(40.0));
        let odd = reference_range("negative", None);
        assert!(odd.get("low").is_none() && odd.get("high").is_none());
    }
}
