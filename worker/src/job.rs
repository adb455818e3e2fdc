//! One document's way through the pipeline, as an explicit state machine.
//!
//! ```text
//! Received ─► Parsed ─► OcrStarted ─► OcrDone ─► Mapped ─► Written
//!    │           │     (job parked;     ▲
//!    │           │      message acked)  │
//!    │           └──────────────────────┘ (an engine that answers at once)
//!    └─► Ignored (already written)          any stage ─► failed: released or dead-lettered
//! ```
//!
//! [`crate::pipeline::Pipeline::step`] performs one transition. Entering `OcrStarted` parks the
//! job in the job store and ends the message's work; the completion notice resumes the document
//! from the parked state. The worker acknowledges a message only once each of its documents is
//! `Written`, `OcrStarted` or `Ignored`. Every error names what happened, at which boundary, and
//! carries its class.

use std::collections::BTreeMap;
use std::time::Duration;

use paperchart_core::error::{Classified, ErrorClass};
use paperchart_core::jobs::{PendingJob, StoreError};
use paperchart_core::metrics::Stage;
use paperchart_core::ocr::OcrError;
use paperchart_core::queue::Settlement;
use paperchart_core::sink::SinkError;
use paperchart_core::source::{SourceError, SourceObject};
use paperchart_model::bundle::Mapped;
use paperchart_model::class::DocumentClass;
use paperchart_model::document::Document;
use paperchart_model::file::{DecodeError, Kind};
use serde::Serialize;

// One state per job, moved from step to step and never stored in bulk: its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum JobState {
    /// A message names an object to read.
    Received { key: String },
    /// The object is read, its type known, its identity computed.
    Parsed { object: SourceObject, kind: Kind },
    /// An asynchronous engine is reading it; the job is parked in the job store.
    OcrStarted { pending: PendingJob },
    /// Pages of text are ready. `pending` is the parked job they came from, if any.
    OcrDone { object: SourceObject, kind: Kind, document: Document, pending: Option<PendingJob> },
    /// Entities found and resources built.
    Mapped { mapped: Mapped, pending: Option<PendingJob> },
    /// The sink stored every resource.
    Written,
    /// Nothing to do for this document (this version was written already).
    Ignored { reason: &'static str },
}

impl JobState {
    /// The stage whose transition leaves this state: where a failure is counted.
    pub fn stage(&self) -> Stage {
        match self {
            JobState::Received { .. } => Stage::Fetch,
            JobState::Parsed { .. } => Stage::Ocr,
            JobState::OcrStarted { .. } => Stage::OcrFetch,
            JobState::OcrDone { .. } => Stage::Nlp,
            JobState::Mapped { .. } | JobState::Written | JobState::Ignored { .. } => Stage::Write,
        }
    }

    /// The parked job this document came through, if any.
    pub fn pending(&self) -> Option<&PendingJob> {
        match self {
            JobState::OcrStarted { pending } => Some(pending),
            JobState::OcrDone { pending, .. } | JobState::Mapped { pending, .. } => pending.as_ref(),
            _ => None,
        }
    }
}

/// A queue message that says nothing the worker can act on.
#[derive(Debug, thiserror::Error)]
#[error("{queue} message cannot be read: {detail}")]
pub struct MessageError {
    pub queue: &'static str,
    pub detail: String,
}

/// Why a document (or a message) could not be carried on.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Ocr(OcrError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Several documents of one message failed, none of them in a way a retry could mend.
    #[error("{}", .0.iter().map(|(k, e)| format!("{k}: {e}")).collect::<Vec<_>>().join("; "))]
    Several(Vec<(String, StageError)>),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<OcrError> for StageError {
    /// A document the OCR engine found unreadable is a decode failure, whoever found it.
    fn from(e: OcrError) -> Self {
        match e {
            OcrError::Unreadable(d) => StageError::Decode(d),
            other => StageError::Ocr(other),
        }
    }
}

impl Classified for StageError {
    fn class(&self) -> ErrorClass {
        match self {
            StageError::Source(e) => e.class(),
            StageError::Decode(_) | StageError::Message(_) | StageError::Several(_) => ErrorClass::Permanent,
            StageError::Ocr(e) => e.class(),
            StageError::Store(e) => e.class(),
            StageError::Sink(e) => e.class(),
            StageError::Internal(_) => ErrorClass::Transient,
        }
    }

