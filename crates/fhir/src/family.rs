//! `FamilyMemberHistory`: one per relative, holding every condition the document gives them.
//!
//! The NLP names the relative of each family finding (`attrs.relative`, a v3 RoleCode); a finding
//! without one belongs to "family member".

use std::collections::{BTreeMap, HashSet};

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Code, Entity, EntityType};
use serde_json::{json, Value};

use crate::codes::{concept, ROLE_CODE};
use crate::Context;

/// The family histories of a document's findings, in the order of their relative codes.
pub fn entries<'a>(entities: impl IntoIterator<Item = &'a Entity>, cx: &Context) -> Vec<Entry> {
    let mut by_relative: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for e in entities {
        // A relative's smoking or drinking is no condition of theirs to record.
        if e.kind != EntityType::Condition || e.assertion != Assertion::Family || crate::social::is_social(e) {
            continue;
        }
        let relative = e.attrs.relative.clone().unwrap_or_else(|| Code::new(ROLE_CODE, "FAMMEMB", "family member"));
        by_relative
            .entry((relative.code, relative.display))
            .or_default()
            .push(json!({"code": concept(&e.codes, &e.text)}));
    }
    by_relative
        .into_iter()
        .map(|((code, display), conditions)| {
            let id = cx.id("FamilyMemberHistory", &[&code]);
            let mut seen = HashSet::new();
            let conditions: Vec<Value> = conditions.into_iter().filter(|c| seen.insert(c.to_string())).collect();
            Entry {
                resource_type: "FamilyMemberHistory",
                id: id.clone(),
                resource: json!({
                    "resourceType": "FamilyMemberHistory",
                    "id": id,
                    "status": "completed",
                    "patient": cx.subject(),
                    "relationship": {"coding": [{"system": ROLE_CODE, "code": code, "display": display}], "text": display},
                    "condition": conditions
                }),
            }
        })
        .collect()
}
