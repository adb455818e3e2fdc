//! Longest-match dictionary lookup over normalised tokens.
//!
//! Terms are stored in a token trie: every token is interned to a number and an edge is a
//! `(node, token)` key in one hash map, so a lookup costs one probe per token and the table stays
//! compact for the ~120,000 terms of the built-in terminology. Short upper-case abbreviations
//! (`HTN`, `PE`, `MI`) only match text written in upper case, since their lower-case forms are
//! ordinary words.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::text::{fold, term_tokens, tokenize, Token};

/// The multiply-rotate hash of rustc ("FxHash"): these keys are small integers and short words
/// from our own tables, so SipHash's flooding resistance buys nothing and costs a third of the
/// start-up time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What a matched term stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConceptKind {
    Condition,
    Procedure,
    Drug,
    Substance,
    Lab,
    Route,
    DocType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Terminal {
    concept: u32,
    kind: ConceptKind,
    /// Index into `exact` when the term must match case-sensitively.
    exact: Option<u32>,
}

/// A term found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub concept: u32,
    pub kind: ConceptKind,
    /// Index of the first and one past the last token of the match.
    pub first_token: usize,
    pub last_token: usize,
}

#[derive(Default)]
pub struct Lexicon {
    vocab: FastMap<String, u32>,
    edges: FastMap<(u32, u32), u32>,
    terminals: FastMap<u32, Vec<Terminal>>,
    exact: Vec<Vec<String>>,
    nodes: u32,
}

/// Upper-case abbreviations up to this many letters match case-sensitively.
const CASE_SENSITIVE_MAX: usize = 5;

impl Lexicon {
    pub fn new() -> Lexicon {
        Lexicon { nodes: 1, ..Default::default() }
    }

