//! A page made readable before Tesseract reads it, by what the page itself shows: each step runs
//! only where a measure of the page says it is needed, so clean pages cost one pass over their
//! pixels and are read as they are.
//!
//! - **Speckles** (salt-and-pepper noise: a bad scanner, a fax line, dust): the share of dark
//!   pixels with no dark neighbour. Text strokes at 200 dpi and over are never one pixel alone,
//!   so on a clean page the share is near zero; past [`SPECKLED`] the page's impulses are undone
//!   (lone dark pixels cleared, light holes in strokes filled), then the clusters they leave
//!   go through a 3 × 3 median filter (imageproc's) where the strokes are wide enough to keep
//!   their shape (an "l" two pixels wide would not).
//! - **Sideways pages** (scanned at 90° or 270°): lines of text make the ink's row profile
//!   (dark pixels per row) swing between lines and gaps; a sideways page's column profile swings
//!   instead. Such a page is turned a quarter before it is read.
//! - **Upside down, or the wrong quarter**: only reading tells. A page read poorly (few words
//!   Tesseract is sure of) is read again turned half a turn, and the better reading is kept.
//!
//! - **Skew** (a page fed crooked): the angle at which the ink's row profile is sharpest, over
//!   ±15°; Tesseract reads a few degrees as well as none (6°: 98% of words) but not ten (30–46%),
//!   so from [`SKEW_FROM`] degrees the page is turned straight first ([`deskewed`]).
//! - **Phone photos**: a page photographed on a darker ground, not square to the frame (seen
//!   from an angle, turned), is flattened first: its corners found and the page warped to an
//!   upright rectangle ([`flattened`]).
//!
//! What was done is recorded on the page (`Page::prepared`: "despeckled", "rotated 90").

use image::GrayImage;

use crate::page::Raster;

/// Dark: below the middle grey.
const DARK: u8 = 128;

/// Share of isolated dark pixels from which a page is speckled: a clean page at 300 dpi has
/// well under 0.05% (a stray dot), 5% salt-and-pepper noise about 2%.
const SPECKLED: f64 = 0.003;

/// How many of the eight neighbours of the inner pixel at `at` (row width `w`) are dark.
fn dark_neighbours(px: &[u8], w: usize, at: usize) -> usize {
    [at - w - 1, at - w, at - w + 1, at - 1, at + 1, at + w - 1, at + w, at + w + 1]
        .iter()
        .filter(|&&i| px[i] < DARK)
        .count()
}

