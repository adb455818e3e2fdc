//! The built-in engine: every NLP stage in one pass over the text.

use std::sync::OnceLock;

use regex::Regex;

use super::context::{Assertor, Target};
use super::lexicon::{ConceptKind, Hit};
use super::sections::{section_at, sections, Section, SectionKind};
use super::terminology::{RxQuery, Terminology};
use super::text::{fold, tokenize, Token};
use super::{checkboxes, classify, forms, gates, measure, meds, phi, repair};
use super::{Assertion, Attrs, Code, Entity, EntityType, NlpEngine, NlpOutput, Subtype, SYSTEM_SNOMED};
use crate::Settings;

pub struct Builtin {
    term: Terminology,
    assertor: Assertor,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
#[error("loading {path}: {source}")]
pub struct LoadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

impl Builtin {
    /// "Intravenous infusion of epoprostenol", "subcutaneous injection of insulin": how a drug was
    /// given, not a procedure of its own. The procedure goes; the drug gets the route.
    fn administrations_are_routes(&self, text: &str, entities: &mut Vec<Entity>) {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(r"(?i)^(intravenous|iv|subcutaneous|sc|intramuscular|im|intrathecal|epidural|intra-arterial|intravitreal)\s+(?:continuous\s+)?(?:infusions?|injections?|bolus|administration)$")
                .expect("administration")
        });
        let mut found: Vec<(usize, usize, String)> = Vec::new();
        for (i, p) in entities.iter().enumerate().filter(|(_, e)| e.kind == EntityType::Procedure) {
            let Some(c) = re.captures(&p.text) else { continue };
            let after = &text[p.end..];
            let gap = after.len() - after.trim_start().len();
            let rest = after.trim_start();
            let Some(joiner) = ["of ", "with "].iter().find(|j| rest.to_lowercase().starts_with(*j)) else { continue };
            let drug_at = p.end + gap + joiner.len();
            let Some(m) = entities.iter().position(|e| e.kind == EntityType::Medication && e.start == drug_at) else {
                continue;
            };
            // The route's word as the route lexicon (curated/routes.tsv) knows it: "IV" is
            // intravenous, "intrathecal" intrathecal. Before "infusion" or "injection" an "iv"
            // in lower case is the abbreviation too.
            let word = c.get(1).expect("group").as_str();
            let word = if word.len() <= 3 { word.to_uppercase() } else { word.to_string() };
            if self.route_named(&word).is_some() {
                found.push((i, m, word));
            }
        }
        for (_, m, word) in &found {
            let Some(route) = self.route_named(word) else { continue };
            let med = &mut entities[*m];
            if med.attrs.route.is_none() {
                med.attrs.route = route.unit.clone();
                med.attrs.route_code = route.codes.iter().find(|c| c.system == SYSTEM_SNOMED).cloned();
            }
        }
        for i in found.into_iter().map(|(i, _, _)| i).rev() {
            entities.remove(i);
        }
    }

    /// The engine over the built-in terminology, plus the release files the configuration names.
    pub fn new(cfg: &Settings) -> Result<Builtin, LoadError> {
        let started = std::time::Instant::now();
        let mut term = Terminology::builtin();
        if !cfg.rxnorm_rrf.is_empty() {
            let path = std::path::Path::new(&cfg.rxnorm_rrf);
            term.load_rxnconso(path).map_err(|source| LoadError { path: cfg.rxnorm_rrf.clone(), source })?;
        }
        if !cfg.loinc_csv.is_empty() {
            let path = std::path::Path::new(&cfg.loinc_csv);
            term.load_loinc_csv(path).map_err(|source| LoadError { path: cfg.loinc_csv.clone(), source })?;
        }
        tracing::info!(
            millis = started.elapsed().as_millis() as u64,
            terms = term.lexicon.term_count(),
            concepts = term.concepts.len(),
            "terminology loaded"
        );
        Ok(Builtin { term, assertor: Assertor::new() })
    }

    /// Reads a short made-up note once, so that the patterns every reading needs (compiled on
    /// first use) are compiled before the first document: a worker is ready when it is warm,
    /// and the first document costs what the others do. Returns how many findings it made.
    pub fn warm(&self) -> usize {
        use paperchart_model::document::{Document, Line, Page, ReadBy};
        let lines = WARM_NOTE.lines().map(|l| Line::from_text(l, 95.0)).collect();
        let page = Page {
            number: 1,
            read_by: ReadBy::Textract,
            lines,
            key_values: Vec::new(),
            tables: Vec::new(),
            text_layer_rejected: false,
            prepared: Vec::new(),
        };
        let document = Document { pages: vec![page], missing_pages: Vec::new(), warnings: Vec::new() };
        self.analyze_document(&document, &document.text()).entities.len()
    }

    /// The route the route lexicon (curated/routes.tsv) knows by exactly this word ("IV",
    /// "intrathecal").
    fn route_named(&self, word: &str) -> Option<&super::terminology::Concept> {
        self.term.named(word, ConceptKind::Route)
    }

    pub fn terminology(&self) -> &Terminology {
        &self.term
    }

    fn section_of(&self, secs: &[Section], offset: usize) -> (Option<SectionKind>, usize) {
        match section_at(secs, offset) {
            Some(s) => (Some(s.kind), s.body_start),
            None => (None, 0),
        }
    }
}

struct Patterns {
    icd: Regex,
    /// A strength right after a word: "500 mg".
    strength_next: Regex,
    nkda: Regex,
    allergic_to: Regex,
    /// "1 and 1/2", "one and a half": a number, whose "and" coordinates nothing.
    mixed_number: Regex,
    /// What a drug named in a condition is followed by: "-induced", "-associated".
    caused_by: Regex,
    /// An amount in brackets: "(48 mg/kg)", "(2 g)".
    bracketed_amount: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        icd: Regex::new(r"\b([A-TV-Z][0-9][0-9AB](?:\.[0-9A-TV-Z]{1,4})?)\b").expect("icd pattern"),
        strength_next: Regex::new(r"(?i)^\s{0,3}\d+(?:\.\d+)?\s?(?:mg|mcg|g|ml|units?|meq)\b").expect("strength pattern"),
        nkda: Regex::new(r"(?i)\b(NKDA|NKA|no\s+known\s+drug\s+allergies|no\s+known\s+allergies|no\s+known\s+medication\s+allergies)\b").expect("nkda pattern"),
        allergic_to: Regex::new(r"(?i)\b(?:allergic|allergy|allergies|sensitivity|intolerant|intolerance)\s+(?:to|:)\s*$").expect("allergy pattern"),
        mixed_number: Regex::new(r"(?i)\b(?:\d+\s+and\s+\d/\d|(?:one|two|three)\s+and\s+a\s+half)\b").expect("mixed number"),
        caused_by: Regex::new(r"(?i)^[- ](?:induced|associated|provoked)\b").expect("caused by"),
        bracketed_amount: Regex::new(r"(?i)\(\s*[\d.]+\s*(?:mg|g|mcg|ug|µg|ml|mg/kg|mg/m2|units?|iu|tablets?|capsules?)?\s*\)")
            .expect("bracketed amount"),
    })
}

fn line_bounds(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    (start, end)
}

fn overlaps(a: &Entity, start: usize, end: usize) -> bool {
    a.start < end && start < a.end
}

impl Builtin {
    fn new_entity(
        &self,
        kind: EntityType,
        subtype: Option<Subtype>,
        text: &str,
        start: usize,
        end: usize,
        codes: Vec<Code>,
    ) -> Entity {
        Entity {
            kind,
            subtype,
            start,
            end,
            text: text[start..end].to_string(),
            codes,
            assertion: Assertion::Present,
            attrs: Attrs::default(),
            confidence: None,
            section: None,
        }
    }

    /// Is the hit written as an allergen: under Allergies, or right after "allergic to"?
    fn allergy_context(&self, text: &str, hit: &Hit, section: Option<SectionKind>) -> bool {
        if section == Some(SectionKind::Allergies) {
            return true;
        }
        let (ls, _) = line_bounds(text, hit.start);
        let before = &text[ls..hit.start];
        let tail_start = before.len().saturating_sub(40);
        let tail_start = (tail_start..before.len()).find(|&i| before.is_char_boundary(i)).unwrap_or(before.len());
        patterns().allergic_to.is_match(&before[tail_start..])
    }

