//! Amazon Textract behind the OCR-engine seam, asynchronously.
//!
//! `start` checks the document the way the embedded pipeline would (type, corrupt, encrypted, no
//! pages, Textract's page and size limits) so nothing Textract would refuse is paid for, then
//! calls StartDocumentAnalysis (TABLES and FORMS) on the S3 object in place, with a
//! `ClientRequestToken` derived from the object's location (so a duplicated event gets the same job
//! back), the document id as `JobTag`, and the SNS topic that will carry the completion notice.
//! `fetch` reads every page of GetDocumentAnalysis (MaxResults 1000, NextToken) and turns the
//! blocks into the shared document model.
//!
//! Errors keep their class: throttling (`ThrottlingException`,
//! `ProvisionedThroughputExceededException`) is retried here, under a per-API rate limit and the
//! one backoff, and surfaces as throttled; `LimitExceededException` (too many concurrent jobs) is
//! transient, so the intake message waits instead of counting as poison; documents Textract
//! cannot read are permanent and dead-lettered at once.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_textract::types::{DocumentLocation, FeatureType, JobStatus, NotificationChannel, S3Object};
use paperchart_core::backoff::Backoff;
use paperchart_core::events::OcrThrottled;
use paperchart_core::jobs::{PendingJob, StoreError};
use paperchart_core::ocr::{DocumentCheck, OcrEngine, OcrError, OcrJob, OcrPoll, OcrStart};
use paperchart_core::source::{ObjectLocation, SourceObject};
use paperchart_model::document::Document;
use paperchart_model::file::{DecodeError, Kind, Limits};
use tokio::sync::Mutex;

use crate::blocks::{from_sdk, TBlock, TMetadata, TResponse, TWarning};
use crate::registry::JobRecord;
use crate::responses::{is_replay, ResponseArchive, SavedResponse};

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
    pub backoff: Backoff,
}

impl TextractSettings {
    /// The `[fleet]` section's Textract settings.
    pub fn from_fleet(f: &paperchart_core::config::FleetConfig) -> TextractSettings {
        TextractSettings {
            sns_topic_arn: f.textract_sns_topic_arn.clone(),
            role_arn: f.textract_role_arn.clone(),
            start_per_sec: f.textract_start_per_sec,
            get_per_sec: f.textract_get_per_sec,
            max_attempts: f.textract_max_attempts,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(20)),
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

/// What a document is checked against before Textract is paid to read it.
struct Precheck {
    check: Arc<dyn DocumentCheck>,
    limits: Limits,
}

pub struct TextractEngine {
    client: aws_sdk_textract::Client,
    settings: TextractSettings,
    start_limit: RateLimit,
    get_limit: RateLimit,
    precheck: Option<Precheck>,
    /// Where finished jobs' answers are kept, and read back instead of asking Textract again.
    archive: Option<ResponseArchive>,
}

/// A finished job's document, with what Textract said about missing parts.
pub struct JobResult {
    pub document: Document,
    pub pages: usize,
}

fn classify<E, R>(api: &'static str, err: &aws_sdk_textract::error::SdkError<E, R>) -> OcrError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = crate::error_code(err).unwrap_or_default();
    let message = err
        .as_service_error()
        .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::message(e))
        .unwrap_or("")
        .to_string();
    if THROTTLED.contains(&code.as_str()) {
        OcrError::Throttled { api, retry_after: None }
    } else if BUSY.contains(&code.as_str()) {
        OcrError::AtCapacity { api }
    } else if PERMANENT.contains(&code.as_str()) {
        OcrError::Refused { api, code, message }
    } else if code.is_empty() {
        OcrError::CallFailed { api, detail: crate::describe(err) }
    } else {
        OcrError::CallFailed { api, detail: format!("{code}: {message}") }
    }
}

/// A kept answer that could not be read or written: the work bucket not answering is
/// transient; an answer that is not one is permanent (the reason goes to the dead letters).
fn archive_error(e: StoreError) -> OcrError {
    match e {
        StoreError::Unavailable { .. } | StoreError::Leased { .. } => {
            OcrError::CallFailed { api: "S3 (kept Textract answers)", detail: e.to_string() }
        }
        StoreError::Corrupt { .. } => {
            OcrError::Refused { api: "kept Textract answer", code: "corrupt".into(), message: e.to_string() }
        }
    }
}

/// The token of an object version, before its bytes are read: bucket, key and version (or eTag).
/// The done marker of a written version is kept under it, so a duplicated event is turned away
/// before anything is downloaded.
pub fn location_token(o: &ObjectLocation) -> String {
    let version = o.version_id.as_deref().or(o.etag.as_deref()).unwrap_or("").trim_matches('"');
    let name = format!("textract|s3://{}/{}|{version}", o.bucket, o.key);
    uuid::Uuid::new_v5(&paperchart_model::ids::NAMESPACE, name.as_bytes()).to_string()
}

/// The Textract `ClientRequestToken` of a document: its content (`sha256:<hex>`) where it lies,
/// so a duplicated event starts the same job. Not the content alone: Textract refuses a token
/// reused with another `DocumentLocation` (IdempotentParameterMismatchException); the same bytes
/// under another key are turned away before a job by their content's done marker instead.
pub fn request_token(o: &ObjectLocation, identity: &str) -> String {
    let name = format!("textract|{}|{identity}", location_token(o));
    uuid::Uuid::new_v5(&paperchart_model::ids::NAMESPACE, name.as_bytes()).to_string()
}

/// Textract's own size limits by file type.
pub fn check_size(kind: Kind, size: u64) -> Result<(), DecodeError> {
    let limit = match kind {
        Kind::Pdf | Kind::Tiff => MAX_PDF_TIFF_BYTES,
        Kind::Png | Kind::Jpeg => MAX_IMAGE_BYTES,
    };
    if size > limit {
        return Err(DecodeError::TooLarge { bytes: size, limit });
    }
    Ok(())
}

impl TextractEngine {
    pub fn new(client: aws_sdk_textract::Client, settings: TextractSettings) -> TextractEngine {
        let (s, g) = (settings.start_per_sec, settings.get_per_sec);
        TextractEngine {
            client,
            settings,
            start_limit: RateLimit::new(s),
            get_limit: RateLimit::new(g),
            precheck: None,
            archive: None,
        }
    }

