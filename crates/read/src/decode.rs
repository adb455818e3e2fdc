//! Turning an uploaded file into pages: either text (from a PDF text layer) or a grayscale raster
//! for OCR.
//!
//! The kind is detected from the bytes, never from the file name. Every limit (bytes per file,
//! pages per document, pixels per page) is checked before the expensive step it guards, so a
//! decompression bomb is refused from its header, not after it has filled memory. Pages are
//! produced one at a time through [`Opened::page`], which is safe to call from several threads at
//! once; the caller decides how many rasters exist at the same time.

use std::io::Cursor;
use std::sync::Arc;

use paperchart_core::ocr::{Checked, DocumentCheck};
use paperchart_core::source::Content;
pub use paperchart_model::file::{DecodeError, Kind, Limits};

use crate::budget::PixelBudget;
use crate::page::{check_pixels, luma, reserve};
pub use crate::page::{PageInput, Raster};
use crate::pdf;

/// Detects the file type from its first bytes.
pub fn detect(bytes: &[u8]) -> Result<Kind, DecodeError> {
    if bytes.is_empty() || bytes.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return Err(DecodeError::Empty);
    }
    let head = &bytes[..bytes.len().min(1024)];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Kind::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Kind::Jpeg);
    }
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        return Ok(Kind::Tiff);
    }
    // The PDF header may follow some junk; readers accept it within the first kilobyte. Later
    // than the first byte it counts only in a file with PDF objects: a text that quotes a header
    // is text.
    if head.starts_with(b"%PDF-")
        || (head.windows(5).any(|w| w == b"%PDF-")
            && [&b"endobj"[..], b"startxref"].iter().any(|m| bytes.windows(m.len()).any(|w| w == *m)))
    {
        return Ok(Kind::Pdf);
    }
    let detected = if head.starts_with(b"PK\x03\x04") {
        "ZIP archive (DOCX, XLSX or similar)"
    } else if head.starts_with(b"GIF8") {
        "GIF image"
    } else if head.starts_with(b"BM") {
        "BMP image"
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "WebP image"
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "legacy Office document"
    } else if head.starts_with(b"{\\rtf") {
        "RTF document"
    } else if std::str::from_utf8(head).is_ok() {
        "plain text"
    } else {
        "unknown binary"
    };
    Err(DecodeError::Unsupported { detected: detected.to_string() })
}

/// A document opened for page-by-page reading.
pub struct Opened {
    kind: Kind,
    pages: u32,
    inner: Inner,
    limits: Limits,
    budget: Option<Arc<PixelBudget>>,
}

enum Inner {
    Pdf(Box<pdf::PdfFile>),
    Tiff(Content),
    /// A PNG or JPEG and its width and height.
    Single(Content, u32, u32),
}

impl Opened {
    /// Checks size, type and page count, and prepares the pages for reading.
    pub fn open(bytes: Content, limits: &Limits) -> Result<Opened, DecodeError> {
        let size = bytes.len() as u64;
        if size > limits.max_bytes {
            return Err(DecodeError::TooLarge { bytes: size, limit: limits.max_bytes });
        }
        let kind = detect(&bytes)?;
        let (pages, inner) = match kind {
            Kind::Pdf => {
                let file = pdf::PdfFile::open(bytes, limits)?;
                (file.page_count(), Inner::Pdf(Box::new(file)))
            }
            Kind::Tiff => (tiff_page_count(&bytes, limits)?, Inner::Tiff(bytes)),
            Kind::Png | Kind::Jpeg => {
                if kind == Kind::Jpeg && !jpeg_ends(&bytes) {
                    // A decoder fills the missing rows in grey and says nothing: half a page
                    // would pass for the whole document.
                    return Err(DecodeError::corrupt("JPEG", "truncated: no end-of-image marker after its scan data"));
                }
                let (w, h) = image_dimensions(&bytes, kind)?;
                check_pixels(1, w as u64, h as u64, limits)?;
                (1, Inner::Single(bytes, w, h))
            }
        };
        if pages == 0 {
            return Err(DecodeError::NoPages);
        }
        if pages > limits.max_pages {
            return Err(DecodeError::TooManyPages { pages, limit: limits.max_pages });
        }
        Ok(Opened { kind, pages, inner, limits: *limits, budget: None })
    }

