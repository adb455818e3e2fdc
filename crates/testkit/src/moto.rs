//! moto, the AWS emulator, on 127.0.0.1 (patched by `scripts/harness/moto_server.py`): S3, SQS, SNS,
//! Textract (reading with Tesseract), IAM, KMS, CloudWatch, ECS.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{free_port, http_get, root, wait_for};

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
            .arg(root().join("scripts/harness/moto_server.py"))
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

    pub fn aws_config(&self) -> paperchart_core::config::AwsConfig {
        paperchart_core::config::AwsConfig {
            region: "us-east-1".into(),
            endpoint_url: self.endpoint.clone(),
            s3_path_style: true,
        }
    }

    /// SDK configuration for this server, with test credentials.
    #[cfg(feature = "aws")]
    pub async fn sdk(&self) -> paperchart_aws::SdkConfig {
        // SAFETY-free: the SDK reads credentials from the environment of this test process.
        for (k, v) in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")] {
            if std::env::var(k).ok().as_deref() != Some(v) {
                unsafe { std::env::set_var(k, v) };
            }
        }
        paperchart_aws::sdk_config(&self.aws_config()).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
