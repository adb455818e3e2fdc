//! The directory sink: `bundles/<document id>.json` per document, and NDJSON per resource type.
//!
//! A Bundle file is written to a temporary name and renamed, so a crash never leaves half a file
//! and a rewrite of the same document replaces it whole. The NDJSON files
//! (`ndjson/<ResourceType>.ndjson`, the layout HealthLake's StartFHIRImportJob reads) are derived
//! from the Bundle files on [`FhirSink::flush`]: one line per resource id, the last document to
//! write a resource wins, lines sorted by id. Rebuilding them from the Bundles, rather than
//! appending, is what makes a second run over the same input leave them unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value;

use paperchart_core::sink::{FhirSink, ReviewStore, SinkError, WriteOutcome};
use paperchart_model::bundle::{Bundle, Review};

pub struct DirSink {
    root: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io { path: path.display().to_string(), source }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

impl DirSink {
    pub fn new(root: impl Into<PathBuf>) -> Result<DirSink, SinkError> {
        let root = root.into();
        for sub in ["bundles", "ndjson"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(DirSink { root, lock: tokio::sync::Mutex::new(()) })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The embedded review store: `<out>/review/<document id>.json`, written atomically.
pub struct ReviewFolder {
    dir: PathBuf,
}

impl ReviewFolder {
    /// The folder is made on the first review, so a run without any leaves none.
    pub fn new(out: &Path) -> ReviewFolder {
        ReviewFolder { dir: out.join("review") }
    }
}

#[async_trait]
impl ReviewStore for ReviewFolder {
    async fn put(&self, review: &Review) -> Result<String, SinkError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(format!("{}.json", review.document_id));
        write_atomic(&path, &review.to_bytes())?;
        Ok(path.display().to_string())
    }
}

/// Rebuilds `<root>/ndjson/` from `<root>/bundles/`; returns the number of resources.
fn rebuild_ndjson(root: &Path) -> Result<usize, SinkError> {
    let bundles = root.join("bundles");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&bundles)
        .map_err(io(&bundles))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut by_type: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(io(f))?;
        let bundle: Value = serde_json::from_str(&text)
            .map_err(|e| SinkError::Io { path: f.display().to_string(), source: std::io::Error::other(e) })?;
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let r = &entry["resource"];
            let (Some(t), Some(id)) = (r["resourceType"].as_str(), r["id"].as_str()) else {
                continue;
            };
            by_type.entry(t.to_string()).or_default().insert(id.to_string(), r.to_string());
        }
    }
    let ndjson = root.join("ndjson");
    // Types no longer present lose their file.
    for e in std::fs::read_dir(&ndjson).map_err(io(&ndjson))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(t) = name.strip_suffix(".ndjson") {
            if !by_type.contains_key(t) {
                std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
            }
        }
    }
    let mut n = 0;
    for (t, resources) in by_type {
        let mut out = String::new();
        for line in resources.values() {
            out.push_str(line);
            out.push('\n');
            n += 1;
        }
        write_atomic(&ndjson.join(format!("{t}.ndjson")), out.as_bytes())?;
    }
    Ok(n)
}

#[async_trait]
impl FhirSink for DirSink {
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        let path = self.root.join("bundles").join(format!("{}.json", bundle.id));
        let mut bytes = serde_json::to_vec_pretty(&bundle.to_transaction())
            .map_err(|e| SinkError::Io { path: path.display().to_string(), source: std::io::Error::other(e) })?;
        bytes.push(b'\n');
        let existed = path.exists();
        {
            let _guard = self.lock.lock().await;
            write_atomic(&path, &bytes)?;
        }
        let status = if existed { 200 } else { 201 };
        Ok(WriteOutcome::whole(bundle, status))
    }

    async fn flush(&self) -> Result<(), SinkError> {
        let _guard = self.lock.lock().await;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || rebuild_ndjson(&root))
            .await
            .map_err(|e| SinkError::Io { path: "ndjson".into(), source: std::io::Error::other(e) })??;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::bundle::Entry;
    use serde_json::json;

    fn bundle(id: &str, patient_name: &str) -> Bundle {
        Bundle {
            id: id.into(),
            entries: vec![
                Entry {
                    resource_type: "Patient",
                    id: "p1".into(),
                    resource: json!({"resourceType": "Patient", "id": "p1", "name": [{"family": patient_name}]}),
                },
                Entry {
                    resource_type: "Condition",
                    id: format!("c-{id}"),
                    resource: json!({"resourceType": "Condition", "id": format!("c-{id}")}),
                },
            ],
        }
    }

    #[tokio::test]
    async fn ndjson_is_rebuilt_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        let first = sink.write(&bundle("a", "Doe")).await.unwrap();
        assert!(first.entries.iter().all(|e| e.status == 201));
        sink.write(&bundle("b", "Doe")).await.unwrap();
        sink.flush().await.unwrap();
        let read = |t: &str| std::fs::read_to_string(dir.path().join("ndjson").join(format!("{t}.ndjson"))).unwrap();
        assert_eq!(read("Patient").lines().count(), 1, "one patient across two documents");
        assert_eq!(read("Condition").lines().count(), 2);
        let before = (read("Patient"), read("Condition"), std::fs::read(dir.path().join("bundles/a.json")).unwrap());
        // The same writes again change nothing.
        let again = sink.write(&bundle("a", "Doe")).await.unwrap();
        assert!(again.entries.iter().all(|e| e.status == 200));
        sink.write(&bundle("b", "Doe")).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(
            before,
            (read("Patient"), read("Condition"), std::fs::read(dir.path().join("bundles/a.json")).unwrap())
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("bundles"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
