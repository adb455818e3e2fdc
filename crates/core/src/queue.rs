//! The job-queue seam, with SQS's semantics.
//!
//! A received message is leased for a visibility timeout; the worker extends the lease while it
//! works, deletes the message only after the sink confirmed the write, releases it (visible again
//! after a delay) when a failure may pass, and moves it to the dead letters with the reason when
//! it cannot. Every receipt is single-use: once a lease is lost, its receipt no longer works, so a
//! worker that lost its lease cannot acknowledge work another worker is redoing. The SQLite
//! queue of `paperchart watch` lives in the binary, SQS in `paperchart-aws`.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::ErrorClass;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: String,
    /// Handle of this delivery; needed to extend, acknowledge, release or dead-letter it.
    pub receipt: String,
    /// Deliveries so far, this one included.
    pub receive_count: u32,
    /// Throttled deliveries before this one: the work was re-sent this many times as a new
    /// message ([`JobQueue::requeue`]).
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The receipt is stale: the lease expired and the message may be with another worker.
    #[error("lease lost: the message is no longer held by this receipt")]
    LeaseLost,
    /// The queue did not answer, or its storage failed.
    #[error("queue {op}: {detail}")]
    Unavailable { op: &'static str, detail: String },
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Up to `max` visible messages, each leased for `visibility`.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError>;
    /// Pushes the lease of a held message `visibility` into the future.
    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError>;
    /// Deletes a held message: its work is done.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;
    /// Makes a held message visible again after `delay`.
    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;
    /// Moves a held message to the dead letters, with the reason.
    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), QueueError>;
    /// Puts a held message's work back for `delay` as a new delivery that carries `attempts`
    /// and does not count against the queue's receive limit (SQS: a new message, the held one
    /// deleted). Queues without such a limit release it.
    async fn requeue(&self, message: &Message, delay: Duration, attempts: u32) -> Result<(), QueueError> {
        let _ = attempts;
        self.release(&message.receipt, delay).await
    }
    /// Adds a message (producers: tests, redrive, the folder scanner).
    async fn send(&self, body: &str) -> Result<(), QueueError>;
}

/// How a message was settled: the one vocabulary of the worker's logs, metrics and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Settlement {
    /// Its documents were written; deleted.
    Written,
    /// Its documents' OCR jobs were started and parked; deleted (the completion carries on).
    OcrStarted,
    /// Nothing to do (a test event, a delete, a duplicate); deleted.
    Ignored,
    /// A failure that may pass; released with backoff.
    Retried,
    /// A failure that cannot pass; moved to the dead letters with the reason.
    DeadLettered,
    /// Its lease was lost (an extension failed); left for whoever holds it now.
    Abandoned,
    /// Shutdown came first; released at once.
    Interrupted,
}

impl Settlement {
    pub const ALL: [Settlement; 7] = [
        Settlement::Written,
        Settlement::OcrStarted,
        Settlement::Ignored,
        Settlement::Retried,
        Settlement::DeadLettered,
        Settlement::Abandoned,
        Settlement::Interrupted,
    ];

    /// How a message whose work failed with `class` ends: dead-lettered when the failure is
    /// permanent, released for another try otherwise.
    pub fn after_failure(class: ErrorClass) -> Settlement {
        if class.is_permanent() {
            Settlement::DeadLettered
        } else {
            Settlement::Retried
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::Written => "written",
            Settlement::OcrStarted => "ocr_started",
            Settlement::Ignored => "ignored",
            Settlement::Retried => "retried",
            Settlement::DeadLettered => "dead_lettered",
            Settlement::Abandoned => "abandoned",
            Settlement::Interrupted => "interrupted",
        }
    }
}
