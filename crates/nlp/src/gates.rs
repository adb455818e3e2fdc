//! Precision gates: where words and numbers on a page are not findings, whatever the dictionary
//! says. A wrong fact in a patient's record is worse than a missing one, so each gate removes (or
//! withholds the assertion of) a class of false finding seen on real forms:
//!
//! - **Numbers that are not codes.** Phone numbers, dates, money amounts and postal codes are
//!   never read as ICD-10-CM codes ([`not_codes`]); a code standing on its own needs a code
//!   context on its line or the line above ([`code_context_near`]).
//! - **External causes from words.** ICD-10-CM's external-cause chapter (V00–Y99: "accident",
//!   "shot", "activity") classifies how an injury happened; such a concept matched from a word
//!   is never a condition of its own ([`external_cause_only`]).
//! - **Questions are not answers.** A finding inside a question ("AUTO ACCIDENT?", "Contact with
//!   a COVID-19 case?") is not asserted: an answer written after it on the line (Yes, No, a
//!   ticked box) decides, and without one it is withheld ([`question_answer`]).
//! - **Field labels.** A finding written as the label of a field whose value is a sex, a date, a
//!   number or an identifier ("Gender: Male") is the label, not a finding ([`is_field_label`]).
//! - **Identity header rows.** A short capitalised abbreviation on a line of identity column
//!   captions ("Last Name  First Name  MI") is a caption ([`in_identity_header`]).

use std::sync::OnceLock;

use paperchart_model::findings::Assertion;
use regex::Regex;

use crate::checkboxes::{box_token, ticked, Token};

struct Patterns {
    not_codes: Regex,
    code_context: Regex,
    answer: Regex,
    label_value: Regex,
    demographic_key: Regex,
    identity_label: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        not_codes: Regex::new(concat!(
            // Phone numbers, however OCR spaced or bracketed them: (858) 555-0100, (999)-(888)-(1234),
            // 858-555-0100, 858.555.0100, +1 858 555 0100.
            r"(?:\+?1[\s.-]*)?\(?\s*\d{3}\s*\)?[\s.-]*\(?\s*\d{3}\s*\)?[\s.-]*\(?\s*\d{4}\s*\)?",
            // Dates: 10/11/21, 2021-01-18, 1.18.2021.
            r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b",
            // Money: $1,234.00, 12.50 USD.
            r"|\$\s*\d[\d,]*(?:\.\d+)?|\b\d[\d,]*\.\d{2}\s*(?:USD|EUR|GBP)\b",
            // US ZIP+4 and a state then a ZIP ("CA 92127").
            r"|\b\d{5}-\d{4}\b|\b[A-Z]{2}\s+\d{5}\b",
        ))
        .expect("not-code pattern"),
        code_context: Regex::new(r"(?i)\b(?:icd(?:-?10)?(?:-?cm)?|codes?|diagnos[ie]s|dx|ddx|problems?)\b")
            .expect("code context pattern"),
        answer: Regex::new(r"(?i)\[\s*[x✓✔]\s*\]|[☒☑✓✔]|\[[\s_]*\]|[☐□]|\byes\b|\bno\b|\?").expect("answer pattern"),
        demographic_key: Regex::new(
            r"(?:^|\s)(?:state|city|town|county|country|zip(?:\s+code)?|postal\s+code|address|street|relationship|relation|employer|occupation|school|name|first\s+name|last\s+name|marital\s+status|religion|language|race|ethnicity|email|e-mail|pharmacy|insurance|payer)$",
        )
        .expect("demographic key pattern"),
        label_value: Regex::new(concat!(
            r"(?i)^\s*:\s*(?:",
            r"male|female|[mf]|other|unknown|undifferentiated|non-?binary|transgender|",
            r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|",
            r"[#№]?\s*[0-9][0-9A-Za-z-]*",
            r")\s*(?:$|[,;|]|\s{2,}|\s+[A-Z][A-Za-z]*\s*:)",
        ))
        .expect("label value pattern"),
        identity_label: Regex::new(
            r"(?i)\b(?:name|last|first|middle|surname|dob|birth|sex|gender|mrn|patient\s+(?:no|number|id))\b",
        )
        .expect("identity label pattern"),
    })
}

