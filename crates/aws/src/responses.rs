//! Saved Textract responses: every finished job's answer, kept in the work bucket so a document
//! can be read again — with a newer engine, terminology or mapping — without paying Textract
//! again, and after Textract has forgotten the job (results expire after 7 days).
//!
//! `<work prefix>textract-responses/<source bucket>/<source key>/<document id>.json.gz` holds the
//! GetDocumentAnalysis answer with its pages of results joined (`JobStatus`, `DocumentMetadata`,
//! `Warnings`, `Blocks`), gzip-compressed, and the job's record (`PaperchartJob`: the source object
//! and the document id), so nothing else is needed to process it again. Unzipped, it is the
//! `<file>.textract.json` that `paperchart run` reads beside a file. Keys follow the source key, so
//! an operator replays what came in under a prefix (a clinic, a month); a source key too long to
//! fit goes under `_long/<document id>.json.gz`.
//!
//! Replaying ([`replay_record`]) parks a job record named `replay-<document id>` and sends its
//! completion notice: a worker resumes it like any other job, and the Textract engine reads the
//! saved answer instead of calling GetDocumentAnalysis.

use std::io::{Read, Write};

use paperchart_core::jobs::StoreError;
use paperchart_model::textract::TResponse;
use serde::{Deserialize, Serialize};

use crate::registry::JobRecord;
pub use crate::registry::{is_replay, REPLAY_PREFIX};
use crate::s3::{list_keys, read_if_exists};

/// S3's longest key.
const MAX_KEY: usize = 1024;

/// A saved answer and the job it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedResponse {
    #[serde(rename = "PaperchartJob")]
    pub job: JobRecord,
    #[serde(flatten)]
    pub response: TResponse,
}

/// The record that replays a saved response: the original job's, under a replay job id, started
/// now (so the lost-notice sweep does not take it for stuck at once).
pub fn replay_record(saved: &SavedResponse, now: &str) -> JobRecord {
    JobRecord {
        job_id: format!("{REPLAY_PREFIX}{}", saved.job.document_id),
        started_at: now.to_string(),
        ..saved.job.clone()
    }
}

/// Saved responses in the work bucket.
#[derive(Clone)]
pub struct ResponseArchive {
    client: aws_sdk_s3::Client,
    bucket: String,
    root: String,
}

impl ResponseArchive {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, work_prefix: &str) -> ResponseArchive {
        ResponseArchive { client, bucket: bucket.into(), root: format!("{work_prefix}textract-responses/") }
    }

    /// Where the answer for `document_id`, read from `s3://bucket/key`, is kept.
    pub fn key(&self, bucket: &str, key: &str, document_id: &str) -> String {
        let k = format!("{}{bucket}/{key}/{document_id}.json.gz", self.root);
        if k.len() <= MAX_KEY {
            k
        } else {
            format!("{}_long/{document_id}.json.gz", self.root)
        }
    }

    pub fn key_of(&self, job: &JobRecord) -> String {
        self.key(&job.bucket, &job.key, &job.document_id)
    }

    fn unavailable(&self, op: &'static str, key: &str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable { op, key: format!("s3://{}/{key}", self.bucket), detail: detail.to_string() }
    }

    /// Keeps an answer; returns its key. Compressed off the async threads (answers of long
    /// documents run to many megabytes).
    pub async fn save(&self, saved: SavedResponse) -> Result<String, StoreError> {
        let key = self.key_of(&saved.job);
        let corrupt = |detail: String| StoreError::Corrupt { key: key.clone(), detail };
        let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            // The fast level: kept answers are written for every document and read rarely; the
            // default level cost a worker ~5% of its CPU (make bench-fleet's profile) for a few
            // percent of size.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            serde_json::to_writer(&mut gz, &saved).map_err(|e| e.to_string())?;
            gz.flush().map_err(|e| e.to_string())?;
            gz.finish().map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| corrupt(format!("compression task: {e}")))?
        .map_err(corrupt)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/gzip")
            .body(body.into())
            .send()
            .await
            .map_err(|e| self.unavailable("put", &key, crate::describe(&e)))?;
        Ok(key)
    }

    /// The answer kept at `key`, or `None` when there is none.
    pub async fn load(&self, key: &str) -> Result<Option<SavedResponse>, StoreError> {
        let Some(bytes) =
            read_if_exists(&self.client, &self.bucket, key).await.map_err(|e| self.unavailable("get", key, e))?
        else {
            return Ok(None);
        };
        let owned = key.to_string();
        tokio::task::spawn_blocking(move || decode(&bytes).map_err(|detail| StoreError::Corrupt { key: owned, detail }))
            .await
            .map_err(|e| StoreError::Corrupt { key: key.to_string(), detail: format!("decompression task: {e}") })?
            .map(Some)
    }

    /// Keys of the answers kept for source objects under `source_prefix` (`<bucket>/<key
    /// prefix>`; empty for all), at most `max`.
    pub async fn list(&self, source_prefix: &str, max: usize) -> Result<Vec<String>, StoreError> {
        let prefix = format!("{}{source_prefix}", self.root);
        let keys = list_keys(&self.client, &self.bucket, &prefix, max)
            .await
            .map_err(|e| self.unavailable("list", &prefix, e))?;
        Ok(keys.into_iter().filter(|k| k.ends_with(".json.gz")).collect())
    }
}