    fn medication(&self, text: &str, hit: &Hit, hits: &[Hit], idx: usize) -> Entity {
        let concept = &self.term.concepts[hit.concept as usize];
        let (_, mut line_end) = line_bounds(text, hit.end);
        // An order wrapped after its drug name ("lisinopril\n10 mg daily") continues on the next line.
        if text[hit.end..line_end].trim().is_empty() && line_end < text.len() {
            line_end = line_bounds(text, line_end + 1).1;
        }
        // So does one wrapped inside ("... with warfarin 2.5" / "mg daily"): up to two more
        // lines, where the text reads as wrapped (a short list line, "furosemide 40 mg" /
        // "weigh yourself daily", is not). The next drug still ends the order.
        for _ in 0..2 {
            if line_end >= text.len() || super::text::line_break_separates(text, line_end) {
                break;
            }
            line_end = line_bounds(text, line_end + 1).1;
        }
        // A product named in full ("Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral
        // Tablet") is one mention, whatever drug names it holds; its order follows the name.
        let full = self.full_product_name(text, hit, line_end);
        let (name_start, name_end) = full.as_ref().map_or((hit.start, hit.end), |f| (f.1, f.2));
        let next_drug = hits[idx + 1..]
            .iter()
            .find(|h| h.kind == ConceptKind::Drug && h.start >= name_end)
            .map_or(line_end, |h| h.start);
        let mut end_of_order = line_end.min(next_drug).max(name_end);
        if let Some(semi) = text[name_end..end_of_order].find(';') {
            end_of_order = name_end + semi;
        }
        let rest = &text[name_end..end_of_order];
        let order = meds::parse_order(rest);
        // What the clause says of the order ("discontinued", "held"), never across another drug.
        let (c0, c1) = super::context::clause(text, name_start, name_end);
        let prev_drug = hits[..idx].iter().rev().find(|h| h.kind == ConceptKind::Drug && h.end <= name_start);
        let from = prev_drug.map_or(c0, |h| h.end.max(c0));
        let status = meds::order_status(
            &text[from..name_start],
            &text[name_end..c1.min(next_drug).max(name_end)],
            next_drug < c1,
        );
        // In prose the dose and frequency may come first ("after 15 mg meloxicam daily",
        // "twice-a-day application of X"), read only where no other drug shares the clause.
        let before = if prev_drug.is_none_or(|h| h.end <= c0) {
            meds::order_before(&text[from..name_start])
        } else {
            meds::Order::default()
        };
        let route = route_of(text, hits, name_start, name_end, end_of_order)
            .map(|h| &self.term.concepts[h.concept as usize])
            // A lower-case sig route, unless a coordination stands between ("40 mg daily, then
            // 80 mg iv bid": the route is the second order's).
            .or_else(|| {
                let (w, at) = order.sig_route.as_ref()?;
                let gap = text.get(name_end..name_end + at)?.to_lowercase();
                let coordinated = gap.contains([',', ';'])
                    || gap
                        .split_whitespace()
                        .any(|w| matches!(w, "and" | "or" | "then" | "with" | "plus" | "followed"));
                if coordinated {
                    return None;
                }
                self.route_named(w)
            });
        let generic = concept.generic.clone().unwrap_or_else(|| concept.label.to_lowercase());
        let mention = text[hit.start..hit.end].to_lowercase();
        let route_name = route.and_then(|r| r.unit.clone());
        // "Metoprolol succinate": a salt named after the generic is the product's; "Toprol XL",
        // "Metoprolol succinate ER": a release named in the name is the product's.
        let salt = mention
            .strip_prefix(generic.as_str())
            .and_then(|rest| rest.split_whitespace().next())
            .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_alphabetic()) && !meds::says_extended(w));
        let mut query = RxQuery {
            generic: &generic,
            brand: (mention != generic && salt.is_none()).then_some(mention.as_str()),
            strength: order.strength.clone(),
            extended: order.extended || meds::says_extended(&mention),
            salt,
            delayed: order.delayed,
            route: route_name.as_deref(),
        };
        let mut rx = full.map(|f| f.0).or_else(|| self.term.rxnorm.lookup(&query));
        if rx.is_none() && query.brand.is_some() {
            query.brand = None;
            rx = self.term.rxnorm.lookup(&query);
        }
        let mut e = self.new_entity(EntityType::Medication, None, text, name_start, name_end, rx.into_iter().collect());
        let after_dose = order.dose.is_some() || order.strength.is_some();
        let (dose, dose_quantity, dose_range) = if after_dose || before.dose.is_none() {
            (
                order.dose.or_else(|| order.strength.as_ref().map(|(v, u)| format!("{v} {u}"))),
                order.dose_quantity,
                order.dose_range,
            )
        } else {
            (before.dose, before.dose_quantity, None)
        };
        let timing = order.frequency.or(before.frequency);
        let continuous = (order.continuous || before.continuous).then(|| "continuous".to_string());
        e.attrs = Attrs {
            strength: order.strength_text,
            dose,
            dose_quantity,
            dose_range,
            route: route_name,
            route_code: route.and_then(|r| r.codes.iter().find(|c| c.system == SYSTEM_SNOMED).cloned()),
            frequency: timing.as_ref().map(|f| f.text.clone()).or(continuous),
            timing,
            prn: order.prn,
            duration: order.duration.or_else(|| meds::duration_before(&text[from..name_start])),
            status: status.map(str::to_string),
            ..Attrs::default()
        };
        e
    }

    /// A condition named for the drug that caused it ("heparin-induced thrombocytopenia",
    /// "lithium-associated diabetes insipidus") also says the patient took that drug: a medication
    /// mention of its own, inside the condition's words, with status `unknown` (taken; whether still
    /// taken is not said): gives their spans, which [`NlpEngine::analyze`] keeps only where context
    /// makes the condition the patient's.
    /// A condition with a word before it that makes it a disease of its own ("gestational
    /// diabetes", "intracranial hypertension", "pre-diabetes"): the finding takes the word, and
    /// the code of the words together where the terminology knows them ("prediabetes",
    /// "subacute thyroiditis"), else none — the plain finding's code ("diabetes" → type 2, E11.9;
    /// "hypertension" → essential, I10) would be a wrong fact. A word the terminology pairs with
    /// the finding ("optic neuropathy", "lymphocytic leukemia") changes nothing where the
    /// finding's ICD-10-CM code is its unspecified one ("Leukemia, unspecified"). "anti-anxiety"
    /// is no finding at all. Returns where the finding starts and its codes.
    fn kind_written_before(&self, text: &str, start: usize, end: usize, codes: &[Code]) -> Option<(usize, Vec<Code>)> {
        let head = super::text::term_tokens(&text[start..end]).into_iter().next().unwrap_or_default();
        match gates::kind_before(text, start, &head, |w, h| self.term.names_a_kind(w, h)) {
            None => Some((start, codes.to_vec())),
            Some(gates::KindBefore::Prefix { from, prefix }) => {
                let closed = format!("{}{}", text[from..start].trim_end_matches('-'), &text[start..end]);
                match self.term.named(&closed, ConceptKind::Condition) {
                    Some(c) => Some((from, c.codes.clone())),
                    // "anti-anxiety properties": no finding at all.
                    None if prefix == "anti" => None,
                    None => Some((from, Vec::new())),
                }
            }
            Some(gates::KindBefore::Always { from }) => Some((from, Vec::new())),
            Some(gates::KindBefore::Paired { from }) => {
                let icd = codes.iter().find(|c| c.system == super::SYSTEM_ICD10CM);
                if icd.is_some_and(|c| super::terminology::names_more_than(&c.display, &text[start..end])) {
                    Some((from, Vec::new()))
                } else {
                    Some((start, codes.to_vec()))
                }
            }
        }
    }

    fn drugs_that_caused(
        &self,
        text: &str,
        tokens: &[Token],
        ids: &[u32],
        entities: &mut Vec<Entity>,
    ) -> Vec<(usize, usize)> {
        let conditions: Vec<(usize, usize)> =
            entities.iter().filter(|e| e.kind == EntityType::Condition).map(|e| (e.start, e.end)).collect();
        let mut spans = Vec::new();
        if conditions.is_empty() {
            return spans;
        }
        let drugs = self.term.lexicon.find(text, tokens, ids, |k| k == ConceptKind::Drug);
        for (idx, d) in drugs.iter().enumerate() {
            let inside = conditions.iter().any(|&(s, e)| s <= d.start && d.end < e);
            if !inside || !patterns().caused_by.is_match(&text[d.end..]) {
                continue;
            }
            // "non-insulin-…" says the drug is not taken (a few bytes before the drug).
            let near = &text[text.floor_char_boundary(d.start.saturating_sub(8))..d.start];
            if !near.to_lowercase().trim_end_matches(['-', ' ']).ends_with("non") {
                let mut m = self.medication(text, d, &drugs, idx);
                // Taken, but whether still taken the words do not say ("heparin-induced
                // thrombocytopenia" stops heparin; "steroid-induced hyperglycemia" may not).
                m.attrs = Attrs { status: Some("unknown".into()), ..Attrs::default() };
                spans.push((m.start, m.end));
                entities.push(m);
            }
        }
        spans
    }

    /// An unknown word where a drug is expected (under Medications, or before a strength) that
    /// is one or two letters off exactly one drug name is read as that name ("metfornin").
    fn repair_drug_names(&self, text: &str, secs: &[Section], tokens: &[super::text::Token], ids: &mut [u32]) {
        for (i, t) in tokens.iter().enumerate() {
            if ids[i] != u32::MAX || t.end - t.start < 6 {
                continue;
            }
            // Under Medications, a drug name starts its entry: the first word of the line.
            let (line_start, _) = line_bounds(text, t.start);
            let first_on_line = !text[line_start..t.start].chars().any(char::is_alphanumeric);
            let in_meds =
                first_on_line && section_at(secs, t.start).is_some_and(|s| s.kind == SectionKind::Medications);
            if !in_meds && !patterns().strength_next.is_match(&text[t.end..]) {
                continue;
            }
            let mut word = fold(t.text(text));
            // OCR's digits for letters inside a word: "lisinopri1", "amlodipine" read "aml0dipine".
            let mut direct = None;
            if word.bytes().any(|b| b.is_ascii_digit()) && word.bytes().any(|b| b.is_ascii_alphabetic()) {
                word = word.replace('0', "o").replace('1', "l");
                direct = self.term.drug_words.contains(&word).then(|| self.term.lexicon.id_of(&word)).flatten();
            }
            let near = || self.term.drug_words.nearest(&word).and_then(|w| self.term.lexicon.id_of(w));
            if let Some(id) = direct.or_else(near) {
                ids[i] = id;
            }
        }
    }

    /// An order written as RxNorm names the product ("24 HR Metformin hydrochloride 500 MG Extended
    /// Release Oral Tablet [Glumetza]"): the longest run of words around the drug name, starting
    /// at the line's first word or at most three words before it, that is a whole product name.
    /// Gives the code and the byte span of the name.
    fn full_product_name(&self, text: &str, hit: &Hit, line_end: usize) -> Option<(Code, usize, usize)> {
        // A product's name is a few words: only the words within REACH bytes of the drug are
        // read, however long the line (a text layer may be one line of megabytes).
        const REACH: usize = 512;
        let (line_start, _) = line_bounds(text, hit.start);
        let line_end = line_end.max(hit.end);
        let lo = if hit.start - line_start <= REACH { line_start } else { text.floor_char_boundary(hit.start - REACH) };
        let hi = if line_end - hit.end <= REACH { line_end } else { text.floor_char_boundary(hit.end + REACH) };
        let line = &text[lo..hi];
        let mut toks = tokenize(line);
        // A word cut by the window is not a word of the name.
        if lo > line_start && text[..lo].ends_with(char::is_alphanumeric) && toks.first().is_some_and(|t| t.start == 0)
        {
            toks.remove(0);
        }
        if hi < line_end
            && text[hi..].starts_with(char::is_alphanumeric)
            && toks.last().is_some_and(|t| t.end == line.len())
        {
            toks.pop();
        }
        let words: Vec<String> = toks.iter().map(|t| fold(t.text(line))).collect();
        let at = toks.iter().position(|t| lo + t.start >= hit.start)?;
        // From the start of the line (a list entry: "NDA020800 0.3 ML Epinephrine 1 MG/ML
        // Auto-Injector") or up to three words before the drug name; the name holds the drug.
        let line_first = lo == line_start;
        let mut starts =
            line_first.then_some(0).into_iter().chain(at.saturating_sub(3).max(usize::from(line_first))..=at);
        starts.find_map(|from| {
            let (code, n) = self.term.rxnorm.longest_full_name(&words[from..], at + 1 - from)?;
            // A branded name ends at its closing bracket.
            let mut end = lo + toks[from + n - 1].end;
            if text[end..].starts_with(']') {
                end += 1;
            }
            Some((code.clone(), lo + toks[from].start, end))
        })
    }

    fn allergy(&self, text: &str, hit: &Hit, group: &[&Hit]) -> Entity {
        let mut codes: Vec<Code> = Vec::new();
        for h in group {
            let c = &self.term.concepts[h.concept as usize];
            match h.kind {
                ConceptKind::Substance => codes.extend(c.codes.iter().cloned()),
                ConceptKind::Drug => {
                    let generic = c.generic.clone().unwrap_or_default();
                    codes.extend(self.term.rxnorm.lookup(&RxQuery { generic: &generic, ..Default::default() }));
                }
                _ => {}
            }
        }
        codes.sort_by(|a, b| a.system.cmp(&b.system).then(a.code.cmp(&b.code)));
        codes.dedup_by(|a, b| a.system == b.system && a.code == b.code);
        // "Sulfamethoxazole / Trimethoprim": one allergen, named as RxNorm names the combination.
        let (_, line_end) = line_bounds(text, hit.end);
        let (mut start, mut end) = (hit.start, hit.end);
        if group.iter().any(|h| h.kind == ConceptKind::Drug) {
            if let Some((code, s, e)) = self.full_product_name(text, hit, line_end) {
                codes.retain(|c| c.system != super::SYSTEM_RXNORM);
                codes.push(code);
                (start, end) = (s, e);
            }
        }
        let mut e = self.new_entity(EntityType::Allergy, None, text, start, end, codes);
        // The reaction: a condition named after the allergen on the same line, before the next one.
        let rest = &text[hit.end..line_end];
        let stop = rest.find([',', ';']).unwrap_or(rest.len());
        let rest = &rest[..stop];
        let toks = tokenize(rest);
        let ids = self.term.lexicon.ids(rest, &toks);
        if let Some(r) = self.term.lexicon.find(rest, &toks, &ids, |k| k == ConceptKind::Condition).first() {
            let c = &self.term.concepts[r.concept as usize];
            e.attrs.reaction = Some(rest[r.start..r.end].to_string());
            e.attrs.reaction_code = c.codes.iter().find(|c| c.system == SYSTEM_SNOMED).cloned();
        }
        e
    }
}

/// What a passage is read with that belongs to the whole document (see [`super::passages`]),
/// in the passage's own offsets.
struct Passage {
    /// Where the passage starts in the document's text.
    at: usize,
    secs: Vec<Section>,
    /// The passage's PHI findings.
    phi: Vec<Entity>,
    newborn: bool,
}

/// The made-up note [`Builtin::warm`] reads: a header, PHI, a fax line and a notice, sections,
/// medications, vitals, a result, negation, family history and check boxes.
const WARM_NOTE: &str = "\
DEC-01-2026 10:15 FROM: CLINIC FAX 555-0100 TO: RECORDS P.001/001
DISCHARGE SUMMARY
Patient: DOE, JANE   DOB: 01/02/1960   MRN: 123-456   Phone: (555) 555-0100
Attending: Dr. John Smith, MD
CHIEF COMPLAINT: Chest pain.
HISTORY OF PRESENT ILLNESS: History of hypertension, status post appendectomy. Denies fever,
cough or shortness of breath. Mother had breast cancer. Rule out pneumonia.
MEDICATIONS: Metformin 500 mg tablet by mouth twice daily. Lisinopril 10 mg PO daily.
Albuterol 2 puffs inhaled q4-6h PRN. Aspirin 81 mg daily, discontinued.
ALLERGIES: Penicillin (rash).
VITAL SIGNS: BP 128/82 mmHg, HR 72 /min, RR 16 /min, Temp 98.6 F, SpO2 97 %, Weight 70 kg.
LABS: Hemoglobin A1c 6.9 % (H), Glucose 110 mg/dL.
[x] Diabetes  [ ] Asthma
ASSESSMENT AND PLAN: Type 2 diabetes mellitus. Influenza vaccine given.
This message is confidential and intended only for the named recipient.";

