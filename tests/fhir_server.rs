//! The FHIR REST sink against a real FHIR R4 server (Helios, validation enforced) on 127.0.0.1:
//! every sample is accepted, and a second run leaves every resource count unchanged; documents
//! processed again with other settings leave exactly their new resources (what the old version
//! wrote and the new one lacks deleted), and a patient's documents merge into one Patient.

use paperchart_testkit::*;

#[test]
fn samples_into_a_fhir_server_twice_change_nothing_the_second_time() {
    let server = FhirServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        run_ok(
            paperchart()
                .args(["run", "--no-progress", "--sink", "fhir", "--fhir-url", &server.base, "--out"])
                .arg(tmp.path().join(out))
                .arg(samples().join("documents")),
        )
    };
    run("first");
    let first: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    assert_eq!(first[0], 5, "five patients across six documents");
    assert_eq!(first[1], 6, "one DocumentReference per document");
    assert!(first.iter().all(|n| *n > 0), "{first:?}");

    // The same resources a directory run produces, one for one.
    run_ok(
        paperchart()
            .args(["run", "--no-progress", "--out"])
            .arg(tmp.path().join("dir"))
            .arg(samples().join("documents")),
    );
    for (t, n) in RESOURCE_TYPES.iter().zip(&first) {
        let lines =
            std::fs::read_to_string(tmp.path().join("dir/ndjson").join(format!("{t}.ndjson"))).unwrap().lines().count();
        assert_eq!(lines as u64, *n, "{t}: server count vs NDJSON lines");
    }

    run("second");
    let second: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    assert_eq!(first, second, "a second run must change no count");
    let summary = read_json(&tmp.path().join("second/summary.json"));
    assert_eq!(summary["failed"], 0);
    assert!(summary["sink"].as_str().unwrap().contains(&server.base));
}

#[test]
fn a_wrong_url_fails_fast_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    // The environment names the sink kind, the flag its URL (as on ECS plus a flag): the
    // configuration is checked after the flags, so this gets as far as the server.
    let out = paperchart()
        .env("PAPERCHART__SINK__KIND", "fhir")
        .args(["run", "--no-progress", "--fhir-url", &format!("http://127.0.0.1:{port}/fhir"), "--out"])
        .arg(tmp.path())
        .arg(samples().join("documents/lab-report.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the FHIR server"), "{err}");
}

#[test]
fn documents_processed_again_hold_only_their_new_resources_and_a_patient_gathers_every_document() {
    let server = FhirServer::start();
    let tmp = tempfile::tempdir().unwrap();
    // Stricter settings hold the less certain findings for review only: a newer version of the
    // same documents with fewer resources. Split in transactions of 3 entries, as a server
    // with a small Bundle limit takes them.
    let strict = [("PAPERCHART__FHIR__MIN_CONFIDENCE", "0.97"), ("PAPERCHART__FHIR__LOW_CONFIDENCE", "omit")];
    let run = |out: &str, env: &[(&str, &str)], sink: &[&str]| {
        let mut c = paperchart();
        c.env("PAPERCHART__SINK__MAX_ENTRIES", "3");
        for (k, v) in env {
            c.env(k, v);
        }
        run_ok(
            c.args(["run", "--no-progress"])
                .args(sink)
                .arg("--out")
                .arg(tmp.path().join(out))
                .arg(samples().join("documents")),
        )
    };
    let fhir = ["--sink", "fhir", "--fhir-url", server.base.as_str()];
    let ndjson_counts = |out: &str| -> Vec<u64> {
        RESOURCE_TYPES
            .iter()
            .map(|t| {
                std::fs::read_to_string(tmp.path().join(out).join("ndjson").join(format!("{t}.ndjson")))
                    .map_or(0, |s| s.lines().count() as u64)
            })
            .collect()
    };
    run("first", &[], &fhir);
    let first: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    run("strict", &strict, &fhir);
    let strict_counts: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    run("strict-dir", &strict, &[]);
    assert_eq!(
        strict_counts,
        ndjson_counts("strict-dir"),
        "the server holds what a fresh run of the new version writes"
    );
    assert!(
        strict_counts.iter().sum::<u64>() < first.iter().sum::<u64>(),
        "the stricter version wrote fewer resources: {first:?} vs {strict_counts:?}"
    );
    // And back: what was deleted is written again, nothing twice.
    run("again", &[], &fhir);
    assert_eq!(RESOURCE_TYPES.iter().map(|t| server.count(t)).collect::<Vec<_>>(), first);

    // The discharge summary and the referral letter name one patient, the letter with fewer
    // given names and no gender: the Patient keeps what either said.
    let (status, body) = http_get(&format!("{}/Patient?_count=50", server.base)).expect("search");
    assert_eq!(status, 200, "{body}");
    let bundle: serde_json::Value = serde_json::from_str(&body).unwrap();
    let okafor: Vec<&serde_json::Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|p| p["name"][0]["family"] == "Okafor")
        .collect();
    assert_eq!(okafor.len(), 1, "one Patient for both documents");
    let p = okafor[0];
    assert_eq!(p["gender"], "female", "{p}");
    assert_eq!(p["name"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["name"][0]["given"], serde_json::json!(["Marguerite", "L"]), "{p}");
}

