//! The FHIR REST sink: transaction Bundles POSTed to a FHIR R4 server's base URL.
//!
//! Large Bundles are split at `max_entries`, and written whole or not at all: when a later
//! transaction fails, what the earlier ones stored is undone. 429 and 5xx answers and network errors are retried
//! with the one backoff (exponential, jittered), honouring `Retry-After`; other 4xx answers are
//! permanent and carry the server's OperationOutcome. Every entry of the response must report a
//! 2xx status. Only status codes and error classes are logged, never the Bundle or the
//! OperationOutcome (both may hold patient data).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use paperchart_core::backoff::Backoff;
use paperchart_core::config::SinkConfig;
use paperchart_core::events::{SinkReconciled, SinkRetrying, SinkUndone};
use paperchart_core::metrics;
use paperchart_core::sink::{EntryOutcome, FhirSink, RequestSigner, SinkError, WriteOutcome};
use paperchart_model::bundle::{delete_request, put_request, transactions, Bundle, Entry};

/// `identifier_search`: the server refused a search by identifier; not asked again.
const NO_SEARCH: u8 = 2;

/// The largest answer read from the server: a transaction-response of 100 entries returned in
/// full is a few MB.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

pub struct RestSink {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    signer: Option<Arc<dyn RequestSigner>>,
    max_attempts: u32,
    backoff: Backoff,
    max_entries: usize,
    /// One request's timeout, and one document's whole write's.
    timeout: Duration,
    deadline: Duration,
    /// Whether the server searches Patients by identifier: 0 not known yet, [`NO_SEARCH`].
    identifier_search: std::sync::atomic::AtomicU8,
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

/// A short account of an OperationOutcome that repeats none of the server's free text (its
/// diagnostics and details may quote the patient): per issue the severity, the issue type, where
/// (expression or location, quoted literals left out) and the details' codes. Any other answer
/// is described by its size only.
pub fn outcome_summary(body: &str) -> String {
    let v = serde_json::from_str::<Value>(body).unwrap_or(Value::Null);
    let issues: Vec<String> = v["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let word = |v: &Value| v.as_str().map(fhir_token).unwrap_or_else(|| "?".into());
            let mut s = format!("{} {}", word(&i["severity"]), word(&i["code"]));
            let at = i["expression"][0].as_str().or(i["location"][0].as_str()).map(fhir_path);
            if let Some(at) = at.filter(|a| !a.is_empty()) {
                s.push_str(&format!(" at {at}"));
            }
            let codes: Vec<String> = i["details"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["code"].as_str().map(fhir_token))
                .collect();
            if !codes.is_empty() {
                s.push_str(&format!(" [{}]", codes.join(", ")));
            }
            s
        })
        .collect();
    if issues.is_empty() {
        format!("an answer of {} bytes that is no OperationOutcome", body.len())
    } else {
        issues.join("; ")
    }
}

/// A code as FHIR writes codes (letters, digits, `-._:`), cut at 64 characters.
fn fhir_token(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || "-._:".contains(*c)).take(64).collect()
}

