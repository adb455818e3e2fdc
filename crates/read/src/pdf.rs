//! PDF pages: the text layer when a page has a real one (lopdf), otherwise a 300 dpi render
//! (hayro) for OCR.
//!
//! The text layer is read with positions rather than in content-stream order: text runs are placed
//! through the text and graphics matrices, grouped into lines by baseline, and ordered top to
//! bottom, left to right. A table drawn cell by cell therefore comes out a row per line, the way
//! a reader sees it. Glyph widths come from the font's `/Widths` when present and an average
//! advance otherwise, which is enough to order runs and space words.

use std::collections::BTreeMap;
use std::sync::Arc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document as LoDocument, Encoding, Object, ObjectId};

use paperchart_core::source::Content as Bytes;
use paperchart_model::document::{BBox, Line, Word};

use paperchart_model::file::{DecodeError, Limits};

use crate::budget::PixelBudget;
use crate::page::{check_pixels, luma, reserve, PageInput, Raster};

pub(crate) struct PdfFile {
    text: LoDocument,
    page_ids: Vec<ObjectId>,
    render: hayro::hayro_syntax::Pdf,
    bytes: Bytes,
}

/// What a PDF error means for the document: content over `limits.max_content_bytes` is too
/// large, not corrupt.
fn pdf_error(e: lopdf::Error, page: Option<u32>, limits: &Limits) -> DecodeError {
    let where_ = page.map(|n| format!(" on page {n}")).unwrap_or_default();
    match e {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            DecodeError::ContentTooLarge { limit: limits.max_content_bytes, where_ }
        }
        other => {
            DecodeError::corrupt("PDF", format!("{}{other}", page.map(|n| format!("page {n}: ")).unwrap_or_default()))
        }
    }
}

impl PdfFile {
    pub(crate) fn open(bytes: Bytes, limits: &Limits) -> Result<PdfFile, DecodeError> {
        let render = match hayro::hayro_syntax::Pdf::new(Arc::new(bytes.clone())) {
            Ok(pdf) => pdf,
            Err(hayro::hayro_syntax::LoadPdfError::Decryption(_)) => return Err(DecodeError::Encrypted),
            Err(hayro::hayro_syntax::LoadPdfError::Invalid) => {
                return Err(DecodeError::corrupt("PDF", "no readable cross-reference table or page tree"))
            }
        };
        let options = lopdf::LoadOptions {
            filter: Some(drop_image_data),
            max_decompressed_size: Some(limits.max_content_bytes as usize),
            ..Default::default()
        };
        let text = text_document(&bytes, options);
        bytes.release();
        let mut text = text.map_err(|e| match e {
            lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => DecodeError::Encrypted,
            other => pdf_error(other, None, limits),
        })?;
        if text.is_encrypted() {
            // Documents protected by an owner password only open with the empty user password.
            text.decrypt("").map_err(|_| DecodeError::Encrypted)?;
        }
        let page_ids: Vec<ObjectId> = text.get_pages().into_values().collect();
        let rendered_pages = render.pages().len();
        if page_ids.len() != rendered_pages {
            return Err(DecodeError::corrupt(
                "PDF",
                format!("page tree disagrees with itself ({} vs {rendered_pages} pages)", page_ids.len()),
            ));
        }
        Ok(PdfFile { text, page_ids, render, bytes })
    }

    pub(crate) fn page_count(&self) -> u32 {
        self.page_ids.len() as u32
    }