    /// A short stable label: for summaries, metrics and logs.
    fn label(&self) -> &'static str {
        match self {
            StageError::Source(e) => e.label(),
            StageError::Decode(e) => e.label(),
            StageError::Ocr(e) => e.label(),
            StageError::Store(e) => e.label(),
            StageError::Sink(e) => e.label(),
            StageError::Message(_) => "bad_message",
            StageError::Several(all) => all.first().map_or("several_failed", |(_, e)| e.label()),
            StageError::Internal(_) => "internal",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            StageError::Ocr(e) => e.retry_after(),
            StageError::Sink(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// What happened to one written document: whether someone should look at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Written, but someone should look: e.g. no patient identity, pages the engine missed.
    NeedsReview {
        reason: String,
    },
    Failed {
        class: ErrorClass,
        error: String,
        reason: String,
    },
}

/// Lines read too poorly to trust on a page read well otherwise (a handwritten note on a typed
/// page): the page and its first and last line, 1-based.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoorRegion {
    pub page: u32,
    pub lines: [usize; 2],
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
    /// What kind of document it was read as (`clinical_note`, `claim`, `non_clinical` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<DocumentClass>,
    pub pages: usize,
    /// Pages per reading method (`text_layer`, `tesseract`, `textract`).
    pub read_by: BTreeMap<&'static str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_ocr_confidence: Option<f32>,
    /// Pages per treatment of their image before OCR (`despeckled`, `evened`, `rotated 90` …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prepared: BTreeMap<String, usize>,
    /// Pages read too poorly to trust (fewer than half their words sure: handwriting, damage),
    /// 1-based: their findings are not written as fact, and the document goes to review.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub poorly_read: Vec<u32>,
    /// Runs of lines read too poorly to trust on pages read well otherwise: their findings are
    /// not written as fact either, and the document goes to review.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub poorly_read_regions: Vec<PoorRegion>,
    /// Lines the engine read as handwriting (Textract's HANDWRITING words), per page, 1-based:
    /// written with their confidence, and the document goes to review for a person to check them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub handwritten_lines: BTreeMap<u32, usize>,
    /// Fax transmission lines found on the pages ("… FROM: … P.002/005"): kept from the clinical
    /// reading (their words name the sender, never a finding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fax_lines: Option<usize>,
    pub entities: BTreeMap<&'static str, usize>,
    pub resources: BTreeMap<&'static str, usize>,
    /// Findings held for review instead of written, and where the review went (a document without
    /// a patient, or one from which nothing clinical was read).
    pub held: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    pub millis: u64,
    /// How the document's work ended, in the worker's vocabulary (`written`, `ocr_started`,
    /// `ignored`, `dead_lettered`, `retried`).
    pub settled: &'static str,
    pub outcome: Outcome,
}

impl DocReport {
    pub fn new(name: &str, uri: &str) -> DocReport {
        DocReport {
            name: name.to_string(),
            uri: uri.to_string(),
            document_id: None,
            kind: None,
            class: None,
            pages: 0,
            read_by: BTreeMap::new(),
            mean_ocr_confidence: None,
            prepared: BTreeMap::new(),
            poorly_read: Vec::new(),
            poorly_read_regions: Vec::new(),
            handwritten_lines: BTreeMap::new(),
            fax_lines: None,
            entities: BTreeMap::new(),
            resources: BTreeMap::new(),
            held: 0,
            review: None,
            millis: 0,
            settled: Settlement::Written.as_str(),
            outcome: Outcome::Ok,
        }
    }

    pub fn succeeded(&self) -> bool {
        !matches!(self.outcome, Outcome::Failed { .. })
    }

    pub fn resource_total(&self) -> usize {
        self.resources.values().sum()
    }

    /// Records a failure: the outcome names its class, label and reason.
    pub fn fail(&mut self, e: &StageError) {
        self.settled = Settlement::after_failure(e.class()).as_str();
        self.outcome = Outcome::Failed { class: e.class(), error: e.label().to_string(), reason: e.to_string() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_class() {
        let decode: StageError = DecodeError::Encrypted.into();
        assert_eq!((decode.class(), decode.label()), (ErrorClass::Permanent, "encrypted"));
        let unreadable: StageError = OcrError::Unreadable(DecodeError::Empty).into();
        assert!(matches!(unreadable, StageError::Decode(DecodeError::Empty)), "a decode failure, not an OCR one");
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
        let store = StageError::Store(StoreError::Unavailable { op: "get", key: "k".into(), detail: "down".into() });
        assert_eq!((store.class(), store.label()), (ErrorClass::Transient, "job_store_unavailable"));
        let message = StageError::Message(MessageError { queue: "intake", detail: "not JSON".into() });
        assert_eq!((message.class(), message.label()), (ErrorClass::Permanent, "bad_message"));
        let failed = StageError::from(OcrError::JobFailed { job_id: "j".into(), message: "bad page".into() });
        assert_eq!((failed.class(), failed.label()), (ErrorClass::Permanent, "ocr_job_failed"));
    }
}
