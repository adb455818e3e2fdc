//! PHI that no label announces, for recall (de-identification, and nothing identifying left
//! unnoticed): names in forms that say they are names ("SMITH, JOHN", "Jane Q. Doe, MD", "signed
//! by Robert Kim"), partial dates ("DOB 3/80", "May 2020"), short phone numbers after a phone
//! word, hospitals and clinics, street addresses. These are reported as PHI entities only: they
//! never fill the patient's demographics, which only labelled fields do.

use std::collections::HashSet;
use std::sync::OnceLock;

use paperchart_model::vocabulary::is_clinical_word as clinical_word;
use regex::Regex;

use super::{Entity, Subtype};
use crate::tables::rows;

const NAMES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/names.tsv"));

/// Words a "LAST, FIRST" line of a report may hold that are no name: headings and their parts.
const NOT_NAMES: &[&str] = &[
    "history",
    "physical",
    "assessment",
    "plan",
    "exam",
    "examination",
    "review",
    "systems",
    "diagnosis",
    "diagnoses",
    "impression",
    "medications",
    "allergies",
    "labs",
    "vitals",
    "summary",
    "discharge",
    "admission",
    "note",
    "report",
    "progress",
    "consult",
    "procedure",
    "procedures",
    "findings",
    "results",
    "chief",
    "complaint",
    "social",
    "family",
    "past",
    "medical",
    "surgical",
    "follow",
    "instructions",
    "patient",
    "name",
    "date",
    "signs",
    "symptoms",
    "hospital",
    "course",
    "condition",
    "disposition",
    "reason",
    "visit",
    "tests",
    "imaging",
    "orders",
];

/// Units and measures a long number may be written with: never an identifier then.
const UNIT_WORDS: &[&str] = &[
    "units", "unit", "iu", "u", "copies", "cfu", "mg", "mcg", "ug", "g", "ml", "miu", "cells", "k", "cells/", "per",
    "count", "lot", "dose", "doses",
];

/// What follows a patient's name in a record's header: the record number or birth date.
const IDENTITY_CUES: &[&str] =
    &["mrn", "mr#", "mr #", "unit no", "unit number", "dob", "d.o.b", "acct", "account", "record"];

/// Words a sentence may go on with after a relative's word, capitalised at a line's start or in a
/// title: never a name.
const FUNCTION_WORDS: &[&str] = &[
    "the", "this", "that", "these", "those", "he", "she", "they", "it", "who", "whom", "which", "with", "and", "or",
    "but", "in", "at", "on", "for", "of", "to", "from", "by", "has", "had", "have", "was", "were", "is", "are", "will",
    "would", "also", "both", "all", "no", "not", "none", "her", "his", "their", "alive", "deceased", "died", "living",
    "age", "aged", "history", "hx",
];

struct Names {
    given: HashSet<String>,
    family: HashSet<String>,
}

fn names() -> &'static Names {
    static N: OnceLock<Names> = OnceLock::new();
    N.get_or_init(|| {
        let (mut given, mut family) = (HashSet::new(), HashSet::new());
        for r in rows(NAMES) {
            match r.get(1).copied() {
                Some("given") => given.insert(r[0].to_string()),
                Some("family") => family.insert(r[0].to_string()),
                _ => false,
            };
        }
        Names { given, family }
    })
}