    /// Keeps every finished job's answer in `archive`, and reads a document's kept answer
    /// instead of starting or asking after a job.
    pub fn with_archive(mut self, archive: ResponseArchive) -> TextractEngine {
        self.archive = Some(archive);
        self
    }

    /// The kept answer for `document_id`, read from `s3://bucket/key`, when there is an archive
    /// and it holds a readable one. An answer that cannot be read is as good as none (Textract
    /// is asked again and the answer kept anew), so one bad object never turns a document away
    /// for good.
    async fn kept(&self, bucket: &str, key: &str, document_id: &str) -> Result<Option<SavedResponse>, OcrError> {
        let Some(archive) = &self.archive else { return Ok(None) };
        match archive.load(&archive.key(bucket, key, document_id)).await {
            Ok(saved) => Ok(saved),
            Err(StoreError::Corrupt { .. }) => {
                tracing::warn!(
                    event = "textract_response_unreadable",
                    document_id,
                    "kept answer unreadable; asking Textract"
                );
                Ok(None)
            }
            Err(e) => Err(archive_error(e)),
        }
    }

    /// Checks every document with `check` under `limits` (and Textract's own) before starting
    /// its job. The worker's engine has one; the scheduler's, which only asks after jobs, none.
    pub fn with_check(mut self, check: Arc<dyn DocumentCheck>, limits: Limits) -> TextractEngine {
        let mut limits = limits;
        limits.max_pages = limits.max_pages.min(MAX_PAGES as u32);
        self.precheck = Some(Precheck { check, limits });
        self
    }

