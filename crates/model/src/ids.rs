//! Deterministic identifiers: UUID v5 under paperchart's own namespace.
//!
//! Every id paperchart mints — FHIR resource ids (`paperchart-fhir`), Textract request tokens
//! (`paperchart-aws`) — is [`derive`]d from what it names, so the same input always gives the same
//! id and reprocessing is an upsert. The namespace is fixed forever: changing it would re-key every
//! resource already written.

use uuid::Uuid;

/// paperchart's UUID v5 namespace (a random v4, fixed forever).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6a1f_0c9e_53a4_4d2b_9b1e_2f0d_7c3a_8e51);

/// The UUID v5 of `parts`, joined by a separator no part contains (U+001F).
pub fn derive(parts: &[&str]) -> String {
    Uuid::new_v5(&NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = derive(&["sha256:abc", "Condition", "I10"]);
        assert_eq!(a, derive(&["sha256:abc", "Condition", "I10"]));
        assert_ne!(a, derive(&["sha256:abc", "Condition", "E11.9"]));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(derive(&["ab", "c"]), derive(&["a", "bc"]));
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
    }
}
