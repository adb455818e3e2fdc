//! How a failure is handled, whatever boundary it crossed.
//!
//! Every boundary has its own error enum, named by what happened (a source's object not found, a
//! document corrupt, an OCR job failed, a FHIR entry refused, a message that is not an S3 event),
//! and each error says its [`ErrorClass`]. The class alone decides what the worker does with the
//! message: release it with backoff, or dead-letter it with the reason.

use std::time::Duration;

use serde::Serialize;

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

impl ErrorClass {
    /// The `error_class` metric label and log field: one of three values.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Permanent => "permanent",
        }
    }

    pub fn is_permanent(self) -> bool {
        self == ErrorClass::Permanent
    }
}

/// What every boundary error tells the rest of the house: its class, a short stable label of
/// what happened (a metric label value and log field: from a fixed set, never free text), and,
/// when the peer said so, how long to wait.
pub trait Classified: std::error::Error {
    fn class(&self) -> ErrorClass;
    fn label(&self) -> &'static str;
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}
