//! Bulk import: staged NDJSON (`paperchart worker --sink staging`) into HealthLake with
//! `StartFHIRImportJob`, one job at a time (HealthLake runs one import per datastore at once).
//!
//! A round does one step of a small state machine kept in the work bucket as
//! `<prefix>imports/current.json`:
//! 1. nothing current: take up to `import_max_files` staged objects, write the batch to
//!    `current.json`, move the objects to `<prefix>imports/<batch>/input/` (copy, then delete),
//!    and start the import with the batch id as its client token;
//! 2. a current batch: describe the job; while it runs, wait; when it ends, send what it refused
//!    (the lines of its `FAILURE` output, or every input file when the whole job FAILED) to the
//!    import dead-letter queue with the reason, and clear `current.json`.
//!
//! A file leaves the staging prefix before its import starts and the batch is resumed from
//! `current.json` after a crash, with the same client token, so no file is imported twice.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use paperchart_aws::s3::{list_keys, read_if_exists};
use paperchart_aws::sqs::SqsQueue;

/// The HealthLake control plane, behind a seam so the state machine is tested with a fake.
#[async_trait]
pub trait ImportControl: Send + Sync {
    /// Whether an import job is submitted, queued or running on the datastore.
    async fn busy(&self) -> anyhow::Result<bool>;
    /// Starts an import of everything under `input_uri`; results go under `output_uri`.
    async fn start(&self, name: &str, input_uri: &str, output_uri: &str, token: &str) -> anyhow::Result<String>;
    /// The job's status (`SUBMITTED`, `QUEUED`, `IN_PROGRESS`, `COMPLETED`,
    /// `COMPLETED_WITH_ERRORS`, `FAILED`, …) and message.
    async fn describe(&self, job_id: &str) -> anyhow::Result<(String, Option<String>)>;
}

/// The real control plane: aws-sdk-healthlake.
pub struct HealthLakeImports {
    pub client: aws_sdk_healthlake::Client,
    pub datastore_id: String,
    pub role_arn: String,
    pub kms_key_id: String,
}

#[async_trait]
impl ImportControl for HealthLakeImports {
    async fn busy(&self) -> anyhow::Result<bool> {
        use aws_sdk_healthlake::types::JobStatus;
        for status in [JobStatus::Submitted, JobStatus::Queued, JobStatus::InProgress] {
            let out = self
                .client
                .list_fhir_import_jobs()
                .datastore_id(&self.datastore_id)
                .job_status(status)
                .max_results(1)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("ListFHIRImportJobs: {}", paperchart_aws::describe(&e)))?;
            if !out.import_job_properties_list.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn start(&self, name: &str, input_uri: &str, output_uri: &str, token: &str) -> anyhow::Result<String> {
        use aws_sdk_healthlake::types::{InputDataConfig, OutputDataConfig, S3Configuration};
        let output = S3Configuration::builder()
            .s3_uri(output_uri)
            .kms_key_id(&self.kms_key_id)
            .build()
            .map_err(|e| anyhow::anyhow!("import output: {e}"))?;
        let out = self
            .client
            .start_fhir_import_job()
            .job_name(name)
            .datastore_id(&self.datastore_id)
            .data_access_role_arn(&self.role_arn)
            .input_data_config(InputDataConfig::S3Uri(input_uri.to_string()))
            .job_output_data_config(OutputDataConfig::S3Configuration(output))
            .client_token(token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("StartFHIRImportJob: {}", paperchart_aws::describe(&e)))?;
        Ok(out.job_id)
    }

    async fn describe(&self, job_id: &str) -> anyhow::Result<(String, Option<String>)> {
        let out = self
            .client
            .describe_fhir_import_job()
            .datastore_id(&self.datastore_id)
            .job_id(job_id)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("DescribeFHIRImportJob: {}", paperchart_aws::describe(&e)))?;
        let p = out.import_job_properties.ok_or_else(|| anyhow::anyhow!("DescribeFHIRImportJob: no properties"))?;
        Ok((p.job_status.as_str().to_string(), p.message))
    }
}

/// The batch being imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub id: String,
    /// Staged keys this batch took.
    pub files: Vec<String>,
    pub job_id: Option<String>,
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    /// Nothing staged.
    Idle,
    /// Another import runs on the datastore, or ours does.
    Waiting(String),
    /// A batch of this many files was started.
    Started { batch: String, files: usize },
    /// The batch ended with this status; this many resources or files were dead-lettered.
    Finished { status: String, dead_lettered: usize },
}

pub struct Imports<'a> {
    pub s3: &'a aws_sdk_s3::Client,
    pub bucket: &'a str,
    /// The fleet's work prefix (`paperchart/`).
    pub prefix: &'a str,
    pub control: &'a dyn ImportControl,
    pub dead_letters: &'a SqsQueue,
    pub max_files: usize,
}

fn s3_error(what: &str, e: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{what}: {}", paperchart_aws::describe(&e))
}

