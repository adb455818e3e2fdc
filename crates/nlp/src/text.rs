//! Tokens, normalisation and offset conversion shared by the NLP stages.

/// A word of the text: a maximal run of letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offsets into the text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start..self.end]
    }
}

/// Splits `s` into tokens: runs of alphanumeric characters; everything else separates.
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(st) = start.take() {
            out.push(Token { start: st, end: i });
        }
    }
    if let Some(st) = start {
        out.push(Token { start: st, end: s.len() });
    }
    out
}

/// Lower-cases a token for dictionary lookup, folding the few accented letters clinical text uses.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' => out.push('e'),
            'á' | 'à' | 'â' | 'ä' => out.push('a'),
            'ó' | 'ö' | 'ô' => out.push('o'),
            'ü' | 'ú' => out.push('u'),
            'ï' | 'í' => out.push('i'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// [`fold`] into a reused buffer: the per-token path of matching, without an allocation per word.
pub fn fold_into<'a>(s: &'a str, buf: &'a mut String) -> &'a str {
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_uppercase()) {
            return s;
        }
        buf.clear();
        buf.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        return buf;
    }
    *buf = fold(s);
    buf
}

/// The normalised token strings of a term, as the lexicon stores them.
/// Prefixes that make the word they are joined to (by a hyphen, or closed up) another concept:
/// "pre-diabetes" is no diabetes, "non-epileptic seizures" no epilepsy, "sub-acute thyroiditis" no
/// acute thyroiditis, "post-stroke" no stroke today. Terms are written both ways ("pre-eclampsia",
/// "preeclampsia"). A longer prefix stands before a shorter one it begins with ("extra", "ex").
pub const JOINING_PREFIXES: &[&str] =
    &["pre", "non", "pseudo", "anti", "sub", "post", "para", "peri", "semi", "quasi", "neo", "intra", "extra", "ex"];

/// `name` with each prefix written apart ("antiphospholipid syndrome" → "anti phospholipid
/// syndrome", as "anti-phospholipid" tokenizes), if a word begins with one before four letters
/// more.
pub fn split_up(name: &str) -> Option<String> {
    rewrite_words(name, |w| {
        let lower = w.to_lowercase();
        let p = JOINING_PREFIXES.iter().find(|p| {
            lower.starts_with(*p) && lower[p.len()..].chars().take_while(char::is_ascii_alphabetic).count() >= 4
        })?;
        w.is_char_boundary(p.len()).then(|| format!("{} {}", &w[..p.len()], &w[p.len()..]))
    })
}

/// `name` with each prefix closed up ("pre-eclampsia" → "preeclampsia"), if it has one.
pub fn closed_up(name: &str) -> Option<String> {
    rewrite_words(name, |w| {
        let (pre, rest) = w.split_once('-')?;
        (JOINING_PREFIXES.contains(&pre.to_lowercase().as_str()) && rest.starts_with(|c: char| c.is_alphabetic()))
            .then(|| format!("{pre}{rest}"))
    })
}

/// `name` with each space-separated word `rewrite` changes changed, if any is.
fn rewrite_words(name: &str, rewrite: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut changed = false;
    let words: Vec<String> =
        name.split(' ').map(|w| rewrite(w).inspect(|_| changed = true).unwrap_or_else(|| w.to_string())).collect();
    changed.then(|| words.join(" "))
}

pub fn term_tokens(term: &str) -> Vec<String> {
    if term.is_ascii() {
        // Fast path for the (ASCII) terminology: split and lower-case in one pass.
        return term
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_ascii_lowercase())
            .collect();
    }
    tokenize(term).iter().map(|t| fold(t.text(term))).collect()
}

/// Converts byte offsets to character offsets of one text.
pub struct CharIndex {
    /// Byte offset of every character start, plus the text length.
    starts: Vec<usize>,
}

impl CharIndex {
    pub fn new(s: &str) -> CharIndex {
        let mut starts: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        starts.push(s.len());
        CharIndex { starts }
    }

    /// Character offset of byte offset `b` (a char boundary, or the next one after it).
    pub fn char_of(&self, b: usize) -> usize {
        match self.starts.binary_search(&b) {
            Ok(i) | Err(i) => i,
        }
    }

    /// Byte offset of character offset `c`, clamped to the text.
    pub fn byte_of(&self, c: usize) -> usize {
        self.starts[c.min(self.starts.len() - 1)]
    }
}

