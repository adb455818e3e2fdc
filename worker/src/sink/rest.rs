//! The FHIR REST sink: transaction Bundles POSTed to a FHIR R4 server's base URL.
//!
//! Large Bundles are split at `max_entries`. 429 and 5xx answers and network errors are retried
//! with exponential backoff and full jitter, honouring `Retry-After`; other 4xx answers are
//! permanent and carry the server's OperationOutcome. Every entry of the response must report a
//! 2xx status. Only status codes and error classes are logged, never the Bundle or the
//! OperationOutcome (both may hold patient data).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{EntryOutcome, FhirSink, SinkError, WriteOutcome};
use crate::config::SinkConfig;
use crate::fhir::Bundle;

pub struct RestSink {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    signer: Option<Signer>,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_entries: usize,
}

/// A number in `0..n` that differs between calls: enough randomness for jitter, no dependency.
fn jitter(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    if n == 0 {
        return 0;
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish() % n
}

/// Delay before attempt `attempt + 1`: full jitter over an exponential ceiling, at least what the
/// server asked for, never more than `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration, retry_after: Option<Duration>) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(max);
    let jittered = Duration::from_millis(jitter(ceiling.as_millis() as u64 + 1));
    retry_after.map_or(jittered, |r| r.max(jittered)).min(max)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = when - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs(wait.whole_seconds().max(0) as u64))
}

/// A short account of an OperationOutcome: severity, code and diagnostics of each issue.
pub fn outcome_summary(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(300).collect();
    };
    let issues: Vec<String> = v["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let text = i["diagnostics"].as_str().or(i["details"]["text"].as_str()).unwrap_or("");
            let at = i["expression"][0].as_str().unwrap_or("");
            format!("{} {}: {} {}", i["severity"].as_str().unwrap_or("?"), i["code"].as_str().unwrap_or("?"), at, text)
                .trim()
                .to_string()
        })
        .collect();
    if issues.is_empty() {
        body.chars().take(300).collect()
    } else {
        issues.join("; ")
    }
}

/// AWS SigV4 signing of each request (HealthLake's data plane).
pub struct Signer {
    pub credentials: aws_credential_types::provider::SharedCredentialsProvider,
    pub region: String,
    pub service: String,
}

impl Signer {
    /// The headers to add to a request: `authorization`, `x-amz-date`, and the session token.
    async fn headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, SinkError> {
        use aws_credential_types::provider::ProvideCredentials;
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let fail = |what: &str, e: &dyn std::fmt::Display| SinkError::Rejected {
            status: 0,
            detail: format!("SigV4 {what}: {e}"),
        };
        let creds = self.credentials.provide_credentials().await.map_err(|e| SinkError::Transient {
            status: None,
            detail: format!("AWS credentials: {e}"),
            retry_after: None,
        })?;
        let identity = creds.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail("parameters", &e))?
            .into();
        let signable = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
            .map_err(|e| fail("request", &e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| fail("signature", &e))?.into_parts();
        Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }
}

impl RestSink {
    /// Signs every request with `signer` (HealthLake).
    pub fn with_signer(mut self, signer: Signer) -> RestSink {
        self.signer = Some(signer);
        self
    }

