//! One page ready for reading, whatever file it came from: text-layer lines or a grayscale
//! raster, and the checks and conversions every decoder applies to a page.

use std::sync::Arc;

use paperchart_model::document::Line;
use paperchart_model::file::{DecodeError, Limits};

use crate::budget::{Held, PixelBudget};

/// A grayscale page image, one byte per pixel, rows packed.
#[derive(Debug)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
    /// Resolution of the scan, when the file says; OCR assumes 300 otherwise.
    pub dpi: Option<u32>,
    /// Its share of `limits.max_pixels_in_flight`, given back when the raster is dropped.
    pub held: Option<Held>,
}

impl Raster {
    /// A raster made from this one (a clean-up step's copy): its pixels count in the budget this
    /// one's count in, for as long as it lives.
    pub(crate) fn derived(&self, width: u32, height: u32, pixels: Vec<u8>) -> Raster {
        let held = self.held.as_ref().map(|h| h.charge(u64::from(width) * u64::from(height)));
        Raster { width, height, pixels, dpi: self.dpi, held }
    }
}

/// One page, ready for reading.
#[derive(Debug)]
pub enum PageInput {
    /// Lines from a PDF text layer, in reading order.
    Text(Vec<Line>),
    /// Pixels to recognise.
    Image(Raster),
    /// Pixels to recognise in place of a text layer that is not real text ([`crate::quality`]).
    ImageOverTextLayer(Raster),
}

/// Refuses a page over the pixel limit, or one without pixels.
pub(crate) fn check_pixels(page: u32, width: u64, height: u64, limits: &Limits) -> Result<(), DecodeError> {
    let pixels = width.saturating_mul(height);
    if pixels > limits.max_pixels_per_page {
        return Err(DecodeError::TooManyPixels { page, width, height, pixels, limit: limits.max_pixels_per_page });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::corrupt("image", format!("page {page} has no pixels")));
    }
    Ok(())
}

/// The page's pixels reserved in the budget before it is decoded (waiting for room).
pub(crate) fn reserve(budget: Option<&Arc<PixelBudget>>, width: u64, height: u64) -> Option<Held> {
    budget.map(|b| b.reserve(width.saturating_mul(height)))
}

/// Grayscale from RGB (ITU-R BT.601 weights).
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114) / 1000) as u8
}
