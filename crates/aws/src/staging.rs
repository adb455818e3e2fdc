//! Bulk import mode: the sink that stages NDJSON in S3 for HealthLake's StartFHIRImportJob
//! instead of writing through the REST API.
//!
//! Each document becomes one object, `<prefix>staging/<document id>.ndjson`, one resource per
//! line (HealthLake's import reads NDJSON with any mix of resource types). The object is written
//! before the message is acknowledged, so nothing is lost; writing the same document again
//! overwrites the same key, so a duplicate changes nothing. `paperchart-scheduler` moves staged
//! objects into an import batch and starts the import job.

use async_trait::async_trait;
use paperchart_core::sink::{FhirSink, SinkError, WriteOutcome};
use paperchart_model::bundle::Bundle;

pub struct StagingSink {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

/// Where staged documents wait for an import.
pub fn staging_prefix(work_prefix: &str) -> String {
    format!("{work_prefix}staging/")
}

impl StagingSink {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, work_prefix: &str) -> StagingSink {
        StagingSink { client, bucket: bucket.into(), prefix: staging_prefix(work_prefix) }
    }

    pub fn key(&self, document_id: &str) -> String {
        format!("{}{document_id}.ndjson", self.prefix)
    }

    /// Checks at start-up that the work bucket answers with these credentials.
    pub async fn check(&self) -> Result<(), String> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map(|_| ()).map_err(|e| crate::describe(&e))
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
            .body(bundle.ndjson().into_bytes().into())
            .send()
            .await
            .map_err(|e| SinkError::Transient {
                status: None,
                detail: format!("staging s3://{}/{key}: {}", self.bucket, crate::describe(&e)),
                retry_after: None,
            })?;
        Ok(WriteOutcome::whole(bundle, 202))
    }

    fn describe(&self) -> String {
        format!("staging s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_documents_wait_under_the_work_prefix() {
        assert_eq!(staging_prefix("paperchart/"), "paperchart/staging/");
    }
}