    fn intern(&mut self, tok: &str) -> u32 {
        if let Some(&id) = self.vocab.get(tok) {
            return id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.insert(tok.to_string(), id);
        id
    }

    fn child(&mut self, node: u32, token: u32) -> u32 {
        if let Some(&n) = self.edges.get(&(node, token)) {
            return n;
        }
        let n = self.nodes;
        self.nodes += 1;
        self.edges.insert((node, token), n);
        n
    }

    fn add_terminal(&mut self, node: u32, terminal: Terminal) {
        let list = self.terminals.entry(node).or_default();
        if !list.contains(&terminal) {
            list.push(terminal);
        }
    }

    /// Adds a term already split into normalised tokens (see [`term_tokens`]), matched
    /// case-insensitively. Returns false when there are no tokens.
    pub fn insert_tokens(&mut self, tokens: &[String], kind: ConceptKind, concept: u32) -> bool {
        if tokens.is_empty() {
            return false;
        }
        let mut node = 0u32;
        for t in tokens {
            let id = self.intern(t);
            node = self.child(node, id);
        }
        self.add_terminal(node, Terminal { concept, kind, exact: None });
        true
    }

    /// The interned id of a normalised word, if any term has it.
    pub fn id_of(&self, word: &str) -> Option<u32> {
        self.vocab.get(word).copied()
    }

    /// Is `tokens` already a term of `kind`?
    pub fn has_kind(&self, tokens: &[String], kind: ConceptKind) -> bool {
        let mut node = 0u32;
        for t in tokens {
            let Some(&id) = self.vocab.get(t) else { return false };
            let Some(&n) = self.edges.get(&(node, id)) else { return false };
            node = n;
        }
        self.terminals.get(&node).is_some_and(|ts| ts.iter().any(|t| t.kind == kind))
    }

    /// Adds `term` for `concept`. Returns false when the term has no tokens.
    pub fn insert(&mut self, term: &str, kind: ConceptKind, concept: u32) -> bool {
        let toks = tokenize(term);
        if toks.is_empty() {
            return false;
        }
        let letters: Vec<char> = term.chars().filter(|c| c.is_alphabetic()).collect();
        // "HTN", "PE" and element symbols such as "Mg" or "Na" are words only as written: "mg"
        // is a unit and "pe" nothing.
        let abbreviation = !letters.is_empty()
            && ((letters.len() <= CASE_SENSITIVE_MAX && letters.iter().all(|c| c.is_uppercase()))
                || (letters.len() <= 3 && letters[0].is_uppercase() && !term.contains(' ')));
        if !abbreviation {
            return self.insert_tokens(&term_tokens(term), kind, concept);
        }
        let mut node = 0u32;
        for t in &toks {
            let id = self.intern(&fold(t.text(term)));
            node = self.child(node, id);
        }
        self.exact.push(toks.iter().map(|t| t.text(term).to_string()).collect());
        let exact = Some(self.exact.len() as u32 - 1);
        self.add_terminal(node, Terminal { concept, kind, exact });
        true
    }

    pub fn term_count(&self) -> usize {
        self.terminals.values().map(Vec::len).sum()
    }

    /// Looks up the interned ids of `tokens` of `text`; unknown tokens get `u32::MAX`.
    pub fn ids(&self, text: &str, tokens: &[Token]) -> Vec<u32> {
        let mut buf = String::new();
        tokens
            .iter()
            .map(|t| {
                let word = super::text::fold_into(t.text(text), &mut buf);
                match self.vocab.get(word) {
                    Some(&id) => id,
                    // A plural the terms do not hold ("UTIs", "stones"): the singular's id.
                    None if word.len() >= 4 && word.ends_with('s') => {
                        self.vocab.get(&word[..word.len() - 1]).copied().unwrap_or(u32::MAX)
                    }
                    None => u32::MAX,
                }
            })
            .collect()
    }

    /// Every longest match starting at each token, left to right without overlaps, keeping only
    /// kinds that `want` accepts. A longer term always wins over a shorter one at the same place.
    pub fn find(&self, text: &str, tokens: &[Token], ids: &[u32], want: impl Fn(ConceptKind) -> bool) -> Vec<Hit> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut best: Option<(usize, Vec<Terminal>)> = None;
            let mut node = 0u32;
            let mut j = i;
            while j < tokens.len() {
                // A plural the terms hold as a word of another term ("muscle spasms", where
                // "spasms" is a word of "infantile spasms"): the singular's edge when the
                // plural has none here. Only inside a term: a first word is taken as written
                // ("C. acnes" is no acne, "ST depressions" no depression).
                let Some(&next) = self.edges.get(&(node, ids[j])).or_else(|| {
                    let raw = tokens[j].text(text);
                    if node == 0 || !raw.ends_with(['s', 'S']) {
                        return None;
                    }
                    let word = super::text::fold(raw);
                    let one = word.strip_suffix('s').filter(|w| w.len() >= 3 && !w.ends_with('s'))?;
                    self.edges.get(&(node, *self.vocab.get(one)?))
                }) else {
                    break;
                };
                // A term may run across a wrapped line, not across a line break that separates
                // (a heading is not part of the next line).
                if j > i {
                    let gap = tokens[j - 1].end..tokens[j].start;
                    if let Some(nl) = text[gap.clone()].find('\n') {
                        if !super::text::term_may_cross(text, gap.start + nl) {
                            break;
                        }
                    }
                }
                node = next;
                j += 1;
                if let Some(terms) = self.terminals.get(&node) {
                    let ok: Vec<Terminal> = terms
                        .iter()
                        .filter(|t| want(t.kind))
                        .filter(|t| match t.exact {
                            None => true,
                            Some(e) => {
                                self.exact[e as usize].iter().zip(&tokens[i..j]).all(|(w, tok)| {
                                    let t = tok.text(text);
                                    // "UTIs" is the plural of "UTI"; "Uti" is not "UTI".
                                    t == w || t.strip_suffix('s') == Some(w.as_str())
                                })
                            }
                        })
                        .copied()
                        .collect();
                    if !ok.is_empty() {
                        best = Some((j, ok));
                    }
                }
            }
            match best {
                Some((end, terms)) => {
                    for t in terms {
                        out.push(Hit {
                            start: tokens[i].start,
                            end: tokens[end - 1].end,
                            concept: t.concept,
                            kind: t.kind,
                            first_token: i,
                            last_token: end,
                        });
                    }
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        let mut l = Lexicon::new();
        l.insert("diabetes mellitus", ConceptKind::Condition, 1);
        l.insert("type 2 diabetes mellitus", ConceptKind::Condition, 2);
        l.insert("HTN", ConceptKind::Condition, 3);
        l.insert("chest pain", ConceptKind::Condition, 4);
        l.insert("metformin", ConceptKind::Drug, 5);
        l.insert("Alzheimer's disease", ConceptKind::Condition, 6);
        l
    }

    fn find(l: &Lexicon, s: &str) -> Vec<(String, u32)> {
        let toks = tokenize(s);
        let ids = l.ids(s, &toks);
        l.find(s, &toks, &ids, |_| true).iter().map(|h| (s[h.start..h.end].to_string(), h.concept)).collect()
    }

    #[test]
    fn longest_match_wins() {
        let l = lex();
        assert_eq!(
            find(&l, "Type 2 Diabetes Mellitus, on metformin"),
            [("Type 2 Diabetes Mellitus".to_string(), 2), ("metformin".to_string(), 5)]
        );
        assert_eq!(find(&l, "diabetes mellitus type 2"), [("diabetes mellitus".to_string(), 1)]);
    }

    #[test]
    fn plurals_match_their_singular() {
        let mut l = lex();
        l.insert("kidney stone", ConceptKind::Condition, 7);
        l.insert("UTI", ConceptKind::Condition, 8);
        assert_eq!(
            find(&l, "Kidney stones and recurrent UTIs"),
            [("Kidney stones".to_string(), 7), ("UTIs".to_string(), 8)]
        );
        assert!(find(&l, "utis").is_empty(), "an abbreviation's plural keeps its case");
        // The plural is itself a word of another term: the singular's path still matches.
        l.insert("infantile spasms", ConceptKind::Condition, 9);
        l.insert("muscle spasm", ConceptKind::Condition, 10);
        assert_eq!(find(&l, "muscle spasms"), [("muscle spasms".to_string(), 10)]);
        l.insert("acne", ConceptKind::Condition, 11);
        l.insert("acnes bacteria", ConceptKind::Condition, 12);
        assert!(find(&l, "grew C. acnes").is_empty(), "a first word is taken as written");
    }

    #[test]
    fn abbreviations_are_case_sensitive() {
        let mut l = lex();
        assert_eq!(find(&l, "h/o HTN"), [("HTN".to_string(), 3)]);
        assert!(find(&l, "the htn word").is_empty());
        l.insert("Mg", ConceptKind::Lab, 7);
        assert_eq!(find(&l, "Mg 2.0"), [("Mg".to_string(), 7)]);
        assert!(find(&l, "20 mg tablet").is_empty());
    }

    #[test]
    fn punctuation_and_case_do_not_matter_but_lines_do() {
        let l = lex();
        assert_eq!(find(&l, "ALZHEIMER'S DISEASE"), [("ALZHEIMER'S DISEASE".to_string(), 6)]);
        assert_eq!(find(&l, "chest-pain"), [("chest-pain".to_string(), 4)]);
        assert!(find(&l, "chest\npain").is_empty(), "a short line is a list entry");
        let wrapped = "The patient, who came in this morning, reported crushing chest\npain at rest.";
        assert_eq!(find(&l, wrapped), [("chest\npain".to_string(), 4)]);
    }

    #[test]
    fn filters_by_kind() {
        let l = lex();
        let s = "metformin for HTN";
        let toks = tokenize(s);
        let ids = l.ids(s, &toks);
        let hits = l.find(s, &toks, &ids, |k| k == ConceptKind::Drug);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].concept, 5);
    }
}
