//! Helpers shared by the integration tests: the binary, its inputs, and reading its output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_paperchart"))
}

pub fn samples() -> PathBuf {
    root().join("samples")
}

/// `paperchart` with a clean environment for its configuration.
pub fn paperchart() -> Command {
    let mut c = Command::new(binary());
    c.env_remove("PAPERCHART_CONFIG")
        .env("PAPERCHART_LOG", "warn");
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
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Node and the FHIR validator's packages, or a failure that says how to install them.
pub fn validate_fhir(paths: &[&Path]) -> String {
    let dir = root().join("scripts/fhir-validator");
    assert!(
        dir.join("node_modules/@medplum/core").exists(),
        "Medplum's FHIR validator is not installed: run `npm ci --prefix scripts/fhir-validator` (make test does)"
    );
    let out = Command::new("node")
        .arg(dir.join("validate.mjs"))
        .args(paths)
        .output()
        .expect("node is needed to validate FHIR: apt-get install nodejs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "FHIR validation failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