/// Share of isolated dark pixels among all pixels.
pub fn isolated_dark_share(r: &Raster) -> f64 {
    let (w, h) = (r.width as usize, r.height as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let px = &r.pixels;
    let mut isolated = 0usize;
    for y in 1..h - 1 {
        for at in y * w + 1..(y + 1) * w - 1 {
            if px[at] < DARK && dark_neighbours(px, w, at) == 0 {
                isolated += 1;
            }
        }
    }
    isolated as f64 / (w * h) as f64
}

/// The raster with its impulses undone: a dark pixel with at most one dark neighbour (of eight)
/// turns light, a light pixel with seven or more turns dark (six would close the one-pixel gap
/// between two strokes: "rn" read "m"). Unlike a median filter this never
/// thins a stroke: a line one pixel wide has two dark neighbours at each of its pixels.
fn unspeckled(r: &Raster) -> Raster {
    let (w, h) = (r.width as usize, r.height as usize);
    let px = &r.pixels;
    let mut out = px.clone();
    for y in 1..h - 1 {
        for at in y * w + 1..(y + 1) * w - 1 {
            let dark = dark_neighbours(px, w, at);
            if px[at] < DARK && dark <= 1 {
                out[at] = 255;
            } else if px[at] >= DARK && dark >= 7 {
                out[at] = 0;
            }
        }
    }
    r.derived(r.width, r.height, out)
}

/// The raster through a 3 × 3 median filter (imageproc's).
fn median(r: &Raster) -> Raster {
    let img = GrayImage::from_raw(r.width, r.height, r.pixels.clone()).expect("a raster's size");
    let out = imageproc::filter::median_filter(&img, 1, 1);
    r.derived(r.width, r.height, out.into_raw())
}

/// The typical width of the page's strokes: the median length of its horizontal runs of dark
/// pixels from 2 to 20 long (shorter is noise, longer a rule or a filled box).
fn stroke_width(r: &Raster) -> usize {
    let mut runs = Vec::new();
    for row in r.pixels.chunks_exact(r.width as usize) {
        let mut run = 0;
        for &p in row.iter().chain(std::iter::once(&255)) {
            if p < DARK {
                run += 1;
            } else {
                if (2..=20).contains(&run) {
                    runs.push(run);
                }
                run = 0;
            }
        }
    }
    if runs.is_empty() {
        return 0;
    }
    let mid = runs.len() / 2;
    *runs.select_nth_unstable(mid).1
}

/// Strokes at least this wide survive a 3 × 3 median filter whole.
const MEDIAN_SAFE_STROKE: usize = 4;

/// The raster despeckled when it is speckled, or `None` when it is not: its impulses undone,
/// then, where strokes are wide enough to keep their shape, a median filter for the clusters
/// impulses leave; where they are thin, the impulses undone once more instead.
pub fn despeckled(r: &Raster) -> Option<Raster> {
    if r.width < 3 || r.height < 3 || isolated_dark_share(r) < SPECKLED {
        return None;
    }
    let once = unspeckled(r);
    if stroke_width(&once) >= MEDIAN_SAFE_STROKE {
        return Some(median(&once));
    }
    if isolated_dark_share(&once) < SPECKLED {
        return Some(once);
    }
    Some(unspeckled(&once))
}

/// Side of the tiles whose brightest pixels give the paper's brightness there.
const LIGHT_TILE: usize = 64;

/// The paper's brightness per tile (the 98th percentile of its pixels: a tile of dense print
/// still shows its paper between the strokes), in a grid of
/// `LIGHT_TILE` tiles.
/// Also the whole page's histogram, summed from the tiles' (one pass over the pixels for both).
fn paper(r: &Raster) -> (Vec<f32>, usize, usize, [u64; 256]) {
    let (w, h) = (r.width as usize, r.height as usize);
    let (gw, gh) = (w.div_ceil(LIGHT_TILE), h.div_ceil(LIGHT_TILE));
    let mut grid = Vec::with_capacity(gw * gh);
    let mut page = [0u64; 256];
    for ty in 0..gh {
        for tx in 0..gw {
            let mut hist = [0u32; 256];
            let mut n = 0u32;
            for y in ty * LIGHT_TILE..((ty + 1) * LIGHT_TILE).min(h) {
                for &p in &r.pixels[y * w + tx * LIGHT_TILE..y * w + ((tx + 1) * LIGHT_TILE).min(w)] {
                    hist[p as usize] += 1;
                    n += 1;
                }
            }
            for (all, &v) in page.iter_mut().zip(&hist) {
                *all += u64::from(v);
            }
            let mut seen = 0;
            let level = (0..256).find(|&v| {
                seen += hist[v];
                seen * 50 >= n * 49
            });
            grid.push(level.unwrap_or(255).max(1) as f32);
        }
    }
    (grid, gw, gh, page)
}

/// The darkest thousandth of a page's pixels are at most this light on a page with real ink.
const FAINT_INK: u8 = 90;
/// The paper's brightness varies by more than this across a page under uneven light.
const UNEVEN_LIGHT: f32 = 60.0;

/// How many pixels have each grey value.
pub(crate) fn histogram(pixels: &[u8]) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for &p in pixels {
        hist[p as usize] += 1;
    }
    hist
}

/// The value below which `share` of the pixels lie.
fn percentile(pixels: &[u8], share: f64) -> u8 {
    percentile_of(&histogram(pixels), share)
}

/// [`percentile`] from a histogram of the pixels.
fn percentile_of(hist: &[u64; 256], share: f64) -> u8 {
    let total: u64 = hist.iter().sum();
    let want = (total as f64 * share) as u64;
    let mut seen = 0;
    (0..=255u8)
        .find(|&v| {
            seen += hist[v as usize];
            seen > want
        })
        .unwrap_or(255)
}

