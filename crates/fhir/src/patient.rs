//! `Patient`: who the document is about, as far as it says.

use paperchart_model::findings::{Demographics, Gender, IdKind};
use paperchart_model::settings::FhirSettings;
use serde_json::{json, Map, Value};

use crate::ids::PatientKey;

/// Who the document is about, if it says well enough: an MRN, a name with a birth date, or a
/// name with a health plan's member id (an insurance card).
pub fn key(cfg: &FhirSettings, d: &Demographics) -> Option<PatientKey> {
    if let Some(mrn) = &d.mrn {
        return Some(PatientKey::Mrn { system: cfg.mrn_system.clone(), value: mrn.clone() });
    }
    match (&d.family, &d.birth_date, &d.member_id) {
        (Some(family), Some(birth_date), _) => Some(PatientKey::NameBirthDate {
            family: family.clone(),
            given: d.given.join(" "),
            birth_date: birth_date.clone(),
        }),
        (Some(family), None, Some(member)) => Some(PatientKey::Member {
            system: cfg.member_system.clone(),
            value: member.clone(),
            family: family.clone(),
        }),
        _ => None,
    }
}

pub fn resource(cfg: &FhirSettings, id: &str, d: &Demographics) -> Value {
    let mut p = Map::new();
    p.insert("resourceType".into(), json!("Patient"));
    p.insert("id".into(), json!(id));
    let mut identifiers = Vec::new();
    if let Some(mrn) = &d.mrn {
        identifiers.push(json!({
            "use": "usual",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
            "system": cfg.mrn_system,
            "value": mrn
        }));
    }
    if let Some(member) = &d.member_id {
        identifiers.push(crate::coverage::member_identifier(cfg, member));
    }
    // Other identifiers the document gives: typed, with no system (the document does not say
    // who assigned them), so they never stand for the patient's key.
    for id in &d.other_ids {
        let (code, display) = match id.kind {
            IdKind::MedicalRecord => ("MR", "Medical record number"),
            IdKind::Account => ("AN", "Account number"),
        };
        identifiers.push(json!({
            "use": "secondary",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": code, "display": display}]},
            "value": id.value
        }));
    }
    if !identifiers.is_empty() {
        p.insert("identifier".into(), Value::Array(identifiers));
    }
    if let Some(family) = &d.family {
        let mut name = json!({"use": "official", "family": family});
        if !d.given.is_empty() {
            name["given"] = json!(d.given);
        }
        p.insert("name".into(), json!([name]));
    }
    let mut telecom = Vec::new();
    if let Some(phone) = &d.phone {
        telecom.push(json!({"system": "phone", "value": phone, "use": "home"}));
    }
    if let Some(email) = &d.email {
        telecom.push(json!({"system": "email", "value": email}));
    }
    if !telecom.is_empty() {
        p.insert("telecom".into(), Value::Array(telecom));
    }
    if let Some(g) = d.gender {
        let g = match g {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        };
        p.insert("gender".into(), json!(g));
    }
    if let Some(b) = &d.birth_date {
        p.insert("birthDate".into(), json!(b));
    }
    if let Some(a) = &d.address {
        let mut addr = Map::new();
        addr.insert("use".into(), json!("home"));
        // An address read in parts (a form's Street, City, State, Zip fields) is written whole too.
        // The address as written when it says it all; else (a street line, with city, state and
        // code from fields of their own) its parts joined.
        let parts = [a.city.as_deref(), a.state.as_deref(), a.postal_code.as_deref(), a.country.as_deref()];
        let whole = !a.text.is_empty() && parts.iter().flatten().all(|p| a.text.contains(p) || p.len() == 2);
        let text = if whole {
            a.text.clone()
        } else {
            a.line.iter().map(String::as_str).chain(parts.into_iter().flatten()).collect::<Vec<_>>().join(", ")
        };
        addr.insert("text".into(), json!(text));
        if !a.line.is_empty() {
            addr.insert("line".into(), json!(a.line));
        }
        for (k, v) in [("city", &a.city), ("state", &a.state), ("postalCode", &a.postal_code), ("country", &a.country)]
        {
            if let Some(v) = v {
                addr.insert(k.into(), json!(v));
            }
        }
        p.insert("address".into(), json!([Value::Object(addr)]));
    }
    Value::Object(p)
}
