//! Reading documents: from an uploaded file's bytes to pages of text.
//!
//! [`decode`] detects the file type from the bytes, checks every limit before the step it guards,
//! and hands out pages one at a time — a PDF page with a real text layer as positioned lines
//! ([`pdf`] with lopdf), any other page as a grayscale raster (hayro renders PDFs; `tiff` and
//! `image` decode scans). [`TesseractEngine`] is the embedded OCR engine behind the
//! `paperchart-core` OCR seam. The Tesseract library is this crate's only native dependency; the
//! scheduler and the AWS adapters never link it.

pub mod budget;
mod checkbox;
pub mod cleanup;
pub mod decode;
mod page;
mod pdf;
pub mod quality;
mod tesseract;

pub use tesseract::{parse_tsv, TesseractEngine};