    /// One call under the API's rate limit, retried with backoff while Textract throttles.
    async fn call<T, F, Fut>(&self, api: &'static str, limit: &RateLimit, mut send: F) -> Result<T, OcrError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OcrError>>,
    {
        let mut attempt = 0;
        loop {
            limit.wait().await;
            match send().await {
                Err(OcrError::Throttled { .. }) if attempt + 1 < self.settings.max_attempts => {
                    attempt += 1;
                    let wait = self.settings.backoff.delay(attempt, None);
                    OcrThrottled { api, attempt, wait }.emit();
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// Starts the analysis of the object at `object`; `job_tag` names the document in the notice.
    /// Starts the analysis of the object at `object` whose content is `identity`.
    pub async fn start_analysis(
        &self,
        object: &ObjectLocation,
        identity: &str,
        job_tag: &str,
    ) -> Result<String, OcrError> {
        const API: &str = "StartDocumentAnalysis";
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
            .map_err(|e| OcrError::EngineFailed { engine: "textract", detail: format!("notification channel: {e}") })?;
        let tag: String =
            job_tag.chars().filter(|c| c.is_ascii_alphanumeric() || "_.-:".contains(*c)).take(64).collect();
        let token = request_token(object, identity);
        let out = self
            .call(API, &self.start_limit, || async {
                self.client
                    .start_document_analysis()
                    .document_location(location.clone())
                    .feature_types(FeatureType::Tables)
                    .feature_types(FeatureType::Forms)
                    .client_request_token(token.clone())
                    .job_tag(tag.clone())
                    .notification_channel(channel.clone())
                    .send()
                    .await
                    .map_err(|e| classify(API, &e))
            })
            .await?;
        out.job_id.ok_or(OcrError::CallFailed { api: API, detail: "no JobId in the answer".into() })
    }

    /// A job's status (`IN_PROGRESS`, `SUCCEEDED`, `PARTIAL_SUCCESS`, `FAILED`) and status
    /// message, from one call that reads a single block: for the scheduler's check of jobs
    /// whose completion notice never came.
    pub async fn job_status(&self, job_id: &str) -> Result<(String, Option<String>), OcrError> {
        const API: &str = "GetDocumentAnalysis";
        let out = self
            .call(API, &self.get_limit, || async {
                self.client
                    .get_document_analysis()
                    .job_id(job_id)
                    .max_results(1)
                    .send()
                    .await
                    .map_err(|e| classify(API, &e))
            })
            .await?;
        let status = out.job_status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "FAILED".into());
        Ok((status, out.status_message))
    }

    /// Every block of a job, or `None` while it runs.
    pub async fn get_result(&self, job_id: &str) -> Result<Option<JobResult>, OcrError> {
        Ok(self.get_response(job_id).await?.map(|r| JobResult {
            document: r.document(),
            pages: r.document_metadata.as_ref().map_or(0, |m| m.pages as usize),
        }))
    }

    /// A job's whole answer, its pages of results joined, or `None` while it runs.
    pub async fn get_response(&self, job_id: &str) -> Result<Option<TResponse>, OcrError> {
        const API: &str = "GetDocumentAnalysis";
        let mut blocks: Vec<TBlock> = Vec::new();
        let mut token: Option<String> = None;
        let mut warnings = Vec::new();
        let mut pages = 0usize;
        let mut status = String::new();
        loop {
            let out = self
                .call(API, &self.get_limit, || async {
                    self.client
                        .get_document_analysis()
                        .job_id(job_id)
                        .max_results(1000)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| classify(API, &e))
                })
                .await
                .map_err(|e| match e {
                    // Textract keeps a job's results 7 days: after that, or for an id it never
                    // gave, the job is unknown (and a redriven document starts over).
                    OcrError::Refused { code, .. } if code == "InvalidJobIdException" => {
                        OcrError::UnknownJob { job_id: job_id.to_string() }
                    }
                    e => e,
                })?;
            match out.job_status {
                Some(JobStatus::InProgress) => return Ok(None),
                Some(JobStatus::Failed) | None => {
                    return Err(OcrError::JobFailed {
                        job_id: job_id.to_string(),
                        message: out.status_message.unwrap_or_else(|| "FAILED, no status message".into()),
                    })
                }
                Some(JobStatus::PartialSuccess) => {
                    for w in out.warnings.iter().flatten() {
                        warnings.push(TWarning {
                            error_code: w.error_code.clone().unwrap_or_default(),
                            pages: w.pages.iter().flatten().map(|p| (*p).max(0) as u32).collect(),
                        });
                    }
                }
                _ => {}
            }
            if let Some(s) = &out.job_status {
                status = s.as_str().to_string();
            }
            pages = pages.max(out.document_metadata.as_ref().and_then(|m| m.pages).unwrap_or(0).max(0) as usize);
            blocks.extend(out.blocks.iter().flatten().map(from_sdk));
            token = out.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        Ok(Some(TResponse {
            job_status: Some(status),
            document_metadata: Some(TMetadata { pages: pages as u32 }),
            warnings,
            blocks,
        }))
    }
}

#[async_trait]
impl OcrEngine for TextractEngine {
    fn name(&self) -> &'static str {
        "textract"
    }

    async fn start(&self, object: &SourceObject, tag: &str) -> Result<OcrStart, OcrError> {
        let location = object.location.as_ref().ok_or_else(|| OcrError::EngineFailed {
            engine: "textract",
            detail: "Textract reads documents from S3 only".into(),
        })?;
        let precheck = self.precheck.as_ref().ok_or_else(|| OcrError::EngineFailed {
            engine: "textract",
            detail: "no document check configured".into(),
        })?;
        let (check, limits, bytes) = (precheck.check.clone(), precheck.limits, object.bytes.clone());
        let checked = tokio::task::spawn_blocking(move || check.check(bytes, &limits))
            .await
            .map_err(|e| OcrError::EngineFailed { engine: "textract", detail: format!("document check: {e}") })??;
        check_size(checked.kind, object.size)?;
        // This version of the object was read before (its writing failed, or its done marker
        // expired): its kept answer, not a new job.
        if let Some(saved) = self.kept(&location.bucket, &location.key, tag).await? {
            tracing::info!(event = "textract_response_reused", document_id = tag, "kept answer read");
            return Ok(OcrStart::Done(saved.response.document()));
        }
        // A restart after Textract lost the job: another token, or Textract may hand back the
        // lost job's id.
        let identity = match &object.restart_of {
            Some(lost) => format!("{}|restart-of:{lost}", object.identity),
            None => object.identity.clone(),
        };
        let id = self.start_analysis(location, &identity, tag).await?;
        Ok(OcrStart::Started(OcrJob { id }))
    }

    async fn fetch(&self, job: &PendingJob) -> Result<OcrPoll, OcrError> {
        let record = JobRecord::of(job)
            .map_err(|e| OcrError::EngineFailed { engine: "textract", detail: format!("job record: {e}") })?;
        let reuse = |saved: SavedResponse| {
            tracing::info!(event = "textract_response_reused", document_id = %record.document_id, "kept answer read");
            Ok(OcrPoll::Done(saved.response.document()))
        };
        if is_replay(&job.job.id) {
            // A replay: Textract never knew this job, its answer is the kept one or none.
            return match self.kept(&record.bucket, &record.key, &record.document_id).await? {
                Some(saved) => reuse(saved),
                None => Err(OcrError::UnknownJob { job_id: job.job.id.clone() }),
            };
        }
        // Textract first, which keeps a job's answer for 7 days: the kept answer is read only
        // once Textract no longer knows the job (a notice redriven late), not on every notice.
        let response = match self.get_response(&job.job.id).await {
            Ok(Some(response)) => response,
            Ok(None) => return Ok(OcrPoll::Pending),
            Err(OcrError::UnknownJob { job_id }) => {
                return match self.kept(&record.bucket, &record.key, &record.document_id).await? {
                    Some(saved) => reuse(saved),
                    None => Err(OcrError::UnknownJob { job_id }),
                }
            }
            Err(e) => return Err(e),
        };
        let pages = response.document_metadata.as_ref().map_or(0, |m| m.pages);
        if pages as usize > MAX_PAGES {
            return Err(DecodeError::TooManyPages { pages, limit: MAX_PAGES as u32 }.into());
        }
        let document = response.document();
        if let Some(archive) = &self.archive {
            // Kept before the document goes on: a failure here is the work bucket's, and the
            // notice comes back (Textract keeps the answer for 7 days).
            archive.save(SavedResponse { job: record, response }).await.map_err(archive_error)?;
            tracing::info!(event = "textract_response_saved", document_id = %job.document_id, pages, "answer kept");
        }
        Ok(OcrPoll::Done(document))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textract_limits_by_kind() {
        assert!(check_size(Kind::Pdf, 400 * 1024 * 1024).is_ok());
        assert!(check_size(Kind::Tiff, 600 * 1024 * 1024).is_err());
        assert!(check_size(Kind::Png, 9 * 1024 * 1024).is_ok());
        let e = check_size(Kind::Jpeg, 11 * 1024 * 1024).unwrap_err();
        assert_eq!(e.label(), "too_large");
    }

    #[test]
    fn tokens_keep_their_derivation() {
        // Tokens of jobs already started must not change between releases: a duplicated event
        // after an upgrade still gets the same job back.
        let o = ObjectLocation { bucket: "b".into(), key: "k.pdf".into(), version_id: Some("v1".into()), etag: None };
        assert_eq!(
            location_token(&o),
            uuid::Uuid::new_v5(&paperchart_model::ids::NAMESPACE, b"textract|s3://b/k.pdf|v1").to_string()
        );
    }

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
        let o = ObjectLocation { bucket: "b".into(), key: "k.pdf".into(), version_id: Some("v1".into()), etag: None };
        let t = request_token(&o, "sha256:aa");
        assert_eq!(t, request_token(&o.clone(), "sha256:aa"));
        assert_eq!(t.len(), 36);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        let v2 = ObjectLocation { version_id: Some("v2".into()), ..o.clone() };
        assert_ne!(t, request_token(&v2, "sha256:aa"), "another version");
        assert_ne!(t, request_token(&o, "sha256:bb"), "other bytes");
        assert_ne!(location_token(&o), location_token(&v2));
    }
}
