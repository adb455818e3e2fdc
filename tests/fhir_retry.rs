//! How the FHIR REST sink treats a server that throttles, fails or refuses: 429 and 5xx are
//! retried (honouring Retry-After), a 400 is final and its OperationOutcome becomes the reason.
//! The peer is a scripted HTTP server on 127.0.0.1 that answers each POST from a list.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

#[derive(Clone)]
enum Reply {
    Status(u16, Vec<(&'static str, &'static str)>, &'static str),
    Accept,
}

/// Serves /metadata as FHIR R4 and answers POSTs with `script` in order (then accepts). Returns
/// the base URL and the arrival times of the POSTs; every request must carry the bearer token.
fn scripted(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let posts = Arc::new(Mutex::new(Vec::new()));
    let seen = posts.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            let mut authorized = false;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                authorized |= h.trim_end().to_ascii_lowercase()
                    == format!("authorization: bearer {}", TOKEN.to_ascii_lowercase());
            }
            assert!(authorized, "request without the bearer token: {request_line}");
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let (status, headers, text) = if request_line.starts_with("GET") {
                (
                    200,
                    vec![],
                    json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "status": "active"})
                        .to_string(),
                )
            } else {
                seen.lock().unwrap().push(Instant::now());
                match script.next().unwrap_or(Reply::Accept) {
                    Reply::Status(s, h, b) => (s, h, b.to_string()),
                    Reply::Accept => {
                        let req: Value = serde_json::from_slice(&body).unwrap();
                        let entries: Vec<Value> = req["entry"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|_| json!({"response": {"status": "201 Created"}}))
                            .collect();
                        (
                            200,
                            vec![],
                            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
                                .to_string(),
                        )
                    }
                }
            };
            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n", text.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = stream.write_all(format!("{head}\r\n{text}").as_bytes());
        }
    });
    (base, posts)
}

const TOKEN: &str = "s3cret-token";

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
    let times = posts.lock().unwrap().clone();
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
    assert_eq!(posts.lock().unwrap().len(), 1, "a 400 is not retried");
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
    assert_eq!(posts.lock().unwrap().len(), 4, "max_attempts");
    let summary = read_json(&tmp.path().join("summary.json"));
    assert_eq!(summary["documents"][0]["outcome"]["class"], "transient");
}
