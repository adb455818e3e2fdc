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

/// One Patient from what two documents (or the server and a document) say about the same
/// person: nothing `existing` holds is erased. Identifiers, names, telecoms and addresses are the
/// union (the same one written twice, in another case or spacing, counted once; `existing`'s
/// first); gender and birth date stay `existing`'s unless it has none (or an `unknown` gender);
/// any other element `existing` lacks is taken from `incoming`. The id is `existing`'s; of `meta`
/// the labels are kept (security labels, tags and profiles of both, so a pseudonymized Patient
/// stays marked), the server's bookkeeping (version, time) is not. Merging the same document in
/// again changes nothing.
pub fn merge(existing: &Value, incoming: &Value) -> Value {
    let mut out = existing.as_object().cloned().unwrap_or_default();
    out.remove("meta");
    out.remove("text");
    let mut meta = serde_json::Map::new();
    for key in ["profile", "security", "tag"] {
        let mut labels: Vec<Value> = Vec::new();
        for label in [existing, incoming].iter().filter_map(|p| p["meta"][key].as_array()).flatten() {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        if !labels.is_empty() {
            meta.insert(key.into(), Value::Array(labels));
        }
    }
    if !meta.is_empty() {
        out.insert("meta".into(), Value::Object(meta));
    }
    let Some(new) = incoming.as_object() else { return Value::Object(out) };
    for (field, value) in new {
        match field.as_str() {
            "id" | "meta" | "text" | "resourceType" => {}
            "identifier" | "name" | "telecom" | "address" => {
                let mut list = out.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
                for item in value.as_array().into_iter().flatten() {
                    match list.iter().position(|have| same_element(field, have, item)) {
                        // One name with more given names than the other ("Ana" and "Ana M"):
                        // the fuller one stays, whichever came first.
                        Some(i) if field == "name" && given_count(item) > given_count(&list[i]) => {
                            // The fuller given names; what else the name held (use, prefix,
                            // period) stays.
                            let mut fuller = list[i].clone();
                            if let (Some(to), Some(from)) = (fuller.as_object_mut(), item.as_object()) {
                                for (k, v) in from {
                                    if k == "given" || !to.contains_key(k) {
                                        to.insert(k.clone(), v.clone());
                                    }
                                }
                            }
                            list[i] = fuller;
                        }
                        Some(_) => {}
                        None => list.push(item.clone()),
                    }
                }
                if !list.is_empty() {
                    out.insert(field.clone(), Value::Array(list));
                }
            }
            "gender" => {
                if matches!(out.get("gender").and_then(Value::as_str), None | Some("unknown")) {
                    out.insert(field.clone(), value.clone());
                }
            }
            _ => {
                out.entry(field.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    if out.get("resourceType").is_none() {
        out.insert("resourceType".into(), json!("Patient"));
    }
    Value::Object(out)
}

/// Why two Patients cannot be one person, when they say so: birth dates that differ, or names
/// with no family name in common (both must be given for either test). A Patient the server keeps
/// under the document's identifier that disagrees is not merged into: a misread MRN or a family's
/// shared member id must not file one person's facts under another.
pub fn conflict(existing: &Value, incoming: &Value) -> Option<&'static str> {
    let birth = |p: &Value| p["birthDate"].as_str().map(str::to_string);
    if let (Some(a), Some(b)) = (birth(existing), birth(incoming)) {
        if a != b {
            return Some("birth date");
        }
    }
    let families = |p: &Value| -> Vec<String> {
        p["name"].as_array().into_iter().flatten().filter_map(|n| n["family"].as_str()).map(norm).collect()
    };
    let (a, b) = (families(existing), families(incoming));
    if !a.is_empty() && !b.is_empty() && !a.iter().any(|f| b.contains(f)) {
        return Some("name");
    }
    None
}

/// Whether `p` carries the identifier `system|value` (value compared without case or punctuation).
pub fn carries(p: &Value, system: &str, value: &str) -> bool {
    p["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|i| i["system"] == system && norm(i["value"].as_str().unwrap_or("")) == norm(value))
}

/// Whether some name of `a` and some name of `b` are the same name (one's given names the start
/// of the other's): what a member id shared by a family needs besides the family name.
pub fn same_named(a: &Value, b: &Value) -> bool {
    let names = |p: &Value| p["name"].as_array().cloned().unwrap_or_default();
    names(a).iter().any(|x| names(b).iter().any(|y| same_name(x, y)))
}

/// What makes two list elements of a Patient the same one: the identifier's system (or type) and
/// value, the name's parts, the telecom's system and value (digits only for a phone), the
/// address's text — compared without case, spacing or punctuation.
fn same_element(field: &str, a: &Value, b: &Value) -> bool {
    if field == "name" {
        return same_name(a, b);
    }
    element_key(field, a) == element_key(field, b)
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn given(v: &Value) -> Vec<String> {
    v["given"].as_array().into_iter().flatten().filter_map(Value::as_str).map(norm).collect()
}

fn given_count(v: &Value) -> usize {
    given(v).len()
}

/// The same family and one's given names the start of the other's ("Ana" and "Ana M").
fn same_name(a: &Value, b: &Value) -> bool {
    let family = |v: &Value| norm(v["family"].as_str().unwrap_or(""));
    let (ga, gb) = (given(a), given(b));
    let (short, long) = if ga.len() <= gb.len() { (&ga, &gb) } else { (&gb, &ga) };
    family(a) == family(b) && long.starts_with(short)
}

fn element_key(field: &str, v: &Value) -> String {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    match field {
        "identifier" => {
            let issuer = if s("/system").is_empty() { s("/type/coding/0/code") } else { s("/system") };
            format!("{issuer}|{}", norm(s("/value")))
        }
        "telecom" => format!("{}|{}", s("/system"), norm(s("/value"))),
        "address" => {
            let text = s("/text");
            if text.is_empty() {
                norm(&v.to_string())
            } else {
                norm(text)
            }
        }
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    fn intake() -> Value {
        json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "3"},
            "identifier": [{"system": "urn:mrn", "value": "A-100"}],
            "name": [{"use": "official", "family": "Rivera", "given": ["Ana"]}],
            "telecom": [{"system": "phone", "value": "(555) 201-3344", "use": "home"}],
            "gender": "female", "birthDate": "1970-02-03",
            "address": [{"use": "home", "text": "12 Elm St, Springfield, IL 62701"}]})
    }

    #[test]
    fn a_document_that_says_less_erases_nothing() {
        let lab = json!({"resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "urn:mrn", "value": "a-100"}],
            "name": [{"use": "official", "family": "RIVERA", "given": ["ANA"]}]});
        let merged = merge(&intake(), &lab);
        let mut expected = intake();
        expected.as_object_mut().unwrap().remove("meta");
        assert_eq!(merged, expected, "the same identifier and name in other case are not added again");
    }

    #[test]
    fn what_a_document_adds_is_kept_beside_what_was_there() {
        let other = json!({"resourceType": "Patient", "id": "p9",
            "identifier": [{"system": "urn:member", "value": "XK-1"}],
            "telecom": [{"system": "phone", "value": "555.201.3344"}, {"system": "email", "value": "ana@example.org"}],
            "gender": "male", "birthDate": "1971-01-01",
            "address": [{"use": "home", "text": "40 Oak Ave, Peoria, IL"}]});
        let merged = merge(&intake(), &other);
        assert_eq!(merged["id"], "p1", "the existing id stays");
        assert_eq!(merged["identifier"].as_array().unwrap().len(), 2);
        assert_eq!(merged["telecom"].as_array().unwrap().len(), 2, "the same phone in other punctuation once");
        assert_eq!(merged["address"].as_array().unwrap().len(), 2);
        assert_eq!(merged["gender"], "female", "a gender on file is not overwritten");
        assert_eq!(merged["birthDate"], "1970-02-03");
        assert_eq!(merge(&merged, &other), merged, "merging the same document again changes nothing");
    }

    #[test]
    fn an_unknown_or_missing_value_is_filled_in() {
        let thin = json!({"resourceType": "Patient", "id": "p1", "gender": "unknown"});
        let merged = merge(&thin, &intake());
        assert_eq!(merged["gender"], "female");
        assert_eq!(merged["birthDate"], "1970-02-03");
        assert!(merged.get("meta").is_none(), "the server's meta is not sent back");
    }

    #[test]
    fn security_labels_and_tags_of_both_stay_and_the_servers_bookkeeping_goes() {
        let pseuded = json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "PSEUDED"});
        let tag = json!({"system": "urn:x", "code": "machine"});
        let mut ours = intake();
        ours["meta"] = json!({"security": [pseuded.clone()], "tag": [tag.clone()]});
        let mut server = intake();
        server["meta"] = json!({"versionId": "7", "lastUpdated": "2026-01-01T00:00:00Z", "tag": [tag.clone()]});
        let merged = merge(&server, &ours);
        assert_eq!(merged["meta"], json!({"security": [pseuded], "tag": [tag]}));
        assert_eq!(merge(&merged, &ours), merged, "merging again changes nothing");
    }

    #[test]
    fn patients_that_disagree_on_birth_date_or_family_are_not_one_person() {
        let other_birth = json!({"birthDate": "1971-02-03", "name": [{"family": "Rivera"}]});
        assert_eq!(conflict(&intake(), &other_birth), Some("birth date"));
        let other_family = json!({"name": [{"family": "Okafor"}]});
        assert_eq!(conflict(&intake(), &other_family), Some("name"));
        assert_eq!(conflict(&intake(), &json!({"name": [{"family": "RIVERA", "given": ["A"]}]})), None);
        assert_eq!(conflict(&intake(), &json!({"telecom": []})), None, "silence is no conflict");
        assert!(carries(&intake(), "urn:mrn", "a-100"));
        assert!(!carries(&intake(), "urn:other", "A-100"));
        let child = json!({"name": [{"family": "Rivera", "given": ["Tim"]}]});
        assert!(!same_named(&intake(), &child), "a family's member id does not make the child the parent");
        assert!(same_named(&intake(), &json!({"name": [{"family": "Rivera", "given": ["Ana", "M"]}]})));
    }

    #[test]
    fn a_name_with_fewer_given_names_is_the_same_name_and_the_fuller_stays() {
        let short =
            json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Okafor", "given": ["Marguerite"]}]});
        let full = json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Okafor", "given": ["Marguerite", "L"]}]});
        assert_eq!(merge(&short, &full)["name"], full["name"]);
        let official = json!({"resourceType": "Patient", "id": "p1", "name": [{"use": "official", "prefix": ["Mrs"], "family": "Okafor", "given": ["Marguerite"]}]});
        assert_eq!(
            merge(&official, &full)["name"],
            json!([{"use": "official", "prefix": ["Mrs"], "family": "Okafor", "given": ["Marguerite", "L"]}]),
            "the fuller given names, what else the name held kept"
        );
        assert_eq!(merge(&full, &short)["name"], full["name"]);
        let other = json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Okafor", "given": ["Ada"]}]});
        assert_eq!(merge(&full, &other)["name"].as_array().unwrap().len(), 2, "another given name is another name");
    }
}
