//! The embedded engine: PDF text layers as they are, everything else through Tesseract.
//!
//! Pages of one document are read in parallel on a pool of `ocr.threads` threads, each holding
//! its own Tesseract engine for its whole life (initialising one costs far more than a page).
//! Tesseract must not start its own OpenMP threads on top (`OMP_THREAD_LIMIT=1`, set by the
//! binary before any thread starts): with one engine per core its threading halves throughput.
//! At most one raster per pool thread exists at a time, so memory does not grow with page count,
//! and the rasters held at once fit in `limits.max_pixels_in_flight`, so it does not grow with
//! the threads or the documents read together either.

use std::cell::RefCell;
use std::sync::Arc;

use async_trait::async_trait;
use rayon::prelude::*;

use paperchart_core::jobs::PendingJob;
use paperchart_core::ocr::{OcrEngine, OcrError, OcrPoll, OcrStart};
use paperchart_core::source::{Content, SourceObject};
use paperchart_model::document::{BBox, Document, Line, Page, ReadBy, Word};
use paperchart_model::layout;
use paperchart_model::settings::OcrSettings;

use crate::budget::PixelBudget;
use crate::decode::{Limits, Opened, PageInput, Raster};

#[derive(Clone)]
pub struct TesseractEngine {
    inner: Arc<Inner>,
}

struct Inner {
    pool: rayon::ThreadPool,
    settings: Arc<EngineSettings>,
    limits: Limits,
    /// `limits.max_pixels_in_flight`, shared by every document this engine reads.
    budget: Arc<PixelBudget>,
}

#[derive(Debug, Clone, PartialEq)]
struct EngineSettings {
    language: String,
    datapath: Option<String>,
}

thread_local! {
    static ENGINE: RefCell<Option<(Arc<EngineSettings>, tesseract::Tesseract)>> = const { RefCell::new(None) };
}

impl Drop for Inner {
    // Free every thread's engine before the pool goes, so Tesseract's shared caches are released
    // in order (otherwise it reports leaks at exit).
    fn drop(&mut self) {
        self.pool.broadcast(|_| ENGINE.with(|cell| drop(cell.borrow_mut().take())));
    }
}

fn engine_failed(detail: String) -> OcrError {
    OcrError::EngineFailed { engine: "tesseract", detail }
}

/// A line Tesseract reads with a mean confidence below this is read again from its inverted
/// image (white print on a dark band). Tesseract's default, 0.7, re-read a clean page's short
/// and numeric lines too, 5–6% of the page's time; a line in reversed print reads far below
/// 0.5 (the README's OCR figures, `make noise-suite`). Tesseract before 5.2 has no such setting
/// (its threshold was 0.5, fixed): there the engine starts without it.
const INVERT_THRESHOLD: &str = "0.5";

fn init(settings: &EngineSettings) -> Result<tesseract::Tesseract, OcrError> {
    let start = || {
        tesseract::Tesseract::new(settings.datapath.as_deref(), Some(&settings.language)).map_err(|e| {
            OcrError::EngineFailed {
                engine: "tesseract",
                detail: format!(
                    "cannot start Tesseract with language '{}' ({e}); install it with \
                 `apt-get install tesseract-ocr tesseract-ocr-eng` or set ocr.datapath",
                    settings.language
                ),
            }
        })
    };
    // set_variable consumes the engine, and gives it back only when the setting exists.
    match start()?.set_variable("invert_threshold", INVERT_THRESHOLD) {
        Ok(engine) => Ok(engine),
        Err(_) => start(),
    }
}

