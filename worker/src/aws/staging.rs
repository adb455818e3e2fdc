//! Bulk import mode: the sink that stages NDJSON in S3 for HealthLake's StartFHIRImportJob
//! instead of writing through the REST API.
//!
//! Each document becomes one object, `<prefix>staging/<document id>.ndjson`, one resource per
//! line (HealthLake's import reads NDJSON with any mix of resource types). The object is written
//! before the message is acknowledged, so nothing is lost; writing the same document again
//! overwrites the same key, so a duplicate changes nothing. `paperchart-scheduler` moves staged
//! objects into an import batch and starts the import job.

use async_trait::async_trait;

use crate::fhir::Bundle;
use crate::sink::{EntryOutcome, FhirSink, SinkError, WriteOutcome};

pub struct StagingSink {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

/// Where staged documents wait for an import.
pub fn staging_prefix(work_prefix: &str) -> String {
    format!("{work_prefix}staging/")
}

/// One resource per line.
pub fn ndjson(bundle: &Bundle) -> String {
    let mut out = String::new();
    for e in &bundle.entries {
        out.push_str(&e.resource.to_string());
        out.push('\n');
    }
    out
}

impl StagingSink {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, work_prefix: &str) -> StagingSink {
        StagingSink { client, bucket: bucket.into(), prefix: staging_prefix(work_prefix) }
    }

    pub fn key(&self, document_id: &str) -> String {
        format!("{}{document_id}.ndjson", self.prefix)
    }
}

#[async_trait]
impl FhirSink for StagingSink {
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        let key = self.key(&bundle.id);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/fhir+ndjson")
            .body(ndjson(bundle).into_bytes().into())
            .send()
            .await
            .map_err(|e| SinkError::Transient {
                status: None,
                detail: format!(
                    "staging s3://{}/{key}: {}",
                    self.bucket,
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
                retry_after: None,
            })?;
        Ok(WriteOutcome {
            entries: bundle
                .entries
                .iter()
                .map(|e| EntryOutcome { resource_type: e.resource_type.to_string(), id: e.id.clone(), status: 202 })
                .collect(),
            attempts: 1,
        })
    }

    fn describe(&self) -> String {
        format!("staging s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::Entry;
    use serde_json::json;

    #[test]
    fn one_resource_per_line() {
        let bundle = Bundle {
            id: "d1".into(),
            entries: vec![
                Entry {
                    resource_type: "Patient",
                    id: "p1".into(),
                    resource: json!({"resourceType": "Patient", "id": "p1"}),
                },
                Entry {
                    resource_type: "DocumentReference",
                    id: "d1".into(),
                    resource: json!({"resourceType": "DocumentReference", "id": "d1", "note": "a\nb"}),
                },
            ],
        };
        let text = ndjson(&bundle);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "a newline inside a value stays escaped");
        assert_eq!(serde_json::from_str::<serde_json::Value>(lines[1]).unwrap()["note"], "a\nb");
        assert_eq!(staging_prefix("paperchart/"), "paperchart/staging/");
    }
}
