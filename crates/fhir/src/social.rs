//! Social history as US Core writes it: tobacco smoking status (LOINC 72166-2) and alcohol use
//! (LOINC 11331-6) are Observations whose value is a SNOMED CT status, not Conditions.
//!
//! The NLP reads "smokes", "former smoker", "No EtOH use" as findings coded with a status concept
//! (Smoker, Ex-smoker, Never smoked tobacco; Current drinker, Ex-drinker, Current non-drinker)
//! and an assertion; the value written is what the two say together:
//!
//! | finding                 | present          | historical | absent              |
//! |-------------------------|------------------|------------|---------------------|
//! | Smoker                  | Smoker           | Ex-smoker  | Current non-smoker  |
//! | Ex-smoker               | Ex-smoker        | Ex-smoker  | —                   |
//! | Never smoked tobacco    | Never smoked     | —          | —                   |
//! | Current drinker         | Current drinker  | Ex-drinker | Current non-drinker |
//! | Ex-drinker              | Ex-drinker       | Ex-drinker | —                   |
//! | Current non-drinker     | Current non-drinker | —       | —                   |
//!
//! A "—" (a double negative, a relative's habit, a hypothetical) writes nothing: a status the
//! words do not plainly give is no fact.

use paperchart_model::bundle::Entry;
use paperchart_model::findings::{Assertion, Code, Entity, SYSTEM_LOINC, SYSTEM_SNOMED};
use paperchart_model::social::*;
use serde_json::json;

use crate::codes::{coding, OBS_CATEGORY};
use crate::Context;

fn display(code: &str) -> &'static str {
    match code {
        SMOKER => "Smoker",
        EX_SMOKER => "Ex-smoker",
        NEVER_SMOKED => "Never smoked tobacco",
        NON_SMOKER => "Current non-smoker",
        DRINKER => "Current drinker of alcohol",
        EX_DRINKER => "Ex-drinker",
        _ => "Current non-drinker of alcohol",
    }
}

/// Is this finding a smoking or drinking status (written here, never as a Condition)?
pub fn is_social(e: &Entity) -> bool {
    habit(e).is_some()
}

/// The Observation a social-history finding gives, or `None` when its words give no plain status.
pub fn entry(e: &Entity, cx: &Context) -> Option<Entry> {
    let (habit, status) = habit(e)?;
    let value = match (status, e.assertion) {
        (Status::Current, Assertion::Present) => [SMOKER, DRINKER],
        (Status::Current, Assertion::Historical) | (Status::Former, Assertion::Present | Assertion::Historical) => {
            [EX_SMOKER, EX_DRINKER]
        }
        (Status::Current, Assertion::Absent) => [NON_SMOKER, NON_DRINKER],
        (Status::Never, Assertion::Present) => [NEVER_SMOKED, NON_DRINKER],
        _ => return None,
    }[usize::from(habit == Habit::Alcohol)];
    let (code, label) = match habit {
        Habit::Tobacco => ("72166-2", "Tobacco smoking status"),
        Habit::Alcohol => ("11331-6", "History of Alcohol use"),
    };
    let id = cx.id("Observation", &[&format!("{SYSTEM_LOINC}|{code}"), value]);
    let status_code = Code::new(SYSTEM_SNOMED, value, display(value));
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "social-history"}]}],
        "code": {"coding": [coding(&Code::new(SYSTEM_LOINC, code, label))], "text": label},
        "subject": cx.subject(),
        "derivedFrom": cx.derived_from(),
        "valueCodeableConcept": {"coding": [coding(&status_code)], "text": status_code.display},
    });
    if let Some(d) = cx.date {
        r["effectiveDateTime"] = json!(d);
    }
    Some(Entry { resource_type: "Observation", id, resource: r })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::findings::{Attrs, EntityType};

    fn finding(code: &str, assertion: Assertion) -> Entity {
        Entity {
            kind: EntityType::Condition,
            subtype: None,
            start: 0,
            end: 6,
            text: "smokes".into(),
            codes: vec![Code::new(SYSTEM_SNOMED, code, "x")],
            assertion,
            confidence: None,
            section: None,
            attrs: Attrs::default(),
        }
    }

    fn value(code: &str, assertion: Assertion) -> Option<(String, String)> {
        let cx = Context { identity: "doc", patient: Some("p"), document: "d", date: Some("2024-01-02") };
        entry(&finding(code, assertion), &cx).map(|e| {
            let r = e.resource;
            (
                r["code"]["coding"][0]["code"].as_str().unwrap().into(),
                r["valueCodeableConcept"]["coding"][0]["code"].as_str().unwrap().into(),
            )
        })
    }

    #[test]
    fn the_status_is_what_the_finding_and_its_assertion_say_together() {
        let v = |c, a| value(c, a).map(|(_, v)| v);
        assert_eq!(value(SMOKER, Assertion::Present), Some(("72166-2".into(), SMOKER.into())));
        assert_eq!(v(SMOKER, Assertion::Historical).as_deref(), Some(EX_SMOKER), "a former smoker");
        assert_eq!(v(SMOKER, Assertion::Absent).as_deref(), Some(NON_SMOKER), "denies smoking: not now, not never");
        assert_eq!(v(NEVER_SMOKED, Assertion::Present).as_deref(), Some(NEVER_SMOKED));
        assert_eq!(value(DRINKER, Assertion::Absent), Some(("11331-6".into(), NON_DRINKER.into())));
        assert_eq!(v(EX_DRINKER, Assertion::Present).as_deref(), Some(EX_DRINKER));
        for (c, a) in [
            (SMOKER, Assertion::Family),
            (SMOKER, Assertion::Hypothetical),
            (SMOKER, Assertion::Possible),
            (NEVER_SMOKED, Assertion::Absent),
            (EX_SMOKER, Assertion::Absent),
        ] {
            assert_eq!(value(c, a), None, "no plain status: nothing written");
        }
    }
}