/// Does the line break at byte `i` separate what is before from what is after? It does after a
/// short line (a heading, a list entry, a form field), after a sentence's end, before a blank
/// line, a bullet, a number or a `Key:` field. Otherwise the text merely wraps — as OCR lines of
/// a paragraph do — and a phrase may run across it.
///
/// A line left in the middle of a phrase wraps whatever its length (narrow columns and faxes wrap
/// short): one that ends on a comma or on a word that cannot end a phrase ("fever, chills or",
/// "history of"), prose that goes on in small letters on the next line ("revealed no organized" /
/// "hematoma"), or a next line that starts with a joining word ("or vomiting").
pub fn line_break_separates(text: &str, i: usize) -> bool {
    if i >= text.len() {
        return true;
    }
    let line_start = text[..i].rfind('\n').map_or(0, |p| p + 1);
    let prev = text[line_start..i].trim_end();
    let next_line = text[i + 1..].split('\n').next().unwrap_or("").trim_start();
    let structured = next_line.is_empty()
        || next_line.starts_with(['-', '*', '•', '·'])
        || next_line.chars().next().is_some_and(|c| c.is_ascii_digit())
        || next_line
            .split_once(':')
            .is_some_and(|(k, _)| k.len() < 30 && k.chars().next().is_some_and(char::is_uppercase));
    if structured {
        return true;
    }
    let next_starts = |lower: bool| {
        next_line.chars().next().is_some_and(|c| if lower { c.is_lowercase() } else { c.is_alphabetic() })
    };
    let last_word = prev.rsplit(|c: char| !c.is_alphabetic()).next().unwrap_or("");
    let first_word = next_line.split(|c: char| !c.is_alphabetic()).next().unwrap_or("");
    // In small letters as written: "Hepatitis A", "Vitamin A", "Smoking: No" end there.
    let dangling = DANGLING.contains(&last_word);
    let joined = JOINING.contains(&first_word);
    // Prose: four words or more, no figures (a list's doses), ending in a small letter.
    let prose = prev.split_whitespace().count() >= 4
        && !prev.contains(|c: char| c.is_ascii_digit())
        && prev.ends_with(char::is_lowercase);
    if (CONNECTIVE.contains(&last_word) && next_starts(false))
        || ((dangling || prev.ends_with(',')) && next_starts(true))
        || (prose && next_starts(true))
        || (joined && !prev.ends_with(['.', ':', ';', '!', '?']))
    {
        return false;
    }
    prev.len() <= 45 || prev.ends_with(['.', ':', ';', '!', '?', ','])
}

/// May a known term run across the line break at byte `i` ("multiple" / "myeloma", "Heparin-induced"
/// / "thrombocytopenia")? Where the text wraps, and also where a line that ends no sentence is
/// followed by one going on in small letters: a term of the lexicon is specific enough that its
/// words on two such lines are one term wrapped, however short the first line (of two words or
/// more).
pub fn term_may_cross(text: &str, i: usize) -> bool {
    if !line_break_separates(text, i) {
        return true;
    }
    let line_start = text[..i].rfind('\n').map_or(0, |p| p + 1);
    let prev = text[line_start..i].trim_end();
    let next = text[i + 1..].trim_start_matches(' ');
    // (A line of one word is a list's entry: "chest" / "pain" stay two.)
    prev.split_whitespace().count() >= 2
        && !prev.ends_with(['.', ':', ';', '!', '?'])
        && next.starts_with(char::is_lowercase)
}

/// Words (in small letters) a phrase does not end on: a line ending with one is wrapped when the
/// next goes on in small letters. Never a negation ("no", "denies"): a form's "Smoking: no" ends
/// its field, and carrying it onto the next line would negate what that line says.
const DANGLING: &[&str] = &[
    "or",
    "and",
    "nor",
    "but",
    "of",
    "with",
    "without",
    "to",
    "for",
    "from",
    "in",
    "on",
    "at",
    "by",
    "the",
    "an",
    "including",
    "than",
    "his",
    "her",
    "their",
];

/// Joining words after which a line goes on even into capitals ("Hypertension and" / "Diabetes").
const CONNECTIVE: &[&str] = &["or", "and", "nor"];

/// Words (in small letters) a line does not start with unless it goes on from the line above.
const JOINING: &[&str] = &["or", "and", "nor", "but", "with", "without", "including"];

/// Byte ranges of the lines of `s` (without their line break).
pub fn lines(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    s.split('\n').map(move |l| {
        let start = pos;
        pos += l.len() + 1;
        (start, start + l.len())
    })
}

/// The lines of `s` with the byte offset each starts at.
pub fn lines_at(s: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    lines(s).map(move |(start, end)| (start, &s[start..end]))
}

