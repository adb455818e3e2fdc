//! De-identification (`paperchart run --deidentify`, `fhir.deidentify`): every piece of PHI the
//! NLP found is replaced, in the text and in the patient's demographics, by a surrogate — the
//! same original always by the same surrogate within a run, so one patient's documents still
//! meet under one (surrogate) identity.
//!
//! - names: word by word, from a list of invented names, the letter case kept ("SMITH, JOHN" →
//!   "OKAFOR, LUCA", "Mr. Smith" → "Mr. Okafor");
//! - dates: shifted by one offset for the run (intervals between dates hold); a date that cannot
//!   be read as a day ("3/80") becomes `[date]`;
//! - identifiers and phone numbers: each digit and letter replaced, the form kept ("123-45-678"
//!   → "804-91-236");
//! - ages over 89: `90+` (HIPAA Safe Harbor); e-mail addresses: `patient<N>@example.org`;
//! - street addresses and places: `[address]`, `[location]`; an address keeps only its state and
//!   country.
//!
//! Findings' offsets are moved with the text. Nothing here is logged.

use std::collections::HashMap;
use std::sync::Mutex;

use paperchart_model::findings::{Demographics, EntityType, NlpOutput, Subtype};

use crate::text::parse_date;

/// Invented given names and surnames the surrogates are drawn from (English place-like names, so a
/// surrogate reads as a name and is unlikely to be someone's in the data).
const GIVEN: &[&str] = &[
    "Arden", "Blaise", "Corin", "Delphine", "Evander", "Fenna", "Gideon", "Halle", "Ivo", "Juniper", "Kit", "Linnea",
    "Milo", "Nell", "Orla", "Perrin", "Quinn", "Rowan", "Sable", "Tamsin",
];
const FAMILY: &[&str] = &[
    "Brightwater",
    "Coldbrook",
    "Dunmore",
    "Eastwick",
    "Fairholm",
    "Greymoor",
    "Hollins",
    "Ivesdale",
    "Jarrow",
    "Kestrel",
    "Larkspur",
    "Merriweather",
    "Northcott",
    "Oakhurst",
    "Penhallow",
    "Quarrington",
    "Redfern",
    "Stanwick",
    "Thornbury",
    "Underhill",
];

/// Endings that make more surrogate names of the pool ("Brightwater", "Brightwaterton" …).
const ENDINGS: &[&str] = &[
    "", "ton", "ley", "by", "ford", "wood", "well", "more", "field", "dale", "worth", "stead", "combe", "holt",
    "hurst", "mere", "shaw", "thorpe", "wick", "ham",
];

/// The surrogates of one run.
pub struct Deidentifier {
    /// Days every date moves back.
    shift_days: i64,
    /// Seeds the digits and letters of surrogate identifiers.
    salt: u64,
    /// A configured key: surrogates derive from it and the original alone (the same in every run
    /// and worker); without one they are numbered in the order met (distinct within the run).
    keyed: bool,
    map: Mutex<HashMap<(u8, String), String>>,
}

impl Deidentifier {
    /// From a configured key (`fhir.deidentify_key`): the same key, the same surrogates; an empty
    /// key draws one for this process.
    pub fn from_key(key: &str) -> Deidentifier {
        let seed = if key.is_empty() {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        } else {
            key.bytes().fold(0x5EED_u64, |h, b| mix(h ^ u64::from(b)))
        };
        Deidentifier { keyed: !key.is_empty(), ..Deidentifier::new(seed) }
    }