/// The Patients on the server with this family name, without their versions.
fn patients_named(server: &FhirServer, family: &str) -> Vec<serde_json::Value> {
    let (status, body) = http_get(&format!("{}/Patient?_count=50", server.base)).expect("search");
    assert_eq!(status, 200, "{body}");
    let bundle: serde_json::Value = serde_json::from_str(&body).unwrap();
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut p = e["resource"].clone();
            p.as_object_mut().unwrap().remove("meta");
            p
        })
        .filter(|p| p["name"][0]["family"] == family)
        .collect()
}

#[test]
fn a_document_whose_later_transaction_is_refused_is_undone_on_the_server() {
    let server = FhirServer::start();
    // The Provenance travels in a document's last transaction: that one is refused.
    let proxy = FaultProxy::refusing(&server.base, r#""resourceType":"Provenance""#);
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str, base: &str, env: &[(&str, &str)], file: &str| {
        let mut c = paperchart();
        c.env("PAPERCHART__SINK__MAX_ENTRIES", "3");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(["run", "--no-progress", "--sink", "fhir", "--fhir-url", base, "--out"])
            .arg(tmp.path().join(out))
            .arg(samples().join("documents").join(file))
            .output()
            .unwrap()
    };
    let counts = || RESOURCE_TYPES.iter().map(|t| server.count(t)).collect::<Vec<u64>>();
    let refused = |out: &str, output: &std::process::Output| {
        assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let summary = read_json(&tmp.path().join(out).join("summary.json"));
        assert_eq!(summary["failed"], 1, "{summary}");
        let dead = std::fs::read_to_string(tmp.path().join(out).join("dead-letter.ndjson")).unwrap();
        assert!(dead.contains("(400)") && dead.contains("was undone"), "{dead}");
    };

    // A new patient's document: everything but its Patient (which other documents of the
    // patient may point at already) deleted again.
    let out = run("new", &proxy.base, &[], "lab-report.pdf");
    refused("new", &out);
    let mut only_the_patient = vec![0; RESOURCE_TYPES.len()];
    only_the_patient[RESOURCE_TYPES.iter().position(|t| *t == "Patient").unwrap()] = 1;
    assert_eq!(counts(), only_the_patient, "nothing of it but the Patient is on the server");

    // The referral letter names Marguerite Okafor; the discharge summary names her too and
    // says more of her (given names, gender): it would merge into her Patient.
    let letter = run("letter", &server.base, &[], "referral-letter.tif");
    assert!(letter.status.success(), "{}", String::from_utf8_lossy(&letter.stderr));
    let before = counts();
    let okafor = patients_named(&server, "Okafor");
    assert_eq!(okafor.len(), 1);

    let out = run("refused", &proxy.base, &[], "discharge-summary-scanned.pdf");
    refused("refused", &out);
    assert_eq!(counts(), before, "the resources its earlier transactions created are deleted again");
    assert_eq!(patients_named(&server, "Okafor"), okafor, "the Patient is put back as the letter left it");

    // Written whole once the server takes it.
    let whole = run("whole", &server.base, &[], "discharge-summary-scanned.pdf");
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    let after = counts();
    assert!(after.iter().sum::<u64>() > before.iter().sum::<u64>() + 3, "{before:?} → {after:?}");
    let merged = patients_named(&server, "Okafor");
    assert_ne!(merged, okafor, "the summary's Patient merged into the letter's");

    // A newer version holding fewer resources deletes the older one's; refused, what it
    // deleted is put back.
    let strict = [("PAPERCHART__FHIR__MIN_CONFIDENCE", "0.97"), ("PAPERCHART__FHIR__LOW_CONFIDENCE", "omit")];
    let out = run("strict", &proxy.base, &strict, "discharge-summary-scanned.pdf");
    refused("strict", &out);
    assert_eq!(counts(), after, "what the newer version deleted is put back");
    assert_eq!(patients_named(&server, "Okafor"), merged);
}
