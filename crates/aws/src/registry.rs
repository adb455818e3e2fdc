//! The fleet's job store: parked Textract jobs as small JSON records in the work bucket.
//!
//! `<prefix>textract-jobs/<job id>.json` is a document's `OcrStarted` state: written when its
//! job starts, read back when the completion notice comes, deleted once the document is written
//! (after its done marker: `<prefix>textract-done/sha256-<hex>` marks the content as written, so
//! the same bytes uploaded again under any key, or a duplicated event, are turned away before a
//! job is paid for; a job parked before content identities marks its object version,
//! `<prefix>textract-done/<location token>`). The scheduler lists the records
//! to find jobs whose notice never came. A crash between any two of these steps leaves a message
//! or a record to resume from, and every step is idempotent.
//!
//! Record formats: 3 (written now) carries the content's SHA-256, the identity its resource ids
//! derive from; 2 the content's SHA-1 only and 1 (no `format` field) neither: their documents
//! keep the identity they were started with (bucket, key and eTag), so a job parked before an
//! upgrade is written with the ids it began with.

use async_trait::async_trait;
use paperchart_core::jobs::{JobStore, PendingJob, StoreError};
use paperchart_core::ocr::OcrJob;
use paperchart_core::source::SourceObject;
use paperchart_model::file::Kind;
use serde::{Deserialize, Serialize};

use crate::events::ObjectRef;
use crate::s3::{list_keys, read_if_exists};
use crate::textract::location_token;

/// Job ids of replayed records start with this; Textract's own ids are hexadecimal.
pub const REPLAY_PREFIX: &str = "replay-";

/// Whether a job id is a replay's (`paperchart-scheduler replay`), not Textract's.
pub fn is_replay(job_id: &str) -> bool {
    job_id.starts_with(REPLAY_PREFIX)
}

/// How a content identity begins: `sha256:` and the hex digest.
const CONTENT: &str = "sha256:";

/// The record format written now.
pub const FORMAT: u32 = 3;

/// What the fleet remembers of a started Textract job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// 2; absent in records of format 1.
    #[serde(default = "format_one")]
    pub format: u32,
    pub job_id: String,
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: u64,
    pub kind: Kind,
    pub modified: Option<String>,
    pub document_id: String,
    /// The job's ClientRequestToken: once written, a marker under it turns later duplicates of
    /// the same event away without starting anything.
    pub token: String,
    /// RFC 3339.
    pub started_at: String,
    /// Hex SHA-1 of the content (FHIR `Attachment.hash`); format 2 on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// Hex SHA-256 of the content: the document's identity; format 3 on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Notices the scheduler's sweep sent again for this job, and when it last did (RFC 3339):
    /// the next waits twice as long, so a job whose notice keeps failing is not re-sent every
    /// round.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub renotices: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renotified_at: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn format_one() -> u32 {
    1
}

impl JobRecord {
    pub fn object(&self) -> ObjectRef {
        ObjectRef {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
            etag: self.etag.clone(),
            size: Some(self.size),
        }
    }

    /// Time since the job was started, when its start time reads.
    pub fn age(&self) -> Option<std::time::Duration> {
        paperchart_core::timestamps::age(&self.started_at)
    }

    /// The record of a parked job.
    pub fn of(job: &PendingJob) -> Result<JobRecord, StoreError> {
        let l = job.object.location.as_ref().ok_or_else(|| StoreError::Corrupt {
            key: job.job.id.clone(),
            detail: "the job's object has no S3 location".into(),
        })?;
        Ok(JobRecord {
            format: FORMAT,
            job_id: job.job.id.clone(),
            bucket: l.bucket.clone(),
            key: l.key.clone(),
            version_id: l.version_id.clone(),
            etag: l.etag.clone(),
            size: job.object.size,
            kind: job.kind,
            modified: job.object.modified.clone(),
            document_id: job.document_id.clone(),
            token: location_token(l),
            started_at: job.started_at.clone(),
            sha1: job.object.sha1.map(hex::encode),
            sha256: job.object.identity.strip_prefix(CONTENT).map(str::to_string),
            renotices: 0,
            renotified_at: None,
        })
    }

