//! paperchart: scanned medical records to FHIR R4.
//!
//! Data flows one way through the stages, each in its own module:
//! [`source`] (fetch the file) → [`decode`] and [`ocr`] (pages of text) → [`nlp`] (clinical
//! entities) → [`fhir`] (a transaction Bundle) → [`sink`] (a directory, a FHIR server).
//! [`pipeline`] runs one document through them as the state machine in [`job`]; [`queue`] feeds
//! the long-running worker. See `worker/design.md` for the picture.

pub mod app;
pub mod aws;
pub mod cmd;
pub mod config;
pub mod decode;
pub mod fhir;
pub mod fleet;
pub mod health;
pub mod job;
pub mod metrics;
pub mod model;
pub mod nlp;
pub mod ocr;
pub mod pipeline;
pub mod queue;
pub mod sink;
pub mod source;
pub mod worker;
