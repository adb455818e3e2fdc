//! The fleet on AWS: what the intake and completion queues' messages become.
//!
//! ```text
//!  S3 upload ─► intake SQS ─► IntakeHandler ─► Textract StartDocumentAnalysis ─┐  (delete)
//!                                 │ (ocr = tesseract: the whole pipeline here)  │
//!                                 ▼                                             ▼
//!                          job record in the work bucket                 SNS ─► completion SQS
//!                                                                               │
//!  FHIR sink ◄─ map ◄─ NLP ◄─ GetDocumentAnalysis ◄── CompletionHandler ◄───────┘  (delete)
//! ```
//!
//! Both handlers run in the same [`crate::worker::Worker`] loop as `paperchart watch`. No task
//! waits on Textract: the intake message is deleted once the job is started and recorded, and
//! the completion notice carries the work on. A job record (`<prefix>textract-jobs/<job id>.json`
//! in the work bucket) remembers which object a job reads; the scheduler lists the records to
//! find jobs whose notice never came. The record is deleted only after the document was
//! written, so a crash anywhere leaves either the intake message or the notice (and the record)
//! to retry from.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::aws::events::{parse_completion, parse_intake, ObjectRef};
use crate::aws::s3::{list_keys, read_if_exists, source_key, S3Source};
use crate::aws::textract::{request_token, TextractEngine, MAX_IMAGE_BYTES, MAX_PAGES, MAX_PDF_TIFF_BYTES};
use crate::decode::{DecodeError, Kind};
use crate::job::{DocReport, JobState, Outcome, StageError};
use crate::ocr::OcrError;
use crate::pipeline::Pipeline;
use crate::queue::Message;
use crate::source::SourceObject;
use crate::worker::{Handled, Handler};

/// What the fleet remembers of a started Textract job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: u64,
    pub kind: Kind,
    pub modified: Option<String>,
    pub document_id: String,
    /// The job's ClientRequestToken: once written, a marker under it turns later duplicates of
    /// the same event away without starting anything.
    pub token: String,
    /// RFC 3339.
    pub started_at: String,
}

impl JobRecord {
    pub fn object(&self) -> ObjectRef {
        ObjectRef {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
            etag: self.etag.clone(),
            size: Some(self.size),
        }
    }

    /// Time since the job was started, when its start time reads.
    pub fn age(&self) -> Option<std::time::Duration> {
        let at = time::OffsetDateTime::parse(&self.started_at, &time::format_description::well_known::Rfc3339).ok()?;
        (time::OffsetDateTime::now_utc() - at).try_into().ok()
    }

    /// The source object, described (not downloaded), as the mapper needs it.
    pub fn source(&self) -> SourceObject {
        let o = self.object();
        SourceObject {
            identity: o.identity(),
            uri: o.uri(),
            name: self.key.rsplit('/').next().unwrap_or(&self.key).to_string(),
            size: self.size,
            bytes: Arc::from(Vec::new()),
            sha1: None,
            modified: self.modified.clone(),
            s3: Some(o),
        }
    }
}

/// Started Textract jobs, as small JSON objects in the work bucket.
#[derive(Clone)]
pub struct JobRegistry {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

fn registry_error(what: &str, e: impl std::fmt::Display) -> StageError {
    StageError::Source(crate::source::SourceError::Io {
        path: what.to_string(),
        source: std::io::Error::other(e.to_string()),
    })
}

impl JobRegistry {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, prefix: impl Into<String>) -> JobRegistry {
        JobRegistry { client, bucket: bucket.into(), prefix: prefix.into() }
    }

    fn key(&self, job_id: &str) -> String {
        format!("{}textract-jobs/{job_id}.json", self.prefix)
    }

    fn done_key(&self, token: &str) -> String {
        format!("{}textract-done/{token}", self.prefix)
    }

