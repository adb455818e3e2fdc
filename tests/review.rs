//! Findings of a document that names no patient are held for review, never dropped and never
//! filed: `<out>/review/<document id>.json` keeps them with their assertions, the summary counts
//! them, and the bundle holds only the document and its provenance.

use paperchart_testkit::*;

#[test]
fn a_document_without_a_patient_keeps_its_findings_in_the_review_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = || {
        run_ok(
            paperchart()
                .args(["run", "--no-progress", "--out"])
                .arg(&out)
                .arg(root().join("tests/fixtures/review/unidentified-note.pdf"))
                .arg(samples().join("documents/lab-report.pdf")),
        )
    };
    let output = run();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("held for review"), "{stdout}");

    let summary = read_json(&out.join("summary.json"));
    let docs = summary["documents"].as_array().unwrap();
    let note = docs.iter().find(|d| d["name"] == "unidentified-note.pdf").unwrap();
    let lab = docs.iter().find(|d| d["name"] == "lab-report.pdf").unwrap();
    assert_eq!(note["outcome"]["status"], "needs_review", "{note}");
    let held = note["held"].as_u64().unwrap();
    assert!(held >= 3, "two conditions, a denied symptom and a medication: {note}");
    assert_eq!(summary["held_for_review"].as_u64(), Some(held));
    assert_eq!(lab["held"], 0, "a document with a patient holds nothing: {lab}");

    let id = note["document_id"].as_str().unwrap();
    let files: Vec<_> = std::fs::read_dir(out.join("review")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, [std::ffi::OsString::from(format!("{id}.json"))], "one review, for the note only");
    let review = read_json(&out.join("review").join(format!("{id}.json")));
    assert_eq!((review["paperchart_review"].as_u64(), review["reason"].as_str()), (Some(1), Some("no_identity")));
    let findings = review["findings"].as_array().unwrap();
    assert_eq!(findings.len() as u64, held);
    let text = |f: &serde_json::Value| f["text"].as_str().unwrap().to_lowercase();
    let chest = findings.iter().find(|f| text(f).contains("chest pain")).expect("the denied symptom is kept");
    assert_eq!(chest["assertion"], "absent");
    assert!(findings.iter().any(|f| f["type"] == "MEDICATION" && text(f).contains("metformin")), "{findings:?}");
    let resources = review["resources"].as_array().unwrap();
    assert!(resources.iter().any(|r| r["resourceType"] == "Condition"), "{resources:?}");
    assert!(resources.iter().all(|r| r["subject"].get("reference").is_none()), "no patient is invented");

    // The bundle files nothing under a patient.
    let bundle = &bundles_by_document(&out)["unidentified-note.pdf"];
    let kinds: Vec<&str> =
        bundle["entry"].as_array().unwrap().iter().map(|e| e["resource"]["resourceType"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["DocumentReference", "Provenance"]);

    // Processing it again overwrites its review; nothing doubles.
    run();
    assert_eq!(std::fs::read_dir(out.join("review")).unwrap().count(), 1);
    let again = read_json(&out.join("review").join(format!("{id}.json")));
    assert_eq!(again["findings"], review["findings"]);
}

/// A fax as a fax server stores it (Group 3 TIFF at 204 × 98 dpi, read by real Tesseract): its
/// transmission lines are found and kept from the findings (the sender, a heart failure clinic,
/// gives the patient no heart failure), and a transmission that announced more pages than
/// arrived goes to review saying so; the document and its findings are still written. The same
/// pages coded two-dimensionally (T4Options 1, as many fax servers store them) read the same.
#[test]
fn a_fax_is_read_its_header_lines_are_no_findings_and_a_missing_page_is_said() {
    for name in ["faxed-referral.tif", "faxed-referral-2d.tif"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        run_ok(
            paperchart()
                .args(["run", "--no-progress", "--out"])
                .arg(&out)
                .arg(root().join("tests/fixtures/review").join(name)),
        );
        let summary = read_json(&out.join("summary.json"));
        let doc = &summary["documents"][0];
        assert_eq!((doc["pages"].as_u64(), doc["fax_lines"].as_u64()), (Some(2), Some(2)), "{name}: {doc}");
        assert_eq!(doc["outcome"]["status"], "needs_review", "{name}: {doc}");
        let reason = doc["outcome"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("fax announced 3 page(s), the file holds 2; no fax line for page 3"),
            "{name}: {reason}"
        );

        let bundle = &bundles_by_document(&out)[name];
        let resources: Vec<&serde_json::Value> =
            bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
        let patient = resources.iter().find(|r| r["resourceType"] == "Patient").expect("the patient is read");
        assert_eq!(patient["name"][0]["family"], "Whitcombe", "{name}");
        let conditions: Vec<String> = resources
            .iter()
            .filter(|r| r["resourceType"] == "Condition")
            .map(|r| r["code"]["text"].as_str().unwrap_or_default().to_lowercase())
            .collect();
        assert!(conditions.iter().any(|c| c.contains("obstructive pulmonary")), "{name}: {conditions:?}");
        assert!(
            conditions.iter().all(|c| !c.contains("heart failure")),
            "{name}: the sender's name is no finding: {conditions:?}"
        );
    }
}
