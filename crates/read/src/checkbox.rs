//! Check boxes in a page image. Tesseract reads a drawn box as anything — `L]`, `[J`, `O`, or
//! nothing — and never says whether it is ticked, so a form's answers were lost (or worse, its
//! captions read as findings). Here the page is binarised (Otsu's threshold) and its contours
//! traced (imageproc); a box is a square outline about the height of the text, thin-walled (its
//! hole is most of it), and ticked when ink fills enough of its inside. Each box becomes a word
//! of its line — `[X]` or `[ ]` at its place among the words, the OCR junk it was read as
//! dropped — so the text reads "Asthma Yes [ ] No [X]" as a typed form does, and the same
//! answer reader serves every engine.

use imageproc::contours::{find_contours, BorderType};
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
/// box is the page traced at full size, and there the whole test below decides. A box whose
/// walls ran into other ink when shrunk (a label a few pixels off, a rule under it, the next box
/// of a comb) is no box-shaped shape any more, but its inside is still a hole of a box's size:
/// such holes are traced at full size too, with room around them for the walls.
pub fn find(raster: &Raster, lines: &[Line]) -> Vec<Mark> {
    find_shrunk(raster, lines, true)
}

fn find_shrunk(raster: &Raster, lines: &[Line], shrink: bool) -> Vec<Mark> {
    let (w, h) = (raster.width, raster.height);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let Some(text_h) = text_height(lines, h as f32) else { return Vec::new() };
    if raster.pixels.len() != w as usize * h as usize {
        return Vec::new();
    }
    // The page as it is, not a copy (a copy was 1.3% of a clean page's time, mostly the kernel
    // handing out fresh memory).
    let gray = Gray { px: &raster.pixels, w };
    let level = otsu_level(&raster.pixels);
    let words = sure_words(lines);
    // Shrunk so that the smallest box keeps about six blocks a side.
    let f = if shrink { ((MIN_SIDE * text_h / 6.0).floor() as u32).clamp(1, 3) } else { 1 };
    if f == 1 {
        return boxes_in(&ink(&gray, level, 0, 0, w, h), (0, 0), (w, h), text_h, &words);
    }
    let small = shrunk(&gray, level, f);
    let fs = f as f32;
    // Looser than the whole test: a shrunk side is a block longer or shorter than it was, and
    // a hole loses up to a block on each side to the walls' blocks.
    let hi = MAX_SIDE * text_h / fs + 2.0;
    let lo = (MIN_SIDE * text_h / fs - 2.0).max(2.0);
    let hole_lo = (MIN_HOLE.sqrt() * MIN_SIDE * text_h / fs - 2.0).max(1.0);
    let boxy = |(x0, y0, x1, y1): (i32, i32, i32, i32), lo: f32| {
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        bw / bh >= 0.5 && bh / bw >= 0.5 && bw.max(bh) >= lo && bw.max(bh) <= hi
    };
    // Walls are at most (1 - sqrt(MIN_HOLE)) / 2 of the largest box's side.
    let walls = ((1.0 - MIN_HOLE.sqrt()) / 2.0 * MAX_SIDE * text_h / fs).ceil() as i32 + 1;
    let contours = find_contours::<i32>(&small);
    let mut out: Vec<Mark> = Vec::new();
    for c in &contours {
        let e = extent(&c.points);
        let margin = match c.border_type {
            BorderType::Outer if boxy(e, lo) => 1,
            BorderType::Hole
                if boxy(e, hole_lo) && !c.parent.is_some_and(|p| boxy(extent(&contours[p].points), lo)) =>
            {
                walls
            }
            _ => continue,
        };
        // The shape at full size with a margin of blocks around it.
        let (f, (x0, y0, x1, y1)) = (f as i32, e);
        let (cx0, cy0) = (((x0 - margin) * f).max(0) as u32, ((y0 - margin) * f).max(0) as u32);
        let (cx1, cy1) = ((((x1 + 1 + margin) * f) as u32).min(w), (((y1 + 1 + margin) * f) as u32).min(h));
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

/// A page's grey pixels, rows packed, `w` wide.
struct Gray<'a> {
    px: &'a [u8],
    w: u32,
}

impl Gray<'_> {
    fn at(&self, x: u32, y: u32) -> u8 {
        self.px[y as usize * self.w as usize + x as usize]
    }
}

/// Otsu's threshold of grey pixels: the level that splits them into two classes of the largest
/// variance between them (imageproc's `otsu_level`, on a slice rather than an image it owns).
fn otsu_level(px: &[u8]) -> u8 {
    let hist = crate::cleanup::histogram(px);
    let total = px.len() as u64;
    let sum: f64 = hist.iter().enumerate().map(|(t, &n)| t as f64 * n as f64).sum();
    let (mut below, mut below_sum, mut best, mut level) = (0u64, 0f64, 0f64, 0u8);
    for (t, &n) in hist.iter().enumerate() {
        below += n;
        if below == 0 {
            continue;
        }
        let above = total - below;
        if above == 0 {
            break;
        }
        below_sum += t as f64 * n as f64;
        let diff = below_sum / below as f64 - (sum - below_sum) / above as f64;
        let between = below as f64 * above as f64 * diff * diff;
        if between > best {
            (best, level) = (between, t as u8);
        }
    }
    level
}

/// Ink as foreground (255), what find_contours traces, of a region of the page.
fn ink(gray: &Gray, level: u8, x0: u32, y0: u32, w: u32, h: u32) -> image::GrayImage {
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([if gray.at(x0 + x, y0 + y) <= level { 255 } else { 0 }]))
}

