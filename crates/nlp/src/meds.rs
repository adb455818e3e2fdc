//! Medication orders: strength, dose, route, frequency and duration after a drug name.
//!
//! The attributes are read from the rest of the order — the text after the drug name up to the
//! end of the line, a semicolon, or the next drug — so "Lisinopril 10 mg PO daily" and
//! "lisinopril 10mg by mouth once a day" give the same result.

use std::sync::OnceLock;

use regex::Regex;

use super::Frequency;

/// Attributes of one medication order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Order {
    /// Strength value and lower-case unit, e.g. `(10.0, "mg")`.
    pub strength: Option<(f64, String)>,
    /// Strength as written, normalised: `10 mg`.
    pub strength_text: Option<String>,
    /// Dose as written: `1 tablet`, `2 puffs`.
    pub dose: Option<String>,
    /// One administration as a UCUM quantity: the dose when it is numeric, else the strength.
    pub dose_quantity: Option<(f64, String)>,
    /// A dose written as a range ("1-2 puffs"): low, high, UCUM unit.
    pub dose_range: Option<(f64, f64, String)>,
    pub frequency: Option<Frequency>,
    pub prn: bool,
    pub duration: Option<String>,
    /// Extended release (ER, XL, SR, 24 HR …).
    pub extended: bool,
    /// Delayed release (EC, DR, enteric-coated).
    pub delayed: bool,
    /// Given without pause ("continuous infusion"): no Timing repeat says that.
    pub continuous: bool,
    /// A route abbreviation written in lower case where a sig puts it ("40 mg iv bid", "X po
    /// daily"), upper-cased (the route lexicon matches abbreviations only as written), and where
    /// it starts in the order's text.
    pub sig_route: Option<(String, usize)>,
}

/// A count as written in a duration: digits or a number word.
const COUNT: &str =
    r"(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|eighteen|twenty|thirty)";

struct Patterns {
    strength: Regex,
    dose: Regex,
    /// "q4h", "q 4-6 h", "every 6 hours", "every 4 to 6 hours": a period in hours, maybe a range.
    every_hours: Regex,
    /// "every 3 days", "every 2 weeks", "q2wk".
    every_n: Regex,
    prn: Regex,
    duration: Regex,
    extended: Regex,
    delayed: Regex,
    continuous: Regex,
    sig_route: Regex,
    days_a_week: Regex,
    per_size_or_time: Regex,
    change: Regex,
    frequencies: Vec<(Regex, FreqSpec)>,
}

#[derive(Clone, Copy)]
struct FreqSpec {
    text: &'static str,
    code: Option<&'static str>,
    frequency: u32,
    period: f64,
    unit: &'static str,
    when: Option<&'static str>,
}

