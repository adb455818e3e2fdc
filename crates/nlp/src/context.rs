//! Assertion: is a finding present, absent, possible, historical, a relative's, or hypothetical?
//!
//! A ConText-style algorithm over tokens, with its rules as data: medspaCy 1.3.1's English rules
//! (`data/terminology/context_medspacy.tsv`, MIT, expanded to word sequences by
//! `scripts/data/build_terminology.py`) plus paperchart's own additions and removals
//! (`data/terminology/curated/context.tsv`).
//!
//! The scope of a finding is its clause: the sentence around it, cut at list numbers, heading
//! colons and closed parentheses. Trigger phrases before the finding ("denies", "no evidence of",
//! "history of", "mother") or after it ("was ruled out", "is unlikely") set the assertion unless a
//! terminator of their category ("but", "however", "presents with") stands between them and the
//! finding. Where matches overlap, the longest wins, so a pseudo-trigger ("no increase", "not
//! only") silences the trigger inside it. The section adds context: Family History makes findings
//! a relative's, and patient instructions make them hypothetical.
//!
//! When several apply, the strongest wins: absent > family > hypothetical > possible > historical.

use super::sections::SectionKind;
use super::text::{term_tokens, tokenize, Token};
use super::Assertion;
use crate::tables::rows;

const MEDSPACY_RULES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/context_medspacy.tsv"));
const CURATED_RULES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/context.tsv"));

/// Tokens further than this from the finding never govern it.
const MAX_PRE_TOKENS: usize = 15;
const MAX_POST_TOKENS: usize = 6;

/// What is being asserted, for the reach of a negation written before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A condition, test or procedure: ConText's scope, the clause up to a terminator.
    Finding,
    /// A drug: negated as ConText says, unless the drug is the instrument of another negated
    /// thing — an outcome or another finding followed by "with", "on", "by" … and then the drug
    /// ("no improvement of the pain with ibuprofen", "resolution of glaucoma with
    /// methylprednisolone", "no bleeding on warfarin", "not relieved by taking etizolam"). Other
    /// findings in the clause must stand in the text as words of `x` (not blanked) for this to
    /// see them.
    Drug,
}

/// Words that date a finding as past, for [`Assertor::looks_ahead`]. Written for paperchart.
const TIME_WORDS: &[&str] = &["previously", "formerly", "past", "prior", "earlier", "once"];

/// Words after a time word that begin an object of its own: a drug taken, a thing had or done.
/// Written for paperchart.
const LEADS_ON: &[&str] = &[
    "on",
    "taking",
    "took",
    "taken",
    "had",
    "has",
    "received",
    "receiving",
    "given",
    "started",
    "tried",
    "used",
    "using",
    "treated",
    "with",
    "prescribed",
    "underwent",
    "diagnosed",
];

/// Words of an outcome a negation may be about, with a drug as its instrument after a
/// preposition ("no response to steroids", "no benefit from gabapentin"). Written for paperchart.
const OUTCOME_WORDS: &[&str] = &[
    "improvement",
    "improved",
    "improve",
    "improving",
    "resolution",
    "resolved",
    "resolve",
    "relief",
    "relieved",
    "response",
    "responded",
    "responding",
    "responsive",
    "benefit",
    "change",
    "changes",
    "effect",
    "effects",
    "reaction",
    "reactions",
    "complication",
    "complications",
    "toxicity",
    "problem",
    "problems",
    "issue",
    "issues",
    "success",
    "difference",
    "recurrence",
    "recurred",
    "recur",
    "recurring",
    "worsening",
    "events",
    "event",
];

/// Prepositions that make a drug the instrument of what stands before them.
const INSTRUMENT_WORDS: &[&str] = &["with", "on", "by", "from", "after", "despite", "following", "to", "under"];

/// Words that may follow that preposition before the drug: determiners, taking it, routes.
const DRUG_LEAD_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "his",
    "her",
    "their",
    "its",
    "this",
    "taking",
    "using",
    "receiving",
    "treatment",
    "therapy",
    "oral",
    "iv",
    "intravenous",
    "topical",
    "inhaled",
    "high",
    "low",
    "dose",
    "of",
    "and",
    "or",
];

