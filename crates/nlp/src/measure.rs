//! Vital signs and laboratory results with their values and UCUM units.
//!
//! Vital signs are found by pattern ("BP 128/82", "HR 72 bpm", "T 98.6 F", "SpO2 97% on RA").
//! Labs are found where a lab name from the lexicon ("A1c", "Cr", "hemoglobin") is followed by a
//! number, optionally a unit, a reference range and an H/L flag, which also reads the rows of a
//! lab table. Units are mapped to UCUM codes from the curated table; a unit paperchart cannot map
//! is left out rather than guessed.

use std::sync::OnceLock;

use regex::Regex;

use super::terminology::Terminology;
use super::{Attrs, Code, Component, Entity, EntityType, Subtype, SYSTEM_LOINC};

struct Vital {
    re: Regex,
    kind: VitalKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum VitalKind {
    BloodPressure,
    HeartRate,
    RespRate,
    Temperature,
    SpO2,
    Weight,
    Height,
    /// Feet and inches ("5' 10\"", "5 ft 4 in"): group 1 feet, group 2 inches.
    HeightFeet,
    Bmi,
    Pain,
}

fn vitals_table() -> &'static [Vital] {
    static T: OnceLock<Vec<Vital>> = OnceLock::new();
    T.get_or_init(|| {
        let v = |re: &str, kind| Vital { re: Regex::new(re).expect("vital pattern"), kind };
        let sep = r"\s*(?:(?:was|of|is|at)\s+)?[:=]?\s*";
        vec![
            v(&format!(r"(?i)\b(?:blood\s+pressure|BP|B/P){sep}(\d{{2,3}})\s*/\s*(\d{{2,3}})(?:\s*(mm\s?Hg))?"), VitalKind::BloodPressure),
            v(&format!(r"(?i)\b(?:heart\s+rate|pulse(?:\s+rate)?|HR|P){sep}(\d{{2,3}}(?:\.\d{{1,2}})?)(?:\s*(bpm|beats\s*(?:/|per)\s*min(?:ute)?|\{{beats\}}/min|/min))?"), VitalKind::HeartRate),
            v(&format!(r"(?i)\b(?:resp(?:iratory)?\s+rate|resp|RR|R){sep}(\d{{1,2}}(?:\.\d{{1,2}})?)(?:\s*(breaths\s*(?:/|per)\s*min(?:ute)?|\{{breaths\}}/min|/min))?"), VitalKind::RespRate),
            v(&format!(r"(?i)\b(?:temperature|temp|Tmax|T){sep}(\d{{2,3}}(?:\.\d{{1,2}})?)\s*(?:°|deg(?:rees)?)?\s*([FC])?\b"), VitalKind::Temperature),
            v(&format!(r"(?i)\b(?:Sp[O0]2|Sa[O0]2|[O0]2\s*sat(?:uration)?|oxygen\s+saturation(?:\s+in\s+arterial\s+blood(?:\s+by\s+pulse\s+oximetry)?)?|pulse\s+ox(?:imetry)?|sats?){sep}(\d{{2,3}}(?:\.\d{{1,2}})?)\s*%"), VitalKind::SpO2),
            v(&format!(r"(?i)\b(?:weight|wt){sep}(\d{{1,3}}(?:\.\d+)?)\s*(kg|lbs?|pounds)\b"), VitalKind::Weight),
            v(&format!(r"(?i)\b(?:height|ht){sep}(\d{{1,3}}(?:\.\d+)?)\s*(cm|in|inches)\b"), VitalKind::Height),
            v(&format!(r#"(?i)\b(?:height|ht){sep}([3-7])\s*(?:'|′|ft\.?|feet|foot)\s*(?:(\d{{1,2}}(?:\.\d)?)\s*(?:"|″|''|in\.?|inches)?)?"#), VitalKind::HeightFeet),
            v(&format!(r"(?i)\b(?:BMI|body\s+mass\s+index){sep}(\d{{2}}(?:\.\d+)?)(?:\s*kg/m2|\s*kg/m²)?"), VitalKind::Bmi),
            v(&format!(r"(?i)\bpain(?:\s+(?:score|scale|level|severity))?{sep}(\d{{1,2}}(?:\.\d)?)\s*/\s*10\b"), VitalKind::Pain),
        ]
    })
}

fn loinc(term: &Terminology, code: &str) -> Code {
    term.loinc_code(code).unwrap_or_else(|| Code::new(SYSTEM_LOINC, code, code))
}

fn num(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Does `name` alone name a vital sign ("BP", "Pulse", "Temp", "SpO2", "Weight")? Read as a
/// flowsheet's column header: the name followed by a typical value of each kind is a vital sign.
pub fn is_vital_name(name: &str, term: &Terminology) -> bool {
    if name.is_empty() || name.len() > 40 {
        return false;
    }
    ["120/80", "72", "98.6", "97%", "80 kg", "170 cm", "25.1", "3/10"]
        .iter()
        .any(|v| vitals(&format!("{name} {v}"), term).iter().any(|e| e.start == 0 && e.end > name.len()))
}

/// Vital signs in `text`, as TEST/VITAL entities with byte offsets.
pub fn vitals(text: &str, term: &Terminology) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    for vital in vitals_table() {
        for caps in vital.re.captures_iter(text) {
            let whole = caps.get(0).expect("match");
            // A number cut short is a wrong value: "67.6" is never read as 67, nor "1234" as 123.
            let value_end = caps.get(1).map_or(whole.end(), |m| m.end());
            let next = &text.as_bytes()[value_end..];
            if next.first().is_some_and(u8::is_ascii_digit)
                || (next.first() == Some(&b'.') && next.get(1).is_some_and(u8::is_ascii_digit))
            {
                continue;
            }
            // "Body mass index 30+ - obesity" names a condition, not a measurement.
            if text[whole.end()..].starts_with('+') {
                continue;
            }
            // One-letter labels (P, R, T) only count inside a line of vitals.
            let label = &text[whole.start()..];
            let one_letter = label.len() > 1
                && label.as_bytes()[0].is_ascii_alphabetic()
                && !label.as_bytes()[1].is_ascii_alphabetic();
            if one_letter && !line_has_other_vitals(text, whole.start()) {
                continue;
            }
            let g = |i: usize| caps.get(i).map(|m| m.as_str());
            let v1 = g(1).and_then(num);
            let Some(mut value) = v1 else { continue };
            let mut attrs = Attrs::default();
            let (codes, unit, ok) = match vital.kind {
                VitalKind::BloodPressure => {
                    let Some(dia) = g(2).and_then(num) else {
                        continue;
                    };
                    attrs.components = vec![
                        Component { code: loinc(term, "8480-6"), value, unit: "mm[Hg]".into() },
                        Component { code: loinc(term, "8462-4"), value: dia, unit: "mm[Hg]".into() },
                    ];
                    (
                        vec![loinc(term, "85354-9")],
                        "mm[Hg]",
                        (50.0..=300.0).contains(&value) && (20.0..=200.0).contains(&dia) && dia < value,
                    )
                }
                VitalKind::HeartRate => (vec![loinc(term, "8867-4")], "/min", (20.0..=300.0).contains(&value)),
                VitalKind::RespRate => (vec![loinc(term, "9279-1")], "/min", (4.0..=80.0).contains(&value)),
                VitalKind::Temperature => {
                    let unit = match g(2).map(|u| u.to_ascii_uppercase()) {
                        Some(u) if u == "C" => "Cel",
                        Some(_) => "[degF]",
                        None if (86.0..=112.0).contains(&value) => "[degF]",
                        None if (30.0..=45.0).contains(&value) => "Cel",
                        None => continue,
                    };
                    let ok =
                        if unit == "Cel" { (30.0..=45.0).contains(&value) } else { (86.0..=112.0).contains(&value) };
                    (vec![loinc(term, "8310-5")], unit, ok)
                }
                VitalKind::SpO2 => {
                    (vec![loinc(term, "2708-6"), loinc(term, "59408-5")], "%", (50.0..=100.0).contains(&value))
                }
                VitalKind::Weight => {
                    let unit = if g(2).is_some_and(|u| u.eq_ignore_ascii_case("kg")) { "kg" } else { "[lb_av]" };
                    (vec![loinc(term, "29463-7")], unit, value > 0.5)
                }
                VitalKind::Height => {
                    let unit = if g(2).is_some_and(|u| u.eq_ignore_ascii_case("cm")) { "cm" } else { "[in_i]" };
                    (vec![loinc(term, "8302-2")], unit, value > 10.0)
                }
                VitalKind::HeightFeet => {
                    let inches = g(2).and_then(num).unwrap_or(0.0);
                    value = value * 12.0 + inches;
                    (vec![loinc(term, "8302-2")], "[in_i]", inches < 12.0)
                }
                VitalKind::Bmi => (vec![loinc(term, "39156-5")], "kg/m2", (10.0..=90.0).contains(&value)),
                VitalKind::Pain => (vec![loinc(term, "72514-3")], "{score}", (0.0..=10.0).contains(&value)),
            };
            if !ok {
                continue;
            }
            if vital.kind != VitalKind::BloodPressure {
                attrs.value = Some(value);
            }
            attrs.unit = Some(unit.to_string());
            if out.iter().any(|e| e.start < whole.end() && whole.start() < e.end) {
                continue;
            }
            out.push(Entity {
                kind: EntityType::Test,
                subtype: Some(Subtype::Vital),
                start: whole.start(),
                end: whole.end(),
                text: whole.as_str().to_string(),
                codes,
                assertion: Default::default(),
                attrs,
                confidence: None,
                section: None,
            });
        }
    }
    out.sort_by_key(|e| e.start);
    out
}

fn line_has_other_vitals(text: &str, at: usize) -> bool {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    let line = &text[start..end];
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:BP|HR|RR|SpO2|temp|pulse|vitals?|weight|wt)\b|\d{2,3}/\d{2,3}").expect("pattern")
    });
    re.find_iter(line).count() >= 1
}

