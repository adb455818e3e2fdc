//! `Condition`: a problem, diagnosis or symptom of the patient's, with its assertion.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Entity, SectionKind};
use serde_json::json;

use crate::codes::{concept, key_of, simple, CONDITION_CATEGORY, CONDITION_CLINICAL, CONDITION_VER};
use crate::Context;

/// `None` for what is not the patient's own condition: a relative's (FamilyMemberHistory) or a
/// hypothetical one ("return if chest pain").
pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    let a = e.assertion;
    if matches!(a, Assertion::Family | Assertion::Hypothetical) {
        return None;
    }
    let id = cx.id("Condition", &[&key_of(e), a.as_str()]);
    let problem_list = matches!(e.section, Some(SectionKind::ProblemList | SectionKind::PastMedicalHistory));
    let category = if problem_list && a != Assertion::Absent { "problem-list-item" } else { "encounter-diagnosis" };
    let (clinical, verification) = match a {
        Assertion::Absent => (None, "refuted"),
        Assertion::Possible => (Some("active"), "provisional"),
        Assertion::Historical => (Some("inactive"), "confirmed"),
        _ => (Some("active"), "confirmed"),
    };
    let mut r = json!({
        "resourceType": "Condition",
        "id": id,
        "verificationStatus": simple(CONDITION_VER, verification),
        "category": [simple(CONDITION_CATEGORY, category)],
        "code": concept(&e.codes, &e.text),
        "subject": cx.subject(),
    });
    if let Some(c) = clinical {
        r["clinicalStatus"] = simple(CONDITION_CLINICAL, c);
    }
    if let Some(d) = cx.date {
        r["recordedDate"] = json!(d);
    }
    Some(Entry { resource_type: "Condition", id, resource: r })
}
