//! The fleet's review store: findings that could not be filed under a patient, one object per
//! document under `<work prefix>review/` in the work bucket, written before the message is
//! acknowledged (so nothing is dropped) and overwritten when the document is processed again.

use async_trait::async_trait;
use paperchart_core::sink::{ReviewStore, SinkError};
use paperchart_model::bundle::Review;

pub struct S3Review {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

/// Where held findings wait for a person.
pub fn review_prefix(work_prefix: &str) -> String {
    format!("{work_prefix}review/")
}

impl S3Review {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, work_prefix: &str) -> S3Review {
        S3Review { client, bucket: bucket.into(), prefix: review_prefix(work_prefix) }
    }

    pub fn key(&self, document_id: &str) -> String {
        format!("{}{document_id}.json", self.prefix)
    }
}

#[async_trait]
impl ReviewStore for S3Review {
    async fn put(&self, review: &Review) -> Result<String, SinkError> {
        let key = self.key(&review.document_id);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(review.to_bytes().into())
            .send()
            .await
            .map_err(|e| SinkError::Transient {
                status: None,
                detail: format!("review s3://{}/{key}: {}", self.bucket, crate::describe(&e)),
                retry_after: None,
            })?;
        Ok(format!("s3://{}/{key}", self.bucket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_findings_wait_under_the_work_prefix() {
        assert_eq!(review_prefix("paperchart/"), "paperchart/review/");
    }
}
