//! The fleet end to end on one machine: moto (S3, SQS, SNS and the patched Textract of
//! scripts/harness/moto_server.py) and a real FHIR server on 127.0.0.1, the terraform module's
//! resources (replayed by scripts/harness/fleet_stack.py), and `paperchart worker` processes. Every case follows an upload the
//! whole way: S3 → bucket notification → intake SQS → worker → Textract → SNS → completion SQS →
//! worker → FHIR server, and ends with nothing in flight: both queues empty and no job record
//! left in the work bucket.

use std::time::{Duration, Instant};

use paperchart_testkit::fleet::*;
use paperchart_testkit::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_reaches_the_fhir_server_through_textract_with_signed_requests() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    // The HealthLake sink, SigV4 signing on, against a real FHIR server.
    let w = fleet.worker("healthlake", &fhir.base, &[]);
    let health = http_get(&format!("http://127.0.0.1:{}/healthz", fleet.workers[w].health));
    assert_eq!(health.map(|r| r.0), Some(200), "{}", fleet.logs());
    fleet.upload_sample("scans/2026/medication list.png", "medication-list-photo.png").await;
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    let census = census(&fhir);
    assert_eq!((census["Patient"], census["Provenance"]), (1, 1), "{census:?}");
    assert!(census["MedicationStatement"] >= 3, "{census:?}");
    let (_, body) = http_get(&format!("{}/DocumentReference", fhir.base)).unwrap();
    let url = format!("s3://{}/scans/2026/medication%20list.png", fleet.intake_bucket());
    assert!(body.contains(&url), "{body}");
    assert!(fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await.is_empty());
    assert!(fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await.is_empty());
    let worker = &fleet.workers[w];
    assert_eq!(worker.settled("ocr_started").len(), 1, "{}", worker.log());
    assert_eq!(worker.events("document_written").len(), 1, "{}", worker.log());
    // The s3:TestEvent S3 sends when the notification is configured was dropped, not failed.
    assert!(worker.log().contains("s3:TestEvent"), "{}", worker.log());
    no_patient_data_in(&fleet.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_upload_twice_and_a_duplicated_event_change_nothing() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    let w = fleet.worker("fhir", &fhir.base, &[]);
    let key = "dup/referral.tif";
    fleet.upload_sample(key, "referral-letter.tif").await;
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    let before = census(&fhir);

    // S3 delivers an event twice, as at-least-once delivery may (or as a multipart upload's two
    // events do): the same object version.
    let head = fleet.s3.head_object().bucket(fleet.intake_bucket()).key(key).send().await.unwrap();
    for _ in 0..2 {
        fleet.duplicate_event(key).await;
    }
    // The same bytes uploaded again, under the same key (a new version) and under another key.
    // The bucket is SSE-KMS, as the terraform module makes it: each upload gets an eTag that is
    // no digest of the content, as on AWS. The content was written: no new job, no new write.
    fleet.upload_sample(key, "referral-letter.tif").await;
    let copy = "dup/again/copy of the referral.tif";
    fleet.upload_sample(copy, "referral-letter.tif").await;
    let again = fleet.s3.head_object().bucket(fleet.intake_bucket()).key(key).send().await.unwrap();
    let other = fleet.s3.head_object().bucket(fleet.intake_bucket()).key(copy).send().await.unwrap();
    assert_eq!(other.server_side_encryption.as_ref().map(|s| s.as_str()), Some("aws:kms"));
    assert!(head.e_tag != again.e_tag && again.e_tag != other.e_tag, "SSE-KMS eTags are not content digests");
    let skipped =
        || fleet.workers[w].events("document_ignored").iter().filter(|e| e["reason"] == "already_written").count();
    fleet.wait("the duplicates turned away", LONG, || skipped() == 4);
    fleet.drained().await;
    assert_eq!(census(&fhir), before, "duplicates changed the FHIR server");
    let worker = &fleet.workers[w];
    assert_eq!(worker.events("document_written").len(), 1, "{}", fleet.logs());
    assert_eq!(worker.settled("ocr_started").len(), 1, "one Textract job for one content: {}", fleet.logs());
    assert!(fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await.is_empty());
}

