//! Demographics and other protected health information: names, dates, identifiers, ages,
//! addresses, phone numbers and e-mail addresses.
//!
//! Labelled fields ("Patient Name:", "DOB:", "MRN:") say whose value it is, so they fill the
//! Patient; unlabelled dates, phone numbers and titled names ("Dr. Patel") are still reported as
//! PHI entities so nothing identifying goes unnoticed. Everything here is patient data: it is
//! returned, never logged.

use std::sync::OnceLock;

use regex::Regex;

use super::checkboxes::{box_token, ticked, Token};
use super::text::parse_date;
use super::{Address, Attrs, Demographics, DocumentFacts, Entity, EntityType, Gender, IdKind, Subtype};

struct Patterns {
    label: Regex,
    date: Regex,
    phone: Regex,
    email: Regex,
    ssn: Regex,
    titled_name: Regex,
    age_sex: Regex,
    age: Regex,
}

const DATE: &str = r"(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+\d{4})";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("phi pattern");
        Patterns {
            label: re(r"(?i)\b(first\s+name|given\s+name|last\s+name|surname|family\s+name|middle\s+(?:name|initial)|patient\s+name|pt\.?\s+name|member\s+(?:id|number|no\.?|#)|subscriber\s+id|member\s+name|member|patient|name|re|dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|mrn|medical\s+record\s+(?:number|no\.?|#)|mr\s*#|mr\s+number|patient\s+id(?:\s*(?:number|no\.?|#))?|pt\.?\s*id|patient\s+(?:number|no\.?|#)|chart\s*#|sex|gender|address|home\s+address|phone|telephone|tel|home\s+phone|cell(?:\s+phone)?|mobile|e-?mail|age|ssn|social\s+security(?:\s+number)?|account\s*(?:number|#|no\.?)?|acct\.?\s*#?|date\s+of\s+service|dos|service\s+date|visit\s+date|date\s+of\s+visit|admission\s+date|date\s+of\s+admission|admitted|discharge\s+date|date\s+of\s+discharge|discharged|report\s+date|reported|collection\s+date|collected|date|referring\s+physician|attending(?:\s+physician)?|physician|provider|pcp|signed\s+by)\s*[:#]\s*"),
            date: re(&format!(r"(?i)\b{DATE}\b")),
            phone: re(r"(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"),
            email: re(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
            ssn: re(r"\b\d{3}-\d{2}-\d{4}\b"),
            // "Dr. Chen-Watanabe", "Mr. O'Neil", "Dr McDonald".
            titled_name: re(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+((?:[A-Z][a-z]*(?:['-]?[A-Z][a-z]+)+|[A-Z][a-z'-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z]*(?:['-]?[A-Z][a-z]+)+|[A-Z][a-z'-]+)){0,2})"),
            age_sex: re(r"(?i)\b(\d{1,3})[- ]?(?:year|yr)s?[- ]old\s+(male|female|man|woman|gentleman|lady|boy|girl)\b"),
            age: re(r"(?i)\b(\d{1,3})[- ]?(?:year|yr)s?[- ]old\b|\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)\b|\baged[ \t]+(\d{1,3})\b"),
        }
    })
}

fn label_kind(label: &str) -> &'static str {
    let l = label.to_lowercase();
    let l = l.trim_end_matches([':', '#', ' ']).trim();
    let l: String = l.split_whitespace().collect::<Vec<_>>().join(" ");
    match l.as_str() {
        "patient name" | "pt name" | "pt. name" | "patient" | "name" | "re" | "member name" | "member" => {
            "patient_name"
        }
        s if s.starts_with("member") || s.starts_with("subscriber id") => "member_id",
        "first name" | "given name" => "given_name",
        "last name" | "surname" | "family name" => "family_name",
        s if s.starts_with("middle") => "middle_name",
        "dob" | "d.o.b" | "d.o.b." | "date of birth" | "birth date" | "birthdate" => "birth_date",
        s if s.starts_with("mrn")
            || s.starts_with("medical record")
            || s.starts_with("mr")
            || s.starts_with("patient id")
            || s.starts_with("pt id")
            || s.starts_with("pt. id")
            || s.starts_with("patient number")
            || s.starts_with("patient no")
            || s == "patient #"
            || s.starts_with("chart") =>
        {
            "mrn"
        }
        "sex" | "gender" => "sex",
        "address" | "home address" => "address",
        "phone" | "telephone" | "tel" | "home phone" | "cell" | "cell phone" | "mobile" => "phone",
        "email" | "e-mail" => "email",
        "age" => "age",
        s if s.starts_with("ssn") || s.starts_with("social security") => "ssn",
        s if s.starts_with("account") || s.starts_with("acct") => "account",
        "date of service" | "dos" | "service date" | "visit date" | "date of visit" => "service_date",
        "admission date" | "date of admission" | "admitted" => "admission_date",
        "discharge date" | "date of discharge" | "discharged" => "discharge_date",
        "report date" | "reported" => "report_date",
        "collection date" | "collected" => "collection_date",
        "date" => "date",
        _ => "provider",
    }
}

fn heading_patterns() -> &'static (Regex, Regex) {
    static P: OnceLock<(Regex, Regex)> = OnceLock::new();
    P.get_or_init(|| {
        (
            Regex::new(r"(?i)\b(?:emergency\s+contact|next\s+of\s+kin|guarantor|responsible\s+party|insured'?s?|subscriber|policy\s*holder|employer|primary\s+care|physician|provider|pharmacy|guardian|spouse|parent)\b")
                .expect("other party heading"),
            Regex::new(r"(?i)\bpatient\b").expect("patient heading"),
        )
    })
}

/// The words of a heading line left once `re` and punctuation are taken out: a heading is a
/// short line that names a block and holds no value ("Emergency Contact 1:", "INSURED'S
/// INFORMATION"), unlike "Provider: Dr. Chen".
fn heading_rest(line: &str, re: &Regex) -> Option<usize> {
    let words = line.split_whitespace().count();
    if words == 0 || words > 5 || !re.is_match(line) {
        return None;
    }
    let rest = re.replace_all(line, " ");
    Some(rest.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 1).count())
}

/// Does this line open a block about someone other than the patient: an emergency contact, next
/// of kin, the insured, a guarantor, an employer, a physician or pharmacy? Their names, dates and
/// numbers are never the patient's.
pub fn is_other_party_heading(line: &str) -> bool {
    heading_rest(line, &heading_patterns().0).is_some_and(|rest| rest <= 1)
}

/// Does this line open the patient's own block ("Patient Information", "PATIENT")?
fn is_patient_heading(line: &str) -> bool {
    !is_other_party_heading(line) && heading_rest(line, &heading_patterns().1).is_some_and(|rest| rest <= 1)
}

/// Byte ranges of `text` in blocks about someone else: from an other party's heading to the next
/// patient heading (or the end).
fn other_party_blocks(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    for (at, line) in super::text::lines_at(text) {
        if open.is_none() && is_other_party_heading(line) {
            open = Some(at);
        } else if let (Some(s), true) = (open, is_patient_heading(line)) {
            out.push((s, at));
            open = None;
        }
    }
    out.extend(open.map(|s| (s, text.len())));
    out
}

