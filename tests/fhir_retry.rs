//! How the FHIR REST sink treats a server that throttles, fails or refuses: 429 and 5xx are
//! retried (honouring Retry-After), a 400 is final and its OperationOutcome becomes the reason.
//! And how it meets the Patients a server already has: one found under the document's MRN is
//! adopted and merged into, two are refused, another writer's change in between is read again.
//! The peer is a scripted HTTP server on 127.0.0.1 that answers each POST from a list; every
//! request must carry the bearer token.

use std::time::{Duration, Instant};

use paperchart_testkit::*;

const TOKEN: &str = "s3cret-token";

fn post_times(seen: &Requests) -> Vec<Instant> {
    let seen = seen.lock().unwrap();
    for r in seen.iter() {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()), "{}", r.line);
    }
    seen.iter().filter(|r| r.line.starts_with("POST")).map(|r| r.at).collect()
}

fn run_against(base: &str, out: &std::path::Path) -> std::process::Output {
    run_with(base, out, &[])
}

/// `run` of the lab report against `base`, with settings of the test's own after the defaults.
fn run_with(base: &str, out: &std::path::Path, settings: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = paperchart();
    cmd.env("PAPERCHART_FHIR_TOKEN", TOKEN)
        .env("PAPERCHART__SINK__BACKOFF_BASE_MS", "50")
        .env("PAPERCHART__SINK__MAX_ATTEMPTS", "4");
    for (k, v) in settings {
        cmd.env(k, v);
    }
    cmd.args(["run", "--no-progress", "--sink", "fhir", "--fhir-url", base, "--out"])
        .arg(out)
        .arg(samples().join("documents/lab-report.pdf"))
        .output()
        .unwrap()
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let (base, posts) = scripted(vec![
        Reply::Status(
            429,
            vec![("Retry-After", "1")],
            r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}"#,
        ),
        Reply::Status(503, vec![], "busy"),
        Reply::Status(500, vec![], "oops"),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let times = post_times(&posts);
    assert_eq!(times.len(), 4, "three refusals, then the write");
    assert!(
        times[1] - times[0] >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: {:?}",
        times[1] - times[0]
    );
    let summary = read_json(&tmp.path().join("summary.json"));
    assert_eq!(summary["documents"][0]["outcome"]["status"], "ok");
}

#[test]
fn a_refusal_is_final_and_says_why() {
    let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"Observation.valueQuantity: bad unit","expression":["Observation.valueQuantity"]}]}"#;
    let (base, posts) = scripted(vec![Reply::Status(400, vec![], oo)]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(post_times(&posts).len(), 1, "a 400 is not retried");
    let summary = read_json(&tmp.path().join("summary.json"));
    let outcome = &summary["documents"][0]["outcome"];
    assert_eq!((outcome["class"].as_str(), outcome["error"].as_str()), (Some("permanent"), Some("sink_rejected")));
    // Where and what kind, from the OperationOutcome; never the server's own words, which may
    // quote the patient.
    let reason = outcome["reason"].as_str().unwrap();
    assert!(reason.contains("error invalid at Observation.valueQuantity"), "{outcome}");
    assert!(!reason.contains("bad unit"), "{outcome}");
}

