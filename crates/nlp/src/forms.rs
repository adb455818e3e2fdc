//! Reading a document by its class ([`crate::classify`]): what a form, a card or a claim says is
//! in its fields, not in sentences.
//!
//! - **Non-clinical** (a bank statement, an invoice): nothing clinical, no patient.
//! - **Claim** (CMS-1500, UB-04): diagnoses from the diagnosis field only (CMS-1500 item 21,
//!   UB-04 FL 67–72), each a billable ICD-10-CM code; OCR repair of a code's characters happens
//!   there and nowhere else, and a code that repair cannot make out exactly one way is not read.
//!   The patient is the one of item 2 ("PATIENT'S NAME"), read below its caption in its column;
//!   the insured, the provider and the facility are never the patient.
//! - **Insurance card**: the coverage (payer, member id, group, pharmacy routing) and the member
//!   as the patient; nothing clinical ("Rx" is routing, not a prescription).
//! - **Immunization record**: one dose per row with a date or a lot number, its vaccine coded in
//!   CVX where the words name one (`data/terminology/curated/vaccines.tsv`); no condition from a
//!   row caption ("Booster Shot").
//! - Everything else is read as narrative, as before.

use std::sync::OnceLock;

use paperchart_model::class::DocumentClass;
use paperchart_model::document::{BBox, Document, Line};
use paperchart_model::findings::{
    Assertion, Code, CoverageFact, Demographics, Entity, EntityType, IdKind, ImmunizationFact, NlpOutput,
};
use paperchart_model::layout;
use regex::Regex;

use crate::phi;
use crate::terminology::Terminology;
use crate::text::parse_date;

/// Narrows what the narrative reading found to what the class reads, and adds what the class's
/// own fields say.
pub fn read(class: DocumentClass, text: &str, document: &Document, term: &Terminology, out: &mut NlpOutput) {
    if class.reads_narrative() {
        return;
    }
    // Captions and boxes are not sentences: only identity survives from the narrative reading.
    out.entities.retain(|e| e.kind == EntityType::Phi);
    match class {
        DocumentClass::NonClinical => {
            out.demographics = Demographics::default();
            out.document.date = None;
        }
        DocumentClass::Claim => {
            let placed = Placed::new(document);
            out.demographics = claim_patient(&placed);
            out.entities.extend(claim_diagnoses(&placed, text, term));
            // A claim's date is its first date of service; a signature's or a form's date is not.
            out.document.date = claim_service_date(text, out.demographics.birth_date.as_deref());
        }
        DocumentClass::InsuranceCard => {
            let coverage = coverage(document, text);
            // A card names its member and the plan's contacts: only the member's name and
            // birth date are the patient's. On a card the subscriber or cardholder is the member.
            let mut d = std::mem::take(&mut out.demographics);
            if d.family.is_none() {
                d.fill_from(card_member(document));
            }
            out.demographics = Demographics {
                family: d.family,
                given: d.given,
                birth_date: d.birth_date,
                gender: d.gender,
                member_id: coverage.member_id.clone(),
                ..Demographics::default()
            };
            out.coverage = Some(coverage);
        }
        DocumentClass::ImmunizationRecord => out.immunizations = immunizations(text),
        _ => {}
    }
}

/// A page's lines with the byte offset of each in the document's text.
struct Placed<'a> {
    lines: Vec<(usize, &'a [Line], usize)>,
}

impl<'a> Placed<'a> {
    fn new(document: &'a Document) -> Self {
        let offsets = document.line_offsets();
        let lines = document
            .pages
            .iter()
            .zip(&offsets)
            .flat_map(|(page, starts)| starts.iter().enumerate().map(|(i, &at)| (at, page.lines.as_slice(), i)))
            .collect();
        Placed { lines }
    }

    /// Every line with its page's lines, its index there, and its offset.
    fn iter(&self) -> impl Iterator<Item = (usize, &'a [Line], usize)> + '_ {
        self.lines.iter().copied()
    }
}

/// The words of a line with their byte offsets in the line's text.
fn words_at(line: &Line) -> Vec<(usize, &paperchart_model::document::Word)> {
    let mut from = 0;
    line.words
        .iter()
        .map(|w| {
            let at = line.text[from..].find(&w.text).map_or(from, |p| from + p);
            from = at + w.text.len();
            (at, w)
        })
        .collect()
}

fn claim_patterns() -> &'static (Regex, Regex, Regex) {
    static P: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("claim pattern");
        (
            // The diagnosis field's caption: CMS-1500 item 21, UB-04 FL 67 and its neighbours.
            re(r"(?i)diagnosis\s+or\s+nature\s+of\s+illness|principal\s+diag|other\s+diag|admit(?:ting)?\s+d(?:iagnosis|x)|patient\s+reason\s+dx"),
            // Where the field ends: the service lines.
            re(r"(?i)\b24\s*\.|date\(?s\)?\s+of\s+servi|\b42\s+rev|procedures,\s+services"),
            // An item number ("21.", "22.", "4.") starting the next box on the caption's line.
            re(r"^\d{1,2}[a-z]?\.$"),
        )
    })
}