/// Does `pattern` (anchored at `^`) match the text right after `end`? Compiled once into `cell`.
fn starts_after(cell: &OnceLock<Regex>, pattern: &str, text: &str, end: usize) -> bool {
    cell.get_or_init(|| Regex::new(pattern).expect("pattern after a finding")).is_match(&text[end..])
}

/// Is a drug's name followed by a screen's result ("Opiates   Positive", "Benzodiazepines: Neg",
/// "Oxycodone  Not detected")? Then the line is a drug-screen result, not a medication.
pub fn screen_result_follows(text: &str, end: usize) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    starts_after(
        &RE,
        r"(?i)^[ \t]*(?:\([^)\n]{1,20}\))?[ \t]*[:\-]?[ \t]*(?:positive|negative|neg|pos|detected|not\s+detected|none\s+detected|non-?detected|presumptive|screen)\b",
        text,
        end,
    )
}

/// Is a drug's name the first half of a compound that describes, not gives ("vitamin
/// D-deficient", "opioid-naive", "insulin-resistant", "steroid-refractory", "heparin-like")?
pub fn describing_compound_follows(text: &str, end: usize) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    starts_after(
        &RE,
        r"(?i)^-(?:dependent|dependence|deficient|deficiency|resistant|resistance|responsive|sensitive|sensitivity|na[iï]ve|free|refractory|intolerant|intolerance|like|levels?)\b",
        text,
        end,
    )
}

/// Does a dose by weight follow a drug's name at once ("ASA 81 mg", "INH 300mg", "PHT 1,000 mg
/// IV")? Units and millilitres are no such dose ("LTG 2 units" is no lamotrigine).
pub fn dose_follows(text: &str, end: usize) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    starts_after(
        &RE,
        r"(?i)^[ \t]*:?[ \t]*\d[\d,]*(?:\.\d+)?[ \t]*(?:mg|mcg|µg|ug|g|gm|grams?|milligrams?|meq)\b",
        text,
        end,
    )
}

/// Does a name stand alone in a list where it ends ("ASA, PCN", "ASA (hives)", "ASA" at the
/// line's end), rather than go on in words of its own ("INH inhaler", "ASA: II", "ASA class
/// II")?
pub fn listed_alone(text: &str, end: usize) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    starts_after(&RE, r"^[ \t]*(?:$|[\n,;/]|\((?:[^)\n]*[A-Za-z])?|\.(?:\s|$)|-[ \t]*[A-Za-z])", text, end)
}

/// Is a disease's name the first half of a vaccine's ("Influenza vaccine given", "hepatitis B
/// vaccination", "pneumococcal immunization", "tetanus shot", "COVID-19 booster")? It names what
/// the patient was protected against, not what the patient has. "Shot", "booster" and "jab" only
/// after a disease a vaccine prevents: "migraine shots", "osteoporosis shot" are treatments.
pub fn vaccine_follows(text: &str, start: usize, end: usize) -> bool {
    static RE: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (vaccine, shot, preventable) = RE.get_or_init(|| {
        let between = r"(?i)^(?:[ \-]+(?:[ab]|type\s+b|conjugate|polysaccharide|toxoid|\(?hib\)?|[0-9]{1,2}-?valent)){0,3}[ \-]+";
        (
            Regex::new(&format!(r"{between}(?:vaccin\w*|immuni[sz]ation\w*|immuni[sz]ed|inoculat\w*|toxoid)\b")).expect("vaccine"),
            Regex::new(&format!(r"{between}(?:shots?|boosters?|jabs?)\b")).expect("shot"),
            Regex::new(r"(?i)\b(?:influenza|flu|tetanus|covid|sars-cov-2|coronavirus|pneumococcal|pneumonia|hepatitis|zoster|shingles|hpv|papilloma|measles|mumps|rubella|varicella|chickenpox|polio|pertussis|whooping|diphtheria|rabies|typhoid|yellow\s+fever|meningococcal|meningitis|rsv|haemophilus|hib|cholera|encephalitis)")
                .expect("preventable"),
        )
    });
    let after = &text[end..];
    vaccine.is_match(after) || (shot.is_match(after) && preventable.is_match(&text[start..end]))
}

const MODIFIERS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/modifiers.tsv"));