const fn f(
    text: &'static str,
    code: Option<&'static str>,
    frequency: u32,
    period: f64,
    unit: &'static str,
    when: Option<&'static str>,
) -> FreqSpec {
    FreqSpec { text, code, frequency, period, unit, when }
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("medication pattern");
        let freq = |s: &str, spec| (re(&format!(r"(?i)(?:^|[^a-z0-9])(?:{s})(?:$|[^a-z0-9])")), spec);
        Patterns {
            // The unit may be per body size or per time ("1500 mg/m2", "10 mg/kg/day", "40 mg/day"):
            // then it is a dose, never a product's strength.
            // Numbers with thousands separators ("5,000 units") are whole numbers.
            strength: re(concat!(
                r"(?i)(?:^|[^a-z0-9.,/])(?:(\d{1,3}(?:,\d{3})+|\d+(?:[.,]\d+)?)\s*(?:-|to|/)\s*)?(\d{1,3}(?:,\d{3})+|\d+(?:[.,]\d+)?)\s*-?\s*(mg/ml|mgs|mg|mcgs|mcg|µg|ug|g|units?|iu|meq|ml|%)",
                r"(\s*(?:/|per)\s*(?:kg|m2|m²)(?:\s*(?:/|per)\s*(?:d|day|24\s*h(?:ours?|rs?)?|h|hrs?|hour|min|minute))?",
                r"|\s*(?:/|per)\s*(?:d|day|24\s*h(?:ours?|rs?)?|h|hrs?|hour|min|minute))?(?:$|[^a-z0-9])"
            )),
            // Whole, decimal, fraction, mixed ("1 1/2", "1 and 1/2", "one and a half") or a range ("1-2").
            dose: re(concat!(
                r"(?i)(?:^|[^a-z0-9/])(?:take\s+|inhale\s+|apply\s+|inject\s+|give\s+)?",
                r"(\d+\s+(?:and\s+)?\d/\d|\d+(?:\.\d+)?\s*(?:-|to)\s*\d+(?:\.\d+)?|\d/\d|½|\d+(?:\.\d+)?",
                r"|(?:one|two|three)\s+and\s+a\s+half|one|two|three|four|half)",
                r"\s*(tabs?|tablets?|caps?|capsules?|puffs?|drops?|units?|sprays?|patch(?:es)?|ml|teaspoons?|tsp)\b"
            )),
            every_hours: re(concat!(
                r"(?i)(?:^|[^a-z0-9])(?:q\.?\s*|every\s+)(\d{1,2})\s*(?:(?:-|to)\s*(\d{1,2})\s*)?",
                r"(?:h|hrs?|hours?)\b\.?"
            )),
            every_n: re(r"(?i)(?:^|[^a-z0-9])(?:q\.?\s*|every\s+)(\d{1,2})\s*(d|days?|wks?|weeks?|months?|mos?)\b"),
            prn: re(r"(?i)(?:^|[^a-z0-9])(prn|p\.r\.n\.|as needed)(?:$|[^a-z0-9])"),
            duration: re(&format!(
                r"(?i)(?:^|[^a-z0-9])(?:for|x|times|over)\s*(?:a\s+(?:period|total)\s+of\s+)?(?:(?:more|greater|less)\s+than\s+|at\s+least\s+|about\s+|approximately\s+|up\s+to\s+)?({COUNT}(?:\s*(?:-|to)\s*{COUNT})?)\s*[- ]?(hours?|days?|weeks?|wks?|months?|years?|yrs?)\b"
            )),
            extended: re(r"(?i)(?:^|[^a-z0-9])(ER|XR|XL|SR|CR|ER/XL|extended[- ]release|sustained[- ]release|24\s*hr?)(?:$|[^a-z0-9])"),
            delayed: re(r"(?i)(?:^|[^a-z0-9])(EC|DR|enteric[- ]coated|delayed[- ]release)(?:$|[^a-z0-9])"),
            continuous: re(r"(?i)(?:^|[^a-z0-9])(?:by\s+)?continuous(?:ly)?\s+(?:i\.?v\.?|intravenous|infusion|subcutaneous|drip)"),
            // After a dose, or first in the order, and before a frequency or the order's end.
            sig_route: re(concat!(
                r"(?:^\s*|\d\s*(?:mg|mcg|g|ml|units?|meq|tabs?|tablets?|caps?|capsules?|puffs?)\.?\s+)",
                r"(po|iv|im|sc|sq|sl|pr)(?:\s+(?:daily|bid|tid|qid|qd|qhs|hs|prn|once|q\d|x\s*\d)|\s*$|\s*[,;)])"
            )),
            // Not "1-2 days a week" (a range: its upper end would be a wrong count).
            days_a_week: re(r"(?i)(?:^|[^0-9\s-])\s*([1-6])\s*days?\s*(?:per|a|/|each)\s*week\b"),
            per_size_or_time: re(r"^\s*(?:/|per)\s*(?:kg|m2|m²|d\b|day|24\s*h|h\b|hr|hour|min)"),
            // "increased from 10 mg to 20 mg", "reduced from 10 to 5 mg": the order is the second.
            change: re(r"(?i)\bfrom\s+(\d+(?:\.\d+)?)\s*(?:mg|mcg|g|units?|ml)?\s+to\s+(\d+(?:\.\d+)?)\s*(mg|mcg|µg|ug|g|units?|iu|meq|ml)\b"),
            frequencies: vec![
                freq(r"q\.?\s*(?:four)\s*h(?:rs?|ours?)?", f("q4h", Some("Q4H"), 1, 4.0, "h", None)),
                // BD, TDS, QDS: UK and Indian practice.
                freq(r"b\.?i\.?d\.?|b\.?d\.?|twice\s*(?:a\s+|per\s+|/\s*)?day|twice\s+daily|2\s*(?:x|times)\s*(?:a\s+|per\s+|/\s*)?(?:day|daily|d)", f("BID", Some("BID"), 2, 1.0, "d", None)),
                freq(r"t\.?i\.?d\.?|t\.?d\.?s\.?|three\s+times\s*(?:a\s+|per\s+|/\s*)?(?:day|daily)|3\s*(?:x|times)\s*(?:a\s+|per\s+|/\s*)?(?:day|daily|d)", f("TID", Some("TID"), 3, 1.0, "d", None)),
                freq(r"q\.?i\.?d\.?|q\.?d\.?s\.?|four\s+times\s+(?:a\s+|per\s+)?(?:day|daily)|4\s*(?:x|times)\s*(?:a\s+|per\s+|/\s*)?(?:day|daily|d)", f("QID", Some("QID"), 4, 1.0, "d", None)),
                freq(r"twice\s+(?:a\s+|per\s+)?week|twice\s+weekly|2\s*(?:x|times)\s*(?:a\s+|per\s+|/\s*)?(?:week|wk)", f("twice weekly", None, 2, 1.0, "wk", None)),
                freq(r"three\s+times\s+(?:a\s+|per\s+)?week|3\s*(?:x|times)\s*(?:a\s+|per\s+|/\s*)?(?:week|wk)", f("three times weekly", None, 3, 1.0, "wk", None)),
                freq(r"q\.?o\.?d\.?|every\s+other\s+day|alternate\s+days?|on\s+alternate\s+days", f("every other day", Some("QOD"), 1, 2.0, "d", None)),
                // OCR reads the q of qhs as g ("ghs"): no word, so no other reading.
                freq(r"[qg]\.?h\.?s\.?|at\s+bedtime|nightly|every\s+night|at\s+night|hs|nocte", f("nightly", None, 1, 1.0, "d", Some("HS"))),
                freq(r"q\.?am|every\s+morning|in\s+the\s+morning|mane|o\.?m\.?", f("every morning", Some("AM"), 1, 1.0, "d", Some("MORN"))),
                freq(r"q\.?pm|every\s+evening|in\s+the\s+evening", f("every evening", Some("PM"), 1, 1.0, "d", Some("EVE"))),
                freq(r"weekly|once\s*(?:a\s+|per\s+|/\s*|every\s+)?(?:week|wk)|every\s+week|q\.?\s*week|q\.?wk|1\s*(?:x|time)\s*(?:a\s+|per\s+|/\s*)?(?:week|wk)", f("weekly", Some("WK"), 1, 1.0, "wk", None)),
                freq(r"every\s+other\s+week|alternate\s+weeks|fortnightly|biweekly", f("every other week", None, 1, 2.0, "wk", None)),
                freq(r"monthly|once\s+a\s+month|every\s+month", f("monthly", Some("MO"), 1, 1.0, "mo", None)),
                freq(r"once\s+daily|once\s*(?:a\s+|per\s+|/\s*)day|daily|q\.?\s*d\.?|q\.?\s*day|every\s+day|1\s*(?:x|time)\s*(?:a\s+)?day|od", f("daily", Some("QD"), 1, 1.0, "d", None)),
            ],
        }
    })
}