/// Characters a digit of a code may have been read as; repair happens only in the diagnosis
/// field, where a code is expected.
fn digit_options(c: char) -> Vec<char> {
    let mut out = Vec::new();
    if c.is_ascii_digit() {
        out.push(c);
    }
    if let Some(d) = crate::repair::digit_for(c) {
        out.push(d);
    }
    if matches!(c, 'Q' | 'q' | 'g') {
        out.push('9');
    }
    out
}

/// The billable ICD-10-CM codes `category` (three characters as read) and `sub` (the characters
/// after the dot, as read) may spell.
fn spell(category: &[char], sub: &[char], term: &Terminology) -> Vec<String> {
    // The letter as read, or the letter OCR took for a digit ("110" for I10).
    let first = category[0];
    let mut heads: Vec<String> = crate::repair::letter_for(first).iter().map(char::to_string).collect();
    if first.is_ascii_uppercase() && first != 'U' {
        heads.push(first.to_string());
    }
    for &c in &category[1..3] {
        let opts = digit_options(c);
        heads = heads.iter().flat_map(|h| opts.iter().map(move |d| format!("{h}{d}"))).collect();
    }
    let mut tails = vec![String::new()];
    for &c in sub {
        let mut opts = digit_options(c);
        if c.is_ascii_uppercase() && !opts.contains(&c) {
            opts.push(c);
        }
        tails = tails.iter().flat_map(|t| opts.iter().map(move |d| format!("{t}{d}"))).collect();
        if tails.is_empty() {
            return Vec::new();
        }
    }
    let mut codes: Vec<String> = heads
        .iter()
        .flat_map(|h| tails.iter().map(move |t| if t.is_empty() { h.clone() } else { format!("{h}.{t}") }))
        .filter(|c| term.icd10.get(c).is_some_and(|(_, billable)| *billable))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn alnum(s: &str) -> Vec<char> {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// Codes in a run of words of the diagnosis field: each a letter and two digits, a dot and the
/// rest (often cut apart by OCR: "R11 . o", "_K59 00", "LKQ2 1"), with at most one stray
/// character before it. Returns (first word, last word, code).
fn codes_in(words: &[&str], term: &Terminology) -> Vec<(usize, usize, String)> {
    // Phone numbers, dates and amounts are never codes, in the diagnosis field too.
    let joined = words.join(" ");
    let not_codes = crate::gates::not_codes(&joined);
    let mut at = Vec::with_capacity(words.len());
    let mut pos = 0;
    for w in words {
        at.push((pos, pos + w.len()));
        pos += w.len() + 1;
    }
    let number = |k: usize| not_codes.iter().any(|&(s, e)| s < at[k].1 && at[k].0 < e);
    let mut out = Vec::new();
    let mut k = 0;
    while k < words.len() {
        if number(k) {
            k += 1;
            continue;
        }
        let tok = alnum(words[k]);
        let mut found = None;
        for skip in 0..=1usize {
            // A stray character before a code is a box's edge read as a letter ("LKQ2 1"); a
            // digit there is part of the code as read ("3209" is J20.9 misread, never "Z09").
            if tok.len() < skip + 3 || skip == 1 && tok[0].is_ascii_digit() {
                break;
            }
            let (cat, rest) = tok[skip..].split_at(3);
            // The part after the dot: in the same word, or in the next words (a lone "." between).
            let mut sub: Vec<char> = rest.to_vec();
            let mut last = k;
            if sub.is_empty() {
                let mut j = k + 1;
                while j < words.len() && alnum(words[j]).is_empty() && j - k <= 2 {
                    j += 1;
                }
                // An item number ("2.") starts the next entry: it is no part of this code.
                let item = words
                    .get(j)
                    .is_some_and(|w| w.ends_with('.') && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit()));
                if j < words.len() && j - k <= 2 && !item {
                    let next = alnum(words[j]);
                    if (1..=4).contains(&next.len()) {
                        sub = next;
                        last = j;
                    }
                }
            }
            let codes = spell(cat, &sub, term);
            if codes.len() == 1 {
                found = Some((last, codes[0].clone()));
            }
            if !codes.is_empty() {
                break; // read, or more than one reading: not read
            }
        }
        match found {
            Some((last, code)) => {
                out.push((k, last, code));
                k = last + 1;
            }
            None => k += 1,
        }
    }
    out
}

/// The diagnoses of a claim's diagnosis field.
fn claim_diagnoses(placed: &Placed, text: &str, term: &Terminology) -> Vec<Entity> {
    let (caption, stop, _) = claim_patterns();
    let mut out: Vec<Entity> = Vec::new();
    for (line_at, lines, i) in placed.iter() {
        let line = &lines[i];
        let Some(m) = caption.find(&line.text) else { continue };
        let words = words_at(line);
        // The field's column: from its caption to the next box's item number on that line.
        let boxed = words.iter().all(|(_, w)| w.bbox.is_some()) && !words.is_empty();
        let (left, right) = if boxed {
            // Codes may start at the form's left edge under the caption (UB-04 FL 67); the field
            // ends where the next box's item number stands on the caption's line.
            (0.0, next_item(&words, m.end()).unwrap_or(1.0))
        } else {
            (0.0, 1.0)
        };
        for (j, below) in lines.iter().enumerate().skip(i + 1).take(6) {
            if stop.is_match(&below.text) || caption.is_match(&below.text) {
                break;
            }
            let below_at = line_at + lines[i..j].iter().map(|l| l.text.len() + 1).sum::<usize>();
            let in_column: Vec<(usize, &str)> = words_at(below)
                .into_iter()
                .filter(|(_, w)| {
                    w.bbox.is_none_or(|b: BBox| {
                        let centre = b.left + b.width / 2.0;
                        centre >= left && centre < right
                    })
                })
                .map(|(at, w)| (below_at + at, w.text.as_str()))
                .collect();
            let texts: Vec<&str> = in_column.iter().map(|(_, t)| *t).collect();
            for (first, last, code) in codes_in(&texts, term) {
                let (start, end) = (in_column[first].0, in_column[last].0 + in_column[last].1.len());
                if out.iter().any(|e| e.codes.first().is_some_and(|c| c.code == code)) || end > text.len() {
                    continue;
                }
                let Some(c) = term.icd_code(&code) else { continue };
                out.push(Entity {
                    kind: EntityType::Condition,
                    subtype: None,
                    start,
                    end,
                    text: code.clone(),
                    codes: vec![c],
                    assertion: Assertion::Present,
                    attrs: Default::default(),
                    confidence: None,
                    section: None,
                });
            }
        }
    }
    out
}

/// The patient of a claim: the name below "PATIENT'S NAME" in its column (item 2; "LAST, FIRST"),
/// and the birth date below "PATIENT'S BIRTH DATE" (item 3) when one is legible.
fn claim_patient(placed: &Placed) -> Demographics {
    static P: OnceLock<(Regex, Regex, Regex, Regex, Regex)> = OnceLock::new();
    let (name, birth, sex, account, other_party) = P.get_or_init(|| {
        (
            Regex::new(r"(?i)patient\W{0,3}s?\s+name").expect("claim name caption"),
            Regex::new(r"(?i)patient\W{0,3}s?\s+birth\s*date|\bbirth\s*date").expect("claim birth caption"),
            // "11SEX": OCR runs a UB-04's box number into its caption.
            Regex::new(r"(?i)(?:\b|\d)sex\b").expect("claim sex caption"),
            Regex::new(r"(?i)patient\W{0,3}s?\s+account\s+n").expect("claim account caption"),
            Regex::new(r"(?i)insured|subscriber|employer|physician|guarantor|\bother\b").expect("other party"),
        )
    });
    let item_no = &claim_patterns().2;
    let mut d = Demographics::default();
    for (_, lines, i) in placed.iter() {
        let line = &lines[i];
        let words = words_at(line);
        if words.is_empty() || !words.iter().all(|(_, w)| w.bbox.is_some()) {
            continue;
        }
        for (caption, field) in
            [(name, Field::Name), (birth, Field::Birth), (sex, Field::Sex), (account, Field::Account)]
        {
            let Some(m) = caption.find(&line.text) else { continue };
            let first = words.iter().rposition(|(at, _)| *at <= m.start()).unwrap_or(0);
            // The caption's box begins at its item number ("2.", or a UB-04's bare "11").
            let numbered = |t: &str| {
                let t = t.trim_matches(|c: char| !c.is_ascii_alphanumeric());
                item_no.is_match(t) || (1..=2).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit())
            };
            let start = first.saturating_sub(usize::from(first > 0 && numbered(&words[first - 1].1.text)));
            // The caption's own box, from its item number: "a. INSURED'S DATE OF BIRTH SEX" is
            // another person's sex, whatever the line's other boxes say.
            let lettered =
                |t: &str| t.len() == 2 && t.ends_with('.') && t.starts_with(|c: char| c.is_ascii_lowercase());
            let item = words[..=first].iter().rposition(|(_, w)| numbered(&w.text) || lettered(&w.text)).unwrap_or(0);
            if other_party.is_match(&line.text[words[item].0..m.end()]) {
                continue;
            }
            let Some(cap) = words[start].1.bbox else { continue };
            let right = next_item(&words, m.end()).unwrap_or(cap.left + 0.3);
            // The first value below the caption, in its column, that reads as the field's kind.
            // A sex caption's column is its own few characters (the M and F boxes sit under it).
            let right = if field == Field::Sex { right.min(cap.left + 0.12) } else { right };
            for (_, value) in layout::words_below(lines, i, cap.left - 0.01, right, 3) {
                match field {
                    Field::Name if d.family.is_none() => {
                        let got = phi::field_demographics("Patient Name", &value);
                        if got.family.is_some() {
                            (d.family, d.given) = (got.family, got.given);
                            break;
                        }
                    }
                    Field::Birth if d.birth_date.is_none() => {
                        if let Some(b) = claim_date(&value) {
                            d.birth_date = Some(b);
                            break;
                        }
                    }
                    Field::Sex if d.gender.is_none() => {
                        // Boxes to choose from ("M [X] F [ ]"), or a letter (a UB-04's "F").
                        let value = if phi::is_choice(&value) {
                            value.as_str()
                        } else {
                            value.split_whitespace().next().unwrap_or("")
                        };
                        if let Some(g) = phi::field_demographics("Sex", value).gender {
                            d.gender = Some(g);
                            break;
                        }
                    }
                    Field::Account if d.other_ids.is_empty() => {
                        // CMS-1500 item 26: the patient's account with the provider (type AN). Only
                        // the first value under the caption: further down is another box (the
                        // billing provider's phone number), never the account.
                        let id = value.split_whitespace().next().unwrap_or("");
                        let id_like = id.len() >= 4
                            && id.chars().any(|c| c.is_ascii_digit())
                            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            && !crate::gates::phone_shaped(id);
                        if id_like {
                            d.add_id(IdKind::Account, id);
                        }
                        break;
                    }
                    _ => break,
                }
            }
        }
    }
    d
}

