//! Amazon Textract behind the OCR-engine seam, asynchronously.
//!
//! `start` calls StartDocumentAnalysis (TABLES and FORMS) on the S3 object in place, with a
//! `ClientRequestToken` derived from the object's identity (so a duplicated event gets the same
//! job back), the document id as `JobTag`, and the SNS topic that will carry the completion
//! notice. `fetch` reads every page of GetDocumentAnalysis (MaxResults 1000, NextToken) and turns
//! the blocks into the shared document model.
//!
//! Errors keep their class: throttling (`ThrottlingException`,
//! `ProvisionedThroughputExceededException`) is retried here with backoff under a per-API rate
//! limit and surfaces as throttled; `LimitExceededException` (too many concurrent jobs) is
//! transient, so the intake message waits instead of counting as poison; documents Textract
//! cannot read are permanent and dead-lettered at once.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_textract::types::{DocumentLocation, FeatureType, JobStatus, NotificationChannel, S3Object};
use tokio::sync::Mutex;

use super::blocks::{from_sdk, to_document, TBlock};
use super::events::ObjectRef;
use crate::model::Document;
use crate::ocr::{OcrEngine, OcrError, OcrJob, OcrPoll, OcrStart};
use crate::source::SourceObject;

/// Limits async Textract puts on its input.
pub const MAX_PDF_TIFF_BYTES: u64 = 500 * 1024 * 1024;
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
pub const MAX_PAGES: usize = 3000;

const THROTTLED: &[&str] = &["ThrottlingException", "ProvisionedThroughputExceededException"];
const BUSY: &[&str] = &["LimitExceededException"];
const PERMANENT: &[&str] = &[
    "InvalidS3ObjectException",
    "UnsupportedDocumentException",
    "DocumentTooLargeException",
    "BadDocumentException",
    "InvalidParameterException",
    "AccessDeniedException",
    "InvalidJobIdException",
    "InvalidKMSKeyException",
];

#[derive(Debug, Clone)]
pub struct TextractSettings {
    /// SNS topic for completion notices (its name must start with `AmazonTextract`).
    pub sns_topic_arn: String,
    /// Role Textract assumes to publish to the topic.
    pub role_arn: String,
    /// Calls per second allowed to StartDocumentAnalysis and to GetDocumentAnalysis.
    pub start_per_sec: f64,
    pub get_per_sec: f64,
    /// Attempts of one call under throttling before giving the message back to the queue.
    pub max_attempts: u32,
    pub backoff_base: Duration,
}

impl TextractSettings {
    /// The `[fleet]` section's Textract settings.
    pub fn from_fleet(f: &crate::config::FleetConfig) -> TextractSettings {
        TextractSettings {
            sns_topic_arn: f.textract_sns_topic_arn.clone(),
            role_arn: f.textract_role_arn.clone(),
            start_per_sec: f.textract_start_per_sec,
            get_per_sec: f.textract_get_per_sec,
            max_attempts: f.textract_max_attempts,
            backoff_base: Duration::from_millis(500),
        }
    }
}

/// Spaces calls out to at most `per_sec` a second.
struct RateLimit {
    every: Duration,
    next: Mutex<Instant>,
}

impl RateLimit {
    fn new(per_sec: f64) -> RateLimit {
        let every = if per_sec > 0.0 { Duration::from_secs_f64(1.0 / per_sec) } else { Duration::ZERO };
        RateLimit { every, next: Mutex::new(Instant::now()) }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.every;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

pub struct TextractEngine {
    client: aws_sdk_textract::Client,
    settings: TextractSettings,
    start_limit: RateLimit,
    get_limit: RateLimit,
}

/// A finished job's document, with what Textract said about missing parts.
pub struct JobResult {
    pub document: Document,
    pub pages: usize,
}

fn classify<E, R>(api: &str, err: &aws_sdk_textract::error::SdkError<E, R>) -> OcrError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err
        .as_service_error()
        .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e))
        .unwrap_or("");
    let message = err
        .as_service_error()
        .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::message(e))
        .unwrap_or("")
        .to_string();
    if THROTTLED.contains(&code) {
        OcrError::Throttled { api: api.to_string() }
    } else if BUSY.contains(&code) {
        OcrError::Busy(format!("Textract {api}: {code}"))
    } else if PERMANENT.contains(&code) {
        OcrError::Rejected(format!("Textract {api}: {code}: {message}"))
    } else if code.is_empty() {
        OcrError::Engine(format!("Textract {api}: {}", aws_smithy_types::error::display::DisplayErrorContext(err)))
    } else {
        OcrError::Engine(format!("Textract {api}: {code}: {message}"))
    }
}

