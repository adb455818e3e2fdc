//! The directory sink: `bundles/<document id>.json` per document, and NDJSON per resource type.
//!
//! A Bundle file is written to a temporary name and renamed, so a crash never leaves half a file
//! and a rewrite of the same document replaces it whole. The NDJSON files
//! (`ndjson/<ResourceType>.ndjson`, the layout HealthLake's StartFHIRImportJob reads) follow the
//! Bundle files on [`FhirSink::flush`]: one line per resource id, in the order resources first
//! came; the documents written since the last flush are applied (new resources appended, a
//! changed one replaced, the same one again nothing), so a flush costs what its new documents
//! cost, not what the folder holds. A Patient's line is the merge of what every document of the
//! patient says (`paperchart_fhir::merge_patient`: identifiers, names, telecoms and addresses
//! gathered, nothing one document wrote erased by another's silence); between two documents
//! writing any other resource the later bundle id wins, whatever order they finished in, and a
//! second run over the same input leaves the files unchanged. A document processed again
//! replaces its bundle whole, so what the new version no longer holds leaves the NDJSON too. The first flush of a process rebuilds the files from every bundle (so what a
//! crash, a failed flush or an older release left is made right), as does a flush in which a
//! rewritten document no longer holds a resource.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value;

use paperchart_core::sink::{FhirSink, ReviewStore, SinkError, WriteOutcome};
use paperchart_model::bundle::{Bundle, Review};

pub struct DirSink {
    root: PathBuf,
    lock: tokio::sync::Mutex<()>,
    ndjson: std::sync::Arc<std::sync::Mutex<Ndjson>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io { path: path.display().to_string(), source }
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same folder, synced
/// to disk, renamed over the old one, and the folder synced, so a power loss after a document
/// was acknowledged leaves the old file or the new one, never an empty or half one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_folder(path)
}

