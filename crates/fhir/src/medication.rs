//! `MedicationStatement`: a drug the patient takes (or does not, or took), with its dosage.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Entity};
use serde_json::{json, Map, Value};

use crate::codes::{concept, key_of, quantity, GTS};
use crate::Context;

pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    let status = match e.assertion {
        Assertion::Absent => "not-taken",
        Assertion::Historical => "completed",
        Assertion::Possible => "unknown",
        Assertion::Hypothetical => "intended",
        Assertion::Family => return None,
        Assertion::Present => "active",
    };
    // "Discontinued", "held": what the text says of the order, for a drug taken or once taken.
    let status = match (e.assertion, e.attrs.status.as_deref()) {
        (Assertion::Present | Assertion::Historical, Some("stopped")) => "stopped",
        (Assertion::Present | Assertion::Historical, Some("on-hold")) => "on-hold",
        (Assertion::Present | Assertion::Historical, Some("unknown")) => "unknown",
        _ => status,
    };
    let at = &e.attrs;
    let id = cx.id(
        "MedicationStatement",
        &[&key_of(e), at.strength.as_deref().unwrap_or(""), at.frequency.as_deref().unwrap_or(""), status],
    );
    let mut r = json!({
        "resourceType": "MedicationStatement",
        "id": id,
        "status": status,
        "medicationCodeableConcept": concept(&e.codes, &e.text),
        "subject": cx.subject(),
        "derivedFrom": cx.derived_from(),
    });
    let dosage = dosage(e);
    if !dosage.is_empty() {
        r["dosage"] = json!([Value::Object(dosage)]);
    }
    if let Some(d) = cx.date {
        r["dateAsserted"] = json!(d);
    }
    Some(Entry { resource_type: "MedicationStatement", id, resource: r })
}

/// `Dosage`: the order as text, its timing, route, dose, and whether it is taken as needed.
fn dosage(e: &Entity) -> Map<String, Value> {
    let at = &e.attrs;
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
        if let Some(max) = t.period_max {
            repeat["periodMax"] = json!(max);
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
    // An amount per time ("40 mg/d", "5 ug/kg/min") is a rate, not one administration's dose.
    let rate = |u: &str| ["/d", "/h", "/min"].iter().any(|t| u.ends_with(t));
    if let Some((v, u)) = &at.dose_quantity {
        let kind = if rate(u) { "rateQuantity" } else { "doseQuantity" };
        dosage.insert("doseAndRate".into(), json!([{ kind: quantity(*v, u) }]));
    } else if let Some((low, high, u)) = &at.dose_range {
        let kind = if rate(u) { "rateRange" } else { "doseRange" };
        dosage.insert("doseAndRate".into(), json!([{ kind: {"low": quantity(*low, u), "high": quantity(*high, u)} }]));
    }
    dosage
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::findings::{Attrs, EntityType, Frequency};

    #[test]
    fn a_range_of_doses_and_of_periods_is_written_as_a_range() {
        let e = Entity {
            kind: EntityType::Medication,
            subtype: None,
            start: 0,
            end: 9,
            text: "albuterol".into(),
            codes: vec![],
            assertion: Assertion::Present,
            attrs: Attrs {
                dose: Some("1-2 puffs".into()),
                dose_range: Some((1.0, 2.0, "{puff}".into())),
                frequency: Some("q4-6h".into()),
                timing: Some(Frequency {
                    text: "q4-6h".into(),
                    code: None,
                    frequency: 1,
                    period: 4.0,
                    period_unit: "h".into(),
                    when: None,
                    period_max: Some(6.0),
                }),
                prn: true,
                ..Attrs::default()
            },
            confidence: None,
            section: None,
        };
        let d = Value::Object(dosage(&e));
        assert_eq!(d["doseAndRate"][0]["doseRange"]["low"]["value"], 1.0);
        assert_eq!(d["doseAndRate"][0]["doseRange"]["high"]["code"], "{puff}");
        assert!(d["doseAndRate"][0].get("doseQuantity").is_none());
        assert_eq!(
            (d["timing"]["repeat"]["period"].as_f64(), d["timing"]["repeat"]["periodMax"].as_f64()),
            (Some(4.0), Some(6.0))
        );
        assert_eq!(d["text"], "1-2 puffs q4-6h as needed");
        let mut per_day = e.clone();
        per_day.attrs = Attrs {
            dose: Some("10 mg/kg/d".into()),
            dose_quantity: Some((10.0, "mg/kg/d".into())),
            ..Attrs::default()
        };
        let d = Value::Object(dosage(&per_day));
        assert_eq!(d["doseAndRate"][0]["rateQuantity"]["code"], "mg/kg/d", "a dose per day is a rate");
        let mut per_area = e.clone();
        per_area.attrs = Attrs { dose_quantity: Some((1500.0, "mg/m2".into())), ..Attrs::default() };
        assert_eq!(Value::Object(dosage(&per_area))["doseAndRate"][0]["doseQuantity"]["code"], "mg/m2");
    }
}