    pub(crate) fn page(
        &self,
        number: u32,
        limits: &Limits,
        budget: Option<&Arc<PixelBudget>>,
    ) -> Result<PageInput, DecodeError> {
        let id = *self
            .page_ids
            .get(number as usize - 1)
            .ok_or_else(|| DecodeError::corrupt("PDF", format!("no page {number}")))?;
        if content_missing(&self.text, id) {
            // A file cut short keeps its page tree (rebuilt from what is left) but not the page's
            // content: read, it would be a blank page passing for the document.
            return Err(DecodeError::corrupt(
                "PDF",
                format!("page {number}: its content is missing (the file is cut short)"),
            ));
        }
        let lines = text_layer(&self.text, id, limits.max_content_bytes as usize)
            .map_err(|e| pdf_error(e, Some(number), limits))?;
        let letters: usize = lines.iter().map(|l| l.text.chars().filter(|c| c.is_alphanumeric()).count()).sum();
        if letters < limits.min_text_layer_chars as usize {
            return self.render_page(number, limits, budget).map(PageInput::Image);
        }
        if crate::quality::assess(&lines).is_text() {
            return Ok(PageInput::Text(lines));
        }
        self.render_page(number, limits, budget).map(PageInput::ImageOverTextLayer)
    }

    fn render_page(
        &self,
        number: u32,
        limits: &Limits,
        budget: Option<&Arc<PixelBudget>>,
    ) -> Result<Raster, DecodeError> {
        use hayro::vello_cpu::color::palette::css::WHITE;
        let page = &self.render.pages()[number as usize - 1];
        let scale = limits.render_dpi as f32 / 72.0;
        let (w, h) = page.render_dimensions();
        let (pw, ph) = ((w * scale).ceil() as u64, (h * scale).ceil() as u64);
        check_pixels(number, pw, ph, limits)?;
        if pw > u16::MAX as u64 || ph > u16::MAX as u64 {
            return Err(DecodeError::TooManyPixels {
                page: number,
                width: pw,
                height: ph,
                pixels: pw * ph,
                limit: limits.max_pixels_per_page,
            });
        }
        let held = reserve(budget, pw, ph);
        let cache = hayro::RenderCache::new();
        // An image that cannot be decoded (a damaged JBIG2, JPX or JPEG stream) is left out of
        // the rendering, silently: counted here, it makes the page damaged, not blank.
        let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = failed.clone();
        let settings = hayro::hayro_interpret::InterpreterSettings {
            warning_sink: Arc::new(move |w| {
                if matches!(w, hayro::hayro_interpret::InterpreterWarning::ImageDecodeFailure) {
                    seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }),
            ..Default::default()
        };
        let pixmap = hayro::render(
            page,
            &cache,
            &settings,
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings { x_scale: scale, y_scale: scale, bg_color: WHITE },
        );
        // The page's images are decoded: what the file kept resident of them can go.
        self.bytes.release();
        let failed = failed.load(std::sync::atomic::Ordering::Relaxed);
        if failed > 0 {
            return Err(DecodeError::corrupt(
                "PDF",
                format!("page {number}: {failed} image(s) could not be decoded (damaged image data)"),
            ));
        }
        let pixels = pixmap.data().iter().map(|p| luma(p.r, p.g, p.b)).collect::<Vec<u8>>();
        Ok(Raster {
            width: pixmap.width() as u32,
            height: pixmap.height() as u32,
            pixels,
            dpi: Some(limits.render_dpi),
            held,
        })
    }
}

/// lopdf only reads text, so image streams are loaded without their data: a scanned PDF's bulk
/// is not copied a second time into memory (hayro renders from the original bytes).
fn drop_image_data(id: (u32, u16), object: &mut Object) -> Option<((u32, u16), Object)> {
    if let Object::Stream(stream) = object {
        let is_image = stream.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Image");
        if is_image {
            stream.content = Vec::new();
        }
    }
    // lopdf keeps the object as mutated for plain objects and the returned copy for members of
    // object streams: give both.
    Some((id, object.clone()))
}

/// The file as lopdf reads it, for its text layer. A file read in place (mapped) is read through
/// a copy without its images' data ([`without_images`]) when it has enough of them, and as it
/// is should lopdf refuse the copy.
fn text_document(bytes: &Bytes, options: lopdf::LoadOptions) -> lopdf::Result<LoDocument> {
    if bytes.is_mapped() {
        // A parser of its own: scanning every object may repair or cache what the renderer
        // would not have needed.
        let copy = hayro::hayro_syntax::Pdf::new(Arc::new(bytes.clone())).ok().and_then(|scan| without_images(&scan));
        if let Some(copy) = copy {
            if let Ok(document) = LoDocument::load_mem_with_options(&copy, options.clone()) {
                return Ok(document);
            }
        }
    }
    LoDocument::load_mem_with_options(bytes, options)
}

/// Image streams larger than this in all are left out of the copy lopdf reads.
const IMAGES_WORTH_LEAVING_OUT: usize = 1 << 20;

/// A copy of the file for lopdf with the data of its image streams left as zeros, or `None`
/// when the images are too small to matter. lopdf parses every object of a file at once, image
/// data included, so a scan read in place (a mapped file, see [`Bytes`]) would otherwise be
/// read whole into memory; the copy's zeros are pages of an anonymous mapping never written, so
/// they take no memory. The streams are found with hayro (which parses only what it is asked
/// for), and a stream is left out only where hayro found its data by its own `/Length` and the
/// file has `endstream` right after it (a stream hayro recovered by searching for `endstream`
/// could span the next object): lopdf then sees the same objects with blank image data, which it
/// drops anyway ([`drop_image_data`]).
fn without_images(render: &hayro::hayro_syntax::Pdf) -> Option<memmap2::MmapMut> {
    use hayro::hayro_syntax::object::{Name, Object as HObject};
    let bytes: &[u8] = render.data().as_ref();
    let base = bytes.as_ptr() as usize;
    let mut images: Vec<(usize, usize)> = render
        .objects()
        .into_iter()
        .filter_map(|object| match object {
            HObject::Stream(stream) => Some(stream),
            _ => None,
        })
        .filter(|stream| stream.dict().get::<Name<'_>>(b"Subtype").is_some_and(|n| n.as_ref() == b"Image"))
        .filter_map(|stream| match stream.raw_data() {
            // Decrypted data is a copy: its place in the file is not known.
            std::borrow::Cow::Borrowed(data) if stream.dict().get::<usize>(b"Length") == Some(data.len()) => {
                let start = (data.as_ptr() as usize).checked_sub(base)?;
                let end = start.checked_add(data.len())?;
                ends_stream(bytes, end).then_some((start, end))
            }
            _ => None,
        })
        .collect();
    if images.iter().map(|(a, b)| b - a).sum::<usize>() < IMAGES_WORTH_LEAVING_OUT {
        return None;
    }
    images.sort_unstable();
    let mut copy = memmap2::MmapMut::map_anon(bytes.len()).ok()?;
    let mut at = 0;
    for (start, end) in images {
        if start > at {
            copy[at..start].copy_from_slice(&bytes[at..start]);
        }
        at = at.max(end);
    }
    copy[at..].copy_from_slice(&bytes[at..]);
    Some(copy)
}

/// Whether a stream's data ending at `end` is followed by its `endstream` keyword (after one
/// optional end of line), as in a well-formed file.
fn ends_stream(bytes: &[u8], end: usize) -> bool {
    let Some(rest) = bytes.get(end..) else { return false };
    [&b"endstream"[..], b"\r\nendstream", b"\nendstream", b"\rendstream"].iter().any(|k| rest.starts_with(k))
}

/// 2-D affine matrix `[a b c d e f]` as PDF writes it.
#[derive(Clone, Copy, Debug)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self × other`: apply `self` first, then `other` (PDF's row-vector convention).
    fn then(self, o: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [oa, ob, oc, od, oe, of] = o.0;
        Matrix([
            a * oa + b * oc,
            a * ob + b * od,
            c * oa + d * oc,
            c * ob + d * od,
            e * oa + f * oc + oe,
            e * ob + f * od + of,
        ])
    }

    fn translate(tx: f32, ty: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }

    fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    fn scale_y(self) -> f32 {
        (self.0[2] * self.0[2] + self.0[3] * self.0[3]).sqrt()
    }
}

/// A piece of text placed on the page, in page space (points, origin bottom left).
#[derive(Debug)]
struct Run {
    text: String,
    x: f32,
    y: f32,
    width: f32,
    size: f32,
}

struct FontInfo<'a> {
    encoding: Option<Encoding<'a>>,
    first_char: i64,
    widths: Vec<f32>,
    two_byte: bool,
}

