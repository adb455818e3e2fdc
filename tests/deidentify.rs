//! `paperchart run --deidentify`: the same documents, with every piece of PHI replaced by a
//! surrogate in the text and in every resource — consistently, so one patient's documents still
//! meet under one surrogate Patient — and every resource marked PSEUDED.

use std::collections::BTreeSet;

use paperchart_testkit::*;
use serde_json::Value;

fn resources(out: &std::path::Path, kind: &str) -> Vec<Value> {
    let path = out.join("ndjson").join(format!("{kind}.ndjson"));
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

fn everything(out: &std::path::Path) -> String {
    let mut all = String::new();
    for dir in ["ndjson", "bundles"] {
        for e in std::fs::read_dir(out.join(dir)).unwrap() {
            all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    // The extracted text travels base64-encoded in the DocumentReference: read it too.
    for d in resources(out, "DocumentReference") {
        for c in d["content"].as_array().unwrap() {
            if let Some(data) = c["attachment"]["data"].as_str() {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    all
}

#[test]
fn de_identified_output_holds_no_original_phi_and_keeps_one_patient_per_person() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, deid) = (tmp.path().join("plain"), tmp.path().join("deid"));
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&plain).arg(samples().join("documents")));
    run_ok(
        paperchart()
            .args(["run", "--no-progress", "--deidentify", "--out"])
            .arg(&deid)
            .arg(samples().join("documents")),
    );

    // What identifies the sample patients in the plain output.
    let mut phi: BTreeSet<String> = BTreeSet::new();
    for p in resources(&plain, "Patient") {
        for n in p["name"].as_array().unwrap() {
            phi.insert(n["family"].as_str().unwrap().to_string());
        }
        if let Some(b) = p["birthDate"].as_str() {
            phi.insert(b.to_string());
        }
        for id in p["identifier"].as_array().into_iter().flatten() {
            phi.insert(id["value"].as_str().unwrap().to_string());
        }
    }
    assert!(phi.len() >= 10, "{phi:?}");
    let deidentified = everything(&deid);
    for original in &phi {
        assert!(!deidentified.contains(original.as_str()), "{original:?} is still in the de-identified output");
    }
    for name in samples_file_names() {
        assert!(!deidentified.contains(&name), "the file name {name} is still in the output");
    }

    // The same people: as many Patients, and the same documents per Patient.
    let patients = |out: &std::path::Path| {
        let mut per: Vec<usize> = resources(out, "Patient")
            .iter()
            .map(|p| {
                let id = p["id"].as_str().unwrap();
                resources(out, "DocumentReference")
                    .iter()
                    .filter(|d| d["subject"]["reference"].as_str() == Some(&format!("Patient/{id}")))
                    .count()
            })
            .collect();
        per.sort();
        per
    };
    assert_eq!(patients(&deid), patients(&plain), "documents per patient");
    assert_eq!(resources(&deid, "Condition").len(), resources(&plain, "Condition").len());

    // Every resource says it was pseudonymized.
    for kind in ["Patient", "DocumentReference", "Condition", "MedicationStatement", "Observation", "Provenance"] {
        for r in resources(&deid, kind) {
            let labels = r["meta"]["security"].as_array().unwrap_or_else(|| panic!("{kind} without meta.security"));
            assert!(labels.iter().any(|l| l["code"] == "PSEUDED"), "{kind}: {labels:?}");
        }
    }
}

fn samples_file_names() -> Vec<String> {
    std::fs::read_dir(samples().join("documents"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}