impl TesseractEngine {
    /// Starts the pool and checks, once, that Tesseract and its language data load.
    pub fn new(cfg: &OcrSettings, threads: usize, limits: Limits) -> Result<TesseractEngine, OcrError> {
        let settings = Arc::new(EngineSettings {
            language: cfg.language.clone(),
            datapath: Some(cfg.datapath.clone()).filter(|d| !d.is_empty()),
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("paperchart-ocr-{i}"))
            .build()
            .map_err(|e| engine_failed(format!("cannot start OCR threads: {e}")))?;
        // Each OCR thread starts its engine now, all at once: the check that Tesseract and its
        // language data load, without a first engine started and thrown away before the
        // threads start their own (a tenth of a second of a short run, alone on one core).
        for started in pool.broadcast(|_| {
            ENGINE.with(|cell| {
                let engine = init(&settings)?;
                *cell.borrow_mut() = Some((settings.clone(), engine));
                Ok::<(), OcrError>(())
            })
        }) {
            started?;
        }
        let budget = PixelBudget::new(limits.max_pixels_in_flight);
        Ok(TesseractEngine { inner: Arc::new(Inner { pool, settings, limits, budget }) })
    }

    /// Reads every page of a document (blocking; call from a blocking context).
    pub fn read(&self, bytes: Content) -> Result<Document, OcrError> {
        let inner = &self.inner;
        let opened = Opened::open(bytes, &inner.limits)?.within(inner.budget.clone());
        let n = opened.page_count();
        let settings = &inner.settings;
        let pages: Result<Vec<Page>, OcrError> =
            inner.pool.install(|| (1..=n).into_par_iter().map(|number| read_page(&opened, number, settings)).collect());
        Ok(Document { pages: pages?, ..Default::default() })
    }
}

fn read_page(opened: &Opened, number: u32, settings: &Arc<EngineSettings>) -> Result<Page, OcrError> {
    let (read_by, (lines, prepared), text_layer_rejected) = match opened.page(number)? {
        PageInput::Text(lines) => (ReadBy::TextLayer, (lines, Vec::new()), false),
        PageInput::Image(raster) => (ReadBy::Tesseract, read_pixels(&raster, settings)?, false),
        PageInput::ImageOverTextLayer(raster) => (ReadBy::Tesseract, read_pixels(&raster, settings)?, true),
    };
    let key_values = layout::key_values(&lines);
    // Tables of aligned columns from word boxes (OCR'd pages; a text layer's lines have none).
    let tables = layout::tables(&lines);
    Ok(Page { number, read_by, lines, key_values, tables, text_layer_rejected, prepared })
}

/// The lines of a raster: Tesseract's words, with the check boxes found in the image put in as
/// `[X]` / `[ ]` words at their places; and what was done to the image first
/// ([`crate::cleanup`]): flattened when a photo shows a page at an angle, despeckled when
/// speckled, evened under a shadow or faint ink, turned a quarter when its lines run down the
/// page, and read again turned otherwise while the reading is poor (the best kept).
fn read_pixels(raster: &Raster, settings: &Arc<EngineSettings>) -> Result<(Vec<Line>, Vec<String>), OcrError> {
    use crate::cleanup;
    use paperchart_model::document::{poorly_read, sure_words};
    // A phone photo of a page first becomes a page; if the flattened page reads poorly (its
    // corners were wrong: a thumb, a dog-ear), the photo as it came is read too and the better
    // reading kept.
    if let Some(flat) = cleanup::flattened(raster) {
        let (lines, mut prepared) = read_prepared(&flat, settings)?;
        if !poorly_read(&lines) {
            prepared.insert(0, "flattened".to_string());
            return Ok((lines, prepared));
        }
        let (as_taken, as_prepared) = read_prepared(raster, settings)?;
        if sure_words(&as_taken) >= sure_words(&lines) {
            return Ok((as_taken, as_prepared));
        }
        prepared.insert(0, "flattened".to_string());
        return Ok((lines, prepared));
    }
    read_prepared(raster, settings)
}

/// [`read_pixels`] after the page is a page: despeckled, evened, turned.
fn read_prepared(raster: &Raster, settings: &Arc<EngineSettings>) -> Result<(Vec<Line>, Vec<String>), OcrError> {
    use crate::cleanup;
    use paperchart_model::document::{poorly_read, sure_words};
    let mut prepared = Vec::new();
    let cleaned = cleanup::despeckled(raster);
    if cleaned.is_some() {
        prepared.push("despeckled".to_string());
    }
    let page = cleaned.as_ref().unwrap_or(raster);
    let evened = cleanup::evened(page);
    if evened.is_some() {
        prepared.push("evened".to_string());
    }
    let page = evened.as_ref().unwrap_or(page);
    let deskewed = cleanup::deskewed(page);
    let before = page;
    let page = deskewed.as_ref().map(|(r, _)| r).unwrap_or(page);
    // A reading, the turned raster it was read from, and the degrees that raster was straightened.
    type Reading = (Vec<Line>, Option<Raster>, Option<f32>);
    let read = |turn: u16| -> Result<Reading, OcrError> {
        let Some(turned) = (turn != 0).then(|| cleanup::turned(page, turn)) else {
            return Ok((recognise(page, settings)?, None, None));
        };
        // A sideways page's lines ran down the page, where its skew is not measured: one fed
        // crooked as well is straightened once turned. As before the turn, the straightened
        // page's ink lines may be a crooked card's: the page only turned is read too, and the
        // better reading kept (a tie to the page only turned).
        if turn % 180 == 90 && deskewed.is_none() {
            if let Some((straight, degrees)) = cleanup::deskewed(&turned) {
                let plain = recognise(&turned, settings)?;
                drop(turned);
                let lines = recognise(&straight, settings)?;
                if sure_words(&lines) > sure_words(&plain) {
                    return Ok((lines, Some(straight), Some(degrees)));
                }
                drop(straight);
                return Ok((plain, Some(cleanup::turned(page, turn)), None));
            }
        }
        Ok((recognise(&turned, settings)?, Some(turned), None))
    };
    // The turns to try, most likely first: the next only while the best reading is poor (a
    // sideways page may be either quarter, or not sideways after all).
    let turns: &[u16] = if cleanup::sideways(page) { &[90, 270, 0] } else { &[0, 180] };
    let mut turn = turns[0];
    let (mut lines, mut turned, mut straightened) = read(turn)?;
    for &other in &turns[1..] {
        if !poorly_read(&lines) {
            break;
        }
        let (again, again_turned, again_straightened) = read(other)?;
        if sure_words(&again) > sure_words(&lines) {
            (lines, turned, straightened, turn) = (again, again_turned, again_straightened, other);
        }
    }
    let mut read_from = turned.as_ref().unwrap_or(page);
    if let Some((_, degrees)) = &deskewed {
        // Straightened by the ink's lines, which may be a crooked card's on a straight page: the
        // page as it came is read too, and the better reading kept.
        let as_it_came = recognise(before, settings)?;
        if sure_words(&as_it_came) >= sure_words(&lines) {
            (lines, read_from, turn) = (as_it_came, before, 0);
        } else {
            prepared.push(format!("deskewed {degrees:.1}"));
        }
    }
    if turn != 0 {
        prepared.push(format!("rotated {turn}"));
    }
    if let Some(degrees) = straightened {
        prepared.push(format!("deskewed {degrees:.1}"));
    }
    let marks = crate::checkbox::find(read_from, &lines);
    crate::checkbox::merge(&mut lines, &marks);
    Ok((lines, prepared))
}

/// Runs this thread's Tesseract engine over one raster and returns its lines in reading order.
fn recognise(raster: &Raster, settings: &Arc<EngineSettings>) -> Result<Vec<Line>, OcrError> {
    let tsv = ENGINE.with(|cell| -> Result<String, OcrError> {
        let mut slot = cell.borrow_mut();
        let engine = match slot.take() {
            Some((s, e)) if *s == **settings => e,
            _ => init(settings)?,
        };
        let fail = |what: &str, e: &dyn std::fmt::Display| engine_failed(format!("{what}: {e}"));
        let mut engine = engine
            .set_frame(&raster.pixels, raster.width as i32, raster.height as i32, 1, raster.width as i32)
            .map_err(|e| fail("set image", &e))?
            .set_source_resolution(raster.dpi.filter(|d| *d >= 70).unwrap_or(300) as i32)
            .recognize()
            .map_err(|e| fail("recognise", &e))?;
        let tsv = engine.get_tsv_text(0).map_err(|e| fail("read result", &e))?;
        // The engine keeps the page's image, its thresholded copies and its results until the
        // next image: with a thread per core that is a page's worth of memory per thread, idle.
        // A one-pixel image in their place lets them go.
        let engine = engine.set_frame(&[255], 1, 1, 1, 1).map_err(|e| fail("release image", &e))?;
        *slot = Some((settings.clone(), engine));
        Ok(tsv)
    })?;
    Ok(parse_tsv(&tsv, raster.width as f32, raster.height as f32))
}

/// Turns Tesseract's TSV output into lines of words with boxes and confidences. Words are
/// grouped by block, paragraph and line, in the order Tesseract reports them (its reading order).
pub fn parse_tsv(tsv: &str, page_w: f32, page_h: f32) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut current: Option<(u32, u32, u32)> = None;
    for row in tsv.lines() {
        let f: Vec<&str> = row.splitn(12, '\t').collect();
        if f.len() < 12 || f[0] != "5" {
            continue;
        }
        let n = |i: usize| f[i].trim().parse::<f32>().unwrap_or(0.0);
        let text = f[11].trim();
        if text.is_empty() {
            continue;
        }
        let key = (n(2) as u32, n(3) as u32, n(4) as u32);
        let word = Word {
            text: text.to_string(),
            bbox: Some(BBox::from_pixels(n(6), n(7), n(8), n(9), page_w, page_h)),
            confidence: n(10).clamp(0.0, 100.0),
            handwritten: false,
        };
        if current != Some(key) {
            lines.push(Line { text: String::new(), bbox: None, confidence: 0.0, words: Vec::new() });
            current = Some(key);
        }
        let line = lines.last_mut().expect("pushed above");
        line.words.push(word);
    }
    lines.into_iter().map(|l| Line::from_words(l.words)).collect()
}