    /// The parked job this record keeps: the object described as the S3 source read it (same
    /// identity, so the same resource ids), without its bytes.
    pub fn pending(&self) -> PendingJob {
        let o = self.object();
        let sha1 = self.sha1.as_deref().and_then(|h| hex::decode(h).ok()?.try_into().ok());
        PendingJob {
            job: OcrJob { id: self.job_id.clone() },
            object: SourceObject {
                identity: match &self.sha256 {
                    Some(hex) => format!("{CONTENT}{hex}"),
                    None => o.identity(),
                },
                uri: o.uri(),
                name: self.key.rsplit('/').next().unwrap_or(&self.key).to_string(),
                size: self.size,
                bytes: Default::default(),
                sha1,
                modified: self.modified.clone(),
                location: Some(o.location()),
                restart_of: None,
            },
            kind: self.kind,
            document_id: self.document_id.clone(),
            started_at: self.started_at.clone(),
            set_aside: false,
        }
    }
}

/// Started Textract jobs, as small JSON objects in the work bucket.
#[derive(Clone)]
pub struct JobRegistry {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl JobRegistry {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, prefix: impl Into<String>) -> JobRegistry {
        JobRegistry { client, bucket: bucket.into(), prefix: prefix.into() }
    }

    fn key(&self, job_id: &str) -> String {
        format!("{}textract-jobs/{job_id}.json", self.prefix)
    }

    /// Where the record of a job whose document went to the dead letters is kept, out of the
    /// sweep's sight, until a redriven notice takes it up again.
    fn aside_key(&self, job_id: &str) -> String {
        format!("{}textract-failed/{job_id}.json", self.prefix)
    }

    fn done_key(&self, token: &str) -> String {
        format!("{}textract-done/{token}", self.prefix)
    }

    /// The done marker of a content identity (`sha256:<hex>`), if it is one.
    fn content_done_key(&self, identity: &str) -> Option<String> {
        identity.strip_prefix(CONTENT).map(|hex| self.done_key(&format!("sha256-{hex}")))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(self.unavailable("head", key, crate::describe(&e))),
        }
    }

    async fn mark(&self, key: &str, document_id: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(document_id.as_bytes().to_vec().into())
            .send()
            .await
            .map_err(|e| self.unavailable("put", key, crate::describe(&e)))?;
        Ok(())
    }

    fn unavailable(&self, op: &'static str, key: &str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable { op, key: format!("s3://{}/{key}", self.bucket), detail: detail.to_string() }
    }

    pub async fn put(&self, r: &JobRecord) -> Result<(), StoreError> {
        self.put_at(&self.key(&r.job_id), r).await
    }

    async fn put_at(&self, key: &str, r: &JobRecord) -> Result<(), StoreError> {
        let key = key.to_string();
        let body =
            serde_json::to_vec(r).map_err(|e| StoreError::Corrupt { key: key.clone(), detail: e.to_string() })?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(body.into())
            .content_type("application/json")
            .send()
            .await
            .map_err(|e| self.unavailable("put", &key, crate::describe(&e)))?;
        Ok(())
    }

    pub async fn record(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.read_record(self.key(job_id)).await
    }

    /// The record of a job set aside when its document was dead-lettered.
    pub async fn set_aside_record(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.read_record(self.aside_key(job_id)).await
    }

    /// Keeps the record of a job whose document goes to the dead letters under
    /// `textract-failed/`, where the sweep does not look, and removes it from the parked jobs: a
    /// redriven notice finds it there and the document is done again from it.
    pub async fn set_aside(&self, record: &JobRecord) -> Result<(), StoreError> {
        self.put_at(&self.aside_key(&record.job_id), record).await?;
        self.delete(&record.job_id).await
    }

    async fn read_record(&self, key: String) -> Result<Option<JobRecord>, StoreError> {
        let bytes =
            read_if_exists(&self.client, &self.bucket, &key).await.map_err(|e| self.unavailable("get", &key, e))?;
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt { key: key.clone(), detail: e.to_string() })
            })
            .transpose()
    }

    pub async fn delete(&self, job_id: &str) -> Result<(), StoreError> {
        self.delete_key(&self.key(job_id)).await
    }

    async fn delete_key(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.unavailable("delete", key, crate::describe(&e)))?;
        Ok(())
    }

    /// Every recorded job with the eTag of its record as read, for [`JobRegistry::update`].
    pub async fn list_tagged(&self) -> Result<Vec<(JobRecord, String)>, StoreError> {
        let prefix = format!("{}textract-jobs/", self.prefix);
        let keys = list_keys(&self.client, &self.bucket, &prefix, usize::MAX)
            .await
            .map_err(|e| self.unavailable("list", &prefix, e))?;
        let mut out = Vec::new();
        for key in keys {
            let got = match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
                Ok(g) => g,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => continue,
                Err(e) => return Err(self.unavailable("get", &key, crate::describe(&e))),
            };
            let etag = got.e_tag.clone().unwrap_or_default();
            let bytes = got.body.collect().await.map_err(|e| self.unavailable("get", &key, e))?.into_bytes();
            let record = serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Corrupt { key: key.clone(), detail: e.to_string() })?;
            out.push((record, etag));
        }
        Ok(out)
    }

    /// Rewrites a record only if it is still the one read (its eTag): `false` when it changed or
    /// is gone (its document was written, or it was set aside) — never brings a record back.
    pub async fn update(&self, r: &JobRecord, etag: &str) -> Result<bool, StoreError> {
        let key = self.key(&r.job_id);
        let body =
            serde_json::to_vec(r).map_err(|e| StoreError::Corrupt { key: key.clone(), detail: e.to_string() })?;
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .if_match(etag)
            .body(body.into())
            .content_type("application/json")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) => match crate::error_code(&e).as_deref() {
                Some("PreconditionFailed" | "NoSuchKey" | "ConditionalRequestConflict") => Ok(false),
                _ if e.raw_response().is_some_and(|r| matches!(r.status().as_u16(), 404 | 409 | 412)) => Ok(false),
                _ => Err(self.unavailable("put", &key, crate::describe(&e))),
            },
        }
    }
}