/// Ink of the page shrunk `f` times: a block is ink when any of its pixels is.
fn shrunk(gray: &Gray, level: u8, f: u32) -> image::GrayImage {
    let (w, h) = (gray.w.div_ceil(f), (gray.px.len() as u32 / gray.w).div_ceil(f));
    let mut out = image::GrayImage::new(w, h);
    for (y, row) in gray.px.chunks_exact(gray.w as usize).enumerate() {
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
    let (left, top) = (origin.0 as i32, origin.1 as i32);
    let mut out = Vec::new();
    for (i, c) in contours.iter().enumerate() {
        if c.border_type != BorderType::Outer {
            continue;
        }
        let (x0, y0, x1, y1) = bounds(i);
        // An outline cut by the region's edge (not the page's) is another region's.
        if (x0 == 0 && left > 0)
            || (y0 == 0 && top > 0)
            || (x1 == rw - 1 && left + rw < page.0 as i32)
            || (y1 == rh - 1 && top + rh < page.1 as i32)
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
        let bbox = BBox::from_pixels((left + x0) as f32, (top + y0) as f32, bw, bh, page.0 as f32, page.1 as f32);
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
    fn otsu_on_a_slice_is_imageprocs() {
        let mut seed = 7u64;
        for n in [1usize, 2, 100, 5000] {
            let px: Vec<u8> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let v = (seed >> 56) as u8;
                    if v.is_multiple_of(3) {
                        v / 4
                    } else {
                        200 + v / 5
                    }
                })
                .collect();
            let img = image::GrayImage::from_raw(n as u32, 1, px.clone()).unwrap();
            assert_eq!(otsu_level(&px), imageproc::contrast::otsu_level(&img), "{n} pixels");
        }
    }

    #[test]
    fn the_shrunk_search_finds_what_the_whole_page_search_finds() {
        // Boxes of several sizes and walls, ticked and not; labels 1 to 4 px after a box, a rule
        // under one, a comb of boxes 2 px apart, a box at the page's edge, letters' rings; text
        // 20 px high (shrunk by 2) and 30 (by 3), each drawing shifted by 0 to 2 px against the
        // blocks, on pages of odd sizes.
        fn rect(px: &mut [u8], w: u32, x0: u32, y0: u32, x1: u32, y1: u32) {
            for y in y0..y1 {
                for x in x0..x1 {
                    px[(y * w + x) as usize] = 0;
                }
            }
        }
        fn square(px: &mut [u8], w: u32, x0: u32, y0: u32, side: u32, wall: u32, tick: bool) {
            rect(px, w, x0, y0, x0 + side, y0 + wall);
            rect(px, w, x0, y0 + side - wall, x0 + side, y0 + side);
            rect(px, w, x0, y0, x0 + wall, y0 + side);
            rect(px, w, x0 + side - wall, y0, x0 + side, y0 + side);
            if tick {
                rect(px, w, x0 + side / 3, y0 + side / 3, x0 + 2 * side / 3, y0 + 2 * side / 3);
            }
        }
        for text in [20u32, 30] {
            for shift in 0..3u32 {
                let (w, h) = (40 * text + 7, 12 * text + 5);
                let mut px = vec![255u8; (w * h) as usize];
                let (side, wall) = (text, (text / 10).max(2));
                let row = |i: u32| 2 * text + shift + i * 2 * text;
                let mut x = 3 * text + shift;
                // A box with a label `gap` px after it, for each gap; one ticked.
                for (i, gap) in [1u32, 2, 3, 4].into_iter().enumerate() {
                    square(&mut px, w, x, row(0), side, wall, i == 1);
                    rect(&mut px, w, x + side + gap, row(0) + wall, x + side + gap + 2 * text, row(0) + side - wall);
                    x += 4 * text;
                }
                // A box on a rule, a comb, a thick ring (no box), a box against the left edge.
                square(&mut px, w, 3 * text + shift, row(1), side, wall, false);
                rect(&mut px, w, 3 * text + shift, row(1) + side, 8 * text, row(1) + side + 2);
                for k in 0..4 {
                    square(&mut px, w, 10 * text + shift + k * (side + 2), row(1), side, wall, k == 2);
                }
                square(&mut px, w, 20 * text + shift, row(1), side, side / 3, false);
                square(&mut px, w, 1, row(2), side, wall, true); // a pixel from the edge
                square(&mut px, w, 5 * text + shift, row(2), side * 2, wall, false);
                let word = |x: f32| Word {
                    text: "word".into(),
                    bbox: Some(BBox::from_pixels(x, 2.0, 2.0 * text as f32, text as f32, w as f32, h as f32)),
                    confidence: 90.0,
                    handwritten: false,
                };
                let lines = vec![Line::from_words(vec![word(1.0), word(30.0 * text as f32), word(35.0 * text as f32)])];
                let raster = Raster { width: w, height: h, pixels: px, dpi: Some(300), held: None };
                let mut whole = find_shrunk(&raster, &lines, false);
                let shrunk = find_shrunk(&raster, &lines, true);
                let key = |m: &Mark| ((m.bbox.top * 1e5) as i64, (m.bbox.left * 1e5) as i64);
                whole.sort_by_key(key);
                assert!(whole.len() >= 10, "text {text} shift {shift}: the whole search finds the boxes: {whole:?}");
                assert_eq!(shrunk, whole, "text {text} shift {shift}");
            }
        }
    }
}
