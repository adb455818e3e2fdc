//! Assertion: is a finding present, absent, possible, historical, a relative's, or hypothetical?
//!
//! A NegEx/ConText-style algorithm over tokens. The scope of a finding is its clause: the sentence
//! around it cut at terminators ("but", "however", "except" …). Trigger phrases before the finding
//! ("denies", "no evidence of", "history of", "mother") or after it ("was ruled out", "is
//! unlikely") within that clause set the assertion, unless a pseudo-trigger ("no increase", "not
//! only") covers them. The section adds context: Family History makes findings a relative's, and
//! patient instructions make them hypothetical.
//!
//! When several apply, the strongest wins: absent > family > hypothetical > possible > historical.

use super::sections::SectionKind;
use super::text::{term_tokens, tokenize};
use super::Assertion;

const NEG_PRE: &[&str] = &[
    "no",
    "not",
    "denies",
    "denied",
    "deny",
    "denying",
    "without",
    "w/o",
    "negative for",
    "neg for",
    "free of",
    "free from",
    "absence of",
    "no evidence of",
    "no sign of",
    "no signs of",
    "never had",
    "never",
    "none",
    "rules out",
    "ruled out",
    "no complaints of",
    "not demonstrate",
    "fails to reveal",
    "failed to reveal",
    "nor",
    "neither",
    "unremarkable for",
    "no known",
    "did not have",
    "does not have",
    "doesn't have",
    "didn't have",
    "has not had",
    "negative",
    "resolution of",
    "no findings of",
    "not see",
    "not appreciate",
    "not appreciated",
    "absent",
    "no further evidence of",
    "cannot see",
    "no history of",
    "no hx of",
    "no h/o",
    "no family history of",
    "not had",
    "nkda",
    "nka",
];

const NEG_POST: &[&str] = &[
    "is ruled out",
    "was ruled out",
    "are ruled out",
    "been ruled out",
    "ruled out",
    "is negative",
    "was negative",
    "were negative",
    "negative",
    "not seen",
    "was not seen",
    "not present",
    "is absent",
    "was absent",
    "absent",
    "not found",
    "has been excluded",
    "was excluded",
    "excluded",
    "denied",
    "free",
    "resolved",
];

const PSEUDO: &[&str] = &[
    "no increase",
    "no change",
    "no significant change",
    "no interval change",
    "not only",
    "not necessarily",
    "without difficulty",
    "no further",
    "not certain if",
    "not certain whether",
    "gram negative",
    "not rule out",
    "not ruled out",
    "not been ruled out",
    "not cause",
    "not drain",
    "no suspicious change",
    "not extend",
    "without any further",
    "not appear",
    "no definite change",
    "not exclude",
    "cannot exclude",
    "can not exclude",
    "cannot be excluded",
    "can not be excluded",
    "cannot rule out",
    "can not rule out",
    "cannot be ruled out",
    "not excluded",
    "no new",
    "not worse",
    "no worsening",
    "not improved",
    "without change",
];

const POSSIBLE_PRE: &[&str] = &[
    "possible",
    "possibly",
    "probable",
    "probably",
    "likely",
    "suspected",
    "suspect",
    "suspicious for",
    "concern for",
    "concerning for",
    "question of",
    "questionable",
    "rule out",
    "r/o",
    "rule-out",
    "cannot exclude",
    "can not exclude",
    "cannot rule out",
    "can not rule out",
    "may have",
    "might have",
    "could be",
    "differential diagnosis",
    "ddx",
    "versus",
    "vs",
    "presumed",
    "presumably",
    "consider",
    "evaluate for",
    "evaluation for",
    "worrisome for",
    "not ruled out",
    "not rule out",
    "suggestive of",
    "questionable",
    "equivocal",
    "borderline",
];

const POSSIBLE_POST: &[&str] = &[
    "cannot be excluded",
    "can not be excluded",
    "cannot be ruled out",
    "can not be ruled out",
    "not excluded",
    "is possible",
    "is likely",
    "is suspected",
    "unlikely",
    "suspected",
    "versus",
    "vs",
    "is not ruled out",
    "was not ruled out",
    "not ruled out",
    "is questionable",
];