    /// `seed` picks the run's date shift (30 to 395 days back) and identifier digits.
    pub fn new(seed: u64) -> Deidentifier {
        let mixed = mix(seed);
        Deidentifier {
            shift_days: 30 + (mixed % 366) as i64,
            salt: mix(mixed),
            keyed: false,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The surrogate of `original` of kind `kind`, made once by `make(n)`: `n` derives from the key
    /// and the original when keyed, else it counts those of that kind made before in this run.
    fn surrogate(&self, kind: u8, original: &str, make: impl FnOnce(usize) -> String) -> String {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let key = (kind, original.to_lowercase());
        if let Some(s) = map.get(&key) {
            return s.clone();
        }
        let n = if self.keyed {
            key.1.bytes().fold(self.salt ^ u64::from(kind), |h, b| mix(h ^ u64::from(b))) as usize
        } else {
            map.keys().filter(|(k, _)| *k == kind).count()
        };
        let s = make(n);
        map.insert(key, s.clone());
        s
    }

    /// One name word's surrogate, in the word's letter case. Given names and surnames are one
    /// pool: "Smith" is the same surrogate whether the text calls it a first or a last name.
    fn name_word(&self, word: &str) -> String {
        let s = self.surrogate(0, word, |n| {
            let pool: Vec<&str> = FAMILY.iter().chain(GIVEN).copied().collect();
            // 800 names from the pool and its endings, then numbered; never the original itself.
            let pick = |k: usize| {
                let base = pool[k % pool.len()];
                let ending = ENDINGS[(k / pool.len()) % ENDINGS.len()];
                let round = k / (pool.len() * ENDINGS.len()) % 1000;
                if round > 0 {
                    format!("{base}{ending}{}", round + 1)
                } else {
                    format!("{base}{ending}")
                }
            };
            let first = pick(n);
            if first.eq_ignore_ascii_case(word) {
                pick(n + 1)
            } else {
                first
            }
        });
        if word.len() > 1 && word.chars().all(|c| !c.is_lowercase()) {
            s.to_uppercase()
        } else {
            s
        }
    }

    /// A name as written, word by word; initials, titles and punctuation stay.
    pub fn name(&self, written: &str) -> String {
        let mut out = String::with_capacity(written.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                // Initials, titles, and credentials as credentials are written (MD, not a surname Do).
                let keep = word.chars().count() == 1
                    || matches!(word.to_lowercase().as_str(), "mr" | "mrs" | "ms" | "miss" | "dr")
                    || matches!(word.as_str(), "MD" | "DO" | "NP" | "RN" | "PA" | "PhD");
                out.push_str(&if keep { word.clone() } else { self.name_word(word) });
                word.clear();
            }
        };
        for c in written.chars() {
            if c.is_alphabetic() || c == '\'' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// A date moved back by the run's shift, as `YYYY-MM-DD`; `[date]` when it names no day.
    pub fn date(&self, written: &str) -> String {
        parse_date(written).and_then(|iso| self.shift_iso(&iso)).unwrap_or_else(|| "[date]".to_string())
    }

    /// An ISO date (`YYYY-MM-DD`, or a year or year-month, which are kept to their precision)
    /// moved back by the run's shift.
    pub fn shift_iso(&self, iso: &str) -> Option<String> {
        let parts: Vec<&str> = iso.split('-').collect();
        // A year or a year and month keep their precision: moved from a day inside them.
        let (y, m, d, keep) = match parts[..] {
            [y, m, d] => (y, m, d, 3),
            [y, m] => (y, m, "15", 2),
            [y] => (y, "07", "01", 1),
            _ => return None,
        };
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
        let shifted = date.checked_sub(time::Duration::days(self.shift_days))?;
        let full = format!("{:04}-{:02}-{:02}", shifted.year(), u8::from(shifted.month()), shifted.day());
        Some(match keep {
            3 => full,
            2 => full[..7].to_string(),
            _ => full[..4].to_string(),
        })
    }

    /// An identifier or phone number with each digit and letter replaced, its form kept.
    pub fn code(&self, written: &str) -> String {
        self.surrogate(1, written, |n| {
            let mut state = mix(self.salt ^ (n as u64 + 1));
            written
                .chars()
                .map(|c| {
                    state = mix(state);
                    if c.is_ascii_digit() {
                        char::from(b'0' + (state % 10) as u8)
                    } else if c.is_ascii_uppercase() {
                        char::from(b'A' + (state % 26) as u8)
                    } else if c.is_ascii_lowercase() {
                        char::from(b'a' + (state % 26) as u8)
                    } else {
                        c
                    }
                })
                .collect()
        })
    }

    fn email(&self, written: &str) -> String {
        self.surrogate(2, written, |n| format!("patient{}@example.org", n + 1))
    }

    /// The surrogate of one PHI entity's words.
    fn replace(&self, subtype: Option<Subtype>, written: &str) -> String {
        match subtype {
            Some(Subtype::Name) => self.name(written),
            Some(Subtype::Date) => self.date(written),
            Some(Subtype::Id | Subtype::Phone) => self.code(written),
            Some(Subtype::Email) => self.email(written),
            Some(Subtype::Age) => match written.trim().parse::<u32>() {
                Ok(age) if age > 89 => "90+".to_string(),
                _ => written.to_string(),
            },
            Some(Subtype::Address) => "[address]".to_string(),
            Some(Subtype::Location) => "[location]".to_string(),
            _ => "[redacted]".to_string(),
        }
    }

    /// De-identifies one document's text and what was read from it, in place.
    pub fn apply(&self, text: &mut String, out: &mut NlpOutput) {
        // What to replace: every PHI entity, and every other place the patient's own name or
        // record number stands that no entity covered ("... John reports"), as (start, end, kind).
        let mut found: Vec<(usize, usize, Option<Subtype>)> = out
            .entities
            .iter()
            .filter(|e| e.kind == EntityType::Phi && text.get(e.start..e.end).is_some())
            .map(|e| (e.start, e.end, e.subtype))
            .collect();
        let d = &out.demographics;
        let names = d.family.iter().chain(&d.given).filter(|w| w.chars().count() >= 3);
        let numbers = d.mrn.iter().chain(&d.member_id).filter(|w| w.len() >= 4);
        // ASCII folding keeps every byte where it was.
        let folded = text.to_ascii_lowercase();
        for (word, kind) in names.map(|w| (w, Subtype::Name)).chain(numbers.map(|w| (w, Subtype::Id))) {
            for (at, _) in folded.match_indices(&word.to_ascii_lowercase()) {
                let end = at + word.len();
                let bounded =
                    text.get(..at).is_some_and(|b| b.chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
                        && text.get(end..).is_some_and(|a| a.chars().next().is_none_or(|c| !c.is_alphanumeric()));
                if bounded {
                    found.push((at, end, Some(kind)));
                }
            }
        }
        found.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        // Overlapping places are replaced as one, never skipped: (start, end, surrogate).
        let mut merged: Vec<(usize, usize, Option<Subtype>)> = Vec::new();
        for (s, e, k) in found {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e, k)),
            }
        }
        let spans: Vec<(usize, usize, String)> =
            merged.into_iter().filter_map(|(s, e, k)| text.get(s..e).map(|w| (s, e, self.replace(k, w)))).collect();
        let mut new_text = String::with_capacity(text.len());
        let mut at = 0;
        // Where each old byte offset lands: old span boundaries and the shift after each span.
        let mut moves: Vec<(usize, usize, i64)> = Vec::new();
        let mut delta: i64 = 0;
        for (s, e, sur) in &spans {
            new_text.push_str(&text[at..*s]);
            new_text.push_str(sur);
            delta += sur.len() as i64 - (e - s) as i64;
            moves.push((*s, *e, delta));
            at = *e;
        }
        new_text.push_str(&text[at..]);
        // Where an old offset lands: past every span that ends at or before it; inside a span,
        // at the surrogate's start (a start) or end (an end).
        let moved = |offset: usize, end: bool| -> usize {
            let mut d = 0i64;
            for &(s, e, after) in &moves {
                if e <= offset {
                    d = after;
                } else if s < offset {
                    let before = d;
                    return if end { (e as i64 + after) as usize } else { (s as i64 + before) as usize };
                } else {
                    break;
                }
            }
            (offset as i64 + d).max(0) as usize
        };
        for e in out.entities.iter_mut() {
            let (start, end) = (moved(e.start, false), moved(e.end, true));
            e.start = start.min(new_text.len());
            e.end = end.clamp(e.start, new_text.len());
            if e.kind == EntityType::Phi {
                e.text = new_text.get(e.start..e.end).unwrap_or_default().to_string();
            }
            // A PHI date, or the date a flowsheet row gives its result.
            e.attrs.normalized = e.attrs.normalized.as_deref().and_then(|d| self.shift_iso(d));
        }
        for f in out.immunizations.iter_mut() {
            f.date = f.date.as_deref().and_then(|d| self.shift_iso(d));
            f.start = moved(f.start, false);
            f.end = moved(f.end, true);
        }
        for a in out.answers.iter_mut() {
            a.start = moved(a.start, false);
            a.end = moved(a.end, true);
        }
        out.document.date = out.document.date.as_deref().and_then(|d| self.shift_iso(d));
        if let Some(c) = out.coverage.as_mut() {
            c.member_id = c.member_id.as_deref().map(|m| self.code(m));
        }
        self.demographics(&mut out.demographics);
        *text = new_text;
    }

    /// The patient's identity as its surrogate: names, birth date, identifiers, contact details.
    pub fn demographics(&self, d: &mut Demographics) {
        d.family = d.family.as_deref().map(|f| self.name(f));
        d.given = d.given.iter().map(|g| self.name(g)).collect();
        d.birth_date = d.birth_date.as_deref().and_then(|b| self.shift_iso(b));
        d.mrn = d.mrn.as_deref().map(|m| self.code(m));
        d.member_id = d.member_id.as_deref().map(|m| self.code(m));
        d.phone = d.phone.as_deref().map(|p| self.code(p));
        d.email = d.email.as_deref().map(|e| self.email(e));
        for id in d.other_ids.iter_mut() {
            id.value = self.code(&id.value);
        }
        if let Some(a) = d.address.as_mut() {
            a.line.clear();
            a.city = None;
            a.postal_code = None;
            a.text = [a.state.as_deref(), a.country.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
        }
    }
}

/// SplitMix64: a well-spread 64-bit step, for surrogate digits (not for secrets).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Builtin;
    use paperchart_model::findings::NlpEngine;

    #[test]
    fn the_same_original_gets_the_same_surrogate_and_the_text_keeps_its_findings() {
        let engine = Builtin::new(&Default::default()).unwrap();
        let d = Deidentifier::new(7);
        let mut text =
            "Patient Name: SMITH, JOHN\nMRN: 123-45-678\nDOB: 03/07/1952\nMr. Smith, 92 year old, has asthma.\n\
                        Phone 555-1234. Seen 2024-03-01 at Riverside Medical Center.\nJane Q. Doe, MD"
                .to_string();
        let original = text.clone();
        let mut out = engine.analyze(&text);
        let asthma_before = out.entities.iter().find(|e| e.text == "asthma").cloned().unwrap();
        d.apply(&mut text, &mut out);
        for phi in ["SMITH", "JOHN", "123-45-678", "1952", "Smith", "555-1234", "Riverside", "Jane", "Doe", " 92 "] {
            assert!(!text.contains(phi), "{phi:?} left in {text:?}");
        }
        let asthma = out.entities.iter().find(|e| e.text == "asthma").unwrap();
        assert_eq!(&text[asthma.start..asthma.end], "asthma", "findings move with the text");
        assert_eq!(asthma.codes, asthma_before.codes);
        assert!(text.contains("90+"));
        // The same surname is the same surrogate, whatever its case.
        let surname = d.name("Smith");
        assert!(text.contains(&surname) && text.contains(&surname.to_uppercase()), "{text}");
        // The patient's identity is the surrogate's, consistently.
        assert_eq!(out.demographics.family.as_deref(), Some(d.name("Smith").as_str()));
        assert_eq!(out.demographics.mrn.as_deref(), Some(d.code("123-45-678").as_str()));
        assert_ne!(out.demographics.mrn.as_deref(), Some("123-45-678"));
        let birth = out.demographics.birth_date.clone().unwrap();
        assert!(birth.as_str() < "1952-03-07" && birth.as_str() > "1950-12-31", "{birth}");
        assert_eq!(d.code("123-45-678").len(), 10);
        assert!(d.code("123-45-678").chars().nth(3) == Some('-'));
        assert_ne!(text, original);
        // The patient's name where no entity stood is replaced too; a configured key gives the
        // same surrogates in every run, and different originals different ones.
        let mut t2 = "Patient Name: Doe, Jane\nJane reports no pain. JANE DOE".to_string();
        let mut o2 = engine.analyze(&t2);
        d.apply(&mut t2, &mut o2);
        assert!(!t2.to_lowercase().contains("jane") && !t2.to_lowercase().contains("doe"), "{t2}");
        let (k1, k2) = (Deidentifier::from_key("site-secret"), Deidentifier::from_key("site-secret"));
        assert_eq!(k1.code("55501234"), k2.code("55501234"));
        assert_eq!(k2.code("55509999"), k1.code("55509999"), "order does not matter");
        assert_ne!(k1.code("55501234"), k1.code("55509999"));
        assert_ne!(k1.name("Smith"), k1.name("Jones"));
        assert_eq!(d.shift_iso("2021").map(|y| y.len()), Some(4), "a year stays a year");
        assert_eq!(d.shift_iso("2021-06").map(|y| y.len()), Some(7));
        // A second run's surrogates differ.
        assert_ne!(Deidentifier::new(8).code("123-45-678"), d.code("123-45-678"));
    }
}