impl NlpEngine for Builtin {
    /// The document's sections and kind are read over the whole text; its findings and PHI
    /// passage by passage ([`super::passages`]), so the time grows with the text's length. The
    /// patient is the first passage's that names one (a long text is read in order: the one a
    /// record is about comes first), never parts of several.
    ///
    /// A fax machine's transmission lines ([`super::fax`]) and legal notices ([`super::notice`])
    /// are read for PHI only: the rest of the reading sees them blanked.
    fn analyze(&self, original: &str) -> NlpOutput {
        let fax_lines = super::fax::transmission_lines(original);
        let notices = super::notice::spans(original);
        let blanked = super::notice::blank(&super::fax::blank(original, &fax_lines), &notices);
        let text = blanked.as_str();
        let secs = sections(text);
        let newborn = super::family::newborn_note(text);
        let mut entities: Vec<Entity> = Vec::new();
        let mut phi_entities: Vec<Entity> = Vec::new();
        let mut demographics: Option<super::Demographics> = None;
        let mut document = super::DocumentFacts::default();
        let names_someone = |d: &super::Demographics| d.family.is_some() || d.mrn.is_some() || d.birth_date.is_some();
        for range in super::passages::passages(text, super::passages::PASSAGE_BYTES) {
            let part = &text[range.clone()];
            let (phi, demo, facts) = phi::extract(part);
            if demographics.as_ref().is_none_or(|d| !names_someone(d) && names_someone(&demo)) {
                demographics = Some(demo);
            }
            document.date = document.date.or(facts.date);
            let passage = Passage { at: range.start, secs: super::sections::within(&secs, &range), phi, newborn };
            let found = self.read_passage(part, &passage, &mut document);
            let shift = |mut e: Entity| {
                e.start += range.start;
                e.end += range.start;
                e
            };
            entities.extend(found.into_iter().map(shift));
            phi_entities.extend(passage.phi.into_iter().map(shift));
        }
        let demographics = demographics.unwrap_or_default();
        phi_entities.extend(super::fax::phi(original, &fax_lines));
        phi_entities.extend(notices.iter().flat_map(|&span| phi::extract_at(original, span)));
        document.fax = super::fax::facts(&fax_lines, super::fax::cover_sheet_pages(original));
        super::social::one_status_per_habit(&mut entities);
        super::confidence::score(&mut entities);
        entities.extend(phi_entities);
        entities.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.kind.cmp(&b.kind)));
        NlpOutput { entities, demographics, document, ..NlpOutput::default() }
    }

    /// The document's class first ([`classify`]): it decides what is read. Then the text, then
    /// the engine's form fields (Textract KEY_VALUE_SET, or those [`paperchart_model::layout`]
    /// found in the word boxes): each `key: value` read as a labelled field fills what the text left
    /// out of the patient's demographics. Last, the class's own reading ([`forms`]) narrows and adds.
    fn analyze_document(&self, document: &paperchart_model::document::Document, text: &str) -> NlpOutput {
        let class = classify::classify(text, Some(document));
        let mut out = self.analyze(text);
        for page in &document.pages {
            fill_from_fields(page, &mut out.demographics);
        }
        // Results printed as tables, read by column: they replace what the inline reading made
        // of the same row.
        for r in super::columns::read(document, text, &self.term) {
            out.entities.retain(|e| !(e.kind == EntityType::Test && overlaps(e, r.start, r.end)));
            out.entities.push(r);
        }
        out.entities.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.kind.cmp(&b.kind)));
        forms::read(class, text, document, &self.term, &mut out);
        out.answers = checkboxes::answers(document, text);
        checkboxes::apply(&out.answers, &mut out.entities);
        out.document.class = class;
        super::confidence::score(&mut out.entities);
        super::confidence::weigh_by_ocr(&mut out.entities, document);
        out
    }

    fn assertion(&self, text: &str, start: usize, end: usize) -> Assertion {
        if let Some(answer) = gates::question_answer(text, end) {
            return answer;
        }
        let secs = sections(text);
        let (section, floor) = self.section_of(&secs, start);
        self.assertor.assert(text, start, end, section, floor, Target::Finding)
    }
}

impl Builtin {
    /// The findings of one passage (the whole text, unless it is long), in its own offsets.
    fn read_passage(&self, text: &str, passage: &Passage, document: &mut super::DocumentFacts) -> Vec<Entity> {
        let secs = &passage.secs;
        let phi_entities = &passage.phi;
        let tokens = tokenize(text);
        let mut ids = self.term.lexicon.ids(text, &tokens);
        self.repair_drug_names(text, secs, &tokens, &mut ids);
        let hits = self.term.lexicon.find(text, &tokens, &ids, |_| true);
        let vitals = measure::vitals(text, &self.term);
        let mut entities: Vec<Entity> = Vec::new();
        let p = patterns();
        for m in p.nkda.find_iter(text) {
            let drug =
                !m.as_str().eq_ignore_ascii_case("nka") && !m.as_str().to_lowercase().ends_with("known allergies");
            let code = if drug { "409137002" } else { "716186003" };
            let mut e = self.new_entity(
                EntityType::Allergy,
                None,
                text,
                m.start(),
                m.end(),
                self.term.snomed_code(code).into_iter().collect(),
            );
            e.section = self.section_of(secs, m.start()).0;
            entities.push(e);
        }
        entities.extend(vitals);

        // Hits at the same place with several kinds form one group.
        let mut i = 0;
        while i < hits.len() {
            let mut j = i + 1;
            while j < hits.len() && hits[j].start == hits[i].start && hits[j].end == hits[i].end {
                j += 1;
            }
            let group: Vec<&Hit> = hits[i..j].iter().collect();
            let hit = group[0];
            let (start, end) = (hit.start, hit.end);
            // Words of a section heading ("Chief Complaint:", "History of Present Illness:") name
            // the section, not a finding.
            let in_heading = section_at(secs, start).is_some_and(|s| start < s.body_start);
            let taken = in_heading
                || entities.iter().any(|e| overlaps(e, start, end))
                || phi_entities.iter().any(|e| e.subtype == Some(Subtype::Name) && overlaps(e, start, end));
            let (section, _) = self.section_of(secs, start);
            let has = |k: ConceptKind| group.iter().find(|h| h.kind == k).copied();
            // A title ("DISCHARGE SUMMARY", "Medication List") near the top says what the document is,
            // even when it doubles as a section heading.
            if let Some(doc) = has(ConceptKind::DocType) {
                if passage.at == 0 && document.doc_type.is_none() && text[..start].matches('\n').count() < 6 {
                    document.doc_type = self.term.concepts[doc.concept as usize].codes.first().cloned();
                }
                i = j;
                continue;
            }
            if taken {
                i = j;
                continue;
            }
            let drug = has(ConceptKind::Drug);
            // A drug measured in the blood ("everolimus trough 6 ng/mL") is a lab only with a
            // unit of measurement: "everolimus 0.75 mg" is a dose.
            let lab = has(ConceptKind::Lab)
                .and_then(|h| measure::lab_result(text, h.end, &self.term).map(|r| (h, r)))
                .filter(|(h, (value_end, a))| {
                    let measured = text[h.end..*value_end].to_lowercase();
                    drug.is_none()
                        || a.unit.as_deref().is_some_and(|u| super::units::dose(u).is_none_or(|d| d.rxnorm.is_none()))
                        || ["level", "trough", "concentration", "peak"].iter().any(|w| measured.contains(w))
                });
            let substance = has(ConceptKind::Substance);
            let entity = if let Some((h, (value_end, attrs))) = lab {
                let c = &self.term.concepts[h.concept as usize];
                let vital = c.codes.first().is_some_and(|code| self.term.is_vital(&code.code));
                let subtype = if vital { Subtype::Vital } else { Subtype::Lab };
                let mut e = self.new_entity(EntityType::Test, Some(subtype), text, start, value_end, c.codes.clone());
                e.attrs = attrs;
                Some(e)
            } else if drug.is_some_and(|d| self.term.dosed_only.contains(&d.concept))
                && !gates::dose_follows(text, end)
                && !(self.allergy_context(text, hit, section) && gates::listed_alone(text, end))
            {
                // "ASA class II", "ASA: II" (on an allergy list too), "INH inhaler": an
                // abbreviation with another reading is its drug only where a dose follows ("ASA 81
                // mg") or, among allergies, where it stands alone in the list ("Allergies: ASA,
                // PCN").
                None
            } else if (drug.is_some() || substance.is_some()) && self.allergy_context(text, hit, section) {
                Some(self.allergy(text, hit, &group))
            } else if drug.is_some()
                && (gates::screen_result_follows(text, end) || gates::describing_compound_follows(text, end))
            {
                // "Opiates  Negative": a drug screen's result; "opioid-naive", "vitamin
                // D-deficient": words that describe the patient. Neither is a medication.
                None
            } else if drug.is_some() && section == Some(SectionKind::SocialHistory) {
                // "Drinks alcohol", "smokes tobacco": substance use, not medication.
                None
            } else if let Some(d) = drug {
                let idx = i + group.iter().position(|h| std::ptr::eq(*h, d)).unwrap_or(0);
                Some(self.medication(text, d, &hits, idx))
            } else if section == Some(SectionKind::Allergies) {
                // Conditions under Allergies are reactions, read with their allergen.
                None
            } else if let Some(c) = has(ConceptKind::Condition) {
                let concept = &self.term.concepts[c.concept as usize];
                // An external cause ("accident", "shot") says how an injury happened, not what the
                // patient has: never a condition from a word.
                let icd = concept.codes.iter().filter(|c| c.system == super::SYSTEM_ICD10CM).map(|c| c.code.as_str());
                // "Influenza vaccine", "tetanus shot": what the patient was protected against.
                if gates::external_cause_only(icd) || gates::vaccine_follows(text, start, end) {
                    None
                } else {
                    self.kind_written_before(text, start, end, &concept.codes).map(|(from, codes)| {
                        // "Juvenile" read as a finding of its own is the first word of this one.
                        entities.retain(|e| !(e.kind == EntityType::Condition && e.start >= from && e.end <= start));
                        self.new_entity(EntityType::Condition, None, text, from, end, codes)
                    })
                }
            } else if let Some(c) = has(ConceptKind::Procedure) {
                let concept = &self.term.concepts[c.concept as usize];
                Some(self.new_entity(EntityType::Procedure, None, text, start, end, concept.codes.clone()))
            } else {
                None
            };
            if let Some(mut e) = entity {
                e.section = section;
                entities.push(e);
            }
            i = j;
        }

        let caused = self.drugs_that_caused(text, &tokens, &ids, &mut entities);
        same_drug_in_brackets(text, &mut entities);

        // ICD-10-CM codes written in the text: they refine the condition on their line, or stand
        // for a condition of their own.
        // Codes as written, then codes OCR misread ("150.23" for "I50.23"), each checked against
        // ICD-10-CM.
        // Never inside a phone number, a date, an amount or a postal code; a code of its own (not
        // refining a condition on its line) only where codes are written.
        let written = p.icd.captures_iter(text).filter_map(|m| {
            let g = m.get(1).expect("group");
            self.term.icd_code(g.as_str()).map(|c| (g.start(), g.end(), c))
        });
        let repaired = repair::icd_codes(text, |c| self.term.icd10.contains_key(c))
            .into_iter()
            .filter_map(|(s, e, code)| self.term.icd_code(&code).map(|c| (s, e, c)));
        let codes_in_text: Vec<(usize, usize, Code)> = written.chain(repaired).collect();
        let not_codes = gates::not_codes(text);
        for (g_start, g_end, code) in codes_in_text {
            if entities.iter().any(|e| overlaps(e, g_start, g_end))
                || phi_entities.iter().any(|e| overlaps(e, g_start, g_end))
                || not_codes.iter().any(|&(s, e)| s < g_end && g_start < e)
            {
                continue;
            }
            let (ls, le) = line_bounds(text, g_start);
            let on_line = entities
                .iter_mut()
                .filter(|e| e.kind == EntityType::Condition && e.start >= ls && e.end <= le && e.end <= g_start)
                .last();
            match on_line {
                Some(e) => {
                    e.codes.retain(|c| c.system != super::SYSTEM_ICD10CM);
                    e.codes.insert(0, code);
                }
                None if !gates::code_context_near(text, g_start) => {}
                None => {
                    let mut e = self.new_entity(EntityType::Condition, None, text, g_start, g_end, vec![code]);
                    e.section = self.section_of(secs, g_start).0;
                    entities.push(e);
                }
            }
        }

        // Findings are not triggers: "no" in "concussion with no loss of consciousness" says
        // nothing of the next problem in the list. Context is read with every finding blanked
        // out (byte for byte, so offsets hold).
        let masked = mask(text, entities.iter().map(|e| (e.start, e.end)), b' ');
        // For a drug, the other findings stay words ("x…"), so that a negation of them ("no
        // bleeding on warfarin") is seen not to reach it; other drugs and procedures stay blank
        // ("no aspirin or clopidogrel").
        let is_finding = |k: EntityType| !matches!(k, EntityType::Medication | EntityType::Procedure);
        let for_drugs = mask(
            &mask(text, entities.iter().filter(|e| is_finding(e.kind)).map(|e| (e.start, e.end)), b'x'),
            entities.iter().filter(|e| !is_finding(e.kind)).map(|e| (e.start, e.end)),
            b' ',
        );
        for e in entities.iter_mut() {
            let is_nkda =
                e.kind == EntityType::Allergy && e.codes.iter().any(|c| c.code == "409137002" || c.code == "716186003");
            if !is_nkda {
                let (section, floor) = self.section_of(secs, e.start);
                e.assertion = if e.kind == EntityType::Medication {
                    self.assertor.assert(&for_drugs, e.start, e.end, section, floor, Target::Drug)
                } else {
                    self.assertor.assert(&masked, e.start, e.end, section, floor, Target::Finding)
                };
            }
        }
        // A drug named in a condition is a fact only where the condition is the patient's: "no
        // heparin-induced thrombocytopenia" says nothing of heparin.
        entities.retain(|e| {
            e.kind != EntityType::Medication
                || !caused.contains(&(e.start, e.end))
                || matches!(e.assertion, Assertion::Present | Assertion::Historical)
        });
        self.apply_gates(text, &mut entities);
        self.administrations_are_routes(text, &mut entities);
        if passage.newborn {
            for e in entities.iter_mut().filter(|e| e.kind == EntityType::Condition && e.assertion != Assertion::Absent)
            {
                if super::family::mothers_in_newborn_note(text, e.start, e.end) {
                    e.assertion = Assertion::Family;
                    e.attrs.relative = super::family::mother();
                }
            }
        }
        for e in entities.iter_mut().filter(|e| {
            e.kind == EntityType::Condition && e.assertion == Assertion::Family && e.attrs.relative.is_none()
        }) {
            e.attrs.relative = super::family::relative_of(text, e.start, e.end);
        }
        super::social::screen(text, &mut entities);
        entities
    }