/// The member a card names in a field of its own ("Subscriber:", "Cardholder:", "Member Name:").
fn card_member(document: &Document) -> Demographics {
    for kv in document.pages.iter().flat_map(|p| &p.key_values) {
        let key = kv.key_name().to_lowercase();
        if matches!(
            key.as_str(),
            "subscriber"
                | "subscriber name"
                | "cardholder"
                | "card holder"
                | "member"
                | "member name"
                | "name"
                | "enrollee"
        ) {
            let got = phi::field_demographics("Patient Name", kv.value.text.trim());
            if got.family.is_some() {
                return got;
            }
        }
    }
    Demographics::default()
}

/// Where the next box begins on a caption's line, after byte `from`: its item number ("22." on a
/// CMS-1500), else a bare number before a caption word ("11 SEX" on a UB-04, whose boxes carry
/// no dots). The bare kind is looked for only on lines without the dotted kind, where "ITEMS
/// 1,2,3 OR 4" is a caption's own words.
fn next_item(words: &[(usize, &paperchart_model::document::Word)], from: usize) -> Option<f32> {
    let item_no = &claim_patterns().2;
    let after: Vec<&(usize, &paperchart_model::document::Word)> = words.iter().filter(|(at, _)| *at > from).collect();
    let dotted = after.iter().find(|(_, w)| item_no.is_match(&w.text));
    let bare = || {
        after.windows(2).find_map(|p| {
            let (n, next) = (p[0].1.text.trim_matches(|c: char| !c.is_ascii_alphanumeric()), &p[1].1.text);
            let number = (1..=2).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit());
            let caption = next.chars().filter(|c| c.is_ascii_uppercase()).count() >= 3;
            (number && caption).then_some(p[0])
        })
    };
    let has_dotted = words.iter().any(|(_, w)| item_no.is_match(&w.text));
    let found = if has_dotted { dotted.copied() } else { bare() };
    found.and_then(|(_, w)| w.bbox).map(|b| b.left)
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Name,
    Birth,
    Sex,
    Account,
}