/// The raster evened out when its light is uneven or its ink faint, or `None`: each pixel divided
/// by the paper's brightness around it (interpolated between tiles), then the ink stretched back
/// to black. Tesseract thresholds a page once, over the whole page; a shadow across it or ink
/// at half strength defeats that.
pub fn evened(r: &Raster) -> Option<Raster> {
    let (w, h) = (r.width as usize, r.height as usize);
    if w < LIGHT_TILE || h < LIGHT_TILE {
        return None;
    }
    let (grid, gw, gh, hist) = paper(r);
    // The spread of the paper's brightness between the 5th and 95th percentile tiles: one dark
    // tile (a logo, a redaction bar, a scanner's border, a sliver at the edge) is no shadow.
    let mut levels = grid.clone();
    levels.sort_by(f32::total_cmp);
    let (lo, hi) = (levels[levels.len() / 20], levels[(levels.len() * 19 / 20).min(levels.len() - 1)]);
    // Faint: the darkest pixels (a thousandth of the page, less than a short note's ink) are
    // grey, on a page that has some ink at all (a blank page is left as it is).
    let inked = hist[..200].iter().sum::<u64>() * 1000 >= r.pixels.len() as u64;
    let faint = inked && percentile_of(&hist, 0.001) > FAINT_INK;
    if hi - lo <= UNEVEN_LIGHT && !faint {
        return None;
    }
    let at =
        |gx: isize, gy: isize| grid[gy.clamp(0, gh as isize - 1) as usize * gw + gx.clamp(0, gw as isize - 1) as usize];
    let half = LIGHT_TILE as f32 / 2.0;
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let fy = (y as f32 - half) / LIGHT_TILE as f32;
        let (gy, ty) = (fy.floor() as isize, fy - fy.floor());
        for x in 0..w {
            let fx = (x as f32 - half) / LIGHT_TILE as f32;
            let (gx, tx) = (fx.floor() as isize, fx - fx.floor());
            let top = at(gx, gy) * (1.0 - tx) + at(gx + 1, gy) * tx;
            let bottom = at(gx, gy + 1) * (1.0 - tx) + at(gx + 1, gy + 1) * tx;
            let light = top * (1.0 - ty) + bottom * ty;
            out[y * w + x] = (r.pixels[y * w + x] as f32 * 255.0 / light).min(255.0) as u8;
        }
    }
    // The ink back to black: the darkest 1% to 0, the paper stays white. Only when that 1% is
    // ink: on a page with less ink it is the paper's grain, and stretching it would darken it.
    let ink = percentile(&out, 0.01) as f32;
    if ink > 0.0 && ink < 160.0 {
        for p in out.iter_mut() {
            *p = ((*p as f32 - ink).max(0.0) * 255.0 / (255.0 - ink)) as u8;
        }
    }
    Some(r.derived(r.width, r.height, out))
}

/// The share of bands of 4 pixels (rows, or columns) nearly without ink (under a tenth of the
/// mean band): the gaps between lines of text, across the lines' direction.
fn gaps(counts: &[u32]) -> f64 {
    let bands: Vec<u32> = counts.chunks(4).map(|c| c.iter().sum()).collect();
    let mean = bands.iter().map(|&n| n as f64).sum::<f64>() / bands.len().max(1) as f64;
    if mean == 0.0 {
        return 0.0;
    }
    bands.iter().filter(|&&n| (n as f64) < mean / 10.0).count() as f64 / bands.len() as f64
}

/// Side of the square tiles the sideways test looks at: a few lines of text at 300 dpi, small
/// enough that a skew of several degrees moves a line by less than the gap between lines.
const TILE: usize = 200;

