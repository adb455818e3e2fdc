//! The embedded source: files on the local disk, keys are paths; and the walk that lists them.
//!
//! The identity of a local file is the SHA-256 of its content, so moving or copying a file
//! changes nothing downstream.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use paperchart_core::source::{file_uri, local_path, ObjectSource, SourceError, SourceObject};

/// Files on the local disk; keys are paths.
pub struct LocalFiles {
    pub max_bytes: u64,
}

fn io_error(key: &str, e: std::io::Error) -> SourceError {
    match e.kind() {
        std::io::ErrorKind::NotFound => SourceError::NotFound { key: key.to_string() },
        _ => SourceError::Unavailable { key: key.to_string(), detail: e.to_string() },
    }
}

#[async_trait]
impl ObjectSource for LocalFiles {
    /// The size from the file's metadata, checked before a byte is read: a huge file never
    /// enters memory.
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError> {
        let path = local_path(key);
        let meta = tokio::fs::metadata(&path).await.map_err(|e| io_error(key, e))?;
        if meta.is_dir() {
            // A folder the walk could not list (see `walk`): its own error, as the document's.
            let detail = match std::fs::read_dir(&path) {
                Err(e) => format!("folder cannot be listed: {e}"),
                Ok(_) => "a folder, not a file".to_string(),
            };
            return Err(SourceError::NotADocument { key: key.to_string(), detail });
        }
        if meta.len() > self.max_bytes {
            return Err(SourceError::TooLarge { key: key.to_string(), bytes: meta.len(), limit: self.max_bytes });
        }
        let bytes = tokio::fs::read(&path).await.map_err(|e| io_error(key, e))?;
        // It may have grown since its size was read.
        if bytes.len() as u64 > self.max_bytes {
            return Err(SourceError::TooLarge {
                key: key.to_string(),
                bytes: bytes.len() as u64,
                limit: self.max_bytes,
            });
        }
        let modified = tokio::fs::metadata(&path).await.ok().and_then(|m| m.modified().ok());
        let abs = std::path::absolute(&path).unwrap_or(path.clone());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| key.to_string());
        Ok(SourceObject::from_bytes(
            file_uri(&abs),
            name,
            bytes,
            modified.and_then(paperchart_core::timestamps::rfc3339),
        ))
    }
}

/// Files under the given paths, folders walked recursively, in a stable order. Hidden entries
/// (names starting with a dot) and saved Textract responses (`<file>.textract.json`, read with
/// their file) are skipped in folders. A sub-folder that cannot be listed is listed itself, so
/// the batch goes on and reports it with its error; a path given that does not exist is an error.
pub fn collect_inputs(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let listed = std::fs::read_dir(dir).and_then(|d| d.collect::<Result<Vec<_>, _>>());
    let Ok(mut entries) = listed else {
        out.push(dir.to_path_buf());
        return;
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        } else if !e.file_name().to_string_lossy().ends_with(crate::saved_textract::SUFFIX) {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_core::error::Classified;

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

    #[tokio::test]
    async fn a_folder_that_cannot_be_listed_is_reported_and_the_rest_walked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for d in ["locked", "open"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
            std::fs::write(dir.path().join(d).join("a.pdf"), b"x").unwrap();
        }
        let locked = dir.path().join("locked");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read_dir(&locked).is_ok() {
            // Root reads any folder: the walk cannot be refused here, and the source's own
            // answer for a folder is what is left to check.
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
            let err = LocalFiles { max_bytes: 1000 }.fetch(locked.to_str().unwrap()).await.unwrap_err();
            assert!(err.to_string().contains("a folder, not a file"), "{err}");
            return;
        }
        let got = collect_inputs(&[dir.path().to_path_buf()]).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(got, [locked.clone(), dir.path().join("open/a.pdf")]);
    }
}
