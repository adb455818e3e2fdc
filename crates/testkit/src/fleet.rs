//! A fleet on one machine for the tests: moto with the terraform module's resources (replayed by
//! scripts/harness/fleet_stack.py from one recorded apply of terraform/local), and
//! `paperchart worker` processes with their logs, read as events.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, http_get, paperchart, root, samples, FhirServer, Moto, RESOURCE_TYPES};
use paperchart_aws::aws_sdk_s3;
use paperchart_aws::aws_sdk_sqs;

pub const LONG: Duration = Duration::from_secs(120);

pub struct Worker {
    pub child: Child,
    pub log: PathBuf,
    pub health: u16,
    /// Port of its Prometheus endpoint.
    pub metrics: u16,
}

impl Worker {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The events `event` of its log (JSON lines with that `event` field).
    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        crate::events(&self.log(), event)
    }

    /// Its `message_settled` events that settled the way `how` names (`written`, `ocr_started` …).
    pub fn settled(&self, how: &str) -> Vec<serde_json::Value> {
        self.events("message_settled").into_iter().filter(|e| e["settlement"] == how).collect()
    }
}

pub struct Fleet {
    pub moto: Moto,
    pub env: BTreeMap<String, String>,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub logs: tempfile::TempDir,
    pub workers: Vec<Worker>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }
}

impl Fleet {
    pub async fn start() -> Fleet {
        Fleet::start_with(&[]).await
    }