/// A file written line by line to a temporary name, then synced and renamed over `path` as
/// [`write_atomic`] does: for files too large to build in memory first.
struct Rewrite {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once finished.
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl Drop for Rewrite {
    /// A rewrite given up half-way (an error) leaves no temporary file behind.
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Rewrite {
    fn create(path: &Path) -> Result<Rewrite, SinkError> {
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        Ok(Rewrite { path: path.to_path_buf(), tmp, out: Some(std::io::BufWriter::with_capacity(1 << 16, f)) })
    }

    fn line(&mut self, line: &str) -> Result<(), SinkError> {
        use std::io::Write;
        let out = self.out.as_mut().expect("a rewrite is written until finished");
        out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n")).map_err(io(&self.tmp))
    }

    fn finish(mut self) -> Result<(), SinkError> {
        let out = self.out.take().expect("finished once");
        let done = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(io(&self.tmp))
            .and_then(|()| std::fs::rename(&self.tmp, &self.path).map_err(io(&self.path)));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        done?;
        sync_folder(&self.path)
    }
}

/// Syncs the folder holding `path`: a rename is durable only once its folder is.
fn sync_folder(path: &Path) -> Result<(), SinkError> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(folder).and_then(|d| d.sync_all()).map_err(io(folder))
}

/// A bundle file that is not a bundle (damaged on disk, cut by a crash of an older release, edited
/// by hand) is moved to `bundles/damaged/` and named in the log: the rest of the folder is
/// flushed, and the document it held is written again when it is processed again.
fn set_aside(bundles: &Path, bundle_id: &str, reason: &str) -> Result<(), SinkError> {
    let damaged = bundles.join("damaged");
    std::fs::create_dir_all(&damaged).map_err(io(&damaged))?;
    let (from, to) = (bundles.join(format!("{bundle_id}.json")), damaged.join(format!("{bundle_id}.json")));
    std::fs::rename(&from, &to).map_err(io(&from))?;
    tracing::warn!(bundle = bundle_id, reason, folder = %damaged.display(), "damaged bundle file set aside");
    Ok(())
}

impl DirSink {
    pub fn new(root: impl Into<PathBuf>) -> Result<DirSink, SinkError> {
        let root = root.into();
        for sub in ["bundles", "ndjson"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(DirSink { root, lock: tokio::sync::Mutex::new(()), ndjson: Default::default() })
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

/// What the NDJSON files hold, kept between flushes so a flush costs what the new documents
/// cost: for every resource, the hash of its line and the document (bundle) that wrote it; for
/// every document, the resources it wrote.
#[derive(Default)]
struct Ndjson {
    loaded: bool,
    /// type → id → (line hash, bundle id)
    index: HashMap<String, HashMap<String, (u64, String)>>,
    /// bundle id → the (type, id) of its resources
    by_bundle: HashMap<String, Vec<(String, String)>>,
    /// Bundles written since the last flush.
    pending: Vec<String>,
    /// patient id → bundle id → the Patient as that document wrote it: the NDJSON line is their
    /// merge (in bundle id order), so one document's silence never erases what another said.
    patients: HashMap<String, BTreeMap<String, Value>>,
}

/// The one Patient line of the documents that wrote this patient.
fn merged_patient(versions: &BTreeMap<String, Value>) -> String {
    let mut all = versions.values();
    let first = all.next().cloned().unwrap_or(Value::Null);
    all.fold(paperchart_fhir::merge_patient(&first, &Value::Null), |acc, p| paperchart_fhir::merge_patient(&acc, p))
        .to_string()
}

fn line_hash(line: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    line.hash(&mut h);
    h.finish()
}

/// Why a bundle file cannot be read: the file (an I/O error, which stops the flush) or its
/// content (which sets the file aside).
enum Unread {
    Io(SinkError),
    Damaged(&'static str),
}

fn bundle_lines(path: &Path) -> Result<Vec<(String, String, String)>, Unread> {
    let bytes = std::fs::read(path).map_err(|e| Unread::Io(io(path)(e)))?;
    let bundle: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Unread::Damaged(match e.classify() {
            serde_json::error::Category::Eof => "cut short",
            _ => "not JSON",
        })
    })?;
    if bundle["resourceType"] != "Bundle" {
        return Err(Unread::Damaged("not a FHIR Bundle"));
    }
    let mut out = Vec::new();
    for entry in bundle["entry"].as_array().into_iter().flatten() {
        let r = &entry["resource"];
        if let (Some(t), Some(id)) = (r["resourceType"].as_str(), r["id"].as_str()) {
            out.push((t.to_string(), id.to_string(), r.to_string()));
        }
    }
    Ok(out)
}

impl Ndjson {
    /// The whole folder, once per process (and after anything unusual): every bundle in the order
    /// of its id, the later one winning a resource they share; the files rewritten from them.
    /// What a crash, a failed flush or an older release left is made right here. Memory holds
    /// the index (ids and hashes) and the Patients, never the lines: a first pass reads who holds
    /// what, a second reads the bundles again and writes each type's file through, each resource
    /// from the last bundle that holds it, in bundle order.
    fn rebuild(&mut self, root: &Path) -> Result<usize, SinkError> {
        self.loaded = false;
        self.index.clear();
        self.by_bundle.clear();
        self.pending.clear();
        self.patients.clear();
        let bundles = root.join("bundles");
        let mut ids: Vec<String> = std::fs::read_dir(&bundles)
            .map_err(io(&bundles))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
            .collect();
        ids.sort();
        let mut kept = Vec::with_capacity(ids.len());
        for bundle_id in ids {
            let lines = match bundle_lines(&bundles.join(format!("{bundle_id}.json"))) {
                Ok(lines) => lines,
                Err(Unread::Io(e)) => return Err(e),
                Err(Unread::Damaged(reason)) => {
                    set_aside(&bundles, &bundle_id, reason)?;
                    continue;
                }
            };
            let mut held = Vec::with_capacity(lines.len());
            for (t, id, line) in lines {
                held.push((t.clone(), id.clone()));
                if t == "Patient" {
                    let resource = serde_json::from_str(&line).unwrap_or(Value::Null);
                    self.patients.entry(id).or_default().insert(bundle_id.clone(), resource);
                    continue;
                }
                self.index.entry(t).or_default().insert(id, (line_hash(&line), bundle_id.clone()));
            }
            self.by_bundle.insert(bundle_id.clone(), held);
            kept.push(bundle_id);
        }
        let ndjson = root.join("ndjson");
        let has_patients = !self.patients.is_empty();
        // Types no longer present lose their file.
        for e in std::fs::read_dir(&ndjson).map_err(io(&ndjson))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(t) = name.strip_suffix(".ndjson") {
                let present = if t == "Patient" { has_patients } else { self.index.contains_key(t) };
                if !present {
                    std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
                }
            }
        }
        let mut files: BTreeMap<String, Rewrite> = BTreeMap::new();
        let mut n = 0;
        for bundle_id in &kept {
            let path = bundles.join(format!("{bundle_id}.json"));
            let lines = match bundle_lines(&path) {
                Ok(lines) => lines,
                Err(Unread::Io(e)) => return Err(e),
                Err(Unread::Damaged(reason)) => {
                    return Err(io(&path)(std::io::Error::other(format!("changed while read: {reason}"))))
                }
            };
            let mut seen = std::collections::HashSet::new();
            for (t, id, line) in lines {
                if t == "Patient" || !seen.insert((t.clone(), id.clone())) {
                    continue;
                }
                let Some(entry) = self.index.get_mut(&t).and_then(|ids| ids.get_mut(&id)) else { continue };
                // A later document holds it.
                if entry.1 != *bundle_id {
                    continue;
                }
                // As written now (the index follows the file, whatever changed between passes).
                entry.0 = line_hash(&line);
                let file = match files.entry(t) {
                    std::collections::btree_map::Entry::Occupied(f) => f.into_mut(),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        let path = ndjson.join(format!("{}.ndjson", v.key()));
                        v.insert(Rewrite::create(&path)?)
                    }
                };
                file.line(&line)?;
                n += 1;
            }
        }
        if has_patients {
            let mut ids: Vec<&String> = self.patients.keys().collect();
            ids.sort();
            let mut file = Rewrite::create(&ndjson.join("Patient.ndjson"))?;
            let mut index = HashMap::with_capacity(ids.len());
            for id in ids {
                let versions = &self.patients[id];
                let line = merged_patient(versions);
                let last = versions.keys().next_back().cloned().unwrap_or_default();
                file.line(&line)?;
                index.insert(id.clone(), (line_hash(&line), last));
                n += 1;
            }
            file.finish()?;
            self.index.insert("Patient".into(), index);
        }
        for file in files.into_values() {
            file.finish()?;
        }
        self.loaded = true;
        Ok(n)
    }