/// The element a FHIRPath expression or location points at: names, dots and `[n]` indices up to
/// the first function call or space (`Bundle.entry[2].resource.name.where(family = …)` →
/// `Bundle.entry[2].resource.name`), so no literal — quoted, a date, a number — is repeated.
fn fhir_path(s: &str) -> String {
    let (head, called) = match s.find(['(', ' ']) {
        Some(i) => (&s[..i], s[i..].starts_with('(')),
        None => (s, false),
    };
    // A call's own name is no element.
    let head = if called { head.rsplit_once('.').map_or("", |(before, _)| before) } else { head };
    let ok = head.chars().all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c));
    if ok {
        head.chars().take(160).collect()
    } else {
        String::new()
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
            timeout: Duration::from_secs(cfg.timeout_secs),
            deadline: Duration::from_secs(cfg.write_deadline_secs),
            backoff: Backoff::new(
                Duration::from_millis(cfg.backoff_base_ms),
                Duration::from_millis(cfg.backoff_max_ms),
            ),
            max_entries,
            identifier_search: Default::default(),
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
        // A transaction's answer need not repeat each resource written: its status, version
        // and outcome are all the sink reads (a server that ignores the preference answers in
        // full, as before).
        const MINIMAL: &str = "return=minimal";
        if is_post {
            r = r.header(reqwest::header::CONTENT_TYPE, FHIR_JSON).header("prefer", MINIMAL);
        }
        if let Some(s) = &self.signer {
            let mut headers = vec![("accept", FHIR_JSON)];
            if is_post {
                headers.push(("content-type", FHIR_JSON));
                headers.push(("prefer", MINIMAL));
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

    /// Sends a request and reads its answer: (status, ETag, body). Network trouble, 429 and 5xx
    /// are transient errors (with the server's Retry-After); every request is counted.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Option<String>, String), SinkError> {
        let resp = req.send().await.map_err(|e| {
            metrics::sink_request(None);
            self.network(e)
        })?;
        let status = resp.status().as_u16();
        metrics::sink_request(Some(status));
        let wait = retry_after(resp.headers());
        let etag = resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = self.body(status, resp).await?;
        if status == 429 || status >= 500 {
            return Err(SinkError::Transient {
                status: Some(status),
                detail: format!("HTTP {status}: {}", outcome_summary(&text)),
                retry_after: wait,
            });
        }
        Ok((status, etag, text))
    }

    /// A request that got no whole answer: timed out (the body trickling past the timeout too),
    /// or the network failed. Transient either way: the write may be tried again.
    fn network(&self, e: reqwest::Error) -> SinkError {
        // Without the URL: a search's query holds the patient's identifier.
        let detail = if e.is_timeout() {
            format!("timed out after {} s (sink.timeout_secs)", self.timeout.as_secs())
        } else {
            format!("network: {}", e.without_url())
        };
        SinkError::Transient { status: None, detail, retry_after: None }
    }

    /// The answer's body, read up to [`MAX_RESPONSE_BYTES`]: a server's answer never costs more
    /// memory than that (one of 300 MB cost 1.5 GB read whole).
    async fn body(&self, status: u16, mut resp: reqwest::Response) -> Result<String, SinkError> {
        let too_large = || SinkError::Rejected {
            status,
            detail: format!("answer larger than {} MB: not read", MAX_RESPONSE_BYTES >> 20),
        };
        if resp.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.network(e))? {
            if buf.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    async fn post_once(&self, body: &Value) -> Result<Vec<Written>, SinkError> {
        let req = self.request(reqwest::Method::POST, &self.base, Some(body.to_string().into_bytes())).await?;
        let (status, _, text) = self.send(req).await?;
        if !(200..300).contains(&status) {
            return Err(SinkError::Rejected { status, detail: outcome_summary(&text) });
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| SinkError::Rejected { status, detail: format!("response is not JSON: {e}") })?;
        let none = Vec::new();
        let requests = body["entry"].as_array().unwrap_or(&none);
        let responses = v["entry"].as_array().unwrap_or(&none);
        if responses.len() != requests.len() {
            return Err(SinkError::Rejected {
                status,
                detail: format!("transaction-response has {} entries for {} sent", responses.len(), requests.len()),
            });
        }
        let mut out = Vec::with_capacity(requests.len());
        for (req, res) in requests.iter().zip(responses) {
            let line = res["response"]["status"].as_str().unwrap_or("");
            let code: u16 = line.split_whitespace().next().and_then(|c| c.parse().ok()).unwrap_or(0);
            let url = req["request"]["url"].as_str().unwrap_or("");
            let (t, id) = url.split_once('/').unwrap_or((url, ""));
            let deleted = req["request"]["method"] == "DELETE";
            if !(200..300).contains(&code) {
                return Err(SinkError::Rejected {
                    status: code,
                    detail: format!("{t}/{id}: {code} {}", outcome_summary(&res["response"]["outcome"].to_string())),
                });
            }
            out.push(Written {
                deleted,
                resource_type: t.to_string(),
                id: id.to_string(),
                status: code,
                etag: res["response"]["etag"].as_str().map(str::to_string),
            });
        }
        Ok(out)
    }
}

/// How many times a document is read again and rewritten when another writer changed its
/// Patient between the read and the write.
const MAX_ROUNDS: u32 = 5;

/// One entry a transaction stored, as the server answered it: what undoing it takes.
struct Written {
    /// A `DELETE` (of a resource an earlier version of the document wrote), else a `PUT`.
    deleted: bool,
    resource_type: String,
    id: String,
    /// 201 created, 200 updated (a `DELETE`'s 200 or 204).
    status: u16,
    /// The version the write made (`W/"3"`), when the server said.
    etag: Option<String>,
}

impl Written {
    fn outcome(&self) -> EntryOutcome {
        EntryOutcome { resource_type: self.resource_type.clone(), id: self.id.clone(), status: self.status }
    }
}

/// What writing one document takes, once the server's side was read.
struct Plan {
    parts: Vec<Value>,
    /// The Patient written and the version it was merged from (`None`: there was none), so a
    /// refusal can be told from a conflict with another writer.
    patient: Option<(String, Option<String>)>,
    /// The server's Patient as it was before this document merged into it.
    patient_before: Option<Value>,
    /// What the resources this version deletes held, by `(type, id)`.
    removed: std::collections::HashMap<(String, String), Value>,
    patient_label: &'static str,
    stale: usize,
}

/// How the Patient's write is guarded against another writer.
enum Precondition {
    /// Updates the version that was read.
    IfMatch(String),
    /// Creates it only if it is still not there.
    IfNoneMatch,
}

/// The `Type/id` references a Provenance lists as its targets.
fn targets(provenance: &Value) -> Vec<(String, String)> {
    provenance["target"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["reference"].as_str()?.split_once('/'))
        .map(|(t, id)| (t.to_string(), id.to_string()))
        .collect()
}

/// A search token's part with FHIR's escapes (`\`, `,`, `|`, `$`), so a value is never read as a
/// list or a system.
fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        if matches!(c, '\\' | ',' | '|' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A search's query string, encoded.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://query/").expect("a URL");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or("").to_string()
}

/// A resource's version: the ETag's (`W/"3"`) or its `meta.versionId`, as an ETag.
fn version(etag: Option<String>, resource: &Value) -> Option<String> {
    etag.or_else(|| resource["meta"]["versionId"].as_str().map(|v| format!("W/\"{v}\"")))
}

impl RestSink {
    /// A request retried as writes are: 429, 5xx and network trouble, with the backoff.
    async fn retrying<T, F, Fut>(&self, mut call: F) -> Result<(T, u32), SinkError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SinkError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(v) => return Ok((v, attempt)),
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

    /// `GET` a path of the base: the resource (or search set) and its ETag, `None` when the
    /// server has none (404, 410 for a deleted one).
    async fn get_once(&self, path: &str, strict: bool) -> Result<Option<(Value, Option<String>)>, SinkError> {
        let url = format!("{}/{path}", self.base);
        // How errors name the request: a search by its type only (its query may hold an MRN).
        let what = match path.split_once('?') {
            Some((t, _)) => format!("{t} search"),
            None => format!("GET {path}"),
        };
        let mut req = self.request(reqwest::Method::GET, &url, None).await?;
        if strict {
            // A search parameter the server does not know must fail, not be ignored (which
            // would answer every Patient).
            req = req.header("prefer", "handling=strict");
        }
        let (status, etag, text) = self.send(req).await?;
        match status {
            404 | 410 => Ok(None),
            200..=299 => {
                let v: Value = serde_json::from_str(&text).map_err(|e| SinkError::Rejected {
                    status,
                    detail: format!("{what}: response is not JSON: {e}"),
                })?;
                // A read answers the resource asked for, a search a Bundle; anything else is
                // not a FHIR server's answer and must not be merged into a patient.
                let expected = if path.contains('?') { "Bundle" } else { path.split('/').next().unwrap_or("") };
                if v["resourceType"] != expected {
                    return Err(SinkError::Rejected {
                        status,
                        detail: format!("{what} answered a {} instead of a {expected}", v["resourceType"]),
                    });
                }
                Ok(Some((v, etag)))
            }
            // The server's own words are not repeated for a search: they may quote the query.
            _ if path.contains('?') => Err(SinkError::Rejected { status, detail: format!("{what}: HTTP {status}") }),
            _ => Err(SinkError::Rejected { status, detail: format!("{what}: {}", outcome_summary(&text)) }),
        }
    }

    async fn get(&self, path: &str) -> Result<Option<(Value, Option<String>)>, SinkError> {
        Ok(self.retrying(|| self.get_once(path, false)).await?.0)
    }

    /// The id of a Patient the server already has under the document's patient identifier (its
    /// MRN, or its member id with the same family name), when it is not the id paperchart would
    /// give. Two or more such Patients: refused, a person decides. A server that cannot search
    /// by identifier is asked once.
    async fn find_patient(&self, incoming: &Value) -> Result<Option<String>, SinkError> {
        use std::sync::atomic::Ordering;
        if self.identifier_search.load(Ordering::Relaxed) == NO_SEARCH {
            return Ok(None);
        }
        let Some(ident) = incoming["identifier"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["system"].as_str().is_some_and(|s| !s.is_empty()) && i["value"].is_string())
        else {
            return Ok(None);
        };
        let (system, value) = (ident["system"].as_str().unwrap_or(""), ident["value"].as_str().unwrap_or(""));
        let token = format!("{}|{}", escape(system), escape(value));
        let query = query(&[("identifier", &token), ("_count", "10")]);
        let path = format!("Patient?{query}");
        let answer = match self.retrying(|| self.get_once(&path, true)).await {
            Ok((answer, _)) => answer,
            Err(SinkError::Rejected { status: 400, .. }) => {
                self.identifier_search.store(NO_SEARCH, Ordering::Relaxed);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let member = ident["type"]["coding"][0]["code"] == "MB";
        let family = |p: &Value| {
            p["name"][0]["family"]
                .as_str()
                .map(|f| f.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
        };
        let mut ids: Vec<String> = answer
            .and_then(|(v, _)| v["entry"].as_array().cloned())
            .into_iter()
            .flatten()
            .map(|e| e["resource"].clone())
            .filter(|r| r["resourceType"] == "Patient")
            // What a server answered must carry the identifier (one that ignored the search
            // answers anyone); a family's member id also needs the member's own name.
            .filter(|r| paperchart_fhir::patient_carries(r, system, value))
            .filter(|r| !member || (family(r) == family(incoming) && paperchart_fhir::same_named(r, incoming)))
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        match ids.len() {
            0 => Ok(None),
            1 => Ok(Some(ids.remove(0))),
            n => Err(SinkError::Rejected {
                status: 409,
                detail: format!(
                    "{n} Patients on the FHIR server carry this document's patient identifier: \
                     not filed under any; a person merges them or chooses"
                ),
            }),
        }
    }

    /// Reads what the server holds for the document and plans its write: the Patient merged
    /// with the one there (nothing another document wrote is erased), and the resources an
    /// earlier version of this document wrote (its Provenance lists them) and this one lacks,
    /// deleted in the same transaction as the Provenance that no longer lists them.
    async fn plan(&self, bundle: &Bundle) -> Result<Plan, SinkError> {
        let mut bundle = bundle.clone();
        let mut patient = None;
        let mut patient_label = "none";
        let mut adopted = false;
        let mut guard = None;
        let mut patient_before = None;
        if let Some(entry) = bundle.patient().cloned() {
            let mut existing = self.get(&format!("Patient/{}", entry.id)).await?;
            let mut id = entry.id.clone();
            if existing.is_none() {
                if let Some(other) = self.find_patient(&entry.resource).await?.filter(|o| *o != entry.id) {
                    bundle.repoint_patient(&entry.id, &other);
                    existing = self.get(&format!("Patient/{other}")).await?;
                    id = other;
                    adopted = true;
                }
            }
            match existing {
                None => {
                    patient_label = "new";
                    // Created only if no other writer created it meanwhile.
                    guard = Some(Precondition::IfNoneMatch);
                    patient = Some((id, None));
                }
                Some((there, etag)) => {
                    let incoming = bundle.patient().map(|e| e.resource.clone()).unwrap_or_default();
                    if let Some(what) = paperchart_fhir::patient_conflict(&there, &incoming) {
                        // A misread MRN, or one identifier for two people: never merged.
                        return Err(SinkError::Rejected {
                            status: 409,
                            detail: format!(
                                "the FHIR server's Patient under this document's patient identifier has another \
                                 {what}: not filed under it; a person checks the identifier"
                            ),
                        });
                    }
                    let merged = paperchart_fhir::merge_patient(&there, &incoming);
                    let v = version(etag, &there);
                    if merged == paperchart_fhir::merge_patient(&there, &Value::Null) {
                        // Nothing new about the patient: the Patient is not written at all.
                        bundle.entries.retain(|e| !(e.resource_type == "Patient" && e.id == id));
                        patient_label = "unchanged";
                    } else {
                        if let Some(e) = bundle.entries.iter_mut().find(|e| e.resource_type == "Patient") {
                            e.resource = merged;
                        }
                        patient_label = "merged";
                        guard = v.clone().map(Precondition::IfMatch);
                        patient_before = Some(there);
                    }
                    patient = Some((id, v));
                }
            }
        }
        let mut deletes = Vec::new();
        let mut removed = std::collections::HashMap::new();
        if let Some(prov) = bundle.provenance() {
            if let Some((before, _)) = self.get(&format!("Provenance/{}", prov.id)).await? {
                let now: std::collections::HashSet<(&str, &str)> =
                    bundle.entries.iter().map(|e| (e.resource_type, e.id.as_str())).collect();
                let mut gone: std::collections::BTreeMap<String, Vec<String>> = Default::default();
                for (t, id) in targets(&before) {
                    // Patients are shared by every document of the patient: never deleted here.
                    if t != "Patient" && !now.contains(&(t.as_str(), id.as_str())) {
                        gone.entry(t).or_default().push(id);
                    }
                }
                for (t, ids) in gone {
                    for id in ids {
                        // Only what is still there (a server may refuse to delete what it lacks),
                        // by a read: reads are consistent where a search index may lag.
                        if let Some((was, _)) = self.get(&format!("{t}/{id}")).await? {
                            deletes.push(delete_request(&t, &id));
                            removed.insert((t.clone(), id), was);
                        }
                    }
                }
            }
        }
        let stale = deletes.len();
        let mut requests: Vec<Value> = Vec::with_capacity(bundle.entries.len() + stale);
        for e in &bundle.entries {
            if e.resource_type == "Provenance" {
                // The removals travel with the Provenance that stops listing them.
                requests.append(&mut deletes);
            }
            let mut r = e.request();
            if e.resource_type == "Patient" {
                match &guard {
                    Some(Precondition::IfMatch(v)) => r["request"]["ifMatch"] = Value::String(v.clone()),
                    Some(Precondition::IfNoneMatch) => r["request"]["ifNoneMatch"] = Value::String("*".into()),
                    None => {}
                }
            }
            requests.push(r);
        }
        requests.append(&mut deletes);
        // A Patient found under the identifier is reported as adopted, whatever was written to it.
        let patient_label = if adopted { "adopted" } else { patient_label };
        Ok(Plan {
            parts: transactions(requests, self.max_entries),
            patient,
            patient_before,
            removed,
            patient_label,
            stale,
        })
    }

    /// Merges the version before the current one back into the Patient `id` (ours replaced it),
    /// guarded by the current version; read and tried again when another writer comes between.
    async fn restore_overwritten(&self, id: &str) -> Result<(), SinkError> {
        for _ in 0..MAX_ROUNDS {
            let Some((now, etag)) = self.get(&format!("Patient/{id}")).await? else { return Ok(()) };
            let Some(v) = now["meta"]["versionId"].as_str().and_then(|v| v.parse::<u64>().ok()) else { return Ok(()) };
            let Some(before) = self.version_before("Patient", id, v).await? else { return Ok(()) };
            if let Some(what) = paperchart_fhir::patient_conflict(&now, &before) {
                return Err(SinkError::Rejected {
                    status: 409,
                    detail: format!(
                        "another writer created this document's Patient at the same time with another {what}: \
                         a person checks the identifier"
                    ),
                });
            }
            let merged = paperchart_fhir::merge_patient(&now, &before);
            if merged == paperchart_fhir::merge_patient(&now, &Value::Null) {
                return Ok(());
            }
            let mut entry = Entry { resource_type: "Patient", id: id.to_string(), resource: merged }.request();
            if let Some(v) = version(etag, &now) {
                entry["request"]["ifMatch"] = Value::String(v);
            }
            let part = json!({"resourceType": "Bundle", "type": "transaction", "entry": [entry]});
            match self.retrying(|| self.post_once(&part)).await {
                Ok(_) => return Ok(()),
                Err(SinkError::Rejected { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether the Patient changed on the server since the plan read it: another writer came
    /// between, and the document is planned again.
    async fn patient_moved(&self, plan: &Plan) -> Result<bool, SinkError> {
        let Some((id, read)) = &plan.patient else { return Ok(false) };
        let now = self.get(&format!("Patient/{id}")).await?.map(|(p, etag)| version(etag, &p));
        Ok(match (read, now) {
            (None, None) => false,
            (Some(before), Some(now)) => now.as_deref() != Some(before.as_str()),
            _ => true,
        })
    }
}

#[async_trait]
impl FhirSink for RestSink {
    /// The document's write: whole or not at all. When a Bundle split in several transactions
    /// fails after the first, what the earlier ones stored is undone. The write (reads and
    /// transactions) takes at most `sink.write_deadline_secs` whatever the server does, and
    /// the undoing as long again; past it the write is transient ("timed out"). A transaction
    /// cut by the deadline may still have been stored: the document's next write puts it again,
    /// by the same ids.
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        self.write_whole(bundle).await
    }

    fn describe(&self) -> String {
        format!("FHIR server {}", self.base)
    }
}

/// A resource as it was read, for writing back: without the version the server gave it.
fn unversioned(resource: &Value) -> Value {
    let mut r = resource.clone();
    if let Some(meta) = r.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if meta.is_empty() {
            r.as_object_mut().map(|o| o.remove("meta"));
        }
    }
    r
}

impl RestSink {
    /// `work`, failed as transient ("timed out") when it is not done by `until`.
    async fn bounded<T>(
        &self,
        until: tokio::time::Instant,
        work: impl std::future::Future<Output = Result<T, SinkError>>,
    ) -> Result<T, SinkError> {
        tokio::time::timeout_at(until, work).await.unwrap_or_else(|_| {
            Err(SinkError::Transient {
                status: None,
                detail: format!(
                    "timed out: the write took over {} s (sink.write_deadline_secs)",
                    self.deadline.as_secs()
                ),
                retry_after: None,
            })
        })
    }

    async fn write_whole(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        let until = tokio::time::Instant::now() + self.deadline;
        let mut attempts = 0;
        let mut round = 0;
        'plan: loop {
            round += 1;
            let plan = self.bounded(until, self.plan(bundle)).await?;
            let mut written: Vec<Written> = Vec::new();
            for part in &plan.parts {
                match self.bounded(until, self.retrying(|| self.post_once(part))).await {
                    Ok((entries, n)) => {
                        attempts += n;
                        written.extend(entries);
                    }
                    Err(e) if !written.is_empty() => {
                        // A later transaction failed: the earlier ones are undone.
                        return Err(self.undone(&bundle.id, &plan, &written, e).await);
                    }
                    Err(e @ SinkError::Rejected { .. }) => {
                        attempts += 1;
                        // Nothing stored. Another writer's change to the Patient meanwhile (the
                        // first transaction holds it): planned again. A failed look keeps the
                        // refusal as it was.
                        let moved = self.bounded(until, self.patient_moved(&plan)).await.unwrap_or(false);
                        if round < MAX_ROUNDS && moved {
                            continue 'plan;
                        }
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            if let Some((id, None)) = &plan.patient {
                let updated = written.iter().any(|e| e.resource_type == "Patient" && e.id == *id && e.status != 201);
                if updated {
                    // Meant as a create; the server updated: another writer created it between
                    // our read and our write, and a server that ignores ifNoneMatch let ours
                    // replace theirs. Their version is merged back in.
                    self.bounded(until, self.restore_overwritten(id)).await?;
                }
            }
            SinkReconciled { document_id: &bundle.id, patient: plan.patient_label, stale: plan.stale, rounds: round }
                .emit();
            return Ok(WriteOutcome { entries: written.iter().map(Written::outcome).collect(), attempts });
        }
    }

    /// The version of `t/id` before version `n` (`_history/n-1`), `None` when there is none.
    async fn version_before(&self, t: &str, id: &str, n: u64) -> Result<Option<Value>, SinkError> {
        if n < 2 {
            return Ok(None);
        }
        Ok(self.get(&format!("{t}/{id}/_history/{}", n - 1)).await?.map(|(v, _)| v))
    }

    /// `failure` after undoing what `written` stored, with what became of it added to its
    /// detail; its class is kept (a transient failure is written whole when tried again).
    async fn undone(&self, document_id: &str, plan: &Plan, written: &[Written], failure: SinkError) -> SinkError {
        let until = tokio::time::Instant::now() + self.deadline;
        let undo = self.bounded(until, self.undo(plan, written)).await;
        let (account, reverted) = match &undo {
            Ok(n) => (format!("what its earlier transactions stored was undone ({n} changes)"), *n),
            Err(e) => (
                format!(
                    "undoing what its earlier transactions stored failed ({e}): up to {} of its entries may \
                     remain on the FHIR server",
                    written.len()
                ),
                0,
            ),
        };
        SinkUndone { document_id, stored: written.len(), reverted, undone: undo.is_ok() }.emit();
        match failure {
            SinkError::Transient { status, detail, retry_after } => {
                SinkError::Transient { status, detail: format!("{detail}; {account}"), retry_after }
            }
            SinkError::Rejected { status, detail } => {
                SinkError::Rejected { status, detail: format!("{detail}; {account}") }
            }
            other => other,
        }
    }

    /// Reverts what `written` stored, newest first, in transactions, each change only while the
    /// resource is still the version this write made (`ifMatch`: one another writer changed
    /// since is theirs, and the undoing fails and says so): a resource created is deleted — but
    /// never a Patient, which the patient's other documents may already point at (it stays,
    /// holding who the patient is) —; a resource updated is put back as the version before (a
    /// Patient merged into as the plan read it, anything else from its history); a resource
    /// deleted is put back as it was read. Returns how many changes it made.
    async fn undo(&self, plan: &Plan, written: &[Written]) -> Result<usize, SinkError> {
        let mut requests = Vec::new();
        for w in written.iter().rev() {
            let (t, id) = (w.resource_type.as_str(), w.id.as_str());
            if w.deleted {
                if let Some(was) = plan.removed.get(&(w.resource_type.clone(), w.id.clone())) {
                    requests.push(put_request(t, id, &unversioned(was)));
                }
                continue;
            }
            if w.status == 201 && t == "Patient" {
                continue;
            }
            let mut request = if w.status == 201 {
                delete_request(t, id)
            } else {
                let before = match (&plan.patient_before, &w.etag) {
                    (Some(was), _) if t == "Patient" => was.clone(),
                    (_, Some(v)) => {
                        // The version the ETag names: `W/"3"` → 3.
                        let n = v.trim_start_matches("W/").trim_matches('"').parse::<u64>().unwrap_or(0);
                        self.version_before(t, id, n).await?.ok_or_else(|| SinkError::Rejected {
                            status: 404,
                            detail: format!("{t}/{id}: no earlier version to put back"),
                        })?
                    }
                    (_, None) => {
                        return Err(SinkError::Rejected {
                            status: 409,
                            detail: format!("{t}/{id}: the server named no version to put the one before back from"),
                        })
                    }
                };
                put_request(t, id, &unversioned(&before))
            };
            match &w.etag {
                Some(v) => request["request"]["ifMatch"] = Value::String(v.clone()),
                // What this document created under its own id is deleted even unguarded; a
                // Patient's earlier version is never put back over a version not known.
                None if t == "Patient" => {
                    return Err(SinkError::Rejected {
                        status: 409,
                        detail: format!("{t}/{id}: the server named no version to guard putting it back"),
                    })
                }
                None => {}
            }
            requests.push(request);
        }
        let changes = requests.len();
        for part in transactions(requests, self.max_entries) {
            self.retrying(|| self.post_once(&part)).await?;
        }
        Ok(changes)
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
        assert_eq!(outcome_summary(oo), "error invalid at Patient.birthDate");
        assert_eq!(outcome_summary("plain"), "an answer of 5 bytes that is no OperationOutcome");
    }

    #[test]
    fn the_servers_words_about_a_patient_are_never_repeated() {
        let oo = serde_json::json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "invalid",
             "diagnostics": "Patient.name value 'Vasquez, Daniel R born 1971-09-23' rejected",
             "details": {"text": "Vasquez, Daniel R", "coding": [{"system": "http://x", "code": "MSG_BAD_NAME"}]},
             "expression": ["Bundle.entry[2].resource.name.where(family = 'Vasquez')"]},
            {"severity": "warning", "code": "value", "location": ["Patient.birthDate"]}]});
        let s = outcome_summary(&oo.to_string());
        assert_eq!(
            s,
            "error invalid at Bundle.entry[2].resource.name [MSG_BAD_NAME]; warning value at Patient.birthDate"
        );
        for phi in ["Vasquez", "Daniel", "1971"] {
            assert!(!s.contains(phi), "{s}");
        }
        // Unquoted literals (dates, numbers) and free text in a location are not repeated either.
        let oo = serde_json::json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "value", "expression": ["Patient.birthDate = @1971-09-23"]},
            {"severity": "error", "code": "value", "location": ["Vasquez, Daniel: line 3"]}]});
        let s = outcome_summary(&oo.to_string());
        assert_eq!(s, "error value at Patient.birthDate; error value");
        assert!(!outcome_summary("<html>Vasquez, Daniel</html>").contains("Vasquez"));
    }
}