/// A dose's number as written: "2", "0.5", "half", "½", "1/2", "1 1/2", "1 and 1/2", "one and a half".
fn word_number(s: &str) -> Option<f64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let whole = |w: &str| match w {
        "one" => Some(1.0),
        "two" => Some(2.0),
        "three" => Some(3.0),
        "four" => Some(4.0),
        "half" | "½" => Some(0.5),
        other => other.parse::<f64>().ok(),
    };
    let fraction = |w: &str| {
        let (n, d) = w.split_once('/')?;
        let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
        (d > 0.0).then(|| n / d)
    };
    if let Some(f) = fraction(&s) {
        return Some(f);
    }
    if let Some(rest) = s.strip_suffix(" and a half") {
        return whole(rest).map(|w| w + 0.5);
    }
    let parts: Vec<&str> = s.split(' ').filter(|w| *w != "and").collect();
    match parts[..] {
        [w, f] => Some(whole(w)? + fraction(f)?),
        [w] => whole(w),
        _ => None,
    }
}

/// A dose range as written ("1-2", "1 to 2"), when it is one.
fn dose_range(s: &str) -> Option<(f64, f64)> {
    let (a, b) = s.split_once('-').or_else(|| s.split_once(" to "))?;
    let (a, b): (f64, f64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a < b).then_some((a, b))
}

/// The GTS code of "every n hours", where the code system has one.
fn hours_code(n: u32) -> Option<&'static str> {
    match n {
        1 => Some("Q1H"),
        2 => Some("Q2H"),
        3 => Some("Q3H"),
        4 => Some("Q4H"),
        6 => Some("Q6H"),
        8 => Some("Q8H"),
        _ => None,
    }
}

/// A number as written, in `unit`, for parsing: "5,000 units" and "1,000 mg" with their
/// thousands separator dropped where the amount is plausible in that unit; a decimal comma read
/// as a point only where it cannot be a list ("0,5", "2,5"). `None` for what could be either
/// ("10,20 mg": two doses, or 10.2; "88,100 mcg": two strengths).
fn number_text(s: &str, unit: &str) -> Option<String> {
    let Some((whole, rest)) = s.split_once(',') else { return Some(s.to_string()) };
    let thousands = s.split(',').skip(1).all(|g| g.len() == 3) && !s.starts_with("0,");
    if thousands {
        let v: f64 = s.replace(',', "").parse().ok()?;
        let most = match unit.to_lowercase().as_str() {
            "unit" | "units" | "iu" => 1e6,
            "mg" | "mgs" | "mcg" | "mcgs" | "ug" | "µg" => 1e4,
            "ml" => 5e3,
            _ => 0.0,
        };
        return (v <= most).then(|| s.replace(',', ""));
    }
    (whole.len() == 1 && !rest.contains(',')).then(|| format!("{whole}.{rest}"))
}

