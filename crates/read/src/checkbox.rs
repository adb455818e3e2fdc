//! Check boxes in a page image. Tesseract reads a drawn box as anything — `L]`, `[J`, `O`, or
//! nothing — and never says whether it is ticked, so a form's answers were lost (or worse, its
//! captions read as findings). Here the page is binarised (Otsu's threshold) and its contours
//! traced (imageproc); a box is a square outline about the height of the text, thin-walled (its
//! hole is most of it), and ticked when ink fills enough of its inside. Each box becomes a word
//! of its line — `[X]` or `[ ]` at its place among the words, the OCR junk it was read as
//! dropped — so the text reads "Asthma Yes [ ] No [X]" as a typed form does, and the same
//! answer reader serves every engine.

use imageproc::contours::{find_contours, BorderType};
use imageproc::contrast::otsu_level;
use paperchart_model::document::{BBox, Line, Word};

use crate::page::Raster;

/// A box's side against the text's height: smaller is a dot or a letter's hole, larger a field.
const MIN_SIDE: f32 = 0.75;
const MAX_SIDE: f32 = 2.6;
/// A box's hole against the box: thin walls. A letter "O" or "D" has a hole of half its box or
/// less.
const MIN_HOLE: f32 = 0.55;
/// Ink inside (walls excluded) that makes a box ticked.
const MIN_FILL: f32 = 0.07;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Page-relative, as word boxes are.
    pub bbox: BBox,
    pub ticked: bool,
}

/// The median height of the words on the page, in pixels.
fn text_height(lines: &[Line], raster_h: f32) -> Option<f32> {
    let mut hs: Vec<f32> = lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
        .filter_map(|w| w.bbox.map(|b| b.height * raster_h))
        .collect();
    if hs.len() < 3 {
        return None;
    }
    hs.sort_by(f32::total_cmp);
    Some(hs[hs.len() / 2])
}

/// The check boxes of a page.
///
/// Tracing every contour of a whole page cost a clean page more than any clean-up step (a
/// 4-byte label per pixel, 34 MB for a letter-size page at 300 dpi). So the page is first
/// looked at shrunk, each block of pixels as dark as its darkest: a box's thin walls survive,
/// the letters of a word run together into one long shape. Only where a shrunk shape could be a
/// box is the page traced at full size, and there the whole test below decides.
pub fn find(raster: &Raster, lines: &[Line]) -> Vec<Mark> {
    find_shrunk(raster, lines, true)
}

fn find_shrunk(raster: &Raster, lines: &[Line], shrink: bool) -> Vec<Mark> {
    let (w, h) = (raster.width, raster.height);
    let Some(text_h) = text_height(lines, h as f32) else { return Vec::new() };
    let Some(gray) = image::GrayImage::from_raw(w, h, raster.pixels.clone()) else { return Vec::new() };
    let level = otsu_level(&gray);
    let words = sure_words(lines);
    // Shrunk so that the smallest box keeps about six pixels a side; a gap of three pixels or
    // more between a box and other ink always keeps a white block.
    let f = if shrink { ((MIN_SIDE * text_h / 6.0).floor() as u32).clamp(1, 3) } else { 1 };
    if f == 1 {
        return boxes_in(&ink(&gray, level, 0, 0, w, h), (0, 0), (w, h), text_h, &words);
    }
    let small = shrunk(&gray, level, f);
    let (lo, hi) = ((MIN_SIDE * text_h / f as f32 - 2.0).max(2.0), MAX_SIDE * text_h / f as f32 + 2.0);
    let mut out: Vec<Mark> = Vec::new();
    for c in find_contours::<i32>(&small).iter().filter(|c| c.border_type == BorderType::Outer) {
        let (x0, y0, x1, y1) = extent(&c.points);
        // Looser than the whole test: a shrunk side is a block longer or shorter than it was.
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        if bw / bh < 0.5 || bh / bw < 0.5 || bw.max(bh) < lo || bw.max(bh) > hi {
            continue;
        }
        // The shape at full size with a margin of white blocks around it.
        let f = f as i32;
        let (cx0, cy0) = (((x0 - 1) * f).max(0) as u32, ((y0 - 1) * f).max(0) as u32);
        let (cx1, cy1) = ((((x1 + 2) * f) as u32).min(w), (((y1 + 2) * f) as u32).min(h));
        let crop = ink(&gray, level, cx0, cy0, cx1 - cx0, cy1 - cy0);
        for m in boxes_in(&crop, (cx0, cy0), (w, h), text_h, &words) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out.sort_by(|a, b| {
        (a.bbox.top, a.bbox.left).partial_cmp(&(b.bbox.top, b.bbox.left)).unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

/// Words OCR read with confidence: a box inside one is a letter's ring ("o" of "to", "D"), not
/// a box. What OCR makes of a box ("L]", "[J", "O") is one letter or read unsure.
fn sure_words(lines: &[Line]) -> Vec<BBox> {
    lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2 && w.confidence >= 70.0)
        .filter_map(|w| w.bbox)
        .collect()
}

/// Ink as foreground (255), what find_contours traces, of a region of the page.
fn ink(gray: &image::GrayImage, level: u8, x0: u32, y0: u32, w: u32, h: u32) -> image::GrayImage {
    image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if gray.get_pixel(x0 + x, y0 + y)[0] <= level { 255 } else { 0 }])
    })
}

