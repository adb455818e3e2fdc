//! Clinical NLP: from document text to coded entities with their context.
//!
//! [`Builtin`] is the engine that ships with paperchart (it implements the
//! [`paperchart_model::findings::NlpEngine`] seam), built from the terminology in
//! `data/terminology/` ([`terminology`]). It finds sections ([`sections`]), concepts by longest
//! dictionary match over normalised tokens ([`lexicon`]), medications with their dose, route and
//! frequency ([`meds`]), vital signs and labs with UCUM units ([`measure`]), demographics and other
//! PHI ([`phi`]), and decides each finding's assertion — present, absent, possible, historical,
//! family, hypothetical — from the words around it ([`context`]).
//!
//! This crate knows text and terminology only: no configuration crate, no I/O beyond the release
//! files its [`Settings`] name, no AWS. Offsets inside the engine are byte offsets into the text;
//! [`char_offsets`] converts them to the character offsets of the JSON Lines contract. Entities
//! carry patient data: they are never logged.

pub mod checkboxes;
pub mod classify;
pub mod columns;
pub mod confidence;
pub mod context;
pub mod deid;
mod engine;
pub mod family;
pub mod fax;
pub mod forms;
pub mod gates;
pub mod lexicon;
pub mod measure;
pub mod meds;
pub mod notice;
pub mod passages;
pub mod phi;
pub mod phi_more;
pub mod repair;
pub mod sections;
pub mod social;
mod tables;
pub mod terminology;
pub mod text;
pub mod units;

use paperchart_model::findings::*;

pub use engine::Builtin;
pub use paperchart_model::settings::NlpSettings as Settings;

/// Rewrites entity offsets from bytes to characters (Unicode code points) of `text`.
pub fn char_offsets(out: &mut NlpOutput, text: &str) {
    let map = text::CharIndex::new(text);
    for e in &mut out.entities {
        e.start = map.char_of(e.start);
        e.end = map.char_of(e.end);
    }
}