/// A field's value that lists the sexes to choose from ("M F", "Male [ ] Female [X]"), rather
/// than naming one.
pub fn is_choice(value: &str) -> bool {
    let words: Vec<String> =
        value.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let has = |opts: &[&str]| words.iter().any(|w| opts.contains(&w.as_str()));
    let male = has(&["m", "male", "man"]);
    let female = has(&["f", "female", "woman", "fo", "fl", "fi"]);
    // A box beside an option makes it a choice, whatever OCR made of the other option.
    let boxed = value.contains('[') || value.chars().any(|c| "☐☒☑□".contains(c));
    male && female || boxed && (male || female)
}

/// The sex a choice's ticked box names ("M [ ] F [X]", "[X] Male [ ] Female"): the box beside
/// each option, on the side the first token shows; none when no box, or more than one, is ticked.
fn choice_gender(value: &str) -> Option<Gender> {
    static P: OnceLock<Regex> = OnceLock::new();
    let re = P.get_or_init(|| {
        Regex::new(r"(?i)\[\s*[x✓✔]\s*\]|[☒☑✓✔]|\[[\s_]*\]|[☐□]|\b(?:male|female|m|f)\b").expect("choice pattern")
    });
    let tokens: Vec<Token<Gender>> = re
        .find_iter(value)
        .map(|m| {
            let t = m.as_str();
            box_token(t).unwrap_or(if t.to_lowercase().starts_with('m') {
                Token::Word(Gender::Male)
            } else {
                Token::Word(Gender::Female)
            })
        })
        .collect();
    match ticked(&tokens)[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// Words that begin a field label, never part of a name.
const LABEL_WORDS: &[&str] = &[
    "first",
    "last",
    "middle",
    "name",
    "relationship",
    "provider",
    "provider's",
    "provider’s",
    "physician",
    "doctor",
    "dr",
    "pt",
    "patient",
    "patient's",
    "id",
    "dob",
    "date",
    "mrn",
    "sex",
    "gender",
    "age",
    "phone",
    "tel",
    "address",
    "account",
    "acct",
    "member",
    "group",
    "birth",
    "ssn",
    "attending",
    "referring",
    "room",
    "bed",
    "unit",
    "ward",
    "visit",
    "admitted",
    "discharged",
];

/// The start of `value` up to the first word that begins a label (or is not part of a name),
/// OCR's specks before it ("Last Name:- Mensah") left out: a slice of `value`.
fn name_prefix(value: &str) -> &str {
    let lead = value
        .split_whitespace()
        .take_while(|w| !w.chars().any(char::is_alphabetic))
        .last()
        .map_or(0, |w| w.as_ptr() as usize - value.as_ptr() as usize + w.len());
    let value = value[lead..].trim_start();
    let mut end = 0;
    for (i, w) in value.split_whitespace().enumerate() {
        let bare = w.trim_end_matches([',', '.', ':', ';']).to_lowercase();
        // OCR's specks between columns ("~", "©", "|") end a name as a label does.
        let speck = !w.chars().any(char::is_alphabetic);
        // A colon after the second word that ends the value is OCR's, not a label's ("RE: Grace
        // Tanaka: DOB: …"): the family name stays; anywhere else a word with a colon is a label.
        let last = value[value.find(w).map_or(0, |p| p + w.len())..].trim().is_empty();
        let stray_colon = i == 1 && last && !LABEL_WORDS.contains(&bare.as_str());
        if i >= 4 || (w.ends_with(':') && !stray_colon) || speck || LABEL_WORDS.contains(&bare.as_str()) {
            break;
        }
        let at = value[end..].find(w).map_or(end, |p| end + p);
        end = at + w.len();
    }
    value[..end].trim_end()
}

/// Identity captions of a form row ("Last Name  First Name  MI", "Date of Birth  Patient number"),
/// in the order they stand; the values sit on the line above or below, one per caption.
fn caption_fields(line: &str) -> Option<Vec<&'static str>> {
    static P: OnceLock<Regex> = OnceLock::new();
    let re = P.get_or_init(|| {
        Regex::new(concat!(
            r"(?i)\b(?:(?P<family>last\s+name|surname|family\s+name)|(?P<given>first\s+name|given\s+name)",
            r"|(?P<mi>mi|m\.i\.|middle\s+initial|middle\s+name)|(?P<dob>date\s+of\s+birth|birth\s*date|dob)",
            r"|(?P<sex>sex|gender)|(?P<mrn>mrn|medical\s+record\s+(?:number|no\.?)|patient\s+(?:number|no\.?|id)))\b",
            r"(?:\s*\([^)]*\))?",
        ))
        .expect("caption pattern")
    });
    let mut fields = Vec::new();
    let mut caption_letters = 0;
    for c in re.captures_iter(line) {
        let name = ["family", "given", "mi", "dob", "sex", "mrn"].into_iter().find(|n| c.name(n).is_some())?;
        fields.push(name);
        caption_letters += c.get(0).map_or(0, |m| m.as_str().chars().filter(|c| c.is_alphanumeric()).count());
    }
    // A caption row is captions and little else.
    let letters = line.chars().filter(|c| c.is_alphanumeric()).count();
    (fields.len() >= 2 && caption_letters * 10 >= letters * 7).then_some(fields)
}

/// Fills what the labelled fields left empty from caption rows whose values stand one per caption
/// on the line above or below (cards and forms written by hand or typed into boxes).
fn caption_rows(text: &str, demo: &mut Demographics, out: &mut Vec<Entity>) {
    let lines: Vec<(usize, &str)> = super::text::lines_at(text).collect();
    for (i, &(_, line)) in lines.iter().enumerate() {
        let Some(fields) = caption_fields(line) else { continue };
        let fits = |j: usize| -> Option<Vec<(usize, &str)>> {
            let (start, l) = *lines.get(j)?;
            let words: Vec<(usize, &str)> =
                l.split_whitespace().map(|w| (start + w.as_ptr() as usize - l.as_ptr() as usize, w)).collect();
            if words.len() != fields.len() || caption_fields(l).is_some() {
                return None;
            }
            let ok = fields.iter().zip(&words).all(|(f, (_, w))| match *f {
                "family" | "given" => parse_name(&format!("{w} X")).is_some() && w.len() >= 2,
                "mi" => w.trim_end_matches('.').len() == 1 && w.chars().all(|c| c.is_alphabetic() || c == '.'),
                "dob" => parse_date(w).is_some(),
                "sex" => matches!(w.to_lowercase().as_str(), "m" | "f" | "male" | "female"),
                _ => {
                    w.len() >= 4
                        && w.chars().any(|c| c.is_ascii_digit())
                        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }
            });
            ok.then_some(words)
        };
        let above = i.checked_sub(1).and_then(fits);
        let below = fits(i + 1);
        let words = match (above, below) {
            (Some(w), None) | (None, Some(w)) => w,
            _ => continue, // none, or both: which row is the value is not known
        };
        for (f, &(at, w)) in fields.iter().zip(&words) {
            let end = at + w.len();
            match *f {
                "family" if demo.family.is_none() => {
                    demo.family = Some(w.to_string());
                    out.push(entity(Subtype::Name, at, end, text, Some("patient_name")));
                }
                "given" if demo.given.is_empty() => {
                    demo.given = vec![w.to_string()];
                    out.push(entity(Subtype::Name, at, end, text, Some("patient_name")));
                }
                "mi" if demo.given.len() == 1 => demo.given.push(w.trim_end_matches('.').to_string()),
                "dob" if demo.birth_date.is_none() => {
                    demo.birth_date = parse_date(w);
                    let mut e = entity(Subtype::Date, at, end, text, Some("birth_date"));
                    e.attrs.normalized = demo.birth_date.clone();
                    out.push(e);
                }
                "sex" if demo.gender.is_none() => {
                    demo.gender = Some(if w.to_lowercase().starts_with('m') { Gender::Male } else { Gender::Female });
                }
                "mrn" if demo.mrn.is_none() => {
                    demo.mrn = Some(w.to_string());
                    out.push(entity(Subtype::Id, at, end, text, Some("mrn")));
                }
                _ => {}
            }
        }
    }
}

/// The demographics one form field gives (an engine's key/value pair): a caption of its own
/// ("Last Name", "First Name", "MI", "Date of Birth", "Sex", "Patient number") takes the value as
/// that part, checked for its kind; any other key is read as a labelled field ("Patient Name").
pub fn field_demographics(key: &str, value: &str) -> Demographics {
    let mut demo = Demographics::default();
    let key = key.trim().trim_end_matches([':', '#']).trim();
    let value = value.trim();
    let word_ok = |w: &str| parse_name(&format!("{w} X")).is_some();
    match caption_of(key).as_deref() {
        Some(["family"]) if word_ok(value) => demo.family = Some(name_case(value)),
        Some(["given"]) => {
            let given: Vec<String> = value.split_whitespace().map(|g| name_case(g.trim_end_matches('.'))).collect();
            if !given.is_empty() && given.len() <= 2 && given.iter().all(|g| word_ok(g)) {
                demo.given = given;
            }
        }
        Some(["mi"]) => {}
        Some(["dob"]) => demo.birth_date = parse_date(value),
        Some(["sex"]) if is_choice(value) => demo.gender = choice_gender(value),
        Some(["sex"]) => {
            demo.gender = match value.to_lowercase().as_str() {
                "m" | "male" => Some(Gender::Male),
                "f" | "female" => Some(Gender::Female),
                _ => None,
            }
        }
        Some(["mrn"]) => demo.mrn = record_number(value),
        Some(_) => {}
        None => demo = extract(&format!("{key}: {value}")).1,
    }
    demo
}

/// The contact details one form field gives: the address in its parts ("Address", "City",
/// "State", "Zip Code"), a phone number, an e-mail address — each checked for its kind. Only for
/// fields a form puts in the patient's own block (the caller decides which).
pub fn field_contact(key: &str, value: &str) -> Demographics {
    let mut demo = Demographics::default();
    let key = key.trim().trim_end_matches([':', '#']).trim().to_lowercase();
    let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
    let value = value.trim().trim_end_matches([',', ';']);
    let p = patterns();
    let part = |f: &dyn Fn(&mut Address)| {
        let mut a = Address::default();
        f(&mut a);
        a
    };
    match key.as_str() {
        "address" | "street" | "street address" | "home address" | "mailing address" | "address line 1" => {
            if let Some(a) = parse_address(value) {
                demo.address = Some(a);
            } else if value.chars().next().is_some_and(|c| c.is_ascii_digit()) && value.len() >= 5 {
                let line = value.to_string();
                demo.address = Some(part(&|a| a.line = vec![line.clone()]));
            }
        }
        "city" | "town" if value.chars().all(|c| c.is_alphabetic() || " .'-".contains(c)) && value.len() >= 2 => {
            demo.address = Some(part(&|a| a.city = Some(value.to_string())));
        }
        "state" | "province"
            if value.chars().all(|c| c.is_alphabetic() || c == ' ') && (2..=20).contains(&value.len()) =>
        {
            demo.address = Some(part(&|a| a.state = Some(value.to_string())));
        }
        "country"
            if value.chars().all(|c| c.is_alphabetic() || " .".contains(c)) && (2..=40).contains(&value.len()) =>
        {
            let country = country_code(value).map_or_else(|| value.to_string(), str::to_string);
            demo.address = Some(part(&|a| a.country = Some(country.clone())));
        }
        "zip" | "zip code" | "zipcode" | "postal code" | "postcode" | "post code" | "pin" | "pin code" | "pincode"
            if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
                && (3..=10).contains(&value.len()) =>
        {
            demo.address = Some(part(&|a| a.postal_code = Some(value.to_string())));
        }
        "phone" | "telephone" | "tel" | "home phone" | "cell" | "cell phone" | "mobile" | "phone number" => {
            demo.phone = p.phone.find(value).map(|m| m.as_str().to_string());
        }
        "email" | "e-mail" | "email address" | "e-mail address" => {
            demo.email = p.email.find(value).map(|m| m.as_str().to_string());
        }
        _ => {}
    }
    demo
}

/// The identity field a table's header cell (or a row's first cell) names: "name" for the whole
/// name ("Name", "Patient Name", "Member Name"), else a caption of its own ("Last Name", "Birth
/// Date", "Sex", "MRN" …) as [`caption_fields`] names them. `None` for any other heading.
pub fn identity_caption(cell: &str) -> Option<&'static str> {
    let c = cell.trim().trim_end_matches([':', '#']).trim();
    if let Some(f) = caption_of(c) {
        return f.first().copied();
    }
    let l: String = c.to_lowercase().replace('\u{2019}', "'").split_whitespace().collect::<Vec<_>>().join(" ");
    matches!(
        l.as_str(),
        "name" | "patient name" | "patient's name" | "patient" | "pt name" | "pt. name" | "member name" | "full name"
    )
    .then_some("name")
}

