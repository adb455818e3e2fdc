//! `paperchart-scheduler` against moto and a real FHIR server: dead letters are moved back on
//! request, and a Textract job whose completion notice was lost is found in the work bucket and
//! finished by the fleet, or dead-lettered when Textract no longer knows it.

mod common;

use std::time::{Duration, Instant};

use common::fleet::*;
use common::*;

fn scheduler_in(fleet: &Fleet) -> std::process::Command {
    let mut c = scheduler();
    c.envs(&fleet.env);
    c
}

fn stdout_of(mut cmd: std::process::Command) -> String {
    let out = cmd.output().expect("run paperchart-scheduler");
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_moves_dead_letters_back_without_their_reasons() {
    let fleet = Fleet::start().await;
    let dlq = fleet.url("PAPERCHART__FLEET__INTAKE_DLQ_URL").to_string();
    let intake = fleet.url("PAPERCHART__FLEET__INTAKE_QUEUE_URL").to_string();
    fleet.sqs.purge_queue().queue_url(&intake).send().await.unwrap(); // S3's test event
    let reason = aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value("unsupported_type: plain text")
        .build()
        .unwrap();
    for i in 0..3 {
        fleet
            .sqs
            .send_message()
            .queue_url(&dlq)
            .message_body(format!("{{\"n\":{i}}}"))
            .message_attributes("paperchart-reason", reason.clone())
            .send()
            .await
            .unwrap();
    }
    let mut cmd = scheduler_in(&fleet);
    cmd.args(["redrive", "--from", &dlq, "--to", &intake, "--max", "2"]);
    assert!(stdout_of(cmd).contains("moved 2 message(s)"));
    assert_eq!(fleet.depth("PAPERCHART__FLEET__INTAKE_QUEUE_URL").await, (2, 0));
    let got = fleet
        .sqs
        .receive_message()
        .queue_url(&intake)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.message_attributes.as_ref().is_none_or(|a| !a.contains_key("paperchart-reason"))));
    let mut cmd = scheduler_in(&fleet);
    cmd.args(["redrive", "--from", &dlq, "--to", &intake]);
    assert!(stdout_of(cmd).contains("moved 1 message(s)"));
    assert_eq!(fleet.depth("PAPERCHART__FLEET__INTAKE_DLQ_URL").await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_textract_notice_is_found_and_the_document_written() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    // Textract notifies a topic nobody listens to: the notice is lost.
    fleet.worker(
        "fhir",
        &fhir.base,
        &[("PAPERCHART__FLEET__TEXTRACT_SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:AmazonTextract-nobody")],
    );
    fleet.upload_sample("lost/referral.tif", "referral-letter.tif").await;
    fleet.wait("the job record", LONG, || fleet.workers[0].events("ocr started; acknowledged").len() == 1);
    // A job record nobody will finish: Textract does not know its job (expired).
    let record = serde_json::json!({
        "job_id": "0123456789abcdef", "bucket": INTAKE_BUCKET, "key": "old/scan.pdf", "version_id": null,
        "etag": "abc", "size": 10, "kind": "pdf", "modified": null, "document_id": "d-old", "token": "t-old",
        "started_at": "2026-01-01T00:00:00Z"
    });
    fleet
        .s3
        .put_object()
        .bucket(fleet.url("PAPERCHART__FLEET__WORK_BUCKET"))
        .key("paperchart/textract-jobs/0123456789abcdef.json")
        .body(record.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();

    // Until the job ends, the check leaves it alone; then it sends the notice again.
    let start = Instant::now();
    let mut rounds = Vec::new();
    loop {
        let mut cmd = scheduler_in(&fleet);
        cmd.env("PAPERCHART__SCHEDULER__STUCK_AFTER_SECS", "0").arg("sweep");
        let out = stdout_of(cmd);
        rounds.push(out.clone());
        if out.contains("notices sent again 1") {
            break;
        }
        assert!(start.elapsed() < LONG, "{rounds:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(rounds[0].contains("dead-lettered 1"), "{rounds:?}");
    fleet.wait("the document in the FHIR server", LONG, || fhir.count("DocumentReference") == 1);
    fleet.drained().await;
    let dead = fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].0.contains("0123456789abcdef") && dead[0].1.contains("stuck Textract job"), "{dead:?}");
}