impl Imports<'_> {
    fn current_key(&self) -> String {
        format!("{}imports/current.json", self.prefix)
    }

    fn input_prefix(&self, batch: &str) -> String {
        format!("{}imports/{batch}/input/", self.prefix)
    }

    fn output_prefix(&self, batch: &str) -> String {
        format!("{}imports/{batch}/output/", self.prefix)
    }

    async fn list(&self, prefix: &str, max: usize) -> anyhow::Result<Vec<String>> {
        list_keys(self.s3, self.bucket, prefix, max).await.map_err(anyhow::Error::msg)
    }

    async fn read(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        read_if_exists(self.s3, self.bucket, key).await.map_err(anyhow::Error::msg)
    }

    async fn save(&self, batch: &Batch) -> anyhow::Result<()> {
        self.s3
            .put_object()
            .bucket(self.bucket)
            .key(self.current_key())
            .body(serde_json::to_vec(batch)?.into())
            .send()
            .await
            .map_err(|e| s3_error("write current.json", e))?;
        Ok(())
    }

    /// Moves what is still staged of the batch into its input prefix (copy, then delete).
    async fn gather(&self, batch: &Batch) -> anyhow::Result<()> {
        let staging = paperchart_aws::staging::staging_prefix(self.prefix);
        for key in &batch.files {
            let name = key.strip_prefix(&staging).unwrap_or(key);
            let copied = self
                .s3
                .copy_object()
                .bucket(self.bucket)
                .key(format!("{}{name}", self.input_prefix(&batch.id)))
                .copy_source(format!("{}/{}", self.bucket, paperchart_core::source::encode_path(key)))
                .send()
                .await;
            match copied {
                Ok(_) => {}
                // Moved already, before a crash.
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => continue,
                Err(e) => return Err(s3_error("copy a staged file", e)),
            }
            self.s3.delete_object().bucket(self.bucket).key(key).send().await.map_err(|e| s3_error("delete", e))?;
        }
        Ok(())
    }

    async fn start(&self, mut batch: Batch) -> anyhow::Result<Round> {
        self.gather(&batch).await?;
        let uri = |p: String| format!("s3://{}/{p}", self.bucket);
        let job = self
            .control
            .start(
                &format!("paperchart-{}", batch.id),
                &uri(self.input_prefix(&batch.id)),
                &uri(self.output_prefix(&batch.id)),
                &batch.id,
            )
            .await?;
        tracing::info!(batch = batch.id.as_str(), job = job.as_str(), files = batch.files.len(), "import started");
        batch.job_id = Some(job);
        self.save(&batch).await?;
        Ok(Round::Started { batch: batch.id, files: batch.files.len() })
    }

    /// Sends every line of the job's FAILURE output (or every input file, when the whole job
    /// failed) to the dead-letter queue with the reason.
    async fn dead_letter(
        &self,
        batch: &Batch,
        job: &str,
        status: &str,
        message: Option<&str>,
    ) -> anyhow::Result<usize> {
        let mut sent = 0;
        let reason = format!("HealthLake import {job} {status}: {}", message.unwrap_or("see the failure output"));
        if status == "FAILED" {
            for key in self.list(&self.input_prefix(&batch.id), usize::MAX).await? {
                let body = serde_json::json!({"import_batch": batch.id, "file": format!("s3://{}/{key}", self.bucket)});
                self.dead_letters.send_dead_letter(&body.to_string(), &reason, 0).await?;
                sent += 1;
            }
            return Ok(sent);
        }
        for key in self.list(&self.output_prefix(&batch.id), usize::MAX).await? {
            if !key.contains("/FAILURE/") || !key.ends_with(".ndjson") {
                continue;
            }
            let text = String::from_utf8_lossy(&self.read(&key).await?.unwrap_or_default()).into_owned();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                self.dead_letters.send_dead_letter(line, &reason, 0).await?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// One step of the state machine.
    pub async fn round(&self) -> anyhow::Result<Round> {
        if let Some(bytes) = self.read(&self.current_key()).await? {
            let batch: Batch = serde_json::from_slice(&bytes)?;
            let Some(job) = batch.job_id.clone() else {
                // A crash between taking the batch and starting it: finish that.
                return self.start(batch).await;
            };
            let (status, message) = self.control.describe(&job).await?;
            return match status.as_str() {
                "COMPLETED" | "COMPLETED_WITH_ERRORS" | "FAILED" | "CANCEL_COMPLETED" => {
                    let dead_lettered = if status == "COMPLETED" {
                        0
                    } else {
                        self.dead_letter(&batch, &job, &status, message.as_deref()).await?
                    };
                    self.s3
                        .delete_object()
                        .bucket(self.bucket)
                        .key(self.current_key())
                        .send()
                        .await
                        .map_err(|e| s3_error("delete current.json", e))?;
                    tracing::info!(
                        batch = batch.id.as_str(),
                        job = job.as_str(),
                        status = status.as_str(),
                        dead_lettered,
                        "import ended"
                    );
                    Ok(Round::Finished { status, dead_lettered })
                }
                _ => Ok(Round::Waiting(format!("import {job} {status}"))),
            };
        }
        let staged = self.list(&paperchart_aws::staging::staging_prefix(self.prefix), self.max_files).await?;
        if staged.is_empty() {
            return Ok(Round::Idle);
        }
        if self.control.busy().await? {
            return Ok(Round::Waiting("another import job runs on the datastore".into()));
        }
        let batch = Batch { id: uuid::Uuid::new_v4().simple().to_string(), files: staged, job_id: None };
        self.save(&batch).await?;
        self.start(batch).await
    }
}
