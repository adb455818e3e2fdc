//! Long text read in passages: what bounds the engine's time by the text's length.
//!
//! Reading a finding looks at what is around it (its line, its clause, the drugs and routes
//! near it), and many of those looks walk the finding's line or the findings before it. On a
//! document's text that is cheap; on a text of megabytes — a text layer written as one line, a
//! scan of hundreds of pages — it grows with the square of the findings (5 MB took 75 s). A text
//! longer than [`PASSAGE_BYTES`] is therefore read passage by passage, each cut where the text
//! itself separates (a page break or blank line, else a line break that ends what it holds,
//! else a sentence's end, else a space), so what is read together is what belongs together.
//! What is the document's (its sections, the patient's identity, a newborn's note, a habit's
//! status) is still read over the whole text.

use std::ops::Range;

/// The longest passage read at once. Documents are read whole: a ten-page discharge summary is
/// ~30 KB of text.
pub const PASSAGE_BYTES: usize = 64 * 1024;

/// `text` cut into passages of at most `max` bytes (at least `max / 2` each, but the last),
/// covering it in order without gaps.
pub fn passages(text: &str, max: usize) -> Vec<Range<usize>> {
    let max = max.max(2);
    let mut out = Vec::with_capacity(text.len() / max + 1);
    let mut at = 0;
    while text.len() - at > max {
        let end = cut(text, at + max / 2, at + max);
        out.push(at..end);
        at = end;
    }
    out.push(at..text.len());
    out
}

/// Where to end a passage within `lo..=hi`: the best boundary, latest first.
fn cut(text: &str, lo: usize, hi: usize) -> usize {
    let b = text.as_bytes();
    let window = lo..hi;
    // A page break, or a blank line: the passage ends after it.
    if let Some(i) = window.clone().rev().find(|&i| b[i] == b'\x0c' || (b[i] == b'\n' && b[i - 1] == b'\n')) {
        return i + 1;
    }
    // A line break that separates what is before it from what follows (not a wrapped sentence).
    // Each is judged on its own line; at most a few lines are judged before a passage is cut.
    let separating =
        window.clone().rev().filter(|&i| b[i] == b'\n').take(64).find(|&i| super::text::line_break_separates(text, i));
    if let Some(i) = separating {
        return i + 1;
    }
    // A sentence's end: a word of three small letters or more, ". ", a capitalised word ("...
    // fever. The"; not "p.o. TID", "Dr. Smith", where an order or a name goes on).
    if let Some(i) = window.clone().rev().find(|&i| {
        i >= 4
            && b[i] == b' '
            && b[i - 1] == b'.'
            && b[i - 4..i - 1].iter().all(u8::is_ascii_lowercase)
            && b.get(i + 1).is_some_and(u8::is_ascii_uppercase)
            && b.get(i + 2).is_some_and(u8::is_ascii_lowercase)
    }) {
        return i + 1;
    }
    if let Some(i) = window.clone().rev().find(|&i| b[i].is_ascii_whitespace()) {
        return i + 1;
    }
    text.floor_char_boundary(hi).max(text.ceil_char_boundary(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, max: usize) -> Vec<&str> {
        let ps = passages(text, max);
        assert_eq!(ps.first().map(|p| p.start), Some(0));
        assert_eq!(ps.last().map(|p| p.end), Some(text.len()));
        for w in ps.windows(2) {
            assert_eq!(w[0].end, w[1].start, "{ps:?}");
        }
        for (i, p) in ps.iter().enumerate() {
            assert!(p.len() <= max, "{p:?} longer than {max}");
            assert!(i + 1 == ps.len() || p.len() >= max / 2, "{p:?} shorter than half of {max}");
        }
        ps.into_iter().map(|p| &text[p]).collect()
    }

    #[test]
    fn a_short_text_is_one_passage() {
        assert_eq!(check("", 100), [""]);
        assert_eq!(check("Denies chest pain.", 100), ["Denies chest pain."]);
    }

    #[test]
    fn passages_end_where_the_text_separates() {
        // A blank line before a line break, a line break before a sentence's end.
        let text = "Past history: asthma.\n\nMedications: albuterol 2 puffs\nprn. Plan: review";
        assert_eq!(
            check(text, 40),
            ["Past history: asthma.\n\n", "Medications: albuterol 2 puffs\n", "prn. Plan: review"]
        );
        // A sentence wrapped across lines is not cut at its wrap while a sentence ends nearby.
        let wrapped = format!(
            "{}\nwith no fever. Then more words follow here",
            "The patient reports chest pain radiating to the left arm"
        );
        let ps = check(&wrapped, 80);
        assert!(ps[0].ends_with("no fever. "), "{ps:?}");
        // Not after an abbreviation, nor before one: an order goes on after "p.o.".
        let order = format!("{} take 1 p.o. TID with food. Then rest", "x".repeat(40));
        assert!(check(&order, 70)[0].ends_with("food. "), "{:?}", check(&order, 70));
        // One line without sentences: cut at a space; one word: at a character.
        let line = "word ".repeat(50);
        assert!(check(&line, 32).iter().all(|p| p.ends_with(' ') || p.is_empty() || line.ends_with(p)));
        let word = "é".repeat(100);
        assert_eq!(check(&word, 33).concat(), word);
    }
}
