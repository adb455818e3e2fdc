//! `Coverage`: what an insurance card says — the member id (as `subscriberId` and an identifier of
//! type MB), the group and the pharmacy routing (`class`), the payer as the card names it.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::CoverageFact;
use paperchart_model::settings::FhirSettings;
use serde_json::{json, Value};

use crate::Context;

pub const COVERAGE_CLASS: &str = "http://terminology.hl7.org/CodeSystem/coverage-class";

/// `None` when the card gave neither a member id nor a group: nothing to file.
pub fn entry(cfg: &FhirSettings, c: &CoverageFact, cx: &Context) -> Option<Entry> {
    if c.member_id.is_none() && c.group.is_none() {
        return None;
    }
    let id = cx.id("Coverage", &[c.member_id.as_deref().unwrap_or(""), c.group.as_deref().unwrap_or("")]);
    let payer = match (&c.payer, &c.payer_id) {
        (Some(name), _) => json!({"display": name}),
        (None, Some(payer_id)) => json!({"display": format!("Payer ID {payer_id}")}),
        (None, None) => json!({"display": "payer as named on the card (not read)"}),
    };
    let mut r = json!({
        "resourceType": "Coverage",
        "id": id,
        "status": "active",
        "beneficiary": cx.subject(),
        "payor": [payer],
    });
    if let Some(member) = &c.member_id {
        r["subscriberId"] = json!(member);
        r["identifier"] = json!([member_identifier(cfg, member)]);
    }
    let classes: Vec<Value> =
        [("group", &c.group), ("rxbin", &c.rx_bin), ("rxpcn", &c.rx_pcn), ("rxgroup", &c.rx_group), ("plan", &c.plan)]
            .into_iter()
            .filter_map(|(code, v)| {
                v.as_ref().map(|v| json!({"type": {"coding": [{"system": COVERAGE_CLASS, "code": code}]}, "value": v}))
            })
            .collect();
    if !classes.is_empty() {
        r["class"] = Value::Array(classes);
    }
    Some(Entry { resource_type: "Coverage", id, resource: r })
}

/// A health plan's member id as an identifier of type MB (HL7 v2 table 0203).
pub fn member_identifier(cfg: &FhirSettings, member: &str) -> Value {
    json!({
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB", "display": "Member Number"}]},
        "system": cfg.member_system,
        "value": member
    })
}
