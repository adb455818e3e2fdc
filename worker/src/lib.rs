//! paperchart: scanned medical records to FHIR R4 — the binary's own parts.
//!
//! Data flows one way through the stages, each a crate of its own: the source (local files here,
//! S3 in `paperchart-aws`) → reading (`paperchart-read`: PDF text layers, Tesseract; or Textract)
//! → the clinical NLP (`paperchart-nlp`) → FHIR mapping (`paperchart-fhir`) → a sink (a folder or
//! a FHIR server here; HealthLake and NDJSON staging with the `fleet` feature).
//!
//! This crate holds what runs them: [`pipeline`] steps one document through the state machine in
//! [`job`]; [`messages`] turns every queue's messages into documents; [`worker`] is the
//! long-running consumer of any queue ([`sqlite_queue`] locally, SQS in the fleet); [`cmd`] the
//! commands; [`app`] (and [`fleet`]) assemble the seams from configuration. See `worker/design.md`.

pub mod app;
pub mod cmd;
pub mod dir_sink;
#[cfg(feature = "fleet")]
pub mod fleet;
pub mod health;
pub mod job;
pub mod local;
pub mod messages;
pub mod pipeline;
pub mod rest_sink;
pub mod saved_textract;
pub mod sqlite_queue;
pub mod worker;
