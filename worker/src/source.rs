//! Where documents come from: the object-source seam.
//!
//! A [`SourceObject`] is one uploaded file with a stable identity. The identity is what every
//! resource id derives from, so the same bytes always give the same FHIR ids: for local files it
//! is the SHA-256 of the content (moving or copying a file changes nothing); the AWS source uses
//! bucket, key and version.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use sha1::Digest as _;

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
    /// The S3 object, for engines that read it in place.
    pub s3: Option<crate::aws::events::ObjectRef>,
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
            s3: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: not found")]
    NotFound { path: String },
    #[error("{path}: {bytes} bytes, over the limit of {limit} (limits.max_bytes)")]
    TooLarge { path: String, bytes: u64, limit: u64 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    pub fn label(&self) -> &'static str {
        match self {
            SourceError::NotFound { .. } => "not_found",
            SourceError::TooLarge { .. } => "too_large",
            SourceError::Io { .. } => "io",
        }
    }

    /// Missing and oversized objects stay that way; other I/O may pass.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, SourceError::Io { .. })
    }
}

/// The object-source seam: fetch one object by its key.
#[async_trait]
pub trait ObjectSource: Send + Sync {
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError>;
}

/// Files on the local disk; keys are paths.
pub struct LocalFiles {
    pub max_bytes: u64,
}

fn rfc3339(t: std::time::SystemTime) -> Option<String> {
    let t = time::OffsetDateTime::from(t).replace_nanosecond(0).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

#[async_trait]
impl ObjectSource for LocalFiles {
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError> {
        let path = PathBuf::from(key);
        let shown = key.to_string();
        let meta = tokio::fs::metadata(&path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotFound { path: shown.clone() },
            _ => SourceError::Io { path: shown.clone(), source: e },
        })?;
        // Check the size before reading a byte: a huge file never enters memory.
        if meta.len() > self.max_bytes {
            return Err(SourceError::TooLarge { path: shown, bytes: meta.len(), limit: self.max_bytes });
        }
        let bytes = tokio::fs::read(&path).await.map_err(|e| SourceError::Io { path: shown.clone(), source: e })?;
        let abs = std::path::absolute(&path).unwrap_or(path.clone());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
        Ok(SourceObject::from_bytes(file_uri(&abs), name, bytes, meta.modified().ok().and_then(rfc3339)))
    }
}

/// A `file://` URI with the characters RFC 3986 reserves percent-encoded.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", encode_path(&path.to_string_lossy()))
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

/// Files under the given paths, folders walked recursively, in a stable order. Hidden entries
/// (names starting with a dot) are skipped.
pub fn collect_inputs(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        if e.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
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

    #[test]
    fn file_uris_escape_reserved_characters() {
        assert_eq!(file_uri(Path::new("/data/a b+c%.pdf")), "file:///data/a%20b%2Bc%25.pdf");
    }

    #[tokio::test]
    async fn refuses_oversized_files_from_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pdf");
        std::fs::write(&p, vec![0u8; 100]).unwrap();
        let src = LocalFiles { max_bytes: 10 };
        let err = src.fetch(p.to_str().unwrap()).await.unwrap_err();
        assert_eq!(err.label(), "too_large");
        let err = src.fetch("/nonexistent/file.pdf").await.unwrap_err();
        assert_eq!(err.label(), "not_found");
        let ok = LocalFiles { max_bytes: 1000 }.fetch(p.to_str().unwrap()).await.unwrap();
        assert_eq!(ok.bytes.len(), 100);
        assert!(ok.uri.starts_with("file:///") && ok.modified.is_some());
    }

    #[test]
    fn walks_folders_in_order_skipping_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.pdf", "a.png", ".hidden", "sub/c.tif"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let got = collect_inputs(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> =
            got.iter().map(|p| p.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.png", "b.pdf", "sub/c.tif"]);
    }
}
