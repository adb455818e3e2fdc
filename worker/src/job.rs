//! One document's way through the pipeline, as an explicit state machine.
//!
//! ```text
//! Received ─► Parsed ─► OcrStarted ─► OcrDone ─► Mapped ─► Written ─► Acknowledged
//!    │           │      (async OCR)      ▲
//!    │           └───────────────────────┘ (an engine that answers at once)
//!    └─► Ignored                     any stage ─► DeadLettered (permanent error, with reason)
//! ```
//!
//! [`crate::pipeline::Pipeline::step`] performs one transition; the queue consumer acknowledges a
//! message only once its job reached `Written`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::decode::{DecodeError, Kind};
use crate::fhir::Mapped;
use crate::model::Document;
use crate::nlp::NlpOutput;
use crate::ocr::{OcrError, OcrJob};
use crate::sink::SinkError;
use crate::source::{SourceError, SourceObject};

pub enum JobState {
    /// A message names an object to read.
    Received { key: String },
    /// The object is fetched, its type known, its identity computed.
    Parsed { object: SourceObject, kind: Kind },
    /// An asynchronous OCR engine is reading it.
    OcrStarted { object: SourceObject, kind: Kind, job: OcrJob },
    /// Pages of text are ready.
    OcrDone { object: SourceObject, kind: Kind, document: Document },
    /// Entities found and resources built.
    Mapped { object: SourceObject, document: Document, nlp: Box<NlpOutput>, mapped: Mapped },
    /// The sink stored every resource.
    Written { report: DocReport },
    /// The queue message is deleted.
    Acknowledged { report: DocReport },
    /// Nothing to do for this message (a test event, a folder).
    Ignored { reason: String },
    /// Cannot be processed; kept with its reason.
    DeadLettered { error: String, class: ErrorClass },
}

impl JobState {
    pub fn stage(&self) -> &'static str {
        match self {
            JobState::Received { .. } => "received",
            JobState::Parsed { .. } => "parsed",
            JobState::OcrStarted { .. } => "ocr_started",
            JobState::OcrDone { .. } => "ocr_done",
            JobState::Mapped { .. } => "mapped",
            JobState::Written { .. } => "written",
            JobState::Acknowledged { .. } => "acknowledged",
            JobState::Ignored { .. } => "ignored",
            JobState::DeadLettered { .. } => "dead_lettered",
        }
    }
}

/// How a failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Try again later (release the message with backoff).
    Transient,
    /// The peer asked us to slow down; try again after the delay.
    Throttled,
    /// Retrying cannot help: dead-letter with the reason.
    Permanent,
}

/// Why a stage failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DecodeError> for StageError {
    fn from(e: DecodeError) -> Self {
        StageError::Ocr(OcrError::Decode(e))
    }
}

impl StageError {
    pub fn class(&self) -> ErrorClass {
        match self {
            StageError::Source(e) if e.is_permanent() => ErrorClass::Permanent,
            StageError::Ocr(e) if e.is_permanent() => ErrorClass::Permanent,
            StageError::Ocr(OcrError::Throttled { .. }) => ErrorClass::Throttled,
            StageError::Sink(SinkError::Transient { status: Some(429), .. }) => ErrorClass::Throttled,
            StageError::Sink(e) if e.is_permanent() => ErrorClass::Permanent,
            _ => ErrorClass::Transient,
        }
    }

    /// A short stable label: for summaries, metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            StageError::Source(e) => e.label(),
            StageError::Ocr(e) => e.label(),
            StageError::Sink(e) => e.label(),
            StageError::Internal(_) => "internal",
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StageError::Sink(SinkError::Transient { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Written, but someone should look: e.g. no patient identity.
    NeedsReview {
        reason: String,
    },
    Failed {
        class: ErrorClass,
        error: String,
        reason: String,
    },
}

/// What happened to one document: counts and timings only, no document content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocReport {
    pub name: String,
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub pages: usize,
    /// Pages per reading method (`text_layer`, `tesseract`, `textract`).
    pub read_by: BTreeMap<&'static str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_ocr_confidence: Option<f32>,
    pub entities: BTreeMap<&'static str, usize>,
    pub resources: BTreeMap<&'static str, usize>,
    pub millis: u64,
    pub outcome: Outcome,
}

impl DocReport {
    pub fn new(name: &str, uri: &str) -> DocReport {
        DocReport {
            name: name.to_string(),
            uri: uri.to_string(),
            document_id: None,
            kind: None,
            pages: 0,
            read_by: BTreeMap::new(),
            mean_ocr_confidence: None,
            entities: BTreeMap::new(),
            resources: BTreeMap::new(),
            millis: 0,
            outcome: Outcome::Ok,
        }
    }

    pub fn succeeded(&self) -> bool {
        !matches!(self.outcome, Outcome::Failed { .. })
    }

    pub fn resource_total(&self) -> usize {
        self.resources.values().sum()
    }

    /// Counts the finished document (`error` is how it failed, if it did).
    pub fn record_metrics(&self, took: Duration, error: Option<&StageError>) {
        let outcome = match (error, &self.outcome) {
            (Some(_), _) | (None, Outcome::Failed { .. }) => "failed",
            (None, Outcome::NeedsReview { .. }) => "needs_review",
            (None, Outcome::Ok) => "ok",
        };
        crate::metrics::document(outcome, error.is_none().then_some(took));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::DecodeError;

    #[test]
    fn errors_carry_their_class() {
        let decode: StageError = DecodeError::Encrypted.into();
        assert_eq!((decode.class(), decode.label()), (ErrorClass::Permanent, "encrypted"));
        let throttled = StageError::Sink(SinkError::Transient {
            status: Some(429),
            detail: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        });
        assert_eq!(throttled.class(), ErrorClass::Throttled);
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
        let down =
            StageError::Sink(SinkError::Transient { status: Some(503), detail: String::new(), retry_after: None });
        assert_eq!(down.class(), ErrorClass::Transient);
        let refused = StageError::Sink(SinkError::Rejected { status: 400, detail: "bad".into() });
        assert_eq!(refused.class(), ErrorClass::Permanent);
    }
}
