//! Reading pages: the OCR-engine seam.
//!
//! The trait has Textract's asynchronous shape — `start` a job, `fetch` its result — so the AWS
//! engine hands work to Textract and the pipeline comes back on its completion notice, while an
//! engine that is simply fast (the embedded Tesseract one, in `paperchart-read`) answers `start`
//! with the finished document. An engine that reads documents elsewhere checks them first with
//! a [`DocumentCheck`], so nothing it would refuse is paid for.

use std::time::Duration;

use async_trait::async_trait;
use paperchart_model::document::Document;
use paperchart_model::file::{DecodeError, Kind, Limits};
use paperchart_model::object::Content;

use crate::error::{Classified, ErrorClass};
use crate::source::SourceObject;

/// A job an asynchronous engine is still working on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrJob {
    pub id: String,
}

pub enum OcrStart {
    /// The engine read the document at once.
    Done(Document),
    /// The engine accepted the document; ask again with [`OcrEngine::fetch`].
    Started(OcrJob),
}

pub enum OcrPoll {
    Pending,
    Done(Document),
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The file itself cannot be read: permanent.
    #[error(transparent)]
    Unreadable(#[from] DecodeError),
    /// The engine could not run here (missing language data, a failed engine thread).
    #[error("OCR engine {engine}: {detail}")]
    EngineFailed { engine: &'static str, detail: String },
    /// A call to a remote engine failed without an answer (network, an unknown error code).
    #[error("OCR call {api} failed: {detail}")]
    CallFailed { api: &'static str, detail: String },
    /// The engine asks us to slow down (after the retries within the engine).
    #[error("OCR engine throttled ({api})")]
    Throttled { api: &'static str, retry_after: Option<Duration> },
    /// The engine runs as many jobs as it may (Textract's LimitExceededException).
    #[error("OCR engine at capacity ({api}): try again later")]
    AtCapacity { api: &'static str },
    /// The engine refused the document (Textract's InvalidS3Object, UnsupportedDocument …).
    #[error("OCR engine refused the document ({api}): {code}: {message}")]
    Refused { api: &'static str, code: String, message: String },
    /// The job ran and failed; the engine's own words say why.
    #[error("OCR job {job_id} failed: {message}")]
    JobFailed { job_id: String, message: String },
    /// The job is still running: come back later.
    #[error("OCR job {job_id} is still running")]
    StillRunning { job_id: String },
    /// The engine has no such job (expired, or never started).
    #[error("OCR job {job_id} is unknown to the engine")]
    UnknownJob { job_id: String },
}

impl Classified for OcrError {
    fn class(&self) -> ErrorClass {
        match self {
            OcrError::Unreadable(_)
            | OcrError::Refused { .. }
            | OcrError::JobFailed { .. }
            | OcrError::UnknownJob { .. } => ErrorClass::Permanent,
            // At its limit of concurrent jobs the engine asks for patience, as when it throttles.
            OcrError::Throttled { .. } | OcrError::AtCapacity { .. } => ErrorClass::Throttled,
            OcrError::EngineFailed { .. } | OcrError::CallFailed { .. } | OcrError::StillRunning { .. } => {
                ErrorClass::Transient
            }
        }
    }

    fn label(&self) -> &'static str {
        match self {
            OcrError::Unreadable(e) => e.label(),
            OcrError::EngineFailed { .. } => "ocr_engine_failed",
            OcrError::CallFailed { .. } => "ocr_call_failed",
            OcrError::Throttled { .. } => "ocr_throttled",
            OcrError::AtCapacity { .. } => "ocr_at_capacity",
            OcrError::Refused { .. } => "ocr_refused",
            OcrError::JobFailed { .. } => "ocr_job_failed",
            OcrError::StillRunning { .. } => "ocr_still_running",
            OcrError::UnknownJob { .. } => "unknown_ocr_job",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            OcrError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[async_trait]
pub trait OcrEngine: Send + Sync {
    /// The engine's name, as pages record how they were read (`tesseract`, `textract`).
    fn name(&self) -> &'static str;
    /// Reads `object`, or starts a job that reads it. `tag` names the document the job is for
    /// (its DocumentReference id), for engines that label their jobs.
    async fn start(&self, object: &SourceObject, tag: &str) -> Result<OcrStart, OcrError>;
    /// The document of a started job, or `Pending` while it runs. The parked job says which
    /// document it is (an engine that keeps its answers files them under it).
    async fn fetch(&self, job: &crate::jobs::PendingJob) -> Result<OcrPoll, OcrError>;
}

/// Opens a document the way the reading stage would — type from the bytes, corrupt, encrypted,
/// no pages, too many pages, pixel bombs — without reading its pages. Blocking: call it where
/// blocking is allowed.
pub trait DocumentCheck: Send + Sync {
    fn check(&self, bytes: Content, limits: &Limits) -> Result<Checked, DecodeError>;
}

/// What a document check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub kind: Kind,
    pub pages: u32,
}