struct Patterns {
    last_first: Regex,
    credentialed: Regex,
    role: Regex,
    initials: Regex,
    long_number: Regex,
    signed: Regex,
    relative: Regex,
    month_year: Regex,
    month_year_weak: Regex,
    year: Regex,
    month_name_year: Regex,
    month_day: Regex,
    day_month: Regex,
    introduced: Regex,
    patient_named: Regex,
    short_year: Regex,
    short_phone: Regex,
    pager: Regex,
    phone_or: Regex,
    record_number: Regex,
    facility: Regex,
    facility_caps: Regex,
    street: Regex,
    profession: Regex,
    city: Regex,
    title_caps: Regex,
    employer: Regex,
    plan_number: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("phi pattern");
        const CREDENTIAL: &str = r"(?:MD|M\.D\.|DO|D\.O\.|NP|PA-C|PA|RN|APRN|PhD|MBBS|DNP|FNP|CNM|MPH)";
        // A name word, capitalised or in capitals: "Kim", "O'Neil", "McDonald", "Smith-Jones",
        // "HARRIS", "ABERNATHY-CHO".
        // (Capitals first: "O'NEIL" is not "O" followed by something else.)
        const NAME_WORD: &str = r"(?:[A-Z](?:[A-Z]+|'[A-Z]{2,})(?:['-][A-Z]{2,})*\b|[A-Z][a-z]*(?:['-]?[A-Z][a-z]+)*[a-z]*)";
        // A name written with initials first: "K. Patel", "J. R. Ortiz".
        const INITIALED: &str = r"(?:[A-Z]\.[ \t]*){1,2}[A-Z][a-z]+(?:['-][A-Z][a-z]+)?";
        const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
        Patterns {
            // "SMITH, JOHN", "Doe, Jane Q."
            last_first: re(r"\b([A-Z][A-Za-z'-]+),[ \t]+([A-Z][A-Za-z'-]+)(?:[ \t]+[A-Z]\.?)?\b"),
            credentialed: re(&format!(
                r"\b({INITIALED}|{NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{1,2}}),?[ \t]+{CREDENTIAL}(?:\b|\s|,|$)"
            )),
            // A care team member named after their role: "Nurse Practitioner Judy Pham", "RN Ana
            // Ruiz", "seen by physical therapist Omar Haddad", "His PCP is Lorraine Whitcomb".
            role: re(&format!(
                r"\b(?i:nurse[ \t]+practitioner|physician[ \t]+assistant|physician|nurse|np|pa|rn|lpn|attending|resident|fellow|intern|pharmacist|(?:physical|occupational|speech|respiratory)[ \t]+therapist|therapist|social[ \t]+worker|case[ \t]+manager|midwife|dietitian|nutritionist|chaplain|counselor|psychologist|surgeon|coordinator|pcp|primary[ \t]+care[ \t]+(?:physician|provider|doctor))(?:[ \t]+(?i:is|was))?[ \t]+({NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{0,2}})"
            )),
            // A dictation's initials, "SO/jk": with the dictation's dates on their line, or on
            // a line of their own under the signature (checked where they are found).
            initials: re(r"(?m)^[ \t]*([A-Z]{2,3}/[a-z]{2,3})\b[ \t]*(DD\b|DT\b|D:|T:)?"),
            // A number of seven digits or more standing alone is an identifier (a record, visit or
            // accession number): no measurement is written so.
            long_number: re(r"(?:^|[^\d.,/:-])(\d{7,12})(?:$|[^\d.,/%-])"),
            // "Signed electronically by: X", "DICTATED BY: X", "Signed: X", "cc: Dr. X". Not "cc:"
            // alone, which in a note is the chief complaint as often as a copy's recipient.
            signed: re(
                &format!(r"(?i:\b(?:(?:signed|dictated|transcribed|reviewed|cosigned|attested)(?:[ \t]+electronically)?[ \t]+by\s*:?|signed\s*:))\s*(?:Dr\.?[ \t]+)?({INITIALED}|{NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{1,2}})|(?i:\bcc\s*:\s*dr\.?)[ \t]+({NAME_WORD}(?:[ \t]+[A-Z]\.)?(?:[ \t]+{NAME_WORD}){{0,2}})"),
            ),
            // "his wife Mai", "daughter (Ingrid)", "son, Kevin", "his niece" / "Genevieve" on the
            // next line.
            relative: re(&format!(
                r"(?i:\b(?:wife|husband|spouse|partner|son|daughter|sister|brother|mother|father|niece|nephew|grandson|granddaughter|friend|fianc[ée]e?|boyfriend|girlfriend)\b)[ \t]*[,(]?[ \t]*\n?[ \t]*({NAME_WORD}(?:[ \t]+{NAME_WORD})?)\b"
            )),
            // "3/80", "03/2019", "on 3/14" after a word dates follow.
            month_year: re(
                r"(?i)\b(?:in|on|since|from|until|till|through|dated|dob|d\.o\.b\.?|date|dd|td|seen|called|visited|returned|started|stopped|presented|scheduled|around|circa|admitted|discharged|born)\b[\s:]*((?:0?[1-9]|1[0-2])/(?:\d{1,2}|\d{4}))\b",
            ),
            // After words that also take fractions, doses and durations ("by 1/2", "last 5/25
            // mg", "after 4/12 weeks"): only a month and a year of two or four digits, and never
            // /10, /12 or /52 (a score, months, weeks in UK notes) — see [`weak_date`].
            month_year_weak: re(
                r"(?i)\b(?:began|begun|beginning|onset|diagnosed|noted|resolved|ended|last|prior\s+to|before|after|by)\b[\s:]*((?:0?[1-9]|1[0-2])/(?:\d{2}|\d{4}))\b",
            ),
            // "until 2085", "since 1998": a year alone after a word of time; never an amount or a
            // clock time with words of its own after it ("in 2000 out 1500", "since 1930 hrs").
            year: re(
                r"(?i)\b(?:in|since|until|till|through|circa|during)[ \t]+((?:19|20)\d{2})\b(?:[ \t]*(?:[-/%,.:]?\d+|to|out|and|mg|mcg|units?|ml|cc|patients|cases|subjects|people|persons|hrs?|hours?|h|am|pm)\b)?",
            ),
            month_name_year: re(&format!(r"\b({MONTH}\.?,?[ \t]+(?:of[ \t]+)?(?:19|20)\d{{2}})\b")),
            // "March 3rd", "Jan 5": a month written with its day and no year.
            month_day: re(&format!(r"\b({MONTH}\.?[ \t]+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?)\b")),
            // "the 3rd of May", "14 March 2019", "2nd Feb".
            day_month: re(&format!(
                r"\b((?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{MONTH}\b\.?(?:,?[ \t]+(?:19|20)\d{{2}}\b)?)"
            )),
            // "Patient Xiomara Delacruz-Ortiz", "Pt: Nguyen T.": the patient named without a
            // name field's label.
            patient_named: re(&format!(
                r"\b(?:[Pp]atient|PATIENT|[Pp]t|PT)\.?[ \t]*:?[ \t]+({NAME_WORD}\b(?:[ \t]+(?:[A-Z]\.|{NAME_WORD}\b)){{1,2}})"
            )),
            // A note that opens with its patient: "Oluwaseun Adeyemi is a 92-year-old man",
            // "ADEYEMI, OLUWASEUN is a 92 yo".
            introduced: re(&format!(
                r"(?m)(?:^|[.!?][ \t]+)[ \t]*({NAME_WORD}\b,?(?:[ \t]+{NAME_WORD}\b){{1,2}})[ \t]+(?:is|was)[ \t]+an?[ \t]+\d{{1,3}}[- ]?(?:years?|yrs?|y/?o\b|yo\b)"
            )),
            // "since '87".
            short_year: re(r"(?i)\b(?:in|since|from|until|till|of|circa|around)[ \t]+('\d{2})\b"),
            short_phone: re(r"(?i)\b(?:phone|tel|telephone|call|pager|beeper|page|ext|extension|cell|fax)\b[^\n\d]{0,12}((?:\d{3}-\d{4}|x\d{3,5}|x\d-\d{4}))\b"),
            // A second number after a phone: "x4567 or 555-1234", "(617) 555-0100, 555-0101".
            phone_or: re(r"(?i)(\d{4}|x\d{3,5})[ \t]*(?:,|;|or|and)[ \t]*(?:at[ \t]+)?((?:\(\d{3}\)[ \t]?|\d{3}[.-])?[2-9]\d{2}[.-]\d{4}|x\d{3,5})\b"),
            // A pager or an extension is a number of four or five digits after its word.
            pager: re(r"(?i)\b(?:pager|beeper|pgr|page|ext|extension)\b\.?[ \t]*(?:#|no\.?|number)?[ \t:]*#?(\d{4,5}|\d-\d{4})\b"),
            // A record, unit, job or account number after the word that names it, with no colon
            // ("MRN 7720019", "Unit No: 442-88-19", "JOB #: 4412").
            record_number: re(
                r"(?i)\b(?:mrn|mr\s*#|medical\s+record(?:\s+(?:number|no\.?|#))?|unit\s+(?:no\.?|number|#)|job\s*(?:no\.?|number|#)|batch(?:\s*(?:no\.?|number|#))?|accession(?:\s*(?:no\.?|number|#))?|encounter\s*(?:no\.?|number|#|id)|fin|csn|acct\.?\s*#?|account\s*(?:no\.?|number|#)?|chart\s*(?:no\.?|number|#)|case\s*(?:no\.?|number|#)|specimen\s*(?:no\.?|number|#))[ \t]*[:#]?[ \t]*#?[ \t]*([A-Z]{0,3}\d[\d-]{2,}[A-Z0-9]*)\b",
            ),
            facility: re(
                r"\b((?:[A-Z][a-z'-]+(?:[ \t]+|[ \t]*\n[ \t]*)){1,4}(?:Medical[ \t]+Center|Hospital|Clinic|Health[ \t]+Center|Health[ \t]+System|Medical[ \t]+Group|Infirmary|Nursing[ \t]+Home|Rehabilitation[ \t]+Center|Cancer[ \t]+Center|Family[ \t]+(?:Medicine|Practice)|Internal[ \t]+Medicine|Pediatrics|Medical[ \t]+Associates|Associates|Urgent[ \t]+Care|Healthcare|Health[ \t]+Care|Physicians|Pharmacy|Surgery[ \t]+Center|Dialysis[ \t]+Center|Women's[ \t]+Health))\b",
            ),
            facility_caps: re(
                r"\b((?:[A-Z][A-Z'.-]+[ \t]+){1,4}(?:MEDICAL[ \t]+CENTER|HOSPITAL|CLINIC|HEALTH[ \t]+CENTER|HEALTH[ \t]+SYSTEM|MEDICAL[ \t]+GROUP|INFIRMARY|NURSING[ \t]+HOME|REHABILITATION[ \t]+CENTER|CANCER[ \t]+CENTER|FAMILY[ \t]+(?:MEDICINE|PRACTICE)|INTERNAL[ \t]+MEDICINE|PEDIATRICS|MEDICAL[ \t]+ASSOCIATES|ASSOCIATES|URGENT[ \t]+CARE|HEALTHCARE|PHYSICIANS|PHARMACY))\b",
            ),
            // "DR. JAMES O'NEIL": a doctor named in capitals (phi.rs reads "Dr. Chen").
            title_caps: re(&format!(r"\bDR\.?[ \t]+((?:[A-Z]\.[ \t]*)?{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,2}})\b")),
            // "works at Boeing", "employed by Acme Tool & Die": an employer names the patient's place.
            employer: re(
                r"(?i:\b(?:works?|worked|working|employed|employee)(?:[ \t]+as[ \t]+(?:an?[ \t]+)?[a-z]+(?:[ \t]+[a-z]+)?)?[ \t]+(?:at|by)[ \t]+(?:the[ \t]+)?)([A-Z][A-Za-z&'.-]*(?:[ \t]+(?:[A-Z][A-Za-z&'.-]*|&|of)){0,3})",
            ),
            // An insurance number after its word: "Medicare # 1EG4-TE5-MK73", "Policy No. XJH8812345".
            plan_number: re(
                r"(?i:\b(?:(?:medicare|medicaid|insurance|policy|subscriber|beneficiary|mbi|hicn)(?:[ \t]+(?:id|no\.?|number|#))?|(?:member|group|plan)[ \t]+(?:id|no\.?|number|#))[ \t]*[:#]?[ \t]*#?[ \t]*)([A-Z0-9]{2,}(?:-[A-Z0-9]{2,})+|[A-Z]{0,4}\d[A-Z0-9]{5,})\b",
            ),
            // "works as a carpenter", "employed as an accountant".
            profession: re(
                r"(?i)\b(?:(?:works?|worked|working|employed|employment)[ \t]+as[ \t]+(?:an?[ \t]+)?((?:retired[ \t]+)?[a-z]+(?:[ \t]+[a-z]+)?)|(?:is|was)[ \t]+an?[ \t]+(retired[ \t]+[a-z]+(?:[ \t]+[a-z]+)?))",
            ),
            // "lives in Boston", "moved from Fairview".
            city: re(
                r"(?i:\b(?:lives|living|resides|residing|moved|relocated|born|raised|native)(?:[ \t]+(?:with|alone|together|independently|her|his|their|a|an|the|husband|wife|partner|family|son|daughter|parents?|mother|father|children|kids|[A-Z][a-z]+)){0,5}?[ \t]+(?:in|to|from|of)[ \t]+)([A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2})",
            ),
            street: re(
                r"\b(\d{1,5}[ \t]+(?:[A-Z][a-z]+[ \t]+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Ct|Way|Place|Pl|Terrace|Circle|Parkway|Pkwy)\b\.?(?:,?[ \t]+(?:Apt|Suite|Unit)\.?\s*#?\s*\w+)?(?:,\s*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)?,?[ \t]+[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?)?)",
            ),
        }
    })
}

