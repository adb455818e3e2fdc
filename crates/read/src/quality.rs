//! Is a PDF text layer real text? A phone scanner's own OCR layer can hold hundreds of characters
//! of garbage ("PatientSelnDet,h as adhuittd") that pass any length check; read as it is, it
//! gives nothing, while OCR of the page would read it. Two measures over the layer's words of
//! three letters or more: how many are shaped like words (one case pattern, a vowel, no run of
//! consonants no language has, no punctuation inside), and how many the terminology's own
//! vocabulary knows (`data/terminology/words.tsv`, derived from ICD-10-CM and SNOMED CT names).
//! A layer low on either is replaced by OCR, and the summary says so.

use paperchart_model::document::Line;

/// Below these a layer is not text. Real clinical text measures about 0.9 and 0.6 (lab reports,
/// notes); scanner garbage under 0.6 and 0.3.
const MIN_SHAPED: f32 = 0.7;
const MIN_KNOWN: f32 = 0.35;
/// Too few words to judge: the layer is kept (a page of numbers, a short form).
const MIN_WORDS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Words of three letters or more that were judged.
    pub words: usize,
    /// Share shaped like words.
    pub shaped: f32,
    /// Share the vocabulary knows.
    pub known: f32,
}

impl Quality {
    pub fn is_text(&self) -> bool {
        self.words < MIN_WORDS || (self.shaped >= MIN_SHAPED && self.known >= MIN_KNOWN)
    }
}

/// A token shaped like a word: letters in one case pattern (lower, Capitalised, CAPITALS), a
/// vowel, no five consonants in a row, with at most punctuation around it.
fn shaped(token: &str) -> bool {
    let core = token.trim_matches(|c: char| !c.is_alphanumeric());
    if core.is_empty() || !core.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'') {
        return false;
    }
    // Each part of "follow-up" or "O'Neil" in one case pattern.
    let cased = core.split(['-', '\'']).filter(|p| !p.is_empty()).all(|part| {
        let mut cs = part.chars();
        cs.next();
        cs.clone().all(char::is_lowercase) || part.chars().all(char::is_uppercase)
    });
    if !cased {
        return false;
    }
    let letters: Vec<char> = core.chars().filter(|c| c.is_alphabetic()).collect();
    let vowel = |c: &char| "aeiouyAEIOUY".contains(*c);
    if !letters.iter().any(vowel) {
        return false;
    }
    let mut run = 0;
    for c in &letters {
        run = if vowel(c) { 0 } else { run + 1 };
        if run >= 5 {
            return false;
        }
    }
    true
}

pub fn assess(lines: &[Line]) -> Quality {
    let vocab = paperchart_model::vocabulary::words();
    let (mut words, mut shaped_n, mut known_n) = (0usize, 0usize, 0usize);
    for token in lines.iter().flat_map(|l| l.text.split_whitespace()) {
        let letters = token.chars().filter(|c| c.is_alphabetic()).count();
        if letters < 3 || token.chars().any(|c| c.is_ascii_digit()) {
            continue; // numbers, codes, dates: neither for nor against
        }
        words += 1;
        if shaped(token) {
            shaped_n += 1;
            let core = token.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase();
            if vocab.contains(core.as_str()) {
                known_n += 1;
            }
        }
    }
    let share = |n: usize| if words == 0 { 1.0 } else { n as f32 / words as f32 };
    Quality { words, shaped: share(shaped_n), known: share(known_n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Line> {
        text.lines().map(|l| Line::from_text(l, 100.0)).collect()
    }

    #[test]
    fn real_text_is_text() {
        let note = "DISCHARGE SUMMARY\nThe patient was admitted with chest pain and shortness of breath.\n\
                    History of hypertension and type 2 diabetes mellitus. Denies fever or chills.\n\
                    Medications: lisinopril 10 mg daily, metformin 500 mg twice daily.\n\
                    Follow up with cardiology in two weeks for the abnormal stress test.";
        let q = assess(&lines(note));
        assert!(q.is_text(), "{q:?}");
        assert!(q.shaped > 0.95 && q.known > 0.6, "{q:?}");
        let lab = "Test Result Units Reference Range\nSodium 141 mmol/L 135-145\nPotassium 5.9 mmol/L 3.5-5.1\n\
                   Glucose 182 mg/dL 70-99\nCreatinine 1.4 mg/dL 0.6-1.2\nHemoglobin A1c 8.1 % 4.0-5.6\nCholesterol total 212 mg/dL";
        assert!(assess(&lines(lab)).is_text(), "{:?}", assess(&lines(lab)));
    }

    #[test]
    fn a_scanners_garbage_layer_is_not() {
        let garbage = "PatientSelnDet,h as adhuittd wnrtkq lhe pxtlent rrrhf cAmPlaint\n\
                       oF sHortnes5 brcrthh adn cjest pian ht hsa hx fo hyptrtnsn\n\
                       mdctns lsnprl tkn dly wth fd nd wtr sbjctv rprts xqzt";
        let q = assess(&lines(garbage));
        assert!(!q.is_text(), "{q:?}");
        // Too little to judge: kept.
        assert!(assess(&lines("Xqzt wnrtkq")).is_text());
    }

    #[test]
    fn word_shapes() {
        for good in ["patient", "Patient", "PATIENT", "(chest", "pain,", "follow-up", "O'Neil"] {
            assert!(shaped(good), "{good}");
        }
        for bad in ["SelnDet,h", "cAmPlaint", "wnrtkq", "adh,uit", "brrrrr"] {
            assert!(!shaped(bad), "{bad}");
        }
    }
}
