//! Smoking and drinking as facts of the patient's: what the words around a status finding
//! ("smokes", "EtOH use", "never smoker") must not say for it to stand.
//!
//! A status is no fact of the patient's tobacco or alcohol use when its clause:
//! - names another substance ("smokes marijuana", "never smoked crack"): not tobacco;
//! - has another person as its subject ("lives with husband who smokes", "roommate smokes");
//! - gives a zero or abstinence as the habit's value ("Alcohol use: 0 drinks per week",
//!   "abstinent since 2019", "sober x 5 years") — a current-use concept with no use;
//! - makes it the object of advice ("avoid alcohol intake", "counseled to limit …"): hypothetical.
//!
//! Those are dropped (the first three) or made hypothetical (advice). Statuses of one habit that
//! disagree in one document ("Smoker" and "Never smoked tobacco"; "never" and "former") are all
//! made `possible`: no status is written, and the words stay in the NLP output for a reader.
//! "Not now" (a denied habit) agrees with a past one and with none ever.

use paperchart_model::findings::{Assertion, Entity};
use paperchart_model::social::{habit, Habit, Status};

/// Substances smoked that are not tobacco.
const OTHER_SUBSTANCES: &[&str] = &[
    "marijuana",
    "marihuana",
    "cannabis",
    "pot",
    "weed",
    "thc",
    "crack",
    "cocaine",
    "meth",
    "methamphetamine",
    "heroin",
    "opium",
    "hashish",
    "hash",
    "k2",
    "spice",
];

/// People a habit may be told of who are not the patient.
const OTHER_PEOPLE: &[&str] = &[
    "husband",
    "wife",
    "spouse",
    "partner",
    "boyfriend",
    "girlfriend",
    "fiance",
    "fiancee",
    "roommate",
    "roommates",
    "housemate",
    "housemates",
    "friend",
    "friends",
    "caregiver",
    "caregivers",
    "household",
    "mother",
    "mom",
    "father",
    "dad",
    "parent",
    "parents",
    "brother",
    "sister",
    "son",
    "daughter",
    "sibling",
    "siblings",
    "children",
    "child",
    "kids",
    "family",
    "grandmother",
    "grandfather",
    "uncle",
    "aunt",
    "cousin",
    "others",
    "someone",
    "coworkers",
    "coworker",
];

/// A habit's value that is no use of it.
const NO_USE: &[&str] = &["0", "zero", "none", "abstinent", "abstains", "abstinence", "sober", "sobriety", "stopped"];

/// Words that make what follows the object of advice.
const ADVICE: &[&str] = &[
    "avoid",
    "avoiding",
    "limit",
    "limiting",
    "reduce",
    "reducing",
    "decrease",
    "decreasing",
    "minimize",
    "abstain",
    "refrain",
    "counseled",
    "counselled",
    "counseling",
    "counselling",
    "advised",
    "advise",
    "encouraged",
    "discussed",
    "education",
    "educated",
    "risks",
    "cessation",
    "cut",
];

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Screens every status finding against the words of its clause (see the module's notes).
pub fn screen(text: &str, entities: &mut Vec<Entity>) {
    entities.retain_mut(|e| {
        let Some((h, status)) = habit(e) else { return true };
        let (c0, c1) = super::context::clause(text, e.start, e.end);
        let before = words(text.get(c0..e.start).unwrap_or(""));
        let after = words(text.get(e.end..c1).unwrap_or(""));
        let near_before = &before[before.len().saturating_sub(3)..];
        let near_after = &after[..after.len().min(4)];
        let any = |ws: &[String], list: &[&str]| ws.iter().any(|w| list.contains(&w.as_str()));
        if h == Habit::Tobacco && (any(near_before, OTHER_SUBSTANCES) || any(near_after, OTHER_SUBSTANCES)) {
            return false;
        }
        if any(&before, OTHER_PEOPLE) {
            return false;
        }
        if status == Status::Current && any(&after, NO_USE) {
            return false;
        }
        if any(&before, ADVICE) && e.assertion != Assertion::Absent {
            e.assertion = Assertion::Hypothetical;
        }
        true
    });
}

/// One value per habit in a document: statuses that disagree ("never smoker" and "current
/// smoker") say nothing for sure, and all become possible. Read over the whole document's
/// findings, after [`screen`] has read each where it is written.
pub fn one_status_per_habit(entities: &mut [Entity]) {
    for h in [Habit::Tobacco, Habit::Alcohol] {
        let values: std::collections::BTreeSet<&'static str> =
            entities.iter().filter(|e| habit(e).is_some_and(|(x, _)| x == h)).filter_map(value).collect();
        // "Not now" agrees with a past habit and with none ever; the rest disagree.
        let clash =
            values.contains("current") && values.len() > 1 || values.contains("never") && values.contains("former");
        if clash {
            for e in entities.iter_mut().filter(|e| habit(e).is_some_and(|(x, _)| x == h)) {
                if value(e).is_some() {
                    e.assertion = Assertion::Possible;
                }
            }
        }
    }
}

/// What a status finding says with its assertion: current, former, not now or never (see
/// `paperchart_fhir`'s social module); `None` for what gives no value.
fn value(e: &Entity) -> Option<&'static str> {
    let (_, status) = habit(e)?;
    Some(match (status, e.assertion) {
        (Status::Current, Assertion::Present) => "current",
        (Status::Current, Assertion::Historical) | (Status::Former, Assertion::Present | Assertion::Historical) => {
            "former"
        }
        (Status::Current, Assertion::Absent) => "not now",
        (Status::Never, Assertion::Present) => "never",
        _ => return None,
    })
}