/// The captions a key names (a row of them, or one alone), its dots read as OCR's strays ("Date.
/// of Birth") or as initials' ("D.O.B.").
fn caption_of(key: &str) -> Option<Vec<&'static str>> {
    let spaced: String = key.chars().map(|ch| if ch == '.' { ' ' } else { ch }).collect();
    let joined = key.replace('.', "");
    let found = [key, spaced.as_str(), joined.as_str()]
        .into_iter()
        .find_map(|k| caption_fields(k).or_else(|| single_caption(k)));
    found
}

/// One caption standing alone as a key (`caption_fields` wants a row of two or more).
fn single_caption(key: &str) -> Option<Vec<&'static str>> {
    let doubled = format!("{key} {key}");
    caption_fields(&doubled).filter(|f| f.len() == 2 && f[0] == f[1]).map(|f| vec![f[0]])
}

/// A name written in capitals ("JOHN DOE" on a card) as names are written: "John Doe". Initials
/// and names already in mixed case stay as they are.
fn name_case(word: &str) -> String {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    // OCR reads a capital I as a small l inside words in capitals ("MEl" for MEI): in a word of
    // capitals whose only small letters are l, they are I.
    let capitals = word.chars().filter(|c| c.is_uppercase()).count();
    let only_l = word.chars().filter(|c| c.is_lowercase()).all(|c| c == 'l');
    let fixed: String;
    let word = if capitals >= 2 && only_l && word.contains('l') && !word.starts_with('l') {
        fixed = word.replace('l', "I");
        fixed.as_str()
    } else {
        word
    };
    if letters < 2 || word.chars().any(|c| c.is_lowercase()) {
        return word.to_string();
    }
    let mut out = String::new();
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c == '-' || c == '\'';
    }
    out
}

