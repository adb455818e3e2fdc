//! A Helios FHIR Server on 127.0.0.1 with validation enforced: the real FHIR server the tests
//! write to.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::{free_port, http_get, root, wait_for};

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
