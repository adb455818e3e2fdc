//! Reading pages: the OCR-engine seam.
//!
//! The trait has Textract's asynchronous shape — `start` a job, `fetch` its result — so the AWS
//! engine can hand work to Textract and come back on its completion notice, while an engine that
//! is simply fast (the embedded Tesseract one) answers `start` with the finished document.

mod tesseract;

use async_trait::async_trait;

pub use self::tesseract::TesseractEngine;
use crate::decode::DecodeError;
use crate::model::Document;
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
    Decode(#[from] DecodeError),
    /// The OCR engine could not run (missing language data, engine failure).
    #[error("OCR engine: {0}")]
    Engine(String),
    /// The engine has no such job (the local engine never has pending jobs).
    #[error("OCR job {0} is unknown to this engine")]
    UnknownJob(String),
    /// The engine asks us to slow down (after retries within the engine).
    #[error("OCR engine throttled ({api})")]
    Throttled { api: String },
    /// The engine is at capacity (too many concurrent jobs): try again later.
    #[error("OCR engine busy: {0}")]
    Busy(String),
    /// The engine cannot read this document, or its job failed: permanent.
    #[error("{0}")]
    Rejected(String),
}

impl OcrError {
    pub fn label(&self) -> &'static str {
        match self {
            OcrError::Decode(e) => e.label(),
            OcrError::Engine(_) => "ocr_engine",
            OcrError::UnknownJob(_) => "unknown_ocr_job",
            OcrError::Throttled { .. } => "ocr_throttled",
            OcrError::Busy(_) => "ocr_busy",
            OcrError::Rejected(_) => "ocr_rejected",
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, OcrError::Decode(_) | OcrError::UnknownJob(_) | OcrError::Rejected(_))
    }
}

#[async_trait]
pub trait OcrEngine: Send + Sync {
    fn name(&self) -> &'static str;
    async fn start(&self, object: &SourceObject) -> Result<OcrStart, OcrError>;
    async fn fetch(&self, job: &OcrJob) -> Result<OcrPoll, OcrError>;
}
