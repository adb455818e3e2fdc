//! One uploaded file as the stages see it: its bytes, its stable identity, where it came from.
//!
//! The identity is what every resource id derives from, so the same bytes always give the same
//! FHIR ids: for local files it is the SHA-256 of the content (moving or copying a file changes
//! nothing); the S3 source uses bucket, key and eTag.

use std::sync::Arc;

use sha1::Digest as _;

/// Where an object lives in an object store: S3's bucket, key, version and eTag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
}

/// One document to read.
#[derive(Clone)]
pub struct SourceObject {
    /// Stable identity, e.g. `sha256:<hex>`; resource ids derive from it.
    pub identity: String,
    /// Where it came from, e.g. `file:///data/scan.pdf`.
    pub uri: String,
    /// Short name for summaries (the file name).
    pub name: String,
    /// Size in bytes of the whole object.
    pub size: u64,
    /// The content; empty when the object is only referred to (a Textract job's record: Textract
    /// read it from S3 itself).
    pub bytes: Arc<[u8]>,
    /// SHA-1 of the content (FHIR `Attachment.hash`), when it was read.
    pub sha1: Option<[u8; 20]>,
    /// Last modification, RFC 3339; stable for the same stored object.
    pub modified: Option<String>,
    /// Where it lives in an object store, for engines that read it in place (Textract reads S3).
    pub location: Option<ObjectLocation>,
    /// Set when the document is read again from its source because its OCR job was lost (the
    /// lost job's id): an engine that dedupes starts by a token starts a new job, not the lost one.
    pub restart_of: Option<String>,
}

impl std::fmt::Debug for SourceObject {
    // Never print the bytes: they are patient data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceObject")
            .field("identity", &self.identity)
            .field("uri", &self.uri)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl SourceObject {
    /// Wraps bytes read from somewhere, computing hashes and identity.
    pub fn from_bytes(uri: String, name: String, bytes: Vec<u8>, modified: Option<String>) -> SourceObject {
        let sha1: [u8; 20] = sha1::Sha1::digest(&bytes).into();
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        SourceObject {
            identity: format!("sha256:{sha256}"),
            uri,
            name,
            size: bytes.len() as u64,
            bytes: bytes.into(),
            sha1: Some(sha1),
            modified,
            location: None,
            restart_of: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_follows_content_not_path() {
        let a = SourceObject::from_bytes("file:///a".into(), "a".into(), b"same".to_vec(), None);
        let b = SourceObject::from_bytes("file:///b".into(), "b".into(), b"same".to_vec(), None);
        assert_eq!(a.identity, b.identity);
        assert!(a.identity.starts_with("sha256:") && a.identity.len() == 7 + 64);
        assert_eq!(a.size, 4);
        assert!(format!("{a:?}").contains("bytes: 4"));
    }
}