/// Splits a person's name as written into family and given names.
fn parse_name(value: &str) -> Option<(String, Vec<String>)> {
    let (family, given) = parse_name_as_written(value)?;
    Some((name_case(&family), given.iter().map(|g| name_case(g)).collect()))
}

fn parse_name_as_written(value: &str) -> Option<(String, Vec<String>)> {
    // OCR's quote marks after a name ("Hiroshi’") are no part of it.
    let v = value.trim().trim_end_matches([',', ';', '.', '\'', '\u{2019}', '"', '`', ':']);
    let titles = ["mr", "mrs", "ms", "miss", "dr", "mr.", "mrs.", "ms.", "dr."];
    let ok_word = |w: &str| {
        let w = w.trim_end_matches('.');
        !w.is_empty()
            && w.chars().next().is_some_and(|c| c.is_uppercase())
            && w.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-')
    };
    if let Some((family, given)) = v.split_once(',') {
        let family = family.trim();
        let given: Vec<String> = given.split_whitespace().map(|g| g.trim_end_matches('.').to_string()).collect();
        if ok_word(family) && !given.is_empty() && given.len() <= 3 && given.iter().all(|g| ok_word(g)) {
            return Some((family.to_string(), given));
        }
        return None;
    }
    let words: Vec<&str> = v.split_whitespace().filter(|w| !titles.contains(&w.to_lowercase().as_str())).collect();
    if words.len() < 2 || words.len() > 4 || !words.iter().all(|w| ok_word(w)) {
        return None;
    }
    let family = words[words.len() - 1].to_string();
    let given = words[..words.len() - 1].iter().map(|s| s.trim_end_matches('.').to_string()).collect();
    Some((family, given))
}

/// Countries an address may end with, as ISO 3166-1 alpha-2.
const COUNTRIES: &[(&str, &str)] = &[
    ("united states of america", "US"),
    ("united states", "US"),
    ("usa", "US"),
    ("u.s.a", "US"),
    ("us", "US"),
    ("india", "IN"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("canada", "CA"),
    ("australia", "AU"),
    ("ireland", "IE"),
    ("new zealand", "NZ"),
    ("nigeria", "NG"),
    ("ghana", "GH"),
    ("kenya", "KE"),
    ("south africa", "ZA"),
    ("philippines", "PH"),
    ("pakistan", "PK"),
    ("bangladesh", "BD"),
    ("sri lanka", "LK"),
    ("nepal", "NP"),
];

/// India's states and union territories: the word before a PIN code is one of them, or a city.
const INDIAN_STATES: &[&str] = &[
    "andhra pradesh",
    "arunachal pradesh",
    "assam",
    "bihar",
    "chhattisgarh",
    "goa",
    "gujarat",
    "haryana",
    "himachal pradesh",
    "jharkhand",
    "karnataka",
    "kerala",
    "madhya pradesh",
    "maharashtra",
    "manipur",
    "meghalaya",
    "mizoram",
    "nagaland",
    "odisha",
    "punjab",
    "rajasthan",
    "sikkim",
    "tamil nadu",
    "telangana",
    "tripura",
    "uttar pradesh",
    "uttarakhand",
    "west bengal",
    "delhi",
    "jammu and kashmir",
    "ladakh",
    "puducherry",
    "chandigarh",
];

/// The country a part names, if it names one.
pub fn country_code(part: &str) -> Option<&'static str> {
    let p = part.trim().trim_end_matches('.').to_lowercase();
    COUNTRIES.iter().find(|(name, _)| *name == p).map(|(_, code)| *code)
}

/// A place and its postal code in one part of an address ("Springfield IL 62704", "Karnataka
/// 560001", "London NW1 6XE", "Toronto ON M5V 2T6", "Sydney NSW 2000"), by the postal formats of
/// the country when the address names one, else of any: (country, city, state, code).
fn postal_part(part: &str, country: Option<&str>) -> Option<(&'static str, Option<String>, Option<String>, String)> {
    static P: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    let formats = P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("postal pattern");
        vec![
            ("US", re(r"^(?:(?P<place>.*?)\s+)?(?P<state>[A-Z]{2})\.?\s+(?P<code>\d{5}(?:-\d{4})?)$")),
            ("CA", re(r"^(?:(?P<place>.*?)\s+)?(?P<state>[A-Z]{2})\s+(?P<code>[A-Z]\d[A-Z]\s?\d[A-Z]\d)$")),
            ("AU", re(r"^(?:(?P<place>.*?)\s+)?(?P<state>NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+(?P<code>\d{4})$")),
            ("GB", re(r"^(?:(?P<place>.*?)\s+)?(?P<code>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})$")),
            ("IN", re(r"^(?:(?P<place>.*?)[\s-]+)?(?P<code>\d{3}\s?\d{3})$")),
        ]
    });
    for (code, re) in formats {
        if country.is_some_and(|c| c != *code) {
            continue;
        }
        let Some(c) = re.captures(part.trim()) else { continue };
        let place = c
            .name("place")
            .map(|m| m.as_str().trim().trim_end_matches([',', '-']).trim().to_string())
            .filter(|p| !p.is_empty() && !p.chars().any(|c| c.is_ascii_digit()));
        let mut state = c.name("state").map(|m| m.as_str().to_string());
        let mut city = place;
        // Before a PIN code stands a state or a city.
        if *code == "IN" && city.as_deref().is_some_and(|p| INDIAN_STATES.contains(&p.to_lowercase().as_str())) {
            state = city.take();
        }
        return Some((code, city, state, c["code"].to_string()));
    }
    None
}

