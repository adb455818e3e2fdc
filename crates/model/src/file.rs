//! What a file is and what reading it may cost: its kind (detected from the bytes by
//! `paperchart-read`), the limits every reader checks before the step each guards, and why a file
//! could not be read. Every [`DecodeError`] is permanent: the same bytes give the same answer.

use serde::{Deserialize, Serialize};

/// The file types paperchart reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pdf,
    Tiff,
    Png,
    Jpeg,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Tiff => "image/tiff",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
        }
    }
}

/// Bounds on what one document may cost. Defaults are those of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Most pages in one document.
    pub max_pages: u32,
    /// Most pixels in one page raster (width × height) — the decompression-bomb guard.
    pub max_pixels_per_page: u64,
    /// Most pixels decoded at once across every page being read (of every document): memory
    /// stays within this whatever the concurrency; a page that does not fit waits.
    pub max_pixels_in_flight: u64,
    /// Most bytes a page's decompressed PDF content streams may take.
    pub max_content_bytes: u64,
    /// Resolution at which PDF pages without a text layer are rendered.
    pub render_dpi: u32,
    /// A PDF page counts as having a text layer when it holds at least this many letters and
    /// digits.
    pub min_text_layer_chars: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 200 * 1024 * 1024,
            max_pages: 500,
            max_pixels_per_page: 60_000_000,
            max_pixels_in_flight: 120_000_000,
            max_content_bytes: 64 * 1024 * 1024,
            render_dpi: 300,
            min_text_layer_chars: 32,
        }
    }
}

/// Why a file could not be read. Every variant is permanent: retrying the same bytes gives the
/// same answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty file")]
    Empty,
    #[error("unsupported file type: {detected}; paperchart reads PDF, TIFF, PNG and JPEG")]
    Unsupported { detected: String },
    #[error("file is {bytes} bytes, over the limit of {limit} (limits.max_bytes)")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("document has {pages} pages, over the limit of {limit} (limits.max_pages)")]
    TooManyPages { pages: u32, limit: u32 },
    /// A PDF stream that inflates past `limits.max_content_bytes`.
    #[error("PDF content decompresses to more than {limit} bytes{where_} (limits.max_content_bytes)")]
    ContentTooLarge { limit: u64, where_: String },
    /// Pages counted only up to the limit (a TIFF's page chain is walked no further).
    #[error("document has more than {limit} pages, over the limit (limits.max_pages; counting stopped there)")]
    MorePagesThan { limit: u32 },
    #[error(
        "page {page} would be {width}x{height} = {pixels} pixels, over the limit of {limit} \
         (limits.max_pixels_per_page); refusing a possible decompression bomb"
    )]
    TooManyPixels { page: u32, width: u64, height: u64, pixels: u64, limit: u64 },
    #[error("PDF is encrypted and cannot be opened without a password")]
    Encrypted,
    #[error("corrupt {kind}: {detail}")]
    Corrupt { kind: &'static str, detail: String },
    #[error("document has no pages")]
    NoPages,
}

impl DecodeError {
    /// A short stable label for summaries and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty_file",
            DecodeError::Unsupported { .. } => "unsupported_type",
            DecodeError::TooLarge { .. } | DecodeError::ContentTooLarge { .. } => "too_large",
            DecodeError::TooManyPages { .. } | DecodeError::MorePagesThan { .. } => "too_many_pages",
            DecodeError::TooManyPixels { .. } => "too_many_pixels",
            DecodeError::Encrypted => "encrypted",
            DecodeError::Corrupt { .. } => "corrupt",
            DecodeError::NoPages => "no_pages",
        }
    }

    pub fn corrupt(kind: &'static str, detail: impl ToString) -> Self {
        DecodeError::Corrupt { kind, detail: detail.to_string() }
    }
}
