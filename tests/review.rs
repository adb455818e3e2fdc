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