    /// Remembers that the job of `token` was written (a lifecycle rule may expire the markers
    /// after Textract's own token window).
    pub async fn mark_done(&self, token: &str, document_id: &str) -> Result<(), StageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.done_key(token))
            .body(document_id.as_bytes().to_vec().into())
            .send()
            .await
            .map_err(|e| registry_error("done marker", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        Ok(())
    }

    pub async fn is_done(&self, token: &str) -> Result<bool, StageError> {
        match self.client.head_object().bucket(&self.bucket).key(self.done_key(token)).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(registry_error("done marker", aws_smithy_types::error::display::DisplayErrorContext(&e))),
        }
    }

    pub async fn put(&self, r: &JobRecord) -> Result<(), StageError> {
        let body = serde_json::to_vec(r).map_err(|e| registry_error("job record", e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(&r.job_id))
            .body(body.into())
            .content_type("application/json")
            .send()
            .await
            .map_err(|e| registry_error("job record", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        Ok(())
    }

    pub async fn get(&self, job_id: &str) -> Result<Option<JobRecord>, StageError> {
        let bytes = read_if_exists(&self.client, &self.bucket, &self.key(job_id))
            .await
            .map_err(|e| registry_error("job record", e))?;
        bytes.map(|b| serde_json::from_slice(&b).map_err(|e| registry_error("job record", e))).transpose()
    }

    pub async fn delete(&self, job_id: &str) -> Result<(), StageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key(job_id))
            .send()
            .await
            .map_err(|e| registry_error("job record", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        Ok(())
    }

    /// Every recorded job.
    pub async fn list(&self) -> Result<Vec<JobRecord>, StageError> {
        let prefix = format!("{}textract-jobs/", self.prefix);
        let keys = list_keys(&self.client, &self.bucket, &prefix, usize::MAX)
            .await
            .map_err(|e| registry_error("job records", e))?;
        let mut out = Vec::new();
        for key in keys {
            let id = key.rsplit('/').next().unwrap_or("").trim_end_matches(".json");
            if let Some(r) = self.get(id).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Checks Textract's own limits before starting a job that would fail.
pub fn check_textract_limits(kind: Kind, size: u64) -> Result<(), DecodeError> {
    let limit = match kind {
        Kind::Pdf | Kind::Tiff => MAX_PDF_TIFF_BYTES,
        Kind::Png | Kind::Jpeg => MAX_IMAGE_BYTES,
    };
    if size > limit {
        return Err(DecodeError::TooLarge { bytes: size, limit });
    }
    Ok(())
}

/// Settles a message made of several records: done when every record is; otherwise the
/// strongest failure (transient before permanent, so nothing is dead-lettered that a retry could
/// still finish), with the failed keys named.
/// `Ok(None)` is a record with nothing left to do (already written).
fn settle(results: Vec<(String, Result<Option<String>, StageError>)>, started: bool) -> Result<Handled, StageError> {
    let mut done = Vec::new();
    let mut skipped = Vec::new();
    let mut failed: Vec<(String, StageError)> = Vec::new();
    for (key, r) in results {
        match r {
            Ok(Some(id)) => done.push(id),
            Ok(None) => skipped.push(key),
            Err(e) => failed.push((key, e)),
        }
    }
    if failed.is_empty() {
        return Ok(match (done.is_empty(), started) {
            (true, _) => Handled::Ignored(format!("already written: {}", skipped.len())),
            (false, true) => Handled::Started(done),
            (false, false) => Handled::Written(done),
        });
    }
    if failed.len() == 1 {
        return Err(failed.pop().expect("one").1);
    }
    let transient = failed.iter().position(|(_, e)| e.class() != crate::job::ErrorClass::Permanent);
    if let Some(i) = transient {
        return Err(failed.swap_remove(i).1);
    }
    let reasons: Vec<String> = failed.iter().map(|(k, e)| format!("{k}: {e}")).collect();
    Err(StageError::Ocr(OcrError::Rejected(reasons.join("; "))))
}

/// The intake queue: S3 events in, Textract jobs (or, with Tesseract, whole documents) out.
pub struct IntakeHandler {
    pub source: Arc<S3Source>,
    /// What a document is checked against before Textract is paid to read it.
    pub limits: crate::decode::Limits,
    /// `None` runs the whole pipeline here (Tesseract in the worker).
    pub textract: Option<Arc<TextractEngine>>,
    pub registry: Option<JobRegistry>,
    pub pipeline: Pipeline,
}

impl IntakeHandler {
    /// Starts the Textract job of one object; `None` when that object version was written
    /// already (a duplicated event). The object is read once and checked the way the embedded
    /// pipeline checks a document — corrupt, encrypted, no pages, too many pages (Textract's
    /// 3,000 and `limits.max_pages`), pixel bombs, Textract's size limits — so a document Textract
    /// would refuse is dead-lettered with a clear reason before a job is paid for.
    async fn start(&self, o: &ObjectRef, textract: &TextractEngine) -> Result<Option<String>, StageError> {
        let registry = self.registry.as_ref().ok_or_else(|| StageError::Internal("no job registry".into()))?;
        let located = self.source.locate(o).await?;
        let token = request_token(&located);
        if registry.is_done(&token).await? {
            return Ok(None);
        }
        let object = self.source.get(located.clone()).await?;
        let mut limits = self.limits;
        limits.max_pages = limits.max_pages.min(MAX_PAGES as u32);
        let bytes = object.bytes.clone();
        let kind = tokio::task::spawn_blocking(move || crate::decode::Opened::open(bytes, &limits).map(|d| d.kind()))
            .await
            .map_err(|e| StageError::Internal(format!("document check: {e}")))??;
        check_textract_limits(kind, object.size)?;
        let document_id = crate::fhir::ids::derive(&[&object.identity, "DocumentReference"]);
        let job_id = textract.start_analysis(&located, &document_id).await?;
        registry
            .put(&JobRecord {
                job_id: job_id.clone(),
                bucket: located.bucket.clone(),
                key: located.key.clone(),
                version_id: located.version_id.clone(),
                etag: located.etag.clone(),
                size: object.size,
                kind,
                modified: object.modified.clone(),
                document_id,
                token,
                started_at: now_rfc3339(),
            })
            .await?;
        Ok(Some(job_id))
    }
}

#[async_trait]
impl Handler for IntakeHandler {
    async fn handle(&self, message: &Message) -> Result<Handled, StageError> {
        let event = parse_intake(&message.body)
            .map_err(|e| StageError::Ocr(OcrError::Rejected(format!("intake message: {e}"))))?;
        if event.objects.is_empty() {
            return Ok(Handled::Ignored(event.ignored.join(", ")));
        }
        let mut results = Vec::new();
        for o in &event.objects {
            let r = match &self.textract {
                Some(t) => {
                    let started = self.start(o, t).await;
                    if let Err(e) = &started {
                        crate::metrics::stage_error("textract_start", e.label());
                    }
                    started
                }
                None => match self.pipeline.process(&source_key(o)).await {
                    (report, None) => Ok(report.document_id),
                    (_, Some(e)) => Err(e),
                },
            };
            results.push((o.uri(), r));
        }
        settle(results, self.textract.is_some())
    }

    async fn flush(&self) -> Result<(), StageError> {
        Ok(self.pipeline.sink.flush().await?)
    }
}

/// The completion queue: Textract notices in, FHIR out.
pub struct CompletionHandler {
    pub textract: Arc<TextractEngine>,
    pub registry: JobRegistry,
    pub pipeline: Pipeline,
}

impl CompletionHandler {
    /// Reads a finished job and writes its document.
    pub async fn finish(&self, record: &JobRecord) -> Result<DocReport, StageError> {
        let started = std::time::Instant::now();
        let waited = record.age();
        if let Some(w) = waited {
            crate::metrics::stage(crate::metrics::Stage::TextractWait, w);
        }
        let result = match self.textract.get_result(&record.job_id).await {
            Ok(Some(r)) if r.pages > MAX_PAGES => {
                Err(DecodeError::TooManyPages { pages: r.pages as u32, limit: MAX_PAGES as u32 }.into())
            }
            Ok(Some(r)) => Ok(r),
            Ok(None) => {
                Err(StageError::Ocr(OcrError::Busy(format!("Textract job {} still in progress", record.job_id))))
            }
            Err(e) => Err(StageError::from(e)),
        };
        let result = result.inspect_err(|e| crate::metrics::stage_error("textract_result", e.label()))?;
        let object = record.source();
        let mut report = DocReport::new(&object.name, &object.uri);
        report.kind = Some(record.kind);
        let missing = result.document.missing_pages.len();
        let state = JobState::OcrDone { object, kind: record.kind, document: result.document };
        let written = self.pipeline.run(state, &mut report).await;
        if written.is_ok() && missing > 0 {
            report.outcome =
                Outcome::NeedsReview { reason: format!("Textract PARTIAL_SUCCESS: {missing} page(s) missing") };
        }
        report.record_metrics(waited.unwrap_or_default() + started.elapsed(), written.as_ref().err());
        written?;
        report.millis = started.elapsed().as_millis() as u64;
        self.registry.mark_done(&record.token, &record.document_id).await?;
        self.registry.delete(&record.job_id).await?;
        Ok(report)
    }
}

#[async_trait]
impl Handler for CompletionHandler {
    async fn handle(&self, message: &Message) -> Result<Handled, StageError> {
        let notice = parse_completion(&message.body)
            .map_err(|e| StageError::Ocr(OcrError::Rejected(format!("completion message: {e}"))))?;
        let Some(record) = self.registry.get(&notice.job_id).await? else {
            // Already written (the record goes last), or not a job of this fleet.
            return Ok(Handled::Ignored(format!("no record of Textract job {}", notice.job_id)));
        };
        crate::metrics::textract_completed(&notice.status, record.age());
        match notice.status.as_str() {
            "SUCCEEDED" | "PARTIAL_SUCCESS" => {
                let report = match self.finish(&record).await {
                    Ok(r) => r,
                    Err(e) => {
                        if e.class() == crate::job::ErrorClass::Permanent {
                            // Dead-lettered with its reason: nothing left for the scheduler.
                            self.registry.delete(&record.job_id).await?;
                        }
                        return Err(e);
                    }
                };
                tracing::info!(
                    document = record.document_id.as_str(),
                    pages = report.pages,
                    resources = report.resource_total(),
                    "textract job written"
                );
                Ok(Handled::Written(vec![record.document_id]))
            }
            status => {
                // FAILED or ERROR: Textract's StatusMessage says why.
                let why = match self.textract.get_result(&record.job_id).await {
                    Err(e) => e.to_string(),
                    Ok(_) => format!("Textract job {} {status}", record.job_id),
                };
                self.registry.delete(&record.job_id).await?;
                crate::metrics::stage_error("textract_result", "textract_failed");
                Err(StageError::Ocr(OcrError::Rejected(why)))
            }
        }
    }

    async fn flush(&self) -> Result<(), StageError> {
        Ok(self.pipeline.sink.flush().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textract_limits_by_kind() {
        assert!(check_textract_limits(Kind::Pdf, 400 * 1024 * 1024).is_ok());
        assert!(check_textract_limits(Kind::Tiff, 600 * 1024 * 1024).is_err());
        assert!(check_textract_limits(Kind::Png, 9 * 1024 * 1024).is_ok());
        let e = check_textract_limits(Kind::Jpeg, 11 * 1024 * 1024).unwrap_err();
        assert_eq!(e.label(), "too_large");
    }

    #[test]
    fn several_records_settle_together() {
        let ok = |k: &str| (k.to_string(), Ok::<_, StageError>(Some(format!("id-{k}"))));
        let seen = |k: &str| (k.to_string(), Ok::<_, StageError>(None));
        assert_eq!(settle(vec![seen("a")], true).unwrap(), Handled::Ignored("already written: 1".into()));
        assert_eq!(settle(vec![seen("a"), ok("b")], true).unwrap(), Handled::Started(vec!["id-b".into()]));
        let permanent = |k: &str| (k.to_string(), Err(StageError::from(DecodeError::Empty)));
        let transient = |k: &str| (k.to_string(), Err(StageError::Internal("net".into())));
        assert_eq!(
            settle(vec![ok("a"), ok("b")], false).unwrap(),
            Handled::Written(vec!["id-a".into(), "id-b".into()])
        );
        let e = settle(vec![ok("a"), permanent("b"), transient("c")], false).unwrap_err();
        assert_eq!(e.class(), crate::job::ErrorClass::Transient, "retry before giving up on any record");
        let e = settle(vec![permanent("a"), permanent("b")], true).unwrap_err();
        assert_eq!(e.class(), crate::job::ErrorClass::Permanent);
        assert!(e.to_string().contains("a: empty file") && e.to_string().contains("b: empty file"));
    }
}