/// The idempotency token of a document: bucket, key and version (or eTag), so a duplicated event
/// starts the same job and a new version of the object a new one.
pub fn request_token(o: &ObjectRef) -> String {
    let version = o.version_id.as_deref().or(o.etag.as_deref()).unwrap_or("").trim_matches('"');
    let name = format!("textract|s3://{}/{}|{version}", o.bucket, o.key);
    uuid::Uuid::new_v5(&crate::fhir::ids::NAMESPACE, name.as_bytes()).to_string()
}

impl TextractEngine {
    pub fn new(client: aws_sdk_textract::Client, settings: TextractSettings) -> TextractEngine {
        let (s, g) = (settings.start_per_sec, settings.get_per_sec);
        TextractEngine { client, settings, start_limit: RateLimit::new(s), get_limit: RateLimit::new(g) }
    }

    async fn backoff(&self, attempt: u32) {
        let d = self.settings.backoff_base.saturating_mul(1 << attempt.min(10)).min(Duration::from_secs(20));
        tokio::time::sleep(d).await;
    }

    /// Starts the analysis of `object`; `job_tag` names the document in the notice.
    pub async fn start_analysis(&self, object: &ObjectRef, job_tag: &str) -> Result<String, OcrError> {
        let location = DocumentLocation::builder()
            .s3_object(
                S3Object::builder()
                    .bucket(&object.bucket)
                    .name(&object.key)
                    .set_version(object.version_id.clone())
                    .build(),
            )
            .build();
        let channel = NotificationChannel::builder()
            .sns_topic_arn(&self.settings.sns_topic_arn)
            .role_arn(&self.settings.role_arn)
            .build()
            .map_err(|e| OcrError::Engine(format!("Textract notification channel: {e}")))?;
        let mut attempt = 0;
        loop {
            self.start_limit.wait().await;
            let result = self
                .client
                .start_document_analysis()
                .document_location(location.clone())
                .feature_types(FeatureType::Tables)
                .feature_types(FeatureType::Forms)
                .client_request_token(request_token(object))
                .job_tag(
                    job_tag
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || "_.-:".contains(*c))
                        .take(64)
                        .collect::<String>(),
                )
                .notification_channel(channel.clone())
                .send()
                .await;
            match result {
                Ok(out) => {
                    let job = out.job_id.ok_or_else(|| OcrError::Engine("Textract returned no JobId".into()))?;
                    crate::metrics::textract_started();
                    return Ok(job);
                }
                Err(e) => match classify("StartDocumentAnalysis", &e) {
                    OcrError::Throttled { .. } if attempt + 1 < self.settings.max_attempts => {
                        attempt += 1;
                        self.backoff(attempt).await;
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// A job's status (`IN_PROGRESS`, `SUCCEEDED`, `PARTIAL_SUCCESS`, `FAILED`) and status
    /// message, from one call that reads a single block: for the scheduler's check of jobs
    /// whose completion notice never came.
    pub async fn job_status(&self, job_id: &str) -> Result<(String, Option<String>), OcrError> {
        let mut attempt = 0;
        loop {
            self.get_limit.wait().await;
            match self.client.get_document_analysis().job_id(job_id).max_results(1).send().await {
                Ok(out) => {
                    let status = out.job_status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "FAILED".into());
                    return Ok((status, out.status_message));
                }
                Err(e) => match classify("GetDocumentAnalysis", &e) {
                    OcrError::Throttled { .. } if attempt + 1 < self.settings.max_attempts => {
                        attempt += 1;
                        self.backoff(attempt).await;
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// Every block of a job, or `None` while it runs.
    pub async fn get_result(&self, job_id: &str) -> Result<Option<JobResult>, OcrError> {
        let mut blocks: Vec<TBlock> = Vec::new();
        let mut token: Option<String> = None;
        let mut warnings = Vec::new();
        let mut pages = 0usize;
        let mut attempt = 0;
        loop {
            self.get_limit.wait().await;
            let result = self
                .client
                .get_document_analysis()
                .job_id(job_id)
                .max_results(1000)
                .set_next_token(token.clone())
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(e) => match classify("GetDocumentAnalysis", &e) {
                    OcrError::Throttled { .. } if attempt + 1 < self.settings.max_attempts => {
                        attempt += 1;
                        self.backoff(attempt).await;
                        continue;
                    }
                    other => return Err(other),
                },
            };
            match out.job_status {
                Some(JobStatus::InProgress) => return Ok(None),
                Some(JobStatus::Failed) | None => {
                    return Err(OcrError::Rejected(format!(
                        "Textract job {job_id} FAILED: {}",
                        out.status_message.as_deref().unwrap_or("no status message")
                    )))
                }
                Some(JobStatus::PartialSuccess) => {
                    for w in out.warnings.iter().flatten() {
                        let pages: Vec<String> = w.pages.iter().flatten().map(|p| p.to_string()).collect();
                        warnings.push(format!(
                            "{} (pages {})",
                            w.error_code.as_deref().unwrap_or("warning"),
                            pages.join(",")
                        ));
                    }
                }
                _ => {}
            }
            pages = pages.max(out.document_metadata.as_ref().and_then(|m| m.pages).unwrap_or(0).max(0) as usize);
            blocks.extend(out.blocks.iter().flatten().map(from_sdk));
            token = out.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        let mut document = to_document(&blocks);
        let present: Vec<u32> = document.pages.iter().map(|p| p.number).collect();
        document.missing_pages = (1..=pages as u32).filter(|n| !present.contains(n)).collect();
        document.warnings = warnings;
        Ok(Some(JobResult { document, pages }))
    }
}

#[async_trait]
impl OcrEngine for TextractEngine {
    fn name(&self) -> &'static str {
        "textract"
    }

    async fn start(&self, object: &SourceObject) -> Result<OcrStart, OcrError> {
        let s3 = object.s3.as_ref().ok_or_else(|| OcrError::Engine("Textract reads documents from S3 only".into()))?;
        let tag = crate::fhir::ids::derive(&[&object.identity, "DocumentReference"]);
        let id = self.start_analysis(s3, &tag).await?;
        Ok(OcrStart::Started(OcrJob { id }))
    }

    async fn fetch(&self, job: &OcrJob) -> Result<OcrPoll, OcrError> {
        Ok(match self.get_result(&job.id).await? {
            Some(r) => OcrPoll::Done(r.document),
            None => OcrPoll::Pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rate_limit_spaces_calls() {
        let r = RateLimit::new(20.0);
        let t = Instant::now();
        for _ in 0..5 {
            r.wait().await;
        }
        let e = t.elapsed();
        assert!(e >= Duration::from_millis(190) && e < Duration::from_secs(2), "{e:?}");
    }

    #[test]
    fn tokens_follow_the_object_version() {
        let o = ObjectRef {
            bucket: "b".into(),
            key: "k.pdf".into(),
            version_id: Some("v1".into()),
            etag: None,
            size: None,
        };
        let t = request_token(&o);
        assert_eq!(t, request_token(&o.clone()));
        assert_eq!(t.len(), 36);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        let v2 = ObjectRef { version_id: Some("v2".into()), ..o };
        assert_ne!(t, request_token(&v2));
    }
}