    /// Applies the bundles written since the last flush: a new resource is appended to its type's
    /// file; a resource whose line changed replaces it (its type's file rewritten, by hashing its
    /// lines); the same line again changes nothing. Between two documents writing one resource the
    /// later bundle id wins, as in [`Ndjson::rebuild`], whatever order they finished in. A
    /// rewritten document that no longer holds a resource, or a failure half-way, falls back to
    /// a rebuild. Returns the lines written.
    fn apply(&mut self, root: &Path) -> Result<usize, SinkError> {
        if !self.loaded {
            return self.rebuild(root);
        }
        match self.apply_pending(root) {
            Ok(Some(n)) => Ok(n),
            Ok(None) => self.rebuild(root),
            Err(e) => {
                // The index may say more than the files: the next flush starts over.
                self.loaded = false;
                Err(e)
            }
        }
    }

    /// `None` when only a rebuild can make the files right (a resource left a document).
    fn apply_pending(&mut self, root: &Path) -> Result<Option<usize>, SinkError> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort();
        pending.dedup();
        let mut appends: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // type → the replaced line's hash → its new line
        let mut replaced: BTreeMap<String, HashMap<u64, String>> = BTreeMap::new();
        for bundle_id in &pending {
            let path = root.join("bundles").join(format!("{bundle_id}.json"));
            let lines = match bundle_lines(&path) {
                Ok(lines) => lines,
                Err(Unread::Io(e)) => return Err(e),
                // Set aside by the rebuild.
                Err(Unread::Damaged(_)) => return Ok(None),
            };
            let held: Vec<(String, String)> = lines.iter().map(|(t, id, _)| (t.clone(), id.clone())).collect();
            if let Some(before) = self.by_bundle.get(bundle_id) {
                if before.iter().any(|r| !held.contains(r)) {
                    return Ok(None);
                }
            }
            self.by_bundle.insert(bundle_id.clone(), held);
            let mut lines = lines;
            for (_, id, line) in lines.iter_mut().filter(|(t, _, _)| t == "Patient") {
                let resource = serde_json::from_str(line).unwrap_or(Value::Null);
                self.patients.entry(id.clone()).or_default().insert(bundle_id.clone(), resource);
                // The line is the merge of every document of the patient, bundle id as its own.
                *line = merged_patient(&self.patients[id.as_str()]);
            }
            for (t, id, line) in lines {
                let h = line_hash(&line);
                let ids = self.index.entry(t.clone()).or_default();
                match ids.get(&id).cloned() {
                    Some((old, by)) if old == h => {
                        // The same line: the later of the two documents holds it now.
                        if by.as_str() < bundle_id.as_str() {
                            ids.insert(id, (h, bundle_id.clone()));
                        }
                    }
                    // A later document's line stands (a Patient's line is every document's merge).
                    Some((_, by)) if t != "Patient" && by.as_str() > bundle_id.as_str() => {}
                    Some((old, _)) => {
                        ids.insert(id.clone(), (h, bundle_id.clone()));
                        let fresh = appends.get_mut(&t).and_then(|lines| {
                            lines.iter().position(|l| line_id(l).as_deref() == Some(id.as_str())).map(|i| (lines, i))
                        });
                        match fresh {
                            // Appended in this flush already: replaced there.
                            Some((lines, i)) => lines[i] = line,
                            None => {
                                let lines = replaced.entry(t).or_default();
                                // Replaced twice in one flush: the file still holds the first.
                                let first = lines.iter().find(|(_, l)| line_id(l).as_deref() == Some(id.as_str()));
                                let key = first.map_or(old, |(k, _)| *k);
                                lines.insert(key, line);
                            }
                        }
                    }
                    None => {
                        ids.insert(id, (h, bundle_id.clone()));
                        appends.entry(t).or_default().push(line);
                    }
                }
            }
        }
        let ndjson = root.join("ndjson");
        let mut n = 0;
        for (t, changes) in &replaced {
            // Read and written through, line by line: never the whole file in memory.
            use std::io::BufRead;
            let path = ndjson.join(format!("{t}.ndjson"));
            let text = std::io::BufReader::new(std::fs::File::open(&path).map_err(io(&path))?);
            let mut out = Rewrite::create(&path)?;
            for line in text.lines() {
                let line = line.map_err(io(&path))?;
                out.line(changes.get(&line_hash(&line)).map_or(&line, String::as_str))?;
            }
            for line in appends.remove(t).unwrap_or_default() {
                out.line(&line)?;
                n += 1;
            }
            out.finish()?;
            n += changes.len();
        }
        for (t, lines) in appends {
            let path = ndjson.join(format!("{t}.ndjson"));
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?;
            let mut out = String::new();
            for line in &lines {
                out.push_str(line);
                out.push('\n');
            }
            std::io::Write::write_all(&mut f, out.as_bytes()).map_err(io(&path))?;
            n += lines.len();
        }
        Ok(Some(n))
    }
}