#[async_trait]
impl JobStore for JobRegistry {
    /// One HEAD: the content's done marker, or for an identity that is no content digest (a
    /// record parked before content identities) the object version's.
    async fn is_written(&self, object: &SourceObject) -> Result<bool, StoreError> {
        match (self.content_done_key(&object.identity), &object.location) {
            (Some(key), _) => self.exists(&key).await,
            (None, Some(l)) => self.exists(&self.done_key(&location_token(l))).await,
            (None, None) => Ok(false),
        }
    }

    async fn park(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.put(&JobRecord::of(job)?).await
    }

    /// A parked job, or one set aside when its document was dead-lettered (its notice redriven).
    ///
    /// A set-aside record whose content was written since (the same job parked again by a
    /// duplicated upload event and written, its old letter redriven later) is stale: it is
    /// removed and no job is returned, so the letter is acknowledged without a second write. A
    /// replay's is always taken up (a replay writes written content again, on purpose).
    async fn get(&self, job_id: &str) -> Result<Option<PendingJob>, StoreError> {
        if let Some(r) = self.record(job_id).await? {
            return Ok(Some(r.pending()));
        }
        let Some(r) = self.set_aside_record(job_id).await? else { return Ok(None) };
        let job = PendingJob { set_aside: true, ..r.pending() };
        if !is_replay(job_id) && self.is_written(&job.object).await? {
            self.delete_key(&self.aside_key(job_id)).await?;
            return Ok(None);
        }
        Ok(Some(job))
    }

    /// The done marker first (a lifecycle rule may expire markers after Textract's own token
    /// window), then the record: a crash in between leaves a record whose notice the scheduler
    /// sends again, and the rewrite is idempotent. The content's marker, or the version's for an
    /// identity that is no content digest; the set-aside record only where the job came from it.
    async fn written(&self, job: &PendingJob) -> Result<(), StoreError> {
        let record = JobRecord::of(job)?;
        let marker = self.content_done_key(&job.object.identity).unwrap_or_else(|| self.done_key(&record.token));
        self.mark(&marker, &record.document_id).await?;
        // A replay parked again after a failed one has both records.
        if job.set_aside || is_replay(&record.job_id) {
            self.delete_key(&self.aside_key(&record.job_id)).await?;
        }
        self.delete(&record.job_id).await
    }