/// Parses a date as clinical documents write it into FHIR's `YYYY-MM-DD`, checking the calendar.
/// Two-digit years above 30 are read as 19xx, the others as 20xx.
pub fn parse_date(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches(['.', ',']);
    let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let month_of = |w: &str| -> Option<u32> {
        let w = fold(w);
        let w = w.trim_end_matches('.');
        if w.len() < 3 {
            return None;
        }
        months.iter().position(|m| w.starts_with(m)).map(|i| i as u32 + 1)
    };
    let year_of = |y: &str| -> Option<i32> {
        let v: i32 = y.parse().ok()?;
        match y.len() {
            4 => Some(v),
            2 => Some(if v > 30 { 1900 + v } else { 2000 + v }),
            _ => None,
        }
    };
    let parts: Vec<&str> = s.split(['/', '-', '.', ' ', ',']).filter(|p| !p.is_empty()).collect();
    let (y, m, d): (i32, u32, u32) = match parts.as_slice() {
        [a, b, c] if a.len() == 4 && a.chars().all(|c| c.is_ascii_digit()) => {
            (year_of(a)?, b.parse().ok()?, c.parse().ok()?)
        }
        [a, b, c] if a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()) => {
            (year_of(c)?, a.parse().ok()?, b.parse().ok()?)
        }
        [a, b, c] if month_of(a).is_some() => {
            (year_of(c)?, month_of(a)?, b.trim_end_matches(|c: char| c.is_alphabetic()).parse().ok()?)
        }
        [a, b, c] if month_of(b).is_some() => (year_of(c)?, month_of(b)?, a.parse().ok()?),
        _ => return None,
    };
    let month = time::Month::try_from(m as u8).ok()?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    if !(1850..=2200).contains(&y) {
        return None;
    }
    Some(format!("{:04}-{:02}-{:02}", date.year(), m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_alphanumeric_runs() {
        let s = "s/p CABG, HbA1c 7.2% — naïve";
        let toks: Vec<&str> = tokenize(s).iter().map(|t| t.text(s)).collect();
        assert_eq!(toks, ["s", "p", "CABG", "HbA1c", "7", "2", "naïve"]);
        assert_eq!(term_tokens("Alzheimer's Disease"), ["alzheimer", "s", "disease"]);
        assert_eq!(fold("Naïve Été"), "naive ete");
    }

    #[test]
    fn char_offsets_count_code_points() {
        let s = "é chest pain";
        let idx = CharIndex::new(s);
        let b = s.find("chest").unwrap();
        assert_eq!(b, 3);
        assert_eq!(idx.char_of(b), 2);
        assert_eq!(idx.byte_of(2), 3);
        assert_eq!(idx.char_of(s.len()), 12);
    }

    #[test]
    fn dates_in_clinical_forms() {
        assert_eq!(parse_date("03/07/1952").as_deref(), Some("1952-03-07"));
        assert_eq!(parse_date("3/7/52").as_deref(), Some("1952-03-07"));
        assert_eq!(parse_date("1952-03-07").as_deref(), Some("1952-03-07"));
        assert_eq!(parse_date("March 7, 1952").as_deref(), Some("1952-03-07"));
        assert_eq!(parse_date("7 Mar 1952").as_deref(), Some("1952-03-07"));
        assert_eq!(parse_date("Sept 30 2024").as_deref(), Some("2024-09-30"));
        assert_eq!(parse_date("02/30/2020"), None);
        assert_eq!(parse_date("13/01/2020"), None);
        assert_eq!(parse_date("hello"), None);
    }

    #[test]
    fn a_line_left_in_the_middle_of_a_phrase_wraps_however_short() {
        let separates = |text: &str| line_break_separates(text, text.find('\n').unwrap());
        assert!(!separates("Denies fever,\ncough or shortness of breath."));
        assert!(!separates("No chest pain, nausea or\nvomiting."));
        assert!(!separates("History of\nhypertension."));
        assert!(separates("History of\nHypertension"), "a heading's words, or a list's: not carried on");
        assert!(!separates("Patient denies chest pain\nor shortness of breath."));
        assert!(!separates("The extremities have no cyanosis,\nclubbing, or edema."));
        assert!(!separates("scan revealed no pseudoaneurysms or organized\nhematoma."));
        // Lists, fields and sentences' ends still separate.
        assert!(separates("Denies smoking\nHypertension"));
        assert!(separates("metformin 500 mg\nlisinopril 10 mg"));
        assert!(separates("Allergies: none,\nMedications: aspirin"));
        assert!(separates("stopped metformin 500 mg daily\nlisinopril 10 mg daily"));
        assert!(separates("Fever: no\nCough: yes"));
        assert!(separates("Denies fever.\nor so it seems"));
        assert!(separates("Smoking: denies\n- alcohol"));
        assert!(separates("Reviewed with the patient and\n\nPlan"));
        // A field's answer, a relative's line, a name's letter, a list's comma end there.
        assert!(separates("Tobacco use: no\nHypertension"));
        assert!(separates("Chest pain No\nShortness of breath Yes"));
        assert!(separates("No known drug allergies\nCongestive heart failure"));
        assert!(separates("Mother died of breast cancer\nAsthma"));
        assert!(separates("History of Hepatitis A\nAsthma"));
        assert!(separates("Denies fever,\nHypertension"));
        assert!(separates("furosemide 40 mg\nweigh yourself daily"));
        assert!(line_break_separates("the end", 7), "past the text's end");
    }

    #[test]
    fn a_term_runs_across_a_short_line_going_on_in_small_letters() {
        let crosses = |text: &str| term_may_cross(text, text.find('\n').unwrap());
        assert!(crosses("Adenosine-induced ventricular\nfibrillation."));
        assert!(crosses("A 37-year-old male with multiple\nmyeloma"));
        assert!(!crosses("HEART\nFailure to thrive"));
        assert!(!crosses("Chief complaint: chest.\npain"));
        assert!(!crosses("Heart\n\nfailure"));
    }

    #[test]
    fn lines_give_byte_ranges() {
        let s = "ab\n\ncd";
        let v: Vec<_> = lines(s).collect();
        assert_eq!(v, [(0, 2), (3, 3), (4, 6)]);
    }
}