/// What `curated/modifiers.tsv` says of a word written before a finding: "another" (it makes the
/// finding a disease of its own: "gestational diabetes", "juvenile diabetes", "fetal
/// tachycardia"), "keeps" (it says how bad, how long or how sure: "severe"), "narrows" (it says
/// what caused it: "steroid", "induced"), or nothing.
fn modifier(word: &str) -> Option<&'static str> {
    static M: OnceLock<std::collections::HashMap<&'static str, &'static str>> = OnceLock::new();
    M.get_or_init(|| crate::tables::rows(MODIFIERS).filter_map(|r| Some((r[0], *r.get(1)?))).collect())
        .get(word)
        .copied()
}

/// A word written right before a finding that may make it a disease of its own.
#[derive(Debug, PartialEq, Eq)]
pub enum KindBefore {
    /// A prefix joined by a hyphen ("pre-diabetes", "non-epileptic seizures"): the words together
    /// are another concept, which may be a term of its own closed up ("prediabetes").
    Prefix { from: usize, prefix: String },
    /// A word that always makes another disease ("gestational diabetes", "juvenile diabetes").
    Always { from: usize },
    /// A word a condition's name pairs with the finding ("intracranial hypertension", "optic
    /// neuropathy"): a narrower disease, which the finding's code covers only when that code is
    /// the finding's unspecified one.
    Paired { from: usize },
}

/// The word written right before a finding (after a space, or a hyphen) that makes it a disease
/// of its own: "gestational diabetes", "intracranial hypertension", "pre-diabetes". `pairs(word,
/// head)` says whether a condition's name holds the word before the finding's first word.
pub fn kind_before(text: &str, start: usize, head: &str, pairs: impl Fn(&str, &str) -> bool) -> Option<KindBefore> {
    let before = &text[..start];
    let hyphen = before.ends_with('-');
    let gap = before.trim_end_matches([' ', '\t', '-']);
    let sep = &before[gap.len()..];
    if sep.is_empty() || sep.matches('-').count() > 1 || (hyphen && sep.len() > 1) {
        return None;
    }
    let from = alphabetic_tail(gap);
    let word = gap[from..].to_lowercase();
    if word.is_empty() || gap[..from].ends_with(|c: char| c.is_alphanumeric()) {
        return None;
    }
    // The end of a compound ("lead-induced", "NSAID-related"): only a word of cause counts, and
    // the finding keeps its words (the compound names a drug, a finding of its own).
    if gap[..from].ends_with('-') {
        return (modifier(&word) == Some("narrows")).then_some(KindBefore::Paired { from: start });
    }
    if hyphen && crate::text::JOINING_PREFIXES.contains(&word.as_str()) {
        return Some(KindBefore::Prefix { from, prefix: word });
    }
    match modifier(&word) {
        Some("another") => Some(KindBefore::Always { from }),
        // "Alcohol related cirrhosis": the cause is no word of the finding's name.
        Some("narrows") => Some(KindBefore::Paired { from: start }),
        None if word.chars().count() >= 4 && pairs(&word, head) => Some(KindBefore::Paired { from }),
        _ => None,
    }
}

/// Where the letters at the end of `s` begin (`s.len()` when it ends otherwise).
fn alphabetic_tail(s: &str) -> usize {
    s.char_indices().rev().take_while(|(_, c)| c.is_alphabetic()).last().map_or(s.len(), |(i, _)| i)
}

/// Is this value shaped as a phone number ("555-0124", "(858) 555-0100", "858.555.0100")?
pub fn phone_shaped(value: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(?:\(?\d{3}\)?[\s.-]?)?\d{3}[.-]\d{4}$").expect("phone shape"))
        .is_match(value.trim())
}

/// Byte spans of phone numbers, dates, money amounts and postal codes: never ICD-10-CM codes.
pub fn not_codes(text: &str) -> Vec<(usize, usize)> {
    patterns().not_codes.find_iter(text).map(|m| (m.start(), m.end())).collect()
}

/// Does a code at `at` stand where codes are written: its line, or the line above (a form's
/// caption sits above its boxes), names ICD, a code, a diagnosis, dx or a problem list?
pub fn code_context_near(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let above_start = if line_start == 0 { 0 } else { text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1) };
    patterns().code_context.is_match(&text[above_start..line_end])
}

/// Are these ICD-10-CM codes all external causes (chapter 20, V00–Y99)?
pub fn external_cause_only<'a>(mut icd: impl Iterator<Item = &'a str>) -> bool {
    let mut any = false;
    let all = icd.all(|c| {
        any = true;
        matches!(c.as_bytes().first(), Some(b'V' | b'W' | b'X' | b'Y'))
    });
    any && all
}