    pub fn new(cfg: &SinkConfig, max_entries: usize) -> Result<RestSink, SinkError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .user_agent(concat!("paperchart/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SinkError::Transient {
                status: None,
                detail: format!("HTTP client: {e}"),
                retry_after: None,
            })?;
        Ok(RestSink {
            client,
            base: cfg.fhir_url.trim_end_matches('/').to_string(),
            token: Some(cfg.bearer_token.clone()).filter(|t| !t.is_empty()),
            signer: None,
            max_attempts: cfg.max_attempts,
            backoff_base: Duration::from_millis(cfg.backoff_base_ms),
            backoff_max: Duration::from_millis(cfg.backoff_max_ms),
            max_entries,
        })
    }

    /// A request with its headers, signed when a signer is set.
    async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<reqwest::RequestBuilder, SinkError> {
        const FHIR_JSON: &str = "application/fhir+json";
        let mut r = self.client.request(method.clone(), url).header(reqwest::header::ACCEPT, FHIR_JSON);
        let body = body.unwrap_or_default();
        let is_post = method == reqwest::Method::POST;
        if is_post {
            r = r.header(reqwest::header::CONTENT_TYPE, FHIR_JSON);
        }
        if let Some(s) = &self.signer {
            let mut headers = vec![("accept", FHIR_JSON)];
            if is_post {
                headers.push(("content-type", FHIR_JSON));
            }
            for (k, v) in s.headers(method.as_str(), url, &headers, &body).await? {
                r = r.header(k, v);
            }
        } else if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        if is_post {
            r = r.body(body);
        }
        Ok(r)
    }

    /// Reads the server's CapabilityStatement; fails when it is not a FHIR R4 server.
    pub async fn check(&self) -> Result<String, SinkError> {
        let url = format!("{}/metadata", self.base);
        let resp =
            self.request(reqwest::Method::GET, &url, None).await?.send().await.map_err(|e| SinkError::Transient {
                status: None,
                detail: format!("cannot reach the FHIR server at {}: {e}", self.base),
                retry_after: None,
            })?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        if status != 200 {
            return Err(SinkError::Rejected {
                status,
                detail: format!("{url} answered {status}; is sink.fhir_url a FHIR base URL?"),
            });
        }
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let version = v["fhirVersion"].as_str().unwrap_or("").to_string();
        if v["resourceType"] != "CapabilityStatement" || !version.starts_with("4.0") {
            return Err(SinkError::Rejected {
                status,
                detail: format!("{url} is not a FHIR R4 CapabilityStatement (fhirVersion {version:?})"),
            });
        }
        Ok(version)
    }

    async fn post_once(&self, body: &Value) -> Result<Vec<EntryOutcome>, SinkError> {
        let resp = self
            .request(reqwest::Method::POST, &self.base, Some(body.to_string().into_bytes()))
            .await?
            .send()
            .await
            .map_err(|e| {
                crate::metrics::sink_request(None);
                SinkError::Transient { status: None, detail: format!("network: {e}"), retry_after: None }
            })?;
        let status = resp.status().as_u16();
        crate::metrics::sink_request(Some(status));
        let wait = retry_after(resp.headers());
        let text = resp.text().await.unwrap_or_default();
        if status == 429 || status >= 500 {
            return Err(SinkError::Transient {
                status: Some(status),
                detail: format!("HTTP {status}: {}", outcome_summary(&text)),
                retry_after: wait,
            });
        }
        if !(200..300).contains(&status) {
            return Err(SinkError::Rejected { status, detail: outcome_summary(&text) });
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| SinkError::Rejected { status, detail: format!("response is not JSON: {e}") })?;
        let requests = body["entry"].as_array().cloned().unwrap_or_default();
        let responses = v["entry"].as_array().cloned().unwrap_or_default();
        if responses.len() != requests.len() {
            return Err(SinkError::Rejected {
                status,
                detail: format!("transaction-response has {} entries for {} sent", responses.len(), requests.len()),
            });
        }
        let mut out = Vec::with_capacity(requests.len());
        for (req, res) in requests.iter().zip(&responses) {
            let line = res["response"]["status"].as_str().unwrap_or("");
            let code: u16 = line.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(0);
            let url = req["request"]["url"].as_str().unwrap_or("");
            let (t, id) = url.split_once('/').unwrap_or((url, ""));
            if !(200..300).contains(&code) {
                return Err(SinkError::Rejected {
                    status: code,
                    detail: format!("{t}/{id}: {line} {}", outcome_summary(&res["response"]["outcome"].to_string())),
                });
            }
            out.push(EntryOutcome { resource_type: t.to_string(), id: id.to_string(), status: code });
        }
        Ok(out)
    }
}

#[async_trait]
impl FhirSink for RestSink {
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        let mut outcome = WriteOutcome::default();
        for part in bundle.chunks(self.max_entries) {
            let mut attempt = 0;
            loop {
                attempt += 1;
                outcome.attempts += 1;
                match self.post_once(&part).await {
                    Ok(entries) => {
                        outcome.entries.extend(entries);
                        break;
                    }
                    // The detail may quote the server's OperationOutcome: not logged.
                    Err(SinkError::Transient { status, detail: _, retry_after }) if attempt < self.max_attempts => {
                        let wait = backoff(attempt, self.backoff_base, self.backoff_max, retry_after);
                        crate::metrics::sink_retry();
                        tracing::warn!(
                            status = status.unwrap_or(0),
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            "fhir write retrying"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(outcome)
    }

    fn describe(&self) -> String {
        format!("FHIR server {}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 1..10 {
            let d = backoff(attempt, base, max, None);
            assert!(d <= base * (1 << attempt) && d <= max, "{attempt}: {d:?}");
        }
        assert!(backoff(1, base, max, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(backoff(1, base, max, Some(Duration::from_secs(60))), max);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn summarises_operation_outcomes() {
        let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"bad date","expression":["Patient.birthDate"]}]}"#;
        assert_eq!(outcome_summary(oo), "error invalid: Patient.birthDate bad date");
        assert_eq!(outcome_summary("plain"), "plain");
    }
}

#[cfg(test)]
mod signing_tests {
    use super::*;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    #[tokio::test]
    async fn sigv4_headers_name_the_service_and_region() {
        let signer = Signer {
            credentials: SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            )),
            region: "us-east-1".into(),
            service: "healthlake".into(),
        };
        let headers = signer
            .headers(
                "POST",
                "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
                &[("content-type", "application/fhir+json")],
                b"{}",
            )
            .await
            .unwrap();
        let get = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {k} in {headers:?}"))
        };
        let auth = get("authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/us-east-1/healthlake/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date"), "{auth}");
        assert_eq!(get("x-amz-security-token"), "session");
        assert_eq!(get("x-amz-date").len(), 16);
        assert_eq!(
            crate::app::healthlake_region("https://healthlake.eu-west-2.amazonaws.com/datastore/x/r4/").as_deref(),
            Some("eu-west-2")
        );
        assert_eq!(crate::app::healthlake_region("http://127.0.0.1:8080/fhir"), None);
    }
}