/// Reads value, unit, reference range and flag written after a lab name ending at `end`. Returns
/// where the value and its unit end, and what was read.
pub fn lab_result(text: &str, end: usize, term: &Terminology) -> Option<(usize, Attrs)> {
    static VALUE: OnceLock<Regex> = OnceLock::new();
    static RANGE: OnceLock<Regex> = OnceLock::new();
    static FLAG: OnceLock<Regex> = OnceLock::new();
    let value_re = VALUE.get_or_init(|| {
        Regex::new(r"^[ \t]*(?:\([^)\n]{1,12}\)[ \t]*)?(?:(?:level|value|result|was|is|of|=|:|-)[ \t]*){0,3}(<=|>=|<|>|≤|≥)?[ \t]*(\d{1,3}(?:,\d{3})+(?:\.\d{1,4})?|\d{1,5}(?:\.\d{1,4})?)\b")
            .expect("value pattern")
    });
    let range_re = RANGE.get_or_init(|| {
        Regex::new(
            r"^[ \t]*(?:(?:ref(?:erence)?(?:\s*range)?|normal|nl)[:\s]*)?\(?(\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?)\)?",
        )
        .expect("range pattern")
    });
    let flag_re =
        FLAG.get_or_init(|| Regex::new(r"^[ \t]*\(?(HH|LL|H|L|High|Low|HIGH|LOW)\)?\b").expect("flag pattern"));

    let rest = &text[end..];
    let caps = value_re.captures(rest)?;
    let vm = caps.get(2)?;
    // A date or a ratio is not a result: "Hgb 12/03/2024"; nor is a number cut at a comma that
    // is no thousands' ("Creatinine 1,25 mg/dl": a decimal comma, or two values).
    let after_value = &rest[vm.end()..];
    if after_value.starts_with('/')
        || after_value.starts_with(',') && after_value[1..].starts_with(|c: char| c.is_ascii_digit())
        || after_value.starts_with("-") && after_value[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let mut attrs = Attrs { value: num(&vm.as_str().replace(',', "")), ..Default::default() };
    attrs.comparator = caps.get(1).map(|m| match m.as_str() {
        "≤" => "<=".to_string(),
        "≥" => ">=".to_string(),
        other => other.to_string(),
    });
    let mut pos = end + caps.get(0)?.end();
    // Unit: the longest written form that matches here and ends at a word boundary.
    let here = &text[pos..];
    let trimmed = here.trim_start_matches([' ', '\t']);
    let skip = here.len() - trimmed.len();
    // "F"/"C" alone are temperature units, not lab units.
    if let Some((len, ucum)) = term.units.at(trimmed, &["F", "C", "in"]) {
        attrs.unit = Some(ucum.to_string());
        pos += skip + len;
    } else if let Some(c) = flag_re.captures(here) {
        // A flag between the value and its unit ("Potassium 5.8 (H) mmol/L", "K 2.9 L mmol/L").
        // (The pattern's match may stop before its closing bracket.)
        let after = here[c.get(0)?.end()..].strip_prefix(')').unwrap_or(&here[c.get(0)?.end()..]);
        let unit_at = after.trim_start_matches([' ', '\t']);
        if let Some((len, ucum)) = term.units.at(unit_at, &["F", "C", "in"]) {
            attrs.flag = Some(c[1].to_uppercase().chars().next()?.to_string());
            attrs.unit = Some(ucum.to_string());
            pos += here.len() - unit_at.len() + len;
        }
    }
    let value_end = pos;
    for _ in 0..2 {
        if attrs.range.is_none() {
            if let Some(c) = range_re.captures(&text[pos..]) {
                attrs.range = Some(c[1].split_whitespace().collect::<String>());
                pos += c.get(0)?.end();
                continue;
            }
        }
        if attrs.flag.is_none() {
            if let Some(c) = flag_re.captures(&text[pos..]) {
                attrs.flag = Some(c[1].to_uppercase().chars().next()?.to_string());
                pos += c.get(0)?.end();
                continue;
            }
        }
        break;
    }
    Some((value_end, attrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term() -> &'static Terminology {
        super::super::terminology::shared_for_tests()
    }

    #[test]
    fn reads_common_vitals() {
        let text = "Vitals: BP 128/82 mmHg, HR 72 bpm, RR 16, T 98.6 F, SpO2 97% on RA, Wt 82.5 kg, BMI 27.4";
        let v = vitals(text, term());
        let got: Vec<(String, Option<f64>, Option<String>)> =
            v.iter().map(|e| (e.codes[0].code.clone(), e.attrs.value, e.attrs.unit.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("85354-9".into(), None, Some("mm[Hg]".into())),
                ("8867-4".into(), Some(72.0), Some("/min".into())),
                ("9279-1".into(), Some(16.0), Some("/min".into())),
                ("8310-5".into(), Some(98.6), Some("[degF]".into())),
                ("2708-6".into(), Some(97.0), Some("%".into())),
                ("29463-7".into(), Some(82.5), Some("kg".into())),
                ("39156-5".into(), Some(27.4), Some("kg/m2".into())),
            ]
        );
        let bp = &v[0].attrs.components;
        assert_eq!((bp[0].code.code.as_str(), bp[0].value), ("8480-6", 128.0));
        assert_eq!((bp[1].code.code.as_str(), bp[1].value), ("8462-4", 82.0));
    }

    #[test]
    fn single_letter_labels_need_a_vitals_line() {
        assert!(vitals("Plan: see P 45 of the guide", term()).is_empty());
        assert_eq!(vitals("T 37.2 P 88 BP 110/70", term()).len(), 3);
        assert!(vitals("BP 80/120", term()).is_empty(), "diastolic above systolic is not a reading");
    }

    #[test]
    fn height_in_feet_and_inches_is_inches() {
        for (text, inches) in [("Height: 5' 10\"", 70.0), ("Ht 5 ft 4 in", 64.0), ("Height 6'", 72.0)] {
            let v = vitals(text, term());
            assert_eq!(v.len(), 1, "{text}");
            assert_eq!((v[0].attrs.value, v[0].attrs.unit.as_deref()), (Some(inches), Some("[in_i]")), "{text}");
        }
        assert!(vitals("Height 5' 14\"", term()).is_empty(), "14 inches is no part of a foot");
    }

    #[test]
    fn thousands_are_read_whole_and_a_decimal_comma_is_no_value() {
        let t = term();
        let (_, a) = lab_result("BNP 1,250 pg/mL", 3, t).unwrap();
        assert_eq!((a.value, a.unit.as_deref()), (Some(1250.0), Some("pg/mL")));
        let (_, a) = lab_result("Platelets 250,000 /uL", "Platelets".len(), t).unwrap();
        assert_eq!(a.value, Some(250000.0));
        assert!(lab_result("Creatinine 1,25 mg/dl", "Creatinine".len(), t).is_none(), "never 1");
        // Common tests as notes write them, with their units.
        let (_, a) = lab_result("ESR 55 mm/hr", 3, t).unwrap();
        assert_eq!((a.value, a.unit.as_deref()), (Some(55.0), Some("mm/h")));
        let (_, a) = lab_result("PTT 38.2 sec", 3, t).unwrap();
        assert_eq!((a.value, a.unit.as_deref()), (Some(38.2), Some("s")));
        let (_, a) = lab_result("Na 134, K 4.1", 2, t).unwrap();
        assert_eq!(a.value, Some(134.0), "a list's comma and space");
    }

    #[test]
    fn reads_lab_results_with_unit_range_and_flag() {
        let t = term();
        let text = "Hemoglobin A1c 7.2 % 4.0-5.6 H";
        let (_, a) = lab_result(text, "Hemoglobin A1c".len(), t).unwrap();
        assert_eq!(
            (a.value, a.unit.as_deref(), a.range.as_deref(), a.flag.as_deref()),
            (Some(7.2), Some("%"), Some("4.0-5.6"), Some("H"))
        );
        let text = "Cr 1.1 mg/dL";
        let (_, a) = lab_result(text, 2, t).unwrap();
        assert_eq!((a.value, a.unit.as_deref()), (Some(1.1), Some("mg/dL")));
        let text = "WBC: 11.2 K/uL (H)";
        let (_, a) = lab_result(text, 3, t).unwrap();
        assert_eq!((a.value, a.unit.as_deref(), a.flag.as_deref()), (Some(11.2), Some("10*3/uL"), Some("H")));
        let text = "TSH <0.01 mIU/L";
        let (_, a) = lab_result(text, 3, t).unwrap();
        assert_eq!((a.comparator.as_deref(), a.value), (Some("<"), Some(0.01)));
        // A flag between the value and its unit.
        let text = "Potassium 5.8 (H) mmol/L";
        let (end, a) = lab_result(text, "Potassium".len(), t).unwrap();
        assert_eq!(
            (a.value, a.unit.as_deref(), a.flag.as_deref(), end),
            (Some(5.8), Some("mmol/L"), Some("H"), text.len())
        );
        let (_, a) = lab_result("K 2.9 L mmol/L", 1, t).unwrap();
        assert_eq!((a.unit.as_deref(), a.flag.as_deref()), (Some("mmol/L"), Some("L")));
        // A flag with no unit after it is still the flag.
        let (_, a) = lab_result("Glucose 250 H", "Glucose".len(), t).unwrap();
        assert_eq!((a.unit, a.flag.as_deref()), (None, Some("H")));
        assert!(lab_result("Hgb 12/03/2024", 3, t).is_none());
        assert!(lab_result("A1c pending", 3, t).is_none());
    }
}