const HISTORICAL_PRE: &[&str] = &[
    "history of",
    "hx of",
    "h/o",
    "s/p",
    "status post",
    "prior",
    "previous",
    "previously",
    "remote",
    "history significant for",
    "past history of",
    "in the past",
    "childhood",
    "had a",
];

const HISTORICAL_POST: &[&str] = &["in the past", "years ago", "as a child", "in childhood", "resolved", "previously"];

const FAMILY: &[&str] = &[
    "mother",
    "father",
    "mom",
    "dad",
    "brother",
    "brothers",
    "sister",
    "sisters",
    "sibling",
    "siblings",
    "parent",
    "parents",
    "grandmother",
    "grandfather",
    "grandparent",
    "grandparents",
    "aunt",
    "uncle",
    "cousin",
    "son",
    "daughter",
    "maternal",
    "paternal",
    "family history of",
    "family hx of",
    "fh of",
    "fhx of",
    "family member",
    "relative",
    "relatives",
];

const HYPOTHETICAL_PRE: &[&str] = &[
    "if",
    "should",
    "return if",
    "call if",
    "in case of",
    "in the event of",
    "watch for",
    "monitor for",
    "seek care if",
    "seek medical attention if",
    "return for",
    "precautions",
    "at risk for",
    "risk of",
    "risk for",
    "to prevent",
    "prevention of",
    "screening for",
    "screen for",
    "in case",
    "report any",
];

const HYPOTHETICAL_POST: &[&str] = &["prophylaxis", "precautions", "prevention", "screening", "risk"];

const TERMINATORS: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "except",
    "aside from",
    "apart from",
    "yet",
    "which",
    "presents with",
    "presenting with",
    "presented with",
    "complains of",
    "complaining of",
    "reports",
    "now",
    "currently",
    "secondary to",
    "due to",
    "because",
    "since",
    "still",
    "remains",
    "otherwise",
    "who",
    "whereas",
    "while",
    "as well as",
    "and has",
    "and is",
    "has had",
];

/// Tokens further than this from the finding never govern it.
const MAX_PRE_TOKENS: usize = 15;
const MAX_POST_TOKENS: usize = 6;

pub struct Assertor {
    neg_pre: Vec<Vec<String>>,
    neg_post: Vec<Vec<String>>,
    pseudo: Vec<Vec<String>>,
    possible_pre: Vec<Vec<String>>,
    possible_post: Vec<Vec<String>>,
    historical_pre: Vec<Vec<String>>,
    historical_post: Vec<Vec<String>>,
    family: Vec<Vec<String>>,
    hypothetical_pre: Vec<Vec<String>>,
    hypothetical_post: Vec<Vec<String>>,
    terminators: Vec<Vec<String>>,
}

fn compile(list: &[&str]) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = list.iter().map(|p| term_tokens(p)).filter(|t| !t.is_empty()).collect();
    // Longest first, so "no evidence of" is seen before "no".
    v.sort_by_key(|t| std::cmp::Reverse(t.len()));
    v
}

/// Does `phrase` occur in `words` starting at `at`?
fn at(words: &[String], at: usize, phrase: &[String]) -> bool {
    at + phrase.len() <= words.len() && words[at..at + phrase.len()] == *phrase
}

impl Default for Assertor {
    fn default() -> Self {
        Self::new()
    }
}

impl Assertor {
    pub fn new() -> Assertor {
        Assertor {
            neg_pre: compile(NEG_PRE),
            neg_post: compile(NEG_POST),
            pseudo: compile(PSEUDO),
            possible_pre: compile(POSSIBLE_PRE),
            possible_post: compile(POSSIBLE_POST),
            historical_pre: compile(HISTORICAL_PRE),
            historical_post: compile(HISTORICAL_POST),
            family: compile(FAMILY),
            hypothetical_pre: compile(HYPOTHETICAL_PRE),
            hypothetical_post: compile(HYPOTHETICAL_POST),
            terminators: compile(TERMINATORS),
        }
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
    ) -> Assertion {
        let (c0, c1) = clause(text, start, end);
        let c0 = c0.max(floor.min(start));
        let before: Vec<String> = words(&text[c0..start]);
        let after: Vec<String> = words(&text[end..c1]);
        let pre = self.pre_window(&before);
        let post = self.post_window(&after);

        let question = text[..start].trim_end().ends_with('?')
            || text[end..c1].trim_start().starts_with('?')
            || text[end..c1].trim_start().starts_with("(?");

        let negated = self.found_negation(pre, &self.neg_pre) || self.found_negation(post, &self.neg_post);
        if negated {
            return Assertion::Absent;
        }
        if section == Some(SectionKind::FamilyHistory)
            || self.found(pre, &self.family)
            || self.found(post, &self.family)
        {
            return Assertion::Family;
        }
        if section == Some(SectionKind::Instructions)
            || self.found(pre, &self.hypothetical_pre)
            || self.found(post, &self.hypothetical_post)
        {
            return Assertion::Hypothetical;
        }
        if question || self.found(pre, &self.possible_pre) || self.found(post, &self.possible_post) {
            return Assertion::Possible;
        }
        if self.found(pre, &self.historical_pre) || self.found(post, &self.historical_post) {
            return Assertion::Historical;
        }
        Assertion::Present
    }