/// A birth date as a claim's boxes hold it: "05 13 1948", "05 | 13 | 48", "11171981" (MMDDYYYY).
fn claim_date(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
    let joined = match parts[..] {
        [one, ..] if one.len() == 8 => format!("{}/{}/{}", &one[..2], &one[2..4], &one[4..]),
        [m, d, y, ..] if m.len() <= 2 && d.len() <= 2 && matches!(y.len(), 2 | 4) => format!("{m}/{d}/{y}"),
        _ => return None,
    };
    parse_date(&joined)
}

/// The first date of service of a claim: the "From" date of the first service line under
/// CMS-1500 item 24A ("DATE(S) OF SERVICE"), or a UB-04's statement period (FL 6) or service
/// date (FL 45). Only a date read cleanly counts — its leading tokens all digits ("10 11 21",
/// "10/11/21", "101121") and a real calendar date: a service line OCR has mangled ("10 (11) 24")
/// gives none rather than a wrong one.
fn claim_service_date(text: &str, birth_date: Option<&str>) -> Option<String> {
    static P: OnceLock<Regex> = OnceLock::new();
    let caption = P.get_or_init(|| {
        Regex::new(r"(?i)date\(?s\)?\s+of\s+servi|statement\s+covers|\bserv\.?\s+date|service\s+date")
            .expect("service date caption")
    });
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !caption.is_match(line) {
            continue;
        }
        for next in lines.iter().skip(i + 1).take(6) {
            let tokens: Vec<&str> = next
                .split_whitespace()
                .take_while(|t| t.chars().all(|c| c.is_ascii_digit() || c == '/' || c == '-'))
                .collect();
            let date = match tokens[..] {
                [one, ..] if one.len() == 6 && one.chars().all(|c| c.is_ascii_digit()) => {
                    parse_date(&format!("{}/{}/{}", &one[..2], &one[2..4], &one[4..]))
                }
                [one, ..] if one.contains(['/', '-']) => parse_date(one),
                [m, d, y, ..] if m.len() == 2 && d.len() == 2 && matches!(y.len(), 2 | 4) => {
                    parse_date(&format!("{m}/{d}/{y}"))
                }
                _ => claim_date(tokens.first().copied().unwrap_or("")).filter(|_| tokens.len() == 1),
            };
            // The patient's birth date in a box nearby is no date of service.
            if date.is_some() && date.as_deref() != birth_date {
                return date;
            }
        }
    }
    None
}

