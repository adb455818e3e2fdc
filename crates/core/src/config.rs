//! Configuration in layers: built-in defaults that run on one machine with no AWS, then a TOML
//! file (`--config FILE` or `PAPERCHART_CONFIG`), then environment variables
//! `PAPERCHART__<SECTION>__<KEY>` (for example `PAPERCHART__LIMITS__MAX_PAGES=50`), then command
//! line flags. Unknown keys are an error in every layer, and ranges are checked once at start-up
//! with a message that names the key to change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use paperchart_model::file::Limits;
pub use paperchart_model::settings::{FhirSettings, NlpSettings, OcrSettings};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub limits: Limits,
    pub ocr: OcrSettings,
    pub nlp: NlpSettings,
    pub fhir: FhirSettings,
    pub sink: SinkConfig,
    pub worker: WorkerConfig,
    pub aws: AwsConfig,
    pub fleet: FleetConfig,
    pub scheduler: SchedulerConfig,
    pub metrics: MetricsConfig,
}

/// The Prometheus endpoint of the long-running commands (`paperchart worker`, `paperchart watch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Port of `GET /metrics` on every interface; 0 for none.
    pub port: u16,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { port: 9464 }
    }
}

/// `paperchart-scheduler`: the fleet's periodic chores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// Seconds between two rounds of chores.
    pub interval_secs: u64,
    /// A Textract job whose completion notice has not come after this long is checked with
    /// GetDocumentAnalysis and finished or dead-lettered.
    pub stuck_after_secs: u64,
    /// HealthLake datastore that staged NDJSON (`--sink staging`) is imported into; empty turns
    /// imports off.
    pub healthlake_datastore_id: String,
    /// Role HealthLake assumes to read the batch and write its results.
    pub import_role_arn: String,
    /// KMS key for the import job's output (HealthLake requires one).
    pub import_kms_key_id: String,
    /// Where resources an import refused go, with the reason (an SQS queue).
    pub import_dlq_url: String,
    /// Most staged documents in one import job.
    pub import_max_files: usize,
    /// ECS cluster and service of the workers, whose running task count divides the backlog;
    /// empty: the backlog is published without it.
    pub ecs_cluster: String,
    pub worker_service: String,
    /// CloudWatch namespace of the backlog metrics (Embedded Metric Format on standard output).
    pub metrics_namespace: String,
    /// Port of the scheduler's Prometheus endpoint (`GET /metrics`); 0 for none.
    pub metrics_port: u16,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            interval_secs: 60,
            stuck_after_secs: 900,
            healthlake_datastore_id: String::new(),
            import_role_arn: String::new(),
            import_kms_key_id: String::new(),
            import_dlq_url: String::new(),
            import_max_files: 1000,
            ecs_cluster: String::new(),
            worker_service: String::new(),
            metrics_namespace: "paperchart".into(),
            metrics_port: 9465,
        }
    }
}

/// The fleet on AWS (`paperchart worker`): its queues, its OCR, its work bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// SQS queue of S3 upload events, and its dead-letter queue.
    pub intake_queue_url: String,
    pub intake_dlq_url: String,
    /// SQS queue of Textract completion notices (subscribed to the SNS topic), and its DLQ.
    pub completion_queue_url: String,
    pub completion_dlq_url: String,
    /// `textract` (asynchronous, two queues) or `tesseract` (in the worker, intake queue only).
    pub ocr: String,
    /// SNS topic Textract notifies (name starting with `AmazonTextract`) and the role it assumes.
    pub textract_sns_topic_arn: String,
    pub textract_role_arn: String,
    /// Calls per second to StartDocumentAnalysis and GetDocumentAnalysis (account quotas).
    pub textract_start_per_sec: f64,
    pub textract_get_per_sec: f64,
    /// Attempts of a Textract call under throttling before the message goes back to the queue.
    pub textract_max_attempts: u32,
    /// Bucket for the fleet's own records: started Textract jobs and NDJSON staging.
    pub work_bucket: String,
    /// Key prefix inside the work bucket.
    pub work_prefix: String,
    /// Long-poll wait of a receive (1..20 s).
    pub wait_secs: u64,
    /// Port of `/healthz` and `/readyz`; 0 for none.
    pub health_port: u16,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            intake_queue_url: String::new(),
            intake_dlq_url: String::new(),
            completion_queue_url: String::new(),
            completion_dlq_url: String::new(),
            ocr: "textract".into(),
            textract_sns_topic_arn: String::new(),
            textract_role_arn: String::new(),
            textract_start_per_sec: 2.0,
            textract_get_per_sec: 5.0,
            textract_max_attempts: 5,
            work_bucket: String::new(),
            work_prefix: "paperchart/".into(),
            wait_secs: 20,
            health_port: 8081,
        }
    }
}