/// Ink of the page shrunk `f` times: a block is ink when any of its pixels is.
fn shrunk(gray: &image::GrayImage, level: u8, f: u32) -> image::GrayImage {
    let (w, h) = (gray.width().div_ceil(f), gray.height().div_ceil(f));
    let mut out = image::GrayImage::new(w, h);
    for (y, row) in gray.as_raw().chunks_exact(gray.width() as usize).enumerate() {
        let dst = &mut out.as_mut()[(y as u32 / f * w) as usize..][..w as usize];
        for (x, &p) in row.iter().enumerate() {
            if p <= level {
                dst[x / f as usize] = 255;
            }
        }
    }
    out
}

fn extent(pts: &[imageproc::point::Point<i32>]) -> (i32, i32, i32, i32) {
    let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
    for p in pts {
        (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
    }
    (x0, y0, x1, y1)
}

/// The boxes whose outlines lie wholly inside `ink`, a region of the page at `origin` (page
/// pixels; the page is `page` wide and high).
fn boxes_in(ink: &image::GrayImage, origin: (u32, u32), page: (u32, u32), text_h: f32, words: &[BBox]) -> Vec<Mark> {
    let contours = find_contours::<i32>(ink);
    let bounds = |i: usize| extent(&contours[i].points);
    let (rw, rh) = (ink.width() as i32, ink.height() as i32);
    let (ox, oy) = (origin.0 as f32, origin.1 as f32);
    let mut out = Vec::new();
    for (i, c) in contours.iter().enumerate() {
        if c.border_type != BorderType::Outer {
            continue;
        }
        let (x0, y0, x1, y1) = bounds(i);
        // An outline cut by the region's edge is another region's (or the page's edge).
        if (origin != (0, 0) || (rw, rh) != (page.0 as i32, page.1 as i32))
            && (x0 == 0 || y0 == 0 || x1 == rw - 1 || y1 == rh - 1)
        {
            continue;
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        let side = bw.max(bh);
        if bw / bh < 0.75 || bh / bw < 0.75 || side < MIN_SIDE * text_h || side > MAX_SIDE * text_h || side < 8.0 {
            continue;
        }
        // Straight walls and four corners: the outline keeps to its bounding rectangle and
        // reaches each corner of it (a letter's curve does neither).
        let slack = (side * 0.06).max(1.5) as i32;
        let on_edge = c.points.iter().filter(|p| (p.x - x0).min(x1 - p.x).min(p.y - y0).min(y1 - p.y) <= slack).count();
        let corner = |cx: i32, cy: i32| c.points.iter().any(|p| (p.x - cx).abs() + (p.y - cy).abs() <= 2 * slack);
        if (on_edge as f32) < 0.9 * c.points.len() as f32
            || !(corner(x0, y0) && corner(x1, y0) && corner(x0, y1) && corner(x1, y1))
        {
            continue;
        }
        let bbox = BBox::from_pixels(ox + x0 as f32, oy + y0 as f32, bw, bh, page.0 as f32, page.1 as f32);
        let (cx, cy) = (bbox.left + bbox.width / 2.0, bbox.top + bbox.height / 2.0);
        if words.iter().any(|b| cx > b.left && cx < b.left + b.width && cy > b.top && cy < b.top + b.height) {
            continue;
        }
        // The inside: every hole of the outline together (a tick touching the walls cuts the
        // inside into pieces).
        let holes: Vec<(i32, i32, i32, i32)> = contours
            .iter()
            .enumerate()
            .filter(|(_, h)| h.border_type == BorderType::Hole && h.parent == Some(i))
            .map(|(j, _)| bounds(j))
            .collect();
        if holes.is_empty() {
            continue;
        }
        let (hx0, hy0, hx1, hy1) = holes.iter().fold((i32::MAX, i32::MAX, i32::MIN, i32::MIN), |a, h| {
            (a.0.min(h.0), a.1.min(h.1), a.2.max(h.2), a.3.max(h.3))
        });
        let hole_area = ((hx1 - hx0 + 1) * (hy1 - hy0 + 1)) as f32;
        if hole_area / (bw * bh) < MIN_HOLE {
            continue;
        }
        // Ink in the middle of the inside: a tick crosses it; blur and a scan's shadow of the
        // walls do not reach it.
        let (mx, my) = ((hx1 - hx0) / 5, (hy1 - hy0) / 5);
        let (ix0, iy0, ix1, iy1) = (hx0 + mx.max(1), hy0 + my.max(1), hx1 - mx.max(1), hy1 - my.max(1));
        if ix1 <= ix0 || iy1 <= iy0 {
            continue;
        }
        let mut inked = 0usize;
        for y in iy0..=iy1 {
            for x in ix0..=ix1 {
                inked += usize::from(ink.get_pixel(x as u32, y as u32)[0] > 0);
            }
        }
        let area = ((ix1 - ix0 + 1) * (iy1 - iy0 + 1)) as f32;
        out.push(Mark { bbox, ticked: inked as f32 / area >= MIN_FILL });
    }
    out
}

fn overlap(a: &BBox, b: &BBox) -> f32 {
    let x = ((a.left + a.width).min(b.left + b.width) - a.left.max(b.left)).max(0.0);
    let y = ((a.top + a.height).min(b.top + b.height) - a.top.max(b.top)).max(0.0);
    x * y
}

/// Puts each box into the line on its row as a word (`[X]` or `[ ]`) at its place, dropping the
/// words OCR made of it (no more than two letters, and overlapping the box by half the smaller).
pub fn merge(lines: &mut [Line], marks: &[Mark]) {
    for m in marks {
        let row = |l: &Line| {
            l.bbox.map_or(0.0, |b| {
                let top = b.top.max(m.bbox.top);
                let bottom = (b.top + b.height).min(m.bbox.top + m.bbox.height);
                (bottom - top) / m.bbox.height
            })
        };
        let Some(line) = lines.iter_mut().filter(|l| row(l) > 0.4).max_by(|a, b| row(a).total_cmp(&row(b))) else {
            continue;
        };
        line.words.retain(|w| {
            let Some(b) = w.bbox else { return true };
            let letters = w.text.chars().filter(|c| c.is_alphanumeric()).count();
            let smaller = (b.width * b.height).min(m.bbox.width * m.bbox.height);
            !(letters <= 2 && overlap(&b, &m.bbox) >= 0.5 * smaller)
        });
        let at =
            line.words.iter().position(|w| w.bbox.is_some_and(|b| b.left > m.bbox.left)).unwrap_or(line.words.len());
        let text = if m.ticked { "[X]" } else { "[ ]" };
        line.words.insert(at, Word { text: text.into(), bbox: Some(m.bbox), confidence: 90.0, handwritten: false });
        *line = Line::from_words(std::mem::take(&mut line.words));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with text-height word boxes and drawn boxes: an empty one, a ticked one,
    /// and a thick ring the size of a letter "O" (no box).
    fn page() -> (Raster, Vec<Line>) {
        let (w, h) = (600u32, 200u32);
        let mut px = vec![255u8; (w * h) as usize];
        let mut square = |x0: u32, y0: u32, s: u32, wall: u32, ticked: bool| {
            for y in y0..y0 + s {
                for x in x0..x0 + s {
                    let edge = x < x0 + wall || x >= x0 + s - wall || y < y0 + wall || y >= y0 + s - wall;
                    let (i, j) = (x - x0, y - y0);
                    let cross =
                        ticked && (4..s - 4).contains(&i) && (i.abs_diff(j) <= 1 || (i + j).abs_diff(s - 1) <= 1);
                    if edge || cross {
                        px[(y * w + x) as usize] = 0;
                    }
                }
            }
        };
        square(200, 50, 20, 2, false);
        square(300, 50, 20, 2, true);
        square(400, 50, 20, 6, false);
        let word = |t: &str, x: f32| Word {
            text: t.into(),
            bbox: Some(BBox::from_pixels(x, 50.0, 40.0, 20.0, w as f32, h as f32)),
            confidence: 90.0,
            handwritten: false,
        };
        let line =
            Line::from_words(vec![word("Asthma", 40.0), word("Yes", 140.0), word("L]", 199.0), word("No", 240.0)]);
        (Raster { width: w, height: h, pixels: px, dpi: Some(200), held: None }, vec![line])
    }

    #[test]
    fn boxes_are_found_and_read_into_their_line() {
        let (raster, mut lines) = page();
        let marks = find(&raster, &lines);
        let found: Vec<(u32, bool)> = marks.iter().map(|m| ((m.bbox.left * 600.0).round() as u32, m.ticked)).collect();
        assert_eq!(found, [(200, false), (300, true)], "{marks:?}");
        merge(&mut lines, &marks);
        assert_eq!(lines[0].text, "Asthma Yes [ ] No [X]", "the box OCR read as 'L]' is replaced");
    }

    #[test]
    fn the_shrunk_search_finds_what_the_whole_page_search_finds() {
        // Boxes of several sizes and walls, ticked and not, one 3 px from a word's ink, one
        // touching a rule (no box), letters' rings, at text 24 to 48 px high.
        for scale in [1u32, 2] {
            let (w, h) = (900 * scale, 300 * scale);
            let mut px = vec![255u8; (w * h) as usize];
            fn rect(px: &mut [u8], w: u32, x0: u32, y0: u32, x1: u32, y1: u32) {
                for y in y0..y1 {
                    for x in x0..x1 {
                        px[(y * w + x) as usize] = 0;
                    }
                }
            }
            let s = scale;
            let square = |px: &mut [u8], x0: u32, y0: u32, side: u32, wall: u32, tick: bool| {
                rect(px, w, x0, y0, x0 + side, y0 + wall);
                rect(px, w, x0, y0 + side - wall, x0 + side, y0 + side);
                rect(px, w, x0, y0, x0 + wall, y0 + side);
                rect(px, w, x0 + side - wall, y0, x0 + side, y0 + side);
                if tick {
                    rect(px, w, x0 + side / 3, y0 + side / 3, x0 + 2 * side / 3, y0 + 2 * side / 3);
                }
            };
            square(&mut px, 100 * s, 40 * s, 22 * s, 2 * s, false);
            square(&mut px, 200 * s, 40 * s, 22 * s, 2 * s, true);
            square(&mut px, 300 * s, 40 * s, 30 * s, s, false);
            square(&mut px, 400 * s, 40 * s, 22 * s, 7 * s, false);
            square(&mut px, 500 * s, 40 * s, 22 * s, 2 * s, true);
            rect(&mut px, w, 500 * s + 22 * s + 3, 45 * s, 560 * s, 58 * s); // a word 3 px after the box
            square(&mut px, 600 * s, 40 * s, 22 * s, 2 * s, false);
            rect(&mut px, w, 600 * s, 40 * s + 22 * s, 700 * s, 40 * s + 24 * s); // a rule under it
            square(&mut px, 100 * s, 150 * s, 40 * s, 3 * s, true);
            square(&mut px, 250 * s, 150 * s, 18 * s, 2 * s, false);
            let word = |x: f32| Word {
                text: "word".into(),
                bbox: Some(BBox::from_pixels(x, 20.0 * s as f32, 40.0, 24.0 * s as f32, w as f32, h as f32)),
                confidence: 90.0,
                handwritten: false,
            };
            let lines = vec![Line::from_words(vec![word(10.0), word(700.0 * s as f32), word(800.0 * s as f32)])];
            let raster = Raster { width: w, height: h, pixels: px, dpi: Some(300), held: None };
            let whole = find_shrunk(&raster, &lines, false);
            let mut shrunk = find_shrunk(&raster, &lines, true);
            let mut whole_sorted = whole.clone();
            let key = |m: &Mark| ((m.bbox.top * 1e4) as i64, (m.bbox.left * 1e4) as i64);
            whole_sorted.sort_by_key(key);
            shrunk.sort_by_key(key);
            assert!(whole.len() >= 6, "scale {scale}: {whole:?}");
            assert_eq!(shrunk, whole_sorted, "scale {scale}");
        }
    }
}