    /// What [`gates`] says of each finding: a field label, an identity caption or the words of an
    /// institution's name ("Heart Failure Clinic") is no finding;
    /// a finding inside a question takes the answer written after it.
    fn apply_gates(&self, text: &str, entities: &mut Vec<Entity>) {
        let gated = |k: EntityType| matches!(k, EntityType::Condition | EntityType::Procedure | EntityType::Allergy);
        // A drug named in a clinic's name ("Coumadin Clinic") is still one the patient is
        // likely on: medications are not gated by it.
        entities.retain(|e| !(gated(e.kind) && gates::in_institution_name(text, e.start, e.end)));
        entities.retain(|e| {
            !(gated(e.kind)
                && (gates::is_field_label(text, e.end)
                    || gates::in_identity_header(text, e.start, e.end)
                    || gates::in_demographic_value(text, e.start)))
        });
        for e in entities.iter_mut().filter(|e| gated(e.kind) || e.kind == EntityType::Medication) {
            // "Yes" keeps what the words around say (a prior stroke stays historical, a mother's
            // diabetes family) unless they withheld it; "No" refutes; no answer withholds.
            match gates::question_answer(text, e.end) {
                Some(Assertion::Present)
                    if !matches!(e.assertion, Assertion::Absent | Assertion::Hypothetical | Assertion::Possible) => {}
                Some(answer) => e.assertion = answer,
                None => {}
            }
        }
    }
}

/// Fills the patient from a page's form fields (the engine's key/value pairs, or those the layout
/// found): identity parts from fields above the first block about someone else, and contact
/// details only from fields at or below the patient's own identity fields and above that block
/// (a letterhead's phone is the clinic's, an emergency contact's is theirs).
fn fill_from_fields(page: &paperchart_model::document::Page, demo: &mut super::Demographics) {
    let top = |b: Option<paperchart_model::document::BBox>| b.map(|b| b.top);
    let others = page
        .lines
        .iter()
        .filter(|l| phi::is_other_party_heading(&l.text))
        .filter_map(|l| top(l.bbox))
        .fold(f32::INFINITY, f32::min);
    let ours = |kv: &paperchart_model::document::KeyValue| top(kv.key.bbox).is_none_or(|t| t < others);
    // A sex field whose line lists the choices ("Sex: M [ ] F [X]") is read from its boxes in the
    // text, never from the first option the layout cut off as its value.
    let choice = |kv: &paperchart_model::document::KeyValue| {
        let key = kv.key_name();
        matches!(key.to_lowercase().as_str(), "sex" | "gender")
            && page
                .lines
                .iter()
                .any(|l| l.text.find(&format!("{key}:")).is_some_and(|i| phi::is_choice(&l.text[i + key.len() + 1..])))
    };
    let mut fields: Vec<(&str, &str, Option<f32>)> = page
        .key_values
        .iter()
        .filter(|kv| kv.value.selected.is_none() && ours(kv) && !choice(kv))
        .map(|kv| (kv.key_name(), kv.value.text.trim(), top(kv.key.bbox)))
        .filter(|(k, v, _)| !k.is_empty() && !v.is_empty())
        .collect();
    // A table about the patient ("Name | Birth Date | MRN" over one row of values) is fields too.
    fields.extend(page.tables.iter().flat_map(table_fields).filter(|(_, _, t)| t.is_none_or(|t| t < others)));
    let mut identity_top: Option<f32> = None;
    for (key, value, at) in &fields {
        let got = phi::field_demographics(key, value);
        if !got.is_empty() {
            let at = at.unwrap_or(0.0);
            identity_top = Some(identity_top.map_or(at, |t| t.min(at)));
            demo.fill_from(got);
        }
    }
    let Some(first) = identity_top else { return };
    for (key, value, at) in &fields {
        if at.is_none_or(|t| t >= first - 0.01) {
            demo.fill_from(phi::field_contact(key, value));
        }
    }
}

/// The fields of a table that names the patient: a header row of identity captions over exactly
/// one row of values ("Name | Birth Date | MRN", Textract's COLUMN_HEADER cells or the first row),
/// or rows of a caption and its value ("Name | Jane Doe", "DOB | 03/07/1952"). A table of several
/// rows is a list (of tests, drugs, relatives), never one person; a bare "Name" column alone
/// (a drug's or a test's name) names nobody; a table with a column about someone else
/// (relationship, contact, insured, guarantor, physician) gives nothing. Pairs are (caption,
/// value, top of the value's cell).
fn table_fields(table: &paperchart_model::document::Table) -> Vec<(&str, &str, Option<f32>)> {
    use paperchart_model::document::Cell;
    fn text(c: &Cell) -> &str {
        c.content.text.trim()
    }
    let someone_else = |c: &Cell| {
        let t = text(c).to_lowercase();
        // Whole words: a value "Atkins" or a test "Skin" is nobody else.
        t.contains("next of kin")
            || t.contains("policy holder")
            || t.split(|ch: char| !ch.is_alphabetic()).any(|w| {
                matches!(
                    w,
                    "relationship"
                        | "relation"
                        | "contact"
                        | "insured"
                        | "subscriber"
                        | "guarantor"
                        | "physician"
                        | "provider"
                        | "doctor"
                        | "mother"
                        | "father"
                        | "parent"
                        | "spouse"
                        | "guardian"
                        | "policyholder"
                        | "employer"
                        | "emergency"
                )
            })
    };
    // A piece of a table that runs over pages is part of a list, whatever its rows here.
    if table.continues || table.cells.iter().any(someone_else) {
        return vec![];
    }
    let named = |kinds: &[(&str, &str)]| {
        kinds.len() >= 2 || kinds.iter().any(|(k, t)| *k != "name" || !t.eq_ignore_ascii_case("name"))
    };
    // Column form: captions in the header row, their values in the one row below.
    let header_row = table.cells.iter().filter(|c| c.header).map(|c| c.row).min().unwrap_or(1);
    let header: Vec<&Cell> = table.cells.iter().filter(|c| c.row == header_row).collect();
    let kinds: Vec<(&str, &str)> =
        header.iter().filter_map(|c| phi::identity_caption(text(c)).map(|k| (k, text(c)))).collect();
    let mut data_rows: Vec<u32> =
        table.cells.iter().filter(|c| c.row > header_row && !text(c).is_empty()).map(|c| c.row).collect();
    data_rows.sort_unstable();
    data_rows.dedup();
    if !kinds.is_empty() && named(&kinds) && data_rows.len() == 1 {
        let row = data_rows[0];
        // Only the identity captions' values: another header's ("Visit Date", "Ward") is no
        // part of the patient.
        return header
            .iter()
            .filter(|h| phi::identity_caption(text(h)).is_some())
            .filter_map(|h| {
                let v = table.cells.iter().find(|c| c.row == row && c.col == h.col)?;
                (!text(h).is_empty() && !text(v).is_empty()).then(|| (text(h), text(v), v.content.bbox.map(|b| b.top)))
            })
            .collect();
    }
    // Row form: a caption and its value side by side, row after row.
    let mut pairs = Vec::new();
    let mut row_kinds = Vec::new();
    for row in 1..=table.rows() {
        let cells: Vec<&Cell> = table.cells.iter().filter(|c| c.row == row && !text(c).is_empty()).collect();
        if let [k, v] = cells[..] {
            if let (Some(kind), None) = (phi::identity_caption(text(k)), phi::identity_caption(text(v))) {
                row_kinds.push((kind, text(k)));
                pairs.push((text(k), text(v), v.content.bbox.map(|b| b.top)));
            }
        }
    }
    if named(&row_kinds) {
        pairs
    } else {
        vec![]
    }
}

/// What a drug may be described as just before its name ("the anti-fungal drug ketoconazole",
/// "the urinary anti-spasmodic agent emepronium", "the antibiotic vancomycin").
const CLASS_WORDS: &[&str] = &[
    "drug",
    "agent",
    "medication",
    "medicine",
    "compound",
    "antibiotic",
    "antifungal",
    "anti-fungal",
    "antiviral",
    "antidepressant",
    "anticonvulsant",
    "antiepileptic",
    "antipsychotic",
    "anticoagulant",
    "antihypertensive",
    "analgesic",
    "antiemetic",
    "antiarrhythmic",
    "antimalarial",
    "antineoplastic",
    "chemotherapeutic",
    "immunosuppressant",
    "inhibitor",
    "blocker",
    "antagonist",
    "agonist",
    "derivative",
    "steroid",
    "corticosteroid",
    "bisphosphonate",
    "opioid",
    "benzodiazepine",
    "antihistamine",
    "diuretic",
];

/// How many words at the end of `words` describe the drug that follows them: a determiner, at
/// most three describing words with no coordination among them, then a class word
/// ([`CLASS_WORDS`]) — the words after the determiner; 0 when they do not end so.
fn description_len(words: &[String]) -> usize {
    let Some(last) = words.last() else { return 0 };
    if !CLASS_WORDS.contains(&last.as_str()) {
        return 0;
    }
    let head = words.len() - 1;
    let Some(det) = (head.saturating_sub(4)..head).rev().find(|&k| matches!(words[k].as_str(), "the" | "a" | "an"))
    else {
        return 0;
    };
    let coordinated = words[det + 1..head]
        .iter()
        .any(|w| matches!(w.as_str(), "and" | "or" | "then" | "plus" | "versus" | "vs" | "with" | "but" | "not"));
    if coordinated {
        0
    } else {
        words.len() - det - 1
    }
}

/// Words that may stand between a route and its drug: "oral administration of methylprednisolone",
/// "intravenous infusion of amphotericin B", "a course of oral sulphasalazine".
const ROUTE_GAP_WORDS: &[&str] = &[
    "administration",
    "administered",
    "of",
    "the",
    "a",
    "an",
    "use",
    "infusion",
    "injection",
    "injections",
    "bolus",
    "dose",
    "doses",
    "high-dose",
    "low-dose",
    "single",
    "continuous",
    "prophylactic",
    "therapy",
    "treatment",
    "long-term",
    "chronic",
    "concomitant",
    "course",
    "dosing",
    "with",
    "form",
    "formulation",
    "preparation",
    "sustained-release",
    "extended-release",
    "slow-release",
    "controlled-release",
    "modified-release",
    "delayed-release",
    "enteric-coated",
    "application",
    "applications",
    "instillation",
    "loading",
    "regimen",
    "recombinant",
    "ingestion",
    "ingested",
];

/// The route of a drug mention: a route word just before it, with at most three gap words
/// between ("intravenous morphine", "oral administration of X"; the nearest explicit route wins
/// over "infusion" or "ingestion": "sublingual ingestion of X" is sublingual), else the first one in its order after it ("10 mg PO daily", "X infusion")
/// that is not itself just before the next drug ("oral X and intravenous Y": intravenous is Y's).
/// Words of a sig that continue an order after a comma ("…, take 1 tablet orally").
const SIG_WORDS: &[&str] = &[
    "take",
    "takes",
    "taking",
    "give",
    "given",
    "use",
    "inhale",
    "apply",
    "instill",
    "inject",
    "administer",
    "sig",
    "one",
    "two",
    "half",
    "tab",
    "tabs",
    "tablet",
    "tablets",
    "cap",
    "caps",
    "capsule",
    "capsules",
    "puff",
    "puffs",
    "mg",
    "ml",
    "unit",
    "units",
    "drop",
    "drops",
    "by",
];

