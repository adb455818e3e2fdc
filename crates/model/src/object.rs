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
    pub bytes: Content,
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
        let mut digests = Digests::default();
        digests.update(&bytes);
        digests.object(uri, name, Content::from(bytes), modified)
    }
}

/// The hashes of a content read in parts (a large file copied in chunks): SHA-256 for the
/// identity, SHA-1 for FHIR's `Attachment.hash`.
#[derive(Default)]
pub struct Digests {
    sha1: sha1::Sha1,
    sha256: sha2::Sha256,
    size: u64,
}

impl Digests {
    pub fn update(&mut self, part: &[u8]) {
        self.sha1.update(part);
        self.sha256.update(part);
        self.size += part.len() as u64;
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The object whose content was hashed; `bytes` must be that content.
    pub fn object(self, uri: String, name: String, bytes: Content, modified: Option<String>) -> SourceObject {
        debug_assert_eq!(bytes.len() as u64, self.size);
        SourceObject {
            identity: format!("sha256:{}", hex::encode(self.sha256.finalize())),
            uri,
            name,
            size: self.size,
            bytes,
            sha1: Some(self.sha1.finalize().into()),
            modified,
            location: None,
            restart_of: None,
        }
    }
}

/// Where a document's bytes are kept: in memory, or a file mapped by the source (see
/// [`Content::stored`]). Reading a mapped file in place keeps memory flat in the file's size: the
/// readers touch only the parts they need and let them go again with [`Content::release`].
pub trait Store: AsRef<[u8]> + Send + Sync {
    /// Lets go of the resident copies of the bytes read so far (a mapped file's pages); the
    /// bytes stay readable. Memory has nothing to let go of.
    fn release(&self) {}

    /// Whether the bytes are read in place (mapped) rather than held in memory: readers that
    /// would otherwise touch all of them (lopdf) take care to touch less.
    fn is_mapped(&self) -> bool {
        false
    }
}

impl Store for Vec<u8> {}

/// A document's bytes, cheap to clone and shared between stages and threads.
#[derive(Clone)]
pub struct Content(Arc<dyn Store>);

impl Content {
    /// Bytes kept by a store of the source's own (a mapped file).
    pub fn stored(store: Arc<dyn Store>) -> Content {
        Content(store)
    }

    /// See [`Store::release`]; readers call it after each page they have read.
    pub fn release(&self) {
        self.0.release();
    }

    /// See [`Store::is_mapped`].
    pub fn is_mapped(&self) -> bool {
        self.0.is_mapped()
    }
}

impl Default for Content {
    fn default() -> Content {
        Content::from(Vec::new())
    }
}

impl From<Vec<u8>> for Content {
    /// Takes the vector as it is: no copy.
    fn from(bytes: Vec<u8>) -> Content {
        Content(Arc::new(bytes))
    }
}

impl std::ops::Deref for Content {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl AsRef<[u8]> for Content {
    fn as_ref(&self) -> &[u8] {
        self
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
