//! The FHIR REST sink: transaction Bundles POSTed to a FHIR R4 server's base URL.
//!
//! Large Bundles are split at `max_entries`. 429 and 5xx answers and network errors are retried
//! with the one backoff (exponential, jittered), honouring `Retry-After`; other 4xx answers are
//! permanent and carry the server's OperationOutcome. Every entry of the response must report a
//! 2xx status. Only status codes and error classes are logged, never the Bundle or the
//! OperationOutcome (both may hold patient data).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use paperchart_core::backoff::Backoff;
use paperchart_core::config::SinkConfig;
use paperchart_core::events::SinkRetrying;
use paperchart_core::metrics;
use paperchart_core::sink::{EntryOutcome, FhirSink, RequestSigner, SinkError, WriteOutcome};
use paperchart_model::bundle::Bundle;

pub struct RestSink {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    signer: Option<Arc<dyn RequestSigner>>,
    max_attempts: u32,
    backoff: Backoff,
    max_entries: usize,
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

impl RestSink {
    /// Signs every request with `signer` (HealthLake).
    pub fn with_signer(mut self, signer: Arc<dyn RequestSigner>) -> RestSink {
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
            backoff: Backoff::new(
                Duration::from_millis(cfg.backoff_base_ms),
                Duration::from_millis(cfg.backoff_max_ms),
            ),
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
            for (k, v) in s.sign(method.as_str(), url, &headers, &body).await? {
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
                metrics::sink_request(None);
                SinkError::Transient { status: None, detail: format!("network: {e}"), retry_after: None }
            })?;
        let status = resp.status().as_u16();
        metrics::sink_request(Some(status));
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
                        let wait = self.backoff.delay(attempt, retry_after);
                        SinkRetrying { status, attempt, wait }.emit();
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
