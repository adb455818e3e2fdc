//! `paperchart watch`: the durable local queue under crashes and signals.
//!
//! - `kill -9` in the middle of a document loses nothing: after a restart the document comes back
//!   when its lease runs out, is processed again, and the output holds no duplicate.
//! - SIGTERM releases unfinished work at once (no waiting for the lease), and the worker exits.
//! - A bad file goes to the dead letters with its reason while the worker keeps going.
//! - A file copied in slowly is read once, whole, when it has held still for the settle time;
//!   a name that is not UTF-8 is read by its bytes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paperchart_testkit::*;
use serde_json::Value;

struct Watcher {
    child: Child,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl Watcher {
    fn start(dir: &Path, out: &Path, env: &[(&str, &str)]) -> Watcher {
        let mut cmd = paperchart();
        cmd.env("PAPERCHART_LOG", "info")
            .env("PAPERCHART__WORKER__POLL_INTERVAL_MS", "100")
            .env("PAPERCHART__WORKER__CONCURRENCY", "1")
            .args(["watch", "--out"])
            .arg(out)
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start watch");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        Watcher { child, logs }
    }

    /// Its log's events `event`.
    fn events(&self, event: &str) -> Vec<Value> {
        self.logs.lock().unwrap().iter().filter(|l| l["event"] == event).cloned().collect()
    }

    /// Its messages settled the way `how` names.
    fn settled(&self, how: &str) -> Vec<Value> {
        self.events("message_settled").into_iter().filter(|e| e["settlement"] == how).collect()
    }

    fn wait_started(&self, n: usize, timeout: Duration) {
        wait_for(&format!("{n} job_started events"), timeout, || self.events("job_started").len() >= n);
    }

    fn wait_settled(&self, how: &str, n: usize, timeout: Duration) {
        wait_for(&format!("{n} messages {how}"), timeout, || self.settled(how).len() >= n);
    }

    fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut status = None;
        wait_for("watch to exit", timeout, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bundle_files(out: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(out.join("bundles")).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default()
}

/// Every NDJSON line's id is unique within its file.
fn assert_no_duplicates(out: &Path) {
    for e in std::fs::read_dir(out.join("ndjson")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string())
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids in {}", p.display());
    }
}

#[test]
fn kill_9_mid_document_loses_nothing_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&dir).unwrap();
    let env = [("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "4"), ("PAPERCHART__WORKER__HEARTBEAT_SECS", "1")];

    let mut first = Watcher::start(&dir, &out, &env);
    std::fs::copy(samples().join("documents/discharge-summary-scanned.pdf"), dir.join("discharge.pdf")).unwrap();
    first.wait_started(1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    first.child.kill().unwrap(); // SIGKILL: no chance to release or clean up
    first.child.wait().unwrap();
    assert!(bundle_files(&out).is_empty(), "the document must still be in flight when the worker dies");
    assert!(first.settled("written").is_empty());

    // A new worker gets the message back once the dead worker's lease runs out.
    let second = Watcher::start(&dir, &out, &env);
    second.wait_settled("written", 1, Duration::from_secs(120));
    let started = second.events("job_started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["receive_count"], 2, "the same message, delivered a second time");
    wait_for("NDJSON", Duration::from_secs(30), || out.join("ndjson/Patient.ndjson").exists());
    assert_eq!(bundle_files(&out).len(), 1);
    assert_no_duplicates(&out);
    let patients = std::fs::read_to_string(out.join("ndjson/Patient.ndjson")).unwrap();
    assert_eq!(patients.lines().count(), 1);

    // Dropping the same file again (same content, new name) is an upsert, not a duplicate.
    std::fs::copy(samples().join("documents/discharge-summary-scanned.pdf"), dir.join("discharge-copy.pdf")).unwrap();
    second.wait_settled("written", 2, Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(bundle_files(&out).len(), 1);
    assert_no_duplicates(&out);
}

#[test]
fn sigterm_releases_unfinished_work_at_once_and_bad_files_are_dead_lettered() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&dir).unwrap();
    // A long lease: if the document came back quickly, it was released, not expired.
    let env =
        [("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "600"), ("PAPERCHART__WORKER__SHUTDOWN_GRACE_SECS", "0")];

    let mut first = Watcher::start(&dir, &out, &env);
    std::fs::copy(samples().join("documents/referral-letter.tif"), dir.join("referral.tif")).unwrap();
    first.wait_started(1, Duration::from_secs(60));
    first.signal(libc::SIGTERM);
    let status = first.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "watch exits cleanly on SIGTERM: {status}");
    assert_eq!(first.settled("interrupted").len(), 1);

    let mut second = Watcher::start(&dir, &out, &env);
    std::fs::copy(root().join("tests/fixtures/bad/corrupt.pdf"), dir.join("corrupt.pdf")).unwrap();
    second.wait_settled("written", 1, Duration::from_secs(120));
    second.wait_settled("dead_lettered", 1, Duration::from_secs(60));
    wait_for("the dead-letter file", Duration::from_secs(30), || {
        std::fs::read_to_string(out.join("dead-letter.ndjson")).is_ok_and(|t| t.contains("corrupt.pdf"))
    });
    let dead = std::fs::read_to_string(out.join("dead-letter.ndjson")).unwrap();
    let dl: Value = serde_json::from_str(dead.lines().next().unwrap()).unwrap();
    assert!(dl["reason"].as_str().unwrap().starts_with("corrupt: corrupt PDF"), "{dl}");
    // Its log line names the document by its id (never by its file's name).
    let failed = second.events("document_failed");
    assert!(
        !failed.is_empty() && failed.iter().all(|e| e["document"].as_str().is_some_and(|d| d.len() >= 16)),
        "{failed:?}"
    );
    assert_eq!(bundle_files(&out).len(), 1, "the referral letter was written");

    second.signal(libc::SIGINT);
    assert!(second.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn a_file_copied_in_slowly_is_read_once_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&dir).unwrap();
    // Polled every 100 ms: each pause of the copy below spans several scans that see the file
    // unchanged. Only the settle time (the default, 3 s) tells a pause from the end.
    let watcher = Watcher::start(&dir, &out, &[]);
    let bytes = std::fs::read(samples().join("documents/intake-form.jpg")).unwrap();
    // Named in Latin-1, as an old share writes names: read by its bytes, not "not found".
    let target = dir.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"intake-M\xfcller.jpg"));
    let chunk = bytes.len().div_ceil(8);
    for part in bytes.chunks(chunk) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&target).unwrap();
        f.write_all(part).unwrap();
        f.sync_all().unwrap();
        drop(f);
        std::thread::sleep(Duration::from_millis(1200));
    }
    watcher.wait_settled("written", 1, Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(watcher.events("job_started").len(), 1, "one reading of the whole file, none of its parts");
    assert!(watcher.settled("dead_lettered").is_empty(), "{:?}", watcher.settled("dead_lettered"));
    assert_eq!(bundle_files(&out).len(), 1);
}