/// A number as an order writes it: "10", "0.5", "5000".
fn fmt_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A per-unit as UCUM writes it: "/kg", "/m2", "/kg/d", "/h", "/min" ("per kg per day",
/// "/24 hours", "/minute" as written).
fn per_unit(written: &str) -> String {
    let w = written.to_lowercase().replace("per", "/").replace("m²", "m2");
    let parts: Vec<String> = w
        .split('/')
        .map(|p| p.split_whitespace().collect::<String>())
        .filter(|p| !p.is_empty())
        .map(|p| match p.as_str() {
            "day" | "24h" | "24hr" | "24hrs" | "24hour" | "24hours" => "d".to_string(),
            "hr" | "hrs" | "hour" => "h".to_string(),
            "minute" => "min".to_string(),
            other => other.to_string(),
        })
        .collect();
    parts.iter().map(|p| format!("/{p}")).collect()
}

/// Reads the order written in `rest` (the text after the drug name).
/// Do these words say extended release ("Toprol XL", "metformin ER", "24 hr")?
pub fn says_extended(words: &str) -> bool {
    patterns().extended.is_match(words)
}

pub fn parse_order(rest: &str) -> Order {
    let p = patterns();
    let mut o = Order::default();
    let mut strength_quantity = None;
    let strength = p.strength.captures(rest);
    // A change of dose ("from 10 mg to 20 mg"): the dose is the second, and no strength is read.
    let changed = p.change.captures(rest).filter(|c| {
        let before = rest[..c.get(0).map_or(0, |m| m.start())].to_lowercase();
        !before.trim_end().ends_with("ranging") && !before.trim_end().ends_with("range")
    });
    if let Some(c) = &changed {
        o.dose = Some(format!("{} {}", &c[2], c[3].to_lowercase()));
        strength_quantity = c[2]
            .parse::<f64>()
            .ok()
            .zip(crate::units::dose(&c[3]).and_then(|u| u.ucum))
            .map(|(v, u)| (v, u.to_string()));
    }
    if let Some(c) = strength.as_ref().filter(|_| changed.is_none()) {
        let unit = crate::units::dose(&c[3]);
        let per = c.get(4).map(|per| per_unit(per.as_str()));
        let ucum = unit.and_then(|u| u.ucum).map(|u| format!("{u}{}", per.as_deref().unwrap_or("")));
        let written_per = per.as_deref().unwrap_or("");
        let written = |from: usize| {
            let t: Vec<&str> = rest[from..c.get(3).map_or(from, |m| m.end())].split_whitespace().collect();
            format!("{}{written_per}", t.join(" ").to_lowercase())
        };
        match (number_text(&c[2], &c[3]).and_then(|v| v.parse::<f64>().ok()), c.get(1)) {
            // Two numbers before a unit ("125-500 mg", "5-325 mg", "5/325 mg") are a range or a
            // combination product's strengths; which one, the words do not say: the dose as
            // written only.
            (_, Some(low)) => o.dose = Some(written(low.start())),
            // A number that reads two ways ("10,20 mg", "88,100 mcg"): as written only.
            (None, None) => o.dose = Some(written(c.get(2).map_or(0, |m| m.start()))),
            // A dose per body size or per time ("1500 mg/m2", "10 mg/kg/day", "40 mg/day") is a
            // dose, never a product's strength.
            (Some(v), None) if per.is_some() => {
                o.dose = Some(format!("{} {}{written_per}", fmt_number(v), c[3].to_lowercase()));
                strength_quantity = ucum.map(|u| (v, u));
            }
            (Some(v), None) => {
                let rxnorm = unit.and_then(|u| u.rxnorm).map_or_else(|| c[3].to_lowercase(), str::to_string);
                o.strength_text = Some(format!("{} {}", fmt_number(v), c[3].to_lowercase()));
                o.strength = Some((v, rxnorm));
                // Without a dose of its own, one administration is the strength.
                strength_quantity = ucum.map(|u| (v, u));
            }
        }
    }
    // "18 units/kg/hour" is a dose per body size and time, read above.
    // (Only a measured unit: "2 sprays per nostril" and "2 tabs/day" are doses.)
    let per_follows = |c: &regex::Captures| {
        let measured = matches!(c[2].to_lowercase().as_str(), "unit" | "units" | "ml");
        let after = rest[c.get(0).map_or(0, |m| m.end())..].to_lowercase();
        measured && p.per_size_or_time.is_match(&after)
    };
    if let Some(c) = p.dose.captures(rest).filter(|c| !per_follows(c)) {
        let number = c[1].split_whitespace().collect::<Vec<_>>().join(" ");
        o.dose = Some(format!("{number} {}", &c[2]).to_lowercase());
        let ucum = crate::units::dose(&c[2]).and_then(|u| u.ucum);
        if let Some(((low, high), u)) = dose_range(&number).zip(ucum) {
            o.dose_range = Some((low, high, u.to_string()));
        } else if let Some((v, u)) = word_number(&number).zip(ucum) {
            o.dose_quantity = Some((v, u.to_string()));
        }
    }
    if o.dose_range.is_none() {
        o.dose_quantity = o.dose_quantity.or(strength_quantity);
    }
    // The earliest frequency phrase in the order wins; ties go to the more specific pattern.
    let mut best: Option<(usize, Frequency)> = None;
    let mut consider = |at: usize, f: Frequency| {
        if best.as_ref().is_none_or(|(pos, _)| at < *pos) {
            best = Some((at, f));
        }
    };
    // "q4h", "q 4-6 h", "every 4 to 6 hours".
    if let Some(c) = p.every_hours.captures(rest) {
        let n: u32 = c[1].parse().unwrap_or(0);
        let max: Option<u32> = c.get(2).and_then(|m| m.as_str().parse().ok()).filter(|m| *m > n);
        if n > 0 {
            let text = match max {
                Some(m) => format!("q{n}-{m}h"),
                None => format!("q{n}h"),
            };
            let code = if max.is_none() { hours_code(n).map(str::to_string) } else { None };
            let f = Frequency {
                text,
                code,
                frequency: 1,
                period: n as f64,
                period_unit: "h".into(),
                when: None,
                period_max: max.map(f64::from),
            };
            consider(c.get(0).map_or(0, |m| m.start()), f);
        }
    }
    // "every 3 days", "every 2 weeks".
    if let Some(c) = p.every_n.captures(rest) {
        let n: u32 = c[1].parse().unwrap_or(0);
        let (unit, word) = match c[2].to_ascii_lowercase().chars().next() {
            Some('d') => ("d", "day"),
            Some('w') => ("wk", "week"),
            _ => ("mo", "month"),
        };
        if n > 0 {
            let f = Frequency {
                text: format!("every {n} {word}{}", if n > 1 { "s" } else { "" }),
                code: None,
                frequency: 1,
                period: n as f64,
                period_unit: unit.into(),
                when: None,
                period_max: None,
            };
            consider(c.get(0).map_or(0, |m| m.start()), f);
        }
    }
    // "5 days per week".
    if let Some(c) = p.days_a_week.captures(rest) {
        let n: u32 = c[1].parse().unwrap_or(1);
        let f = Frequency {
            text: format!("{n} days a week"),
            code: None,
            frequency: n,
            period: 1.0,
            period_unit: "wk".into(),
            when: None,
            period_max: None,
        };
        consider(c.get(0).map_or(0, |m| m.start()), f);
    }
    for (re, spec) in &p.frequencies {
        if let Some(m) = re.find(rest) {
            consider(
                m.start(),
                Frequency {
                    text: spec.text.to_string(),
                    code: spec.code.map(str::to_string),
                    frequency: spec.frequency,
                    period: spec.period,
                    period_unit: spec.unit.to_string(),
                    when: spec.when.map(str::to_string),
                    period_max: None,
                },
            );
        }
    }
    o.frequency = best.map(|(_, f)| f);
    o.prn = p.prn.is_match(rest);
    o.duration = p.duration.captures(rest).map(|c| format!("{} {}", &c[1], c[2].to_lowercase()));
    o.extended = p.extended.is_match(rest);
    o.delayed = p.delayed.is_match(rest);
    o.continuous = p.continuous.is_match(rest);
    o.sig_route = p.sig_route.captures(rest).and_then(|c| c.get(1)).map(|m| (m.as_str().to_uppercase(), m.start()));
    o
}

/// A dose or a frequency written before the drug, in prose: "after 15 mg meloxicam", "given 12 mg
/// of X", "40 mg/day of X", "a single 200 mg intravenous dose of X", "twice-a-day application of
/// X", "continuous X infusion". `before` is the clause up to the drug (no other drug in it). Only
/// the dose (never a strength: an amount given is not a product's strength), its quantity, the
/// frequency and whether it is continuous are read.
pub fn order_before(before: &str) -> Order {
    static RE: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (dose, freq) = RE.get_or_init(|| {
        // Words between a dose and its drug. Not "with" ("calcium 600 mg with vitamin D" is the
        // calcium's), nor "total" or "cumulative" (a sum is no administration), nor a dose form
        // ("two 500 mg tablets": the strength).
        let gap = r"(?:(?:a|an|the|single|daily|accidental|bolus|intravenous|iv|i\.v\.|oral|intramuscular|subcutaneous|dose|doses|dosage|injections?|infusions?|applications?|administrations?|dosing|use|treatment|therapy|of)\s+)";
        (
            Regex::new(&format!(
                r"(?i)(?:^|[\s(])((\d+(?:\.\d+)?)(\s*(?:-|to|and)\s*\d+(?:\.\d+)?)?\s*-?\s*(?:mg|mcg|µg|ug|g|units?|iu|meq)(?:\s*/\s*(?:kg|m2|m²)(?:\s*/\s*(?:d|day|h))?|\s*/\s*(?:d|day))?)\s+{gap}{{0,4}}$"
            ))
            .expect("dose before"),
            Regex::new(&format!(
                r"(?i)\b(twice[- ]a[- ]day|twice[- ]daily|once[- ]daily|once[- ]a[- ]day|three[- ]times[- ]daily|daily|weekly|monthly|nightly|every[- ]other[- ]day|continuous)\s+{gap}{{0,4}}$"
            ))
            .expect("frequency before"),
        )
    });
    static COUNT_BEFORE: OnceLock<Regex> = OnceLock::new();
    let count_before = COUNT_BEFORE.get_or_init(|| {
        Regex::new(
            r"(?i)(?:\b(?:two|three|four|five|six|ten|several|multiple|\d+)\s*(?:x|×)?|\btotal|\bcumulative)\s*$",
        )
        .expect("count before")
    });
    let mut o = Order::default();
    if let Some(c) = dose.captures(before) {
        // "two 500 mg tablets", "30 x 500 mg": a count of units of a strength, not a dose.
        let counted = count_before.is_match(&before[..c.get(1).expect("dose").start()]);
        if !counted {
            let written = c[1].split_whitespace().collect::<Vec<_>>().join(" ");
            // A range ("2-4 mg of X") is written as such, with no single quantity.
            if c.get(3).is_none() {
                o.dose_quantity = parse_order(&format!(" {}", written.replacen('-', " ", 1))).dose_quantity;
            }
            o.dose = Some(written);
        }
    }
    if let Some(c) = freq
        .captures(before)
        .filter(|c| !before[..c.get(1).expect("freq").start()].trim_end().to_lowercase().ends_with("total"))
    {
        let read = parse_order(&format!(" {} ", c[1].replace('-', " ")));
        o.frequency = read.frequency;
        o.continuous = read.continuous || c[1].eq_ignore_ascii_case("continuous");
    }
    o
}

/// A duration written before the drug: "2 years of twice-a-day application of dipivefrin", "a
/// 3-day course of amoxicillin", "after five weeks of oral methylprednisolone". `before` is the
/// clause up to the drug.
pub fn duration_before(before: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(&format!(
            r"(?i)\b({COUNT})[- ](hours?|days?|weeks?|months?|years?)(?:\s+course)?\s+of\s+(?:(?:continuous|oral|intravenous|iv|daily|twice-a-day|once-daily|high-dose|low-dose|the|treatment|therapy|administration|application|use|taking|receiving|with|of)\s+){{0,5}}$"
        ))
        .expect("duration before")
    });
    let c = re.captures(before)?;
    Some(format!("{} {}", &c[1], c[2].to_lowercase()))
}

