//! Notable happenings: one type each, whose `emit` writes its log line and records its metrics
//! together (Vector's `internal_events`), so a log line and its counter never disagree and tests
//! assert on events — the `event` field and its structured fields — not on log sentences.
//!
//! Fields are ids, counts, timings, and labels from fixed sets: never document text, patient
//! data, or a peer's free text.

use std::time::Duration;

use crate::error::ErrorClass;
use crate::metrics::{self, QueueRole, Stage};
use crate::queue::Settlement;
use paperchart_model::bundle::ReviewReason;

fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// A worker loop took a message.
pub struct JobStarted<'a> {
    pub queue: QueueRole,
    pub msg_id: &'a str,
    pub receive_count: u32,
}

impl JobStarted<'_> {
    pub fn emit(&self) {
        tracing::info!(
            event = "job_started",
            queue = self.queue.as_str(),
            msg_id = self.msg_id,
            receive_count = self.receive_count,
            "job started"
        );
    }
}

/// A message is settled: written, started, ignored, retried, dead-lettered, abandoned or
/// interrupted.
pub struct MessageSettled<'a> {
    pub queue: QueueRole,
    pub msg_id: &'a str,
    pub how: Settlement,
    pub took: Duration,
    /// For a failure: its class and label.
    pub error: Option<(ErrorClass, &'static str)>,
    /// For a release: when the message comes back.
    pub delay: Option<Duration>,
    /// Documents (or OCR jobs) the message was about.
    pub documents: usize,
}

impl MessageSettled<'_> {
    pub fn emit(&self) {
        let (class, label) = self.error.map_or(("", ""), |(c, l)| (c.as_str(), l));
        let delay_ms = self.delay.map(millis);
        match self.how {
            Settlement::Retried | Settlement::DeadLettered | Settlement::Abandoned => tracing::warn!(
                event = "message_settled",
                queue = self.queue.as_str(),
                msg_id = self.msg_id,
                settlement = self.how.as_str(),
                error_class = class,
                error = label,
                delay_ms,
                millis = millis(self.took),
                "message settled"
            ),
            _ => tracing::info!(
                event = "message_settled",
                queue = self.queue.as_str(),
                msg_id = self.msg_id,
                settlement = self.how.as_str(),
                documents = self.documents,
                delay_ms,
                millis = millis(self.took),
                "message settled"
            ),
        }
        metrics::settled(self.queue, self.how, self.took, self.error);
    }
}

/// Settling a message failed at the queue (its receipt went stale, the queue did not answer).
/// The work is idempotent: whoever holds the message now redoes the same upserts.
pub struct SettleFailed<'a> {
    pub queue: QueueRole,
    pub msg_id: &'a str,
    pub how: Settlement,
    pub lease_lost: bool,
}

impl SettleFailed<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            event = "settle_failed",
            queue = self.queue.as_str(),
            msg_id = self.msg_id,
            settlement = self.how.as_str(),
            lease_lost = self.lease_lost,
            "could not settle message"
        );
    }
}

/// A receive call failed; the loop waits before the next one.
pub struct ReceiveFailed {
    pub queue: QueueRole,
    pub wait: Duration,
}

impl ReceiveFailed {
    pub fn emit(&self) {
        tracing::warn!(
            event = "receive_failed",
            queue = self.queue.as_str(),
            wait_ms = millis(self.wait),
            "queue receive failed"
        );
        metrics::receive_failed(self.queue);
    }
}

/// A running job's lease was extended, or could not be (then the job is abandoned).
pub struct LeaseExtended<'a> {
    pub queue: QueueRole,
    pub msg_id: &'a str,
    pub ok: bool,
    /// The extension call did not answer in time.
    pub timed_out: bool,
}

impl LeaseExtended<'_> {
    pub fn emit(&self) {
        if !self.ok {
            tracing::warn!(
                event = "lease_lost",
                queue = self.queue.as_str(),
                msg_id = self.msg_id,
                timed_out = self.timed_out,
                "lease extension failed; abandoning job"
            );
        }
        metrics::extension(self.queue, self.ok);
    }
}

/// A document reached the sink.
pub struct DocumentWritten<'a> {
    pub document_id: &'a str,
    pub pages: usize,
    pub entities: usize,
    pub resources: usize,
    pub needs_review: bool,
    pub took: Duration,
}

impl DocumentWritten<'_> {
    pub fn emit(&self) {
        tracing::info!(
            event = "document_written",
            document = self.document_id,
            pages = self.pages,
            entities = self.entities,
            resources = self.resources,
            needs_review = self.needs_review,
            millis = millis(self.took),
            "document written"
        );
        metrics::document(if self.needs_review { "needs_review" } else { "ok" }, Some(self.took));
    }
}

/// A document's findings were held for review (stored, not written to a patient record).
pub struct DocumentHeld<'a> {
    pub document_id: &'a str,
    pub reason: ReviewReason,
    pub findings: usize,
}