/// The id of an NDJSON line.
fn line_id(line: &str) -> Option<String> {
    serde_json::from_str::<Value>(line).ok()?["id"].as_str().map(str::to_string)
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
            self.ndjson.lock().unwrap().pending.push(bundle.id.clone());
        }
        let status = if existed { 200 } else { 201 };
        Ok(WriteOutcome::whole(bundle, status))
    }

    async fn flush(&self) -> Result<(), SinkError> {
        let _guard = self.lock.lock().await;
        let (root, ndjson) = (self.root.clone(), self.ndjson.clone());
        tokio::task::spawn_blocking(move || ndjson.lock().unwrap().apply(&root))
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

    #[tokio::test]
    async fn a_flush_appends_the_new_documents_and_replaces_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        for id in ["a", "b", "c"] {
            sink.write(&bundle(id, "Doe")).await.unwrap();
        }
        sink.flush().await.unwrap();
        let path = dir.path().join("ndjson/Condition.ndjson");
        let before = std::fs::read_to_string(&path).unwrap();
        // A new document: its lines are appended, what was there is left as it was.
        sink.write(&bundle("d", "Doe")).await.unwrap();
        sink.flush().await.unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(after.starts_with(&before) && after.lines().count() == 4, "{after}");
        // A document that changes a shared resource: replaced in place, never twice.
        sink.write(&bundle("e", "Roe")).await.unwrap();
        sink.flush().await.unwrap();
        let patients = std::fs::read_to_string(dir.path().join("ndjson/Patient.ndjson")).unwrap();
        assert_eq!(patients.lines().count(), 1);
        assert!(patients.contains("Roe"));
    }

    async fn patients_after(order: [(&'static str, &'static str); 2]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        for (id, name) in order {
            sink.write(&bundle(id, name)).await.unwrap();
            sink.flush().await.unwrap();
        }
        std::fs::read_to_string(dir.path().join("ndjson/Patient.ndjson")).unwrap()
    }

    #[tokio::test]
    async fn a_patient_is_what_all_its_documents_say_whatever_order_they_finished_in() {
        let one = patients_after([("a", "Doe"), ("b", "Roe")]).await;
        let other = patients_after([("b", "Roe"), ("a", "Doe")]).await;
        assert_eq!(one, other);
        assert_eq!(one.lines().count(), 1);
        assert!(one.contains("Roe") && one.contains("Doe"), "both documents' names: {one}");
    }

    #[tokio::test]
    async fn a_document_that_says_less_erases_nothing_another_wrote() {
        let mut intake = bundle("a", "Doe");
        intake.entries[0].resource["address"] = json!([{"use": "home", "text": "12 Elm St, Springfield"}]);
        intake.entries[0].resource["gender"] = json!("female");
        let lab = bundle("b", "Doe");
        for order in [[&intake, &lab], [&lab, &intake]] {
            let dir = tempfile::tempdir().unwrap();
            let sink = DirSink::new(dir.path()).unwrap();
            for b in order {
                sink.write(b).await.unwrap();
                sink.flush().await.unwrap();
            }
            let line = std::fs::read_to_string(dir.path().join("ndjson/Patient.ndjson")).unwrap();
            let p: Value = serde_json::from_str(line.trim()).unwrap();
            assert_eq!(p["address"][0]["text"], "12 Elm St, Springfield");
            assert_eq!(p["gender"], "female");
            assert_eq!(p["name"].as_array().unwrap().len(), 1, "{p}");
            // A new process rebuilds the same line.
            drop(sink);
            let again = DirSink::new(dir.path()).unwrap();
            again.flush().await.unwrap();
            assert_eq!(std::fs::read_to_string(dir.path().join("ndjson/Patient.ndjson")).unwrap(), line);
        }
    }

    #[tokio::test]
    async fn across_processes_a_patient_stays_merged_and_a_resource_that_left_goes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let sink = DirSink::new(dir.path()).unwrap();
            sink.write(&bundle("a", "Doe")).await.unwrap();
            sink.write(&bundle("b", "Roe")).await.unwrap();
            sink.flush().await.unwrap();
        }
        // Another process: a duplicate of a's input rewrites it unchanged.
        let sink = DirSink::new(dir.path()).unwrap();
        sink.write(&bundle("a", "Doe")).await.unwrap();
        sink.flush().await.unwrap();
        let patients = std::fs::read_to_string(dir.path().join("ndjson/Patient.ndjson")).unwrap();
        assert!(patients.contains("Roe") && patients.contains("Doe") && patients.lines().count() == 1, "{patients}");
        // a processed again without its Condition (a newer engine): the stale line goes.
        let mut fewer = bundle("a", "Doe");
        fewer.entries.retain(|e| e.resource_type != "Condition");
        sink.write(&fewer).await.unwrap();
        sink.flush().await.unwrap();
        let conditions = std::fs::read_to_string(dir.path().join("ndjson/Condition.ndjson")).unwrap();
        assert_eq!(conditions.lines().count(), 1, "{conditions}");
        assert!(conditions.contains("c-b"));
    }

    #[tokio::test]
    async fn a_damaged_bundle_is_set_aside_and_the_rest_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        sink.write(&bundle("a", "Doe")).await.unwrap();
        sink.flush().await.unwrap();
        sink.write(&bundle("b", "Doe")).await.unwrap();
        let path = dir.path().join("bundles/b.json");
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, b"{ not json").unwrap();
        // A pending bundle, and one the next process finds damaged: neither stops the flush.
        sink.flush().await.unwrap();
        let conditions = || std::fs::read_to_string(dir.path().join("ndjson/Condition.ndjson")).unwrap();
        assert_eq!(conditions().lines().count(), 1, "{}", conditions());
        assert!(!path.exists());
        assert_eq!(std::fs::read(dir.path().join("bundles/damaged/b.json")).unwrap(), b"{ not json", "kept, not lost");
        std::fs::write(dir.path().join("bundles/c.json"), &good[..good.len() / 2]).unwrap();
        let next = DirSink::new(dir.path()).unwrap();
        next.flush().await.unwrap();
        assert!(dir.path().join("bundles/damaged/c.json").exists());
        // The document written again is flushed again.
        next.write(&bundle("b", "Doe")).await.unwrap();
        next.flush().await.unwrap();
        assert_eq!(conditions().lines().count(), 2, "b is back: {}", conditions());
    }

    #[tokio::test]
    async fn a_new_process_applies_what_a_crash_left_out_and_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        {
            let sink = DirSink::new(dir.path()).unwrap();
            sink.write(&bundle("a", "Doe")).await.unwrap();
            sink.flush().await.unwrap();
            // Written, then the process dies before its flush (or in the middle of an append).
            sink.write(&bundle("b", "Doe")).await.unwrap();
        }
        let path = dir.path().join("ndjson/Condition.ndjson");
        let mut cut = std::fs::read_to_string(&path).unwrap();
        cut.push_str("{\"resourceType\":\"Cond");
        std::fs::write(&path, cut).unwrap();
        let sink = DirSink::new(dir.path()).unwrap();
        sink.flush().await.unwrap();
        let conditions = std::fs::read_to_string(dir.path().join("ndjson/Condition.ndjson")).unwrap();
        assert_eq!(conditions.lines().count(), 2, "{conditions}");
        assert!(conditions.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "no stub left: {conditions}");
        sink.flush().await.unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("ndjson/Condition.ndjson")).unwrap(), conditions);
    }
}
