//! How the FHIR REST sink treats a server that throttles, fails or refuses: 429 and 5xx are
//! retried (honouring Retry-After), a 400 is final and its OperationOutcome becomes the reason.
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
    paperchart()
        .env("PAPERCHART_FHIR_TOKEN", TOKEN)
        .env("PAPERCHART__SINK__BACKOFF_BASE_MS", "50")
        .env("PAPERCHART__SINK__MAX_ATTEMPTS", "4")
        .args(["run", "--no-progress", "--sink", "fhir", "--fhir-url", base, "--out"])
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
    assert!(outcome["reason"].as_str().unwrap().contains("bad unit"), "{outcome}");
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