/// Whether the page's lines run down it rather than across. Each tile with some ink votes: gaps
/// between its columns of ink and none between its rows is a sideways tile, the reverse an
/// upright one; the page is sideways when sideways tiles outnumber upright ones two to one.
pub fn sideways(r: &Raster) -> bool {
    let (w, h) = (r.width as usize, r.height as usize);
    let (mut upright, mut turned) = (0usize, 0usize);
    for ty in (0..h.saturating_sub(TILE - 1)).step_by(TILE) {
        for tx in (0..w.saturating_sub(TILE - 1)).step_by(TILE) {
            let (mut rows, mut cols) = ([0u32; TILE], [0u32; TILE]);
            for (y, row) in rows.iter_mut().enumerate() {
                let line = &r.pixels[(ty + y) * w + tx..(ty + y) * w + tx + TILE];
                for (x, &p) in line.iter().enumerate() {
                    if p < DARK {
                        *row += 1;
                        cols[x] += 1;
                    }
                }
            }
            let ink: u32 = rows.iter().sum();
            // Blank margins and solid blocks say nothing.
            if ink < (TILE * TILE / 50) as u32 || ink > (TILE * TILE / 2) as u32 {
                continue;
            }
            let (between_rows, between_cols) = (gaps(&rows), gaps(&cols));
            if between_cols > between_rows + 0.1 {
                turned += 1;
            } else if between_rows > between_cols + 0.1 {
                upright += 1;
            }
        }
    }
    turned >= 3 && turned > 2 * upright
}

/// Skews from this many degrees are straightened; smaller ones Tesseract reads as well as none
/// (3°: every word of the noise suite's pages), and a resampled page is a little softer.
pub const SKEW_FROM: f32 = 3.0;

/// The largest skew looked for: a page fed crooked, not one turned a quarter.
const SKEW_MAX: f32 = 15.0;

/// The sharpness of the ink's row profile with the page turned straight by `degrees` (of
/// counter-clockwise skew): the sum of the squared counts of dark points per row.
fn profile_sharpness(points: &[(f32, f32)], degrees: f32, rows: usize) -> f64 {
    let (s, c) = degrees.to_radians().sin_cos();
    let mut bins = vec![0u32; rows];
    for &(x, y) in points {
        let at = y * c + x * s;
        if at >= 0.0 && (at as usize) < rows {
            bins[at as usize] += 1;
        }
    }
    bins.iter().map(|&n| f64::from(n) * f64::from(n)).sum()
}

/// The page's skew in degrees, counter-clockwise positive (as a page turned left lies), when it
/// is at least [`SKEW_FROM`] and clearly so: its text lines sharpen the row profile of the ink
/// (measured on every `step`-th pixel, about 800 across) well beyond the profile as it stands.
/// `None` for a straight page, a blank one, or one whose ink has no lines (a photo, a drawing).
pub fn skew(r: &Raster) -> Option<f32> {
    let (w, h) = (r.width as usize, r.height as usize);
    let step = w.div_ceil(800).max(1);
    let mut points = Vec::new();
    for y in (0..h).step_by(step) {
        for x in (0..w).step_by(step) {
            if r.pixels[y * w + x] < DARK {
                points.push(((x / step) as f32, (y / step) as f32));
            }
        }
    }
    // Too little ink to have lines, or so much it is a picture.
    let cells = (w / step) * (h / step);
    if points.len() < 400 || points.len() > cells / 4 {
        return None;
    }
    // Rows of the straightened page, with room for the turn.
    let rows = (w / step + h / step) * 2;
    let shift = |(x, y): (f32, f32)| (x, y + (w / step) as f32);
    let points: Vec<(f32, f32)> = points.into_iter().map(shift).collect();
    let score = |d: f32| profile_sharpness(&points, d, rows);
    let coarse = (-30..=30).map(|i| i as f32 * SKEW_MAX / 30.0);
    let (mut best, mut best_score) =
        coarse.map(|d| (d, score(d))).fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    for i in -5..=5 {
        let d = best + i as f32 * 0.1;
        let sc = score(d);
        if sc > best_score {
            (best, best_score) = (d, sc);
        }
    }
    // Lines that are there: far sharper turned than as they stand.
    (best.abs() >= SKEW_FROM && best_score > 1.5 * score(0.0)).then_some(best)
}