#[async_trait]
impl OcrEngine for TesseractEngine {
    fn name(&self) -> &'static str {
        "tesseract"
    }

    async fn start(&self, object: &SourceObject, _tag: &str) -> Result<OcrStart, OcrError> {
        let bytes = object.bytes.clone();
        let engine = self.clone();
        let doc = tokio::task::spawn_blocking(move || engine.read(bytes))
            .await
            .map_err(|e| engine_failed(format!("OCR task failed: {e}")))??;
        Ok(OcrStart::Done(doc))
    }

    async fn fetch(&self, job: &PendingJob) -> Result<OcrPoll, OcrError> {
        // Tesseract never starts a job: every job is unknown to it.
        Err(OcrError::UnknownJob { job_id: job.job.id.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_lines_in_order() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t1000\t1000\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t100\t50\t200\t40\t96.5\tChest\n\
                   5\t1\t1\t1\t1\t2\t320\t50\t150\t40\t91.0\tpain\n\
                   5\t1\t1\t1\t2\t1\t100\t120\t80\t40\t88.0\tBP\n\
                   5\t1\t2\t1\t1\t1\t100\t300\t80\t40\t70.0\tnext\n";
        let lines = parse_tsv(tsv, 1000.0, 1000.0);
        let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["Chest pain", "BP", "next"]);
        assert!((lines[0].confidence - 93.75).abs() < 1e-3);
        let b = lines[0].bbox.unwrap();
        assert!((b.left - 0.1).abs() < 1e-6 && (b.width - 0.37).abs() < 1e-6);
    }

    #[test]
    fn reads_a_rendered_word() {
        // A real Tesseract run on pixels drawn here: black bars spelling nothing must not crash,
        // and a blank page gives no lines.
        let engine = TesseractEngine::new(&OcrSettings::default(), 1, Limits::default()).unwrap();
        let blank = Raster { width: 400, height: 200, pixels: vec![255; 80_000], dpi: Some(300), held: None };
        let settings = engine.inner.settings.clone();
        let lines = engine.inner.pool.install(|| recognise(&blank, &settings)).unwrap();
        assert!(lines.is_empty());
    }

    #[test]
    fn pages_read_together_stay_within_the_pixel_budget() {
        // Two threads, four one-page documents of 0.8 million pixels read at once, a budget of
        // one such page: they are decoded and read one after another.
        let limits = Limits { max_pixels_per_page: 1_000_000, max_pixels_in_flight: 1_000_000, ..Limits::default() };
        let engine = TesseractEngine::new(&OcrSettings::default(), 2, limits).unwrap();
        let mut png = Vec::new();
        image::GrayImage::from_pixel(800, 1000, image::Luma([255]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let png = Content::from(png);
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (engine, png) = (engine.clone(), png.clone());
                std::thread::spawn(move || engine.read(png).map(|d| d.pages.len()))
            })
            .collect();
        for r in readers {
            assert_eq!(r.join().unwrap().unwrap(), 1);
        }
        assert_eq!(engine.inner.budget.peak(), 800_000, "each page held its pixels, never two at once");
    }
}
