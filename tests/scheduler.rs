//! `paperchart-scheduler` against moto and a real FHIR server: dead letters are moved back on
//! request, a Textract job whose completion notice was lost is found in the work bucket and
//! finished by the fleet, or dead-lettered when Textract no longer knows it, and saved Textract
//! answers are processed again without Textract.

use std::time::{Duration, Instant};

use paperchart_testkit::fleet::*;
use paperchart_testkit::*;

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
async fn a_job_record_is_updated_only_while_it_is_the_one_read() {
    let fleet = Fleet::start().await;
    let registry = paperchart_aws::registry::JobRegistry::new(
        fleet.s3.clone(),
        fleet.url("PAPERCHART__FLEET__WORK_BUCKET"),
        "paperchart/",
    );
    let record: paperchart_aws::registry::JobRecord = serde_json::from_value(serde_json::json!({
        "job_id": "j-1", "bucket": "b", "key": "k.pdf", "version_id": null, "etag": null, "size": 10,
        "kind": "pdf", "modified": null, "document_id": "d-1", "token": "t-1", "started_at": "2026-01-01T00:00:00Z"
    }))
    .unwrap();
    registry.put(&record).await.unwrap();
    let (read, etag) = registry.list_tagged().await.unwrap().pop().unwrap();
    let mut next = read.clone();
    next.renotices = 1;
    assert!(registry.update(&next, &etag).await.unwrap(), "unchanged since read: written");
    assert_eq!(registry.record("j-1").await.unwrap().unwrap().renotices, 1);
    next.renotices = 2;
    assert!(!registry.update(&next, &etag).await.unwrap(), "changed since read: refused");
    // The worker wrote the document and deleted the record: the sweep never brings it back.
    registry.delete("j-1").await.unwrap();
    assert!(!registry.update(&next, &etag).await.unwrap());
    assert!(registry.record("j-1").await.unwrap().is_none());

    // Leases: one holder at a time; given up, or run out, the job can be taken again.
    use paperchart_core::jobs::JobStore;
    let hold = Duration::from_secs(600);
    assert!(registry.lease("j-2", hold).await.unwrap());
    assert!(!registry.lease("j-2", hold).await.unwrap(), "held by the first");
    registry.unlease("j-2").await.unwrap();
    assert!(registry.lease("j-2", Duration::ZERO).await.unwrap(), "given up: taken");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(registry.lease("j-2", hold).await.unwrap(), "run out: taken over");
    assert!(!registry.lease("j-2", hold).await.unwrap());

    // Set-aside records: a redriven notice takes one up; written, it goes.
    let content = |job: &str, hex: &str| -> paperchart_aws::registry::JobRecord {
        serde_json::from_value(serde_json::json!({
            "format": 3, "job_id": job, "bucket": "b", "key": "k.pdf", "version_id": null, "etag": null, "size": 10,
            "kind": "pdf", "modified": null, "document_id": format!("d-{job}"), "token": "t", "started_at":
            "2026-01-01T00:00:00Z", "sha256": hex.repeat(64)
        }))
        .unwrap()
    };
    let aside = content("j-3", "a");
    registry.set_aside(&aside).await.unwrap();
    let job = registry.get("j-3").await.unwrap().expect("a set-aside job is found");
    assert!(job.set_aside);
    registry.written(&job).await.unwrap();
    assert!(registry.set_aside_record("j-3").await.unwrap().is_none(), "written: the set-aside record goes");
    assert!(registry.is_written(&job.object).await.unwrap());
    // The same job parked again and written meanwhile (a duplicated upload event got the same job
    // back): both records existed, the parked one went; the old letter redriven later finds its
    // set-aside record stale and writes nothing.
    let again = content("j-4", "b");
    registry.set_aside(&again).await.unwrap();
    registry.put(&again).await.unwrap();
    let parked = registry.get("j-4").await.unwrap().unwrap();
    assert!(!parked.set_aside);
    registry.written(&parked).await.unwrap();
    assert!(registry.get("j-4").await.unwrap().is_none(), "stale: no job, no second write");
    assert!(registry.set_aside_record("j-4").await.unwrap().is_none(), "and the stale record is gone");
    // A replay parked again after a failed one: written, neither record is left.
    let replay = content("replay-d-5", "c");
    registry.set_aside(&replay).await.unwrap();
    registry.put(&replay).await.unwrap();
    let parked = registry.get("replay-d-5").await.unwrap().unwrap();
    registry.written(&parked).await.unwrap();
    assert!(registry.set_aside_record("replay-d-5").await.unwrap().is_none());
    assert!(registry.record("replay-d-5").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn letters_sqs_moved_by_itself_are_given_their_reason() {
    let fleet = Fleet::start().await;
    let intake = fleet.url("PAPERCHART__FLEET__INTAKE_QUEUE_URL").to_string();
    fleet.sqs.purge_queue().queue_url(&intake).send().await.unwrap(); // S3's test event
    fleet.sqs.send_message().queue_url(&intake).message_body("{\"crashes\":true}").send().await.unwrap();
    // Received and never settled, more often than the queue's maxReceiveCount (5): SQS moves it.
    let dlq = "PAPERCHART__FLEET__INTAKE_DLQ_URL";
    for _ in 0..8 {
        fleet.sqs.receive_message().queue_url(&intake).visibility_timeout(0).send().await.unwrap();
        if fleet.depth(dlq).await.0 == 1 {
            break;
        }
    }
    assert_eq!(fleet.depth(dlq).await, (1, 0), "SQS's redrive policy moved it");
    let out = stdout_of({
        let mut c = scheduler_in(&fleet);
        c.arg("annotate");
        c
    });
    assert!(out.contains("letters given their reason 1"), "{out}");
    // Once given, a reason is kept: a second round changes nothing.
    let again = stdout_of({
        let mut c = scheduler_in(&fleet);
        c.arg("annotate");
        c
    });
    assert!(again.contains("letters given their reason 0, with one already 1"), "{again}");
    let dead = fleet.dead_letters(dlq).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].0, "{\"crashes\":true}");
    assert!(dead[0].1.starts_with("exceeded_max_receives: moved by SQS"), "{dead:?}");
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
    fleet.wait("the job record", LONG, || fleet.workers[0].settled("ocr_started").len() == 1);
    // A job record nobody will finish: Textract does not know its job (expired).
    let record = serde_json::json!({
        "job_id": "0123456789abcdef", "bucket": fleet.intake_bucket(), "key": "old/scan.pdf", "version_id": null,
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
    // The unknown job's letter is a notice a worker reads, and its record is set aside.
    let dlq = "PAPERCHART__FLEET__COMPLETION_DLQ_URL";
    assert_eq!(fleet.depth(dlq).await, (1, 0));
    assert_eq!(fleet.set_aside_records().await, 1);
    // Redriven: Textract does not know the job and no answer was kept, so the document is read
    // again from its source object, which is gone: a new letter with that reason, for the next
    // redrive, and the record kept for it.
    let out = fleet.redrive(dlq, "PAPERCHART__FLEET__COMPLETION_QUEUE_URL");
    assert!(out.contains("moved 1 message(s)"), "{out}");
    fleet.wait("the restart", LONG, || fleet.workers[0].log().contains("document_restarted"));
    fleet.drained().await;
    let dead = fleet.dead_letters(dlq).await;
    assert_eq!(dead.len(), 1, "{dead:?}\n{}", fleet.logs());
    assert!(paperchart_aws::events::parse_completion(&dead[0].0).is_ok(), "{dead:?}");
    assert!(dead[0].0.contains("0123456789abcdef") && dead[0].1.contains("not_found"), "{dead:?}");
    assert_eq!(fleet.set_aside_records().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_textract_answers_are_kept_and_replayed_without_textract() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start().await;
    let w = fleet.worker("fhir", &fhir.base, &[]);
    let key = "replay/clinic-a/referral letter.tif";
    fleet.upload_sample(key, "referral-letter.tif").await;
    fleet.wait_documents(&fhir, 1).await;
    fleet.drained().await;
    let before = census(&fhir);

    // The job's whole answer is kept in the work bucket, under the source object's key.
    let work = fleet.url("PAPERCHART__FLEET__WORK_BUCKET").to_string();
    let listed =
        fleet.s3.list_objects_v2().bucket(&work).prefix("paperchart/textract-responses/").send().await.unwrap();
    let keys: Vec<String> = listed.contents.unwrap_or_default().into_iter().filter_map(|o| o.key).collect();
    let prefix = format!("paperchart/textract-responses/{}/{key}/", fleet.intake_bucket());
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(&prefix) && keys[0].ends_with(".json.gz"), "{keys:?}");
    let body = fleet.s3.get_object().bucket(&work).key(&keys[0]).send().await.unwrap();
    let saved = paperchart_aws::responses::decode(&body.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!((saved.job.key.as_str(), saved.response.job_status.as_deref()), (key, Some("SUCCEEDED")));
    assert!(saved.response.blocks.iter().any(|b| b.block_type == "LINE"), "the blocks themselves are kept");

    // Unzipped, it is the `<file>.textract.json` that `paperchart run` reads instead of OCR.
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("in");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(samples().join("documents/referral-letter.tif"), inbox.join("referral-letter.tif")).unwrap();
    std::fs::write(inbox.join("referral-letter.tif.textract.json"), serde_json::to_vec(&saved).unwrap()).unwrap();
    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox));
    let summary = read_json(&out.join("summary.json"));
    let doc = &summary["documents"][0];
    assert!(doc["read_by"].get("textract").is_some(), "{summary}");

    // Nothing to replay under another prefix; one document under its own.
    let mut none = scheduler_in(&fleet);
    none.args(["replay", "--prefix", &format!("{}/elsewhere/", fleet.intake_bucket())]);
    assert!(stdout_of(none).contains("saved answers found 0, replays queued 0"));
    let mut replay = scheduler_in(&fleet);
    replay.args(["replay", "--prefix", &format!("{}/replay/", fleet.intake_bucket())]);
    assert!(stdout_of(replay).contains("saved answers found 1, replays queued 1, unreadable 0"));
    // The replay's job id is unknown to Textract: had the worker asked Textract, the document
    // would be dead-lettered; it reads the kept answer and writes the document again.
    fleet.wait("the document written again", LONG, || fleet.workers[w].events("document_written").len() == 2);
    fleet.drained().await;
    assert!(fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await.is_empty());
    assert_eq!(fleet.workers[w].events("textract_response_reused").len(), 1, "{}", fleet.logs());
    assert_eq!(census(&fhir), before, "the same document: the same resources, nothing twice");
    no_patient_data_in(&fleet.logs());
}

/// HealthLake's import control plane, faked: a job runs for one `describe`, then "imports"
/// its input and refuses every resource of `refuse`, writing them to its FAILURE output.
struct FakeImports {
    s3: aws_sdk_s3::Client,
    bucket: String,
    refuse: &'static str,
    busy: std::sync::atomic::AtomicBool,
    started: std::sync::Mutex<Vec<(String, String, String)>>,
    described: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl paperchart_scheduler::imports::ImportControl for FakeImports {
    async fn busy(&self) -> anyhow::Result<bool> {
        Ok(self.busy.load(std::sync::atomic::Ordering::SeqCst))
    }

    async fn start(&self, _name: &str, input: &str, output: &str, token: &str) -> anyhow::Result<String> {
        let mut started = self.started.lock().unwrap();
        if let Some(i) = started.iter().position(|(_, _, t)| t == token) {
            return Ok(format!("job-{i}"));
        }
        started.push((input.to_string(), output.to_string(), token.to_string()));
        Ok(format!("job-{}", started.len() - 1))
    }

    async fn describe(&self, job_id: &str) -> anyhow::Result<(String, Option<String>)> {
        if self.described.fetch_add(1, std::sync::atomic::Ordering::SeqCst).is_multiple_of(2) {
            return Ok(("IN_PROGRESS".into(), None));
        }
        let i: usize = job_id.trim_start_matches("job-").parse()?;
        let (input, output, _) = self.started.lock().unwrap()[i].clone();
        let strip = |u: &str| u.trim_start_matches(&format!("s3://{}/", self.bucket)).to_string();
        let listed = self.s3.list_objects_v2().bucket(&self.bucket).prefix(strip(&input)).send().await?;
        let mut failures = String::new();
        for o in listed.contents.unwrap_or_default() {
            let body = self.s3.get_object().bucket(&self.bucket).key(o.key.unwrap()).send().await?;
            let text = String::from_utf8(body.body.collect().await?.to_vec())?;
            for line in text.lines() {
                let r: serde_json::Value = serde_json::from_str(line)?;
                if r["resourceType"] == self.refuse {
                    failures.push_str(&serde_json::json!({"resource": r, "error": "refused by the fake"}).to_string());
                    failures.push('\n');
                }
            }
        }
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{}{job_id}/FAILURE/part-0.ndjson", strip(&output)))
            .body(failures.into_bytes().into())
            .send()
            .await?;
        Ok(("COMPLETED_WITH_ERRORS".into(), Some("some resources were refused".into())))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn staged_documents_are_imported_once_and_refusals_dead_lettered() {
    use paperchart_scheduler::imports::{Imports, Round};
    let mut fleet = Fleet::start().await;
    fleet.worker("staging", "http://127.0.0.1:9/unused", &[]);
    let bucket = fleet.url("PAPERCHART__FLEET__WORK_BUCKET").to_string();
    let staged = |fleet: &Fleet| {
        let (s3, bucket) = (fleet.s3.clone(), bucket.clone());
        async move {
            let out = s3.list_objects_v2().bucket(&bucket).prefix("paperchart/staging/").send().await.unwrap();
            out.contents.unwrap_or_default().len()
        }
    };
    fleet.upload_sample("bulk/lab.pdf", "lab-report.pdf").await;
    fleet.upload_sample("bulk/referral.tif", "referral-letter.tif").await;
    fleet.drained().await;
    assert_eq!(staged(&fleet).await, 2, "{}", fleet.logs());

    let fake = FakeImports {
        s3: fleet.s3.clone(),
        bucket: bucket.clone(),
        refuse: "Provenance",
        busy: Default::default(),
        started: Default::default(),
        described: Default::default(),
    };
    let dlq = paperchart_aws::sqs::SqsQueue::new(
        fleet.sqs.clone(),
        fleet.url("PAPERCHART__FLEET__COMPLETION_DLQ_URL"),
        fleet.url("PAPERCHART__FLEET__COMPLETION_DLQ_URL"),
        Duration::from_secs(1),
    );
    let imports = Imports {
        s3: &fleet.s3,
        bucket: &bucket,
        prefix: "paperchart/",
        control: &fake,
        dead_letters: &dlq,
        max_files: 100,
    };
    assert!(matches!(imports.round().await.unwrap(), Round::Started { files: 2, .. }));
    assert_eq!(staged(&fleet).await, 0, "the batch left the staging prefix");

    // A document staged while the import runs waits for the next batch.
    fleet.upload_sample("bulk/photo.png", "medication-list-photo.png").await;
    fleet.drained().await;
    assert!(matches!(imports.round().await.unwrap(), Round::Waiting(_)));
    let finished = imports.round().await.unwrap();
    assert_eq!(finished, Round::Finished { status: "COMPLETED_WITH_ERRORS".into(), dead_lettered: 2 });
    let dead = fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await;
    assert_eq!(dead.len(), 2, "one Provenance per document");
    assert!(dead.iter().all(|(b, r)| b.contains("Provenance") && r.contains("COMPLETED_WITH_ERRORS")), "{dead:?}");

    // HealthLake runs one import at a time: someone else's job holds the next batch back.
    fake.busy.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(imports.round().await.unwrap(), Round::Waiting(_)));
    fake.busy.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(imports.round().await.unwrap(), Round::Started { files: 1, .. }));

    // Every staged file went into exactly one batch.
    let started = fake.started.lock().unwrap().clone();
    assert_eq!(started.len(), 2);
    let mut inputs = Vec::new();
    for (input, _, _) in &started {
        let prefix = input.trim_start_matches(&format!("s3://{bucket}/")).to_string();
        let out = fleet.s3.list_objects_v2().bucket(&bucket).prefix(prefix).send().await.unwrap();
        inputs.extend(
            out.contents
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| o.key.map(|k| k.rsplit('/').next().unwrap().to_string())),
        );
    }
    inputs.sort();
    let before = inputs.len();
    inputs.dedup();
    assert_eq!((before, inputs.len()), (3, 3), "{inputs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_per_task_is_published_as_embedded_metrics() {
    // moto reports this many running tasks for every ECS service.
    let fleet = Fleet::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "2")]).await;
    let intake = fleet.url("PAPERCHART__FLEET__INTAKE_QUEUE_URL").to_string();
    fleet.sqs.purge_queue().queue_url(&intake).send().await.unwrap();
    for i in 0..6 {
        fleet.sqs.send_message().queue_url(&intake).message_body(format!("{{\"n\":{i}}}")).send().await.unwrap();
    }
    // Textract notices waiting: the same tasks' work, counted too.
    let completion = fleet.url("PAPERCHART__FLEET__COMPLETION_QUEUE_URL").to_string();
    for i in 0..4 {
        fleet.sqs.send_message().queue_url(&completion).message_body(format!("{{\"n\":{i}}}")).send().await.unwrap();
    }
    let ecs = aws_sdk_ecs::Client::new(&fleet.moto.sdk().await);
    ecs.create_cluster().cluster_name("paperchart").send().await.unwrap();
    let container =
        aws_sdk_ecs::types::ContainerDefinition::builder().name("worker").image("paperchart:test").memory(2048).build();
    ecs.register_task_definition().family("paperchart-worker").container_definitions(container).send().await.unwrap();
    ecs.create_service()
        .cluster("paperchart")
        .service_name("paperchart-worker")
        .task_definition("paperchart-worker")
        .desired_count(2)
        .send()
        .await
        .unwrap();
    let mut cmd = scheduler_in(&fleet);
    cmd.env("PAPERCHART__SCHEDULER__ECS_CLUSTER", "paperchart")
        .env("PAPERCHART__SCHEDULER__WORKER_SERVICE", "paperchart-worker")
        .arg("backlog");
    let line = stdout_of(cmd);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert_eq!((v["IntakeBacklog"].as_u64(), v["RunningWorkers"].as_u64()), (Some(6), Some(2)), "{v}");
    assert_eq!(v["CompletionBacklog"].as_u64(), Some(4), "{v}");
    assert_eq!(v["BacklogPerTask"], 5.0, "(6 + 4) / 2");
    assert_eq!(v["Service"], "paperchart-worker");
    let cw = &v["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(cw["Namespace"], "paperchart");
    assert!(v["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    let names: Vec<&str> = cw["Metrics"].as_array().unwrap().iter().filter_map(|m| m["Name"].as_str()).collect();
    assert!(names.contains(&"BacklogPerTask") && names.contains(&"RunningWorkers"), "{names:?}");
}