/// The page turned straight when it is skewed ([`skew`]), and the angle it was turned by. The
/// canvas keeps the page's size, so word boxes keep its scale (the corners a turn moves out are
/// margins: a page scanned crooked was cut by the scanner's frame already).
pub fn deskewed(r: &Raster) -> Option<(Raster, f32)> {
    use imageproc::geometric_transformations::{rotate_about_center, Interpolation};
    let degrees = skew(r)?;
    let img = GrayImage::from_raw(r.width, r.height, r.pixels.clone()).expect("a raster's size");
    // Clockwise by the skew (imageproc turns clockwise), about the page's centre.
    let out = rotate_about_center(&img, degrees.to_radians(), Interpolation::Bilinear, image::Luma([255]));
    Some((r.derived(r.width, r.height, out.into_raw()), degrees))
}

/// A photographed page's corners, when the photo shows the page as a brighter quadrilateral on a
/// darker ground and not square to the frame: top-left, top-right, bottom-right, bottom-left,
/// in the raster's pixels. Measured on a copy at most 512 pixels on its longer side: Otsu's
/// threshold (imageproc) splits paper from ground, the largest bright region (imageproc's
/// connected components) is the page, its extreme points along the diagonals its corners.
pub fn page_corners(r: &Raster) -> Option<[(f32, f32); 4]> {
    use imageproc::region_labelling::{connected_components, Connectivity};
    let (w, h) = (r.width as usize, r.height as usize);
    let step = w.max(h).div_ceil(512).max(1);
    let (sw, sh) = (w / step, h / step);
    if sw < 32 || sh < 32 {
        return None;
    }
    // Block means: text strokes vanish into the paper's grey, the ground stays dark.
    let mut small = GrayImage::new(sw as u32, sh as u32);
    for y in 0..sh {
        for x in 0..sw {
            let mut sum = 0u32;
            for dy in 0..step {
                let row = (y * step + dy) * w + x * step;
                sum += r.pixels[row..row + step].iter().map(|&p| u32::from(p)).sum::<u32>();
            }
            small.put_pixel(x as u32, y as u32, image::Luma([(sum / (step * step) as u32) as u8]));
        }
    }
    let level = imageproc::contrast::otsu_level(&small);
    let bright = imageproc::map::map_colors(&small, |p| image::Luma([if p[0] > level { 255u8 } else { 0 }]));
    let labels = connected_components(&bright, Connectivity::Four, image::Luma([0u8]));
    let mut counts = std::collections::HashMap::<u32, usize>::new();
    for p in labels.pixels() {
        if p[0] != 0 {
            *counts.entry(p[0]).or_default() += 1;
        }
    }
    // The largest region (ties to the lower label, so a run is repeatable); none when a second
    // is near its size (two sheets, a form's white boxes): which is the page is not clear.
    let mut regions: Vec<(usize, u32)> = counts.iter().map(|(&l, &n)| (n, l)).collect();
    regions.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let (area, page) = *regions.first()?;
    if regions.get(1).is_some_and(|&(n, _)| n * 3 > area) {
        return None;
    }
    // The ground runs round the frame: most of its border is not the page.
    let border: Vec<bool> = labels
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x as usize == sw - 1 || *y as usize == sh - 1)
        .map(|(_, _, l)| l[0] == page)
        .collect();
    if border.iter().filter(|&&b| b).count() * 2 > border.len() {
        return None;
    }
    // The paper is most of the photo but not all of it (a scan is all paper), and much brighter
    // than the ground (a light grey desk under white paper is no ground).
    let share = area as f64 / (sw * sh) as f64;
    let (mut paper, mut ground, mut grounds) = (0u64, 0u64, 0u64);
    for (l, p) in labels.pixels().zip(small.pixels()) {
        if l[0] == page {
            paper += u64::from(p[0]);
        } else {
            ground += u64::from(p[0]);
            grounds += 1;
        }
    }
    if !(0.2..=0.9).contains(&share) || grounds == 0 {
        return None;
    }
    if (paper / area as u64) < (ground / grounds) + 60 {
        return None;
    }
    let (mut tl, mut tr, mut br, mut bl) = ((0i64, 0i64), (0, 0), (0, 0), (0, 0));
    let (mut min_sum, mut max_sum, mut min_diff, mut max_diff) = (i64::MAX, i64::MIN, i64::MAX, i64::MIN);
    for (x, y, l) in labels.enumerate_pixels() {
        if l[0] != page {
            continue;
        }
        let (x, y) = (i64::from(x), i64::from(y));
        if x + y < min_sum {
            (min_sum, tl) = (x + y, (x, y));
        }
        if x + y > max_sum {
            (max_sum, br) = (x + y, (x, y));
        }
        if x - y > max_diff {
            (max_diff, tr) = (x - y, (x, y));
        }
        if x - y < min_diff {
            (min_diff, bl) = (x - y, (x, y));
        }
    }
    // Square to the frame already (a scan with dark borders): nothing to flatten.
    let skew = (tl.1 - tr.1).abs().max((bl.1 - br.1).abs()).max((tl.0 - bl.0).abs()).max((tr.0 - br.0).abs());
    if (skew as usize) * 40 < sw.max(sh) {
        return None;
    }
    let full = |(x, y): (i64, i64)| ((x as f32 + 0.5) * step as f32, (y as f32 + 0.5) * step as f32);
    Some([full(tl), full(tr), full(br), full(bl)])
}