/// A finding inside a question: the question mark that ends its clause on the same line, and the
/// assertion its written answer gives (`None` when there is no question; `Some(Hypothetical)`
/// when the question is unanswered).
pub fn question_answer(text: &str, end: usize) -> Option<Assertion> {
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let rest = &text[end..line_end];
    let q = rest.find('?')?;
    // The clause must run on to the question mark: no sentence end or field label in between.
    if rest[..q].contains(['.', ';', ':', '!']) || rest[..q].split_whitespace().count() > 6 {
        return None;
    }
    Some(match answer(&rest[q + 1..]) {
        Some(true) => Assertion::Present,
        Some(false) => Assertion::Absent,
        None => Assertion::Hypothetical,
    })
}

/// The answer written after a question, up to the next question: a plain Yes or No, or the word
/// whose box is ticked (boxes before their words, or after them, as the first token shows).
fn answer(after: &str) -> Option<bool> {
    let mut tokens = Vec::new();
    for m in patterns().answer.find_iter(after) {
        tokens.push(match m.as_str().to_lowercase().as_str() {
            "?" => break,
            "yes" => Token::Word(true),
            "no" => Token::Word(false),
            t => box_token(t).unwrap_or(Token::Checked),
        });
    }
    let boxes = tokens.iter().any(|t| !matches!(t, Token::Word(_)));
    if !boxes {
        return tokens.iter().find_map(|t| if let Token::Word(w) = t { Some(*w) } else { None });
    }
    match ticked(&tokens)[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// Is the finding ending at `end` the label of a field whose value is a sex, a date, a number or
/// an identifier ("Gender: Male", "Weight: 70")? Such a label names a field, not a finding.
pub fn is_field_label(text: &str, end: usize) -> bool {
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    patterns().label_value.is_match(&text[end..line_end])
}

/// Is the span inside the value of a field that holds who or where, never a finding ("State: MI",
/// "City: Marion", "Relationship: Mother", "Employer: Heart Foundation")? The field's key is the
/// last `Key:` on the line before the span.
pub fn in_demographic_value(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..start];
    let Some(colon) = before.rfind(':') else { return false };
    let key: String = before[..colon]
        .split_whitespace()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    // The value runs from the colon to the span: a few words at most.
    if before[colon + 1..].split_whitespace().count() > 4 {
        return false;
    }
    patterns().demographic_key.is_match(&key)
}

/// Is the span a short capitalised abbreviation ("MI") on a line of identity column captions
/// (two or more of name, first, last, middle, birth, sex …)?
pub fn in_identity_header(text: &str, start: usize, end: usize) -> bool {
    let word = &text[start..end];
    if word.len() > 3 || !word.chars().all(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    patterns().identity_label.find_iter(&text[line_start..line_end]).count() >= 2
}

/// What an institution is called: the last word of "Heart Failure Clinic", "Asthma and Allergy
/// Associates", "Cancer Institute".
const INSTITUTION_WORDS: &[&str] = &[
    "clinic",
    "clinics",
    "center",
    "centers",
    "centre",
    "centres",
    "institute",
    "associates",
    "foundation",
    "society",
    "association",
    "specialists",
    "consultants",
    "network",
    "alliance",
    "partners",
];

/// Words that never stand inside an institution's name between the finding and its institution
/// word: what a note says of a visit ("HTN FOLLOW UP IN CLINIC", "PANCREATITIS ADMIT TO GI").
const NOT_IN_A_NAME: &[&str] = &[
    "follow", "up", "in", "to", "at", "admit", "admitted", "return", "returns", "seen", "see", "for", "of", "on", "by",
    "from", "per", "visit", "referred", "refer", "the", "a", "an", "with", "needs", "goes", "go", "sent", "call", "is",
    "was", "will",
];

/// Is the finding at `start..end` part of an institution's name: a clinic, centre, society or
/// association named for what it treats ("Heart Failure Clinic", "DIABETES & ENDOCRINE CENTER",
/// "Riverside Center for Asthma", "American Diabetes Association")? A letterhead, a fax line or a
/// referral names where the patient is seen, not what the patient has. A name is capitalised: the
/// finding starts with a capital; after it only capitalised words that are no words of a visit
/// ([`NOT_IN_A_NAME`]), and "&", "and", "/", at most three, run to the institution's word without
/// punctuation or a column's gap; before it, a capitalised word, then "Center", "Institute",
/// "Foundation", "Society" or "Association", then "for" or "of".
pub fn in_institution_name(text: &str, start: usize, end: usize) -> bool {
    if !text[start..end].chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let mut after = &text[end..line_end.min(text.floor_char_boundary(end + 80))];
    // A run of spaces or a tab is a column's edge: the next column is another field.
    if let Some(gap) = after.find("  ").into_iter().chain(after.find('\t')).min() {
        after = &after[..gap];
    }
    let mut ended = false;
    for (i, raw) in after.split_whitespace().take(4).enumerate() {
        // A name runs on without punctuation: "(group 1)", "hepatitis, clinic" end it.
        if ended || raw.starts_with(['(', '[']) {
            return false;
        }
        ended = raw.ends_with([',', ';', ':', '.', ')']);
        let word = raw.trim_matches(|c: char| matches!(c, ',' | '.' | ':' | ';' | '(' | ')'));
        let lower = word.to_lowercase();
        if INSTITUTION_WORDS.contains(&lower.as_str()) {
            return true;
        }
        let joins = matches!(lower.as_str(), "&" | "and" | "/");
        let proper = word.chars().next().is_some_and(char::is_uppercase) && !NOT_IN_A_NAME.contains(&lower.as_str());
        if i == 0 && raw.starts_with(['-', '/']) {
            // A hyphen after a finding ("Pain-free") makes another word.
            return false;
        }
        if !(joins || proper) {
            return false;
        }
    }
    static BEFORE: OnceLock<Regex> = OnceLock::new();
    let before_re = BEFORE.get_or_init(|| {
        Regex::new(concat!(
            r"\b[A-Z][\w'-]*\s+(?:Center|CENTER|Centre|CENTRE|Institute|INSTITUTE|Foundation|FOUNDATION|",
            r"Society|SOCIETY|Association|ASSOCIATION)",
            r"\s+(?:for|of|FOR|OF)\s+(?:(?:the|THE)\s+)?(?:[A-Z][\w'-]*\s+(?:(?:&|and|AND)\s+)?){0,2}$",
        ))
        .expect("institution before")
    });
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[text.floor_char_boundary(start.saturating_sub(60)).max(line_start)..start];
    before_re.is_match(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_before_a_finding_may_make_it_another_disease() {
        let pairs = |w: &str, h: &str| (w, h) == ("intracranial", "hypertension");
        let before = |text: &str, finding: &str| {
            let start = text.rfind(finding).unwrap();
            kind_before(text, start, &finding.to_lowercase(), pairs)
        };
        let at = |text: &str, word: &str| text.find(word).unwrap();
        let t = "Dx: pre-diabetes";
        assert_eq!(before(t, "diabetes"), Some(KindBefore::Prefix { from: at(t, "pre"), prefix: "pre".into() }));
        let t = "Non-epileptic seizures";
        assert_eq!(before(t, "epileptic"), Some(KindBefore::Prefix { from: 0, prefix: "non".into() }));
        let t = "gestational diabetes";
        assert_eq!(before(t, "diabetes"), Some(KindBefore::Always { from: 0 }));
        let t = "Idiopathic intracranial hypertension";
        assert_eq!(before(t, "hypertension"), Some(KindBefore::Paired { from: at(t, "intracranial") }));
        // A cause, in a compound too: a narrower disease.
        let t = "lead-induced hypertension";
        assert_eq!(before(t, "hypertension"), Some(KindBefore::Paired { from: at(t, "hypertension") }));
        let t = "steroid diabetes";
        assert_eq!(before(t, "diabetes"), Some(KindBefore::Paired { from: at(t, "diabetes") }));
        // What says how bad, how long or where, a compound's end, a word of no letters: nothing.
        for (t, f) in [
            ("severe intracranial hypertension", "intracranial"),
            ("poorly controlled diabetes", "diabetes"),
            ("Hx: hypertension", "hypertension"),
            ("adult-gestational diabetes", "diabetes"),
            ("COVID19-pneumonia", "pneumonia"),
            ("with diabetes", "diabetes"),
            ("gestational\ndiabetes", "diabetes"),
            ("gestational, diabetes", "diabetes"),
        ] {
            assert_eq!(before(t, f), None, "{t}");
        }
    }

    #[test]
    fn a_disease_named_for_its_vaccine_is_no_condition() {
        let follows = |text: &str, finding: &str| {
            let start = text.find(finding).unwrap();
            vaccine_follows(text, start, start + finding.len())
        };
        assert!(follows("Influenza vaccine given today.", "Influenza"));
        assert!(follows("Received hepatitis B vaccination.", "hepatitis"));
        assert!(follows("pneumococcal immunization up to date", "pneumococcal"));
        assert!(follows("tetanus shot in 2019", "tetanus"));
        assert!(follows("COVID-19 booster x2", "COVID-19"));
        assert!(follows("Haemophilus influenzae type b conjugate vaccine", "Haemophilus influenzae"));
        assert!(!follows("Influenza A positive; vaccine declined.", "Influenza A"));
        assert!(!follows("Influenza with high fever.", "Influenza"));
        assert!(!follows("hepatitis B shortly after", "hepatitis B"));
        // Shots that treat.
        assert!(!follows("Migraine shots monthly", "Migraine"));
        assert!(!follows("osteoporosis shot (Prolia) every 6 months", "osteoporosis"));
    }

    #[test]
    fn a_drug_screens_results_are_no_medications() {
        for line in
            ["Opiates   Positive", "Benzodiazepines: Neg", "Oxycodone  Not detected", "Barbiturates (UDS) NEGATIVE"]
        {
            let end = line.find([' ', ':']).unwrap();
            assert!(screen_result_follows(line, end), "{line}");
        }
        assert!(!screen_result_follows("Oxycodone 5 mg q6h prn", 9));
    }

    #[test]
    fn phone_shaped_values_are_no_account_numbers() {
        for phone in ["555-0124", "(858) 555-0100", "858.555.0100", "858-555-0100"] {
            assert!(phone_shaped(phone), "{phone}");
        }
        for id in ["B1234-5", "482913", "K4471-2", "12-3456789"] {
            assert!(!phone_shaped(id), "{id}");
        }
    }

    fn covered(text: &str, what: &str) -> bool {
        let at = text.find(what).unwrap();
        not_codes(text).iter().any(|&(s, e)| s <= at && at + what.len() <= e)
    }

    #[test]
    fn phone_numbers_dates_amounts_and_postal_codes_are_not_codes() {
        assert!(covered("Call (858) 555-0100 today", "858"));
        assert!(covered("Hospital (999)-(888)-(1234)", "888"));
        assert!(covered("92127 ( 858 ) 555-0100", "858"));
        assert!(covered("tel 858.555.0100", "858"));
        assert!(covered("Seen 10/11/21 for", "10/11"));
        assert!(covered("Balance $1,858.00", "858"));
        assert!(covered("Any City CA 92127", "92127"));
        // A code is not a phone number.
        assert!(!covered("Dx: I10, E11.9 (R11.0)", "I10"));
        assert!(!covered("Dx: I10, E11.9 (R11.0)", "R11.0"));
    }

    #[test]
    fn codes_stand_alone_only_where_codes_are_written() {
        let t = "21. DIAGNOSIS OR NATURE OF ILLNESS\n1. R11.0  3. K59.00\nRoom B12 on floor 2";
        assert!(code_context_near(t, t.find("R11").unwrap()), "the caption is on the line above");
        assert!(!code_context_near(t, t.find("B12").unwrap()));
        assert!(code_context_near("ICD-10: E11.9", 8));
        assert!(code_context_near("Problem list: I10", 14));
    }

    #[test]
    fn external_causes_are_not_conditions_from_words() {
        assert!(external_cause_only(["X58"].into_iter()));
        assert!(external_cause_only(["W34.00", "Y93.9"].into_iter()));
        assert!(!external_cause_only(["I21.9"].into_iter()));
        assert!(!external_cause_only(["X58", "S06.0"].into_iter()));
        assert!(!external_cause_only(std::iter::empty()));
    }

    #[test]
    fn a_question_is_answered_by_what_follows_it() {
        let at = |t: &str, w: &str| question_answer(t, t.find(w).unwrap() + w.len());
        assert_eq!(at("b. AUTO ACCIDENT? PLACE (State)", "ACCIDENT"), Some(Assertion::Hypothetical));
        assert_eq!(at("c. OTHER ACCIDENT? [ ] YES [X] NO", "ACCIDENT"), Some(Assertion::Absent));
        assert_eq!(at("Contact with a COVID-19 case? No", "COVID-19"), Some(Assertion::Absent));
        assert_eq!(at("Diabetes? Yes", "Diabetes"), Some(Assertion::Present));
        assert_eq!(at("Asthma? [X] Yes [ ] No", "Asthma"), Some(Assertion::Present));
        assert_eq!(at("Asthma?  Yes [ ]  No [X]", "Asthma"), Some(Assertion::Absent));
        assert_eq!(at("Asthma. Is he taking his inhaler?", "Asthma"), None, "another sentence");
        assert_eq!(at("Hypertension, well controlled", "Hypertension"), None);
    }

    #[test]
    fn a_label_with_a_demographic_value_is_a_label() {
        let at = |t: &str, w: &str| is_field_label(t, t.find(w).unwrap() + w.len());
        assert!(at("Patient Gender: Male", "Gender"));
        assert!(at("Gender: F   DOB: 01/02/1950", "Gender"));
        assert!(at("Visit: 12/03/2024", "Visit"));
        assert!(at("Member ID: 11-2234-10190", "ID"));
        assert!(!at("Hypertension: well controlled on lisinopril", "Hypertension"));
        assert!(!at("Asthma: albuterol as needed", "Asthma"));
    }

    #[test]
    fn who_and_where_fields_hold_no_findings() {
        let t = "City: Lakeside State: MI Zip Code: 49116\nRelationship: Mother\nDiagnosis: MI";
        assert!(in_demographic_value(t, t.find("MI").unwrap()), "a state");
        assert!(in_demographic_value(t, t.find("Mother").unwrap()), "a relationship");
        assert!(!in_demographic_value(t, t.rfind("MI").unwrap()), "a diagnosis field holds findings");
        assert!(!in_demographic_value("Plan: follow up with cardiology for chest pain", 38), "a long value is prose");
    }

    #[test]
    fn abbreviations_in_identity_headers_are_captions() {
        let t = "Last Name First Name MI\nHistory of MI in 2019";
        assert!(in_identity_header(t, t.find("MI").unwrap(), t.find("MI").unwrap() + 2));
        let second = t.rfind("MI").unwrap();
        assert!(!in_identity_header(t, second, second + 2), "a sentence is not a header");
    }

    #[test]
    fn a_finding_in_an_institution_name_is_no_finding() {
        let at = |t: &str, w: &str| {
            let s = t.find(w).unwrap();
            in_institution_name(t, s, s + w.len())
        };
        assert!(at("FROM: Heart Failure Clinic  (555) 123-4567", "Heart Failure"));
        assert!(at("DIABETES & ENDOCRINE CENTER  555 123 4567", "DIABETES"));
        assert!(at("Sent By: Asthma and Allergy Associates; 555 222 3333", "Asthma"));
        assert!(at("Cancer Institute of Ohio", "Cancer"));
        assert!(at("Riverside Center for Diabetes Care", "Diabetes"));
        assert!(at("American Heart Association guidelines", "Heart"));
        // What a note says of a visit is no name.
        assert!(!at("referred to the pain clinic", "pain"), "prose names no institution");
        assert!(!at("Diabetes, seen in clinic today", "Diabetes"));
        assert!(!at("HTN FOLLOW UP IN CLINIC", "HTN"));
        assert!(!at("ACUTE PANCREATITIS ADMIT TO GI SERVICE", "ACUTE PANCREATITIS"));
        assert!(!at("Principal diagnosis: DKA  Hospital course: stable", "DKA"));
        assert!(!at("ESRD, goes to dialysis center MWF", "ESRD"));
        assert!(!at("Presents to Clinic for Hypertension and Diabetes follow-up", "Hypertension"));
        assert!(!at("Hypertension well controlled; follow up in clinic", "Hypertension"));
        assert!(!at("Asthma exacerbation, admitted to the unit", "Asthma"));
        assert!(!at("Pain-free at the Center", "Pain"));
        assert!(!at("Heart failure. Clinic in 2 weeks", "Heart failure"));
        assert!(!at("Minocycline-induced Autoimmune hepatitis (group 1)", "Autoimmune hepatitis"));
        assert!(!at("bleeding with Antithrombin III group vs placebo", "Antithrombin"), "a study arm");
        assert!(!at("Asthma, Clinic visit", "Asthma"));
    }
}