/// What the words around a drug say of its order: `stopped` ("discontinued metformin",
/// "lisinopril was discontinued", "stopped taking X") or `on-hold` ("hold warfarin", "metoprolol
/// was held", "aspirin (held)"). `before` is the clause up to the drug, `after` the clause from the
/// end of its order up to the next drug.
pub fn order_status(before: &str, after: &str, next_drug_follows: bool) -> Option<&'static str> {
    static BEFORE: OnceLock<Regex> = OnceLock::new();
    static AFTER: OnceLock<Regex> = OnceLock::new();
    let before_re = BEFORE.get_or_init(|| {
        Regex::new(
            r"(?i)\b(discontinu(?:e|ed|ing)|d/c(?:'?d)?|stop(?:ped|ping)?(?:\s+taking)?|ceased|no\s+longer\s+(?:taking|on)|(?:came|taken)\s+off|hold|held|holding|paus(?:e|ed)|suspend(?:ed)?)(?:\s+(?:the|his|her|their|all|any|of|on))*[\s:]*$",
        )
        .expect("status before")
    });
    let after_re = AFTER.get_or_init(|| {
        Regex::new(
            r"(?i)^(?:\)?\s*|[^.;:]{0,40}?(?:\b(?:was|were|has\s+been|have\s+been|had\s+been|is|are|being|now)\s+|\(|-\s*|,\s*))(discontinued|stopped|d/c'?d|ceased|withdrawn|held|on\s+hold|suspended|paused)\b",
        )
        .expect("status after")
    });
    static CONDITIONAL: OnceLock<Regex> = OnceLock::new();
    let conditional = CONDITIONAL.get_or_init(|| {
        Regex::new(r"(?i)\b(?:if|when|unless|for\s+(?:sbp|dbp|hr|bp|map|glucose|k|potassium|inr|plt|platelets))\b")
            .expect("conditional")
    });
    // "Hold lisinopril if SBP < 100": an instruction for later, not the order's state.
    if conditional.is_match(after) {
        return None;
    }
    let word =
        before_re.captures(before).map(|c| c.get(1).map_or("", |m| m.as_str()).to_lowercase()).or_else(|| {
            let c = after_re.captures(after)?;
            let m = c.get(1)?;
            // "aspirin 81 mg daily, stopped clopidogrel": the word opens the next drug's entry.
            if next_drug_follows && after[m.end()..].trim().is_empty() {
                return None;
            }
            // "X for prophylaxis, and it was discontinued": another subject said it.
            let between = format!(" {} ", after[..m.start()].to_lowercase());
            let other = [" and ", " it ", " which ", " but ", " they ", " this ", " he ", " she "];
            (!other.iter().any(|w| between.contains(w))).then(|| m.as_str().to_lowercase())
        })?;
    let on_hold = ["hold", "held", "holding", "on hold", "pause", "paused", "suspend", "suspended"];
    let word = word.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(if on_hold.contains(&word.as_str()) { "on-hold" } else { "stopped" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_written_before_or_after_the_drug() {
        let o = parse_order(" 300 mg/day for one year was prescribed");
        assert_eq!(o.duration.as_deref(), Some("one year"));
        assert_eq!(parse_order(" 800mg once daily for 5-10 days").duration.as_deref(), Some("5-10 days"));
        assert_eq!(parse_order(" for greater than 1 year").duration.as_deref(), Some("1 year"));
        assert_eq!(duration_before("after at least 2 years of twice-a-day application of "), Some("2 years".into()));
        assert_eq!(duration_before("A 3-day course of "), Some("3 day".into()));
        assert_eq!(
            duration_before("After five weeks of continuous oral administration of "),
            Some("five weeks".into())
        );
        assert_eq!(duration_before("two doses of "), None);
        assert_eq!(duration_before("after 2 days of nausea and vomiting started "), None, "a symptom's");
    }

    #[test]
    fn what_the_text_says_of_an_order() {
        assert_eq!(order_status("Discontinued ", " 500 mg BID.", false), Some("stopped"));
        assert_eq!(order_status("", " was discontinued due to cough.", false), Some("stopped"));
        assert_eq!(order_status("She stopped taking ", " last month.", false), Some("stopped"));
        assert_eq!(order_status("Hold ", " for 3 days before surgery.", false), Some("on-hold"));
        assert_eq!(order_status("", " 81 mg daily (held).", false), Some("on-hold"));
        assert_eq!(order_status("", " was held for bradycardia.", false), Some("on-hold"));
        assert_eq!(order_status("", " 40 mg daily - stopped on admission.", false), Some("stopped"));
        // A note's shorthand: the state right after the order, no verb.
        assert_eq!(order_status("", " held for procedure.", false), Some("on-hold"));
        assert_eq!(order_status("", " discontinued 3/2.", false), Some("stopped"));
        assert_eq!(order_status("", " held if INR > 3.", false), None, "an instruction");
        assert_eq!(order_status("", " stopped", true), None, "the next drug's entry");
        assert_eq!(order_status("", " daily for pain stopped", false), None, "not right after the order");
        assert_eq!(order_status("Continue ", " 10 mg daily.", false), None);
        assert_eq!(order_status("Stop smoking. Start ", " 10 mg daily.", false), None);
        assert_eq!(order_status("", " 10 mg daily; the rash stopped.", false), None, "another clause");
        assert_eq!(order_status("", " for prophylaxis, and it was discontinued", false), None, "another subject");
        assert_eq!(order_status("Continue ", " 81 mg daily, stopped ", true), None, "the next drug's");
        assert_eq!(order_status("Hold ", " if SBP < 100.", false), None, "conditional");
    }

    #[test]
    fn reads_a_typical_order() {
        let o = parse_order(" 10 mg PO daily");
        assert_eq!(o.strength, Some((10.0, "mg".into())));
        assert_eq!(o.strength_text.as_deref(), Some("10 mg"));
        let f = o.frequency.unwrap();
        assert_eq!(
            (f.text.as_str(), f.code.as_deref(), f.frequency, f.period, f.period_unit.as_str()),
            ("daily", Some("QD"), 1, 1.0, "d")
        );
        assert!(!o.prn && !o.extended);
    }

    #[test]
    fn reads_dose_frequency_prn_and_duration() {
        let o = parse_order(" 5 mg tablet, take 1 tablet by mouth every 6 hours as needed for pain for 5 days");
        assert_eq!(o.dose.as_deref(), Some("1 tablet"));
        assert_eq!(o.dose_quantity, Some((1.0, "{tbl}".into())));
        assert_eq!(o.frequency.unwrap().code.as_deref(), Some("Q6H"));
        assert!(o.prn);
        assert_eq!(o.duration.as_deref(), Some("5 days"));
        let o = parse_order(" ER 500 mg twice daily with meals");
        assert!(o.extended);
        assert_eq!(o.frequency.unwrap().code.as_deref(), Some("BID"));
        let o = parse_order(" 0.09 mg/actuat inhaler 2 puffs q4h prn wheezing");
        assert_eq!(o.dose.as_deref(), Some("2 puffs"));
        assert_eq!(o.frequency.unwrap().text, "q4h");
        let o = parse_order(" 40mg PO QHS");
        assert_eq!(o.strength, Some((40.0, "mg".into())));
        assert_eq!(o.frequency.unwrap().when.as_deref(), Some("HS"));
    }

    #[test]
    fn doses_with_fractions_and_ranges_and_frequencies_as_written_in_us_uk_and_indian_practice() {
        assert_eq!(
            parse_order(" 0.2 mgs -- 1 and 1/2 tabs po ghs").frequency.and_then(|f| f.when).as_deref(),
            Some("HS")
        );
        let o = parse_order(" 0.2 mgs -- 1 and 1/2 tabs po qhs");
        assert_eq!(o.strength, Some((0.2, "mg".into())), "mgs is mg");
        assert_eq!((o.dose.as_deref(), o.dose_quantity.clone()), (Some("1 and 1/2 tabs"), Some((1.5, "{tbl}".into()))));
        assert_eq!(o.frequency.unwrap().when.as_deref(), Some("HS"));
        assert_eq!(parse_order(" 1 1/2 tablets daily").dose_quantity, Some((1.5, "{tbl}".into())));
        assert_eq!(parse_order(" half tablet daily").dose_quantity, Some((0.5, "{tbl}".into())));
        let o = parse_order(" 1-2 puffs q4-6h PRN");
        assert_eq!((o.dose_quantity, o.dose_range), (None, Some((1.0, 2.0, "{puff}".into()))));
        let f = o.frequency.unwrap();
        assert_eq!((f.text.as_str(), f.period, f.period_max, f.code), ("q4-6h", 4.0, Some(6.0), None));
        assert!(o.prn);
        let code = |order: &str| parse_order(order).frequency.and_then(|f| f.code);
        for (order, want) in [
            (" 500 mg BD", "BID"),
            (" 500 mg b.d.", "BID"),
            (" 1 tab TDS", "TID"),
            (" 1 tab QDS", "QID"),
            (" 20 mg OD", "QD"),
            (" 10 mg mane", "AM"),
            (" 10 mg every 12 hours", ""),
            (" 2 mg q2h", "Q2H"),
            (" 10 mg once/week", "WK"),
            (" 10 mg once weekly", "WK"),
            (" 5 mg every other day", "QOD"),
        ] {
            assert_eq!(code(order).unwrap_or_default(), want, "{order}");
        }
        let f = parse_order(" 10 mg every 12 hours").frequency.unwrap();
        assert_eq!((f.period, f.period_unit.as_str()), (12.0, "h"));
        let f = parse_order(" 70 mg twice a week").frequency.unwrap();
        assert_eq!((f.frequency, f.period_unit.as_str()), (2, "wk"));
        let f = parse_order(" 1 g every 3 weeks").frequency.unwrap();
        assert_eq!((f.period, f.period_unit.as_str()), (3.0, "wk"));
    }

    #[test]
    fn doses_per_body_size_or_per_day_are_doses_never_strengths() {
        let o = parse_order(" (1500 mg/m2) was infused");
        assert_eq!((o.strength.clone(), o.dose.as_deref()), (None, Some("1500 mg/m2")));
        assert_eq!(o.dose_quantity, Some((1500.0, "mg/m2".into())));
        let o = parse_order(" (10 mg/kg/day) for two weeks");
        assert_eq!((o.dose.as_deref(), o.dose_quantity), (Some("10 mg/kg/d"), Some((10.0, "mg/kg/d".into()))));
        assert_eq!(parse_order(" 40 mg per day").dose.as_deref(), Some("40 mg/d"));
        assert_eq!(
            parse_order(" 10 mg/ml solution").strength,
            Some((10.0, "mg/ml".into())),
            "a concentration is a strength"
        );
        assert_eq!(parse_order(" 10 mg daily").strength, Some((10.0, "mg".into())));
        let o = parse_order(" 125-500 mg daily");
        assert_eq!((o.strength.clone(), o.dose.as_deref()), (None, Some("125-500 mg")), "a range is a dose");
        // "Norco 5-325 mg", "Sinemet 25-100 mg": two numbers may be a combination's strengths.
        assert_eq!((o.dose_range, o.dose_quantity), (None, None), "written, never a structured range");
        let o = parse_order(" increased from 10 mg to 20 mg daily");
        assert_eq!((o.strength.clone(), o.dose.as_deref()), (None, Some("20 mg")), "a change: the dose is the second");
        assert_eq!(o.dose_quantity, Some((20.0, "mg".into())));
        assert_eq!(parse_order(" doses ranging from 10 to 20 mg").dose.as_deref(), Some("10 to 20 mg"));
        for combination in [" 5/325 mg", " 875/125 mg", " 250/50 mcg"] {
            let o = parse_order(combination);
            assert_eq!((o.strength.clone(), o.dose_quantity.clone()), (None, None), "{combination}");
        }
        for two_ways in [" 88,100 mcg", " 10,20 mg"] {
            let o = parse_order(two_ways);
            assert_eq!((o.strength.clone(), o.dose.as_deref()), (None, Some(two_ways.trim())), "{two_ways}");
        }
        assert_eq!(parse_order(" 1,000 mcg").strength, Some((1000.0, "mcg".into())));
        assert_eq!(parse_order(" 2,5 mg").strength, Some((2.5, "mg".into())));
        assert_eq!(parse_order(" 50 mcg 2 sprays per nostril daily").dose_quantity, Some((2.0, "{spray}".into())));
        assert_eq!(parse_order(" 500 mg 2 tabs/day").dose_quantity, Some((2.0, "{tbl}".into())));
        assert!(parse_order(" 1-2 days a week").frequency.is_none_or(|f| f.frequency != 2), "a range's upper end");
        let o = parse_order(" 5,000 units subcutaneously every 8 hours");
        assert_eq!(o.strength, Some((5000.0, "unt".into())), "a thousands separator");
        assert_eq!(parse_order(" 0,5 mg").strength, Some((0.5, "mg".into())), "a decimal comma");
        let o = parse_order(" 90 mg per kg per day divided BID");
        assert_eq!((o.dose.as_deref(), o.dose_quantity), (Some("90 mg/kg/d"), Some((90.0, "mg/kg/d".into()))));
        assert_eq!(parse_order(" 5 mcg/kg/minute").dose_quantity, Some((5.0, "ug/kg/min".into())));
        assert_eq!(parse_order(" 18 units/kg/hour").dose_quantity, Some((18.0, "[iU]/kg/h".into())));
        assert_eq!(parse_order(" 10 mg/kg/24h").dose.as_deref(), Some("10 mg/kg/d"));
        assert_eq!(parse_order(" (20-25 mg/d)").dose.as_deref(), Some("20-25 mg/d"));
        assert_eq!(parse_order(" range 240 to 1440 mg per day").dose.as_deref(), Some("240 to 1440 mg/d"));
        assert_eq!(parse_order(" 4 mg twice/day").frequency.and_then(|f| f.code).as_deref(), Some("BID"));
        assert_eq!(parse_order(" 4 mg once/day").frequency.and_then(|f| f.code).as_deref(), Some("QD"));
        let f = parse_order(" 5 days per week for a nodular lesion").frequency.unwrap();
        assert_eq!((f.frequency, f.period_unit.as_str()), (5, "wk"));
        let sig = |o: &str| parse_order(o).sig_route.map(|(r, _)| r);
        assert_eq!(sig(" (1 g iv daily)").as_deref(), Some("IV"));
        assert_eq!(sig(" 40 mg po bid").as_deref(), Some("PO"));
        assert_eq!(sig(" po daily").as_deref(), Some("PO"));
        assert_eq!(parse_order(" for stage iv disease").sig_route, None, "a stage is no route");
    }

    #[test]
    fn doses_and_frequencies_written_before_the_drug() {
        let dose = |before: &str| order_before(before).dose;
        assert_eq!(dose("after 15 mg ").as_deref(), Some("15 mg"));
        assert_eq!(dose("were given 12 mg of ").as_deref(), Some("12 mg"));
        assert_eq!(dose("While 40 mg/day of ").as_deref(), Some("40 mg/day"));
        assert_eq!(dose("She received 3.8 mg cumulative dose of "), None, "a sum is no administration");
        assert_eq!(dose("Calcium 600 mg with "), None, "the calcium's");
        assert_eq!(dose("She took two 500 mg "), None, "a count of tablets of a strength");
        assert_eq!(dose("took 30 x 500 mg "), None);
        assert_eq!(order_before("2-4 mg of ").dose_quantity, None, "a range has no single quantity");
        assert!(order_before("Total daily dose of ").frequency.is_none(), "a total is no frequency");
        assert_eq!(dose("after a single 200 mg intravenous dose of ").as_deref(), Some("200 mg"));
        assert_eq!(dose("an accidental 450-mg bolus injection of ").as_deref(), Some("450-mg"));
        assert_eq!(dose("between 4.6 and 40.8 mg/kg/d of ").as_deref(), Some("4.6 and 40.8 mg/kg/d"));
        assert_eq!(order_before("after 15 mg ").dose_quantity, Some((15.0, "mg".into())));
        assert_eq!(dose("potassium was 4.5 mg and then "), None, "words between that are no dose's");
        assert_eq!(dose("15 mg of the "), Some("15 mg".into()));
        let freq = |before: &str| order_before(before).frequency.and_then(|f| f.code);
        assert_eq!(freq("after 2 years of twice-a-day application of ").as_deref(), Some("BID"));
        assert_eq!(freq("caused by a 20-mg daily ").as_deref(), Some("QD"));
        assert!(order_before("was started on continuous ").continuous);
        assert!(parse_order(" by continuous i.v. infusion").continuous);
        assert_eq!(freq("daily walks and "), None);
    }

    #[test]
    fn daily_inside_other_words_is_not_a_frequency() {
        let o = parse_order(" 81 mg");
        assert!(o.frequency.is_none());
        assert!(parse_order(" 20 mg odourless").frequency.is_none());
    }
}