/// What an insurance card's fields say of the coverage.
fn coverage(document: &Document, text: &str) -> CoverageFact {
    let mut c = coverage_fields(document);
    // A member id the layout did not make a field of ("ID #: X32-7346-29883" cut apart by OCR).
    if c.member_id.is_none() {
        static P: OnceLock<Regex> = OnceLock::new();
        let re = P.get_or_init(|| {
            Regex::new(r"(?i)\b(?:member\s*)?id\s*(?:#|no\.?|number)?\s*:\s*([A-Z0-9][A-Z0-9-]{4,})")
                .expect("member id")
        });
        c.member_id = re.captures(text).map(|m| m[1].to_string()).filter(|v| v.chars().any(|ch| ch.is_ascii_digit()));
    }
    c
}

fn coverage_fields(document: &Document) -> CoverageFact {
    let mut c = CoverageFact::default();
    let id = |v: &str| -> Option<String> {
        let w = v.split_whitespace().next()?.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        (w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then(|| w.to_string())
    };
    for kv in document.pages.iter().flat_map(|p| &p.key_values) {
        let key = kv.key.text.to_lowercase().replace(['.', '#', ':'], " ");
        let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
        let value = kv.value.text.trim();
        let slot = match key.as_str() {
            "member id" | "member number" | "member no" | "member" | "id" | "subscriber id" | "id number" => {
                &mut c.member_id
            }
            "group number" | "group no" | "group" | "grp" => &mut c.group,
            "payer id" | "payer" => &mut c.payer_id,
            "rx bin" | "rxbin" | "bin" => &mut c.rx_bin,
            "rx pcn" | "rxpcn" | "pcn" => &mut c.rx_pcn,
            "rx grp" | "rxgrp" | "rx group" => &mut c.rx_group,
            "plan" | "plan name" | "health plan" => {
                c.plan.get_or_insert_with(|| value.to_string());
                continue;
            }
            _ => continue,
        };
        // "Member:" over a name is the member's name, not an id: an id holds a digit.
        if let Some(v) = id(value).filter(|v| v.chars().any(|c| c.is_ascii_digit()) || key.contains("group")) {
            slot.get_or_insert(v);
        }
    }
    c
}

struct Vaccine {
    terms: Vec<String>,
    code: Code,
    needs: Option<String>,
}

fn vaccines() -> &'static Vec<Vaccine> {
    static V: OnceLock<Vec<Vaccine>> = OnceLock::new();
    V.get_or_init(|| {
        const TSV: &str =
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/vaccines.tsv"));
        crate::tables::rows(TSV)
            .map(|r| Vaccine {
                terms: r[0].split('|').map(str::to_lowercase).collect(),
                code: Code::new(paperchart_model::findings::SYSTEM_CVX, r[1], r[2]),
                needs: r.get(3).map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            })
            .collect()
    })
}

/// The vaccine a row names, as written, and its CVX code when the record allows it.
fn vaccine_in(row: &str, record: &str) -> Option<(String, Option<Code>)> {
    let lower = row.to_lowercase();
    let mut best: Option<(usize, &Vaccine, &str)> = None;
    for v in vaccines() {
        for t in &v.terms {
            let Some(at) = find_word(&lower, t) else { continue };
            if best.is_none_or(|(_, _, b)| t.len() > b.len()) {
                best = Some((at, v, t));
            }
        }
    }
    let (at, v, t) = best?;
    let written = row[at..at + t.len()].to_string();
    let coded = v.needs.as_ref().is_none_or(|n| record.contains(n.as_str()));
    Some((written, coded.then(|| v.code.clone())))
}

