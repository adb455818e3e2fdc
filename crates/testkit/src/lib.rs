//! paperchart's test kit: what every integration test and seam test shares.
//!
//! - The binaries and their inputs and outputs: [`paperchart`], [`scheduler`], [`samples`],
//!   [`bundles_by_document`], the FHIR validator ([`validate_fhir`]).
//! - Real peers on loopback, started by hand and stopped when dropped: the Helios FHIR Server
//!   ([`hfs::FhirServer`]), moto, the AWS emulator ([`moto::Moto`]), a scripted FHIR server for
//!   failure cases ([`scripted`]), a proxy that gives a real one bad days
//!   ([`fault_proxy::FaultProxy`]); with the `aws` feature, a whole fleet on one machine
//!   ([`fleet::Fleet`]).
//! - Fakes behind the seams, for unit tests: an in-memory queue with SQS's semantics and an
//!   in-memory sink ([`memory`]).
//! - The seam contracts, written once and run against every implementation ([`contract`]).
//!
//! Every harness that needs a tool says how to install it when the tool is missing; none skips.

pub mod contract;
pub mod fault_proxy;
#[cfg(feature = "aws")]
pub mod fleet;
pub mod hfs;
pub mod memory;
pub mod moto;
pub mod scripted;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use fault_proxy::{FaultProxy, Rng};
pub use hfs::FhirServer;
pub use moto::Moto;
pub use scripted::{scripted, scripted_with, Reply, Request, Requests};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A binary of the workspace, built beside the running test (same target folder, same profile).
pub fn binary_named(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target folder");
    let bin = dir.join(name);
    assert!(bin.exists(), "{} not built: run `cargo build --workspace --all-features` (make test does)", bin.display());
    bin
}

/// The `paperchart` binary.
pub fn binary() -> PathBuf {
    binary_named("paperchart")
}

pub fn samples() -> PathBuf {
    root().join("samples")
}

/// `paperchart` with a clean environment for its configuration.
pub fn paperchart() -> Command {
    let mut c = Command::new(binary());
    // No metrics endpoint unless a test asks for one on a port of its own.
    c.env_remove("PAPERCHART_CONFIG").env("PAPERCHART_LOG", "warn").env("PAPERCHART__METRICS__PORT", "0");
    for (k, _) in std::env::vars() {
        if k.starts_with("PAPERCHART__") {
            c.env_remove(k);
        }
    }
    c
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run paperchart");
    assert!(
        out.status.success(),
        "paperchart failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every transaction Bundle in `out/bundles`, by the title of its source document.
pub fn bundles_by_document(out: &Path) -> std::collections::BTreeMap<String, Value> {
    let mut map = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(out.join("bundles")).expect("bundles folder") {
        let b = read_json(&e.expect("entry").path());
        let title = resources(&b, "DocumentReference")[0]["content"][0]["attachment"]["title"]
            .as_str()
            .expect("document title")
            .to_string();
        map.insert(title, b);
    }
    map
}

pub fn resources<'a>(bundle: &'a Value, resource_type: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == resource_type)
        .collect()
}

/// Polls `check` until it holds or `timeout` passes.
pub fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Node and the FHIR validator's packages, or a failure that says how to install them.
pub fn validate_fhir(paths: &[&Path]) -> String {
    let dir = root().join("scripts/harness/fhir-validator");
    assert!(
        dir.join("node_modules/@medplum/core").exists(),
        "Medplum's FHIR validator is not installed: run `npm ci --prefix scripts/harness/fhir-validator` (make test does)"
    );
    let out = Command::new("node")
        .arg(dir.join("validate.mjs"))
        .args(paths)
        .output()
        .expect("node is needed to validate FHIR: apt-get install nodejs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "FHIR validation failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Every resource type paperchart writes.
pub const RESOURCE_TYPES: &[&str] = &[
    "Patient",
    "DocumentReference",
    "Condition",
    "MedicationStatement",
    "Observation",
    "AllergyIntolerance",
    "Procedure",
    "FamilyMemberHistory",
    "Provenance",
];

/// A minimal HTTP/1.1 GET on 127.0.0.1: status and body, or None when nothing answers.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    Some((status, body))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// `paperchart-scheduler` with a clean environment for its configuration.
pub fn scheduler() -> Command {
    let mut c = Command::new(binary_named("paperchart-scheduler"));
    c.env_remove("PAPERCHART_CONFIG").env("PAPERCHART_LOG", "info").env("PAPERCHART__SCHEDULER__METRICS_PORT", "0");
    for (k, _) in std::env::vars() {
        if k.starts_with("PAPERCHART__") {
            c.env_remove(k);
        }
    }
    c
}

/// The events `event` of a JSON log (lines with that `event` field): what tests assert on,
/// rather than log sentences.
pub fn events(log: &str, event: &str) -> Vec<Value> {
    log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v["event"] == event).collect()
}
