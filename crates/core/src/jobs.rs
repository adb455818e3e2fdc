//! Asynchronous OCR jobs between their start and their document: the `OcrStarted` state, kept.
//!
//! When an engine starts a job instead of answering at once (Textract), the pipeline parks the
//! document here and the message that brought it is acknowledged: no task waits on the engine.
//! The completion notice names the job; the pipeline takes the [`PendingJob`] back and carries on
//! from `OcrStarted`. Once the document is written the store remembers the object as written, so
//! a duplicated upload event is turned away before anything is paid for, and forgets the job.
//! The store of the fleet is the work bucket (`paperchart-aws`).

use async_trait::async_trait;
use paperchart_model::file::Kind;

use crate::error::{Classified, ErrorClass};
use crate::ocr::OcrJob;
use crate::source::SourceObject;

/// A document whose OCR job is running: everything needed to carry on without the bytes.
#[derive(Debug, Clone)]
pub struct PendingJob {
    pub job: OcrJob,
    /// The object as it was read (bytes left out: the engine read it in place).
    pub object: SourceObject,
    pub kind: Kind,
    /// The DocumentReference id the document will be written under.
    pub document_id: String,
    /// When the job started, RFC 3339.
    pub started_at: String,
    /// Found where a dead-lettered document's job is set aside (its notice was redriven): the
    /// record there goes when the document is written.
    pub set_aside: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer (network, throttling, a 5xx): try again later.
    #[error("job store {op} {key}: {detail}")]
    Unavailable { op: &'static str, key: String, detail: String },
    /// A record is there but cannot be read: retrying cannot help.
    #[error("job record {key} cannot be read: {detail}")]
    Corrupt { key: String, detail: String },
    /// Another worker holds the job (a duplicated notice): its document is being done; this
    /// delivery waits and finds it written, or takes the job over when the lease runs out.
    #[error("job {job_id} is leased by another worker")]
    Leased { job_id: String },
}

impl Classified for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Unavailable { .. } => ErrorClass::Transient,
            // Waited out like a throttle: re-sent, not counted against the queue's receives.
            StoreError::Leased { .. } => ErrorClass::Throttled,
            StoreError::Corrupt { .. } => ErrorClass::Permanent,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            StoreError::Unavailable { .. } => "job_store_unavailable",
            StoreError::Corrupt { .. } => "job_record_corrupt",
            StoreError::Leased { .. } => "job_leased",
        }
    }
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Whether a document with this content (its identity) was written already, from whatever
    /// key: the same bytes uploaded again are turned away before a job is started. An object
    /// whose identity is no digest of its content is looked up by its version.
    async fn is_written(&self, object: &SourceObject) -> Result<bool, StoreError>;
    /// Keeps a started job until its document is written.
    async fn park(&self, job: &PendingJob) -> Result<(), StoreError>;
    /// The job with this id, if it is parked here.
    async fn get(&self, job_id: &str) -> Result<Option<PendingJob>, StoreError>;
    /// The job's document is written: remember the object as written, then forget the job.
    async fn written(&self, job: &PendingJob) -> Result<(), StoreError>;
    /// Takes a job whose document will not be written now (it goes to the dead letters) out of
    /// the parked jobs; a store keeps it where [`JobStore::get`] still finds it, so a redriven
    /// dead letter does the document again from where it was.
    async fn forget(&self, job: &PendingJob) -> Result<(), StoreError>;
    /// Deletes a job's record wherever it is kept: its document was started over from its source
    /// (the engine no longer knew the job).
    async fn discard(&self, job: &PendingJob) -> Result<(), StoreError>;
    /// Takes the job for `hold` so a duplicated notice never runs its document at the same time:
    /// `false` while another worker's lease runs. An expired lease is taken over.
    async fn lease(&self, job_id: &str, hold: std::time::Duration) -> Result<bool, StoreError>;
    /// Gives the job's lease up (its document's work for this delivery is over).
    async fn unlease(&self, job_id: &str) -> Result<(), StoreError>;
}