impl FleetConfig {
    /// Checks what `paperchart worker` needs, naming the key to set.
    pub fn validate_for_worker(&self) -> Result<(), ConfigError> {
        fn need(key: &'static str, value: &str, hint: &'static str) -> Result<(), ConfigError> {
            if value.is_empty() {
                return Err(ConfigError::Invalid { key, value: String::new(), hint });
            }
            Ok(())
        }
        need("fleet.intake_queue_url", &self.intake_queue_url, "the SQS queue S3 sends upload events to")?;
        need("fleet.intake_dlq_url", &self.intake_dlq_url, "the dead-letter queue of the intake queue")?;
        match self.ocr.as_str() {
            "tesseract" => Ok(()),
            "textract" => {
                need(
                    "fleet.completion_queue_url",
                    &self.completion_queue_url,
                    "the SQS queue subscribed to Textract's SNS topic",
                )?;
                need(
                    "fleet.completion_dlq_url",
                    &self.completion_dlq_url,
                    "the dead-letter queue of the completion queue",
                )?;
                need("fleet.textract_sns_topic_arn", &self.textract_sns_topic_arn, "the SNS topic Textract notifies")?;
                need("fleet.textract_role_arn", &self.textract_role_arn, "the role Textract assumes to publish")?;
                need("fleet.work_bucket", &self.work_bucket, "a bucket for the fleet's job records")?;
                if self.textract_start_per_sec <= 0.0 || self.textract_get_per_sec <= 0.0 {
                    return Err(ConfigError::Invalid {
                        key: "fleet.textract_start_per_sec",
                        value: self.textract_start_per_sec.to_string(),
                        hint: "rates must be above 0",
                    });
                }
                Ok(())
            }
            other => Err(ConfigError::Invalid {
                key: "fleet.ocr",
                value: other.to_string(),
                hint: "`textract` or `tesseract`",
            }),
        }
    }
}

/// Where the AWS clients point. Empty values mean the SDK's own defaults (the region and
/// credentials of the environment, an ECS task role, a profile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// AWS region; empty for the SDK's default chain (`AWS_REGION`, profile, instance metadata).
    pub region: String,
    /// Endpoint for every AWS service, e.g. a moto server `http://127.0.0.1:5000`; empty for AWS.
    pub endpoint_url: String,
    /// Address S3 buckets in the path (`endpoint/bucket/key`), as emulators need.
    pub s3_path_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum SinkKind {
    /// Transaction Bundles and NDJSON files in a folder.
    Dir,
    /// Transaction Bundles POSTed to a FHIR R4 server.
    Fhir,
    /// Amazon HealthLake's FHIR REST API: `sink.fhir_url` is the datastore endpoint
    /// (`https://healthlake.<region>.amazonaws.com/datastore/<id>/r4/`), requests signed with SigV4.
    Healthlake,
    /// Bulk import mode: one NDJSON object per document under `<fleet.work_prefix>staging/` in
    /// `fleet.work_bucket`, for `paperchart-scheduler` to import into HealthLake.
    Staging,
}

