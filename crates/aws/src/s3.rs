//! The object-source seam on Amazon S3.
//!
//! Keys are `s3://bucket/key` with an optional `?versionId=`. The identity every resource id
//! derives from is the SHA-256 of the bytes read, as for local files: a duplicated event, a
//! multipart upload's second event, the same bytes uploaded again under the same key or another
//! one change nothing. Not the eTag: under SSE-KMS (the terraform module's default) S3's eTag is
//! no digest of the content, so the same bytes get a new eTag on every upload. The size is
//! checked from the GET's answer before its body is read.

use async_trait::async_trait;

use paperchart_core::source::{ObjectSource, SourceError, SourceObject};

use crate::events::ObjectRef;

pub struct S3Source {
    client: aws_sdk_s3::Client,
    max_bytes: u64,
}

/// Parses `s3://bucket/key[?versionId=v]`.
pub fn parse_s3_uri(uri: &str) -> Option<ObjectRef> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    let (key, version) = match key.rsplit_once("?versionId=") {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (key, None),
    };
    (!bucket.is_empty() && !key.is_empty()).then(|| ObjectRef {
        bucket: bucket.to_string(),
        key: key.to_string(),
        version_id: version,
        etag: None,
        size: None,
    })
}

/// The source key of an object: what the pipeline passes to [`ObjectSource::fetch`].
pub fn source_key(o: &ObjectRef) -> String {
    match &o.version_id {
        Some(v) => format!("s3://{}/{}?versionId={v}", o.bucket, o.key),
        None => format!("s3://{}/{}", o.bucket, o.key),
    }
}

impl S3Source {
    pub fn new(client: aws_sdk_s3::Client, max_bytes: u64) -> S3Source {
        S3Source { client, max_bytes }
    }
}

#[async_trait]
impl ObjectSource for S3Source {
    /// One GET, no HEAD: the version, eTag and size come with the answer, and the size is checked
    /// against `max_bytes` before the body is read; the identity is the content's SHA-256.
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError> {
        let o = parse_s3_uri(key).ok_or_else(|| SourceError::NotFound { key: key.to_string() })?;
        let got =
            self.client.get_object().bucket(&o.bucket).key(&o.key).set_version_id(o.version_id.clone()).send().await;
        let got = got.map_err(|e| missing_or_unavailable(key, e))?;
        let size = got.content_length.unwrap_or(0).max(0) as u64;
        if size > self.max_bytes {
            return Err(SourceError::TooLarge { key: key.to_string(), bytes: size, limit: self.max_bytes });
        }
        let version = got.version_id.clone().or(o.version_id.clone()).filter(|v| v != "null");
        let o = ObjectRef { version_id: version, etag: got.e_tag.clone(), size: Some(size), ..o };
        let modified = got.last_modified.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
        // Read part by part into one buffer of the announced size: the object is in memory once,
        // not also as the SDK's aggregated parts and their copy, and never past the limit.
        let mut body = got.body;
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(part) = body.try_next().await.map_err(|e| unavailable(key, e))? {
            let read = (bytes.len() + part.len()) as u64;
            if read > self.max_bytes {
                return Err(SourceError::TooLarge { key: key.to_string(), bytes: read, limit: self.max_bytes });
            }
            bytes.extend_from_slice(&part);
        }
        let name = o.key.rsplit('/').next().unwrap_or(&o.key).to_string();
        let mut object = SourceObject::from_bytes(o.uri(), name, bytes, modified);
        object.location = Some(o.location());
        Ok(object)
    }

    fn key_for(&self, l: &paperchart_core::source::ObjectLocation) -> Option<String> {
        Some(source_key(&ObjectRef::from_location(l, None)))
    }
}

/// Every key under `prefix`, page by page, at most `max`.
pub async fn list_keys(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    max: usize,
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| format!("list s3://{bucket}/{prefix}: {}", crate::describe(&e)))?;
        keys.extend(page.contents.unwrap_or_default().into_iter().filter_map(|o| o.key));
        token = page.next_continuation_token;
        if token.is_none() || keys.len() >= max {
            keys.truncate(max);
            return Ok(keys);
        }
    }
}

/// An object's bytes, or `None` when there is no such key.
pub async fn read_if_exists(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => Ok(Some(out.body.collect().await.map_err(|e| format!("read s3://{bucket}/{key}: {e}"))?.to_vec())),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(format!("read s3://{bucket}/{key}: {}", crate::describe(&e))),
    }
}

/// A 404 (no such key, or no such version) is a missing object; anything else may pass.
fn missing_or_unavailable<E: std::error::Error + 'static>(
    key: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> SourceError {
    if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
        return SourceError::NotFound { key: key.to_string() };
    }
    unavailable(key, crate::describe(&e))
}

fn unavailable(key: &str, what: impl std::fmt::Display) -> SourceError {
    SourceError::Unavailable { key: key.to_string(), detail: what.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_round_trip() {
        let o = parse_s3_uri("s3://b/scans/a b+c.pdf?versionId=v1").unwrap();
        assert_eq!((o.bucket.as_str(), o.key.as_str(), o.version_id.as_deref()), ("b", "scans/a b+c.pdf", Some("v1")));
        assert_eq!(source_key(&o), "s3://b/scans/a b+c.pdf?versionId=v1");
        assert!(parse_s3_uri("s3://b/").is_none());
        assert!(parse_s3_uri("file:///x").is_none());
    }
}
