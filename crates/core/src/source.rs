//! Where documents come from: the object-source seam.
//!
//! A [`SourceObject`] is one uploaded file with a stable identity. The identity is what every
//! resource id derives from, so the same bytes always give the same FHIR ids: for local files it
//! is the SHA-256 of the content (moving or copying a file changes nothing); the AWS source uses
//! bucket, key and eTag. The sources themselves live with what they read: local files in the
//! `paperchart` binary, S3 in `paperchart-aws`.

use std::path::Path;

use async_trait::async_trait;

use crate::error::{Classified, ErrorClass};
pub use paperchart_model::object::{ObjectLocation, SourceObject};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{key}: not found")]
    NotFound { key: String },
    #[error("{key}: {bytes} bytes, over the limit of {limit} (limits.max_bytes)")]
    TooLarge { key: String, bytes: u64, limit: u64 },
    /// The source did not answer or the read failed; it may pass.
    #[error("{key}: {detail}")]
    Unavailable { key: String, detail: String },
    /// Not a document: a folder that could not be listed when it was walked. Its files, once it
    /// can be listed, are entries of their own.
    #[error("{key}: {detail}")]
    NotADocument { key: String, detail: String },
}

impl Classified for SourceError {
    /// Missing and oversized objects stay that way; a failed read may pass.
    fn class(&self) -> ErrorClass {
        match self {
            SourceError::Unavailable { .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            SourceError::NotFound { .. } => "not_found",
            SourceError::TooLarge { .. } => "too_large",
            SourceError::Unavailable { .. } => "source_unavailable",
            SourceError::NotADocument { .. } => "not_a_document",
        }
    }
}

/// The object-source seam: the object at a key, its size checked against the source's limit
/// before its bytes are read.
#[async_trait]
pub trait ObjectSource: Send + Sync {
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError>;

    /// The key [`ObjectSource::fetch`] takes for an object stored at `location`, for a document
    /// done again from its source (its OCR job is gone); `None` where the source has no such keys.
    fn key_for(&self, _location: &ObjectLocation) -> Option<String> {
        None
    }
}

/// A `file://` URI with the characters RFC 3986 reserves percent-encoded.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", encode_path(&path.to_string_lossy()))
}

/// The path of a `file://` URI that [`file_uri`] made; `None` for any other URI.
pub fn path_of_file_uri(uri: &str) -> Option<std::path::PathBuf> {
    let encoded = uri.strip_prefix("file://")?;
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(std::path::PathBuf::from(String::from_utf8(out).ok()?))
}

/// A path for a URI: every byte but unreserved characters and `/` percent-encoded.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_give_their_paths_back() {
        let path = Path::new("/scans/ward 7/Intake #2 é.png");
        assert_eq!(path_of_file_uri(&file_uri(path)).as_deref(), Some(path));
        assert_eq!(path_of_file_uri("s3://b/k"), None);
        assert_eq!(path_of_file_uri("file:///a%2"), None);
    }

    #[test]
    fn file_uris_escape_reserved_characters() {
        assert_eq!(file_uri(Path::new("/data/a b+c%.pdf")), "file:///data/a%20b%2Bc%25.pdf");
    }
}
