//! Scanned forms from scripts/data/make_formset.py (tests/fixtures/forms: an intake form with
//! drawn check boxes and an emergency contact, a CMS-1500 claim, an insurance card, an
//! immunization card, a lab report whose columns are in its own order, a vital-signs flowsheet, a
//! bank statement or invoice), read with real Tesseract and checked against their gold: the
//! patient and never another party, the claim's diagnosis field only, box answers as assertions,
//! no caption or number read as a finding, every result of a table with its value, nothing
//! clinical from a non-clinical document, and valid FHIR.

use paperchart_testkit::*;
use serde_json::Value;

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or("").to_lowercase()
}

/// Every text and display of a resource's code (Condition.code, Immunization.vaccineCode …).
fn words_of(r: &Value) -> String {
    let cc = r.get("code").or_else(|| r.get("vaccineCode")).cloned().unwrap_or(Value::Null);
    let mut out = lower(&cc["text"]);
    for c in cc["coding"].as_array().into_iter().flatten() {
        out.push(' ');
        out.push_str(&lower(&c["display"]));
    }
    out
}

fn gold_value(v: &Value) -> Option<&Value> {
    match v {
        Value::Null => None,
        Value::Object(o) if o.contains_key("value") => None, // not required: not checked here
        other => Some(other),
    }
}

#[test]
fn forms_are_read_as_their_gold_says() {
    let fixtures = root().join("tests/fixtures/forms");
    let gold = read_json(&fixtures.join("gold.json"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(fixtures.join("documents")));
    let bundles = bundles_by_document(&out);
    let clinical_types =
        ["Condition", "MedicationStatement", "AllergyIntolerance", "Procedure", "Immunization", "FamilyMemberHistory"];
    for (name, g) in gold["documents"].as_object().unwrap() {
        let bundle = &bundles[name];
        let all: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
        if g["clinical"] == false {
            let types: Vec<&str> = all.iter().map(|r| r["resourceType"].as_str().unwrap()).collect();
            assert_eq!(types, ["DocumentReference", "Provenance"], "{name}: nothing but the document");
            continue;
        }
        let patient = resources(bundle, "Patient");
        let patient = patient.first().unwrap_or_else(|| panic!("{name}: filed under a patient"));
        let gp = &g["patient"];
        if let Some(given) = gold_value(&gp["given"]) {
            assert_eq!(lower(&patient["name"][0]["given"][0]), lower(given), "{name}: given name");
        }
        if let Some(family) = gold_value(&gp["family"]) {
            assert_eq!(lower(&patient["name"][0]["family"]), lower(family), "{name}: family name");
        }
        match &gp["gender"] {
            Value::Null => assert!(patient.get("gender").is_none(), "{name}: no sex on the document"),
            Value::Object(o) => {
                if let Some(sex) = patient.get("gender") {
                    assert_eq!(sex, &o["value"], "{name}: a sex read must be the right one");
                }
            }
            sex => assert_eq!(&patient["gender"], sex, "{name}: sex"),
        }
        if let Some(b) = gold_value(&gp["birthDate"]) {
            assert_eq!(&patient["birthDate"], b, "{name}: birth date");
        }
        let mut ids: Vec<String> =
            patient["identifier"].as_array().into_iter().flatten().map(|i| lower(&i["value"])).collect();
        for c in resources(bundle, "Coverage") {
            ids.push(lower(&c["subscriberId"]));
        }
        let gold_ids: Vec<String> = gp["identifiers"].as_array().into_iter().flatten().map(lower).collect();
        for id in &gold_ids {
            assert!(ids.contains(id), "{name}: identifier {id} in {ids:?}");
        }
        for id in &ids {
            assert!(gold_ids.contains(id), "{name}: identifier {id} is not the patient's ({gold_ids:?})");
        }
        if let Some(date) = g.get("service_date") {
            // A claim's date is its first date of service: the document's period and each
            // diagnosis's recorded date.
            let doc = resources(bundle, "DocumentReference")[0];
            assert_eq!(&doc["context"]["period"]["start"], date, "{name}: date of service");
            for c in resources(bundle, "Condition") {
                assert_eq!(&c["recordedDate"], date, "{name}: a diagnosis is recorded on the date of service");
            }
        }
        let conditions = resources(bundle, "Condition");
        for c in g["conditions"].as_array().unwrap() {
            let mut names = vec![lower(&c["text"])];
            names.extend(c["synonyms"].as_array().into_iter().flatten().map(lower));
            let codes: Vec<&str> = c["codes"].as_array().into_iter().flatten().filter_map(|x| x.as_str()).collect();
            let want = if c["assertion"] == "absent" { "refuted" } else { "confirmed" };
            let found = conditions.iter().any(|r| {
                let words = words_of(r);
                let coded = r["code"]["coding"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| codes.contains(&x["code"].as_str().unwrap_or("")));
                (coded || names.iter().any(|n| words.contains(n.as_str())))
                    && r["verificationStatus"]["coding"][0]["code"] == want
            });
            assert!(
                found,
                "{name}: {} ({want}) among {:?}",
                c["text"],
                conditions.iter().map(|r| words_of(r)).collect::<Vec<_>>()
            );
        }
        assert_eq!(conditions.len(), g["conditions"].as_array().unwrap().len(), "{name}: no other condition");
        for m in g["must_not"].as_array().unwrap() {
            for phrase in m["text"].as_array().into_iter().flatten() {
                let phrase = lower(phrase);
                for r in all.iter().filter(|r| clinical_types.contains(&r["resourceType"].as_str().unwrap())) {
                    assert!(!words_of(r).contains(&phrase), "{name}: {} ({})", phrase, m["why"]);
                }
            }
        }
        // Results printed as tables, in the report's own order of columns, and flowsheets: each
        // gold result an Observation with its LOINC code and value (blood pressure's components),
        // a flowsheet's on its row's date.
        let observations = resources(bundle, "Observation");
        for o in g["observations"].as_array().into_iter().flatten() {
            let code = o["codes"][0].as_str().unwrap();
            let values: Vec<f64> = o["values"].as_array().unwrap().iter().filter_map(Value::as_f64).collect();
            let found = observations.iter().any(|r| {
                let read: Vec<f64> = std::iter::once(&r["valueQuantity"]["value"])
                    .chain(r["component"].as_array().into_iter().flatten().map(|c| &c["valueQuantity"]["value"]))
                    .filter_map(Value::as_f64)
                    .collect();
                r["code"]["coding"].as_array().unwrap().iter().any(|c| c["code"] == code)
                    && values.iter().all(|v| read.iter().any(|x| (x - v).abs() < 1e-6))
            });
            assert!(found, "{name}: {} {values:?} among {} observations", o["text"], observations.len());
        }
        assert_eq!(
            observations.len(),
            g["observations"].as_array().map_or(0, Vec::len),
            "{name}: no other observation"
        );
        let doses = resources(bundle, "Immunization");
        let gold_doses = g["immunizations"].as_array().unwrap();
        assert_eq!(doses.len(), gold_doses.len(), "{name}: one Immunization per dose");
        for (d, gd) in doses.iter().zip(gold_doses) {
            assert_eq!((&d["occurrenceDateTime"], &d["lotNumber"]), (&gd["date"], &gd["lot"]), "{name}");
        }
    }
    validate_fhir(&[&out.join("ndjson")]);
}