fn number(o: &Object) -> Option<f32> {
    match o {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

fn numbers(ops: &[Object]) -> Vec<f32> {
    ops.iter().filter_map(number).collect()
}

fn font_info<'a>(doc: &'a LoDocument, font: &'a Dictionary, limit: usize) -> FontInfo<'a> {
    let encoding = font.get_font_encoding_with_limit(doc, limit).ok();
    let subtype = font.get(b"Subtype").and_then(Object::as_name).unwrap_or(b"");
    let first_char = font.get(b"FirstChar").ok().and_then(|o| o.as_i64().ok()).unwrap_or(0);
    let widths = font
        .get(b"Widths")
        .ok()
        .and_then(|o| match o {
            Object::Reference(id) => doc.get_object(*id).ok(),
            other => Some(other),
        })
        .and_then(|o| o.as_array().ok())
        .map(|a| a.iter().map(|w| number(w).unwrap_or(500.0)).collect())
        .unwrap_or_default();
    FontInfo { encoding, first_char, widths, two_byte: subtype == b"Type0" }
}

/// Reads the positioned text of one page and assembles it into lines.
/// Whether the page names content streams the file does not hold. A page without `/Contents`
/// is blank by design and is not missing anything.
fn content_missing(doc: &LoDocument, page_id: ObjectId) -> bool {
    let Ok(page) = doc.get_dictionary(page_id) else { return true };
    let absent = |o: &Object| match o {
        Object::Reference(id) => !matches!(doc.get_object(*id), Ok(Object::Stream(_)) | Ok(Object::Array(_))),
        Object::Stream(_) => false,
        _ => true,
    };
    match page.get(b"Contents") {
        Err(_) => false,
        Ok(Object::Array(parts)) => parts.iter().any(absent),
        Ok(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::Array(parts)) => parts.iter().any(absent),
            Ok(Object::Stream(_)) => false,
            _ => true,
        },
        Ok(other) => absent(other),
    }
}

fn text_layer(doc: &LoDocument, page_id: ObjectId, limit: usize) -> Result<Vec<Line>, lopdf::Error> {
    let fonts = doc.get_page_fonts(page_id)?;
    let infos: BTreeMap<Vec<u8>, FontInfo> =
        fonts.iter().map(|(name, font)| (name.clone(), font_info(doc, font, limit))).collect();
    let content = Content::decode(&doc.get_page_content_with_limit(page_id, limit)?)?;
    let (page_w, page_h, origin_x, origin_y) = media_box(doc, page_id);

    let mut runs = Vec::new();
    let mut ctm = Matrix::IDENTITY;
    let mut stack: Vec<Matrix> = Vec::new();
    let (mut tm, mut tlm) = (Matrix::IDENTITY, Matrix::IDENTITY);
    let (mut leading, mut size, mut char_spacing, mut word_spacing, mut hscale) =
        (0.0f32, 0.0f32, 0.0f32, 0.0f32, 1.0f32);
    let mut font: Option<&FontInfo> = None;

    for op in &content.operations {
        let args = &op.operands;
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(Matrix::IDENTITY),
            "cm" => {
                if let [a, b, c, d, e, f] = numbers(args)[..] {
                    ctm = Matrix([a, b, c, d, e, f]).then(ctm);
                }
            }
            "BT" => {
                tm = Matrix::IDENTITY;
                tlm = Matrix::IDENTITY;
            }
            "Tf" => {
                font = args.first().and_then(|n| n.as_name().ok()).and_then(|n| infos.get(n));
                size = args.get(1).and_then(number).unwrap_or(size);
            }
            "TL" => leading = args.first().and_then(number).unwrap_or(leading),
            "Tc" => char_spacing = args.first().and_then(number).unwrap_or(0.0),
            "Tw" => word_spacing = args.first().and_then(number).unwrap_or(0.0),
            "Tz" => hscale = args.first().and_then(number).unwrap_or(100.0) / 100.0,
            "Td" | "TD" => {
                if let [tx, ty] = numbers(args)[..] {
                    if op.operator == "TD" {
                        leading = -ty;
                    }
                    tlm = Matrix::translate(tx, ty).then(tlm);
                    tm = tlm;
                }
            }
            "Tm" => {
                if let [a, b, c, d, e, f] = numbers(args)[..] {
                    tlm = Matrix([a, b, c, d, e, f]);
                    tm = tlm;
                }
            }
            "T*" => {
                tlm = Matrix::translate(0.0, -leading).then(tlm);
                tm = tlm;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if matches!(op.operator.as_str(), "'" | "\"") {
                    tlm = Matrix::translate(0.0, -leading).then(tlm);
                    tm = tlm;
                }
                let Some(info) = font else { continue };
                let strings: Vec<&Object> = match op.operator.as_str() {
                    "TJ" => {
                        args.first().and_then(|a| a.as_array().ok()).map(|a| a.iter().collect()).unwrap_or_default()
                    }
                    "\"" => args.get(2).into_iter().collect(),
                    _ => args.first().into_iter().collect(),
                };
                for item in strings {
                    match item {
                        Object::String(bytes, _) => {
                            let text = match &info.encoding {
                                Some(enc) => LoDocument::decode_text(enc, bytes).unwrap_or_default(),
                                None => String::new(),
                            };
                            let advance = text_advance(info, bytes, size, char_spacing, word_spacing) * hscale;
                            let trm = tm.then(ctm);
                            let (x, y) = trm.apply(0.0, 0.0);
                            let (x2, _) = trm.apply(advance, 0.0);
                            if !text.trim().is_empty() {
                                runs.push(Run {
                                    text,
                                    x: x - origin_x,
                                    y: y - origin_y,
                                    width: (x2 - x).abs(),
                                    size: (size * trm.scale_y()).clamp(1.0, 1e4),
                                });
                            }
                            tm = Matrix::translate(advance, 0.0).then(tm);
                        }
                        other => {
                            if let Some(adj) = number(other) {
                                tm = Matrix::translate(-adj / 1000.0 * size * hscale, 0.0).then(tm);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(assemble_lines(runs, page_w, page_h))
}

fn text_advance(info: &FontInfo, bytes: &[u8], size: f32, char_spacing: f32, word_spacing: f32) -> f32 {
    let codes: Vec<u32> = if info.two_byte {
        bytes.chunks(2).map(|c| c.iter().fold(0u32, |a, b| (a << 8) | *b as u32)).collect()
    } else {
        bytes.iter().map(|b| *b as u32).collect()
    };
    codes
        .iter()
        .map(|&code| {
            let w = usize::try_from(code as i64 - info.first_char)
                .ok()
                .and_then(|i| info.widths.get(i).copied())
                .filter(|w| *w > 0.0)
                .unwrap_or(if info.two_byte { 1000.0 } else { 550.0 });
            let space = if !info.two_byte && code == 32 { word_spacing } else { 0.0 };
            w / 1000.0 * size + char_spacing + space
        })
        .sum()
}

/// The page's media box: width, height and the lower-left origin, looked up through the page
/// tree since pages inherit it.
fn media_box(doc: &LoDocument, page_id: ObjectId) -> (f32, f32, f32, f32) {
    let mut node = doc.get_dictionary(page_id).ok();
    for _ in 0..32 {
        let Some(dict) = node else { break };
        if let Ok(mb) = dict.get(b"MediaBox").and_then(|o| match o {
            Object::Reference(id) => doc.get_object(*id),
            other => Ok(other),
        }) {
            if let Ok(arr) = mb.as_array() {
                if let [x0, y0, x1, y1] = numbers(arr)[..] {
                    return ((x1 - x0).abs().max(1.0), (y1 - y0).abs().max(1.0), x0.min(x1), y0.min(y1));
                }
            }
        }
        node = dict.get(b"Parent").and_then(Object::as_reference).ok().and_then(|id| doc.get_dictionary(id).ok());
    }
    (612.0, 792.0, 0.0, 0.0)
}

/// Groups runs sharing a baseline into lines, orders lines top to bottom and runs left to right,
/// and splits them into words with boxes relative to the page.
fn assemble_lines(mut runs: Vec<Run>, page_w: f32, page_h: f32) -> Vec<Line> {
    runs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut groups: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        match groups.last_mut() {
            Some(g) if (g[0].y - run.y).abs() <= 0.4 * g[0].size.min(run.size) => g.push(run),
            _ => groups.push(vec![run]),
        }
    }
    let mut lines = Vec::with_capacity(groups.len());
    for mut group in groups {
        group.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut text = String::new();
        let mut words: Vec<Word> = Vec::new();
        let mut prev_end: Option<f32> = None;
        for run in &group {
            let gap_is_space = prev_end.is_some_and(|end| run.x - end > 0.15 * run.size);
            let glued = !text.is_empty() && !gap_is_space && !text.ends_with(' ') && !run.text.starts_with(' ');
            if !text.is_empty() && !glued && !text.ends_with(' ') {
                text.push(' ');
            }
            // Split the run into words, spreading its width evenly over its characters.
            let n_chars = run.text.chars().count().max(1) as f32;
            let char_w = run.width / n_chars;
            let mut idx = 0usize;
            for piece in run.text.split(' ') {
                let len = piece.chars().count();
                if !piece.is_empty() {
                    let left = run.x + idx as f32 * char_w;
                    let bbox = BBox::from_pixels(
                        left,
                        page_h - run.y - run.size * 0.8,
                        len as f32 * char_w,
                        run.size,
                        page_w,
                        page_h,
                    );
                    if glued && idx == 0 {
                        if let Some(last) = words.last_mut() {
                            last.text.push_str(piece);
                            last.bbox = Some(last.bbox.map_or(bbox, |b| b.union(bbox)));
                            idx += len + 1;
                            continue;
                        }
                    }
                    words.push(Word {
                        text: piece.to_string(),
                        bbox: Some(bbox),
                        confidence: 100.0,
                        handwritten: false,
                    });
                }
                idx += len + 1;
            }
            text.push_str(run.text.trim_end_matches(' '));
            prev_end = Some(run.x + run.width);
        }
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        let bbox = words.iter().filter_map(|w| w.bbox).reduce(BBox::union);
        lines.push(Line { text, bbox, confidence: 100.0, words });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, x: f32, y: f32, width: f32) -> Run {
        Run { text: text.into(), x, y, width, size: 10.0 }
    }

    #[test]
    fn lines_follow_the_page_not_the_stream() {
        // A table drawn column by column: the lines must come out row by row.
        let runs = vec![
            run("Result", 200.0, 700.0, 30.0),
            run("Test", 50.0, 700.0, 20.0),
            run("7.2 %", 200.0, 680.0, 25.0),
            run("Hemoglobin A1c", 50.0, 680.0, 70.0),
            run("Header", 50.0, 750.0, 30.0),
        ];
        let lines = assemble_lines(runs, 612.0, 792.0);
        let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["Header", "Test Result", "Hemoglobin A1c 7.2 %"]);
        let words: Vec<_> = lines[2].words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, ["Hemoglobin", "A1c", "7.2", "%"]);
        let b = lines[2].words[0].bbox.unwrap();
        assert!(b.left > 0.07 && b.left < 0.09 && b.top > 0.1 && b.top < 0.15, "{b:?}");
    }

    #[test]
    fn adjacent_runs_glue_into_one_word() {
        let lines = assemble_lines(vec![run("Metfor", 50.0, 700.0, 30.0), run("min", 80.0, 700.0, 15.0)], 612.0, 792.0);
        assert_eq!(lines[0].text, "Metformin");
        assert_eq!(lines[0].words.len(), 1);
    }

    #[test]
    fn matrices_compose_in_pdf_order() {
        let m = Matrix::translate(10.0, 20.0).then(Matrix([2.0, 0.0, 0.0, 2.0, 0.0, 0.0]));
        assert_eq!(m.apply(1.0, 1.0), (22.0, 42.0));
    }

    /// A one-page PDF with a text layer and an image of `rows` KB of bytes `0x80`.
    fn page_with_an_image(rows: i64) -> Vec<u8> {
        use lopdf::{dictionary, Stream};
        let mut doc = LoDocument::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
        let image = doc.add_object(Stream::new(
            dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 1024, "Height" => rows,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8},
            vec![0x80; 1024 * rows as usize],
        ));
        let text = b"BT /F1 12 Tf 72 700 Td (Patient has hypertension and type 2 diabetes mellitus.) Tj ET \
                     q 100 0 0 200 72 400 cm /Im1 Do Q";
        let content = doc.add_object(Stream::new(dictionary! {}, text.to_vec()));
        let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! {"Font" => dictionary! {"F1" => font}, "XObject" => dictionary! {"Im1" => image}}});
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1}),
        );
        let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn lopdf_reads_a_copy_without_the_image_data() {
        let bytes = page_with_an_image(2048);
        let start = bytes.windows(64).position(|w| w.iter().all(|b| *b == 0x80)).unwrap();
        let end = start + 1024 * 2048;
        let render = hayro::hayro_syntax::Pdf::new(Arc::new(bytes.clone())).ok().unwrap();
        let copy = without_images(&render).expect("a 2 MB image is left out");
        assert_eq!(copy.len(), bytes.len());
        assert!(copy[start..end].iter().all(|b| *b == 0), "the image data is zeros");
        assert_eq!(copy[..start], bytes[..start]);
        assert_eq!(copy[end..], bytes[end..]);
        // Read through the copy, the page's text is the same; the file is still whole for hayro.
        struct Mapped(Vec<u8>);
        impl AsRef<[u8]> for Mapped {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl paperchart_core::source::Store for Mapped {
            fn is_mapped(&self) -> bool {
                true
            }
        }
        let file = PdfFile::open(Bytes::stored(Arc::new(Mapped(bytes))), &Limits::default()).unwrap();
        assert_eq!(file.page_count(), 1);
        match file.page(1, &Limits::default(), None).unwrap() {
            crate::page::PageInput::Text(lines) => {
                assert_eq!(lines[0].text, "Patient has hypertension and type 2 diabetes mellitus.")
            }
            _ => panic!("the text layer is read"),
        }
    }

    #[test]
    fn small_images_stay_and_streams_are_blanked_only_before_endstream() {
        let bytes = page_with_an_image(64);
        let render = hayro::hayro_syntax::Pdf::new(Arc::new(bytes.clone())).ok().unwrap();
        assert!(without_images(&render).is_none(), "64 KB of image: lopdf reads the file itself");
        assert!(ends_stream(b"data\r\nendstream", 4) && ends_stream(b"dataendstream", 4));
        assert!(!ends_stream(b"data\r\n\r\nendstream", 4) && !ends_stream(b"data x endstream", 4));
        assert!(!ends_stream(b"data\n\rendstream", 4));
        assert!(!ends_stream(b"data", 9));
    }
}
