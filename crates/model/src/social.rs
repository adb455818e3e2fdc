//! Social history's status concepts: what a note says of the patient's tobacco smoking and
//! alcohol use, as SNOMED CT findings. The NLP reads them as findings with an assertion; the FHIR
//! mapping writes them as US Core writes smoking status (an Observation with a coded value), not
//! as Conditions.

use crate::findings::{Entity, EntityType, SYSTEM_SNOMED};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Habit {
    Tobacco,
    Alcohol,
}

/// What the concept itself says: a current habit, a past one, or none ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Current,
    Former,
    Never,
}

pub const SMOKER: &str = "77176002";
pub const EX_SMOKER: &str = "8517006";
pub const NEVER_SMOKED: &str = "266919005";
pub const NON_SMOKER: &str = "160618006";
pub const DRINKER: &str = "219006";
pub const EX_DRINKER: &str = "82581004";
pub const NON_DRINKER: &str = "105542008";

/// The habit and status a SNOMED CT status concept stands for.
pub fn status_of(code: &str) -> Option<(Habit, Status)> {
    Some(match code {
        SMOKER => (Habit::Tobacco, Status::Current),
        EX_SMOKER => (Habit::Tobacco, Status::Former),
        NEVER_SMOKED => (Habit::Tobacco, Status::Never),
        DRINKER => (Habit::Alcohol, Status::Current),
        EX_DRINKER => (Habit::Alcohol, Status::Former),
        NON_DRINKER => (Habit::Alcohol, Status::Never),
        _ => return None,
    })
}

/// The habit and status of a finding coded with a status concept, if it is one.
pub fn habit(e: &Entity) -> Option<(Habit, Status)> {
    if e.kind != EntityType::Condition {
        return None;
    }
    e.codes.iter().filter(|c| c.system == SYSTEM_SNOMED).find_map(|c| status_of(&c.code))
}