/// An address as written on one line: street lines, city, state or province, postal code and
/// country, read by the country's conventions (a PIN code or a postcode is a postal code, never a
/// city; a city has no digits).
fn parse_address(value: &str) -> Option<Address> {
    let text = value.trim().trim_end_matches(['.', ';']).to_string();
    let parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || !parts[0].chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut addr = Address { text: text.clone(), ..Default::default() };
    let mut rest: &[&str] = &parts;
    if let Some(code) = rest.last().and_then(|p| country_code(p)).filter(|_| rest.len() >= 2) {
        addr.country = Some(code.to_string());
        rest = &rest[..rest.len() - 1];
    }
    if let Some((country, city, state, code)) = rest.last().and_then(|p| postal_part(p, addr.country.as_deref())) {
        addr.postal_code = Some(code);
        if addr.country.is_none() && country != "US" {
            addr.country = Some(country.to_string());
        }
        (addr.city, addr.state) = (city, state);
        rest = &rest[..rest.len() - 1];
        // "…, Bengaluru, Karnataka 560001", "…, Springfield, IL 62704": the part before is the city.
        if addr.city.is_none() && rest.len() >= 2 {
            if let Some(city) = rest.last().filter(|p| !p.chars().any(|c| c.is_ascii_digit())) {
                addr.city = Some(city.to_string());
                rest = &rest[..rest.len() - 1];
            }
        }
    } else if rest.len() >= 2 {
        let last = rest[rest.len() - 1];
        if !last.chars().any(|c| c.is_ascii_digit()) {
            addr.city = Some(last.to_string());
            rest = &rest[..rest.len() - 1];
        }
    }
    addr.line = rest.iter().map(|s| s.to_string()).collect();
    Some(addr)
}

pub(crate) fn entity(subtype: Subtype, start: usize, end: usize, text: &str, field: Option<&str>) -> Entity {
    Entity {
        kind: EntityType::Phi,
        subtype: Some(subtype),
        start,
        end,
        text: text[start..end].to_string(),
        codes: Vec::new(),
        assertion: Default::default(),
        attrs: Attrs { field: field.map(str::to_string), ..Default::default() },
        confidence: None,
        section: None,
    }
}

/// Finds PHI in `text`; fills the demographics and the document's date.
/// A record number as a field gives it: the first word that reads as one (letters, digits and
/// dashes, three or more, with a digit), OCR's stray punctuation around it dropped (".
/// 28939448" gives 28939448, never ".").
fn record_number(value: &str) -> Option<String> {
    let id = value
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|w| !w.is_empty())?;
    (id.len() >= 3
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && id.chars().any(|c| c.is_ascii_digit()))
    .then(|| id.to_string())
}

/// Whether the account label at `at` follows "Patient's" or "Patient" on its line (the label
/// pattern matches from "Account").
fn is_patient_account(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..at].to_lowercase().replace('\u{2019}', "'");
    let before = before.trim_end_matches(|c: char| !c.is_alphanumeric());
    let last = before.rsplit(|c: char| !(c.is_alphanumeric() || c == '\'')).next().unwrap_or("");
    matches!(last, "patient" | "patient's" | "patients" | "pt")
}

/// The PHI [`extract`] finds in `text[start..end]` read alone (a fax line, a legal notice), in
/// `text`'s offsets.
pub fn extract_at(text: &str, (start, end): (usize, usize)) -> Vec<Entity> {
    let (found, _, _) = extract(&text[start..end]);
    found
        .into_iter()
        .map(|mut e| {
            e.start += start;
            e.end += start;
            e
        })
        .collect()
}