fn route_of<'h>(
    text: &str,
    hits: &'h [Hit],
    name_start: usize,
    name_end: usize,
    end_of_order: usize,
) -> Option<&'h Hit> {
    let routes = || hits.iter().filter(|h| h.kind == ConceptKind::Route);
    let words_between = |from: usize, to: usize| -> Option<Vec<String>> {
        let gap = text.get(from..to)?;
        // A line break between is no gap only where the text merely wraps ("to oral" /
        // "everolimus"), from a line of prose: a line with figures is an order of its own
        // ("Ceftriaxone 1 g daily intravenously" / "warfarin 5 mg").
        let order_line = |i: usize| {
            let (start, end) = line_bounds(text, from + i);
            text[start..end].contains(|c: char| c.is_ascii_digit())
        };
        if gap.match_indices('\n').any(|(i, _)| super::text::line_break_separates(text, from + i) || order_line(i)) {
            return None;
        }
        // An amount in brackets is an amount: "ingestion of 1050 (48 mg/kg) of X".
        let gap = patterns().bracketed_amount.replace_all(gap, " ");
        // A comma ends the previous drug's order: "furosemide 40 mg IV, metoprolol" gives
        // metoprolol nothing.
        if gap.contains(['.', ';', ':', '(', ')', ',']) {
            return None;
        }
        Some(
            gap.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect(),
        )
    };
    // An abbreviation's own closing dot ("i.v. bisphosphonate") is no sentence end.
    let after =
        |h: &Hit| if text[h.end..].starts_with('.') && text[h.start..h.end].contains('.') { h.end + 1 } else { h.end };
    // "with" only after a word of giving ("topical dosing with X", "therapy with X"): "poor oral
    // intake with insulin held" gives insulin no route.
    let giving = ["dosing", "treatment", "therapy", "infusion", "injection", "injections", "loading", "administration"];
    // An amount is no gap word either: "ingestion of 1050 mg of X", "oral administration of 2 g of X".
    let amount = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit() || c == '.')
            || matches!(w, "mg" | "g" | "mcg" | "ug" | "µg" | "ml" | "units" | "iu" | "tablets" | "capsules" | "mg/kg")
    };
    let leads_to = |h: &Hit, to: usize| {
        words_between(after(h), to).is_some_and(|w| {
            // "ingestion of the anti-fungal drug X": a description ending in a class word names
            // the drug after it; its words are no gap.
            let w = &w[..w.len() - description_len(&w)];
            let words: Vec<&String> = w.iter().filter(|w| !amount(w)).collect();
            words.len() <= 3
                && words.iter().all(|w| ROUTE_GAP_WORDS.contains(&w.as_str()))
                && w.iter().enumerate().all(|(i, x)| x != "with" || (i > 0 && giving.contains(&w[i - 1].as_str())))
        })
    };
    let generic = |h: &Hit| {
        matches!(
            text[h.start..h.end].to_lowercase().as_str(),
            "infusion" | "infusions" | "infused" | "ingestion" | "ingested"
        )
    };
    let before: Vec<&Hit> = routes().filter(|h| h.end <= name_start && leads_to(h, name_start)).collect();
    if let Some(h) = before.iter().rev().find(|h| !generic(h)).or(before.last()) {
        return Some(h);
    }
    // Named for what it is: "Ticlopidine is an oral antiplatelet agent", "warfarin, an oral
    // anticoagulant," — the route of the drug or class it is said to be.
    let appositive = routes().find(|h| {
        // Looked for right after the name only: a long text's other routes are not read.
        let Some(gap) = text.get(name_end..h.start).filter(|g| g.len() <= 12) else { return false };
        let words: Vec<String> = gap
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let said = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["is" | "was", "a" | "an"] => true,
            ["a" | "an"] => gap.trim_start().starts_with(','),
            _ => false,
        };
        said && hits.iter().any(|d| d.kind == ConceptKind::Drug && (h.end..=h.end + 2).contains(&d.start))
    });
    let next_drug = hits.iter().filter(|h| h.kind == ConceptKind::Drug && h.start >= name_end).map(|h| h.start).min();
    // After a coordination ("X in association with oral Y", "X, then IV Y") a route is another
    // drug's, known to the lexicon or not.
    let coordinated = |h: &Hit| {
        let gap = &text[name_end..h.start];
        // "1 and 1/2 tabs", "one and a half tablets" are a dose, not a coordination.
        let gap = patterns().mixed_number.replace_all(gap, " ");
        // A comma coordinates, unless the order goes on after it: "... Oral Tablet, take 1
        // orally BID" is one order.
        let after_comma = gap.rsplit(',').next().unwrap_or("");
        let order_goes_on = !after_comma.trim().is_empty()
            && after_comma.split_whitespace().all(|w| {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
                w.is_empty()
                    || w.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '/')
                    || SIG_WORDS.contains(&w.as_str())
            });
        (gap.contains(',') && !order_goes_on)
            || gap.split_whitespace().any(|w| {
                matches!(
                    w.to_lowercase().as_str(),
                    "and" | "or" | "with" | "plus" | "then" | "followed" | "versus" | "vs" | "vs."
                )
            })
    };
    let after = routes().find(|h| {
        h.start >= name_end
            && h.end <= end_of_order
            && !coordinated(h)
            && !next_drug.is_some_and(|d| h.end <= d && leads_to(h, d))
    });
    // What it is said to be gives the route last, and only where the sentence names no other
    // ("Methotrexate, an oral antimetabolite, was given intrathecally" is intrathecal).
    after.or_else(|| {
        let a = appositive?;
        let sentence_end = text[a.end..].find(['.', '\n', ';']).map_or(text.len(), |i| a.end + i);
        let other = routes().any(|h| h.start >= name_end && h.start < sentence_end && h.start != a.start);
        (!other).then_some(a)
    })
}

/// "carboplatin (CBDCA)", "extended-release niacin (Niaspan)": a drug's other name in brackets
/// right after it is the same mention, not a second drug — with the order and status written after
/// the brackets ("lisinopril (Zestril) 10 mg daily", "Warfarin (Coumadin) held"). Where only the
/// bracketed name has a code ("a statin (atorvastatin)"), it is the mention kept. An abbreviation
/// the text defines so means that drug wherever it comes again: "carbimazole (CBZ)" makes a later
/// "CBZ" carbimazole (its ingredient's code), not carbamazepine.
fn same_drug_in_brackets(text: &str, entities: &mut Vec<Entity>) {
    let mut drugs: Vec<usize> = (0..entities.len()).filter(|&i| entities[i].kind == EntityType::Medication).collect();
    drugs.sort_by_key(|&i| entities[i].start);
    let pairs: Vec<(usize, usize)> = drugs
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|&(a, b)| {
            let (first, alias) = (&entities[a], &entities[b]);
            first.end <= alias.start
                && text[first.end..alias.start].trim_matches([' ', '\t']) == "("
                && text[alias.end..].trim_start().starts_with(')')
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    let ordered = |a: &Attrs| a.dose.is_some() || a.strength.is_some() || a.frequency.is_some() || a.route.is_some();
    // An ingredient's code: no strength in its name.
    let ingredient = |codes: &[Code]| -> Vec<Code> {
        codes.iter().filter(|c| !c.display.contains(|ch: char| ch.is_ascii_digit())).take(1).cloned().collect()
    };
    // The drug a code names: its first word of four letters or more ("24 HR metoprolol
    // succinate …" → metoprolol).
    let drug_of = |codes: &[Code]| -> Option<String> {
        codes.first().and_then(|c| {
            c.display
                .split_whitespace()
                .find(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic))
                .map(str::to_lowercase)
        })
    };
    let mut dropped = Vec::new();
    for &(first, alias) in &pairs {
        let (keep, drop) = if entities[first].codes.is_empty() && !entities[alias].codes.is_empty() {
            (alias, first)
        } else {
            (first, alias)
        };
        // An abbreviation the text defines ("carbimazole (CBZ)"): its own code may be another
        // drug's (carbamazepine), never to be taken.
        let name = entities[alias].text.clone();
        let defined = keep == first
            && name.len() <= 6
            && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        let gone = entities[drop].attrs.clone();
        let kept = &mut entities[keep];
        if !ordered(&kept.attrs) && ordered(&gone) {
            let status = kept.attrs.status.take();
            kept.attrs = gone.clone();
            kept.attrs.status = kept.attrs.status.take().or(status);
            if keep == first && !defined && !entities[drop].codes.is_empty() {
                entities[keep].codes = entities[drop].codes.clone();
            }
        } else if kept.attrs.status.is_none() {
            kept.attrs.status = gone.status;
        }
        dropped.push(drop);
        // Later mentions of a defined abbreviation are the first drug where they read as another:
        // its ingredient's code, or none (never a strength of another mention's).
        let first_drug = drug_of(&entities[first].codes);
        let codes = ingredient(&entities[first].codes);
        if defined {
            for e in entities.iter_mut().filter(|e| e.kind == EntityType::Medication && e.text == name) {
                if drug_of(&e.codes) != first_drug {
                    e.codes.clone_from(&codes);
                }
            }
        }
    }
    let mut i = 0;
    entities.retain(|_| {
        i += 1;
        !dropped.contains(&(i - 1))
    });
}

/// `text` with the byte spans `spans` filled with the ASCII byte `with`.
pub(crate) fn mask(text: &str, spans: impl Iterator<Item = (usize, usize)>, with: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (s, e) in spans {
        bytes[s..e].fill(with);
    }
    // Whole UTF-8 sequences are replaced (entity spans lie on character boundaries), so the
    // result is valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn engine() -> &'static Builtin {
        static E: OnceLock<Builtin> = OnceLock::new();
        E.get_or_init(|| Builtin::new(&Settings::default()).unwrap())
    }

    #[test]
    fn the_warm_up_note_is_read_through_every_kind_of_finding() {
        // The warm-up compiles what a real reading uses only if it reads like one.
        let out = engine().analyze(WARM_NOTE);
        for kind in
            [EntityType::Condition, EntityType::Medication, EntityType::Test, EntityType::Allergy, EntityType::Phi]
        {
            assert!(out.entities.iter().any(|e| e.kind == kind), "no {kind:?} in the warm-up note");
        }
        assert!(out.entities.iter().any(|e| e.assertion == Assertion::Absent), "no negated finding");
        assert_eq!(out.demographics.family.as_deref(), Some("Doe"));
        assert!(engine().warm() >= 10);
    }

    #[test]
    fn an_order_wrapped_across_lines_stays_whole() {
        let text = "anticoagulation had been stable for 18 months with warfarin 2.5\nmg daily until admission.";
        let out = engine().analyze(text);
        let warfarin = find(&out, EntityType::Medication, "warfarin");
        assert_eq!((warfarin.attrs.dose.as_deref(), warfarin.attrs.frequency.is_some()), (Some("2.5 mg"), true));
        let text =
            "He was switched from cyclosporine plus mycophenolate mofetil to oral\neverolimus 0.75 mg every 12 hours.";
        let out = engine().analyze(text);
        assert_eq!(find(&out, EntityType::Medication, "everolimus").attrs.route.as_deref(), Some("oral"));
        // A short order line is a list's entry: the next line's instructions are not its sig.
        let out = engine().analyze("furosemide 40 mg\nweigh yourself daily");
        assert_eq!(find(&out, EntityType::Medication, "furosemide").attrs.frequency, None);
        // A route at the end of an order line is that order's, not the next line's drug's.
        let text = "Ceftriaxone 1 g every 24 hours for 7 days intravenously\nwarfarin 5 mg daily";
        let out = engine().analyze(text);
        assert_eq!(find(&out, EntityType::Medication, "warfarin").attrs.route, None);
        // A drug on the text's last line, with nothing after it.
        let out = engine().analyze("Plan: start metformin");
        assert!(out.entities.iter().any(|e| e.text == "metformin"));
        // A list's next line is the next entry's.
        let out = engine().analyze("Medications:\nmetformin 500 mg\nlisinopril 10 mg daily");
        assert_eq!(find(&out, EntityType::Medication, "metformin").attrs.frequency, None);
    }

    fn find<'a>(out: &'a NlpOutput, kind: EntityType, text: &str) -> &'a Entity {
        out.entities.iter().find(|e| e.kind == kind && e.text == text).unwrap_or_else(|| {
            panic!("no {kind:?} {text:?} in {:#?}", out.entities.iter().map(|e| (e.kind, &e.text)).collect::<Vec<_>>())
        })
    }

    #[test]
    fn a_fax_cover_sheet_counts_the_pages_sent_and_is_no_finding() {
        let text = "FAX COVER SHEET\nTo: Dr. Lee, Riverside Cardiology\nFrom: Lakeside Family Medicine\n\
                    Pages (including cover): 3\nRe: referral, history of heart failure\n\n\
                    Referral Letter\nAssessment: Essential hypertension.";
        let out = engine().analyze(text);
        let fax = out.document.fax.as_ref().expect("a cover sheet");
        assert_eq!((fax.lines, fax.cover_pages), (0, Some(3)));
        assert_eq!(fax.incomplete(2).as_deref(), Some("fax cover sheet announced 3 page(s), the file holds 2"));
        assert_eq!(fax.incomplete(3), None);
        let clinical: Vec<&str> =
            out.entities.iter().filter(|e| e.kind != EntityType::Phi).map(|e| e.text.as_str()).collect();
        assert!(clinical.contains(&"Essential hypertension"), "{clinical:?}");
        assert!(!clinical.iter().any(|c| c.contains("3")), "the count is no value: {clinical:?}");
    }

    #[test]
    fn a_fax_line_names_its_sender_not_a_finding() {
        let text = "MAR-08-2024 14:05  FROM: STROKE & EPILEPSY ASSOC  5415550199  TO: 5415550110  P.001/003\n\
                    Referral Letter\nAssessment: Essential hypertension.\n\n\
                    MAR-08-2024 14:06  FROM: STROKE & EPILEPSY ASSOC  5415550199  TO: 5415550110  P.002/003\n\
                    Plan: lisinopril 10 mg daily.";
        let out = engine().analyze(text);
        let clinical: Vec<&str> =
            out.entities.iter().filter(|e| e.kind != EntityType::Phi).map(|e| e.text.as_str()).collect();
        assert_eq!(clinical, ["Essential hypertension", "lisinopril"]);
        let fax = out.document.fax.as_ref().expect("fax lines");
        assert_eq!((fax.lines, fax.pages.clone(), fax.announced), (2, vec![1, 2], Some(3)));
        assert_eq!(
            fax.incomplete(2).as_deref(),
            Some("fax announced 3 page(s), the file holds 2; no fax line for page 3")
        );
        // The sender's number is PHI still (de-identification replaces it), at its place.
        let phones: Vec<&Entity> = out.entities.iter().filter(|e| e.text == "5415550199").collect();
        assert_eq!(phones.len(), 2, "{:?}", out.entities);
        assert!(phones.iter().all(|e| e.kind == EntityType::Phi && &text[e.start..e.end] == "5415550199"));
        assert_eq!(out.document.date, None, "a transmission's time is not the document's date");
    }

    #[test]
    fn a_finding_named_in_a_letterhead_is_no_finding() {
        let text = "Lakeside Heart Failure Clinic\nAsthma and Allergy Associates of Ohio\n\
                    Assessment: heart failure with reduced ejection fraction. Asthma, mild intermittent.";
        let out = engine().analyze(text);
        let conditions: Vec<&str> =
            out.entities.iter().filter(|e| e.kind == EntityType::Condition).map(|e| e.text.as_str()).collect();
        assert_eq!(conditions.len(), 2, "{conditions:?}");
        assert!(conditions.iter().all(|c| text.rfind(c).unwrap() > text.find("Assessment").unwrap()));
    }

    #[test]
    fn form_numbers_labels_captions_and_questions_are_not_findings() {
        let form = "Room R11, bed 2\nREGISTRATION\nLast Name   First Name   MI\nRivera   Ana   L\n\
                    Sex: F   Phone: (868) 555-0199\nPatient Gender: Female\nClinic line (999)-(868)-(0142)\nVisit date 04/12/2023\n\
                    Asthma? [ ] Yes [X] No\nPrior stroke? Yes\nSeizures?\nAuto accident? No\n\
                    Assessment: Essential hypertension I10\nDx codes: E11.9\n";
        let out = engine().analyze(form);
        let conditions: Vec<(&str, Assertion)> = out
            .entities
            .iter()
            .filter(|e| e.kind == EntityType::Condition)
            .map(|e| (e.text.as_str(), e.assertion))
            .collect();
        let codes: Vec<&str> = out.entities.iter().flat_map(|e| e.codes.iter().map(|c| c.code.as_str())).collect();
        assert!(
            !codes.iter().any(|c| c.starts_with("B68") || c.starts_with("R11")),
            "numbers read as codes: {codes:?}"
        );
        let captions = ["MI", "accident", "gender", "sex"];
        assert!(!conditions.iter().any(|(t, _)| captions.iter().any(|c| t.eq_ignore_ascii_case(c))), "{conditions:?}");
        assert!(conditions.contains(&("Asthma", Assertion::Absent)), "the ticked No refutes: {conditions:?}");
        let stroke = conditions.iter().find(|(t, _)| t.eq_ignore_ascii_case("stroke")).expect("stroke");
        assert!(matches!(stroke.1, Assertion::Present | Assertion::Historical), "{stroke:?}");
        let seizures = conditions.iter().find(|(t, _)| t.eq_ignore_ascii_case("seizures")).expect("seizures");
        assert_eq!(seizures.1, Assertion::Hypothetical, "an unanswered question asserts nothing");
        let htn = find(&out, EntityType::Condition, "Essential hypertension");
        assert_eq!(htn.codes[0].code, "I10", "a code refines the condition on its line");
        let e11 = find(&out, EntityType::Condition, "E11.9");
        assert_eq!(e11.assertion, Assertion::Present, "a code of its own where codes are written");
    }

    const NOTE: &str = "DISCHARGE SUMMARY
