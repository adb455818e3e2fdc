//! The seams and the plumbing every paperchart process shares.
//!
//! - Seams, each a trait with a local and an AWS implementation elsewhere: where documents come
//!   from ([`source`]), how pages are read ([`ocr`]), where OCR jobs wait ([`jobs`]), where FHIR
//!   goes ([`sink`]), the message queue ([`queue`]). The NLP seam lives with the findings it returns, in `paperchart-model`.
//! - One error classification ([`error`]), one [`backoff`], one [`shutdown`], one timestamp
//!   format ([`timestamps`]), every metric name ([`metrics`]) and every notable happening
//!   ([`events`]: its log line and its metrics together), the configuration in layers ([`config`]).
//!
//! No native library and no AWS SDK: the scheduler and every stage crate build on it.

pub mod backoff;
pub mod config;
pub mod error;
pub mod events;
pub mod jobs;
pub mod metrics;
pub mod ocr;
pub mod queue;
pub mod shutdown;
pub mod sink;
pub mod source;
pub mod timestamps;

pub use paperchart_model as model;
