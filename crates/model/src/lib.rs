//! What flows between paperchart's stages, and nothing else: an uploaded [`object`], a read
//! [`document`] (pages, lines,
//! words with boxes and confidence, key/value pairs, tables), what a [`file`] is and may cost, its
//! [`class`] (what kind of document it is), the clinical [`findings`] in its text, the FHIR [`bundle`] a sink writes, the deterministic [`ids`],
//! and the [`settings`] each stage takes.
//!
//! Plain data with serde: no I/O, no async, no native or AWS dependency, so every stage crate
//! (reading, NLP, FHIR, AWS) can depend on it and on nothing of each other's.

pub mod bundle;
pub mod class;
pub mod document;
pub mod file;
pub mod findings;
pub mod ids;
pub mod layout;
pub mod object;
pub mod settings;
pub mod social;
pub mod textract;
pub mod vocabulary;
