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
    pub frequency: Option<Frequency>,
    pub prn: bool,
    pub duration: Option<String>,
    /// Extended release (ER, XL, SR, 24 HR …).
    pub extended: bool,
}

struct Patterns {
    strength: Regex,
    dose: Regex,
    prn: Regex,
    duration: Regex,
    extended: Regex,
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
            strength: re(r"(?i)(?:^|[^a-z0-9.])(\d+(?:[.,]\d+)?)\s*(mg/ml|mg|mcg|µg|ug|g|units?|iu|meq|ml|%)(?:$|[^a-z0-9])"),
            dose: re(r"(?i)(?:^|[^a-z0-9])(?:take\s+|inhale\s+|apply\s+|inject\s+|give\s+)?(\d+(?:\.\d+)?|one|two|three|four|half|1/2)\s*(tabs?|tablets?|caps?|capsules?|puffs?|drops?|units?|sprays?|patch(?:es)?|ml|teaspoons?|tsp)\b"),
            prn: re(r"(?i)(?:^|[^a-z0-9])(prn|p\.r\.n\.|as needed)(?:$|[^a-z0-9])"),
            duration: re(r"(?i)(?:^|[^a-z0-9])(?:for|x|times)\s*(\d{1,3})\s*(days?|weeks?|wks?|months?)\b"),
            extended: re(r"(?i)(?:^|[^a-z0-9])(ER|XR|XL|SR|CR|ER/XL|extended[- ]release|sustained[- ]release|24\s*hr?)(?:$|[^a-z0-9])"),
            frequencies: vec![
                freq(r"q\.?\s*(?:4|four)\s*h(?:rs?|ours?)?|every\s+4\s+hours?", f("q4h", Some("Q4H"), 1, 4.0, "h", None)),
                freq(r"q\.?\s*6\s*h(?:rs?|ours?)?|every\s+6\s+hours?", f("q6h", Some("Q6H"), 1, 6.0, "h", None)),
                freq(r"q\.?\s*8\s*h(?:rs?|ours?)?|every\s+8\s+hours?", f("q8h", Some("Q8H"), 1, 8.0, "h", None)),
                freq(r"q\.?\s*12\s*h(?:rs?|ours?)?|every\s+12\s+hours?", f("q12h", None, 1, 12.0, "h", None)),
                freq(r"q\.?\s*2\s*h(?:rs?|ours?)?|every\s+2\s+hours?", f("q2h", Some("Q2H"), 1, 2.0, "h", None)),
                freq(r"q\.?\s*3\s*h(?:rs?|ours?)?|every\s+3\s+hours?", f("q3h", Some("Q3H"), 1, 3.0, "h", None)),
                freq(r"b\.?i\.?d\.?|twice\s+(?:a\s+)?day|twice\s+daily|2\s*(?:x|times)\s*(?:a\s+)?(?:day|daily)", f("BID", Some("BID"), 2, 1.0, "d", None)),
                freq(r"t\.?i\.?d\.?|three\s+times\s+(?:a\s+)?(?:day|daily)|3\s*(?:x|times)\s*(?:a\s+)?(?:day|daily)", f("TID", Some("TID"), 3, 1.0, "d", None)),
                freq(r"q\.?i\.?d\.?|four\s+times\s+(?:a\s+)?(?:day|daily)|4\s*(?:x|times)\s*(?:a\s+)?(?:day|daily)", f("QID", Some("QID"), 4, 1.0, "d", None)),
                freq(r"q\.?o\.?d\.?|every\s+other\s+day", f("every other day", Some("QOD"), 1, 2.0, "d", None)),
                freq(r"q\.?h\.?s\.?|at\s+bedtime|nightly|every\s+night|at\s+night|hs", f("nightly", None, 1, 1.0, "d", Some("HS"))),
                freq(r"q\.?am|every\s+morning|in\s+the\s+morning", f("every morning", Some("AM"), 1, 1.0, "d", Some("MORN"))),
                freq(r"q\.?pm|every\s+evening|in\s+the\s+evening", f("every evening", Some("PM"), 1, 1.0, "d", Some("EVE"))),
                freq(r"weekly|once\s+(?:a\s+)?week|every\s+week|q\.?\s*week|q\.?wk", f("weekly", Some("WK"), 1, 1.0, "wk", None)),
                freq(r"monthly|once\s+a\s+month|every\s+month", f("monthly", Some("MO"), 1, 1.0, "mo", None)),
                freq(r"once\s+daily|once\s+a\s+day|daily|q\.?\s*d\.?|q\.?\s*day|every\s+day|1\s*(?:x|time)\s*(?:a\s+)?day|od", f("daily", Some("QD"), 1, 1.0, "d", None)),
            ],
        }
    })
}

fn word_number(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().as_str() {
        "one" => Some(1.0),
        "two" => Some(2.0),
        "three" => Some(3.0),
        "four" => Some(4.0),
        "half" | "1/2" => Some(0.5),
        other => other.parse().ok(),
    }
}

/// Reads the order written in `rest` (the text after the drug name).
pub fn parse_order(rest: &str) -> Order {
    let p = patterns();
    let mut o = Order::default();
    let mut strength_quantity = None;
    if let Some(c) = p.strength.captures(rest) {
        let value = c[1].replace(',', ".");
        let unit = crate::units::dose(&c[2]);
        let rxnorm = unit.and_then(|u| u.rxnorm).map_or_else(|| c[2].to_lowercase(), str::to_string);
        if let Ok(v) = value.parse::<f64>() {
            o.strength_text = Some(format!("{value} {}", c[2].to_lowercase()));
            o.strength = Some((v, rxnorm));
            // Without a dose of its own, one administration is the strength.
            strength_quantity = unit.and_then(|u| u.ucum).map(|ucum| (v, ucum.to_string()));
        }
    }
    if let Some(c) = p.dose.captures(rest) {
        o.dose = Some(format!("{} {}", &c[1], &c[2]).to_lowercase());
        if let Some((v, u)) = word_number(&c[1]).zip(crate::units::dose(&c[2]).and_then(|u| u.ucum)) {
            o.dose_quantity = Some((v, u.to_string()));
        }
    }
    o.dose_quantity = o.dose_quantity.or(strength_quantity);
    // The earliest frequency phrase in the order wins; ties go to the more specific pattern.
    let mut best: Option<(usize, FreqSpec)> = None;
    for (re, spec) in &p.frequencies {
        if let Some(m) = re.find(rest) {
            if best.is_none_or(|(pos, _)| m.start() < pos) {
                best = Some((m.start(), *spec));
            }
        }
    }
    o.frequency = best.map(|(_, s)| Frequency {
        text: s.text.to_string(),
        code: s.code.map(str::to_string),
        frequency: s.frequency,
        period: s.period,
        period_unit: s.unit.to_string(),
        when: s.when.map(str::to_string),
    });
    o.prn = p.prn.is_match(rest);
    o.duration = p.duration.captures(rest).map(|c| format!("{} {}", &c[1], c[2].to_lowercase()));
    o.extended = p.extended.is_match(rest);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn daily_inside_other_words_is_not_a_frequency() {
        let o = parse_order(" 81 mg");
        assert!(o.frequency.is_none());
        assert!(parse_order(" 20 mg odourless").frequency.is_none());
    }
}
