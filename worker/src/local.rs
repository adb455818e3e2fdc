//! The embedded source: files on the local disk, keys are paths; and the walk that lists them.
//!
//! The identity of a local file is the SHA-256 of its content, so moving or copying a file
//! changes nothing downstream.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use paperchart_core::source::{file_uri, local_path, Content, ObjectSource, SourceError, SourceObject, Store};
use paperchart_model::object::Digests;

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
        // Checked from the size first, then again from what was read (it may have grown since).
        let too_large = |bytes: u64| SourceError::TooLarge { key: key.to_string(), bytes, limit: self.max_bytes };
        if meta.len() > self.max_bytes {
            return Err(too_large(meta.len()));
        }
        let abs = std::path::absolute(&path).unwrap_or(path.clone());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| key.to_string());
        let uri = file_uri(&abs);
        if meta.len() < MAP_FROM_BYTES {
            let bytes = tokio::fs::read(&path).await.map_err(|e| io_error(key, e))?;
            if bytes.len() as u64 > self.max_bytes {
                return Err(too_large(bytes.len() as u64));
            }
            return Ok(SourceObject::from_bytes(uri, name, bytes, modified_since(&path).await));
        }
        let max = self.max_bytes;
        let from = path.clone();
        let (bytes, digests) = tokio::task::spawn_blocking(move || mapped_copy(&from, max))
            .await
            .map_err(|e| SourceError::Unavailable { key: key.to_string(), detail: e.to_string() })?
            .map_err(|e| io_error(key, e))?;
        if digests.size() > self.max_bytes {
            return Err(too_large(digests.size()));
        }
        Ok(digests.object(uri, name, bytes, modified_since(&path).await))
    }
}

/// The file's last modification, read after its content.
async fn modified_since(path: &Path) -> Option<String> {
    let modified = tokio::fs::metadata(path).await.ok().and_then(|m| m.modified().ok());
    modified.and_then(paperchart_core::timestamps::rfc3339)
}

/// Files this large are read in place rather than into memory (see [`mapped_copy`]).
const MAP_FROM_BYTES: u64 = 16 << 20;

/// A large file copied once, in chunks and hashed on the way, to a temporary file of the
/// process's own (no name, gone when closed) that is mapped: the readers touch only the parts
/// they need and let them go after each page ([`Store::release`]), so a 140 MB scan does not sit
/// in memory while its pages are read. The copy is the project's own, so no other program finds
/// it by name to change or truncate it under the mapping (a truncated mapping would kill the
/// process) or make it differ from what was hashed. `TMPDIR` must be on a disk, not a tmpfs (a
/// tmpfs would keep the copy in memory). Reads at most `max + 1` bytes; the digests' size says
/// whether there were more.
fn mapped_copy(path: &Path, max: u64) -> std::io::Result<(Content, Digests)> {
    let mut from = std::fs::File::open(path)?.take(max.saturating_add(1));
    let in_tmp = |e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("temporary copy in {}: {e}", std::env::temp_dir().display()))
    };
    let mut copy = tempfile::tempfile().map_err(in_tmp)?;
    let mut digests = Digests::default();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        digests.update(&chunk[..n]);
        copy.write_all(&chunk[..n]).map_err(in_tmp)?;
    }
    if digests.size() == 0 || digests.size() > max {
        return Ok((Content::default(), digests));
    }
    // SAFETY: the file is an unnamed temporary file this process made, written in full above
    // and never written again; no other program can reach it by a name (only through this
    // process's /proc entry, as the same user): the mapped bytes do not change or shrink.
    let map = unsafe { memmap2::Mmap::map(&copy).map_err(in_tmp)? };
    Ok((Content::stored(Arc::new(MappedCopy { map, file: copy })), digests))
}

/// The mapping of [`mapped_copy`]'s file.
struct MappedCopy {
    map: memmap2::Mmap,
    file: std::fs::File,
}

impl AsRef<[u8]> for MappedCopy {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl Store for MappedCopy {
    fn release(&self) {
        // SAFETY: a read-only shared mapping of a file no one writes: dropping its page table
        // entries only makes the next read of them (another thread's, even at the same moment)
        // fault the same bytes in again from the file. Nothing borrowed from the mapping is
        // invalidated. A failure leaves the pages resident.
        let _ = unsafe { self.map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        // And out of the page cache, which a container's memory limit counts too.
        use std::os::fd::AsRawFd;
        // SAFETY: a plain advice on a file descriptor this struct owns.
        unsafe { libc::posix_fadvise(self.file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }

    fn is_mapped(&self) -> bool {
        true
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

    #[tokio::test]
    async fn large_files_are_read_in_place_with_the_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scan.pdf");
        let bytes: Vec<u8> = (0..MAP_FROM_BYTES as usize + 12_345).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let mapped = LocalFiles { max_bytes: 1 << 30 }.fetch(p.to_str().unwrap()).await.unwrap();
        let read = SourceObject::from_bytes(mapped.uri.clone(), "scan.pdf".into(), bytes.clone(), None);
        assert_eq!(mapped.identity, read.identity);
        assert_eq!((mapped.sha1, mapped.size), (read.sha1, bytes.len() as u64));
        assert!(mapped.bytes[..] == bytes[..]);
        // Letting go of the resident pages leaves the bytes readable, and the original can change
        // without changing what was read.
        mapped.bytes.release();
        std::fs::write(&p, b"overwritten").unwrap();
        assert!(mapped.bytes[..] == bytes[..]);
        // A file that grew past the limit after its size was read: the copy stops one byte past.
        let (content, digests) = mapped_copy(&p, 5).unwrap();
        assert_eq!((content.len(), digests.size()), (0, 6), "stops one byte past the limit");
        assert_eq!(mapped_copy(&p, u64::MAX).unwrap().1.size(), 11, "no limit overflows");
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