impl DocumentHeld<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            event = "document_held",
            document = self.document_id,
            reason = self.reason.as_str(),
            findings = self.findings,
            "findings held for review"
        );
        metrics::review(self.reason, self.findings);
    }
}

/// A document's OCR job started and was parked until its completion.
pub struct DocumentParked<'a> {
    pub document_id: &'a str,
    pub engine: &'static str,
    pub job_id: &'a str,
}

impl DocumentParked<'_> {
    pub fn emit(&self) {
        tracing::info!(
            event = "document_parked",
            document = self.document_id,
            engine = self.engine,
            ocr_job = self.job_id,
            "ocr job started"
        );
        metrics::textract_started();
    }
}

/// A document failed at one stage.
pub struct DocumentFailed<'a> {
    /// Empty when it failed before its content was read (its identity is the content's).
    pub document_id: &'a str,
    pub stage: Stage,
    pub class: ErrorClass,
    pub error: &'static str,
    pub took: Duration,
}

impl DocumentFailed<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            event = "document_failed",
            document = self.document_id,
            stage = self.stage.as_str(),
            error_class = self.class.as_str(),
            error = self.error,
            millis = millis(self.took),
            "document failed"
        );
        metrics::stage_error(self.stage, self.class, self.error);
        metrics::document("failed", None);
    }
}

/// A FHIR write is retried after a transient failure.
pub struct SinkRetrying {
    pub status: Option<u16>,
    pub attempt: u32,
    pub wait: Duration,
}

impl SinkRetrying {
    pub fn emit(&self) {
        tracing::warn!(
            event = "sink_retrying",
            status = self.status.unwrap_or(0),
            attempt = self.attempt,
            wait_ms = millis(self.wait),
            "fhir write retrying"
        );
        metrics::sink_retry();
    }
}

/// Before a document is written to a FHIR server, what the server already holds for it was
/// read: the Patient (new, merged with the one there, unchanged, or another id the server had for
/// the same identifier adopted) and what an earlier version of the document wrote and this one
/// no longer holds (deleted in the same transaction).
pub struct SinkReconciled<'a> {
    pub document_id: &'a str,
    pub patient: &'static str,
    pub stale: usize,
    /// Rounds taken: more than one when another writer changed the Patient meanwhile.
    pub rounds: u32,
}

impl SinkReconciled<'_> {
    pub fn emit(&self) {
        tracing::info!(
            event = "sink_reconciled",
            document_id = self.document_id,
            patient = self.patient,
            stale = self.stale,
            rounds = self.rounds,
            "document reconciled with the server"
        );
    }
}

/// A document's write failed after some of its transactions were stored, and what they stored
/// was undone (`undone`), or could not be (a person looks: the error says so).
pub struct SinkUndone<'a> {
    pub document_id: &'a str,
    /// Entries the earlier transactions stored, and the changes that revert them.
    pub stored: usize,
    pub reverted: usize,
    pub undone: bool,
}

impl SinkUndone<'_> {
    pub fn emit(&self) {
        if self.undone {
            tracing::warn!(
                event = "sink_undone",
                document_id = self.document_id,
                stored = self.stored,
                reverted = self.reverted,
                "a failed document's earlier transactions were undone"
            );
        } else {
            tracing::error!(
                event = "sink_undo_failed",
                document_id = self.document_id,
                stored = self.stored,
                "a failed document's earlier transactions could not be undone: part of it may remain on the server"
            );
        }
    }
}

/// A call to a remote OCR engine is retried under throttling.
pub struct OcrThrottled {
    pub api: &'static str,
    pub attempt: u32,
    pub wait: Duration,
}

impl OcrThrottled {
    pub fn emit(&self) {
        tracing::info!(
            event = "ocr_throttled",
            api = self.api,
            attempt = self.attempt,
            wait_ms = millis(self.wait),
            "ocr call throttled; retrying"
        );
    }
}

/// An asynchronous OCR job's completion came, for a job this fleet parked.
pub struct OcrJobCompleted<'a> {
    pub job_id: &'a str,
    /// The engine's status (Textract: SUCCEEDED, PARTIAL_SUCCESS, FAILED, ERROR).
    pub status: &'a str,
    /// Since the job started.
    pub age: Option<Duration>,
}

impl OcrJobCompleted<'_> {
    pub fn emit(&self) {
        tracing::info!(
            event = "ocr_job_completed",
            ocr_job = self.job_id,
            status = self.status,
            age_ms = self.age.map(millis),
            "ocr job completed"
        );
        metrics::textract_completed(self.status, self.age);
    }
}

/// A document needed nothing: this version is written already, or no job of this fleet is
/// parked under the notice's job id.
pub struct DocumentIgnored {
    /// `already_written` or `no_parked_job`.
    pub reason: &'static str,
}

impl DocumentIgnored {
    pub fn emit(&self) {
        tracing::info!(event = "document_ignored", reason = self.reason, "nothing to do for the document");
    }
}