    /// `<prefix>textract-leases/<job id>` holds the lease's end (Unix ms): created only if absent
    /// (If-None-Match), taken over only when run out and still the one read (If-Match).
    async fn lease(&self, job_id: &str, hold: std::time::Duration) -> Result<bool, StoreError> {
        let key = format!("{}textract-leases/{job_id}", self.prefix);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
        let until = (now + hold.as_millis()).to_string();
        let put = |cond: Option<String>| {
            let request =
                self.client.put_object().bucket(&self.bucket).key(&key).body(until.clone().into_bytes().into());
            match cond {
                None => request.if_none_match("*"),
                Some(etag) => request.if_match(etag),
            }
            .send()
        };
        let refused = |e: &aws_sdk_s3::error::SdkError<_, _>| {
            e.raw_response().is_some_and(|r: &aws_smithy_runtime_api::http::Response| {
                matches!(r.status().as_u16(), 404 | 409 | 412)
            })
        };
        match put(None).await {
            Ok(_) => return Ok(true),
            Err(e) if refused(&e) => {}
            Err(e) => return Err(self.unavailable("put", &key, crate::describe(&e))),
        }
        let held = match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(g) => g,
            // Given up meanwhile: try again at the next delivery.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(false),
            Err(e) => return Err(self.unavailable("get", &key, crate::describe(&e))),
        };
        let etag = held.e_tag.clone().unwrap_or_default();
        let body = held.body.collect().await.map_err(|e| self.unavailable("get", &key, e))?.into_bytes();
        let ends: u128 = std::str::from_utf8(&body).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        if ends > now {
            return Ok(false);
        }
        match put(Some(etag)).await {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(self.unavailable("put", &key, crate::describe(&e))),
        }
    }

    async fn unlease(&self, job_id: &str) -> Result<(), StoreError> {
        self.delete_key(&format!("{}textract-leases/{job_id}", self.prefix)).await
    }

    async fn discard(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.delete_key(&self.aside_key(&job.job.id)).await?;
        self.delete(&job.job.id).await
    }

    /// Set aside, not deleted: the dead letter's redrive takes the job up again from its record.
    async fn forget(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.set_aside(&JobRecord::of(job)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT_ONE: &str = r#"{"job_id":"j1","bucket":"paperchart-intake","key":"scans/a b.pdf","version_id":"v1","etag":"\"abc\"","size":42,"kind":"pdf","modified":"2024-03-02T10:00:00Z","document_id":"d1","token":"t1","started_at":"2024-03-02T10:00:01Z"}"#;

    #[test]
    fn records_of_format_one_still_read() {
        let r: JobRecord = serde_json::from_str(FORMAT_ONE).unwrap();
        assert_eq!((r.format, r.sha1.as_deref()), (1, None));
        let p = r.pending();
        assert_eq!(p.object.identity, "s3://paperchart-intake/scans/a b.pdf#etag=abc");
        assert_eq!(p.object.uri, "s3://paperchart-intake/scans/a%20b.pdf");
        assert_eq!((p.object.name.as_str(), p.kind, p.document_id.as_str()), ("a b.pdf", Kind::Pdf, "d1"));
        assert!(p.object.sha1.is_none() && p.object.bytes.is_empty());
    }

    #[test]
    fn a_parked_job_round_trips_through_its_record() {
        let r: JobRecord = serde_json::from_str(FORMAT_ONE).unwrap();
        let mut p = r.pending();
        p.object.sha1 = Some([7u8; 20]);
        let again = JobRecord::of(&p).unwrap();
        assert_eq!(again.format, FORMAT);
        assert_eq!(again.sha1.as_deref(), Some("0707070707070707070707070707070707070707"));
        assert_eq!(again.token, location_token(p.object.location.as_ref().unwrap()), "the token follows the object");
        assert_eq!(again.sha256, None, "a job parked before content identities keeps its own");
        let back: JobRecord = serde_json::from_str(&serde_json::to_string(&again).unwrap()).unwrap();
        assert_eq!(back.pending().object.sha1, Some([7u8; 20]));
        assert_eq!(back.pending().object.identity, p.object.identity);
        // Now: the content's SHA-256 is the identity, kept in the record and given back.
        p.object.identity = format!("sha256:{}", "ab".repeat(32));
        let r = JobRecord::of(&p).unwrap();
        assert_eq!(r.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        let back: JobRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.pending().object.identity, p.object.identity);
    }
}