impl TryFrom<String> for SinkKind {
    type Error = String;

    fn try_from(s: String) -> Result<SinkKind, String> {
        use SinkKind::*;
        let names = [("dir", Dir), ("fhir", Fhir), ("healthlake", Healthlake), ("staging", Staging)];
        paperchart_model::settings::by_name(&s, "sink kind", &names)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    pub kind: SinkKind,
    /// Output folder of the directory sink.
    pub dir: PathBuf,
    /// Base URL of the FHIR server (the FHIR sink), e.g. `http://127.0.0.1:8080/fhir`.
    pub fhir_url: String,
    /// Bearer token sent to the FHIR server; empty for none.
    pub bearer_token: String,
    /// Per-request timeout, the answer's body included.
    pub timeout_secs: u64,
    /// The longest one document's write may take, every attempt and transaction included: a
    /// hung or crawling server fails the document (transient, "timed out") instead of holding a
    /// worker for attempts × timeout.
    pub write_deadline_secs: u64,
    /// Attempts per Bundle before a transient failure is reported.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, with full jitter.
    pub backoff_base_ms: u64,
    /// Longest delay between attempts, including a server's Retry-After.
    pub backoff_max_ms: u64,
    /// Most entries in one transaction Bundle; bigger documents are split (HealthLake: 100).
    pub max_entries: usize,
    /// Sign requests with AWS SigV4 (always on for `healthlake`; for a FHIR server behind API
    /// Gateway, say).
    pub sigv4: bool,
    /// SigV4 service name.
    pub sigv4_service: String,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            kind: SinkKind::Dir,
            dir: PathBuf::from("paperchart-out"),
            fhir_url: String::new(),
            bearer_token: String::new(),
            timeout_secs: 60,
            write_deadline_secs: 300,
            max_attempts: 6,
            backoff_base_ms: 200,
            backoff_max_ms: 30_000,
            max_entries: 100,
            sigv4: false,
            sigv4_service: "healthlake".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Documents in flight at once; 0 means one per core.
    pub concurrency: usize,
    /// Lease a received message gets before another worker may take it.
    pub visibility_timeout_secs: u64,
    /// How often a job's lease is extended while it runs; must be well under the timeout.
    pub heartbeat_secs: u64,
    /// Deliveries after which a message goes to the dead letters.
    pub max_receives: u32,
    /// Time in-flight jobs get to finish after SIGTERM/SIGINT before they are released.
    pub shutdown_grace_secs: u64,
    /// How often `watch` looks for new files and the queue for messages.
    pub poll_interval_ms: u64,
    /// How long `watch` waits for a file's size and modification time to hold still before it
    /// queues it: a file still being copied (a scanner writing page by page, a slow network
    /// share) is read once, whole, not once per part.
    pub settle_ms: u64,
    /// SQLite file of the local queue; empty for `<watched dir>/.paperchart/queue.sqlite`.
    pub queue_path: String,
    /// Delay before a message that failed transiently is offered again; doubles per receive.
    pub retry_base_secs: u64,
    /// The longest such delay (SQS delays a message at most 900 s).
    pub retry_max_secs: u64,
    /// Throttled or transiently failed deliveries (Textract's throttling or concurrent-job limit,
    /// a FHIR 429, 5xx or outage, S3 unavailable) after which a message goes to the dead letters
    /// with the reason. Each is re-sent as a new message with its count, so waiting on a peer
    /// never spends the queue's receive limit (left to crashes): at most `retry_max_secs` apart,
    /// the default 40 waits about 9 hours.
    pub throttle_max_attempts: u32,
    /// How long a worker holds a Textract job it resumes, against a duplicated notice running the
    /// same document beside it: longer than any one document's reading, mapping and write. A
    /// worker killed while holding one delays that job's redelivery by at most this.
    pub job_lease_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 0,
            visibility_timeout_secs: 120,
            heartbeat_secs: 30,
            max_receives: 5,
            shutdown_grace_secs: 25,
            poll_interval_ms: 500,
            settle_ms: 3000,
            queue_path: String::new(),
            retry_base_secs: 5,
            retry_max_secs: 900,
            throttle_max_attempts: 40,
            job_lease_secs: 900,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {key} = {value}: {hint}")]
    Invalid { key: &'static str, value: String, hint: &'static str },
    #[error("configuration: {key} = {value}: must be a whole number")]
    NotWhole { key: String, value: String },
}

/// A setting whose type is a whole number written as a fraction ("3.5"): refused, where the
/// configuration library would round it.
fn whole_numbers(
    raw: &config::Map<String, config::Value>,
    typed: &config::Map<String, config::Value>,
    path: &str,
) -> Result<(), ConfigError> {
    use config::ValueKind as K;
    for (name, value) in raw {
        let Some(t) = typed.get(name) else { continue };
        let key = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        match (&value.kind, &t.kind) {
            (K::Table(r), K::Table(t)) => whole_numbers(r, t, &key)?,
            (K::Float(f), K::I64(_) | K::U64(_) | K::I128(_) | K::U128(_)) if f.fract() != 0.0 => {
                return Err(ConfigError::NotWhole { key, value: f.to_string() })
            }
            (K::String(s), K::I64(_) | K::U64(_) | K::I128(_) | K::U128(_)) if s.trim().parse::<i128>().is_err() => {
                return Err(ConfigError::NotWhole { key, value: s.clone() })
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl Config {
    /// Defaults, then `file` (if any), then `PAPERCHART__…` variables from `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let cfg = Self::layered(file, env)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The layers without the range checks, for a binary that lays its command-line flags on
    /// top and then calls [`Config::validate`] (an environment may name the sink kind and a flag
    /// its URL).
    pub fn layered(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let defaults = config::Config::try_from(&Config::default())?;
        let mut builder = config::Config::builder().add_source(defaults);
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml).required(true));
        }
        let env: config::Map<String, String> = env.into_iter().filter(|(k, _)| k.starts_with("PAPERCHART__")).collect();
        // Values stay strings until a setting's type reads them: a token or a prefix that looks
        // like a number ("0012345", "007") is not turned into one (and back without its zeros).
        builder = builder.add_source(
            config::Environment::with_prefix("PAPERCHART")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(false)
                .source(Some(env)),
        );
        let built = builder.build()?;
        let raw: config::Map<String, config::Value> = built.clone().try_deserialize()?;
        let cfg: Config = built.try_deserialize()?;
        let typed: config::Map<String, config::Value> = config::Config::try_from(&cfg)?.try_deserialize()?;
        whole_numbers(&raw, &typed, "")?;
        Ok(cfg)
    }

    /// Range checks that serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn bad(key: &'static str, value: impl ToString, hint: &'static str) -> Result<(), ConfigError> {
            Err(ConfigError::Invalid { key, value: value.to_string(), hint })
        }
        let l = &self.limits;
        if l.max_pages == 0 {
            return bad("limits.max_pages", l.max_pages, "must be at least 1");
        }
        if l.max_bytes == 0 {
            return bad("limits.max_bytes", l.max_bytes, "must be at least 1");
        }
        if l.max_pixels_per_page < 10_000 {
            return bad("limits.max_pixels_per_page", l.max_pixels_per_page, "must be at least 10000");
        }
        if l.max_pixels_in_flight < l.max_pixels_per_page {
            return bad(
                "limits.max_pixels_in_flight",
                l.max_pixels_in_flight,
                "must be at least limits.max_pixels_per_page (one page at the limit must fit)",
            );
        }
        if !(72..=600).contains(&l.render_dpi) {
            return bad("limits.render_dpi", l.render_dpi, "must be between 72 and 600 (300 suits OCR)");
        }
        if self.ocr.engine != "tesseract" {
            return bad("ocr.engine", &self.ocr.engine, "the embedded build knows `tesseract`");
        }
        if self.ocr.language.trim().is_empty() {
            return bad("ocr.language", &self.ocr.language, "name a Tesseract language such as `eng`");
        }
        if matches!(self.sink.kind, SinkKind::Fhir | SinkKind::Healthlake)
            && !(self.sink.fhir_url.starts_with("http://") || self.sink.fhir_url.starts_with("https://"))
        {
            return bad("sink.fhir_url", &self.sink.fhir_url, "the FHIR sink needs an http(s) base URL");
        }
        if self.sink.kind == SinkKind::Staging && self.fleet.work_bucket.is_empty() {
            return bad("fleet.work_bucket", "", "the staging sink writes NDJSON to the fleet's work bucket");
        }
        if self.sink.max_entries == 0 {
            return bad("sink.max_entries", 0, "must be at least 1 (HealthLake takes 100)");
        }
        if self.sink.timeout_secs == 0 {
            return bad("sink.timeout_secs", 0, "must be at least 1");
        }
        if self.sink.write_deadline_secs < self.sink.timeout_secs {
            return bad(
                "sink.write_deadline_secs",
                self.sink.write_deadline_secs,
                "must be at least sink.timeout_secs (one request's timeout)",
            );
        }
        if self.sink.max_attempts == 0 {
            return bad("sink.max_attempts", 0, "must be at least 1");
        }
        let w = &self.worker;
        if w.job_lease_secs == 0 {
            return bad("worker.job_lease_secs", 0, "must be at least 1");
        }
        if !(2..=43_200).contains(&w.visibility_timeout_secs) {
            return bad(
                "worker.visibility_timeout_secs",
                w.visibility_timeout_secs,
                "must be 2 to 43200 (SQS holds a message at most 12 hours)",
            );
        }
        if w.heartbeat_secs == 0 || w.heartbeat_secs.saturating_mul(2) > w.visibility_timeout_secs {
            return bad(
                "worker.heartbeat_secs",
                w.heartbeat_secs,
                "must be at least 1 and at most half of worker.visibility_timeout_secs",
            );
        }
        if w.retry_max_secs == 0 || w.retry_max_secs > 900 {
            return bad(
                "worker.retry_max_secs",
                w.retry_max_secs,
                "must be 1 to 900 (SQS delays a message at most 15 minutes)",
            );
        }
        if w.max_receives == 0 {
            return bad("worker.max_receives", 0, "must be at least 1");
        }
        if !(50..=60_000).contains(&w.poll_interval_ms) {
            return bad(
                "worker.poll_interval_ms",
                w.poll_interval_ms,
                "must be 50 to 60000 (shorter burns a core while idle)",
            );
        }
        if w.settle_ms > 3_600_000 {
            return bad("worker.settle_ms", w.settle_ms, "must be at most 3600000 (an hour)");
        }
        Ok(())
    }