/// Is the drug after `between` (the words from a negation to it) the instrument of another
/// negated thing? Yes when the last instrument preposition stands right after another finding (a
/// word of `x`) or within four words of an outcome word ("improvement of the pain with"), and
/// only lead words follow it.
fn drug_is_instrument(between: &[String]) -> bool {
    let masked = |w: &str| w.len() >= 2 && w.bytes().all(|b| b == b'x');
    let Some(i) = between.iter().rposition(|w| INSTRUMENT_WORDS.contains(&w.as_str())) else { return false };
    i > 0
        && (masked(&between[i - 1])
            || between[i.saturating_sub(4)..i].iter().any(|w| OUTCOME_WORDS.contains(&w.as_str())))
        && between[i + 1..].iter().all(|w| DRUG_LEAD_WORDS.contains(&w.as_str()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Negated,
    Possible,
    Historical,
    Family,
    Hypothetical,
    /// Looks like a trigger and is not; it only takes its words away from shorter triggers.
    Pseudo,
    /// Terminators for every category.
    Any,
}

impl Category {
    fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "NEGATED_EXISTENCE" => Category::Negated,
            "POSSIBLE_EXISTENCE" => Category::Possible,
            "HISTORICAL" => Category::Historical,
            "FAMILY" => Category::Family,
            "HYPOTHETICAL" => Category::Hypothetical,
            "PSEUDO" => Category::Pseudo,
            "ANY" => Category::Any,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Backward,
    Both,
    Terminate,
    Pseudo,
}

impl Direction {
    fn parse(s: &str) -> Option<Direction> {
        Some(match s {
            "FORWARD" => Direction::Forward,
            "BACKWARD" => Direction::Backward,
            "BIDIRECTIONAL" => Direction::Both,
            "TERMINATE" => Direction::Terminate,
            "PSEUDO" => Direction::Pseudo,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
struct Rule {
    category: Category,
    direction: Direction,
    words: Vec<String>,
    /// Counts only right next to the finding (a phrase written ": none").
    adjacent: bool,
}

/// "prn", "as needed": a hypothetical trigger of a sig, about what a drug is for.
fn is_dosing_word(words: &[String]) -> bool {
    matches!(words, [w] if w == "prn") || matches!(words, [a, b] if a == "as" && b == "needed")
}

/// "refuses", "refused", "refusing": a negation of what is refused.
fn is_refusal(words: &[String]) -> bool {
    matches!(words, [w] if w.starts_with("refus"))
}

/// A rule found in a window: its first word and length.
#[derive(Debug, Clone, Copy)]
struct Hit {
    at: usize,
    len: usize,
    rule: usize,
}

pub struct Assertor {
    rules: Vec<Rule>,
    /// Rule indexes by first word, longest first.
    by_first: std::collections::HashMap<String, Vec<usize>>,
}

/// Parses one rules table: (removal, rule) per line. Panics on a malformed line: the tables are
/// compiled in and checked by the tests.
fn parse_rules(tsv: &str) -> Vec<(bool, Rule)> {
    let mut out = Vec::new();
    for cols in rows(tsv) {
        let [cat, dir, phrase, ..] = cols[..] else { panic!("context rule without 3 columns: {cols:?}") };
        let (remove, cat) = match cat.strip_prefix('-') {
            Some(c) => (true, c),
            None => (false, cat),
        };
        let category = Category::parse(cat).unwrap_or_else(|| panic!("unknown context category {cat:?}"));
        let direction = Direction::parse(dir).unwrap_or_else(|| panic!("unknown context direction {dir:?}"));
        let adjacent = phrase.trim_start().starts_with(':');
        let words = term_tokens(phrase);
        assert!(!words.is_empty(), "context rule without words: {cols:?}");
        out.push((remove, Rule { category, direction, words, adjacent }));
    }
    out
}

impl Default for Assertor {
    fn default() -> Self {
        Self::new()
    }
}

impl Assertor {
    pub fn new() -> Assertor {
        let mut rules: Vec<Rule> = Vec::new();
        let same = |a: &Rule, b: &Rule| a.category == b.category && a.direction == b.direction && a.words == b.words;
        for (remove, rule) in parse_rules(MEDSPACY_RULES).into_iter().chain(parse_rules(CURATED_RULES)) {
            rules.retain(|r| !same(r, &rule));
            if !remove {
                rules.push(rule);
            }
        }
        let mut by_first: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            by_first.entry(r.words[0].clone()).or_default().push(i);
        }
        for v in by_first.values_mut() {
            v.sort_by_key(|&i| std::cmp::Reverse(rules[i].words.len()));
        }
        Assertor { rules, by_first }
    }

    /// The assertion of the finding at byte span `start..end` of `text`, in `section`. Words
    /// before `floor` (the end of the section heading) are not read: "Past Medical History:" is a
    /// heading, not a trigger.
    pub fn assert(
        &self,
        text: &str,
        start: usize,
        end: usize,
        section: Option<SectionKind>,
        floor: usize,
        target: Target,
    ) -> Assertion {
        let (c0, c1) = clause(text, start, end);
        let c0 = self.heading_floor(text, c0.max(floor.min(start)), start);
        let before_text = spelled(without_closed_parentheses(&text[c0..start]));
        let before_tokens = tokenize(&before_text);
        let before_tokens = &before_tokens[before_tokens.len().saturating_sub(MAX_PRE_TOKENS)..];
        let before: Vec<String> = before_tokens.iter().map(|t| super::text::fold(t.text(&before_text))).collect();
        // One word past the reach, to see where a time word at its end goes on to.
        let after_one_more = first_words(&text[end..c1], MAX_POST_TOKENS + 1);
        let after = &after_one_more[..after_one_more.len().min(MAX_POST_TOKENS)];
        let next_to = |h: &Hit| after_one_more.get(h.at + h.len).map(String::as_str);
        let post: Vec<Hit> = self.hits(after).into_iter().filter(|h| !self.looks_ahead(h, next_to(h))).collect();
        let before = &before[..];
        let pre = self.hits(before);

        let question = text[..start].trim_end().ends_with('?')
            || text[end..c1].trim_start().starts_with('?')
            || text[end..c1].trim_start().starts_with("(?");
        // "Allergies: none" — a rule written with a colon needs one between the finding and it.
        let colon_next = text[end..c1].trim_start().starts_with([':', '-']);
        // A comma after each word before the finding: a refusal reaches only its object.
        let last_comma = before_text.rfind(',');
        let commas: Vec<bool> = before_tokens.iter().map(|t| last_comma.is_some_and(|c| c >= t.end)).collect();
        let applies = |c: Category| {
            self.governs(&pre, before, &commas, before.len(), c, true, target)
                || self.governs(&post, after, &[], usize::from(colon_next), c, false, target)
        };

        if applies(Category::Negated)
            || target == Target::Finding
                && self.negation_past_pseudo(&before_text, &text[end..c1], before_tokens, before, &pre)
        {
            return Assertion::Absent;
        }
        if section == Some(SectionKind::FamilyHistory) || applies(Category::Family) {
            return Assertion::Family;
        }
        if section == Some(SectionKind::Instructions) || applies(Category::Hypothetical) {
            return Assertion::Hypothetical;
        }
        if question || applies(Category::Possible) {
            return Assertion::Possible;
        }
        if applies(Category::Historical) {
            return Assertion::Historical;
        }
        Assertion::Present
    }

    /// The rules found in `words`, without those inside a longer match ("no" inside the pseudo
    /// trigger "no increase").
    fn hits(&self, words: &[String]) -> Vec<Hit> {
        let mut all = Vec::new();
        for i in 0..words.len() {
            let Some(ids) = self.by_first.get(&words[i]) else { continue };
            for &r in ids {
                let w = &self.rules[r].words;
                if i + w.len() <= words.len() && words[i..i + w.len()] == w[..] {
                    all.push(Hit { at: i, len: w.len(), rule: r });
                }
            }
        }
        all.sort_by_key(|h| (std::cmp::Reverse(h.len), h.at));
        let mut kept: Vec<Hit> = Vec::new();
        for h in all {
            let inside_longer = kept.iter().any(|k| k.len > h.len && k.at <= h.at && h.at + h.len <= k.at + k.len);
            if !inside_longer {
                kept.push(h);
            }
        }
        kept.sort_by_key(|h| h.at);
        kept
    }

    /// A pseudo-trigger that starts with a negation ("no change in vision") keeps the negation
    /// from its own object only: the list it opens goes on negated ("no change in vision,
    /// diplopia or change in hearing" — no diplopia). True when a list separator stands between
    /// such a pseudo-trigger and the finding, with no terminator of negation after it.
    fn negation_past_pseudo(&self, text: &str, after: &str, tokens: &[Token], words: &[String], hits: &[Hit]) -> bool {
        hits.iter().enumerate().any(|(i, h)| {
            let r = &self.rules[h.rule];
            // Only the plain "no change": "no significant change in the effusion, atelectasis and
            // cardiomegaly" (radiology) says all three are still there.
            if r.category != Category::Pseudo
                || h.at + h.len > words.len()
                || !matches!(&words[h.at..h.at + h.len], [a, b] if a == "no" && (b == "change" || b == "changes"))
            {
                return false;
            }
            let opens_with_negation = (1..h.len).any(|n| {
                self.by_first.get(&words[h.at]).is_some_and(|ids| {
                    ids.iter().any(|&k| {
                        let k = &self.rules[k];
                        k.category == Category::Negated
                            && matches!(k.direction, Direction::Forward | Direction::Both)
                            && k.words[..] == words[h.at..h.at + n]
                    })
                })
            });
            let later = &hits[i + 1..];
            // A list of alternatives ("vision, diplopia or change in hearing"): a comma before the
            // finding and an "or" in the list.
            let list_follows = {
                let rest = &text[tokens[h.at + h.len - 1].end..];
                let or = |s: &str| s.contains(" or ") || s.contains(" nor ");
                rest.contains(',') && (or(rest) || or(after))
            };
            opens_with_negation
                && list_follows
                && !later.iter().any(|k| {
                    let k = &self.rules[k.rule];
                    k.direction == Direction::Terminate && matches!(k.category, Category::Negated | Category::Any)
                        || k.category == Category::Pseudo
                })
        })
    }

    /// A time word after a finding that goes on to an object of its own ("Metformin 500 mg
    /// daily, previously on glipizide", "aspirin, formerly taking warfarin"): it dates what
    /// follows it, not the finding before it. Only words that are triggers both ways.
    fn looks_ahead(&self, h: &Hit, next: Option<&str>) -> bool {
        let r = &self.rules[h.rule];
        r.category == Category::Historical
            && r.words.len() <= 3
            && TIME_WORDS.iter().any(|w| r.words.iter().any(|x| x == w))
            && next.is_some_and(|w| LEADS_ON.contains(&w))
            && self.rules.iter().any(|f| {
                f.category == r.category
                    && matches!(f.direction, Direction::Forward | Direction::Both)
                    && f.words == r.words
            })
    }

    /// Does a trigger of category `c` govern the finding? Before it (`pre`), a forward trigger
    /// with no terminator of its category between it and the finding at `finding`; after it, a
    /// backward trigger with none between the finding and it (an adjacent-only rule must start at
    /// word `finding`: 0 when a colon follows the finding, 1 when none does). A negation before a
    /// drug does not govern it where the drug is the instrument of another thing ([`Target::Drug`]).
    #[allow(clippy::too_many_arguments)]
    fn governs(
        &self,
        hits: &[Hit],
        words: &[String],
        commas: &[bool],
        finding: usize,
        c: Category,
        pre: bool,
        target: Target,
    ) -> bool {
        let terminates = |h: &Hit| {
            let r = &self.rules[h.rule];
            r.direction == Direction::Terminate && (r.category == c || r.category == Category::Any)
        };
        hits.iter().enumerate().any(|(i, h)| {
            let r = &self.rules[h.rule];
            if r.category != c {
                return false;
            }
            if pre {
                matches!(r.direction, Direction::Forward | Direction::Both)
                    && h.at + h.len <= finding
                    && !hits[i + 1..].iter().any(terminates)
                    && (target == Target::Finding
                        || c != Category::Negated
                        || !drug_is_instrument(&words[h.at + h.len..finding]))
                    // "PRN medications: ondansetron", "Lorazepam prn, Haldol 5 mg": a dosing word
                    // makes what a drug is given for conditional, not the drug.
                    && !(target == Target::Drug && c == Category::Hypothetical && is_dosing_word(&r.words))
                    // "refused colonoscopy", "prn wheeze": a refusal or a dosing word reaches only
                    // its object — three words at most, no comma between — never along a list of
                    // what the patient did ("refused to leave his room, stopped eating, and began
                    // falling", "refused warfarin, started apixaban").
                    && (!(is_refusal(&r.words) || is_dosing_word(&r.words))
                        || finding - (h.at + h.len) <= 3 && !commas.get(h.at + h.len - 1).copied().unwrap_or(false))
            } else {
                matches!(r.direction, Direction::Backward | Direction::Both)
                    && (!r.adjacent || (h.at < finding && answer_tail(&words[h.at + h.len..])))
                    && !hits[..i].iter().any(terminates)
            }
        })
    }

    /// Moves the start of the clause past a heading's colon ("COMPLICATIONS: None  DIAGNOSIS:
    /// ..."): what stands before a heading does not govern what follows it. A colon after a
    /// trigger ("Denies: chest pain") is not a heading.
    fn heading_floor(&self, text: &str, c0: usize, start: usize) -> usize {
        let seg = &text[c0..start];
        let Some(colon) = seg.rfind(':') else { return c0 };
        let head = seg[..colon].trim_end();
        let last = head.rsplit(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).unwrap_or("");
        if !last.chars().next().is_some_and(char::is_uppercase) {
            return c0;
        }
        let head_words = words(head);
        let ends_in_trigger = self.hits(&head_words).iter().any(|h| {
            let r = &self.rules[h.rule];
            h.at + h.len == head_words.len() && matches!(r.direction, Direction::Forward | Direction::Both)
        });
        if ends_in_trigger {
            c0
        } else {
            c0 + colon + 1
        }
    }
}

/// `s` with every parenthesised aside that closes inside it blanked out: "(slides not submitted)"
/// says nothing about what follows it.
fn without_closed_parentheses(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(')') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut open: Vec<usize> = Vec::new();
    for c in s.chars() {
        match c {
            '(' => {
                open.push(out.len());
                out.push(' ');
            }
            ')' => match open.pop() {
                Some(at) => {
                    out.truncate(at);
                    out.push(' ');
                }
                None => out.push(' '),
            },
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The first `n` words of `s`.
fn first_words(s: &str, n: usize) -> Vec<String> {
    words_of(s, |t| &t[..t.len().min(n)])
}

fn words(s: &str) -> Vec<String> {
    words_of(s, |t| t)
}

/// `s` with "-ve for" and "+ve for" spelled out: they differ only in punctuation, which the
/// tokenizer drops.
fn spelled(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    if s.contains("ve ") {
        std::borrow::Cow::Owned(s.replace("-ve ", " negative ").replace("+ve ", " positive "))
    } else {
        s
    }
}

/// The normalised words of `s` that `pick` keeps of its tokens.
fn words_of(s: &str, pick: impl FnOnce(&[Token]) -> &[Token]) -> Vec<String> {
    let s = spelled(std::borrow::Cow::Borrowed(s));
    pick(&tokenize(&s)).iter().map(|t| super::text::fold(t.text(&s))).collect()
}

/// The clause holding `start..end`: from the last sentence boundary before it to the first after.
pub fn clause(text: &str, start: usize, end: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let mut c0 = 0;
    let mut i = start;
    while i > 0 {
        i -= 1;
        if is_boundary(text, b, i) {
            c0 = i + 1;
            break;
        }
    }
    let mut c1 = text.len();
    let mut j = end;
    while j < b.len() {
        if is_boundary(text, b, j) {
            c1 = j;
            break;
        }
        j += 1;
    }
    (c0, c1)
}

/// What may follow a field's answer and keep it the whole value ("Tobacco: quit smoking in 1958",
/// "Smoking: never smoked"): a time, or the habit named again. Anything else ("Chest pain: denies
/// radiation", "Diabetes: no retinopathy") makes the words after the colon a statement of their
/// own, not an answer about the field.
fn answer_tail(rest: &[String]) -> bool {
    const TAIL: &[&str] = &[
        "in",
        "since",
        "ago",
        "year",
        "years",
        "yr",
        "yrs",
        "smoking",
        "smoked",
        "smoker",
        "drinking",
        "drinker",
        "drinks",
        "tobacco",
        "cigarettes",
        "alcohol",
        "etoh",
        "use",
        "used",
        "known",
        "reported",
    ];
    rest.iter().all(|w| w.bytes().all(|b| b.is_ascii_digit()) || TAIL.contains(&w.as_str()))
}

/// Words no sentence ends with: they wait for what follows (an object, a noun).
const OPEN_WORDS: &[&str] = &[
    "denies", "denied", "deny", "denying", "reports", "reported", "without", "with", "of", "and", "or", "the", "a",
    "an", "to", "for", "in", "on", "at", "by", "from",
];

/// Is byte `i` a sentence or list boundary? Newlines count only when they separate (see
/// [`super::text::line_break_separates`]), so a sentence wrapped across OCR lines stays whole.
/// Words that, after a comma, begin a new statement about the patient ("Denies fever, has
/// cough", "No edema, is ambulating").
const NEW_STATEMENT: &[&str] = &["has", "have", "had", "is", "was", "are", "were", "endorses", "reports"];

fn is_boundary(text: &str, b: &[u8], i: usize) -> bool {
    match b[i] {
        b';' | b'!' => true,
        b'.' => {
            // "p.o." or "3.5" are not sentence ends; ". Next" is.
            let next = b.get(i + 1).copied();
            let after = b.get(i + 2).copied();
            // A full word before ". " ends a sentence whatever the case after it ("cancer. s/p"),
            // unless no sentence ends with it: OCR's speck after "denies" or "of" before a small
            // letter ("The patient denies. fever") leaves the sentence whole.
            let word = b[..i].iter().rev().take_while(|c| c.is_ascii_alphabetic()).count();
            // (Findings are blanked out while context is read: look past blanks.)
            let resumes = b[i + 1..].iter().find(|c| **c != b' ').is_some_and(|c| c.is_ascii_lowercase());
            let open = word > 0 && resumes && {
                let w = text[i - word..i].to_ascii_lowercase();
                OPEN_WORDS.contains(&w.as_str())
            };
            matches!(next, None | Some(b'\n'))
                || (next == Some(b' ')
                    && !open
                    && (word >= 4 || after.is_some_and(|c| c.is_ascii_uppercase() || c == b' ' || c == b'\n')))
        }
        b'\n' => super::text::line_break_separates(text, i),
        // "Denies fever, has cough": a comma before a verb of a new statement about the patient.
        // (A finding blanked out while context is read is many spaces: not skipped over.)
        b',' => {
            let rest = &text[i + 1..];
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            let word = &rest[..rest.bytes().take_while(u8::is_ascii_alphabetic).count()];
            NEW_STATEMENT.iter().any(|w| word.eq_ignore_ascii_case(w))
        }
        // A list number, "2) Hiatal hernia", starts an entry of its own.
        b')' => {
            let digits = b[..i].iter().rev().take_while(|c| c.is_ascii_digit()).count();
            digits > 0
                && (i == digits || b[i - digits - 1].is_ascii_whitespace())
                && b.get(i + 1).is_none_or(|c| c.is_ascii_whitespace())
        }
        // "*** Measurements Not Obtainable ***" is a banner, not a sentence.
        b'*' => b.get(i + 1) == Some(&b'*') && b.get(i + 2) == Some(&b'*'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drug(sentence: &str, concept: &str) -> Assertion {
        let start = sentence.find(concept).unwrap_or_else(|| panic!("{concept} not in {sentence}"));
        Assertor::new().assert(sentence, start, start + concept.len(), None, 0, Target::Drug)
    }

    fn check(sentence: &str, concept: &str, section: Option<SectionKind>) -> Assertion {
        let start = sentence.find(concept).unwrap_or_else(|| panic!("{concept} not in {sentence}"));
        Assertor::new().assert(sentence, start, start + concept.len(), section, 0, Target::Finding)
    }

    #[test]
    fn negation_before_and_after() {
        assert_eq!(check("Patient denies chest pain.", "chest pain", None), Assertion::Absent);
        assert_eq!(check("No fever, chills, or night sweats.", "night sweats", None), Assertion::Absent);
        assert_eq!(check("Pneumonia was ruled out.", "Pneumonia", None), Assertion::Absent);
        assert_eq!(check("Negative for DVT.", "DVT", None), Assertion::Absent);
        assert_eq!(check("No known drug allergies.", "drug allergies", None), Assertion::Absent);
        assert_eq!(check("He has chest pain.", "chest pain", None), Assertion::Present);
    }

    #[test]
    fn terminators_and_pseudo_triggers_limit_negation() {
        assert_eq!(check("No fever but has a productive cough.", "cough", None), Assertion::Present);
        assert_eq!(check("There is no increase in edema.", "edema", None), Assertion::Present);
        assert_eq!(check("Denies fever. Reports headache.", "headache", None), Assertion::Present);
        assert_eq!(check("Not only asthma but also COPD.", "asthma", None), Assertion::Present);
    }

    #[test]
    fn other_contexts() {
        assert_eq!(check("Rule out pneumonia.", "pneumonia", None), Assertion::Possible);
        assert_eq!(check("Cannot exclude pulmonary embolism.", "pulmonary embolism", None), Assertion::Possible);
        assert_eq!(check("Possible UTI?", "UTI", None), Assertion::Possible);
        assert_eq!(
            check("History of myocardial infarction in 2015.", "myocardial infarction", None),
            Assertion::Historical
        );
        assert_eq!(check("s/p appendectomy", "appendectomy", None), Assertion::Historical);
        assert_eq!(check("62-year-old man with COPD.", "COPD", None), Assertion::Present);
        assert_eq!(check("Mother had breast cancer.", "breast cancer", None), Assertion::Family);
        assert_eq!(check("Diabetes.", "Diabetes", Some(SectionKind::FamilyHistory)), Assertion::Family);
        assert_eq!(check("Return to the ED if chest pain recurs.", "chest pain", None), Assertion::Hypothetical);
        assert_eq!(check("Started on DVT prophylaxis.", "DVT", None), Assertion::Hypothetical);
    }

    #[test]
    fn refusals_reach_their_object_and_a_new_statement_ends_a_negation() {
        assert_eq!(drug("Patient refuses statin therapy.", "statin"), Assertion::Absent);
        assert_eq!(check("He refused colonoscopy.", "colonoscopy", None), Assertion::Absent);
        let s = "He refused to leave his room, stopped eating, and began falling to the floor.";
        assert_eq!(check(s, "falling", None), Assertion::Present);
        assert_eq!(check("Denies fever, has cough.", "cough", None), Assertion::Present);
        assert_eq!(check("No chest pain, reports dyspnea on exertion.", "dyspnea", None), Assertion::Present);
        assert_eq!(check("Denies that he has chest pain.", "chest pain", None), Assertion::Absent);
        assert_eq!(check("No evidence that the patient has pneumonia.", "pneumonia", None), Assertion::Absent);
        assert_eq!(drug("Patient refused warfarin, started apixaban 5 mg BID.", "apixaban"), Assertion::Present);
        assert_eq!(check("Patient refused food, vomiting overnight.", "vomiting", None), Assertion::Present);
        assert_eq!(check("Tylenol prn headaches, has chronic back pain.", "back pain", None), Assertion::Present);
        // "prn": what a drug is given for is conditional; the drug is not.
        assert_eq!(check("Albuterol 2 puffs q4h prn wheeze.", "wheeze", None), Assertion::Hypothetical);
        assert_eq!(drug("PRN medications: ondansetron 4 mg IV.", "ondansetron"), Assertion::Present);
    }

    #[test]
    fn a_time_word_going_on_to_its_own_object_dates_that_object_only() {
        let s = "Metformin 500 mg every other day, previously on glipizide.";
        assert_eq!(drug(s, "Metformin"), Assertion::Present);
        assert_eq!(drug(s, "glipizide"), Assertion::Historical);
        assert_eq!(drug("Aspirin daily, formerly taking warfarin.", "Aspirin"), Assertion::Present);
        assert_eq!(check("Asthma, previously treated with montelukast.", "Asthma", None), Assertion::Present);
        // A time word that ends the clause, or goes on to no object, still dates the finding.
        assert_eq!(check("Hypertension, diagnosed previously.", "Hypertension", None), Assertion::Historical);
        assert_eq!(check("Gout previously.", "Gout", None), Assertion::Historical);
        assert_eq!(check("Pneumonia, resolved with antibiotics.", "Pneumonia", None), Assertion::Historical);
    }

    #[test]
    fn a_pseudo_trigger_keeps_the_negation_from_its_own_object_only() {
        let s = "No change in vision, diplopia or change in hearing.";
        assert_eq!(check(s, "diplopia", None), Assertion::Absent);
        assert_eq!(check(s, "vision", None), Assertion::Present);
        assert_eq!(check("No change in the size of the mass.", "mass", None), Assertion::Present);
        assert_eq!(check("No change in gait, but new tremor.", "tremor", None), Assertion::Present);
        let s = "No significant change in the right pleural effusion, atelectasis and cardiomegaly.";
        assert_eq!(check(s, "atelectasis", None), Assertion::Present, "radiology: still there");
        assert_eq!(check(s, "cardiomegaly", None), Assertion::Present);
        assert_eq!(check("No change in the mass, edema and effusion.", "edema", None), Assertion::Present);
    }

    #[test]
    fn the_patient_named_again_ends_a_relatives_scope() {
        let s = "Mother was GBS positive and the baby was given ampicillin for sepsis.";
        assert_eq!(check(s, "sepsis", None), Assertion::Present);
        assert_eq!(check("Mother of the patient has diabetes.", "diabetes", None), Assertion::Family);
    }

    #[test]
    fn wrapped_lines_stay_one_sentence_but_lists_split() {
        let text = "The patient is a pleasant man who today denies any fever, chills or\nchest pain at rest.";
        assert_eq!(check(text, "chest pain", None), Assertion::Absent);
        assert_eq!(check("The patient denies. fever and chills.", "fever", None), Assertion::Absent, "OCR's speck");
        assert_eq!(
            check("The patient denies.       and chills.", "and", None),
            Assertion::Absent,
            "past a blanked finding"
        );
        assert_eq!(check("Patient denies cough. fever since Monday.", "fever", None), Assertion::Present);
        assert_eq!(check("COVID test negative. influenza A confirmed", "influenza A", None), Assertion::Present);
        let list = "Denies smoking\nHypertension\nDiabetes";
        assert_eq!(check(list, "Hypertension", None), Assertion::Present);
        let pmh = "Past Medical History: HTN, asthma";
        let s = pmh.find("asthma").unwrap();
        assert_eq!(
            Assertor::new().assert(pmh, s, s + 6, Some(SectionKind::PastMedicalHistory), 21, Target::Finding),
            Assertion::Present
        );
    }

    #[test]
    fn rules_come_from_the_data_tables() {
        let a = Assertor::new();
        let has = |c: Category, d: Direction, p: &str| {
            let w = term_tokens(p);
            a.rules.iter().any(|r| r.category == c && r.direction == d && r.words == w)
        };
        // medspaCy's, expanded from its token patterns.
        assert!(has(Category::Negated, Direction::Forward, "sufficient to rule pt out for"));
        assert!(has(Category::Family, Direction::Forward, "grandmothers"));
        // Removed by the curated table: prophylaxis is not a negation here.
        assert!(!has(Category::Negated, Direction::Backward, "prophylaxis"));
        assert!(has(Category::Hypothetical, Direction::Backward, "prophylaxis"));
        assert!(a.rules.len() > 800, "{} rules", a.rules.len());
    }

    #[test]
    fn headings_list_numbers_and_asides_bound_the_scope() {
        let ops = "COMPLICATIONS:  None    POSTOPERATIVE DIAGNOSIS(ES):  1) Internal hemorrhoids  2) Normal ileum";
        assert_eq!(check(ops, "Internal hemorrhoids", None), Assertion::Present);
        assert_eq!(check("Denies: chest pain", "chest pain", None), Assertion::Absent);
        let aside = "Review (slides not submitted) indicates a diagnosis of hairy cell leukemia.";
        assert_eq!(check(aside, "hairy cell leukemia", None), Assertion::Present);
        assert_eq!(check("*** Not Obtainable ***  Referring diagnosis syncope", "syncope", None), Assertion::Present);
        assert_eq!(check("ROS is -ve for anemia.", "anemia", None), Assertion::Absent);
        assert_eq!(check("FH is +ve for a sister with colon polyps.", "colon polyps", None), Assertion::Family);
        // ": none" needs its colon (or dash): "supple, no JVD" says nothing of "supple".
        assert_eq!(check("Allergies: none.", "Allergies", None), Assertion::Absent);
        assert_eq!(check("Neck supple, no JVD.", "Neck supple", None), Assertion::Present);
    }
}