fn is_given(w: &str) -> bool {
    names().given.contains(&w.to_lowercase())
}

fn is_family(w: &str) -> bool {
    names().family.contains(&w.to_lowercase())
}

fn not_a_name(w: &str) -> bool {
    NOT_NAMES.contains(&w.to_lowercase().as_str())
}

/// Do the capitalised words after "lives in", "moved from" or "works at" name a place? Not where
/// one word alone is a clinical word ("moved to Rehab") or a word is a heading's or a care
/// setting's ("works with Physical Therapy", "lives in Assisted Living"); a name of several words
/// may hold words of clinical names ("Fall River", "Harbor Mills", "Grand Rapids").
fn names_a_place(name: &str) -> bool {
    const SETTINGS: &[&str] = &[
        "rehab",
        "rehabilitation",
        "icu",
        "floor",
        "unit",
        "care",
        "nursing",
        "living",
        "facility",
        "hospice",
        "shelter",
        "ward",
        "room",
        "home",
        "bed",
        "therapy",
    ];
    let words: Vec<&str> = name.split_whitespace().collect();
    let setting = |w: &str| SETTINGS.contains(&w.to_lowercase().as_str());
    !words.iter().any(|w| not_a_name(w) || setting(w)) && !matches!(words.as_slice(), [one] if clinical_word(one))
}

/// Words said of a patient, or of a form's field, after "Patient" or "Pt:" that are no name
/// ("Pt: Pleasant Cooperative", "Patient Sticker Here").
const NOT_A_PATIENTS_NAME: &[&str] = &[
    "pleasant",
    "cooperative",
    "alert",
    "oriented",
    "awake",
    "calm",
    "comfortable",
    "stable",
    "agreeable",
    "sticker",
    "label",
    "here",
    "name",
    "information",
    "education",
    "instructions",
    "identifier",
    "signature",
    "states",
    "reports",
    "denies",
    "ambulatory",
    "verbal",
    "nonverbal",
];

/// Is "M/YY" after a word that also takes fractions and doses a date: not a score, months or
/// weeks ("/10", "/12", "/52"), and no unit, time word or count after it ("last 5/25 mg", "after
/// 4/12 weeks", "noted 2/6 murmur")?
fn weak_date(written: &str, after: &str) -> bool {
    let Some((_, year)) = written.split_once('/') else { return false };
    if matches!(year, "10" | "12" | "52") {
        return false;
    }
    static UNIT: OnceLock<Regex> = OnceLock::new();
    let unit = UNIT.get_or_init(|| {
        Regex::new(r"(?i)^\s*(?:mg|mcg|g|ml|units?|tabs?|tablets?|caps?|puffs?|drops?|bottles?|hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?|ago|of\b|murmur|x\b|times|doses?)")
            .expect("unit")
    });
    !unit.is_match(after)
}