    /// Pages decoded within `budget`, shared with every other document being read.
    pub fn within(mut self, budget: Arc<PixelBudget>) -> Opened {
        self.budget = Some(budget);
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn page_count(&self) -> u32 {
        self.pages
    }

    /// Reads page `number` (1-based). Safe to call from several threads at once.
    pub fn page(&self, number: u32) -> Result<PageInput, DecodeError> {
        match &self.inner {
            Inner::Pdf(file) => file.page(number, &self.limits, self.budget.as_ref()),
            Inner::Tiff(bytes) => {
                let page = tiff_page(bytes, number, &self.limits, self.budget.as_ref()).map(PageInput::Image);
                bytes.release();
                page
            }
            Inner::Single(bytes, w, h) => {
                let held = reserve(self.budget.as_ref(), *w as u64, *h as u64);
                let raster = single_image(bytes, self.kind, &self.limits);
                bytes.release();
                let mut raster = raster?;
                raster.held = held;
                Ok(PageInput::Image(raster))
            }
        }
    }
}

/// The reading stage's check of a document, for engines that read documents elsewhere
/// (Textract): everything [`Opened::open`] checks, without reading a page.
pub struct Checker;

impl DocumentCheck for Checker {
    fn check(&self, bytes: Content, limits: &Limits) -> Result<Checked, DecodeError> {
        let opened = Opened::open(bytes, limits)?;
        Ok(Checked { kind: opened.kind(), pages: opened.page_count() })
    }
}

/// Whether a JPEG reaches its end-of-image marker (FF D9) with at least one scan before it. The
/// segments are walked by their lengths from the start (an EXIF thumbnail inside APP1 is skipped
/// whole), and each scan's entropy-coded data up to the next marker (inside it 0xFF is followed by
/// 0x00 or a restart marker); bytes after the end (a motion photo's video) are never looked at.
fn jpeg_ends(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    let mut scans = 0;
    loop {
        // A marker: 0xFF, any fill 0xFF bytes, then its code.
        if bytes.get(at) != Some(&0xFF) {
            return false;
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&code) = bytes.get(at) else { return false };
        at += 1;
        match code {
            0xD9 => return scans > 0,
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let Some(len) = bytes.get(at..at + 2).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize) else {
            return false;
        };
        if len < 2 {
            return false;
        }
        at += len;
        if code == 0xDA {
            scans += 1;
            // Entropy-coded data: on to the next marker that is neither a stuffed byte nor a restart.
            loop {
                let Some(off) = bytes.get(at..).and_then(|rest| rest.iter().position(|b| *b == 0xFF)) else {
                    return false;
                };
                at += off;
                match bytes.get(at + 1) {
                    None => return false,
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

fn image_format(kind: Kind) -> image::ImageFormat {
    match kind {
        Kind::Png => image::ImageFormat::Png,
        _ => image::ImageFormat::Jpeg,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "PDF",
        Kind::Tiff => "TIFF",
        Kind::Png => "PNG",
        Kind::Jpeg => "JPEG",
    }
}

fn image_dimensions(bytes: &[u8], kind: Kind) -> Result<(u32, u32), DecodeError> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    reader.set_format(image_format(kind));
    reader.into_dimensions().map_err(|e| DecodeError::corrupt(kind_name(kind), e))
}

/// Whether a JPEG's scan data decodes as the standard says. `image` decodes leniently: where the
/// data stops making sense (random bytes, a damaged transfer) it fills the rest of the page in
/// grey and says nothing, and the blank page would pass for a document with nothing to read.
/// The same decoder in strict mode says what is wrong. Bytes between headers, which strict mode
/// also refuses, are harmless and pass.
fn jpeg_scan_damage(bytes: &[u8]) -> Option<String> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    match decoder.decode() {
        Ok(_) => None,
        Err(e) => Some(e.to_string()).filter(|e| !e.contains("Extra bytes between headers")),
    }
}

fn single_image(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<Raster, DecodeError> {
    if kind == Kind::Jpeg {
        if let Some(damage) = jpeg_scan_damage(bytes) {
            return Err(DecodeError::corrupt("JPEG", format!("damaged scan data ({damage})")));
        }
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    reader.set_format(image_format(kind));
    let mut lim = image::Limits::default();
    // Room for the decoded image in its widest pixel format (RGBA, 16 bit) plus the gray copy.
    lim.max_alloc = Some(limits.max_pixels_per_page.saturating_mul(9));
    reader.limits(lim);
    let img = reader.decode().map_err(|e| DecodeError::corrupt(kind_name(kind), e))?;
    let gray = img.into_luma8();
    let dpi = match kind {
        Kind::Png => png_dpi(bytes),
        _ => jpeg_dpi(bytes),
    };
    Ok(Raster { width: gray.width(), height: gray.height(), pixels: gray.into_raw(), dpi, held: None })
}

/// Resolution from a PNG `pHYs` chunk (pixels per metre).
fn png_dpi(bytes: &[u8]) -> Option<u32> {
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        if kind == b"pHYs" && len >= 9 && pos + 8 + 9 <= bytes.len() {
            let d = &bytes[pos + 8..pos + 17];
            let ppu = u32::from_be_bytes(d[0..4].try_into().ok()?);
            return (d[8] == 1 && ppu > 0).then(|| (ppu as f64 * 0.0254).round() as u32);
        }
        if kind == b"IDAT" {
            return None;
        }
        pos = pos.checked_add(12 + len)?;
    }
    None
}

/// Resolution from a JPEG JFIF APP0 segment.
fn jpeg_dpi(bytes: &[u8]) -> Option<u32> {
    let app0 = bytes.get(2..20)?;
    if app0[0] != 0xFF || app0[1] != 0xE0 || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let unit = app0[11];
    let x = u16::from_be_bytes([app0[12], app0[13]]) as u32;
    match unit {
        1 if x > 0 => Some(x),
        2 if x > 0 => Some((x as f64 * 2.54).round() as u32),
        _ => None,
    }
}

fn tiff_decoder<'a>(bytes: &'a [u8], limits: &Limits) -> Result<tiff::decoder::Decoder<Cursor<&'a [u8]>>, DecodeError> {
    let mut lim = tiff::decoder::Limits::default();
    lim.decoding_buffer_size = usize::try_from(limits.max_pixels_per_page.saturating_mul(8)).unwrap_or(usize::MAX);
    tiff::decoder::Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(lim))
        .map_err(|e| DecodeError::corrupt("TIFF", e))
}

fn tiff_page_count(bytes: &[u8], limits: &Limits) -> Result<u32, DecodeError> {
    let mut dec = tiff_decoder(bytes, limits)?;
    let mut pages = 1u32;
    while dec.more_images() {
        // Stop counting at the limit: a crafted IFD chain must not cost more than that.
        if pages >= limits.max_pages {
            return Err(DecodeError::MorePagesThan { limit: limits.max_pages });
        }
        dec.next_image().map_err(|e| DecodeError::corrupt("TIFF", e))?;
        pages += 1;
    }
    Ok(pages)
}

fn tiff_page(
    bytes: &[u8],
    number: u32,
    limits: &Limits,
    budget: Option<&Arc<PixelBudget>>,
) -> Result<Raster, DecodeError> {
    use tiff::decoder::DecodingResult;
    use tiff::ColorType;

    let corrupt = |e: tiff::TiffError| DecodeError::corrupt("TIFF", format!("page {number}: {e}"));
    let mut dec = tiff_decoder(bytes, limits)?;
    dec.seek_to_image(number as usize - 1).map_err(corrupt)?;
    let (w, h) = dec.dimensions().map_err(corrupt)?;
    let (dpi, stretch) = tiff_resolution(&mut dec);
    // A fax at standard resolution (204 × 98 dpi) has half as many rows as columns per inch: its
    // rows are doubled so that letters have their shape and the page its size.
    let rows = h.saturating_mul(stretch);
    check_pixels(number, w as u64, rows as u64, limits)?;
    let held = reserve(budget, w as u64, rows as u64);
    if dec.find_tag_unsigned::<u16>(tiff::tags::Tag::Compression).ok().flatten() == Some(3) {
        let pixels = fax3_page(&mut dec, bytes, w, h, number)?;
        let pixels = stretch_rows(pixels, w as usize, stretch as usize);
        return Ok(Raster { width: w, height: rows, pixels, dpi, held });
    }
    let color = dec.colortype().map_err(corrupt)?;
    let data = dec.read_image().map_err(corrupt)?;
    let (w_us, h_us) = (w as usize, h as usize);
    let unsupported = || DecodeError::corrupt("TIFF", format!("page {number}: unsupported colour type {color:?}"));

    let pixels: Vec<u8> = match (color, data) {
        (ColorType::Gray(8), DecodingResult::U8(v)) => v,
        (ColorType::Gray(16), DecodingResult::U16(v)) => v.iter().map(|p| (p >> 8) as u8).collect(),
        (ColorType::Gray(bits @ (1 | 2 | 4)), DecodingResult::U8(v)) => unpack_bits(&v, w_us, h_us, bits),
        (ColorType::GrayA(8), DecodingResult::U8(v)) => v.chunks_exact(2).map(|p| p[0]).collect(),
        (ColorType::RGB(8), DecodingResult::U8(v)) => v.chunks_exact(3).map(|p| luma(p[0], p[1], p[2])).collect(),
        (ColorType::RGBA(8), DecodingResult::U8(v)) => v.chunks_exact(4).map(|p| luma(p[0], p[1], p[2])).collect(),
        (ColorType::RGB(16), DecodingResult::U16(v)) => {
            v.chunks_exact(3).map(|p| luma((p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8)).collect()
        }
        _ => return Err(unsupported()),
    };
    if pixels.len() < w_us * h_us {
        return Err(DecodeError::corrupt("TIFF", format!("page {number}: short image data")));
    }
    let pixels = stretch_rows(pixels, w_us, stretch as usize);
    Ok(Raster { width: w, height: rows, pixels, dpi, held })
}

/// The page's horizontal resolution in dpi, and how many times each row is repeated to give the
/// vertical one the same (2 for a fax at 204 × 98 dpi, 1 as a rule).
fn tiff_resolution<R: std::io::Read + std::io::Seek>(dec: &mut tiff::decoder::Decoder<R>) -> (Option<u32>, u32) {
    use tiff::tags::Tag;
    let unit = dec.find_tag(Tag::ResolutionUnit).ok().flatten().and_then(|v| v.into_u16().ok()).unwrap_or(2);
    let mut dpi = |tag: Tag| {
        let res = match dec.find_tag(tag).ok()?? {
            tiff::decoder::ifd::Value::Rational(n, d) if d > 0 => n as f64 / d as f64,
            other => other.into_f64().ok()?,
        };
        let dpi = if unit == 3 { res * 2.54 } else { res };
        (dpi >= 1.0).then_some(dpi)
    };
    let sane = |d: Option<f64>| d.filter(|d| d.is_finite() && *d <= 10_000.0);
    let (x, y) = (sane(dpi(Tag::XResolution)), sane(dpi(Tag::YResolution)));
    // Only a whole ratio (fax: 204 × 98 is 2.08) is a row count to repeat; 300 × 200 is left as it is.
    let stretch = match (x, y) {
        (Some(x), Some(y)) if y < x && (x / y - (x / y).round()).abs() <= 0.15 => {
            (x / y).round().clamp(1.0, 4.0) as u32
        }
        _ => 1,
    };
    (x.map(|x| x.round() as u32), stretch)
}

/// Each row of a `width`-pixel image `times` times, in place (the page is never held twice).
fn stretch_rows(mut pixels: Vec<u8>, width: usize, times: usize) -> Vec<u8> {
    if times <= 1 || width == 0 {
        return pixels;
    }
    let rows = pixels.len() / width;
    pixels.resize(rows * width * times, 0);
    // From the last row back, so no row is overwritten before it is copied.
    for r in (0..rows).rev() {
        for k in (0..times).rev() {
            pixels.copy_within(r * width..(r + 1) * width, (r * times + k) * width);
        }
    }
    pixels
}

/// A page of two-dimensional Group 3, decoded by the libtiff that leptonica (linked for
/// Tesseract) reads TIFF with, as 8-bit grey rows of the size the page's tags gave (checked
/// against the pixel limits before this is called).
fn fax3_2d_page(bytes: &[u8], w: u32, h: u32, number: u32) -> Result<Vec<u8>, DecodeError> {
    use leptonica_sys as lept;
    let corrupt = |what: String| DecodeError::corrupt("TIFF", format!("page {number}: {what}"));
    /// Destroys a leptonica image however the reading ends.
    struct Pix(*mut lept::PIX);
    impl Drop for Pix {
        fn drop(&mut self) {
            if !self.0.is_null() {
                // SAFETY: a PIX leptonica allocated, destroyed once (pixDestroy nulls the pointer).
                unsafe { lept::pixDestroy(&mut self.0) }
            }
        }
    }
    let index = i32::try_from(number.saturating_sub(1)).map_err(|_| corrupt("page number out of range".into()))?;
    // SAFETY: leptonica reads `bytes` (a live slice, its true length) and returns an image it owns
    // or null; no pointer into `bytes` outlives the call.
    let read = Pix(unsafe { lept::pixReadMemTiff(bytes.as_ptr(), bytes.len(), index) });
    if read.0.is_null() {
        return Err(corrupt("two-dimensional Group 3 data libtiff could not decode".into()));
    }
    // SAFETY: a valid PIX; pixConvertTo8 returns a new 8-bit image (or null) and leaves its input.
    let grey = Pix(unsafe { lept::pixConvertTo8(read.0, 0) });
    if grey.0.is_null() {
        return Err(corrupt("two-dimensional Group 3 page leptonica could not turn grey".into()));
    }
    // SAFETY: getters on a valid PIX.
    let (pw, ph, depth, wpl) = unsafe {
        (lept::pixGetWidth(grey.0), lept::pixGetHeight(grey.0), lept::pixGetDepth(grey.0), lept::pixGetWpl(grey.0))
    };
    if (pw, ph, depth) != (w as i32, h as i32, 8) || wpl < (pw + 3) / 4 {
        return Err(corrupt(format!("libtiff decoded {pw}×{ph} at {depth} bits for a {w}×{h} page")));
    }
    // SAFETY: an 8-bit PIX of `ph` rows of `wpl` 32-bit words each, alive while `grey` is.
    let words = unsafe { std::slice::from_raw_parts(lept::pixGetData(grey.0), (wpl as usize) * (ph as usize)) };
    let (w, wpl) = (w as usize, wpl as usize);
    let mut pixels = Vec::with_capacity(w * h as usize);
    for row in words.chunks_exact(wpl) {
        // Leptonica packs a row's pixels into native 32-bit words, the first pixel in the top byte.
        pixels.extend(row.iter().flat_map(|word| word.to_be_bytes()).take(w));
    }
    Ok(pixels)
}

/// A page coded as a fax transmits it: CCITT Group 3 (TIFF compression 3), which the `tiff` crate
/// does not decode. One-dimensional (Modified Huffman with an end-of-line code before each row):
/// its strips are read raw and decoded by the `fax` crate. Two-dimensional (T4Options bit 0,
/// rows coded against the row above), which the `fax` crate does not decode: by leptonica's
/// libtiff ([`fax3_2d_page`]).
fn fax3_page<R: std::io::Read + std::io::Seek>(
    dec: &mut tiff::decoder::Decoder<R>,
    bytes: &[u8],
    w: u32,
    h: u32,
    number: u32,
) -> Result<Vec<u8>, DecodeError> {
    use tiff::tags::Tag;
    let corrupt = |what: String| DecodeError::corrupt("TIFF", format!("page {number}: {what}"));
    let t4: u32 = dec.find_tag_unsigned(Tag::Unknown(292)).ok().flatten().unwrap_or(0);
    if t4 & 1 != 0 {
        return fax3_2d_page(bytes, w, h, number);
    }
    let offsets = dec.get_tag_u64_vec(Tag::StripOffsets).map_err(|e| corrupt(e.to_string()))?;
    let counts = dec.get_tag_u64_vec(Tag::StripByteCounts).map_err(|e| corrupt(e.to_string()))?;
    let lsb_first = dec.find_tag_unsigned::<u16>(Tag::FillOrder).ok().flatten() == Some(2);
    // WhiteIsZero (0) is a fax's own; with BlackIsZero (1) a coded white run is stored as zero
    // bits, black. Anything else is no fax.
    let (white, black) = match dec.find_tag_unsigned::<u16>(Tag::PhotometricInterpretation).ok().flatten() {
        None | Some(0) => (255u8, 0u8),
        Some(1) => (0, 255),
        Some(other) => return Err(corrupt(format!("a fax page with photometric interpretation {other}"))),
    };
    let width = u16::try_from(w).map_err(|_| corrupt(format!("a fax row of {w} pixels")))?;
    let (w, h) = (w as usize, h as usize);
    let rows_per_strip =
        dec.find_tag_unsigned::<usize>(Tag::RowsPerStrip).ok().flatten().unwrap_or(h).clamp(1, h.max(1));
    let strips = h.div_ceil(rows_per_strip);
    if offsets.len() != counts.len() || offsets.len() < strips {
        return Err(corrupt(format!("{} strip offsets and {} sizes for {strips} strips", offsets.len(), counts.len())));
    }
    let mut pixels = Vec::with_capacity(w * h);
    for (k, (&off, &count)) in offsets.iter().zip(&counts).take(strips).enumerate() {
        let strip = usize::try_from(off)
            .ok()
            .zip(usize::try_from(count).ok())
            .and_then(|(o, c)| bytes.get(o..o.checked_add(c)?))
            .ok_or_else(|| corrupt("a strip lies outside the file".into()))?;
        let rows = rows_per_strip.min(h - k * rows_per_strip);
        let input =
            strip.iter().map(|&b| Ok::<u8, std::convert::Infallible>(if lsb_first { b.reverse_bits() } else { b }));
        // Rows are decoded up to the strip's own count, never further (a crafted strip cannot
        // make the decoder run on); a row whose runs do not add up to the width is damaged.
        let (mut got, mut damaged) = (0usize, 0usize);
        if let Ok(mut decoder) = fax::decoder::Group3Decoder::new(input) {
            while got < rows {
                // A strip's last row may end without its end-of-line code: the decoder refuses
                // it, but a row whose runs add up to the width is whole, and is kept.
                let status = match decoder.advance() {
                    Ok(status) => status,
                    Err(_) if decoder.transitions().last().copied() == Some(width) => fax::decoder::DecodeStatus::End,
                    Err(_) => break,
                };
                let row = decoder.transitions();
                if row.last().copied() != Some(width) {
                    damaged += 1;
                }
                pixels.extend(fax::decoder::pels(row, width).map(|c| match c {
                    fax::Color::White => white,
                    fax::Color::Black => black,
                }));
                got += 1;
                if status == fax::decoder::DecodeStatus::End {
                    break;
                }
            }
        }
        // A strip short of more than two rows, or with damaged rows, lost what it held: a blank
        // or sheared band must not pass for the page.
        if got + 2 < rows || damaged > 2 {
            return Err(corrupt(format!("strip {}: {got} of {rows} fax-coded rows decoded, {damaged} damaged", k + 1)));
        }
        // One or two rows lost at a strip's end are paper (white, whatever the coding's colours).
        pixels.resize(pixels.len() + (rows - got) * w, 255);
    }
    Ok(pixels)
}

/// Expands 1-, 2- or 4-bit gray rows (each row padded to a byte) to 8 bits, 0 = black.
fn unpack_bits(packed: &[u8], width: usize, height: usize, bits: u8) -> Vec<u8> {
    let bits = bits as usize;
    let stride = (width * bits).div_ceil(8);
    let max = (1u16 << bits) - 1;
    let mut out = Vec::with_capacity(width * height);
    for row in 0..height {
        let line = packed.get(row * stride..(row + 1) * stride).unwrap_or(&[]);
        for x in 0..width {
            let bit = x * bits;
            let byte = line.get(bit / 8).copied().unwrap_or(0xFF);
            let shift = 8 - bits - (bit % 8);
            let v = ((byte >> shift) as u16) & max;
            out.push((v * 255 / max) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::GrayImage::from_pixel(width, height, image::Luma([255u8]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn detects_from_bytes_not_names() {
        assert_eq!(detect(b"%PDF-1.7\n...").unwrap(), Kind::Pdf);
        assert_eq!(detect(b"\xEF\xBB\xBF junk %PDF-1.4\n1 0 obj\n<<>>\nendobj\n").unwrap(), Kind::Pdf);
        // A text that quotes a PDF header is text.
        let quoted = detect(b"Note: the scanner wrote %PDF-1.4 files all week.").unwrap_err();
        assert!(quoted.to_string().contains("plain text"), "{quoted}");
        assert_eq!(detect(&png(2, 2)).unwrap(), Kind::Png);
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap(), Kind::Jpeg);
        assert_eq!(detect(b"II*\0\x08\0\0\0").unwrap(), Kind::Tiff);
        assert_eq!(detect(b"MM\0*\0\0\0\x08").unwrap(), Kind::Tiff);
        assert_eq!(detect(b"").unwrap_err(), DecodeError::Empty);
        assert_eq!(detect(b"  \n\t").unwrap_err(), DecodeError::Empty);
        let e = detect(b"PK\x03\x04rest").unwrap_err();
        assert!(e.to_string().contains("ZIP"), "{e}");
        assert_eq!(e.label(), "unsupported_type");
        assert!(detect(b"hello, this is a note").unwrap_err().to_string().contains("plain text"));
    }

    #[test]
    fn a_jpeg_cut_short_is_corrupt_not_half_a_page() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/documents/intake-form.jpg");
        let whole = std::fs::read(path).unwrap();
        assert_eq!(Opened::open(whole.clone().into(), &Limits::default()).unwrap().page_count(), 1);
        for keep in [whole.len() / 2, whole.len() - 2] {
            let cut = Content::from(whole[..keep].to_vec());
            let err = Opened::open(cut, &Limits::default()).err().unwrap();
            assert_eq!(err.label(), "corrupt", "{keep}: {err}");
            assert!(err.to_string().contains("truncated"), "{err}");
        }
        // Bytes after the end (a motion photo appends its video) are no damage, whatever they hold.
        for tail in [&b"trailing data"[..], &[0xFF, 0xDA, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0x12, 0xFF, 0xDA]] {
            let mut trailer = whole.clone();
            trailer.extend_from_slice(tail);
            assert!(Opened::open(trailer.into(), &Limits::default()).is_ok(), "{tail:?}");
        }
        // Headers only: no scan, no end.
        let header_end = whole.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut headers = whole[..header_end].to_vec();
        headers.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(Opened::open(headers.into(), &Limits::default()).err().unwrap().label(), "corrupt");
    }

    #[test]
    fn a_group_3_fax_at_standard_resolution_is_decoded_and_given_its_height() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/review/faxed-referral.tif");
        let bytes = Content::from(std::fs::read(path).unwrap());
        let opened = Opened::open(bytes.clone(), &Limits::default()).unwrap();
        assert_eq!(opened.page_count(), 2);
        let PageInput::Image(r) = opened.page(1).unwrap() else { panic!("an image") };
        // 8.5 × 11 inches at 204 × 98 dpi: 1734 × 1078 coded, rows doubled to 2156.
        assert_eq!((r.width, r.height, r.dpi), (1734, 2156, Some(204)));
        let dark = |rows: std::ops::Range<usize>| {
            let band = &r.pixels[rows.start * 1734..rows.end * 1734];
            band.iter().filter(|&&p| p < 128).count() as f64 / band.len() as f64
        };
        // White paper (the photometric tag says which coded colour is ink), ink in the transmission line.
        assert!(dark(0..2156) < 0.1, "{}", dark(0..2156));
        assert!(dark(40..70) > 0.02, "the transmission line: {}", dark(40..70));
        assert_eq!(r.pixels[1734 * 50..1734 * 51], r.pixels[1734 * 51..1734 * 52], "each coded row twice");
        // A strip that is no fax coding is corrupt, not a blank page.
        let mut damaged = bytes.to_vec();
        damaged[8..5119].fill(0xAA);
        let err = Opened::open(damaged.into(), &Limits::default()).unwrap().page(1).err().unwrap();
        assert_eq!(err.label(), "corrupt", "{err}");
    }

    #[test]
    fn a_two_dimensional_group_3_fax_decodes_to_the_same_pixels() {
        let fixture = |name: &str| {
            let path = format!("{}/../../tests/fixtures/review/{name}", env!("CARGO_MANIFEST_DIR"));
            Opened::open(Content::from(std::fs::read(path).unwrap()), &Limits::default()).unwrap()
        };
        // The same pages coded row by row (one-dimensional) and against the row above (T4Options 1).
        let (one_d, two_d) = (fixture("faxed-referral.tif"), fixture("faxed-referral-2d.tif"));
        assert_eq!(two_d.page_count(), 2);
        for page in 1..=2 {
            let (PageInput::Image(a), PageInput::Image(b)) = (one_d.page(page).unwrap(), two_d.page(page).unwrap())
            else {
                panic!("images")
            };
            assert_eq!((b.width, b.height, b.dpi), (a.width, a.height, a.dpi), "page {page}: size and rows doubled");
            // (Before, the last row of each strip was lost and padded black: a black line every
            // strip that libtiff does not draw.)
            let rows = (0..a.height as usize).filter(|r| {
                let w = a.width as usize;
                a.pixels[r * w..(r + 1) * w] != b.pixels[r * w..(r + 1) * w]
            });
            assert_eq!(rows.count(), 0, "page {page}: every row the same as libtiff decodes it");
        }
        // Damaged two-dimensional data is corrupt, not a blank page.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/review/faxed-referral-2d.tif");
        let mut damaged = std::fs::read(path).unwrap();
        let len = damaged.len();
        damaged[8..len - 400].fill(0xFF);
        let opened = Opened::open(Content::from(damaged), &Limits::default());
        let err = opened.and_then(|o| o.page(1).map(|_| ())).unwrap_err();
        assert_eq!(err.label(), "corrupt", "{err}");
    }

    #[test]
    fn content_over_its_limit_is_too_large_not_corrupt() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/documents/lab-report.pdf");
        let bytes = Content::from(std::fs::read(path).unwrap());
        let limits = Limits { max_content_bytes: 64, ..Limits::default() };
        let err = Opened::open(bytes.clone(), &limits).and_then(|o| o.page(1).map(|_| ())).unwrap_err();
        assert_eq!(err.label(), "too_large", "{err}");
        assert!(err.to_string().contains("limits.max_content_bytes"), "{err}");
        assert!(Opened::open(bytes, &Limits::default()).unwrap().page(1).is_ok());
    }

    #[test]
    fn refuses_oversized_files_before_reading_them() {
        let limits = Limits { max_bytes: 10, ..Limits::default() };
        let bytes = Content::from(png(4, 4));
        assert!(matches!(Opened::open(bytes, &limits), Err(DecodeError::TooLarge { limit: 10, .. })));
    }

    #[test]
    fn refuses_too_many_pixels_from_the_header() {
        let limits = Limits { max_pixels_per_page: 100, ..Limits::default() };
        let bytes = Content::from(png(20, 20));
        let err = Opened::open(bytes, &limits).err().unwrap();
        assert!(matches!(err, DecodeError::TooManyPixels { pixels: 400, .. }), "{err}");
        assert!(err.to_string().contains("decompression bomb"));
    }

    #[test]
    fn reads_png_as_one_gray_page() {
        let bytes = Content::from(png(30, 20));
        let doc = Opened::open(bytes, &Limits::default()).unwrap();
        assert_eq!(doc.page_count(), 1);
        match doc.page(1).unwrap() {
            PageInput::Image(r) => {
                assert_eq!((r.width, r.height, r.pixels.len()), (30, 20, 600));
                assert!(r.pixels.iter().all(|p| *p == 255));
            }
            PageInput::Text(_) | PageInput::ImageOverTextLayer(_) => panic!("a PNG has no text layer"),
        }
    }

    #[test]
    fn truncated_png_is_corrupt() {
        let mut bytes = png(300, 300);
        bytes.truncate(bytes.len() / 2);
        let doc = Opened::open(bytes.into(), &Limits::default());
        let err = match doc {
            Ok(d) => d.page(1).err().unwrap(),
            Err(e) => e,
        };
        assert_eq!(err.label(), "corrupt", "{err}");
    }

    #[test]
    fn unpacks_bilevel_rows() {
        // 10 pixels wide, two rows: each row takes two bytes.
        let packed = [0b1010_1010, 0b1100_0000, 0b0000_0000, 0b0100_0000];
        let out = unpack_bits(&packed, 10, 2, 1);
        assert_eq!(&out[..10], &[255, 0, 255, 0, 255, 0, 255, 0, 255, 255]);
        assert_eq!(&out[10..], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 255]);
    }

    #[test]
    fn reads_every_page_of_a_multipage_tiff() {
        use tiff::encoder::{colortype, TiffEncoder};
        let mut buf = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut buf).unwrap();
            for shade in [0u8, 128, 255] {
                let data = vec![shade; 8 * 6];
                enc.write_image::<colortype::Gray8>(8, 6, &data).unwrap();
            }
        }
        let doc = Opened::open(buf.into_inner().into(), &Limits::default()).unwrap();
        assert_eq!(doc.kind(), Kind::Tiff);
        assert_eq!(doc.page_count(), 3);
        for (n, shade) in [(1, 0u8), (2, 128), (3, 255)] {
            let PageInput::Image(r) = doc.page(n).unwrap() else { panic!() };
            assert_eq!((r.width, r.height), (8, 6));
            assert!(r.pixels.iter().all(|p| *p == shade), "page {n}");
        }
        let limits = Limits { max_pages: 2, ..Limits::default() };
        let mut buf = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut buf).unwrap();
            for _ in 0..3 {
                enc.write_image::<colortype::Gray8>(2, 2, &[0; 4]).unwrap();
            }
        }
        let err = Opened::open(buf.into_inner().into(), &limits).err().unwrap();
        assert_eq!(err, DecodeError::MorePagesThan { limit: 2 });
        assert_eq!(err.label(), "too_many_pages");
        assert!(err.to_string().starts_with("document has more than 2 pages"), "{err}");
    }
}