/// A saved answer from its gzip bytes. Errors name the position, never the content.
pub fn decode(bytes: &[u8]) -> Result<SavedResponse, String> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut json).map_err(|e| format!("not gzip: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("not a saved response: line {} column {}", e.line(), e.column()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::textract::{TBlock, TMetadata};

    fn record() -> JobRecord {
        serde_json::from_str(r#"{"format":2,"job_id":"abc123","bucket":"intake","key":"clinic-a/2026/scan.pdf","version_id":null,"etag":"\"e1\"","size":42,"kind":"pdf","modified":null,"document_id":"d-1","token":"t1","started_at":"2026-12-01T10:00:00Z"}"#).unwrap()
    }

    #[test]
    fn keys_follow_the_source_and_fit_s3() {
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder().behavior_version(aws_sdk_s3::config::BehaviorVersion::latest()).build(),
        );
        let a = ResponseArchive::new(client, "work", "paperchart/");
        assert_eq!(a.key_of(&record()), "paperchart/textract-responses/intake/clinic-a/2026/scan.pdf/d-1.json.gz");
        let long = "k/".repeat(600);
        assert_eq!(a.key("intake", &long, "d-2"), "paperchart/textract-responses/_long/d-2.json.gz");
    }

    #[test]
    fn a_saved_response_is_textract_json_with_its_job() {
        let saved = SavedResponse {
            job: record(),
            response: TResponse {
                job_status: Some("SUCCEEDED".into()),
                document_metadata: Some(TMetadata { pages: 2 }),
                warnings: vec![],
                blocks: vec![TBlock {
                    block_type: "PAGE".into(),
                    id: "p1".into(),
                    page: Some(1),
                    ..Default::default()
                }],
            },
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        serde_json::to_writer(&mut gz, &saved).unwrap();
        let bytes = gz.finish().unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back, saved);
        let json: serde_json::Value = serde_json::to_value(&saved).unwrap();
        assert_eq!(json["Blocks"][0]["BlockType"], "PAGE", "Textract's own field names");
        assert_eq!(json["PaperchartJob"]["document_id"], "d-1");
        let doc = back.response.document();
        assert_eq!(doc.missing_pages, [2], "a page counted but without blocks is missing");
        let replay = replay_record(&back, "2026-12-06T00:00:00Z");
        assert!(is_replay(&replay.job_id) && !is_replay(&saved.job.job_id));
        assert_eq!((replay.document_id.as_str(), replay.token.as_str()), ("d-1", "t1"), "the same document");
        assert!(decode(b"not gzip").unwrap_err().starts_with("not gzip"));
    }
}