/// Is "N/D" here a dose's fraction or an exam's grade rather than a date ("started 1/2 tab",
/// "on 1/2 tablet", "strength from 3/5 to 4/5")? Only a one-digit second part can be.
fn fraction_or_grade(written: &str, before: &str, after: &str) -> bool {
    let Some((_, d)) = written.split_once('/') else { return false };
    if d.len() != 1 {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)^\s*(?:tabs?|tablets?|caps?|capsules?|pills?|of\b|dose|strength|(?:to|-)\s*\d/5\b)")
            .expect("fraction")
    });
    // A grade out of 5 only where an exam says so ("strength 4/5", "motor 3/5"): "admitted on
    // 3/5" is a date.
    static GRADE: OnceLock<Regex> = OnceLock::new();
    let grade = GRADE.get_or_init(|| {
        Regex::new(r"(?i)(?:strength|motor|power|grade|reflex(?:es)?|muscle)\W{0,3}(?:\w+\W{1,3}){0,2}$")
            .expect("grade")
    });
    (d == "5" && grade.is_match(before)) || re.is_match(after)
}

/// Adds to `out` the PHI no label announced, where nothing found already covers it.
pub fn extract(text: &str, out: &mut Vec<Entity>) {
    let p = patterns();
    let add = |out: &mut Vec<Entity>, subtype: Subtype, start: usize, end: usize| {
        if !out.iter().any(|x| x.start < end && start < x.end) {
            out.push(super::phi::entity(subtype, start, end, text, None));
        }
    };
    // Addresses first: "12 Oak Street, Boston" holds no "LAST, FIRST".
    for c in p.street.captures_iter(text) {
        let m = c.get(1).expect("group");
        add(out, Subtype::Address, m.start(), m.end());
    }
    for c in p.last_first.captures_iter(text) {
        let (last, first) = (c.get(1).expect("group"), c.get(2).expect("group"));
        // Both in capitals or both capitalised ("GERD, Major depressive disorder" is a list), no
        // heading word, and the census knows the surname and the given name.
        let caps = |w: &str| !w.chars().any(char::is_lowercase);
        if caps(last.as_str()) != caps(first.as_str()) || not_a_name(last.as_str()) || not_a_name(first.as_str()) {
            continue;
        }
        // A line of its own ("SMITH, TOMASZ" heading a note): a census surname is enough, with a
        // given name that is no clinical word.
        // Alone on its line: only spaces to the line breaks either side (looked for nearby only,
        // so a huge line costs no more than a short one).
        let m0 = c.get(0).expect("match");
        let before = &text[..last.start()];
        let after = &text[m0.end()..];
        let alone = before.chars().rev().take(80).find(|c| !c.is_whitespace() || *c == '\n').is_none_or(|c| c == '\n')
            && after.chars().take(80).find(|c| !c.is_whitespace() || *c == '\n').is_none_or(|c| c == '\n');
        // A surname the census does not know (hyphenated, rare) in capitals, with a census given
        // name that is no clinical word: "SCHULTZE-MEYER, HANS".
        let surname = |w: &str| is_family(w) || w.split('-').any(is_family) || (caps(w) && !clinical_word(w));
        let known = surname(last.as_str()) && is_given(first.as_str()) && !clinical_word(first.as_str());
        let heading = alone && is_family(last.as_str()) && !clinical_word(first.as_str()) && first.as_str().len() >= 2;
        // Followed on its line or the next by the patient's record number or birth date
        // ("NAKAMURA-LEE, XIMENA (MRN 7720019)", "LOPEZ, KWAME\nUnit No: …"): a name whatever the
        // census knows, when neither word is a clinical word.
        let next_two_lines: String = after.split('\n').take(2).collect::<Vec<_>>().join(" ").to_lowercase();
        // Not two abbreviations or clinical words ("HTN, GERD\nDOB: …" is a problem list): a
        // census given name, or two words of five letters or more that are no clinical words.
        let long = last.as_str().len() >= 5 && first.as_str().len() >= 5;
        let cued = IDENTITY_CUES.iter().any(|c| next_two_lines.trim_start_matches([' ', '(']).starts_with(c))
            && !clinical_word(first.as_str())
            && (is_given(first.as_str()) || (long && !clinical_word(last.as_str())));
        let heading = heading || cued;
        if known || heading {
            let m = c.get(0).expect("match");
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    for (re, signature) in [(&p.credentialed, false), (&p.signed, true)] {
        for c in re.captures_iter(text) {
            // The name: group 1, or for "cc: Dr. X" group 2.
            let Some(m) = c.get(1).or_else(|| c.get(2)) else { continue };
            let all: Vec<&str> = m.as_str().split_whitespace().collect();
            let initial = all.iter().any(|w| w.len() == 2 && w.ends_with('.'));
            let words: Vec<&str> = all.into_iter().filter(|w| !w.ends_with('.') || w.len() > 2).collect();
            // A name, not a clinical phrase before a capitalised word ("Chest Pain, MD notified",
            // "Aspirin Enteric Coated DO NOT crush"): no clinical word unless the census knows it
            // as a name, and the census knows one of its words — unless the words are shaped as
            // a name with a middle initial, or a signature line ("Dictated by:", "cc: Dr.") says so.
            let named = |w: &&str| is_given(w) || is_family(w);
            if words.iter().any(|w| not_a_name(w) || (clinical_word(w) && !named(w)))
                || !(signature || initial || words.iter().any(named))
            {
                continue;
            }
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    for c in p.role.captures_iter(text) {
        // The census knows a word of it, and none is a clinical word ("RN Assessment", "PA Chest").
        let m = c.get(1).expect("group");
        let words: Vec<&str> = m.as_str().split_whitespace().filter(|w| !w.ends_with('.')).collect();
        let known = |w: &&str| is_given(w) || is_family(w) || w.split('-').any(is_family);
        // A clinical word only where the census knows it as a name, and never an eponym's
        // ("Nurse Graves disease education", "RN Foley catheter placed"): no clinical word
        // right after the name.
        let next_word = text[m.end()..]
            .strip_prefix([' ', '\t'])
            .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
            .unwrap_or("");
        if words.iter().any(|w| not_a_name(w) || FUNCTION_WORDS.contains(&w.to_lowercase().as_str()))
            || words.iter().any(|w| clinical_word(w) && !known(w))
            || !words.iter().any(known)
            || (next_word.len() > 3
                && !FUNCTION_WORDS.contains(&next_word.to_lowercase().as_str())
                && clinical_word(next_word))
        {
            continue;
        }
        add(out, Subtype::Name, m.start(), m.end());
    }
    for c in p.initials.captures_iter(text) {
        let m = c.get(1).expect("group");
        let rest_of_line = text[m.end()..].split('\n').next().unwrap_or("");
        // The line before: a signature's credential or rule ("Samuel T. Oduya, M.D.", "____").
        let before = text[..m.start()].trim_end_matches([' ', '\t', '\n']);
        let previous = before.rsplit('\n').next().unwrap_or("");
        let signed = previous.trim().starts_with("___") || p.credentialed.is_match(previous);
        let dated = c.get(2).is_some();
        let (upper, lower) = m.as_str().split_once('/').unwrap_or_default();
        let answer = matches!(lower, "yes" | "no" | "pos" | "neg" | "nl" | "wnl" | "nml" | "abn");
        if (dated || (signed && rest_of_line.trim().is_empty())) && !answer && !clinical_word(upper) {
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    // Before long numbers: the whole insurance number, not its digits alone.
    for c in p.plan_number.captures_iter(text) {
        let m = c.get(1).expect("group");
        // A number, not a word in capitals: it holds a digit.
        if m.as_str().chars().any(|c| c.is_ascii_digit()) {
            add(out, Subtype::Id, m.start(), m.end());
        }
    }
    for c in p.long_number.captures_iter(text) {
        let m = c.get(1).expect("group");
        // A measure or a dose: a unit after it ("2400000 units", "1500000 copies/mL"), or a
        // clinical word just before it ("Platelets 1200000", "HCV RNA 2340000").
        let next = text[m.end()..].trim_start().split(|c: char| c.is_whitespace()).next().unwrap_or("");
        let unit = next.starts_with(['/', '%', 'x', '×'])
            || UNIT_WORDS.iter().any(|u| next.to_lowercase().trim_end_matches(['.', ',', ';']).starts_with(u));
        let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let before: Vec<&str> =
            text[line_start..m.start()].split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let measured =
            before.iter().rev().take(2).any(|w| clinical_word(w) || UNIT_WORDS.contains(&w.to_lowercase().as_str()));
        if !unit && !measured {
            add(out, Subtype::Id, m.start(), m.end());
        }
    }
    for c in p.relative.captures_iter(text) {
        // A relative's given name: the census knows its first word, and it is no clinical word.
        let m = c.get(1).expect("group");
        let first = m.as_str().split_whitespace().next().unwrap_or("");
        // After the relative's word, a census given name that is no clinical or function word
        // ("his wife Mai"; not "Mother Afib": a name there would hide the relative's condition).
        let function = FUNCTION_WORDS.contains(&first.to_lowercase().as_str());
        if is_given(first) && !function && !clinical_word(first) && !not_a_name(first) {
            let words: Vec<&str> = m.as_str().split_whitespace().collect();
            // The second word is the surname only where the census knows it as one.
            let end = if words.len() == 2 && is_family(words[1]) && !clinical_word(words[1]) {
                m.end()
            } else {
                m.start() + first.len()
            };
            add(out, Subtype::Name, m.start(), end);
        }
    }
    for c in p.day_month.captures_iter(text) {
        let m = c.get(1).expect("group");
        // "2 May" is a day of May only with its ordinal, "of" or a year: "May" is a verb too.
        let words: Vec<&str> = m.as_str().split_whitespace().collect();
        let may = words.last().is_some_and(|w| w.trim_end_matches('.') == "May");
        let marked = words.len() > 2 || words[0].ends_with(|c: char| c.is_ascii_alphabetic());
        if !may || marked {
            // A sentence's full stop is no part of it ("on the 3rd of May.").
            let end = if m.as_str().ends_with('.') { m.end() - 1 } else { m.end() };
            add(out, Subtype::Date, m.start(), end);
        }
    }
    for c in p.month_year_weak.captures_iter(text) {
        let m = c.get(1).expect("group");
        if weak_date(m.as_str(), &text[m.end()..]) {
            add(out, Subtype::Date, m.start(), m.end());
        }
    }
    for c in p.year.captures_iter(text) {
        let (m, whole) = (c.get(1).expect("group"), c.get(0).expect("match"));
        // Not a count or an amount ("in 2000 patients", "after 1200 mg").
        if whole.end() == m.end() {
            add(out, Subtype::Date, m.start(), m.end());
        }
    }
    for re in [&p.month_year, &p.month_name_year] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            let before = &text[text.floor_char_boundary(m.start().saturating_sub(40))..m.start()];
            if !fraction_or_grade(m.as_str(), before, &text[m.end()..]) {
                add(out, Subtype::Date, m.start(), m.end());
            }
        }
    }
    for c in p.introduced.captures_iter(text) {
        let m = c.get(1).expect("group");
        let words: Vec<&str> =
            m.as_str().split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
        // Words of a name: none a clinical, heading or function word ("Patient", "The", "Pt"),
        // and either the census knows one, or every word is five letters or more (no
        // abbreviation: "GERD, IBS was a 10 year history", "Afib, CHF was …" are conditions).
        let plain = words.iter().all(|w| {
            let lower = w.to_lowercase();
            w.len() >= 2
                && !clinical_word(w)
                && !not_a_name(w)
                && !FUNCTION_WORDS.contains(&lower.as_str())
                && !matches!(lower.as_str(), "patient" | "pt" | "client" | "resident" | "baby" | "infant" | "child")
        });
        let known = words.iter().any(|w| is_given(w) || is_family(w));
        if plain && (known || words.iter().all(|w| w.chars().count() >= 5)) {
            add(out, Subtype::Name, m.start(), m.end());
        }
    }
    for c in p.patient_named.captures_iter(text) {
        let m = c.get(1).expect("group");
        let plain = |w: &str| {
            let lower = w.to_lowercase();
            w.ends_with('.')
                || (!clinical_word(w)
                    && !not_a_name(w)
                    && !FUNCTION_WORDS.contains(&lower.as_str())
                    && !NOT_A_PATIENTS_NAME.contains(&lower.as_str()))
        };
        // The name's words up to the first that is none ("Patient Maria Lopez Denies …"), at
        // least two.
        let (mut words, mut at) = (Vec::new(), m.start());
        for w in m.as_str().split([' ', '\t']) {
            if !w.is_empty() {
                if !plain(w) {
                    break;
                }
                words.push((at, w));
            }
            at += w.len() + 1;
        }
        // The census knows one of its words as a name ("Nguyen", "Xiomara").
        let known = words.iter().any(|(_, w)| is_given(w) || is_family(w) || w.split('-').any(is_family));
        if let (true, true, Some(&(last, w))) = (words.len() >= 2, known, words.last()) {
            add(out, Subtype::Name, m.start(), last + w.len());
        }
    }
    for c in p.month_day.captures_iter(text) {
        let m = c.get(1).expect("group");
        // "May" is a verb too: a day of May only with its ordinal or after "on".
        let ordinal = m.as_str().ends_with(|c: char| c.is_ascii_alphabetic());
        let near = &text[text.floor_char_boundary(m.start().saturating_sub(8))..m.start()];
        let on = near.trim_end().to_lowercase().ends_with(" on");
        if !m.as_str().starts_with("May") || ordinal || on {
            add(out, Subtype::Date, m.start(), m.end());
        }
    }
    // Patterns whose first group is the PHI as it stands, with no further check.
    for (re, subtype) in [
        (&p.short_year, Subtype::Date),
        (&p.short_phone, Subtype::Phone),
        (&p.pager, Subtype::Phone),
        (&p.record_number, Subtype::Id),
    ] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            add(out, subtype, m.start(), m.end());
        }
    }
    // The second of two numbers only when the first is a phone already found (not the first of
    // two ranges: "500-1000 or 250-5000 units"), shaped as a phone (its exchange starts 2-9) and
    // followed by no unit; again from each one found ("555-0100, 555-0101, 555-0102").
    let mut from = 0;
    while let Some(c) = p.phone_or.captures_at(text, from) {
        let (first, second) = (c.get(1).expect("group"), c.get(2).expect("group"));
        from = first.end();
        let after_phone =
            out.iter().any(|e| e.subtype == Some(Subtype::Phone) && e.end == first.end() && e.start < first.end());
        let rest = text[second.end()..].trim_start_matches([' ', '\t']);
        let word: String = rest.chars().take_while(|c| c.is_alphabetic()).collect::<String>().to_lowercase();
        let counted = ["day", "days", "hour", "hours", "hr", "hrs", "week", "weeks", "min", "times", "cells"];
        let unit = rest.starts_with(['%', '/', '-'])
            || crate::units::dose(&word).is_some()
            || counted.contains(&word.as_str());
        if after_phone && !unit {
            add(out, Subtype::Phone, second.start(), second.end());
        }
    }
    for re in [&p.facility, &p.facility_caps] {
        for c in re.captures_iter(text) {
            let m = c.get(1).expect("group");
            // "Brief Hospital Course", "DISCHARGE CLINIC FOLLOW-UP" are headings.
            let next = text[m.end()..text.floor_char_boundary(m.end() + 16)].trim_start().to_lowercase();
            let first = m.as_str().split_whitespace().next().unwrap_or("");
            // Across a line's end ("Mashpee" / "Family Practice") only where no word is a
            // heading's ("Past Medical History" / "Internal Medicine").
            // One line's end at most, under words that are no heading's or clinical words
            // ("Problem List" / "Hypertension" / "Diabetes" / "Physicians notified").
            let heading = m.as_str().matches('\n').count() > 1
                || m.as_str()
                    .split_once('\n')
                    .is_some_and(|(above, _)| above.split_whitespace().any(|w| not_a_name(w) || clinical_word(w)));
            if next.starts_with("course") || not_a_name(first) || first.eq_ignore_ascii_case("brief") || heading {
                continue;
            }
            add(out, Subtype::Location, m.start(), m.end());
        }
    }
    for c in p.profession.captures_iter(text) {
        // Up to the first word that is no part of a job's name.
        let Some(m) = c.get(1).or_else(|| c.get(2)) else { continue };
        let stop = ["and", "in", "at", "for", "with", "who", "but", "since", "until", "on", "of", "the"];
        let mut at = 0;
        for w in m.as_str().split_whitespace() {
            if stop.contains(&w.to_lowercase().as_str()) {
                break;
            }
            at = m.as_str()[at..].find(w).map_or(at, |i| at + i) + w.len();
        }
        let end = m.start() + at;
        // "a retired smoker" is a habit, not a job.
        let habit = m.as_str()[..at].split_whitespace().any(|w| {
            matches!(w.to_lowercase().as_str(), "smoker" | "drinker" | "alcoholic" | "user" | "abuser" | "heavy")
        });
        if end > m.start() && !habit {
            add(out, Subtype::Profession, m.start(), end);
        }
    }
    for c in p.title_caps.captures_iter(text) {
        // A doctor's name in capitals: the words the census knows as names, from the first, up to
        // the first it does not ("DR. SMITH NOTIFIED INR 4.2" names SMITH; "DR. ORDERED CT" no one),
        // none a clinical or heading word.
        let m = c.get(1).expect("group");
        let known = |w: &str| {
            (is_given(w) || is_family(w) || w.split(['-', '\'']).any(|p| is_family(p) || is_given(p)))
                && !not_a_name(w)
                && !clinical_word(w)
        };
        let mut end = None;
        let mut at = 0;
        for w in m.as_str().split_whitespace() {
            let from = m.as_str()[at..].find(w).map_or(at, |i| at + i);
            at = from + w.len();
            if w.ends_with('.') && w.len() == 2 {
                continue;
            }
            if !known(w) {
                break;
            }
            end = Some(m.start() + at);
        }
        if let Some(end) = end {
            add(out, Subtype::Name, m.start(), end);
        }
    }
    for c in p.employer.captures_iter(text) {
        // Up to a word in small letters.
        let m = c.get(1).expect("group");
        let name = m.as_str().trim_end_matches(['.', ',']);
        if names_a_place(name) {
            add(out, Subtype::Location, m.start(), m.start() + name.len());
        }
    }
    for c in p.city.captures_iter(text) {
        let m = c.get(1).expect("group");
        if names_a_place(m.as_str()) {
            add(out, Subtype::Location, m.start(), m.end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Subtype, &str)> {
        let mut out = Vec::new();
        extract(text, &mut out);
        out.sort_by_key(|e| e.start);
        out.iter().map(|e| (e.subtype.expect("subtype"), &text[e.start..e.end])).collect()
    }

    #[test]
    fn initialed_and_capital_doctors_employers_and_plan_numbers() {
        assert!(found("Electronically signed: K. Patel, MD 03/02/2021").contains(&(Subtype::Name, "K. Patel")));
        assert!(found("Reviewed with J. R. Ortiz, NP.").contains(&(Subtype::Name, "J. R. Ortiz")));
        let f = found("Referred by DR. JAMES O'NEIL, cardiology.");
        assert!(f.contains(&(Subtype::Name, "JAMES O'NEIL")), "{f:?}");
        assert!(!found("DR. ORDERED CT CHEST").iter().any(|(k, _)| *k == Subtype::Name));
        let f = found("DR. NGUYEN NOTIFIED INR 4.2");
        assert_eq!(f, [(Subtype::Name, "NGUYEN")], "the name ends where the census stops knowing it");
        assert!(!found("Omeprazole works for GERD symptoms").iter().any(|(k, _)| *k == Subtype::Location));
        for text in ["Plan: CA-125, CEA", "Household member COVID-19 positive", "Plan: 1000ML NS"] {
            assert!(!found(text).iter().any(|(k, _)| *k == Subtype::Id), "{text}: {:?}", found(text));
        }
        assert!(found("Member ID: XJH8812345").contains(&(Subtype::Id, "XJH8812345")));
        assert!(found("Works at Boeing as a machinist.").contains(&(Subtype::Location, "Boeing")));
        let f = found("He is employed by Acme Roofing & Siding.");
        assert!(f.contains(&(Subtype::Location, "Acme Roofing & Siding")), "{f:?}");
        assert!(found("Medicare # 1EG4-TE5-MK73").contains(&(Subtype::Id, "1EG4-TE5-MK73")));
        assert!(found("Policy No. XJH8812345 active").contains(&(Subtype::Id, "XJH8812345")));
        assert!(!found("Member of the choir. Group therapy weekly.").iter().any(|(k, _)| *k == Subtype::Id));
        // No finding's words taken for a name or a place.
        assert!(found("E. coli, PA lab").is_empty(), "{:?}", found("E. coli, PA lab"));
        assert!(!found("works with Physical Therapy twice a week").iter().any(|(k, _)| *k == Subtype::Location));
        // A place of several words may hold words of clinical names; a setting is no place.
        let f = found("She lives in Fall River. She worked as a seamstress at Harbor Mills until 2085.");
        for want in [(Subtype::Location, "Fall River"), (Subtype::Location, "Harbor Mills"), (Subtype::Date, "2085")] {
            assert!(f.contains(&want), "{want:?} in {f:?}");
        }
        assert!(found("Lives in Assisted Living. Moved to Rehab.").iter().all(|(k, _)| *k != Subtype::Location));
        // Names a line's end splits from their word; the PCP named after "is".
        let f = found("brought in by his niece\nGenevieve. His PCP is Lorraine Whitcomb at Mashpee\nFamily Practice.");
        for want in [
            (Subtype::Name, "Genevieve"),
            (Subtype::Name, "Lorraine Whitcomb"),
            (Subtype::Location, "Mashpee\nFamily Practice"),
        ] {
            assert!(f.contains(&want), "{want:?} in {f:?}");
        }
        assert!(found("Past Medical History\nInternal Medicine follow-up")
            .iter()
            .all(|(k, _)| *k != Subtype::Location));
        // A year alone after a word of time; never a count or an amount.
        assert_eq!(found("In 2000 patients given 1998 mg since 1998."), [(Subtype::Date, "1998")]);
        assert!(found("I/O: in 2000 out 1500. Increased from 1900 to 2000 units/hr. In 2000,000 units.").is_empty());
        assert!(found("Medications:\nMetformin\nLisinopril\nPharmacy: Walgreens").is_empty());
        assert!(found("Problem List\nHypertension\nDiabetes\nPhysicians notified.").is_empty());
    }

    #[test]
    fn a_patient_introduced_or_named_and_dates_written_as_people_say_them() {
        let has = |text: &str, want: (Subtype, &str)| {
            let got = found(text);
            assert!(got.contains(&want), "{want:?} not in {got:?} of {text:?}");
        };
        has("ADEYEMI, OLUWASEUN is a 92-year-old man.", (Subtype::Name, "ADEYEMI, OLUWASEUN"));
        has("History. Oluwaseun Adeyemi is a 92 yo man.", (Subtype::Name, "Oluwaseun Adeyemi"));
        has("Pt: Nguyen T. seen in clinic.", (Subtype::Name, "Nguyen T."));
        has("Patient Xiomara Delacruz-Ortiz, DOB 2/14/1931.", (Subtype::Name, "Xiomara Delacruz-Ortiz"));
        has("Symptoms began 3/80 and worsened.", (Subtype::Date, "3/80"));
        has("Follow up on the 3rd of May.", (Subtype::Date, "3rd of May"));
        has("Seen 14 March 2019 in clinic.", (Subtype::Date, "14 March 2019"));
        has("Patient Maria Lopez Denies chest pain.", (Subtype::Name, "Maria Lopez"));
        has("Chest pain began on 3/10.", (Subtype::Date, "3/10"));
        has("Admitted 2/10 on heparin.", (Subtype::Date, "2/10"));
        has("Symptoms noted 11/95 first.", (Subtype::Date, "11/95"));
        // What is no name or date.
        for text in [
            "Patient is a 45-year-old man.",
            "The Patient Denies Chest Pain.",
            "Chest Pain is a 3 day history.",
            "Pain began after 3/10 exertion; rated 7/10 by 2/10 later.",
            "PATIENT SAID CHEST PAIN STARTED",
            "PT HEARD WHEEZING.",
            "GERD, IBS was a 10 year history.",
            "Afib, CHF was a 5 year problem.",
            "Pt: Pleasant Cooperative.",
            "Reduce dose by 1/2 if CrCl<30; decreased by 1/3.",
            "last 5/25 mg; after 4/12 weeks; review after 6/52; noted 2/6 systolic murmur; onset 10/10 headache",
            "He said 2 May be fine.",
            "Diabetes Mellitus is a 10 year history.",
        ] {
            let got = found(text);
            assert!(got.iter().all(|(k, _)| !matches!(k, Subtype::Name | Subtype::Date)), "{got:?} in {text:?}");
        }
    }

    #[test]
    fn names_dates_phones_places_no_label_announces() {
        let text = "SMITH, JOHN\nDOB 3/80. Seen at Riverside Medical Center in May 2020.\nPhone 555-1234.\n\
                    Lives at 12 Oak Street, Boston, MA 02115.\nJane Q. Doe, MD\nSigned electronically by: Robert Kim, M.D.";
        let got = found(text);
        for want in [
            (Subtype::Name, "SMITH, JOHN"),
            (Subtype::Date, "3/80"),
            (Subtype::Location, "Riverside Medical Center"),
            (Subtype::Date, "May 2020"),
            (Subtype::Phone, "555-1234"),
            (Subtype::Address, "12 Oak Street, Boston, MA 02115"),
            (Subtype::Name, "Jane Q. Doe"),
            (Subtype::Name, "Robert Kim"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
    }

    #[test]
    fn a_second_number_after_a_phone_is_a_phone_and_a_second_range_is_not() {
        let phones = |text: &str| -> Vec<String> {
            let (ents, _, _) = crate::phi::extract(text);
            ents.iter().filter(|e| e.subtype == Some(Subtype::Phone)).map(|e| e.text.clone()).collect()
        };
        assert_eq!(phones("Call x4567 or 555-1234 with questions."), ["x4567", "555-1234"]);
        assert_eq!(phones("Home (617) 555-0100, 555-0101"), ["(617) 555-0100", "555-0101"]);
        assert!(phones("Give 500-1000 or 250-5000 units").is_empty());
        assert!(phones("Platelets 150-4500 / 200-4500").is_empty());
        assert_eq!(phones("Call pharmacy x4567 or 100-1000 units/hr"), ["x4567"], "no exchange starts 1");
        assert_eq!(phones("Call pharmacy x4567 or 300-1000 units/hr"), ["x4567"], "a unit follows");
        assert_eq!(phones("Tel (617) 555-0100 / 250-4500"), ["(617) 555-0100"]);
        assert_eq!(phones("Home 555-867-5309, 555-0101, 555-0102"), ["555-867-5309", "555-0101", "555-0102"]);
        assert_eq!(phones("Call x4567 or at 555-0101."), ["x4567", "555-0101"]);
    }

    #[test]
    fn dictated_letters_names_in_capitals_relatives_pagers_numbers_and_places() {
        let text = "NAKAMURA-LEE, XIMENA (MRN 7720019)\nAdmitted to SAINT LUKE'S GENERAL HOSPITAL on March 3rd \
                    and again on 3/14. Her daughter (Thandiwe) and his wife Mai were there. He works as a \
                    truck driver and lives in Riverbend. Followed since '87. Pager #33713, or call x5-4321.\n\
                    DICTATED BY: DAGNY R. UVALLE, M.D.\nJOB #: 4412\nUnit No: 442-88-19\ncc: Otto Zemlicka, MD\n";
        let got = found(text);
        for want in [
            (Subtype::Name, "NAKAMURA-LEE, XIMENA"),
            (Subtype::Id, "7720019"),
            (Subtype::Location, "SAINT LUKE'S GENERAL HOSPITAL"),
            (Subtype::Date, "March 3rd"),
            (Subtype::Date, "3/14"),
            (Subtype::Name, "Mai"),
            (Subtype::Profession, "truck driver"),
            (Subtype::Location, "Riverbend"),
            (Subtype::Date, "'87"),
            (Subtype::Phone, "33713"),
            (Subtype::Phone, "x5-4321"),
            (Subtype::Name, "DAGNY R. UVALLE"),
            (Subtype::Id, "4412"),
            (Subtype::Id, "442-88-19"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
    }

    #[test]
    fn care_team_by_role_initials_visit_numbers_organizations_and_homes() {
        let text = "EDVISIT^48283746^HOLT, KIMBERLY^11/05/91\nSeen by Nurse Practitioner Judy Pham and physical \
                    therapist Omar Haddad. PCP at Briarwood Family Medicine. She is a retired schoolteacher who \
                    lives with her husband Tom in Quincy. Call pager #4-7781.\nSO/jk  DD: 11/06/91\n";
        let got = found(text);
        for want in [
            (Subtype::Id, "48283746"),
            (Subtype::Name, "Judy Pham"),
            (Subtype::Name, "Omar Haddad"),
            (Subtype::Location, "Briarwood Family Medicine"),
            (Subtype::Profession, "retired schoolteacher"),
            (Subtype::Location, "Quincy"),
            (Subtype::Phone, "4-7781"),
            (Subtype::Name, "SO/jk"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        for text in [
            "RN Assessment: stable. PA Chest X-ray clear. Resident Physician on call.",
            "Platelets 250000, WBC 7.5, NDC 0093-7180-01, weight 3.25 kg, 1,250,000 units.",
            "Lives alone in an apartment. N/V resolved.",
            "Past history:\nHTN:yes\nCAD:yes\nCP/no\nDM/yes",
            "HCV RNA 2340000 IU/mL. Benzathine penicillin 2400000 units IM. Platelets 1200000.",
            "Nurse Graves disease education provided. RN Foley catheter placed. He is a retired smoker.",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn clinical_words_and_scores_are_not_phi() {
        assert!(found("Her mother had breast cancer. His son Has asthma.").is_empty(), "no name after the relative");
        assert!(found("Mother Afib, father (Migraines).").is_empty(), "a relative's condition is no name");
        assert!(found("CC: SOB X 3 days\nCC: HTN Recheck").is_empty(), "the chief complaint");
        assert!(found("HTN, GERD\nDOB: 01/02/1950").iter().all(|(k, _)| *k != Subtype::Name), "a problem list");
        assert!(found("started 1/2 tab of metoprolol; on 1/2 tablet; strength from 3/5 to 4/5").is_empty());
        assert_eq!(
            found("admitted on 3/5 and seen from 3/1 to 3/8")[..2],
            [(Subtype::Date, "3/5"), (Subtype::Date, "3/1")]
        );
        assert_eq!(found("cc: Dr. Quincy Xue"), [(Subtype::Name, "Quincy Xue")]);
        assert!(found("Grade 2/6 murmur, strength 5/5, pain 3/10.").is_empty());
        assert!(found("You may 3 times a day.").is_empty());
        assert!(found("BRIEF HOSPITAL COURSE: stable").is_empty());
        assert!(found("ASSESSMENT, PLAN").is_empty());
        assert!(found("HYPERTENSION, DIABETES").is_empty());
        assert!(found("60 y/o man with GERD, Major depressive disorder").is_empty());
        assert!(found("GERD, MAJOR\n").is_empty());
        assert_eq!(found("\nSMITH, TOMASZ\nMRN 1"), [(Subtype::Name, "SMITH, TOMASZ")], "a line of its own");
        assert!(found("Pain 3/10 at rest. Took 1/2 tab.").is_empty());
        assert!(found("Chest pain, fever and cough.").is_empty());
        assert!(found("Chest Pain, MD notified.").is_empty());
        assert!(found("Aspirin Enteric Coated DO NOT crush").is_empty());
        assert!(found("Rates pain of 8/10 today.").is_empty());
        assert!(found("Brief Hospital Course: stable.").is_empty());
    }
}