    pub fn worker_concurrency(&self) -> usize {
        if self.worker.concurrency == 0 {
            cores()
        } else {
            self.worker.concurrency
        }
    }

    pub fn ocr_threads(&self) -> usize {
        if self.ocr.threads == 0 {
            cores()
        } else {
            self.ocr.threads
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_run_locally() {
        let cfg = Config::load(None, env(&[])).unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.sink.kind, SinkKind::Dir);
        assert_eq!(cfg.limits.max_pages, 500);
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paperchart.toml");
        std::fs::write(
            &file,
            "[limits]\nmax_pages = 40\nrender_dpi = 200\n[sink]\nkind = \"fhir\"\nfhir_url = \"http://x/fhir\"\n",
        )
        .unwrap();
        let cfg = Config::load(Some(&file), env(&[("PAPERCHART__LIMITS__MAX_PAGES", "7"), ("OTHER", "1")])).unwrap();
        assert_eq!(cfg.limits.max_pages, 7);
        assert_eq!(cfg.limits.render_dpi, 200);
        assert_eq!(cfg.sink.kind, SinkKind::Fhir);
    }

    #[test]
    fn environment_strings_stay_strings_and_numbers_still_read() {
        let token = "0012345678901234567890123456789";
        let cfg = Config::layered(
            None,
            env(&[
                ("PAPERCHART__SINK__BEARER_TOKEN", token),
                ("PAPERCHART__FLEET__WORK_PREFIX", "007"),
                ("PAPERCHART__LIMITS__MAX_PAGES", "12"),
                ("PAPERCHART__AWS__S3_PATH_STYLE", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.sink.bearer_token, token);
        assert_eq!(cfg.fleet.work_prefix, "007");
        assert_eq!(cfg.limits.max_pages, 12);
        assert!(cfg.aws.s3_path_style);
        let err = Config::load(None, env(&[("PAPERCHART__LIMITS__MAX_PAGES", "many")])).unwrap_err().to_string();
        assert!(err.contains("max_pages"), "{err}");
    }

    #[test]
    fn fractions_are_no_whole_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[limits]\nmax_pages = 3.5\n").unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(err.contains("limits.max_pages = 3.5: must be a whole number"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__SINK__MAX_ENTRIES", "2.5")])).unwrap_err().to_string();
        assert!(err.contains("sink.max_entries") && err.contains("expected an integer"), "{err}");
        std::fs::write(&file, "[limits]\nmax_pages = 4.0\n[sink]\ntimeout_secs = 30\n").unwrap();
        assert_eq!(Config::load(Some(&file), env(&[])).unwrap().limits.max_pages, 4, "a whole float is whole");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[limits]\nmax_pagez = 3\n").unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(err.contains("max_pagez"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__SINK__COLOUR", "red")])).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn ranges_name_the_key() {
        let err = Config::load(None, env(&[("PAPERCHART__LIMITS__RENDER_DPI", "5")])).unwrap_err().to_string();
        assert!(err.contains("limits.render_dpi"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__LIMITS__MAX_PIXELS_IN_FLIGHT", "1000000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.max_pixels_in_flight") && err.contains("max_pixels_per_page"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__WORKER__HEARTBEAT_SECS", "100")])).unwrap_err().to_string();
        assert!(err.contains("worker.heartbeat_secs"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__SINK__KIND", "fhir")])).unwrap_err().to_string();
        assert!(err.contains("sink.fhir_url"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__SINK__KIND", "blob")])).unwrap_err().to_string();
        assert!(err.contains("one of dir, fhir, healthlake, staging") && err.contains("sink.kind"), "{err}");
        let err = Config::load(None, env(&[("PAPERCHART__FHIR__LOW_CONFIDENCE", "drop")])).unwrap_err().to_string();
        assert!(err.contains("one of flag, omit") && err.contains("low_confidence"), "{err}");
        let cfg = Config::load(None, env(&[("PAPERCHART__FHIR__LOW_CONFIDENCE", "omit")])).unwrap();
        assert_eq!(cfg.fhir.low_confidence, paperchart_model::settings::LowConfidence::Omit);
        for (key, value, named) in [
            ("PAPERCHART__SINK__TIMEOUT_SECS", "0", "sink.timeout_secs"),
            ("PAPERCHART__WORKER__POLL_INTERVAL_MS", "1", "worker.poll_interval_ms"),
            ("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "18446744073709551615", "worker.visibility_timeout_secs"),
        ] {
            let err = Config::load(None, env(&[(key, value)])).unwrap_err().to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn flags_complete_the_environment_before_the_checks() {
        let mut cfg = Config::layered(None, env(&[("PAPERCHART__SINK__KIND", "fhir")])).unwrap();
        assert!(cfg.validate().is_err());
        cfg.sink.fhir_url = "http://127.0.0.1:8080/fhir".into();
        cfg.validate().unwrap();
    }
}
