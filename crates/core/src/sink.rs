//! Where FHIR goes: the sink seam.
//!
//! A sink writes one document's Bundle and reports an outcome per entry. Writes are upserts
//! (`PUT Type/id` with deterministic ids), so writing the same Bundle twice changes nothing; that
//! is what lets the worker acknowledge a message only after the write and still tolerate a
//! duplicate delivery. The folder and FHIR REST sinks are the `paperchart` binary's; the staging
//! sink and the SigV4 [`RequestSigner`] are `paperchart-aws`'s.

use std::time::Duration;

use async_trait::async_trait;
use paperchart_model::bundle::{Bundle, Review};

use crate::error::{Classified, ErrorClass};

/// The server's (or folder's) answer for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryOutcome {
    pub resource_type: String,
    pub id: String,
    /// HTTP-style status: 200 updated, 201 created.
    pub status: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub entries: Vec<EntryOutcome>,
    /// Attempts the write took (1 when nothing had to be retried).
    pub attempts: u32,
}

impl WriteOutcome {
    /// Every entry of `bundle` stored with one `status`, in one attempt: what a sink that writes
    /// the Bundle whole (a folder, a staging bucket, memory) reports.
    pub fn whole(bundle: &Bundle, status: u16) -> WriteOutcome {
        let entries = bundle
            .entries
            .iter()
            .map(|e| EntryOutcome { resource_type: e.resource_type.to_string(), id: e.id.clone(), status })
            .collect();
        WriteOutcome { entries, attempts: 1 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Worth retrying later: network trouble, 429, 5xx.
    #[error("FHIR write failed (transient): {detail}")]
    Transient { status: Option<u16>, detail: String, retry_after: Option<Duration> },
    /// Retrying the same Bundle would fail the same way: 4xx other than 429, an entry refused.
    #[error("FHIR write refused ({status}): {detail}")]
    Rejected { status: u16, detail: String },
    #[error("output file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Classified for SinkError {
    fn class(&self) -> ErrorClass {
        match self {
            SinkError::Transient { status: Some(429), .. } => ErrorClass::Throttled,
            SinkError::Rejected { .. } => ErrorClass::Permanent,
            SinkError::Transient { .. } | SinkError::Io { .. } => ErrorClass::Transient,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            SinkError::Transient { status: Some(429), .. } => "sink_throttled",
            SinkError::Transient { .. } => "sink_unavailable",
            SinkError::Rejected { .. } => "sink_rejected",
            SinkError::Io { .. } => "sink_io",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SinkError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[async_trait]
pub trait FhirSink: Send + Sync {
    /// Writes one document's resources; succeeds only when every entry was stored.
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError>;

    /// Called when a batch is done or the worker is idle: a chance to finish derived files.
    async fn flush(&self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Where the data goes, for summaries.
    fn describe(&self) -> String;
}

/// Where findings that could not be filed under a patient wait for a person: a `review/` folder
/// beside the output locally, a `review/` prefix of the work bucket in the fleet. One object per
/// document (`<document id>.json`), overwritten when the document is processed again.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Stores the review; returns where it went (a path or an `s3://` URI).
    async fn put(&self, review: &Review) -> Result<String, SinkError>;
}

/// Signs an HTTP request to a FHIR server (AWS SigV4 for HealthLake, in `paperchart-aws`).
#[async_trait]
pub trait RequestSigner: Send + Sync {
    /// The headers to add to a request of `method` to `url` with these `headers` and `body`.
    async fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, SinkError>;
}
