//! Every resource id, in one place: UUID v5 of what the resource is about.
//!
//! The name is the source object's identity, the resource type and a canonical key (the code,
//! the value, the assertion). The same input therefore always gives the same ids, and
//! reprocessing a document is an upsert. A patient's id depends only on who they are (MRN, or
//! name and birth date), so every document of one patient gathers under one Patient.

pub use paperchart_model::ids::{derive, NAMESPACE};

/// The DocumentReference (and Bundle) id of the document with this source identity. Whoever
/// needs to name a document before it is mapped — the pipeline labelling an OCR job — asks here.
pub fn document_id(identity: &str) -> String {
    derive(&[identity, "DocumentReference"])
}

/// The id of one resource of a document: its type and canonical key parts.
pub fn resource_id(identity: &str, resource_type: &str, key: &[&str]) -> String {
    let mut parts = vec![identity, resource_type];
    parts.extend_from_slice(key);
    derive(&parts)
}

/// Who a Patient resource is, as far as the document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientKey {
    Mrn {
        system: String,
        value: String,
    },
    NameBirthDate {
        family: String,
        given: String,
        birth_date: String,
    },
    /// A health plan's member id with the member's family name (one id may cover a family).
    Member {
        system: String,
        value: String,
        family: String,
    },
}

impl PatientKey {
    pub fn id(&self) -> String {
        match self {
            PatientKey::Mrn { system, value } => derive(&["Patient", "mrn", system, &value.to_uppercase()]),
            PatientKey::NameBirthDate { family, given, birth_date } => {
                derive(&["Patient", "name-dob", &family.to_lowercase(), &given.to_lowercase(), birth_date])
            }
            PatientKey::Member { system, value, family } => {
                derive(&["Patient", "member", system, &value.to_uppercase(), &family.to_lowercase()])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids_are_the_resource_ids_of_their_reference() {
        assert_eq!(document_id("sha256:abc"), resource_id("sha256:abc", "DocumentReference", &[]));
        assert_eq!(resource_id("s", "Condition", &["a", "b"]), derive(&["s", "Condition", "a", "b"]));
    }

    #[test]
    fn patient_ids_follow_identity() {
        let m1 = PatientKey::Mrn { system: "urn:x".into(), value: "mrn-1".into() };
        let m2 = PatientKey::Mrn { system: "urn:x".into(), value: "MRN-1".into() };
        assert_eq!(m1.id(), m2.id());
        let n =
            PatientKey::NameBirthDate { family: "Doe".into(), given: "Jane".into(), birth_date: "1952-03-07".into() };
        assert_ne!(n.id(), m1.id());
    }
}
