//! `AllergyIntolerance`: an allergen with its reaction; "NKDA" is SNOMED CT 409137002.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Entity};
use serde_json::json;

use crate::codes::{concept, key_of, simple, ALLERGY_CLINICAL, ALLERGY_VER};
use crate::Context;

pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    let (clinical, verification) = match e.assertion {
        Assertion::Absent => ("inactive", "refuted"),
        Assertion::Possible => ("active", "unconfirmed"),
        Assertion::Historical => ("inactive", "confirmed"),
        Assertion::Present => ("active", "confirmed"),
        Assertion::Family | Assertion::Hypothetical => return None,
    };
    let id = cx.id("AllergyIntolerance", &[&key_of(e), e.assertion.as_str()]);
    let mut r = json!({
        "resourceType": "AllergyIntolerance",
        "id": id,
        "clinicalStatus": simple(ALLERGY_CLINICAL, clinical),
        "verificationStatus": simple(ALLERGY_VER, verification),
        "code": concept(&e.codes, &e.text),
        "patient": cx.subject(),
    });
    if let Some(d) = cx.date {
        r["recordedDate"] = json!(d);
    }
    if let Some(reaction) = &e.attrs.reaction {
        r["reaction"] = json!([{"manifestation": [concept(e.attrs.reaction_code.as_slice(), reaction)]}]);
    }
    Some(Entry { resource_type: "AllergyIntolerance", id, resource: r })
}
