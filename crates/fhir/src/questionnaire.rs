//! `QuestionnaireResponse`: an intake form's questions as written, with the answers its boxes
//! give (`valueBoolean`; a question left blank has no answer). The clinical answers are also
//! written as the findings they are (Conditions, AllergyIntolerances with that assertion).

use paperchart_model::bundle::Entry;
use paperchart_model::findings::Answer;
use serde_json::{json, Value};

use crate::Context;

pub fn entry(answers: &[Answer], cx: &Context) -> Option<Entry> {
    if answers.is_empty() {
        return None;
    }
    let id = cx.id("QuestionnaireResponse", &[]);
    let items: Vec<Value> = answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut item = json!({"linkId": (i + 1).to_string(), "text": a.question});
            if let Some(yes) = a.answer {
                item["answer"] = json!([{"valueBoolean": yes}]);
            }
            item
        })
        .collect();
    let mut r = json!({
        "resourceType": "QuestionnaireResponse",
        "id": id,
        "status": "completed",
        "subject": cx.subject(),
        "item": items,
    });
    if let Some(d) = cx.date {
        r["authored"] = json!(d);
    }
    Some(Entry { resource_type: "QuestionnaireResponse", id, resource: r })
}
