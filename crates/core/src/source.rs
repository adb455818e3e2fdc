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
pub use paperchart_model::object::{Content, ObjectLocation, SourceObject, Store};

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
    format!("file://{}", encode_bytes(&os_bytes(path)))
}

/// The path's bytes as the system stores them: a file's name need not be UTF-8 (Latin-1
/// "M\xfcller.pdf" from an old share).
fn os_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::borrow::Cow::Owned(path.to_string_lossy().into_owned().into_bytes())
    }
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
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(std::path::PathBuf::from(std::ffi::OsString::from_vec(out)))
    }
    #[cfg(not(unix))]
    {
        Some(std::path::PathBuf::from(String::from_utf8(out).ok()?))
    }
}

/// The key a local file is queued and fetched by: its path as written when that is UTF-8, else
/// its `file://` URI, which keeps every byte of the name (see [`local_path`]).
pub fn local_key(path: &Path) -> String {
    match path.to_str() {
        Some(s) if !s.starts_with("file://") => s.to_string(),
        _ => file_uri(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())),
    }
}

/// The path a [`local_key`] names.
pub fn local_path(key: &str) -> std::path::PathBuf {
    path_of_file_uri(key).unwrap_or_else(|| std::path::PathBuf::from(key))
}

/// A path for a URI: every byte but unreserved characters and `/` percent-encoded.
pub fn encode_path(path: &str) -> String {
    encode_bytes(path.as_bytes())
}

fn encode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
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

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_keep_every_byte() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/scans/M\xfcller \xff\xfe.pdf"));
        assert_eq!(file_uri(path), "file:///scans/M%FCller%20%FF%FE.pdf");
        assert_eq!(path_of_file_uri(&file_uri(path)).as_deref(), Some(path));
        assert_eq!(local_path(&local_key(path)), path);
        assert_eq!(local_key(Path::new("/scans/Müller.pdf")), "/scans/Müller.pdf");
        // A UTF-8 name that looks like a URI is keyed as one, so it comes back as itself.
        let odd = Path::new("file://x%41");
        assert_eq!(local_path(&local_key(odd)), std::path::absolute(odd).unwrap());
    }

    #[test]
    fn file_uris_escape_reserved_characters() {
        assert_eq!(file_uri(Path::new("/data/a b+c%.pdf")), "file:///data/a%20b%2Bc%25.pdf");
    }
}