/// With Tesseract in the worker the intake job is long enough to kill mid-way.
const TESSERACT: [(&str, &str); 3] = [
    ("PAPERCHART__FLEET__OCR", "tesseract"),
    ("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "6"),
    ("PAPERCHART__WORKER__HEARTBEAT_SECS", "2"),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_job_loses_nothing() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    let a = fleet.worker("fhir", &fhir.base, &TESSERACT);
    fleet.drained().await; // the test event
    fleet.upload_sample("kill/discharge.pdf", "discharge-summary-scanned.pdf").await;
    fleet.wait_started(a, 2);
    assert_eq!(fhir.count("DocumentReference"), 0, "the job ended before the kill");
    fleet.workers[a].child.kill().unwrap(); // SIGKILL
    fleet.workers[a].child.wait().unwrap();
    let b = fleet.worker("fhir", &fhir.base, &TESSERACT);
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    let redelivered = fleet.workers[b].events("job_started");
    assert!(redelivered.iter().any(|e| e["receive_count"] == 2), "{}", fleet.logs());
    assert_eq!(census(&fhir)["Patient"], 1);
    assert!(fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_releases_work_at_once_for_another_worker() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    // A lease far longer than the test may wait: only a release brings the message back in time.
    let settings = [
        ("PAPERCHART__FLEET__OCR", "tesseract"),
        ("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "600"),
        ("PAPERCHART__WORKER__SHUTDOWN_GRACE_SECS", "1"),
    ];
    let a = fleet.worker("fhir", &fhir.base, &settings);
    fleet.drained().await;
    fleet.upload_sample("term/discharge.pdf", "discharge-summary-scanned.pdf").await;
    fleet.wait_started(a, 2);
    let pid = fleet.workers[a].child.id() as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let stopping = Instant::now();
    let status = fleet.workers[a].child.wait().unwrap();
    assert!(status.success(), "{status}\n{}", fleet.logs());
    assert!(stopping.elapsed() < Duration::from_secs(15), "shutdown took {:?}", stopping.elapsed());
    assert_eq!(fhir.count("DocumentReference"), 0, "the job ended before SIGTERM");
    assert_eq!(fleet.workers[a].settled("interrupted").len(), 1, "{}", fleet.logs());
    let b = fleet.worker("fhir", &fhir.base, &settings);
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    assert!(fleet.workers[b].events("job_started").iter().any(|e| e["receive_count"] == 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_and_failed_jobs_go_to_the_dead_letters_with_their_reasons() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    let w = fleet.worker("fhir", &fhir.base, &[]);
    let bad = root().join("tests/fixtures/bad");
    // Refused before Textract is paid for: the worker checks each document as the embedded
    // pipeline does.
    for name in ["notes.txt", "corrupt.pdf", "encrypted.pdf"] {
        fleet.upload(&format!("bad/{name}"), std::fs::read(bad.join(name)).unwrap()).await;
    }
    fleet.upload("bad/empty.pdf", Vec::new()).await;
    // A document Textract itself cannot read: its job FAILS (moto_server.py's `__badjob__`).
    fleet.upload_sample("bad/scan__badjob__.tif", "referral-letter.tif").await;
    fleet.upload_sample("good/referral.tif", "referral-letter.tif").await;
    fleet.wait("the good document in the FHIR server", LONG, || fhir.count("DocumentReference") == 1);
    fleet.drained().await;
    let intake = fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await;
    let reasons: Vec<&str> = intake.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(intake.len(), 4, "{reasons:?}");
    for (name, reason) in [
        ("notes.txt", "unsupported"),
        ("empty.pdf", "empty"),
        ("corrupt.pdf", "corrupt"),
        ("encrypted.pdf", "encrypted"),
    ] {
        assert!(intake.iter().any(|(b, r)| b.contains(name) && r.contains(reason)), "{name}: {reasons:?}");
    }
    let completion = fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await;
    assert_eq!(completion.len(), 1, "{completion:?}");
    assert!(completion[0].0.contains("FAILED") && completion[0].1.contains("BAD_DOCUMENT"), "{completion:?}");
    assert!(fleet.workers[w].child.try_wait().unwrap().is_none(), "the worker went down");
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_without_a_patient_wait_under_the_review_prefix() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    let w = fleet.worker("fhir", &fhir.base, &[]);
    let note = std::fs::read(root().join("tests/fixtures/review/unidentified-note.pdf")).unwrap();
    fleet.upload("unknown/note.pdf", note).await;
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    let census = census(&fhir);
    assert_eq!((census["Patient"], census["Condition"], census["MedicationStatement"]), (0, 0, 0), "{census:?}");
    let bucket = fleet.url("PAPERCHART__FLEET__WORK_BUCKET").to_string();
    let listed = fleet.s3.list_objects_v2().bucket(&bucket).prefix("paperchart/review/").send().await.unwrap();
    let keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(String::from)).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let body = fleet.s3.get_object().bucket(&bucket).key(&keys[0]).send().await.unwrap().body.collect().await.unwrap();
    let review: serde_json::Value = serde_json::from_slice(&body.into_bytes()).unwrap();
    assert_eq!(review["reason"], "no_identity");
    assert!(review["findings"].as_array().unwrap().len() >= 3, "{review}");
    let held = fleet.workers[w].events("document_held");
    assert_eq!(held.len(), 1, "{}", fleet.workers[w].log());
    assert_eq!(held[0]["findings"].as_u64(), Some(review["findings"].as_array().unwrap().len() as u64));
    assert!(fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await.is_empty());
    no_patient_data_in(&fleet.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn textract_throttling_and_job_limits_are_retried_not_dead_lettered() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    // Throttled deliveries are re-sent apart at most 2 s here (15 min by default).
    let w = fleet.worker(
        "fhir",
        &fhir.base,
        &[("PAPERCHART__FLEET__TEXTRACT_MAX_ATTEMPTS", "3"), ("PAPERCHART__WORKER__RETRY_MAX_SECS", "2")],
    );
    // moto_server.py: the first N starts for such a key fail with that error. Seven times at the
    // job limit is longer than the queue's maxReceiveCount (5): SQS would have moved the upload
    // to the dead letters, reasonless, had each wait been a release of the same message.
    fleet.upload_sample("busy/a__throttle2__.tif", "referral-letter.tif").await;
    fleet.upload_sample("busy/b__limit7__.png", "medication-list-photo.png").await;
    fleet.wait_documents(&fhir, 2).await;
    fleet.drained().await;
    assert!(fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await.is_empty());
    let retried = fleet.workers[w].settled("retried");
    assert!(retried.len() >= 7, "each LimitExceeded re-sends the upload:\n{}", fleet.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fhir_server_that_throttles_and_fails_is_retried() {
    let (base, requests) = scripted(vec![
        Reply::Status(429, vec![("Retry-After", "1")], r#"{"resourceType":"OperationOutcome","issue":[]}"#),
        Reply::Status(500, vec![], "oops"),
    ]);
    let mut fleet = Fleet::start().await;
    // The HealthLake sink: every request signed for the datastore's path.
    let url = format!("{base}/datastore/4b7c2a/r4/");
    fleet.worker("healthlake", &url, &[]);
    fleet.upload_sample("retry/medication list.png", "medication-list-photo.png").await;
    fleet.wait("the write", LONG, || {
        requests.lock().unwrap().iter().filter(|r| r.line.starts_with("POST")).count() >= 3
    });
    fleet.drained().await;
    let seen = requests.lock().unwrap().clone();
    let posts: Vec<_> = seen.iter().filter(|r| r.line.starts_with("POST")).collect();
    assert_eq!(posts.len(), 3, "429, 500, then accepted: {seen:?}");
    assert!(posts[1].at - posts[0].at >= Duration::from_millis(950), "Retry-After: 1 was not honoured");
    assert!(seen[0].line.starts_with("GET /datastore/4b7c2a/r4/metadata"), "the start-up check: {}", seen[0].line);
    for r in &seen {
        let auth = r.header("authorization").unwrap_or_default();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=testing/"), "{}: {auth}", r.line);
        assert!(auth.contains("/us-east-1/healthlake/aws4_request"), "{auth}");
        assert!(r.header("x-amz-date").is_some(), "{}", r.line);
    }
    assert!(fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_is_dead_lettered_with_the_operation_outcome() {
    let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"Observation.valueQuantity: bad unit","expression":["Observation.valueQuantity"]}]}"#;
    let (base, requests) = scripted(vec![Reply::Status(400, vec![], oo)]);
    let mut fleet = Fleet::start().await;
    fleet.worker("fhir", &base, &[]);
    fleet.upload_sample("refused/medication list.png", "medication-list-photo.png").await;
    fleet.wait("the refusal", LONG, || requests.lock().unwrap().iter().any(|r| r.line.starts_with("POST")));
    fleet.drained().await;
    let dead = fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].1.contains("error invalid at Observation.valueQuantity"), "{dead:?}");
    assert!(!dead[0].1.contains("bad unit"), "the server's words are not repeated: {dead:?}");
    let posts = requests.lock().unwrap().iter().filter(|r| r.line.starts_with("POST")).count();
    assert_eq!(posts, 1, "a 400 is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redriven_dead_letter_is_written_once_after_the_fix() {
    // The server refuses the first write (400), then accepts: the fix.
    let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}"#;
    let (base, requests) = scripted(vec![Reply::Status(400, vec![], oo)]);
    let mut fleet = Fleet::start().await;
    let w = fleet.worker("fhir", &base, &[]);
    fleet.upload_sample("redrive/medication list.png", "medication-list-photo.png").await;
    let posts = || requests.lock().unwrap().iter().filter(|r| r.line.starts_with("POST")).count();
    fleet.wait("the refusal", LONG, || posts() == 1);
    fleet.drained().await;
    let dlq = "PAPERCHART__FLEET__COMPLETION_DLQ_URL";
    assert_eq!(fleet.depth(dlq).await, (1, 0));
    // The job's record is set aside with the letter, where the sweep does not look.
    assert_eq!((fleet.job_records().await, fleet.set_aside_records().await), (0, 1));

    let out = fleet.redrive(dlq, "PAPERCHART__FLEET__COMPLETION_QUEUE_URL");
    assert!(out.contains("moved 1 message(s)"), "{out}");
    fleet.wait("the redriven write", LONG, || fleet.workers[w].events("document_written").len() == 1);
    fleet.drained().await;
    assert_eq!(posts(), 2, "refused once, written once");
    assert_eq!(fleet.depth(dlq).await, (0, 0));
    assert_eq!(fleet.set_aside_records().await, 0, "a written document's record is gone");
}

#[test]
fn a_worker_with_a_wrong_fhir_endpoint_stops_at_start_and_says_why() {
    let closed = format!("http://127.0.0.1:{}/fhir", free_port());
    let out = paperchart()
        .env("PAPERCHART__FLEET__INTAKE_QUEUE_URL", "http://127.0.0.1:9/q")
        .env("PAPERCHART__FLEET__INTAKE_DLQ_URL", "http://127.0.0.1:9/dlq")
        .env("PAPERCHART__FLEET__OCR", "tesseract")
        .env("PAPERCHART__FLEET__HEALTH_PORT", "0")
        .args(["worker", "--sink", "fhir", "--fhir-url", &closed])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&closed) && err.contains("sink.fhir_url"), "{err}");

    let out = paperchart().args(["worker", "--sink", "fhir", "--fhir-url", &closed]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fleet.intake_queue_url"));
}