/// A phone photo of a page flattened: the page's quadrilateral ([`page_corners`]) mapped to an
/// upright rectangle of its own size (imageproc's projective warp), the ground cut away. `None`
/// when the photo shows no page to flatten.
pub fn flattened(r: &Raster) -> Option<Raster> {
    use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
    let [tl, tr, br, bl] = page_corners(r)?;
    let dist = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let width = dist(tl, tr).max(dist(bl, br)).round();
    let height = dist(tl, bl).max(dist(tr, br)).round();
    // A page, not a sliver; never more pixels than the photo had.
    let aspect = width / height.max(1.0);
    if !(0.4..=2.5).contains(&aspect) || (width * height) as u64 > u64::from(r.width) * u64::from(r.height) {
        return None;
    }
    let (ow, oh) = (width as u32, height as u32);
    let to = [(0.0, 0.0), (width - 1.0, 0.0), (width - 1.0, height - 1.0), (0.0, height - 1.0)];
    let projection = Projection::from_control_points([tl, tr, br, bl], to)?;
    let img = GrayImage::from_raw(r.width, r.height, r.pixels.clone()).expect("a raster's size");
    let mut out = GrayImage::new(ow, oh);
    warp_into(&img, &projection, Interpolation::Bilinear, image::Luma([255]), &mut out);
    Some(r.derived(ow, oh, out.into_raw()))
}