pub fn extract(text: &str) -> (Vec<Entity>, Demographics, DocumentFacts) {
    let p = patterns();
    let mut out: Vec<Entity> = Vec::new();
    let mut demo = Demographics::default();
    let mut dates: Vec<(&'static str, String)> = Vec::new();

    // Labelled fields: the value runs to the next label on the line or the line's end.
    let labels: Vec<regex::Match> = p.label.find_iter(text).collect();
    // Contact details count as the patient's only after the patient's identity appears (a name,
    // birth date or record number) and within a few lines of it: a letterhead's "Tel:" belongs
    // to the clinic.
    let identity_at = labels
        .iter()
        .find(|m| matches!(label_kind(m.as_str()), "patient_name" | "birth_date" | "mrn"))
        .map(|m| m.start());
    let near_identity = |at: usize| identity_at.is_some_and(|i| at >= i && text[i..at].matches('\n').count() <= 12);
    let others = other_party_blocks(text);
    // Values under another party's heading are PHI, and never the patient's.
    let mut demo_parked = Demographics::default();
    for (i, m) in labels.iter().enumerate() {
        let theirs = others.iter().any(|&(s, e)| s <= m.start() && m.start() < e);
        let demo = if theirs { &mut demo_parked } else { &mut demo };
        let line_end = text[m.end()..].find('\n').map_or(text.len(), |e| m.end() + e);
        let next = labels.get(i + 1).map_or(line_end, |n| n.start().min(line_end));
        let raw = &text[m.end()..next.max(m.end())];
        // Values end at a run of spaces (form columns) too.
        let value_len = raw.find("   ").unwrap_or(raw.len());
        let value = raw[..value_len].trim_end();
        if value.is_empty() {
            continue;
        }
        let (vs, ve) = (m.end(), m.end() + value.len());
        let kind = label_kind(m.as_str());
        match kind {
            "patient_name" => {
                // OCR runs form columns together ("John Doe Provider's Pt ID: …"): the name
                // ends where the next field's label begins.
                let name = name_prefix(value);
                let vs = vs + (name.as_ptr() as usize - value.as_ptr() as usize);
                let (value, ve) = (name, vs + name.len());
                if let Some((family, given)) = parse_name(value) {
                    if demo.family.is_none() {
                        demo.family = Some(family);
                        demo.given = given;
                    }
                    out.push(entity(Subtype::Name, vs, ve, text, Some("patient_name")));
                }
            }
            "provider" => {
                if parse_name(value).is_some() {
                    out.push(entity(Subtype::Name, vs, ve, text, Some("provider")));
                }
            }
            "birth_date" => {
                if let Some(d) = parse_date(value) {
                    demo.birth_date.get_or_insert(d.clone());
                    let mut e = entity(Subtype::Date, vs, ve, text, Some("birth_date"));
                    e.attrs.normalized = Some(d);
                    out.push(e);
                }
            }
            "mrn" => {
                if let Some(id) = record_number(value) {
                    let vs = vs + value.find(&id).unwrap_or(0);
                    if demo.mrn.is_none() {
                        demo.mrn = Some(id.clone());
                    } else {
                        demo.add_id(IdKind::MedicalRecord, &id);
                    }
                    out.push(entity(Subtype::Id, vs, vs + id.len(), text, Some("mrn")));
                }
            }
            "given_name" | "family_name" | "middle_name" => {
                // One part of the name in a field of its own ("First Name: Wei Last Name: …"):
                // one or two words that are a name, never a caption.
                let name = name_prefix(value);
                let vs = vs + (name.as_ptr() as usize - value.as_ptr() as usize);
                let value = name;
                let words: Vec<&str> = value.split_whitespace().collect();
                let ok = !words.is_empty() && words.len() <= 2 && parse_name(&format!("{value} X")).is_some();
                if ok {
                    let ve = vs + value.len();
                    match kind {
                        "family_name" if demo.family.is_none() => demo.family = Some(name_case(value)),
                        "given_name" if demo.given.is_empty() => {
                            demo.given = words.iter().map(|w| name_case(w)).collect()
                        }
                        _ => {}
                    }
                    out.push(entity(Subtype::Name, vs, ve, text, Some("patient_name")));
                }
            }
            "sex" => {
                // "Sex: M [ ] F [X]" is a choice, not a value: its box says, not its first letter.
                if is_choice(value) {
                    if let Some(g) = choice_gender(value) {
                        demo.gender.get_or_insert(g);
                    }
                    continue;
                }
                let g = match value.trim().to_lowercase().as_str() {
                    "m" | "male" | "man" => Some(Gender::Male),
                    "f" | "female" | "woman" => Some(Gender::Female),
                    "other" | "x" | "non-binary" | "nonbinary" => Some(Gender::Other),
                    "u" | "unknown" => Some(Gender::Unknown),
                    _ => None,
                };
                if let Some(g) = g {
                    demo.gender.get_or_insert(g);
                }
            }
            "address" => {
                if let Some(a) = parse_address(value) {
                    if near_identity(m.start()) {
                        demo.address.get_or_insert(a);
                    }
                    out.push(entity(Subtype::Address, vs, ve, text, Some("address")));
                }
            }
            "phone" => {
                if let Some(ph) = p.phone.find(value) {
                    if near_identity(m.start()) {
                        demo.phone.get_or_insert(ph.as_str().to_string());
                    }
                    out.push(entity(Subtype::Phone, vs + ph.start(), vs + ph.end(), text, Some("phone")));
                }
            }
            "email" => {
                if let Some(em) = p.email.find(value) {
                    if near_identity(m.start()) {
                        demo.email.get_or_insert(em.as_str().to_string());
                    }
                    out.push(entity(Subtype::Email, vs + em.start(), vs + em.end(), text, Some("email")));
                }
            }
            "age" => {
                if value.split_whitespace().next().is_some_and(|w| w.parse::<u32>().is_ok_and(|a| a < 130)) {
                    let w = value.split_whitespace().next().unwrap_or("");
                    out.push(entity(Subtype::Age, vs, vs + w.len(), text, Some("age")));
                }
            }
            "member_id" => {
                let id = value.split_whitespace().next().unwrap_or("").trim_end_matches([',', ';', '.']);
                if id.len() >= 3 && id.chars().any(|c| c.is_ascii_digit()) {
                    demo.member_id.get_or_insert(id.to_string());
                    out.push(entity(Subtype::Id, vs, vs + id.len(), text, Some("member_id")));
                }
            }
            "ssn" | "account" => {
                let id = value.split_whitespace().next().unwrap_or("").trim_end_matches([',', ';', '.']);
                if id.chars().any(|c| c.is_ascii_digit()) {
                    // Only an account the label says is the patient's ("Patient's Account No."):
                    // a statement's or a guarantor's account is someone else's.
                    if kind == "account" && is_patient_account(text, m.start()) && id.len() >= 3 {
                        demo.add_id(IdKind::Account, id);
                    }
                    out.push(entity(Subtype::Id, vs, vs + id.len(), text, Some(kind)));
                }
            }
            date_kind => {
                if let Some(dm) = p.date.find(value) {
                    if let Some(d) = parse_date(dm.as_str()) {
                        dates.push((date_kind, d.clone()));
                        let mut e = entity(Subtype::Date, vs + dm.start(), vs + dm.end(), text, Some(date_kind));
                        e.attrs.normalized = Some(d);
                        out.push(e);
                    }
                }
            }
        }
    }

    caption_rows(text, &mut demo, &mut out);
    let covered = |out: &[Entity], s: usize, e: usize| out.iter().any(|x| x.start < e && s < x.end);
    for m in p.date.find_iter(text) {
        if !covered(&out, m.start(), m.end()) {
            if let Some(d) = parse_date(m.as_str()) {
                let mut e = entity(Subtype::Date, m.start(), m.end(), text, None);
                e.attrs.normalized = Some(d);
                out.push(e);
            }
        }
    }
    for m in p.ssn.find_iter(text) {
        if !covered(&out, m.start(), m.end()) {
            out.push(entity(Subtype::Id, m.start(), m.end(), text, Some("ssn")));
        }
    }
    for m in p.phone.find_iter(text) {
        if !covered(&out, m.start(), m.end()) {
            out.push(entity(Subtype::Phone, m.start(), m.end(), text, None));
        }
    }
    for m in p.email.find_iter(text) {
        if !covered(&out, m.start(), m.end()) {
            out.push(entity(Subtype::Email, m.start(), m.end(), text, None));
        }
    }
    for c in p.titled_name.captures_iter(text) {
        let m = c.get(1).expect("group");
        if !covered(&out, m.start(), m.end()) {
            out.push(entity(Subtype::Name, m.start(), m.end(), text, None));
        }
    }
    for c in p.age_sex.captures_iter(text) {
        if demo.gender.is_none() {
            demo.gender = match c[2].to_lowercase().as_str() {
                "male" | "man" | "gentleman" | "boy" => Some(Gender::Male),
                _ => Some(Gender::Female),
            };
        }
    }
    for c in p.age.captures_iter(text) {
        let m = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)).expect("group");
        if !covered(&out, m.start(), m.end()) {
            out.push(entity(Subtype::Age, m.start(), m.end(), text, None));
        }
    }
    super::phi_more::extract(text, &mut out);
    out.sort_by_key(|e| (e.start, e.end));

    let pick = |kinds: &[&str]| kinds.iter().find_map(|k| dates.iter().find(|(dk, _)| dk == k).map(|(_, d)| d.clone()));
    let facts = DocumentFacts {
        doc_type: None,
        date: pick(&["service_date", "discharge_date", "report_date", "collection_date", "date", "admission_date"]),
        ..DocumentFacts::default()
    };
    (out, demo, facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_fields_fill_the_patient() {
        let text = "Patient Name: Doe, Jane A.    DOB: 03/07/1952    MRN: MRN-004417\nSex: F\nAddress: 12 Elm Street, Springfield, IL 62704\nPhone: (217) 555-0142\nDate of Service: 2024-03-01\nAttending: Dr. Priya Patel";
        let (ents, d, facts) = extract(text);
        assert_eq!(d.family.as_deref(), Some("Doe"));
        assert_eq!(d.given, ["Jane", "A"]);
        let (_, letter, _) =
            extract("Lakeside Clinic\nTel: (541) 555-0110\nRE: Jane Doe   DOB: 01/02/1950\nPhone: 555-123-4567");
        assert_eq!((letter.family.as_deref(), letter.phone.as_deref()), (Some("Doe"), Some("555-123-4567")));
        assert_eq!(d.birth_date.as_deref(), Some("1952-03-07"));
        assert_eq!(d.mrn.as_deref(), Some("MRN-004417"));
        assert_eq!(d.gender, Some(Gender::Female));
        let a = d.address.unwrap();
        assert_eq!(
            (a.line, a.city.as_deref(), a.state.as_deref(), a.postal_code.as_deref()),
            (vec!["12 Elm Street".to_string()], Some("Springfield"), Some("IL"), Some("62704"))
        );
        assert_eq!(d.phone.as_deref(), Some("(217) 555-0142"));
        assert_eq!(facts.date.as_deref(), Some("2024-03-01"));
        let name = ents.iter().find(|e| e.attrs.field.as_deref() == Some("patient_name")).unwrap();
        assert_eq!(&text[name.start..name.end], "Doe, Jane A.");
        assert!(ents.iter().any(|e| e.subtype == Some(Subtype::Name) && e.attrs.field.as_deref() == Some("provider")));
    }

    #[test]
    fn every_identifier_of_the_patient_with_its_kind() {
        let (_, d, _) = extract(
            "Patient: John Doe Provider's Pt ID: 00988277891\nPatient ID: NARH-36640\nAttachment Control Number: XA/7B/00338763\nPatient's Account No.: 44871-2\nStatement Account #: 99120034\nPatient ID: 00988277891",
        );
        assert_eq!(d.mrn.as_deref(), Some("00988277891"));
        let ids: Vec<(IdKind, &str)> = d.other_ids.iter().map(|i| (i.kind, i.value.as_str())).collect();
        assert_eq!(
            ids,
            [(IdKind::MedicalRecord, "NARH-36640"), (IdKind::Account, "44871-2")],
            "a second record number and the patient's account; not an attachment's number, not another account, no repeats"
        );
        let mut merged = Demographics { mrn: Some("A1".into()), ..Default::default() };
        merged.fill_from(d);
        assert_eq!(merged.other_ids.len(), 3, "the other record's MRN becomes one more identifier");
    }

    #[test]
    fn names_in_capitals_read_as_names_even_with_an_ocr_l() {
        assert_eq!(name_case("MEl"), "Mei", "a small l in capitals is an I");
        assert_eq!(name_case("WILLlAMS"), "Williams");
        assert_eq!(name_case("McDonald"), "McDonald", "mixed case stays as written");
        assert_eq!(name_case("Al"), "Al", "one capital: a name as written");
    }

    #[test]
    fn addresses_are_read_by_their_country() {
        let a = |v: &str| {
            let a = parse_address(v).unwrap();
            (a.line, a.city, a.state, a.postal_code, a.country)
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            a("12 Elm Street, Springfield, IL 62704"),
            (vec!["12 Elm Street".into()], s("Springfield"), s("IL"), s("62704"), None)
        );
        assert_eq!(a("123 Any Street Any City CA 92127").2, s("CA"));
        assert_eq!(
            a("12 MG Road, Indiranagar, Bengaluru, Karnataka 560001, India"),
            (vec!["12 MG Road".into(), "Indiranagar".into()], s("Bengaluru"), s("Karnataka"), s("560001"), s("IN")),
            "a PIN code is a postal code, the state before it a state, and the country is India"
        );
        assert_eq!(
            a("Flat 4, 22 Park Street, Kolkata - 700016"),
            (vec!["Flat 4".into(), "22 Park Street".into()], s("Kolkata"), None, s("700016"), s("IN"))
        );
        assert_eq!(
            a("221B Baker Street, London NW1 6XE, United Kingdom"),
            (vec!["221B Baker Street".into()], s("London"), None, s("NW1 6XE"), s("GB"))
        );
        assert_eq!(a("55 King St W, Toronto, ON M5K 1A1, Canada").2, s("ON"));
        let odd = a("7 Hill Road, 560001");
        assert_eq!((odd.1, odd.3), (None, s("560001")), "a number is never a city");
        assert_eq!(field_contact("PIN Code:", "560 001").address.unwrap().postal_code.as_deref(), Some("560 001"));
        assert_eq!(field_contact("Country:", "India").address.unwrap().country.as_deref(), Some("IN"));
    }

    #[test]
    fn narrative_phi() {
        let text = "Mr. John Smith is a 67-year-old male seen on March 3, 2024. SSN 123-45-6789. Call 555-867-5309 or jsmith@example.org.";
        let (ents, d, _) = extract(text);
        assert_eq!(d.gender, Some(Gender::Male));
        let kinds: Vec<_> = ents.iter().map(|e| (e.subtype.unwrap(), e.text.as_str())).collect();
        assert!(kinds.contains(&(Subtype::Name, "John Smith")), "{kinds:?}");
        assert!(kinds.contains(&(Subtype::Age, "67")), "{kinds:?}");
        assert!(kinds.contains(&(Subtype::Date, "March 3, 2024")), "{kinds:?}");
        assert!(kinds.contains(&(Subtype::Id, "123-45-6789")), "{kinds:?}");
        assert!(kinds.contains(&(Subtype::Phone, "555-867-5309")), "{kinds:?}");
        assert!(kinds.contains(&(Subtype::Email, "jsmith@example.org")), "{kinds:?}");
        assert!(d.family.is_none(), "an unlabelled name is not the patient's");
        for (text, name) in [
            ("Follow up with Dr. Chen-Watanabe in 2 weeks.", "Chen-Watanabe"),
            ("Seen by Dr. McDonald today.", "McDonald"),
            ("Mr. O'Neil Brady called.", "O'Neil Brady"),
        ] {
            let (ents, _, _) = extract(text);
            assert!(ents.iter().any(|e| e.subtype == Some(Subtype::Name) && e.text == name), "{text}: {ents:?}");
        }
    }

    #[test]
    fn a_name_ends_where_the_next_label_begins() {
        let (_, d, _) = extract("Patient: Maria Lopez Referring Physician: Dr. Chen\nPt ID: 4471-22 Sex: F");
        assert_eq!((d.family.as_deref(), d.given.as_slice()), (Some("Lopez"), &["Maria".to_string()][..]));
        assert_eq!(d.mrn.as_deref(), Some("4471-22"));
        let (_, d, _) = extract("Patient Number: A778812\n");
        assert_eq!(d.mrn.as_deref(), Some("A778812"));
    }

    #[test]
    fn values_stand_above_or_below_their_caption_row() {
        // A card filled in by hand: values above the printed captions.
        let card = "Immunization Record\nNguyen Linh T\nLast Name   First Name   MI\n03/14/71 A55-9012\nDate of Birth   Patient number (clinic record)\n";
        let (ents, d, _) = extract(card);
        assert_eq!(d.family.as_deref(), Some("Nguyen"));
        assert_eq!(d.given, ["Linh", "T"]);
        assert_eq!(d.birth_date.as_deref(), Some("1971-03-14"));
        assert_eq!(d.mrn.as_deref(), Some("A55-9012"));
        assert!(ents.iter().any(|e| e.attrs.field.as_deref() == Some("birth_date")));
        // A form: values typed below.
        let (_, d, _) = extract("LAST NAME FIRST NAME DOB SEX\nOkafor Chidi 1980-02-29 M\n");
        assert_eq!(
            (d.family.as_deref(), d.birth_date.as_deref(), d.gender),
            (Some("Okafor"), Some("1980-02-29"), Some(Gender::Male))
        );
        // Values that do not fit the captions, or rows on both sides, give nothing.
        let (_, d, _) = extract("Last Name First Name\nchest pain today\n");
        assert!(d.family.is_none());
        let (_, d, _) = extract("Kim Ara\nLast Name First Name\nLee Bo\n");
        assert!(d.family.is_none(), "which row is the patient is not known");
    }

    #[test]
    fn form_fields_give_their_part_of_the_identity() {
        assert_eq!(field_demographics("Last Name:", "Okafor").family.as_deref(), Some("Okafor"));
        assert_eq!(field_demographics("FIRST NAME", "Chidi").given, ["Chidi"]);
        assert_eq!(field_demographics("Date of Birth:", "02/29/1980").birth_date.as_deref(), Some("1980-02-29"));
        assert_eq!(field_demographics("Sex", "M").gender, Some(Gender::Male));
        assert_eq!(field_demographics("Patient number", "A-99812").mrn.as_deref(), Some("A-99812"));
        assert_eq!(field_demographics("MRN", ". 28939448").mrn.as_deref(), Some("28939448"), "OCR's stray dot");
        assert_eq!(extract("MRN:. 28939448").1.mrn.as_deref(), Some("28939448"));
        let (ents, d, _) = extract("First Name: Yuki Last Name:- Mensah");
        assert_eq!(d.family.as_deref(), Some("Mensah"), "a speck before a name");
        let t = "First Name: Yuki Last Name:- Mensah";
        assert!(ents.iter().any(|e| &t[e.start..e.end] == "Mensah"), "the evidence is the name itself");
        assert_eq!(extract("RE: Grace Tanaka: DOB: 03/14/1999").1.family.as_deref(), Some("Tanaka"), "OCR's colon");
        assert_eq!(extract("Patient: Haddad, Hiroshi\u{2019} DOB: 08/15/1950").1.given, ["Hiroshi"], "OCR's quote");
        assert_eq!(extract("Patient: Jane Doe Room: 12").1.family.as_deref(), Some("Doe"), "a label's colon ends it");
        let d = extract("Patient: Nguyen, Miguel ~DOB: 07/28/2001 . MRN: 29148329").1;
        assert_eq!(
            (d.family.as_deref(), d.birth_date.as_deref()),
            (Some("Nguyen"), Some("2001-07-28")),
            "a speck ends a name"
        );
        assert!(field_demographics("MRN", "see chart").mrn.is_none());
        let whole = field_demographics("Patient Name:", "Okafor, Chidi");
        assert_eq!((whole.family.as_deref(), whole.given.as_slice()), (Some("Okafor"), &["Chidi".to_string()][..]));
        assert!(field_demographics("Last Name:", "chest pain").family.is_none(), "a value is checked for its kind");
        assert!(field_demographics("Last Name:", "").family.is_none());
    }

    #[test]
    fn form_fields_give_the_address_in_parts_and_contacts_checked() {
        let a = field_contact("Address:", "123 ANY STREET").address.unwrap();
        assert_eq!(a.line, ["123 ANY STREET"]);
        assert_eq!(field_contact("City:", "ANYTOWN").address.unwrap().city.as_deref(), Some("ANYTOWN"));
        assert_eq!(field_contact("Zip Code:", "12345").address.unwrap().postal_code.as_deref(), Some("12345"));
        assert_eq!(field_contact("Phone:", "646-555-0111").phone.as_deref(), Some("646-555-0111"));
        assert!(field_contact("Phone:", "none").phone.is_none());
        assert!(field_contact("City:", "12345").address.is_none(), "a city has no digits");
        assert!(field_contact("Reason for visit:", "cough").is_empty());
        assert_eq!(field_demographics("First Name:", "ALEJANDRO").given, ["Alejandro"]);
    }

    #[test]
    fn name_parts_in_fields_of_their_own() {
        let (_, d, _) = extract("First Name: Wei Last Name: Kowalski\nDate of Birth: 02/25/1952 Sex: M FO\n");
        assert_eq!(
            (d.given.as_slice(), d.family.as_deref()),
            (&["Wei".to_string()][..], Some("Kowalski")),
            "not 'Last'"
        );
        assert_eq!(d.gender, None, "'M F' with boxes is a choice, not a value");
        let (_, d, _) = extract("Last Name: GARCIA   First Name: MARIA\nSex: F\n");
        assert_eq!(
            (d.given.as_slice(), d.family.as_deref(), d.gender),
            (&["Maria".to_string()][..], Some("Garcia"), Some(Gender::Female))
        );
        assert!(is_choice("M [ ] F [X]") && is_choice("Male Female") && !is_choice("M") && !is_choice("female"));
        assert_eq!(choice_gender("M [ ] F [X]"), Some(Gender::Female));
        assert_eq!(choice_gender("[X] Male [ ] Female"), Some(Gender::Male));
        assert_eq!(choice_gender("M [X] F [X]"), None, "two ticks: not known");
        let (_, d, _) = extract("Date of Birth: 12/11/1990 Sex: M [ ] F [X]\n");
        assert_eq!(d.gender, Some(Gender::Female));
    }

    #[test]
    fn another_partys_block_never_names_the_patient() {
        let form = "Patient Intake\nDate of Birth: 02/25/1952\nEmergency Contact 1:\nFirst Name: Tomas Last Name: Ruiz\nPhone: 555-123-4567\n";
        let (ents, d, _) = extract(form);
        assert!(d.given.is_empty() && d.family.is_none(), "{d:?}");
        assert_eq!(d.birth_date.as_deref(), Some("1952-02-25"));
        assert!(ents.iter().any(|e| e.text == "Tomas"), "still PHI");
        // A patient heading after it opens the patient's block again; a labelled provider line is
        // no heading.
        let (_, d, _) = extract("INSURED'S INFORMATION\nName: Jane Roe\nPatient Information\nName: Max Roe\n");
        assert_eq!(d.given, ["Max"]);
        let (_, d, _) = extract("Provider: Dr. Mateo Jackson\nPatient: John Doe   DOB: 01/02/1980\n");
        assert_eq!(d.family.as_deref(), Some("Doe"));
        assert!(is_other_party_heading("Emergency Contact 1:") && !is_other_party_heading("Provider: Dr. Chen Lee"));
    }

    #[test]
    fn cards_name_their_member_and_member_id() {
        let (ents, d, _) = extract("Member ID: W2231-0098 Group: 44\nMember: JOHN O'NEIL-SMITH\n");
        assert_eq!(d.member_id.as_deref(), Some("W2231-0098"));
        assert!(d.mrn.is_none(), "a member id is not a medical record number");
        assert_eq!(
            (d.family.as_deref(), d.given.as_slice()),
            (Some("O'Neil-Smith"), &["John".to_string()][..]),
            "capitals as names are written"
        );
        assert!(ents.iter().any(|e| e.attrs.field.as_deref() == Some("member_id")));
        assert_eq!(field_demographics("Member", "JANE Q DOE").given, ["Jane", "Q"], "an initial stays an initial");
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(parse_name("Jane Doe"), Some(("Doe".into(), vec!["Jane".into()])));
        assert_eq!(parse_name("Mr. John Q. Public"), Some(("Public".into(), vec!["John".into(), "Q".into()])));
        assert_eq!(parse_name("67 year old"), None);
        assert_eq!(parse_name("chest pain"), None);
    }
}
