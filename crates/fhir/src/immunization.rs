//! `Immunization`: one dose an immunization record lists — the vaccine (CVX where the words name
//! one, else as written), the date, the lot and the dose number.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::ImmunizationFact;
use serde_json::json;

use crate::codes::concept;
use crate::Context;

pub fn entry(f: &ImmunizationFact, cx: &Context) -> Entry {
    let key = [f.vaccine.to_lowercase(), f.date.clone().unwrap_or_default(), f.lot.clone().unwrap_or_default()];
    let id = cx.id("Immunization", &[&key[0], &key[1], &key[2]]);
    let codes: Vec<_> = f.code.iter().cloned().collect();
    let mut r = json!({
        "resourceType": "Immunization",
        "id": id,
        "status": "completed",
        "vaccineCode": concept(&codes, &f.vaccine),
        "patient": cx.subject(),
    });
    match &f.date {
        Some(d) => r["occurrenceDateTime"] = json!(d),
        // occurrence[x] is required: a dose whose date is not legible says so.
        None => r["occurrenceString"] = json!("date not legible on the record"),
    }
    if let Some(lot) = &f.lot {
        r["lotNumber"] = json!(lot);
    }
    if let Some(n) = f.dose_number {
        r["protocolApplied"] = json!([{"doseNumberPositiveInt": n}]);
    }
    Entry { resource_type: "Immunization", id, resource: r }
}
