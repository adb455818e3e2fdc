//! The one unit normaliser: units as written to UCUM codes (and, for drug strengths, to the units
//! RxNorm names strengths in). Measurement units come from `curated/units.tsv` (matched
//! case-sensitively first, then case-insensitively, longest first); medication strength and dose
//! units from `curated/dose_units.tsv`. Nothing else in paperchart turns a written unit into a
//! code.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::tables::rows;

const DOSE_UNITS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/terminology/curated/dose_units.tsv"));

/// A medication unit: its UCUM code as a dose quantity, and its RxNorm strength unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoseUnit {
    pub ucum: Option<&'static str>,
    pub rxnorm: Option<&'static str>,
}

fn dose_units() -> &'static HashMap<String, DoseUnit> {
    static T: OnceLock<HashMap<String, DoseUnit>> = OnceLock::new();
    T.get_or_init(|| {
        rows(DOSE_UNITS)
            .map(|r| {
                let some = |i: usize| r.get(i).copied().filter(|s| !s.is_empty());
                (r[0].to_lowercase(), DoseUnit { ucum: some(1), rxnorm: some(2) })
            })
            .collect()
    })
}

/// A medication strength or dose unit as written (`mg`, `MCG`, `tabs`, `units`).
pub fn dose(written: &str) -> Option<DoseUnit> {
    dose_units().get(&written.to_lowercase()).copied()
}

/// Measurement units, longest written form first.
pub struct MeasureUnits {
    units: Vec<(String, String)>,
}

impl MeasureUnits {
    /// From the rows of `curated/units.tsv` (written, UCUM).
    pub fn new(mut units: Vec<(String, String)>) -> MeasureUnits {
        units.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        MeasureUnits { units }
    }

    /// The unit written at the start of `text`: its length in bytes and its UCUM code. The
    /// longest written form that matches here and ends at a word boundary wins; forms longer than
    /// two characters also match in another letter case. `skip` lists written forms that do not
    /// count here ("F" alone is a temperature, not a lab unit).
    pub fn at(&self, text: &str, skip: &[&str]) -> Option<(usize, &str)> {
        for (written, ucum) in &self.units {
            let exact = text.starts_with(written.as_str());
            let loose = !exact
                && written.len() > 2
                && text.len() >= written.len()
                && text.is_char_boundary(written.len())
                && text[..written.len()].eq_ignore_ascii_case(written);
            if !(exact || loose) {
                continue;
            }
            if text[written.len()..].chars().next().is_some_and(|c| c.is_alphanumeric()) {
                continue;
            }
            if skip.contains(&written.as_str()) {
                continue;
            }
            return Some((written.len(), ucum));
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, String)> {
        self.units.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dose_units_have_their_codes() {
        assert_eq!(dose("MCG"), Some(DoseUnit { ucum: Some("ug"), rxnorm: Some("mcg") }), "UCUM writes micrograms ug");
        assert_eq!(dose("units").unwrap().rxnorm, Some("unt"));
        assert_eq!(dose("tabs"), Some(DoseUnit { ucum: Some("{tbl}"), rxnorm: None }));
        assert_eq!(dose("mg/ml").unwrap().ucum, None, "a concentration is not a dose quantity");
        assert_eq!(dose("furlongs"), None);
        let words: Vec<_> = rows(DOSE_UNITS).map(|r| r[0].to_lowercase()).collect();
        assert_eq!(words.len(), dose_units().len(), "a unit listed twice");
    }

    #[test]
    fn measurement_units_match_longest_first() {
        let u = MeasureUnits::new(vec![
            ("mm".into(), "mm".into()),
            ("mmHg".into(), "mm[Hg]".into()),
            ("F".into(), "[degF]".into()),
        ]);
        assert_eq!(u.at("mmHg, sitting", &[]), Some((4, "mm[Hg]")));
        assert_eq!(u.at("MMHG", &[]), Some((4, "mm[Hg]")));
        assert_eq!(u.at("mmol", &[]), None, "not at a word boundary");
        assert_eq!(u.at("F", &["F"]), None);
    }
}