fn find_word(hay: &str, needle: &str) -> Option<usize> {
    let b = hay.as_bytes();
    hay.match_indices(needle).map(|(i, _)| i).find(|&i| {
        let before = i.checked_sub(1).is_none_or(|j| !b[j].is_ascii_alphanumeric());
        let after = b.get(i + needle.len()).is_none_or(|c| !c.is_ascii_alphanumeric());
        before && after
    })
}

/// The doses of an immunization record: a row starts at a line with a date or a dose label and
/// runs to the next; a row holding a date or a lot number is a dose. The vaccine is the one the
/// row names, else the one the record names, else none (a dose without a vaccine is not written).
fn immunizations(text: &str) -> Vec<ImmunizationFact> {
    static P: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (dose, date) = P.get_or_init(|| {
        (
            // "1st Dose" (OCR reads the 1 as l: "lst"), "Dose 2", "Booster", "Other".
            Regex::new(r"(?i)\b(?:([1-5]|l)(?:st|nd|rd|th)\s+dose|dose\s*#?\s*([1-5])\b|booster|other\b)")
                .expect("dose"),
            Regex::new(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b").expect("date"),
        )
    });
    // A lot number: 4 to 12 capitals and digits, at least one letter and two digits, and not a
    // vaccine's own name ("PCV13").
    let lot = |row: &str| -> Option<String> {
        row.split_whitespace().find_map(|t| {
            let t = t.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            let digits = t.chars().filter(char::is_ascii_digit).count();
            let ok = (4..=12).contains(&t.len())
                && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && digits >= 2
                && digits < t.len()
                && !vaccines().iter().any(|v| v.terms.iter().any(|term| term.eq_ignore_ascii_case(t)));
            ok.then(|| t.to_string())
        })
    };
    let record = text.to_lowercase();
    let document_vaccine = vaccine_in(text, &record);
    let lines: Vec<(usize, &str)> = crate::text::lines_at(text).collect();
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| dose.is_match(lines[i].1)).collect();
    let mut out = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let e = starts.get(n + 1).copied().unwrap_or(lines.len()).min(s + 3);
        let (start, end) = (lines[s].0, lines[e - 1].0 + lines[e - 1].1.len());
        let row = &text[start..end];
        let the_date = date.find_iter(row).find_map(|m| parse_date(m.as_str()));
        let the_lot = lot(row);
        if the_date.is_none() && the_lot.is_none() {
            continue; // an empty row of the card
        }
        let Some((vaccine, code)) = vaccine_in(row, &record).or_else(|| document_vaccine.clone()) else { continue };
        let number = dose.captures(lines[s].1).and_then(|c| c.get(1).or(c.get(2))).and_then(|m| match m.as_str() {
            "l" | "L" => Some(1),
            n => n.parse().ok(),
        });
        out.push(ImmunizationFact { vaccine, code, date: the_date, lot: the_lot, dose_number: number, start, end });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::document::{Page, ReadBy, Word};

    fn term() -> &'static Terminology {
        static T: OnceLock<Terminology> = OnceLock::new();
        T.get_or_init(Terminology::builtin)
    }

    #[test]
    fn a_digit_is_never_a_stray_character_before_a_code() {
        assert!(codes_in(&["3209", "G43909"], term()).iter().all(|(_, _, c)| c != "Z09"), "not Z09 from '3209'");
        assert_eq!(codes_in(&["3209", "G43909"], term()).last().map(|c| c.2.as_str()), Some("G43.909"));
    }

    #[test]
    fn codes_in_the_diagnosis_field_survive_ocr_but_only_one_way() {
        let read = |s: &str| -> Vec<String> {
            let words: Vec<&str> = s.split_whitespace().collect();
            codes_in(&words, term()).into_iter().map(|(_, _, c)| c).collect()
        };
        assert_eq!(read("1. p R11 . o 3. p R19, . a"), ["R11.0"], "R19 with an unreadable subcode is not read");
        assert_eq!(read(">, _K59 00 4 LKQ2 1"), ["K59.00", "K92.1"]);
        assert_eq!(read("1. I10 2. E11.9"), ["I10", "E11.9"]);
        assert_eq!(read("A. K21.9 B. 110"), ["K21.9", "I10"], "a letter read as a digit");
        assert!(read("858 555 0100").is_empty(), "numbers are not codes");
        assert!(read("R19").is_empty(), "a category is not billable");
    }

    fn boxed(top: f32, words: &[(&str, f32)]) -> Line {
        Line::from_words(
            words
                .iter()
                .map(|&(t, left)| Word {
                    text: t.into(),
                    bbox: Some(BBox { left, top, width: 0.01 * t.len() as f32, height: 0.008 }),
                    confidence: 90.0,
                    handwritten: false,
                })
                .collect(),
        )
    }

    fn claim() -> Document {
        let lines = vec![
            boxed(0.10, &[("HEALTH", 0.3), ("INSURANCE", 0.37), ("CLAIM", 0.47), ("FORM", 0.53)]),
            boxed(
                0.15,
                &[
                    ("2.", 0.04),
                    ("PATIENT'S", 0.05),
                    ("NAME", 0.15),
                    ("3.", 0.38),
                    ("PATIENT'S", 0.39),
                    ("BIRTH", 0.49),
                    ("DATE", 0.55),
                    ("4.", 0.62),
                    ("INSURED'S", 0.63),
                    ("NAME", 0.73),
                ],
            ),
            boxed(
                0.165,
                &[
                    ("Roe,", 0.06),
                    ("Anna", 0.11),
                    ("03", 0.40),
                    ("14", 0.43),
                    ("1971", 0.46),
                    ("Roe,", 0.63),
                    ("Max", 0.68),
                ],
            ),
            boxed(
                0.30,
                &[
                    ("a.", 0.04),
                    ("EMPLOYMENT?", 0.05),
                    ("a.", 0.62),
                    ("INSURED'S", 0.63),
                    ("DATE", 0.70),
                    ("OF", 0.74),
                    ("BIRTH", 0.76),
                    ("SEX", 0.82),
                ],
            ),
            boxed(
                0.315,
                &[("[X]", 0.05), ("NO", 0.08), ("M", 0.82), ("[", 0.83), ("]", 0.84), ("F", 0.85), ("[X]", 0.86)],
            ),
            boxed(
                0.55,
                &[
                    ("21.", 0.04),
                    ("DIAGNOSIS", 0.06),
                    ("OR", 0.16),
                    ("NATURE", 0.19),
                    ("OF", 0.26),
                    ("ILLNESS", 0.29),
                    ("22.", 0.62),
                    ("MEDICAID", 0.63),
                ],
            ),
            boxed(
                0.59,
                &[
                    ("1.", 0.05),
                    ("J45", 0.07),
                    (".", 0.11),
                    ("909", 0.12),
                    ("3.", 0.37),
                    ("E11", 0.40),
                    ("9", 0.44),
                    ("777", 0.7),
                ],
            ),
            boxed(0.62, &[("24.", 0.04), ("DATE(S)", 0.06), ("OF", 0.14), ("SERVICE", 0.17)]),
            boxed(0.65, &[("1", 0.04), ("10", 0.06), ("11", 0.09), ("21", 0.12), ("I10", 0.3)]),
            boxed(
                0.80,
                &[
                    ("25.", 0.04),
                    ("FEDERAL", 0.06),
                    ("TAX", 0.14),
                    ("26.", 0.30),
                    ("PATIENT'S", 0.32),
                    ("ACCOUNT", 0.42),
                    ("NO.", 0.50),
                    ("28.", 0.60),
                    ("TOTAL", 0.62),
                ],
            ),
            boxed(0.82, &[("12-3456789", 0.05), ("K4471-2", 0.33), ("$", 0.61), ("405", 0.63)]),
        ];
        scanned(lines)
    }

    /// One OCR'd page of `lines`.
    fn scanned(lines: Vec<Line>) -> Document {
        Document {
            pages: vec![Page {
                number: 1,
                read_by: ReadBy::Tesseract,
                lines,
                key_values: vec![],
                tables: vec![],
                text_layer_rejected: false,
                prepared: Vec::new(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_claim_gives_its_patient_and_its_diagnosis_field() {
        let doc = claim();
        let text = doc.text();
        let placed = Placed::new(&doc);
        let d = claim_patient(&placed);
        assert_eq!(
            (d.family.as_deref(), d.given.as_slice()),
            (Some("Roe"), &["Anna".to_string()][..]),
            "not the insured"
        );
        assert_eq!(d.birth_date.as_deref(), Some("1971-03-14"));
        assert_eq!(d.gender, None, "the insured's sex box is not the patient's");
        assert_eq!(
            d.other_ids,
            [paperchart_model::findings::PatientId { kind: IdKind::Account, value: "K4471-2".into() }],
            "item 26 is the patient's account; item 25 the provider's tax id"
        );
        assert_eq!(claim_date("09081979 M 072424").as_deref(), Some("1979-09-08"), "a UB-04's MMDDYYYY");
        assert_eq!(claim_date("05 | 13 | 48").as_deref(), Some("1948-05-13"));
        assert_eq!(claim_date("M FI"), None);
        let service = |lines: &str| claim_service_date(&format!("24. A. DATE(S) OF SERVICE From To\n{lines}"), None);
        assert_eq!(service("MM DD YY MM DD YY\n03 14 24   11   99213   A   120 00").as_deref(), Some("2024-03-14"));
        assert_eq!(service("10/11/21 10/11/21 11 90805").as_deref(), Some("2021-10-11"));
        assert_eq!(service("| 10 (11) 24 11 90805 | 140,00"), None, "a mangled service line gives no date");
        assert_eq!(service("13 45 24 11 99213"), None, "not a calendar date");
        assert_eq!(
            claim_service_date("6 STATEMENT COVERS PERIOD FROM THROUGH\n101121 101421", None).as_deref(),
            Some("2021-10-11")
        );
        let ub = "6 STATEMENT COVERS PERIOD FROM THROUGH\n10 BIRTHDATE 11 SEX\n03231996 F";
        assert_eq!(claim_service_date(ub, Some("1996-03-23")), None, "the birth date is no date of service");
        let dx = claim_diagnoses(&placed, &text, term());
        let codes: Vec<&str> = dx.iter().map(|e| e.codes[0].code.as_str()).collect();
        assert_eq!(codes, ["J45.909", "E11.9"], "the field's codes only: not the 22 box's number, not a service line");
        assert_eq!(&text[dx[0].start..dx[0].end], "J45 . 909", "the evidence is the words as read");
    }

    #[test]
    fn a_ub04_sex_box_run_into_its_number_is_read() {
        let lines = vec![
            boxed(0.10, &[("8", 0.04), ("PATIENT", 0.05), ("NAME", 0.12)]),
            boxed(0.12, &[("ROE,", 0.05), ("ANNA", 0.10)]),
            boxed(0.20, &[("10", 0.04), ("BIRTHDATE", 0.06), ("11SEX", 0.20), ("12", 0.30), ("ADMISSION", 0.32)]),
            boxed(0.22, &[("03231996", 0.05), ("F", 0.21), ("021724", 0.31)]),
        ];
        let doc = scanned(lines);
        let d = claim_patient(&Placed::new(&doc));
        assert_eq!(d.gender, Some(paperchart_model::findings::Gender::Female), "{d:?}");
        assert_eq!(d.birth_date.as_deref(), Some("1996-03-23"));
    }

    #[test]
    fn immunization_rows_with_a_date_or_lot_are_doses() {
        let card = "COVID-19 Vaccination Record Card\nVaccine Product Lot Date\n1st Dose Pfizer EK5730 01/18/21 CVS\n2nd Dose Pfizer EL3302 02/08/21\nBooster Shot\nmm dd yy\nOther\n";
        let doses = immunizations(card);
        assert_eq!(doses.len(), 2, "the empty booster and other rows are not doses: {doses:?}");
        assert_eq!(doses[0].date.as_deref(), Some("2021-01-18"));
        assert_eq!(doses[0].lot.as_deref(), Some("EK5730"));
        assert_eq!(doses[0].dose_number, Some(1));
        assert_eq!(doses[0].code.as_ref().map(|c| c.code.as_str()), Some("208"));
        // A maker alone on a record that never says what for: written as read, no code.
        let plain = "Vaccination Record\n1st Dose Pfizer AB1234 3/1/22\n";
        let doses = immunizations(plain);
        assert_eq!((doses[0].vaccine.as_str(), doses[0].code.is_none()), ("Pfizer", true));
        assert_eq!(immunizations("Immunization Record\nTdap given 05/02/2019\n").len(), 0, "no dose row");
        assert_eq!(
            immunizations("Immunization Record\n1st Dose Tdap 05/02/2019\n")[0].code.as_ref().unwrap().code,
            "115"
        );
        let lots =
            immunizations("Immunization Record\nDose 1 PCV13 U6927AA 2019-01-02\nDose 2 PCV13 039K20A 2019-03-02\n");
        let lots: Vec<_> = lots.iter().map(|d| d.lot.as_deref()).collect();
        assert_eq!(lots, [Some("U6927AA"), Some("039K20A")], "a vaccine's name is not its lot");
    }

    #[test]
    fn a_card_gives_coverage_and_its_member() {
        let lines = vec![
            boxed(
                0.30,
                &[
                    ("Member", 0.08),
                    ("ID:", 0.145),
                    ("11-2234-10190", 0.18),
                    ("Group", 0.52),
                    ("Number:", 0.575),
                    ("AAAAA", 0.65),
                ],
            ),
            boxed(0.38, &[("Member:", 0.09)]),
            boxed(0.42, &[("Payer", 0.56), ("ID:", 0.615), ("87726", 0.65)]),
            boxed(0.45, &[("JOHN", 0.09), ("DOE", 0.135)]),
            boxed(0.50, &[("PCP", 0.09), ("Phone:", 0.125), ("(920)-555-0101", 0.19)]),
        ];
        let key_values = layout::key_values(&lines);
        let doc = Document {
            pages: vec![Page {
                number: 1,
                read_by: ReadBy::Tesseract,
                lines,
                key_values,
                tables: vec![],
                text_layer_rejected: false,
                prepared: Vec::new(),
            }],
            ..Default::default()
        };
        let c = coverage(&doc, &doc.text());
        assert_eq!(c.member_id.as_deref(), Some("11-2234-10190"));
        assert_eq!(c.group.as_deref(), Some("AAAAA"));
        assert_eq!(c.payer_id.as_deref(), Some("87726"));
    }
}
