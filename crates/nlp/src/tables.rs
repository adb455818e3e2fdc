//! The one reader of the TSV tables under `data/terminology/`: what every pass that keeps its
//! words as data (stop words, relatives, headings, units, ConText rules, the code tables) uses.

/// The rows of a TSV table: comment lines and the header skipped, columns split on tabs.
pub(crate) fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).skip(1).map(|l| l.split('\t').collect())
}
