//! OCR-aware matching: what Tesseract gets wrong in clinical text, repaired before matching and
//! only where the repair gives something the terminology knows.
//!
//! - ICD-10-CM codes whose letter was read as a digit, or digits read as letters: `150.23` for
//!   `I50.23`, `110` for `I10`, `E1l.9` for `E11.9`. A candidate counts only where a code is
//!   expected (the line names ICD, a code, a diagnosis or dx, or the candidate stands in brackets)
//!   and never beside a `/` (a blood pressure).
//! - Drug names one or two letters off (`metfornin`): an unknown word in a medication context
//!   (the Medications section, or a strength right after it) is read as the drug name within a
//!   small edit distance, when exactly one is that close.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// Characters OCR reads for the letter that starts an ICD-10-CM code.
pub(crate) fn letter_for(c: char) -> &'static [char] {
    match c {
        '1' | 'l' | '|' | '!' => &['I'],
        '0' => &['O'],
        '5' => &['S'],
        '8' => &['B'],
        '2' => &['Z'],
        '6' => &['G'],
        _ => &[],
    }
}

/// Characters OCR reads for a digit.
pub(crate) fn digit_for(c: char) -> Option<char> {
    match c {
        'O' | 'o' | 'Q' | 'D' => Some('0'),
        'l' | 'I' | '|' | '!' | 'i' => Some('1'),
        'S' | 's' => Some('5'),
        'B' => Some('8'),
        'Z' | 'z' => Some('2'),
        'G' => Some('6'),
        _ => None,
    }
}

fn candidate_pattern() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| {
        Regex::new(r"(?:^|[^0-9A-Za-z./|!])([0-9A-Za-z|!][0-9A-Za-z|!]{2}(?:\.[0-9A-Za-z|!]{1,4})?)(?:$|[^0-9A-Za-z/])")
            .expect("ICD candidate pattern")
    })
}

fn code_context() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| Regex::new(r"(?i)\b(?:icd|code|codes|diagnos[ie]s|dx)\b").expect("code context pattern"))
}

/// Every spelling `raw` may stand for: the OCR confusions of each position, as an ICD-10-CM code
/// is shaped (a letter, two digits or a digit and a letter, a dot, up to four more).
fn spellings(raw: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for (i, c) in raw.chars().enumerate() {
        let mut options: Vec<char> = Vec::new();
        match i {
            0 => {
                if c.is_ascii_uppercase() && c != 'U' {
                    options.push(c);
                }
                options.extend_from_slice(letter_for(c));
            }
            _ if c == '.' => options.push('.'),
            _ => {
                if c.is_ascii_digit() || (c.is_ascii_uppercase() && i != 1) {
                    options.push(c);
                }
                if let Some(d) = digit_for(c) {
                    options.push(d);
                }
            }
        }
        if options.is_empty() {
            return Vec::new();
        }
        out = out.iter().flat_map(|p| options.iter().map(move |o| format!("{p}{o}"))).collect();
        if out.len() > 64 {
            return Vec::new();
        }
    }
    out
}

/// ICD-10-CM codes misread by OCR: (byte start, byte end, the valid code) for each candidate in
/// `text` that is not a valid code as written and has exactly one valid reading.
pub fn icd_codes(text: &str, valid: impl Fn(&str) -> bool) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for caps in candidate_pattern().captures_iter(text) {
        let m = caps.get(1).expect("group");
        let raw = m.as_str();
        if valid(raw) || !raw.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[m.end()..].find('\n').map_or(text.len(), |i| m.end() + i);
        let bracketed = text[..m.start()].ends_with(['(', '[']) && text[m.end()..].starts_with([')', ']']);
        if !bracketed && !code_context().is_match(&text[line_start..line_end]) {
            continue;
        }
        let mut readings: Vec<String> = spellings(raw).into_iter().filter(|s| s != raw && valid(s)).collect();
        readings.sort();
        readings.dedup();
        if let [only] = &readings[..] {
            out.push((m.start(), m.end(), only.clone()));
        }
    }
    out
}

/// Single-word drug names by first letter and length, for near misses.
#[derive(Debug, Default)]
pub struct DrugWords {
    by_first: HashMap<(u8, usize), Vec<String>>,
}

impl DrugWords {
    pub fn add(&mut self, word: &str) {
        if word.len() >= 6 && word.chars().all(|c| c.is_ascii_lowercase()) {
            let list = self.by_first.entry((word.as_bytes()[0], word.len())).or_default();
            list.push(word.to_string());
        }
    }

    pub fn finish(&mut self) {
        for v in self.by_first.values_mut() {
            v.sort();
            v.dedup();
        }
    }

    /// Is `word` a drug name?
    pub fn contains(&self, word: &str) -> bool {
        !word.is_empty()
            && self
                .by_first
                .get(&(word.as_bytes()[0], word.len()))
                .is_some_and(|v| v.binary_search_by(|w| w.as_str().cmp(word)).is_ok())
    }

    /// The one drug name within the edit distance allowed for `word` (1 up to 8 letters, 2 from
    /// 9), if exactly one is that close and none is closer.
    pub fn nearest(&self, word: &str) -> Option<&str> {
        if word.len() < 6 || !word.chars().all(|c| c.is_ascii_lowercase()) {
            return None;
        }
        let max = if word.len() >= 9 { 2 } else { 1 };
        let first = word.as_bytes()[0];
        let mut best: Option<(usize, &str)> = None;
        let mut tie = false;
        let lengths = word.len() - max..=word.len() + max;
        for cand in lengths.filter_map(|len| self.by_first.get(&(first, len))).flatten() {
            let Some(d) = bounded_distance(word.as_bytes(), cand.as_bytes(), max) else { continue };
            match best {
                Some((bd, _)) if d > bd => {}
                Some((bd, _)) if d == bd => tie = true,
                _ => {
                    best = Some((d, cand));
                    tie = false;
                }
            }
        }
        match best {
            Some((d, c)) if d > 0 && !tie => Some(c),
            _ => None,
        }
    }
}

/// Levenshtein distance of `a` and `b` if it is at most `max`.
fn bounded_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(c: &str) -> bool {
        matches!(c, "I50.23" | "I10" | "E11.9" | "O80" | "R07.9")
    }

    #[test]
    fn icd_codes_misread_by_ocr_are_repaired_where_a_code_is_expected() {
        let text = "Diagnoses: CHF (150.23), HTN ICD-10 110, DM2 code E1l.9\nBP 110/70, Hgb 11.0";
        let found: Vec<String> = icd_codes(text, valid).into_iter().map(|(_, _, c)| c).collect();
        assert_eq!(found, ["I50.23", "I10", "E11.9"]);
        // Without a code context a number stays a number.
        assert!(icd_codes("Weight 150.23 lb", valid).is_empty());
        // Written correctly: nothing to repair.
        assert!(icd_codes("Dx: I10", valid).is_empty());
    }

    #[test]
    fn near_drug_names() {
        let mut w = DrugWords::default();
        for d in ["metformin", "metoprolol", "lisinopril", "atorvastatin", "amlodipine"] {
            w.add(d);
        }
        w.finish();
        assert_eq!(w.nearest("metfornin"), Some("metformin"));
        assert_eq!(w.nearest("lisinoprll"), Some("lisinopril"));
        assert_eq!(w.nearest("metformin"), None, "a known word needs no repair");
        assert_eq!(w.nearest("mettle"), None);
        assert_eq!(bounded_distance(b"kitten", b"sitting", 3), Some(3));
        assert_eq!(bounded_distance(b"kitten", b"sitting", 2), None);
    }
}
