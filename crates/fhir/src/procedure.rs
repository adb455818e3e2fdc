//! `Procedure`: done (present or historical), or not done when negated.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Entity};
use serde_json::json;

use crate::codes::{concept, key_of};
use crate::Context;

pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    let status = match e.assertion {
        Assertion::Present | Assertion::Historical => "completed",
        Assertion::Absent => "not-done",
        _ => return None,
    };
    let id = cx.id("Procedure", &[&key_of(e), status]);
    Some(Entry {
        resource_type: "Procedure",
        id: id.clone(),
        resource: json!({
            "resourceType": "Procedure",
            "id": id,
            "status": status,
            "code": concept(&e.codes, &e.text),
            "subject": cx.subject(),
        }),
    })
}