    /// The words before the finding that can govern it: the last few, cut after the nearest
    /// terminator.
    fn pre_window<'a>(&self, before: &'a [String]) -> &'a [String] {
        let from = before.len().saturating_sub(MAX_PRE_TOKENS);
        let mut cut = from;
        for i in from..before.len() {
            if let Some(t) = self.terminators.iter().find(|t| at(before, i, t)) {
                cut = i + t.len();
            }
        }
        &before[cut.min(before.len())..]
    }

    fn post_window<'a>(&self, after: &'a [String]) -> &'a [String] {
        let to = after.len().min(MAX_POST_TOKENS);
        for i in 0..to {
            if self.terminators.iter().any(|t| at(after, i, t)) {
                return &after[..i];
            }
        }
        &after[..to]
    }

    fn pseudo_covers(&self, words: &[String], i: usize, len: usize) -> bool {
        let lo = i.saturating_sub(4);
        (lo..=i).any(|s| self.pseudo.iter().any(|p| at(words, s, p) && s + p.len() > i && s < i + len))
    }

    /// A negation trigger in the window that no pseudo-negation covers.
    fn found_negation(&self, window: &[String], triggers: &[Vec<String>]) -> bool {
        (0..window.len()).any(|i| triggers.iter().any(|t| at(window, i, t) && !self.pseudo_covers(window, i, t.len())))
    }

    fn found(&self, window: &[String], triggers: &[Vec<String>]) -> bool {
        (0..window.len()).any(|i| triggers.iter().any(|t| at(window, i, t)))
    }
}

fn words(s: &str) -> Vec<String> {
    tokenize(s).iter().map(|t| super::text::fold(t.text(s))).collect()
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

/// Is byte `i` a sentence or list boundary? Newlines count only when they separate (see
/// [`super::text::line_break_separates`]), so a sentence wrapped across OCR lines stays whole.
fn is_boundary(text: &str, b: &[u8], i: usize) -> bool {
    match b[i] {
        b';' | b'!' => true,
        b'.' => {
            // "p.o." or "3.5" are not sentence ends; ". Next" is.
            let next = b.get(i + 1).copied();
            let after = b.get(i + 2).copied();
            matches!(next, None | Some(b'\n'))
                || (next == Some(b' ') && after.is_some_and(|c| c.is_ascii_uppercase() || c == b' ' || c == b'\n'))
        }
        b'\n' => super::text::line_break_separates(text, i),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sentence: &str, concept: &str, section: Option<SectionKind>) -> Assertion {
        let start = sentence.find(concept).unwrap_or_else(|| panic!("{concept} not in {sentence}"));
        Assertor::new().assert(sentence, start, start + concept.len(), section, 0)
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
    fn wrapped_lines_stay_one_sentence_but_lists_split() {
        let text = "The patient is a pleasant man who today denies any fever, chills or\nchest pain at rest.";
        assert_eq!(check(text, "chest pain", None), Assertion::Absent);
        let list = "Denies smoking\nHypertension\nDiabetes";
        assert_eq!(check(list, "Hypertension", None), Assertion::Present);
        let pmh = "Past Medical History: HTN, asthma";
        let s = pmh.find("asthma").unwrap();
        assert_eq!(
            Assertor::new().assert(pmh, s, s + 6, Some(SectionKind::PastMedicalHistory), 21),
            Assertion::Present
        );
    }
}