Patient Name: Doe, Jane    DOB: 03/07/1952    MRN: 55501234
Date of Service: 2024-03-01
Past Medical History: HTN, type 2 diabetes mellitus, asthma.
Allergies: Penicillin (hives); NKDA otherwise
Medications:
- Lisinopril 10 mg PO daily
- Atorvastatin 40 mg by mouth nightly
- Albuterol inhaler 2 puffs q4h prn wheezing
Vital Signs: BP 128/82, HR 72 bpm, T 98.6 F, SpO2 97% on RA
Labs: Hemoglobin A1c 7.2 % (H), Cr 1.1 mg/dL
Family History: Mother had breast cancer.
Hospital Course: Patient denies chest pain. Rule out pneumonia. Status post appendectomy.
Diagnosis: Essential hypertension (I10)
";

    #[test]
    fn a_negation_reaches_a_drug_only_as_its_object() {
        use Assertion::{Absent, Present};
        for (sentence, drug, want) in [
            ("No improvement of the pain with ibuprofen.", "ibuprofen", Present),
            ("Rapid resolution of the glaucoma with methylprednisolone and mannitol.", "methylprednisolone", Present),
            ("No bleeding on warfarin.", "warfarin", Present),
            ("Chest pain not relieved by morphine or nitroglycerin.", "nitroglycerin", Present),
            ("No response to furosemide.", "furosemide", Present),
            ("No aspirin or clopidogrel.", "clopidogrel", Absent),
            ("He was not treated with heparin.", "heparin", Absent),
            ("She has never received any intravenous heparin.", "heparin", Absent),
            ("Not taking his lisinopril.", "lisinopril", Absent),
            ("Denies NSAID use.", "NSAID", Absent),
            // Whatever else stands between, the negation holds unless the drug is an instrument.
            ("No anticoagulation such as warfarin.", "warfarin", Absent),
            ("Not on anticoagulation with warfarin.", "warfarin", Absent),
            ("He is not a candidate for aspirin.", "aspirin", Absent),
            ("Denies recent use of amoxicillin.", "amoxicillin", Absent),
            ("No diabetes medications like metformin.", "metformin", Absent),
            ("Denies fever, chills, or NSAID use.", "NSAID", Absent),
            ("No DVT prophylaxis with enoxaparin.", "enoxaparin", Absent),
            ("No thrombolysis with alteplase.", "alteplase", Absent),
        ] {
            let out = engine().analyze(sentence);
            assert_eq!(find(&out, EntityType::Medication, drug).assertion, want, "{sentence}");
        }
    }

    #[test]
    fn vital_signs_and_labs_as_printed_with_their_decimals() {
        let text = "Oxygen saturation in Arterial blood: 91.0 %\nHeart rate: 67.6 /min\nRespiratory rate: 14.2 /min\n\
                    Systolic Blood Pressure: 121.0 mm[Hg]\nDiastolic Blood Pressure: 79.0 mm[Hg]\n\
                    Pain severity - 0-10 verbal numeric rating [Score] - Reported: 4.0 {score}\n\
                    Head circumference 34.5 cm\nLeukocytes [#/volume] in Blood by Automated count: 7.1 10*3/uL\n\
                    Everolimus 0.75 mg twice daily";
        let out = engine().analyze(text);
        type Reading<'a> = (&'a str, Option<Subtype>, Option<f64>, Option<&'a str>);
        let tests: Vec<Reading> = out
            .entities
            .iter()
            .filter(|e| e.kind == EntityType::Test)
            .map(|e| (e.codes[0].code.as_str(), e.subtype, e.attrs.value, e.attrs.unit.as_deref()))
            .collect();
        let vital = Some(Subtype::Vital);
        assert_eq!(
            tests,
            vec![
                ("2708-6", vital, Some(91.0), Some("%")),
                ("8867-4", vital, Some(67.6), Some("/min")),
                ("9279-1", vital, Some(14.2), Some("/min")),
                ("8480-6", vital, Some(121.0), Some("mm[Hg]")),
                ("8462-4", vital, Some(79.0), Some("mm[Hg]")),
                ("72514-3", vital, Some(4.0), Some("{score}")),
                ("9843-4", vital, Some(34.5), Some("cm")),
                ("6690-2", Some(Subtype::Lab), Some(7.1), Some("10*3/uL")),
            ]
        );
        assert!(find(&out, EntityType::Medication, "Everolimus")
            .codes
            .iter()
            .all(|c| c.system != super::super::SYSTEM_LOINC));
        // Tests a basic panel writes short, and common ones the LOINC sources name otherwise.
        let out = engine().analyze("Labs: Glu 212, Plt 98, Lactate 4.2 mmol/L, CRP 48 mg/L, Lipase 1,240 U/L.");
        let loinc: Vec<&str> = out
            .entities
            .iter()
            .filter(|e| e.kind == EntityType::Test)
            .filter_map(|e| e.codes.first().map(|c| c.code.as_str()))
            .collect();
        assert_eq!(loinc, ["2345-7", "777-3", "2524-7", "1988-5", "3040-3"]);
        // A number cut short is never a reading: no heart rate of 123 from "1234".
        assert!(engine().analyze("HR 1234 /min").entities.iter().all(|e| e.kind != EntityType::Test));
    }

    #[test]
    fn ocr_misreadings_are_repaired_against_the_terminology() {
        let text =
            "Diagnoses: CHF exacerbation (150.23). HTN, ICD-10 110.\nMedications:\nlisinoprll 10 mg daily\nlisinopri1 20 mg daily\nBP 110/70";
        let out = engine().analyze(text);
        let chf = find(&out, EntityType::Condition, "CHF");
        assert_eq!(chf.codes[0].code, "I50.23", "the code on the line refines the condition");
        assert_eq!(find(&out, EntityType::Condition, "HTN").codes[0].code, "I10");
        let drug = find(&out, EntityType::Medication, "lisinoprll");
        assert_eq!(drug.codes[0].code, "314076", "the repaired name with its strength is the clinical drug");
        assert_eq!(drug.attrs.frequency.as_deref(), Some("daily"));
        assert_eq!(find(&out, EntityType::Medication, "lisinopri1").codes[0].code, "314077");
        // The blood pressure stays a blood pressure: no "I10" from "110/70".
        assert_eq!(out.entities.iter().filter(|e| e.codes.iter().any(|c| c.code == "I10")).count(), 1);
    }

    #[test]
    fn products_written_in_full_are_one_mention_with_their_code() {
        let text =
            "Medications:\n- Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral Tablet [Percocet] PO q6h\n\
                    Allergies: Sulfamethoxazole / Trimethoprim.";
        let out = engine().analyze(text);
        let meds: Vec<&Entity> = out.entities.iter().filter(|e| e.kind == EntityType::Medication).collect();
        assert_eq!(meds.len(), 1, "{meds:?}");
        assert_eq!(meds[0].text, "Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral Tablet [Percocet]");
        assert_eq!(meds[0].codes[0].code, "1049625");
        assert_eq!(meds[0].attrs.frequency.as_deref(), Some("q6h"));
        let allergy = find(&out, EntityType::Allergy, "Sulfamethoxazole / Trimethoprim");
        assert!(allergy.codes.iter().any(|c| c.code == "10831"), "{:?}", allergy.codes);
    }

    #[test]
    fn reads_a_discharge_summary() {
        let out = engine().analyze(NOTE);
        assert_eq!(out.document.doc_type.as_ref().map(|c| c.code.as_str()), Some("18842-5"));
        assert_eq!(out.document.date.as_deref(), Some("2024-03-01"));
        assert_eq!(out.demographics.family.as_deref(), Some("Doe"));
        assert_eq!(out.demographics.mrn.as_deref(), Some("55501234"));

        let htn = find(&out, EntityType::Condition, "HTN");
        assert!(htn.code(crate::SYSTEM_ICD10CM).is_some_and(|c| c.code == "I10"));
        assert_eq!(htn.assertion, Assertion::Present);
        let dm = find(&out, EntityType::Condition, "type 2 diabetes mellitus");
        assert_eq!(dm.code(SYSTEM_SNOMED).unwrap().code, "44054006");

        let pcn = find(&out, EntityType::Allergy, "Penicillin");
        assert_eq!(pcn.attrs.reaction.as_deref(), Some("hives"));
        assert!(!out.entities.iter().any(|e| e.kind == EntityType::Condition && e.text == "hives"));

        let lis = find(&out, EntityType::Medication, "Lisinopril");
        assert_eq!(lis.code(crate::SYSTEM_RXNORM).unwrap().code, "314076");
        assert_eq!(lis.attrs.route.as_deref(), Some("oral"));
        assert_eq!(lis.attrs.frequency.as_deref(), Some("daily"));
        let ator = find(&out, EntityType::Medication, "Atorvastatin");
        assert_eq!(ator.code(crate::SYSTEM_RXNORM).unwrap().code, "617311");
        assert_eq!(ator.attrs.frequency.as_deref(), Some("nightly"));
        let alb = find(&out, EntityType::Medication, "Albuterol");
        assert!(alb.attrs.prn);
        assert_eq!(alb.attrs.dose.as_deref(), Some("2 puffs"));

        let a1c =
            out.entities.iter().find(|e| e.kind == EntityType::Test && e.text.starts_with("Hemoglobin A1c")).unwrap();
        assert_eq!(
            (a1c.attrs.value, a1c.attrs.unit.as_deref(), a1c.attrs.flag.as_deref()),
            (Some(7.2), Some("%"), Some("H"))
        );
        assert_eq!(a1c.codes[0].code, "4548-4");
        let cr = out.entities.iter().find(|e| e.kind == EntityType::Test && e.text.starts_with("Cr")).unwrap();
        assert_eq!(cr.codes[0].code, "2160-0");
        assert_eq!(out.entities.iter().filter(|e| e.subtype == Some(Subtype::Vital)).count(), 4);

        assert_eq!(find(&out, EntityType::Condition, "breast cancer").assertion, Assertion::Family);
        assert_eq!(find(&out, EntityType::Condition, "chest pain").assertion, Assertion::Absent);
        assert_eq!(find(&out, EntityType::Condition, "pneumonia").assertion, Assertion::Possible);
        assert_eq!(find(&out, EntityType::Procedure, "appendectomy").assertion, Assertion::Historical);
        let eh = find(&out, EntityType::Condition, "Essential hypertension");
        assert_eq!(eh.codes[0].code, "I10");
    }

    #[test]
    fn no_known_allergies_is_a_statement_not_a_negation() {
        let out = engine().analyze("Allergies: No known drug allergies.");
        let a = out.entities.iter().find(|e| e.kind == EntityType::Allergy).unwrap();
        assert_eq!(a.codes[0].code, "409137002");
        assert_eq!(a.assertion, Assertion::Present);
    }

    /// A form page as an engine gives it: a line per field and key/value pairs with their boxes.
    fn form_page(fields: &[(&str, &str, f32)], headings: &[(&str, f32)]) -> paperchart_model::document::Document {
        use paperchart_model::document::{BBox, Document, Field, KeyValue, Line, Page, ReadBy};
        let bbox = |top: f32| Some(BBox { left: 0.05, top, width: 0.3, height: 0.02 });
        let field =
            |text: &str, top: f32| Field { text: text.into(), bbox: bbox(top), confidence: 99.0, selected: None };
        let mut lines: Vec<(f32, Line)> = fields
            .iter()
            .map(|(k, v, top)| (*top, Line { bbox: bbox(*top), ..Line::from_text(&format!("{k} {v}"), 99.0) }))
            .chain(headings.iter().map(|(h, top)| (*top, Line { bbox: bbox(*top), ..Line::from_text(h, 99.0) })))
            .collect();
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        let key_values =
            fields.iter().map(|(k, v, top)| KeyValue { key: field(k, *top), value: field(v, *top) }).collect();
        Document {
            pages: vec![Page {
                number: 1,
                read_by: ReadBy::Textract,
                lines: lines.into_iter().map(|(_, l)| l).collect(),
                key_values,
                tables: vec![],
                text_layer_rejected: false,
                prepared: Vec::new(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_form_gives_the_patient_and_never_the_emergency_contact() {
        let doc = form_page(
            &[
                ("Phone:", "(541) 555-0110", 0.02),
                ("First Name:", "MARISOL", 0.10),
                ("Last Name:", "QUINTERO", 0.10),
                ("Date of Birth:", "07/04/1979", 0.12),
                ("Sex:", "F", 0.14),
                ("Address:", "48 WILLOW ROAD", 0.16),
                ("City:", "ASHFORD", 0.18),
                ("State:", "CT", 0.20),
                ("Zip Code:", "06278", 0.20),
                ("Phone:", "860-555-0193", 0.20),
                ("First Name:", "TOMAS", 0.30),
                ("Last Name:", "QUINTERO", 0.30),
                ("Phone:", "860-555-0177", 0.32),
            ],
            &[("Clinic Intake", 0.0), ("Patient Information", 0.08), ("Emergency Contact 1:", 0.26)],
        );
        let out = engine().analyze_document(&doc, &doc.text());
        let d = &out.demographics;
        assert_eq!((d.given.as_slice(), d.family.as_deref()), (&["Marisol".to_string()][..], Some("Quintero")));
        assert_eq!((d.birth_date.as_deref(), d.gender), (Some("1979-07-04"), Some(crate::Gender::Female)));
        assert_eq!(d.phone.as_deref(), Some("860-555-0193"), "not the clinic's above, not the contact's below");
        let a = d.address.as_ref().expect("the address from its parts");
        assert_eq!(
            (a.line.as_slice(), a.city.as_deref(), a.state.as_deref(), a.postal_code.as_deref()),
            (&["48 WILLOW ROAD".to_string()][..], Some("ASHFORD"), Some("CT"), Some("06278"))
        );
        // With the patient's own name missing, the contact's is still not taken.
        let doc = form_page(
            &[("Date of Birth:", "07/04/1979", 0.12), ("First Name:", "TOMAS", 0.30)],
            &[("Emergency Contact", 0.26)],
        );
        assert!(engine().analyze_document(&doc, &doc.text()).demographics.given.is_empty());
    }

    #[test]
    fn a_word_that_makes_another_disease_never_leaves_the_plain_diseases_code() {
        let conditions = |text: &str| -> Vec<(String, Vec<String>)> {
            engine()
                .analyze(text)
                .entities
                .into_iter()
                .filter(|e| e.kind == EntityType::Condition)
                .map(|e| (e.text, e.codes.into_iter().map(|c| c.code).collect()))
                .collect()
        };
        let one = |text: &str| {
            let c = conditions(text);
            assert_eq!(c.len(), 1, "{text}: {c:?}");
            c.into_iter().next().unwrap()
        };
        // The words together where the terminology knows them, closed up or "mellitus" left out.
        assert_eq!(
            one("Assessment: gestational diabetes."),
            ("gestational diabetes".into(), vec!["O24.4".into(), "11687002".into()])
        );
        assert_eq!(one("Assessment: pre-diabetes.").1, ["R73.03"]);
        assert_eq!(one("Assessment: preeclampsia.").1, ["O14", "398254007"]);
        assert_eq!(one("Assessment: sub-acute thyroiditis.").1, ["E06.1"]);
        // Else the words whole, with no code: never I10 (essential) for another hypertension,
        // E11.9 (type 2) for another diabetes, osteoarthritis for psoriatic arthritis.
        for (text, finding) in [
            ("Assessment: intracranial hypertension.", "intracranial hypertension"),
            ("Assessment: juvenile diabetes.", "juvenile diabetes"),
            ("Assessment: borderline diabetes.", "borderline diabetes"),
            ("Assessment: pre-hypertension.", "pre-hypertension"),
            ("Assessment: non-epileptic seizures.", "non-epileptic seizures"),
            ("Assessment: psoriatic arthritis.", "psoriatic arthritis"),
            ("Assessment: optic neuropathy.", "optic neuropathy"),
        ] {
            assert_eq!(one(text), (finding.to_string(), Vec::<String>::new()), "{text}");
        }
        // A narrower name whose plain code is the unspecified one keeps it; words that say how bad
        // change nothing.
        assert_eq!(one("Acute myelogenous leukemia.").1.first().map(String::as_str), Some("C95.90"));
        assert_eq!(one("Assessment: poorly controlled diabetes.").1.first().map(String::as_str), Some("E11.9"));
        assert_eq!(one("Quinine-induced thrombocytopenia.").1.first().map(String::as_str), Some("D69.6"));
        // A cause makes a narrower disease, which a specific default code does not cover.
        assert_eq!(one("NSAID-induced hypertension."), ("hypertension".into(), vec![]));
        assert_eq!(one("Steroid diabetes.").1, Vec::<String>::new());
        assert_eq!(one("Anti-phospholipid syndrome.").1.first().map(String::as_str), Some("D68.61"));
        // "anti-anxiety" is a drug's property, no finding.
        assert!(conditions("A drug with anti-anxiety properties.").is_empty());
    }

    #[test]
    fn drug_classes_abbreviations_and_the_drug_a_condition_is_named_for() {
        let meds = |text: &str| -> Vec<(String, Assertion, bool)> {
            engine()
                .analyze(text)
                .entities
                .into_iter()
                .filter(|e| e.kind == EntityType::Medication)
                .map(|e| (e.text, e.assertion, e.codes.iter().any(|c| c.system == super::super::SYSTEM_RXNORM)))
                .collect()
        };
        // A class is a medication with no RxNorm code: no code stands for "statins".
        let m = meds("She was on statins and ACE inhibitors for years.");
        assert_eq!(m.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["statins", "ACE inhibitors"]);
        assert!(m.iter().all(|m| !m.2), "{m:?}");
        // An abbreviation joins its drug, code and all, and only as written.
        let m = meds("Low-dose MTX was restarted.");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].2, "MTX is methotrexate: {m:?}");
        assert!(meds("mtx was restarted.").is_empty(), "lower case is not the abbreviation");
        // An adjective's form of a class is not a drug.
        assert!(meds("Hypoglycemic episodes at night.").is_empty());
        // The drug a condition is named for was taken: past exposure, inside the condition.
        let out = engine().analyze("History of heparin-induced thrombocytopenia.");
        let hit = out.entities.iter().find(|e| e.kind == EntityType::Condition).expect("the condition");
        assert!(hit.text.contains("thrombocytopenia"));
        let drug = out.entities.iter().find(|e| e.kind == EntityType::Medication).expect("heparin");
        assert_eq!((drug.text.as_str(), drug.attrs.status.as_deref()), ("heparin", Some("unknown")));
        assert!(meds("No heparin-induced thrombocytopenia.").is_empty(), "no fact from a negated condition");
        assert!(meds("Non-insulin-dependent diabetes mellitus.").is_empty(), "not taken, whatever else");
        assert!(meds("Vitamin D-dependent rickets.").is_empty(), "a dependency is no exposure");
        assert!(meds("Opioid-naive patient, vitamin D-deficient.").is_empty(), "words that describe");
        assert!(meds("Opiates   Negative\nBenzodiazepines  Positive").is_empty(), "a drug screen");
        // An abbreviation with another reading is its drug only where a dose follows.
        let m = meds("Medications: ASA 81 mg daily, INH 300mg daily.");
        assert_eq!(m.iter().map(|m| (m.0.as_str(), m.2)).collect::<Vec<_>>(), [("ASA", true), ("INH", true)]);
        assert!(meds("ASA class II. LTG: return to work.").is_empty(), "a risk class, a long-term goal");
        assert!(meds("STG/LTG 2 units").is_empty(), "units are no dose of these");
        let out = engine().analyze("ALLERGIES: NKDA\nASA: II\nINH inhaler technique reviewed.");
        assert!(out.entities.iter().all(|e| e.kind != EntityType::Allergy || e.text == "NKDA"), "{:?}", out.entities);
        let out = engine().analyze("Allergies: ASA, PCN.");
        assert!(out.entities.iter().any(|e| e.kind == EntityType::Allergy && e.text == "ASA"), "{:?}", out.entities);
        // A defined abbreviation's own reading never codes the drug it stands for.
        let out =
            engine().analyze("Carbimazole (CBZ) 10 mg daily. Hydrochlorothiazide (HCTZ) 25 mg. Later HCTZ 12.5 mg.");
        let m: Vec<_> = out.entities.iter().filter(|e| e.kind == EntityType::Medication).collect();
        assert!(m[0].codes.iter().all(|c| !c.display.to_lowercase().contains("carbamazepine")), "{:?}", m[0].codes);
        assert!(m.last().is_some_and(|e| !e.codes.is_empty()), "the later HCTZ keeps its code: {m:?}");
        // A drug's other name in brackets is the same mention, with the order after the brackets;
        // an abbreviation the text defines means that drug wherever it comes again.
        let out = engine().analyze("Lisinopril (Zestril) 10 mg daily. Changed to carbimazole (CBZ). CBZ 10 mg daily.");
        let m: Vec<_> = out.entities.iter().filter(|e| e.kind == EntityType::Medication).collect();
        assert_eq!(m.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(), ["Lisinopril", "carbimazole", "CBZ"]);
        assert_eq!(m[0].attrs.dose.as_deref(), Some("10 mg"));
        let ingredient = |e: &Entity| e.codes.first().map(|c| c.display.to_lowercase()).unwrap_or_default();
        assert!(ingredient(m[2]).contains("carbimazole"), "not carbamazepine: {:?}", m[2].codes);
        // The status after the brackets; a later mention keeps its own strength's code; a class
        // with its drug in brackets is the drug.
        let out = engine().analyze(
            "Warfarin (Coumadin) held for procedure. Metoprolol (Lopressor) 25 mg BID. Increased to Lopressor 50 mg \
             BID. Started a statin (atorvastatin).",
        );
        let m: Vec<_> = out.entities.iter().filter(|e| e.kind == EntityType::Medication).collect();
        assert_eq!(
            m.iter().map(|e| (e.text.as_str(), e.attrs.status.as_deref())).collect::<Vec<_>>(),
            [("Warfarin", Some("on-hold")), ("Metoprolol", None), ("Lopressor", None), ("atorvastatin", None)]
        );
        assert!(ingredient(m[2]).contains("50 mg"), "{:?}", m[2].codes);
        // A salt or a release in the drug's name is the product's: never metoprolol tartrate.
        for (text, want) in [("Metoprolol succinate 50 mg daily.", "6918"), ("Toprol XL 50 mg daily.", "866436")] {
            let out = engine().analyze(text);
            let code = out.entities.iter().find(|e| e.kind == EntityType::Medication).and_then(|e| e.codes.first());
            assert_eq!(code.map(|c| c.code.as_str()), Some(want), "{text}: {code:?}");
        }
        // A salt RxNorm does not write is the base's product ("amlodipine 5 MG Oral Tablet").
        let out = engine().analyze("Amlodipine besylate 5 mg daily.");
        assert_eq!(out.entities[0].codes.first().map(|c| c.code.as_str()), Some("197361"));
    }

    #[test]
    fn a_route_before_or_after_its_drug_and_never_anothers() {
        let route = |text: &str, drug: &str| {
            let out = engine().analyze(text);
            out.entities
                .iter()
                .find(|e| e.kind == EntityType::Medication && e.text.eq_ignore_ascii_case(drug))
                .unwrap_or_else(|| panic!("{drug} in {text}"))
                .attrs
                .route
                .clone()
        };
        assert_eq!(
            route("He was started on oral lansoprazole 60 mg twice daily.", "lansoprazole").as_deref(),
            Some("oral")
        );
        assert_eq!(
            route("Seizures during infusion of amphotericin B.", "amphotericin B").as_deref(),
            Some("intravenous")
        );
        assert_eq!(route("Seizures after amphotericin B infusion.", "amphotericin B").as_deref(), Some("intravenous"));
        assert_eq!(route("a bolus injection of morphine intrathecally", "morphine").as_deref(), Some("intrathecal"));
        assert_eq!(route("oral administration of methylprednisolone", "methylprednisolone").as_deref(), Some("oral"));
        // An amount between them is no gap; a drug said to be an oral class takes its route.
        assert_eq!(route("She ingested 900 mg of glyburide.", "glyburide").as_deref(), Some("oral"));
        assert_eq!(route("Ticlopidine is an oral antiplatelet agent.", "ticlopidine").as_deref(), Some("oral"));
        assert_eq!(route("Ticlopidine and an oral antiplatelet agent.", "ticlopidine"), None);
        // A description ending in a class word names the drug after it; an amount in brackets is
        // an amount.
        let described = "Seizures after ingestion of the urinary anti-spasmodic agent emepronium bromide.";
        assert_eq!(route(described, "emepronium bromide").as_deref(), Some("oral"));
        let amount = "Seizures after ingestion of 1050 (48 mg/kg) of extended-release bupropion.";
        assert_eq!(route(amount, "bupropion").as_deref(), Some("oral"));
        let two = "Intravenous morphine and the antibiotic vancomycin were given.";
        assert_eq!(route(two, "vancomycin"), None, "a coordination before the description");
        let new_drug = "Oral intake and the new drug ketoconazole.";
        assert_eq!(route(new_drug, "ketoconazole"), None, "intake is no gap word");
        // What it is said to be never overrides the route the sentence gives.
        let given = "Methotrexate, an oral antimetabolite, was given intrathecally at 12 mg.";
        assert_ne!(route(given, "methotrexate").as_deref(), Some("oral"));
        let both = "She received oral prednisone and intravenous morphine.";
        assert_eq!(
            (route(both, "prednisone").as_deref(), route(both, "morphine").as_deref()),
            (Some("oral"), Some("intravenous"))
        );
        assert_eq!(
            route("Interferon alfa in association with oral ribavirin.", "interferon alfa"),
            None,
            "the other drug's"
        );
        assert_eq!(route("minocycline-induced cutaneous pigmentation", "minocycline"), None, "cutaneous is the skin");
        assert_eq!(
            route("Clonidine 0.2 mgs -- 1 and 1/2 tabs po qhs", "Clonidine").as_deref(),
            Some("oral"),
            "a dose's and"
        );
        assert_eq!(route("Vyvanse 50 mgs po at breakfast daily", "Vyvanse").as_deref(), Some("oral"));
        let list = "furosemide 40 mg IV, metoprolol 25 mg PO daily";
        assert_eq!(
            (route(list, "furosemide").as_deref(), route(list, "metoprolol").as_deref()),
            (Some("intravenous"), Some("oral"))
        );
        assert_eq!(
            route("aspirin 81 mg PO daily enoxaparin 40 mg", "enoxaparin"),
            None,
            "the order before is aspirin's"
        );
    }

    /// A page holding one table, cells given row by row (the first row flagged as headers when
    /// `header`), and a line per row.
    fn table_page(rows: &[&[&str]], header: bool) -> paperchart_model::document::Document {
        use paperchart_model::document::{BBox, Cell, Field, Line, Table};
        let mut doc = form_page(&[], &[]);
        let page = &mut doc.pages[0];
        let mut cells = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            page.lines.push(Line::from_text(&row.join(" "), 99.0));
            for (c, t) in row.iter().enumerate() {
                let bbox =
                    Some(BBox { left: 0.1 + 0.2 * c as f32, top: 0.3 + 0.03 * r as f32, width: 0.18, height: 0.02 });
                cells.push(Cell {
                    row: r as u32 + 1,
                    col: c as u32 + 1,
                    row_span: 1,
                    col_span: 1,
                    content: Field { text: t.to_string(), bbox, confidence: 99.0, selected: None },
                    header: header && r == 0,
                });
            }
        }
        page.tables.push(Table { bbox: None, cells, continues: false });
        doc
    }

    #[test]
    fn a_table_about_the_patient_names_them_and_a_list_names_nobody() {
        let demo = |doc: paperchart_model::document::Document| engine().analyze_document(&doc, "").demographics;
        let d =
            demo(table_page(&[&["Name", "Birth Date", "MRN"], &["Okafor, Chidi", "02/29/1980", "PN-448120"]], true));
        assert_eq!((d.family.as_deref(), d.given.as_slice()), (Some("Okafor"), &["Chidi".to_string()][..]));
        assert_eq!((d.birth_date.as_deref(), d.mrn.as_deref()), (Some("1980-02-29"), Some("PN-448120")));
        // Without header flags the first row is the header; captions and values side by side too.
        let d = demo(table_page(&[&["Patient Name", "D.O.B."], &["Wei Chen", "1/6/58"]], false));
        assert_eq!((d.family.as_deref(), d.birth_date.as_deref()), (Some("Chen"), Some("1958-01-06")));
        let d = demo(table_page(&[&["Name:", "Jane Roe"], &["Date. of Birth:", "03/07/1952"], &["Sex:", "F"]], false));
        assert_eq!((d.family.as_deref(), d.gender), (Some("Roe"), Some(crate::Gender::Female)));
        // A list, a drug's "Name" column, a table of contacts: nobody.
        let list = demo(table_page(&[&["Name", "DOB"], &["Ann Lee", "01/02/1950"], &["Bo Lee", "03/04/1952"]], true));
        assert!(list.family.is_none() && list.birth_date.is_none(), "{list:?}");
        let drugs = demo(table_page(&[&["Name", "Dose", "Route"], &["Metformin Hydrochloride", "500 mg", "PO"]], true));
        assert!(drugs.family.is_none(), "{drugs:?}");
        let contacts = demo(table_page(
            &[&["Name", "Relationship", "Phone"], &["Tomas Quintero", "Brother", "860-555-0177"]],
            true,
        ));
        assert!(contacts.family.is_none(), "{contacts:?}");
        let mother = demo(table_page(&[&["Mother's Name", "DOB", "MRN"], &["Ann Lee", "01/02/1950", "M-778"]], true));
        assert!(mother.family.is_none() && mother.mrn.is_none(), "{mother:?}");
    }

    #[test]
    fn boxes_on_a_form_decide_what_its_findings_assert() {
        let text = "NEW PATIENT INTAKE FORM\nPlease check all that apply.\n\
                    Diabetes [ ] Yes [X] No\nAsthma [X] Yes [ ] No\n\
                    Have you been in contact with a COVID-19 case?\n[ ] Yes [ ] No\n\
                    [X] Migraine [ ] Seizures\n";
        let doc = paperchart_model::document::Document {
            pages: vec![paperchart_model::document::Page {
                number: 1,
                read_by: paperchart_model::document::ReadBy::TextLayer,
                lines: text.lines().map(|l| paperchart_model::document::Line::from_text(l, 100.0)).collect(),
                key_values: vec![],
                tables: vec![],
                text_layer_rejected: false,
                prepared: Vec::new(),
            }],
            ..Default::default()
        };
        let out = engine().analyze_document(&doc, &doc.text());
        assert_eq!(out.document.class, paperchart_model::class::DocumentClass::IntakeForm);
        let assertion = |t: &str| out.entities.iter().find(|e| e.text.eq_ignore_ascii_case(t)).map(|e| e.assertion);
        assert_eq!(assertion("Diabetes"), Some(Assertion::Absent), "ticked No");
        assert_eq!(assertion("Asthma"), Some(Assertion::Present), "ticked Yes");
        assert_eq!(assertion("Migraine"), Some(Assertion::Present), "ticked in a checklist");
        assert!(assertion("Seizures").is_none_or(|a| a == Assertion::Hypothetical), "blank: not asserted");
        assert!(assertion("COVID-19").is_none_or(|a| a == Assertion::Hypothetical), "a blank question is no diagnosis");
        assert_eq!(out.answers.len(), 5, "{:?}", out.answers);
    }

    #[test]
    fn symptoms_as_patients_say_them_and_social_history() {
        let note = "Complains of trouble sleeping and itchy skin. Denies blood in stool.\n\
                    PMHx: Back pain and muscle spasms. No Hx of surgery.\n\
                    Social Hx: Smokes since 15 yo. No recent EtOH use. Former drinker.\n\
                    Tobacco use: never\nAsthma: denies\n";
        let out = engine().analyze(note);
        let got = |t: &str| {
            let e = find(&out, EntityType::Condition, t);
            (e.codes.iter().find(|c| c.system == crate::SYSTEM_SNOMED).map(|c| c.code.clone()), e.assertion)
        };
        assert_eq!(got("trouble sleeping"), (Some("193462001".into()), Assertion::Present));
        assert_eq!(got("itchy skin"), (Some("418290006".into()), Assertion::Present));
        assert_eq!(got("blood in stool"), (Some("405729008".into()), Assertion::Absent));
        assert_eq!(got("muscle spasms").0.as_deref(), Some("45352006"), "a plural whose word another term holds");
        assert_eq!(got("Hx of surgery"), (Some("161615003".into()), Assertion::Absent));
        assert_eq!(
            got("Smokes"),
            (Some("77176002".into()), Assertion::Present),
            "\"Social Hx\" is a heading, not a history"
        );
        assert_eq!(got("EtOH use"), (Some("219006".into()), Assertion::Absent));
        assert_eq!(got("Former drinker"), (Some("82581004".into()), Assertion::Present));
        assert_eq!(got("Tobacco use").1, Assertion::Absent, "a field answered never");
        assert_eq!(got("Asthma").1, Assertion::Absent, "a field answered denies");
        // Advice and a blood level are no habit.
        let out = engine().analyze("Counselled to quit smoking. EtOH level 0.05.\n");
        assert!(out.entities.iter().all(|e| e.kind != EntityType::Condition), "{:?}", out.entities);
    }

    #[test]
    fn what_is_not_the_patients_habit_or_a_fields_answer_is_no_fact() {
        let stands = |text: &str| {
            engine()
                .analyze(text)
                .entities
                .into_iter()
                .filter(|e| e.kind == EntityType::Condition)
                .filter(|e| matches!(e.assertion, Assertion::Present | Assertion::Historical | Assertion::Absent))
                .map(|e| (e.text, e.assertion))
                .collect::<Vec<_>>()
        };
        for text in [
            "Smokes marijuana daily.",        // another substance
            "Roommate smokes indoors.",       // another person
            "Alcohol use: 0 drinks per week", // no use
            "Alcohol intake: sober x 5 years",
            "Avoid alcohol intake while on metronidazole.", // advice
            "Reports cramping and vaginal spotting.",       // no muscle named
            "Sustained a low energy fall.",
            "Culture grew C. acnes.", // a first word is taken as written
            "1 mm ST depressions in V4-V6.",
        ] {
            assert_eq!(stands(text), [], "{text}");
        }
        // Statuses that disagree are both only possible.
        assert_eq!(stands("Never smoker. Current smoker, 1 ppd."), []);
        // Words after a colon that are no answer leave the field as it is.
        for (text, field) in [
            ("Chest pain: past 3 days, worse with exertion.", "Chest pain"),
            ("Chest pain: denies radiation to the arm.", "Chest pain"),
            ("Diabetes: no retinopathy.", "Diabetes"),
        ] {
            assert_eq!(stands(text), [(field.to_string(), Assertion::Present)], "{text}");
        }
        assert_eq!(stands("Tobacco: quit smoking in 1958."), [], "quit, and the habit again: stays an answer");
    }

    #[test]
    fn a_long_text_is_read_in_passages_as_its_parts_are() {
        use crate::passages::PASSAGE_BYTES;
        let note = "Past Medical History: asthma and hypertension. Denies chest pain.\nMedications: lisinopril 10 mg po daily\n\n";
        let read = |out: &NlpOutput, from: usize| -> Vec<(EntityType, usize, Assertion, Option<String>)> {
            let mut v: Vec<_> = out
                .entities
                .iter()
                .filter(|e| e.start >= from && e.end <= from + note.len())
                .map(|e| (e.kind, e.start - from, e.assertion, e.attrs.route.clone()))
                .collect();
            v.sort_by_key(|x| (x.1, x.0));
            v
        };
        let alone = read(&engine().analyze(note), 0);
        assert!(alone.len() >= 4, "{alone:?}");
        let copies = PASSAGE_BYTES / note.len() * 3;
        let long = engine().analyze(&note.repeat(copies));
        for k in 0..copies {
            assert_eq!(read(&long, k * note.len()), alone, "copy {k}");
        }
        // A section that runs across a passage's end still holds what follows it: a family
        // history's conditions stay the family's.
        let family = format!("Family History:\n{}", "Diabetes mellitus.\nAsthma.\n".repeat(PASSAGE_BYTES / 10));
        let out = engine().analyze(&family);
        let conditions: Vec<&Entity> = out.entities.iter().filter(|e| e.kind == EntityType::Condition).collect();
        assert!(conditions.last().is_some_and(|e| e.start > PASSAGE_BYTES * 2), "{}", conditions.len());
        assert!(conditions.iter().all(|e| e.assertion == Assertion::Family));
    }

    #[test]
    fn empty_and_odd_text() {
        assert!(engine().analyze("").entities.is_empty());
        let out = engine().analyze("é ü 🩺 —\n\n\t");
        assert!(out.entities.is_empty());
        let long = "Patient denies chest pain. ".repeat(2000);
        let out = engine().analyze(&long);
        assert_eq!(out.entities.len(), 2000);
        assert!(out.entities.iter().all(|e| e.assertion == Assertion::Absent));
    }
}