#[test]
fn a_server_that_stays_down_is_a_transient_failure() {
    let (base, posts) = scripted(vec![Reply::Status(502, vec![], ""); 10]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(post_times(&posts).len(), 4, "max_attempts");
    let summary = read_json(&tmp.path().join("summary.json"));
    assert_eq!(summary["documents"][0]["outcome"]["class"], "transient");
}

/// The lab report's patient as the server already holds it, under the server's own id.
fn server_patient(version: u32) -> String {
    serde_json::json!({
        "resourceType": "Patient", "id": "srv-7", "meta": {"versionId": version.to_string()},
        "identifier": [{"system": "urn:paperchart:mrn", "value": "50118342"}],
        "name": [{"family": "Vasquez", "given": ["Daniel"]}],
        "address": [{"use": "home", "text": "1 Harbor Rd, Mystic, CT 06355"}]
    })
    .to_string()
}

fn searchset(patients: &[&str]) -> String {
    let entries: Vec<serde_json::Value> = patients
        .iter()
        .map(|p| serde_json::json!({"resource": serde_json::from_str::<serde_json::Value>(p).unwrap(), "search": {"mode": "match"}}))
        .collect();
    serde_json::json!({"resourceType": "Bundle", "type": "searchset", "entry": entries}).to_string()
}

fn posted(seen: &Requests) -> Vec<serde_json::Value> {
    let seen = seen.lock().unwrap();
    seen.iter().filter(|r| r.line.starts_with("POST")).map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
}

/// Every `reference` to a Patient in a transaction.
fn patient_references(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                match c.as_str() {
                    Some(r) if k == "reference" && r.starts_with("Patient/") => out.push(r.to_string()),
                    _ => patient_references(c, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| patient_references(c, out)),
        _ => {}
    }
}

#[test]
fn a_patient_the_server_has_under_the_mrn_is_adopted_and_merged_into() {
    let one = server_patient(4);
    let (base, seen) = scripted_with(
        vec![],
        vec![("/Patient?identifier=".into(), vec![searchset(&[&one])]), ("/Patient/srv-7".into(), vec![one.clone()])],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let search = seen.lock().unwrap().iter().find(|r| r.line.contains("identifier=")).cloned().expect("a search");
    assert!(search.line.contains("urn%3Apaperchart%3Amrn%7C50118342"), "{}", search.line);
    assert_eq!(search.header("prefer"), Some("handling=strict"), "an unknown parameter must fail, not be ignored");
    let tx = &posted(&seen)[0];
    let patient = tx["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "Patient").unwrap();
    assert_eq!(patient["request"]["url"], "Patient/srv-7");
    assert_eq!(patient["request"]["ifMatch"], "W/\"4\"", "the version read, so a concurrent change is not lost");
    let p = &patient["resource"];
    assert_eq!(p["address"][0]["text"], "1 Harbor Rd, Mystic, CT 06355", "what the server had stays");
    assert_eq!(p["birthDate"], "1971-09-23", "what the document adds is added");
    assert_eq!(p["name"].as_array().unwrap().len(), 1, "Daniel and Daniel R are one name: {p}");
    let mut refs = Vec::new();
    patient_references(tx, &mut refs);
    assert!(refs.len() > 3 && refs.iter().all(|r| r == "Patient/srv-7"), "{refs:?}");
}

#[test]
fn two_patients_under_one_identifier_are_refused_and_nothing_is_written() {
    let other = server_patient(1).replace("srv-7", "srv-8");
    let (base, seen) =
        scripted_with(vec![], vec![("/Patient?identifier=".into(), vec![searchset(&[&server_patient(1), &other])])]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(posted(&seen).is_empty(), "nothing written for a patient the server holds twice");
    let summary = read_json(&tmp.path().join("summary.json"));
    let outcome = &summary["documents"][0]["outcome"];
    assert_eq!(outcome["class"], "permanent");
    let reason = outcome["reason"].as_str().unwrap();
    assert!(reason.contains("2 Patients") && !reason.contains("50118342"), "a reason without the MRN: {reason}");
}

#[test]
fn a_patient_changed_by_another_writer_meanwhile_is_read_and_merged_again() {
    let v2 = server_patient(2).replace("1 Harbor Rd", "9 Pine St");
    let conflict = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict"}]}"#;
    let (base, seen) = scripted_with(
        vec![Reply::Status(412, vec![], conflict)],
        vec![
            ("/Patient?identifier=".into(), vec![searchset(&[&server_patient(1)])]),
            ("/Patient/srv-7".into(), vec![server_patient(1), v2]),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let txs = posted(&seen);
    assert_eq!(txs.len(), 2, "refused once for the version, then written");
    let patient = |tx: &serde_json::Value| {
        tx["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "Patient").unwrap().clone()
    };
    assert_eq!(patient(&txs[0])["request"]["ifMatch"], "W/\"1\"");
    let second = patient(&txs[1]);
    assert_eq!(second["request"]["ifMatch"], "W/\"2\"");
    assert_eq!(
        second["resource"]["address"][0]["text"], "9 Pine St, Mystic, CT 06355",
        "the other writer's change kept"
    );
}

#[test]
fn a_patient_under_the_mrn_with_another_birth_date_is_not_merged_into() {
    let other = server_patient(3).replace(r#""name""#, r#""birthDate":"1990-01-01","name""#);
    let (base, seen) = scripted_with(
        vec![],
        vec![
            ("/Patient?identifier=".into(), vec![searchset(&[&other])]),
            ("/Patient/srv-7".into(), vec![other.clone()]),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(posted(&seen).is_empty(), "a misread MRN must not file the document under another person");
    let summary = read_json(&tmp.path().join("summary.json"));
    let reason = summary["documents"][0]["outcome"]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("another birth date") && !reason.contains("1990"), "{reason}");
}

#[test]
fn a_search_answer_without_the_identifier_is_not_adopted() {
    // A server that ignored the identifier answers whoever it has.
    let stranger = server_patient(1).replace("50118342", "77777777");
    let (base, seen) = scripted_with(vec![], vec![("/Patient?identifier=".into(), vec![searchset(&[&stranger])])]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tx = &posted(&seen)[0];
    let mut refs = Vec::new();
    patient_references(tx, &mut refs);
    assert!(!refs.is_empty() && refs.iter().all(|r| r != "Patient/srv-7"), "{refs:?}");
}

#[test]
fn a_patient_another_writer_created_meanwhile_is_merged_back_when_the_server_let_ours_replace_it() {
    let ours =
        paperchart_fhir::ids::PatientKey::Mrn { system: "urn:paperchart:mrn".into(), value: "50118342".into() }.id();
    let theirs = server_patient(1).replace("srv-7", &ours);
    let replaced = serde_json::json!({"resourceType": "Patient", "id": ours, "meta": {"versionId": "2"},
        "identifier": [{"system": "urn:paperchart:mrn", "value": "50118342"}],
        "name": [{"family": "Vasquez", "given": ["Daniel", "R"]}], "birthDate": "1971-09-23"})
    .to_string();
    // Not there when read; then, after our write, version 2 (ours) over version 1 (theirs).
    let (base, seen) = scripted_with(
        vec![Reply::Updated],
        vec![
            (format!("/Patient/{ours}/_history/1"), vec![theirs]),
            (format!("/Patient/{ours}"), vec![String::new(), replaced]),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run_against(&base, tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let txs = posted(&seen);
    assert_eq!(txs.len(), 2, "the document, then the Patient merged back");
    assert_eq!(txs[0]["entry"][0]["request"]["ifNoneMatch"], "*");
    let restored = &txs[1]["entry"][0];
    assert_eq!(restored["request"]["ifMatch"], "W/\"2\"");
    assert_eq!(restored["resource"]["address"][0]["text"], "1 Harbor Rd, Mystic, CT 06355", "their address back");
    assert_eq!(restored["resource"]["birthDate"], "1971-09-23", "our birth date kept");
}

#[test]
fn an_answer_that_crawls_past_the_timeout_is_retried_as_timed_out() {
    // Before: the cut answer was read as an empty body, "refused (200): response is not JSON",
    // final.
    let (base, posts) = scripted(vec![Reply::Trickle]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_with(&base, tmp.path(), &[("PAPERCHART__SINK__TIMEOUT_SECS", "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(post_times(&posts).len(), 2, "the crawling answer, then the write: {stderr}");
}

#[test]
fn a_hung_server_fails_the_document_within_the_write_deadline() {
    let (base, posts) = scripted((0..20).map(|_| Reply::Hang).collect());
    let tmp = tempfile::tempdir().unwrap();
    let settings = [
        ("PAPERCHART__SINK__TIMEOUT_SECS", "1"),
        ("PAPERCHART__SINK__MAX_ATTEMPTS", "10"),
        ("PAPERCHART__SINK__WRITE_DEADLINE_SECS", "3"),
    ];
    let out = run_with(&base, tmp.path(), &settings);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = read_json(&tmp.path().join("summary.json"));
    let failure = &summary["failures"][0];
    assert_eq!(failure["class"], "transient", "{failure}");
    let reason = failure["reason"].as_str().unwrap();
    assert!(reason.contains("timed out") && reason.contains("sink.write_deadline_secs"), "{reason}");
    assert!(!reason.contains("will retry"), "the run has ended: {reason}");
    // Ten attempts of 1 s each would not fit in 3 s.
    assert!(post_times(&posts).len() < 10, "{}", post_times(&posts).len());
}

#[test]
fn a_document_whose_undoing_fails_says_so_and_what_may_remain() {
    // Split in transactions of 3: the first stored (created), the second refused, the undoing
    // of the first refused too.
    let refused = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}"#;
    let changed = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict"}]}"#;
    let (base, seen) =
        scripted(vec![Reply::Accept, Reply::Status(400, vec![], refused), Reply::Status(412, vec![], changed)]);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_with(&base, tmp.path(), &[("PAPERCHART__SINK__MAX_ENTRIES", "3")]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let posts = posted(&seen);
    assert_eq!(posts.len(), 3, "two parts and the undoing, not retried: {posts:?}");
    // The undoing deletes what the first part created, newest first, but its Patient.
    let urls = |v: &serde_json::Value, method: &str| -> Vec<String> {
        v["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["request"]["method"] == method)
            .map(|e| e["request"]["url"].as_str().unwrap().to_string())
            .collect()
    };
    let mut first = urls(&posts[0], "PUT");
    assert_eq!(first.len(), 3);
    assert!(first[0].starts_with("Patient/"), "{first:?}");
    first.remove(0);
    first.reverse();
    assert_eq!(urls(&posts[2], "DELETE"), first);
    let summary = read_json(&tmp.path().join("summary.json"));
    let outcome = &summary["documents"][0]["outcome"];
    assert_eq!(outcome["class"], "permanent", "{outcome}");
    let reason = outcome["reason"].as_str().unwrap();
    assert!(reason.contains("refused (400)") && reason.contains("error invalid"), "{reason}");
    assert!(
        reason.contains("undoing what its earlier transactions stored failed")
            && reason.contains("(412)")
            && reason.contains("up to 3 of its entries may remain"),
        "{reason}"
    );
}
