//! The words of the clinical vocabulary (`data/terminology/words.tsv`: the words of ICD-10-CM's and
//! SNOMED CT's names, built by `scripts/data/build_terminology.py`), one table for every stage
//! that asks whether a word is clinical language: the reader (is a PDF text layer real text?) and
//! the NLP (is a capitalised word a name, or a clinical word?).

use std::collections::HashSet;
use std::sync::OnceLock;

const WORDS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/words.tsv"));

/// The vocabulary's words, in lower case.
pub fn words() -> &'static HashSet<&'static str> {
    static V: OnceLock<HashSet<&'static str>> = OnceLock::new();
    V.get_or_init(|| WORDS.lines().skip(1).map(str::trim).filter(|w| !w.is_empty()).collect())
}

/// Is `word` (any case) a word of the clinical vocabulary?
pub fn is_clinical_word(word: &str) -> bool {
    let lower = word.to_lowercase();
    words().contains(lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_clinical_words_in_any_case_and_not_names() {
        assert!(is_clinical_word("hypertension") && is_clinical_word("Diabetes"));
        assert!(!is_clinical_word("Tomasz"));
    }
}
