//! The object-source seam on Amazon S3.
//!
//! Keys are `s3://bucket/key` with an optional `?versionId=`; the object's eTag (or version) is
//! what the identity — and therefore every resource id — derives from, so a duplicated event, a
//! multipart upload's second event or the same bytes uploaded again change nothing. The size is checked with a HEAD
//! before a byte is downloaded.

use async_trait::async_trait;

use super::events::ObjectRef;
use crate::source::{ObjectSource, SourceError, SourceObject};

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

/// The source key of an object: what the pipeline passes to [`S3Source::fetch`].
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

    /// Describes an object without downloading it: its size, version, eTag and modification
    /// time (HEAD), and its kind from the first kilobyte (a ranged GET). For engines that read
    /// the object in place, such as Textract.
    pub async fn describe(&self, o: &ObjectRef) -> Result<(SourceObject, crate::decode::Kind), crate::job::StageError> {
        let key = source_key(o);
        let head = match self
            .client
            .head_object()
            .bucket(&o.bucket)
            .key(&o.key)
            .set_version_id(o.version_id.clone())
            .send()
            .await
        {
            Ok(h) => h,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                return Err(SourceError::NotFound { path: key }.into())
            }
            Err(e) => return Err(io(&key, aws_smithy_types::error::display::DisplayErrorContext(&e)).into()),
        };
        let size = head.content_length.unwrap_or(0).max(0) as u64;
        if size > self.max_bytes {
            return Err(SourceError::TooLarge { path: key, bytes: size, limit: self.max_bytes }.into());
        }
        if size == 0 {
            // A ranged GET of an empty object is an error (416): say what it is instead.
            return Err(crate::decode::DecodeError::Empty.into());
        }
        let first = self
            .client
            .get_object()
            .bucket(&o.bucket)
            .key(&o.key)
            .set_version_id(o.version_id.clone())
            .range("bytes=0-1023")
            .send()
            .await
            .map_err(|e| io(&key, aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        let prefix = first.body.collect().await.map_err(|e| io(&key, e))?.into_bytes();
        let kind = crate::decode::detect(&prefix)?;
        let version = head.version_id.clone().or(o.version_id.clone()).filter(|v| v != "null");
        let located = ObjectRef { version_id: version, etag: head.e_tag.clone(), size: Some(size), ..o.clone() };
        let object = SourceObject {
            identity: located.identity(),
            uri: located.uri(),
            name: o.key.rsplit('/').next().unwrap_or(&o.key).to_string(),
            size,
            bytes: std::sync::Arc::from(Vec::new()),
            sha1: None,
            modified: head.last_modified.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
            s3: Some(located),
        };
        Ok((object, kind))
    }
}

fn io(path: &str, what: impl std::fmt::Display) -> SourceError {
    SourceError::Io { path: path.to_string(), source: std::io::Error::other(what.to_string()) }
}

#[async_trait]
impl ObjectSource for S3Source {
    async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError> {
        let o = parse_s3_uri(key).ok_or_else(|| SourceError::NotFound { path: key.to_string() })?;
        let head =
            self.client.head_object().bucket(&o.bucket).key(&o.key).set_version_id(o.version_id.clone()).send().await;
        let head = match head {
            Ok(h) => h,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                return Err(SourceError::NotFound { path: key.to_string() })
            }
            Err(e) => return Err(io(key, aws_smithy_types::error::display::DisplayErrorContext(&e))),
        };
        let size = head.content_length.unwrap_or(0).max(0) as u64;
        if size > self.max_bytes {
            return Err(SourceError::TooLarge { path: key.to_string(), bytes: size, limit: self.max_bytes });
        }
        let got = self
            .client
            .get_object()
            .bucket(&o.bucket)
            .key(&o.key)
            .set_version_id(o.version_id.clone())
            .send()
            .await
            .map_err(|e| io(key, aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        let version = got.version_id.clone().or(o.version_id.clone()).filter(|v| v != "null");
        let etag = got.e_tag.clone();
        let modified = got.last_modified.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
        let bytes = got.body.collect().await.map_err(|e| io(key, e))?.into_bytes().to_vec();
        let name = o.key.rsplit('/').next().unwrap_or(&o.key).to_string();
        let mut object = SourceObject::from_bytes(o.uri(), name, bytes, modified);
        let located = ObjectRef { version_id: version, etag, size: Some(size), ..o };
        object.identity = located.identity();
        object.s3 = Some(located);
        Ok(object)
    }
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