/// The raster turned clockwise by 90, 180 or 270 degrees.
pub fn turned(r: &Raster, degrees: u16) -> Raster {
    let img = GrayImage::from_raw(r.width, r.height, r.pixels.clone()).expect("a raster's size");
    let out = match degrees % 360 {
        90 => image::imageops::rotate90(&img),
        180 => image::imageops::rotate180(&img),
        270 => image::imageops::rotate270(&img),
        _ => img,
    };
    r.derived(out.width(), out.height(), out.into_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of horizontal "text lines" as 300 dpi print makes them: lines 30 pixels high every
    /// 54, words of ten letters (strokes 4 pixels wide, 4 apart) with 24 pixels between words,
    /// placed differently on each line.
    fn page(w: u32, h: u32) -> Raster {
        let mut pixels = vec![255u8; (w * h) as usize];
        for y in 40..h - 40 {
            if !(8..38).contains(&(y % 54)) {
                continue;
            }
            // Each line's letters fall elsewhere, as in print.
            let shift = (y / 54) * 37;
            for x in 40..w - 40 {
                let at = x + shift;
                if at % 104 < 80 && at % 8 < 4 {
                    pixels[(y * w + x) as usize] = 0;
                }
            }
        }
        Raster { width: w, height: h, pixels, dpi: Some(300), held: None }
    }

    #[test]
    fn a_clean_up_copy_counts_in_the_pixel_budget_while_it_lives() {
        use crate::budget::PixelBudget;
        let budget = PixelBudget::new(1_500_000);
        let mut r = page(1000, 1000);
        r.held = Some(budget.reserve(1_000_000));
        let turned = turned(&r, 90);
        assert_eq!(budget.peak(), 2_000_000, "the copy is counted at once, over the budget, never waiting");
        let (tx, rx) = std::sync::mpsc::channel();
        let b = budget.clone();
        let next = std::thread::spawn(move || {
            let held = b.reserve(400_000);
            tx.send(()).unwrap();
            held
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err(), "another page waits for the copy");
        drop(turned);
        rx.recv_timeout(std::time::Duration::from_secs(5)).expect("room once the copy is gone");
        drop(next.join().unwrap());
        drop(r);
        assert_eq!(budget.peak(), 2_000_000);
    }

    fn speckle(r: &mut Raster, every: usize) {
        let mut seed = 12345u64;
        for _ in 0..r.pixels.len() / every {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (seed >> 33) as usize % r.pixels.len();
            r.pixels[i] = if seed & 1 == 0 { 0 } else { 255 };
        }
    }

    #[test]
    fn only_a_page_at_an_angle_on_a_darker_ground_is_flattened() {
        let scan = page(800, 1000);
        assert!(page_corners(&scan).is_none(), "a scan is all paper");
        // The same page inside a dark border, square to the frame (a scanner's lid): no corners.
        let (w, h) = (1000usize, 1200usize);
        let mut framed = vec![40u8; w * h];
        for y in 0..1000 {
            framed[(y + 100) * w + 100..(y + 100) * w + 900].copy_from_slice(&scan.pixels[y * 800..(y + 1) * 800]);
        }
        let framed = Raster { width: w as u32, height: h as u32, pixels: framed, dpi: None, held: None };
        assert!(page_corners(&framed).is_none(), "square to the frame");
        // Turned 8 degrees on the dark ground: corners found, and the flattened page is upright
        // and about the page's size.
        let img = GrayImage::from_raw(w as u32, h as u32, framed.pixels.clone()).unwrap();
        let turned = imageproc::geometric_transformations::rotate_about_center(
            &img,
            8f32.to_radians(),
            imageproc::geometric_transformations::Interpolation::Bilinear,
            image::Luma([40]),
        );
        let turned = Raster { width: w as u32, height: h as u32, pixels: turned.into_raw(), dpi: None, held: None };
        assert!(page_corners(&turned).is_some());
        let flat = flattened(&turned).expect("flattened");
        assert!(
            (780..=830).contains(&flat.width) && (980..=1030).contains(&flat.height),
            "{}x{}",
            flat.width,
            flat.height
        );
        assert!(!sideways(&flat));
    }

    #[test]
    fn a_clean_page_is_left_and_a_speckled_one_cleaned() {
        let clean = page(1200, 1600);
        assert!(isolated_dark_share(&clean) < 0.0001);
        assert!(despeckled(&clean).is_none(), "a clean page is read as it is");
        let mut noisy = page(1200, 1600);
        speckle(&mut noisy, 20); // 5% of pixels salt or pepper
        assert!(isolated_dark_share(&noisy) > SPECKLED, "{}", isolated_dark_share(&noisy));
        let cleaned = despeckled(&noisy).expect("speckled");
        assert!(isolated_dark_share(&cleaned) < SPECKLED / 10.0, "{}", isolated_dark_share(&cleaned));
        // The strokes survive: most of the clean page's ink is still there.
        let ink = |r: &Raster| r.pixels.iter().filter(|&&p| p < DARK).count() as f64;
        assert!(ink(&cleaned) > 0.9 * ink(&clean), "{} of {}", ink(&cleaned), ink(&clean));
    }

    #[test]
    fn a_page_is_evened_only_under_a_shadow_or_with_faint_ink() {
        let clean = page(1200, 1600);
        assert!(evened(&clean).is_none(), "a clean page is read as it is");
        let blank = Raster { width: 300, height: 300, pixels: vec![255; 90_000], dpi: None, held: None };
        assert!(evened(&blank).is_none());
        // Faint ink: strokes at 140 instead of 0.
        let mut faint = page(1200, 1600);
        faint.pixels.iter_mut().for_each(|p| *p = (*p).max(140));
        let fixed = evened(&faint).expect("faint");
        let ink = |r: &Raster| r.pixels.iter().filter(|&&p| p < 64).count();
        assert!(ink(&fixed) >= ink(&clean) * 9 / 10, "the ink is black again");
        // A shadow across the page: the paper from 255 down to 135.
        let mut shaded = page(1200, 1600);
        for (i, p) in shaded.pixels.iter_mut().enumerate() {
            let x = (i % 1200) as f32;
            *p = (*p as f32 * (1.0 - 0.47 * x / 1200.0)) as u8;
        }
        let fixed = evened(&shaded).expect("shaded");
        let paper = |r: &Raster| r.pixels.iter().filter(|&&p| p > 200).count();
        assert!(paper(&fixed) >= paper(&clean) * 95 / 100, "the paper is white again");
    }

    #[test]
    fn a_sideways_page_is_told_from_an_upright_one() {
        let upright = page(1200, 1600);
        assert!(!sideways(&upright));
        for degrees in [90, 270] {
            assert!(sideways(&turned(&upright, degrees)), "{degrees}");
        }
        assert!(!sideways(&turned(&upright, 180)));
        // A page scanned a little crooked is not sideways.
        let img = GrayImage::from_raw(upright.width, upright.height, upright.pixels.clone()).unwrap();
        let crooked = imageproc::geometric_transformations::rotate_about_center(
            &img,
            4f32.to_radians(),
            imageproc::geometric_transformations::Interpolation::Bilinear,
            image::Luma([255]),
        );
        let crooked = Raster { width: 1200, height: 1600, pixels: crooked.into_raw(), dpi: None, held: None };
        assert!(!sideways(&crooked));
        assert!(sideways(&turned(&crooked, 90)));
        let blank = Raster { width: 300, height: 300, pixels: vec![255; 90_000], dpi: None, held: None };
        assert!(!sideways(&blank));
        let back = turned(&turned(&upright, 90), 270);
        assert_eq!(back.pixels, upright.pixels);
    }

    /// A page of text-like lines (dashes of ink), turned counter-clockwise by `degrees`.
    fn lines_turned(degrees: f32) -> Raster {
        use imageproc::geometric_transformations::{rotate_about_center, Interpolation};
        let mut img = GrayImage::from_pixel(1275, 1650, image::Luma([255]));
        for top in (150..1500).step_by(30) {
            for x0 in (120..1100).step_by(70) {
                for y in top..top + 9 {
                    for x in x0..x0 + 55 {
                        img.put_pixel(x, y, image::Luma([0]));
                    }
                }
            }
        }
        // rotate_about_center turns clockwise: counter-clockwise is the negative angle.
        let img = rotate_about_center(&img, -degrees.to_radians(), Interpolation::Bilinear, image::Luma([255]));
        Raster { width: img.width(), height: img.height(), pixels: img.into_raw(), dpi: Some(150), held: None }
    }

    #[test]
    fn a_crooked_page_is_straightened_and_a_straight_one_left() {
        for degrees in [-10.0f32, -4.5, 6.0, 12.0] {
            let page = lines_turned(degrees);
            let found = skew(&page).unwrap_or_else(|| panic!("{degrees} degrees found"));
            assert!((found - degrees).abs() <= 0.3, "{degrees}: {found}");
            let (straight, turned_by) = deskewed(&page).unwrap();
            assert_eq!(turned_by, found);
            assert!(straight.width == page.width && straight.height == page.height, "the page's size kept");
            assert_eq!(skew(&straight), None, "{degrees}: straight after");
        }
        assert_eq!(skew(&lines_turned(0.0)), None);
        assert_eq!(skew(&lines_turned(2.0)), None, "two degrees are left to Tesseract");
        let blank = Raster { width: 600, height: 800, pixels: vec![255; 480_000], dpi: None, held: None };
        assert_eq!(skew(&blank), None);
    }
}