    /// With extra environment for moto.
    pub async fn start_with(moto_env: &[(&str, &str)]) -> Fleet {
        let moto = Moto::start_with(moto_env);
        let out = Command::new(&moto.python)
            .arg(root().join("scripts/harness/fleet_stack.py"))
            .args(["--endpoint", &moto.endpoint, "replay"])
            .output()
            .expect("run scripts/harness/fleet_stack.py");
        assert!(out.status.success(), "fleet_stack.py replay: {}", String::from_utf8_lossy(&out.stderr));
        let env: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).expect("the stack's settings");
        let sdk = moto.sdk().await;
        let s3 = paperchart_aws::s3_client(&sdk, &moto.aws_config());
        let sqs = paperchart_aws::sqs_client(&sdk);
        Fleet { moto, env, s3, sqs, logs: tempfile::tempdir().unwrap(), workers: Vec::new() }
    }

    /// Starts `paperchart worker` with the sink `sink` at `fhir_url` and `extra` settings, and
    /// waits until it is ready; returns its index.
    pub fn worker(&mut self, sink: &str, fhir_url: &str, extra: &[(&str, &str)]) -> usize {
        let n = self.workers.len();
        let log = self.logs.path().join(format!("worker-{n}.log"));
        let (health, metrics) = (free_port(), free_port());
        let child = paperchart()
            .envs(&self.env)
            .env("PAPERCHART_LOG", "info")
            .env("PAPERCHART__FLEET__WAIT_SECS", "1")
            .env("PAPERCHART__FLEET__HEALTH_PORT", health.to_string())
            .env("PAPERCHART__METRICS__PORT", metrics.to_string())
            .env("PAPERCHART__WORKER__RETRY_BASE_SECS", "1")
            .env("PAPERCHART__WORKER__CONCURRENCY", "2")
            .env("PAPERCHART__SINK__BACKOFF_BASE_MS", "50")
            .envs(extra.iter().copied())
            .args(["worker", "--sink", sink, "--fhir-url", fhir_url])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start paperchart worker");
        self.workers.push(Worker { child, log, health, metrics });
        let w = self.workers.last_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = w.child.try_wait().unwrap() {
                panic!("worker {n} exited at start ({status}):\n{}", w.log());
            }
            if http_get(&format!("http://127.0.0.1:{}/readyz", w.health)).is_some_and(|(s, _)| s == 200) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "worker {n} not ready:\n{}", w.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        n
    }

    pub fn url(&self, key: &str) -> &str {
        &self.env[key]
    }

    /// The intake bucket the module named.
    pub fn intake_bucket(&self) -> &str {
        &self.env["INTAKE_BUCKET"]
    }

    pub async fn upload(&self, key: &str, body: Vec<u8>) {
        self.s3.put_object().bucket(self.intake_bucket()).key(key).body(body.into()).send().await.unwrap();
    }

    pub async fn upload_sample(&self, key: &str, sample: &str) {
        self.upload(key, std::fs::read(samples().join("documents").join(sample)).unwrap()).await;
    }

    /// S3 delivers the event of `key`'s current version again, as at-least-once delivery may (or
    /// as a multipart upload's two events do).
    pub async fn duplicate_event(&self, key: &str) {
        let head = self.s3.head_object().bucket(self.intake_bucket()).key(key).send().await.unwrap();
        let event = serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": self.intake_bucket()}, "object": {
                "key": key, "size": head.content_length.unwrap(),
                "eTag": head.e_tag.clone().unwrap().trim_matches('"'), "versionId": head.version_id.clone().unwrap()}}
        }]});
        self.sqs
            .send_message()
            .queue_url(self.url("PAPERCHART__FLEET__INTAKE_QUEUE_URL"))
            .message_body(event.to_string())
            .send()
            .await
            .unwrap();
    }

    /// (visible, in flight) of a queue.
    pub async fn depth(&self, queue: &str) -> (u64, u64) {
        let q = paperchart_aws::sqs::SqsQueue::new(self.sqs.clone(), self.url(queue), "", Duration::from_secs(1));
        q.depth().await.unwrap()
    }

    pub async fn job_records(&self) -> usize {
        self.work_keys("paperchart/textract-jobs/").await
    }

    /// Records of jobs set aside with their dead-lettered documents.
    pub async fn set_aside_records(&self) -> usize {
        self.work_keys("paperchart/textract-failed/").await
    }

    async fn work_keys(&self, prefix: &str) -> usize {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(self.url("PAPERCHART__FLEET__WORK_BUCKET"))
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        out.contents.unwrap_or_default().len()
    }

    /// `paperchart-scheduler redrive` from the dead-letter queue `dlq` to `queue` (env names);
    /// its standard output.
    pub fn redrive(&self, dlq: &str, queue: &str) -> String {
        let out = crate::scheduler()
            .envs(&self.env)
            .args(["redrive", "--from", self.url(dlq), "--to", self.url(queue)])
            .output()
            .expect("run paperchart-scheduler");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until nothing is in flight: both queues empty and no Textract job unfinished.
    pub async fn drained(&self) {
        self.drained_within(LONG).await
    }

    /// As [`Fleet::drained`], failing after `timeout`.
    pub async fn drained_within(&self, timeout: Duration) {
        let start = Instant::now();
        loop {
            let intake = self.depth("PAPERCHART__FLEET__INTAKE_QUEUE_URL").await;
            let completion = self.depth("PAPERCHART__FLEET__COMPLETION_QUEUE_URL").await;
            let records = self.job_records().await;
            if intake == (0, 0) && completion == (0, 0) && records == 0 {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "still in flight: intake {intake:?}, completion {completion:?}, job records {records}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Every message of a dead-letter queue: (body, reason).
    pub async fn dead_letters(&self, dlq: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(self.url(dlq))
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .message_attribute_names("All")
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let reason = m
                    .message_attributes
                    .as_ref()
                    .and_then(|a| a.get("paperchart-reason"))
                    .and_then(|v| v.string_value.clone())
                    .unwrap_or_default();
                out.push((m.body.unwrap_or_default(), reason));
            }
        }
    }

    pub fn logs(&self) -> String {
        self.workers.iter().enumerate().map(|(i, w)| format!("--- worker {i} ---\n{}", w.log())).collect()
    }

    /// Waits until the FHIR server holds `n` documents; fails at once, with the reasons, when
    /// anything reaches a dead-letter queue instead.
    pub async fn wait_documents(&self, fhir: &FhirServer, n: u64) {
        let start = Instant::now();
        while fhir.count("DocumentReference") != n {
            for dlq in ["PAPERCHART__FLEET__INTAKE_DLQ_URL", "PAPERCHART__FLEET__COMPLETION_DLQ_URL"] {
                if self.depth(dlq).await != (0, 0) {
                    panic!("dead-lettered: {:?}\n{}", self.dead_letters(dlq).await, self.logs());
                }
            }
            assert!(start.elapsed() < LONG, "timed out waiting for {n} documents\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Polls `check` until it holds; on timeout, fails with the workers' logs.
    pub fn wait(&self, what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
        let start = Instant::now();
        while !check() {
            assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until worker `n` has started `jobs` jobs.
    pub fn wait_started(&self, n: usize, jobs: usize) {
        self.wait("the job to start", LONG, || self.workers[n].events("job_started").len() >= jobs);
    }
}

/// Resource counts on the FHIR server, by type.
pub fn census(fhir: &FhirServer) -> BTreeMap<&'static str, u64> {
    RESOURCE_TYPES.iter().map(|t| (*t, fhir.count(t))).collect()
}

pub fn no_patient_data_in(logs: &str) {
    for secret in ["Lindqvist", "30077215", "1955-11-02", "Harold"] {
        assert!(!logs.contains(secret), "the logs hold patient data ({secret})");
    }
}
