//! Helpers shared by the integration tests: the binary, its inputs, and reading its output.
#![allow(dead_code)]

pub mod fleet;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The `paperchart` binary: Cargo's own for the worker's tests, the workspace's for others.
pub fn binary() -> PathBuf {
    option_env!("CARGO_BIN_EXE_paperchart").map(PathBuf::from).unwrap_or_else(|| root().join("target/debug/paperchart"))
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

/// A Helios FHIR Server on 127.0.0.1 with validation enforced, stopped when dropped.
pub struct FhirServer {
    child: std::process::Child,
    pub base: String,
}

impl FhirServer {
    /// Starts the server built by `make hfs` (or the one `PAPERCHART_TEST_HFS` names).
    pub fn start() -> FhirServer {
        let bin = std::env::var_os("PAPERCHART_TEST_HFS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join(".cache/hfs/bin/hfs"));
        assert!(
            bin.exists(),
            "Helios FHIR Server not found at {}: run `make hfs` (make test does), or set PAPERCHART_TEST_HFS",
            bin.display()
        );
        let port = free_port();
        let data = tempfile::tempdir().expect("tempdir").keep();
        let child = Command::new(bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--database-url",
                ":memory:",
                "--log-level",
                "error",
            ])
            .env("HFS_VALIDATION_MODE", "enforce")
            .current_dir(&data)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start Helios");
        let base = format!("http://127.0.0.1:{port}");
        let server = FhirServer { child, base };
        wait_for("the FHIR server to answer /metadata", Duration::from_secs(60), || {
            http_get(&format!("{}/metadata", server.base)).is_some_and(|(status, _)| status == 200)
        });
        server
    }

    /// Resources of a type on the server. Helios answers 503 while its SQLite table is locked
    /// by a write: that is retried.
    pub fn count(&self, resource_type: &str) -> u64 {
        let url = format!("{}/{resource_type}?_summary=count", self.base);
        let (mut status, mut body) = http_get(&url).expect("search");
        for _ in 0..50 {
            if status != 503 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            (status, body) = http_get(&url).expect("search");
        }
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("bundle");
        v["total"].as_u64().expect("total")
    }
}

impl Drop for FhirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// A moto server (AWS emulator) on 127.0.0.1, started from the venv `make py-tools` builds and
/// stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
    /// The venv's Python (with boto3), for the scripts that drive the emulator.
    pub python: PathBuf,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// With extra environment for the server, e.g. `MOTO_ECS_SERVICE_RUNNING`.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let python = std::env::var_os("PAPERCHART_TEST_MOTO_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join(".cache/py-tools/bin/python"));
        assert!(
            python.exists(),
            "moto is not installed at {}: run `make py-tools` (make test does), or set PAPERCHART_TEST_MOTO_PYTHON",
            python.display()
        );
        let port = free_port();
        let child = Command::new(&python)
            .arg(root().join("scripts/moto_server.py"))
            .args(["--port", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto");
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto { child, endpoint, python };
        wait_for("moto to answer", Duration::from_secs(60), || {
            http_get(&format!("{}/moto-api/", moto.endpoint)).is_some_and(|(s, _)| s == 200)
        });
        moto
    }

    /// Environment for a paperchart process (or an SDK client) talking to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("PAPERCHART__AWS__REGION", "us-east-1".into()),
            ("PAPERCHART__AWS__ENDPOINT_URL", self.endpoint.clone()),
            ("PAPERCHART__AWS__S3_PATH_STYLE", "true".into()),
        ]
    }

    pub fn aws_config(&self) -> paperchart::config::AwsConfig {
        paperchart::config::AwsConfig {
            region: "us-east-1".into(),
            endpoint_url: self.endpoint.clone(),
            s3_path_style: true,
        }
    }

    /// SDK configuration for this server, with test credentials.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        // SAFETY-free: the SDK reads credentials from the environment of this test process.
        for (k, v) in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")] {
            if std::env::var(k).ok().as_deref() != Some(v) {
                unsafe { std::env::set_var(k, v) };
            }
        }
        paperchart::aws::sdk_config(&self.aws_config()).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply of the scripted FHIR server to one POST.
#[derive(Clone)]
pub enum Reply {
    Status(u16, Vec<(&'static str, &'static str)>, &'static str),
    /// A transaction-response with `201 Created` for every entry.
    Accept,
}

/// One request the scripted server saw.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: std::time::Instant,
    /// `POST /path HTTP/1.1`
    pub line: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub type Requests = std::sync::Arc<std::sync::Mutex<Vec<Request>>>;

/// A FHIR server on 127.0.0.1 that serves `/metadata` as R4 and answers POSTs with `script` in
/// order, then accepts. Returns the base URL and every request it saw.
pub fn scripted(script: Vec<Reply>) -> (String, Requests) {
    use serde_json::json;
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests: Requests = Default::default();
    let seen = requests.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let length = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let line = line.trim_end().to_string();
            seen.lock().unwrap().push(Request { at: std::time::Instant::now(), line: line.clone(), headers });
            let (status, extra, text) = if line.starts_with("GET") {
                let cs = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "status": "active"});
                (200, vec![], cs.to_string())
            } else {
                match script.next().unwrap_or(Reply::Accept) {
                    Reply::Status(s, h, b) => (s, h, b.to_string()),
                    Reply::Accept => {
                        let req: Value = serde_json::from_slice(&body).unwrap();
                        let n = req["entry"].as_array().map_or(0, Vec::len);
                        let entries = vec![json!({"response": {"status": "201 Created"}}); n];
                        (
                            200,
                            vec![],
                            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
                                .to_string(),
                        )
                    }
                }
            };
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n",
                text.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = stream.write_all(format!("{head}\r\n{text}").as_bytes());
        }
    });
    (base, requests)
}

/// `paperchart-scheduler` with a clean environment for its configuration.
pub fn scheduler() -> Command {
    let bin = option_env!("CARGO_BIN_EXE_paperchart-scheduler")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/paperchart-scheduler"));
    let mut c = Command::new(bin);
    c.env_remove("PAPERCHART_CONFIG").env("PAPERCHART_LOG", "info").env("PAPERCHART__SCHEDULER__METRICS_PORT", "0");
    for (k, _) in std::env::vars() {
        if k.starts_with("PAPERCHART__") {
            c.env_remove(k);
        }
    }
    c
}
