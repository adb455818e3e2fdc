//! Reading the messages the fleet's queues carry.
//!
//! The intake queue receives S3 event notifications in any of the shapes AWS delivers them:
//! straight from S3 (`Records`, every record read, keys form-encoded), wrapped in an SNS
//! envelope (`Type: Notification`, the event in `Message`), or from EventBridge (`detail-type:
//! Object Created`, keys not encoded). `s3:TestEvent` (sent when a notification is configured)
//! and non-create events are recognised and reported as ignored, not as errors. The completion
//! queue receives Textract job notices, raw or in an SNS envelope.
//!
//! These lessons were paid for by others: keys with `+`, `%2B`, `:` or spaces broke fetches
//! (Vector #7437, #12498; Quickwit #5692); SNS-wrapped bodies and test events were rejected
//! (Vector #8185, #14438); only `Records[0]` was read (Quickwit).

use paperchart_core::source::ObjectLocation;
use serde_json::Value;

/// One uploaded object an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key as stored in S3 (decoded).
    pub key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: Option<u64>,
}

impl ObjectRef {
    /// The stable identity the resource ids derive from: bucket, key and the eTag (the content's
    /// digest), or the version when no eTag is known. A duplicated event, a multipart upload's
    /// second event and the same bytes uploaded again all give the same identity, so they write
    /// the same resources; new content under the same key gives a new one.
    pub fn identity(&self) -> String {
        let mut s = format!("s3://{}/{}", self.bucket, self.key);
        if let Some(e) = &self.etag {
            s.push_str(&format!("#etag={}", e.trim_matches('"')));
        } else if let Some(v) = &self.version_id {
            s.push_str(&format!("?versionId={v}"));
        }
        s
    }

    /// The object-store location the OCR seam carries.
    pub fn location(&self) -> ObjectLocation {
        ObjectLocation {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
            etag: self.etag.clone(),
        }
    }

    pub fn from_location(l: &ObjectLocation, size: Option<u64>) -> ObjectRef {
        ObjectRef {
            bucket: l.bucket.clone(),
            key: l.key.clone(),
            version_id: l.version_id.clone(),
            etag: l.etag.clone(),
            size,
        }
    }

    /// `s3://bucket/key` with the key percent-encoded (a valid FHIR url), for
    /// DocumentReference.content.url.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, paperchart_core::source::encode_path(&self.key))
    }
}

/// What an intake message asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntakeEvent {
    /// Objects created: one document each.
    pub objects: Vec<ObjectRef>,
    /// Event names that were not object creations (deletes, restores, the test event).
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("not an S3 event notification: {0}")]
    Unrecognised(String),
    #[error("S3 key {key:?} is not valid form encoding: {detail}")]
    BadKey { key: String, detail: String },
}

/// Decodes an S3 notification key: `+` is a space, then `%XX` escapes (`%2B` a plus, `%2F` a
/// slash, `%3A` a colon). The result must be UTF-8.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let bad = |detail: &str| EventError::BadKey { key: raw.to_string(), detail: detail.to_string() };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(|| bad("truncated escape"))?;
                let s = std::str::from_utf8(hex).map_err(|_| bad("bad escape"))?;
                out.push(u8::from_str_radix(s, 16).map_err(|_| bad("bad escape"))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad("not UTF-8"))
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Unwraps an SNS envelope (`Type: Notification`), returning the inner message's JSON.
fn unwrap_sns(v: Value) -> Result<Value, EventError> {
    if v.get("Type").and_then(Value::as_str) == Some("Notification") {
        if let Some(msg) = v.get("Message").and_then(Value::as_str) {
            return serde_json::from_str(msg).map_err(|e| EventError::NotJson(format!("SNS Message: {e}")));
        }
    }
    Ok(v)
}

/// Reads an intake-queue message body.
pub fn parse_intake(body: &str) -> Result<IntakeEvent, EventError> {
    let v: Value = serde_json::from_str(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    let v = unwrap_sns(v)?;
    let mut event = IntakeEvent::default();

    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        event.ignored.push("s3:TestEvent".into());
        return Ok(event);
    }

    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        for r in records {
            let name = str_field(r, "eventName").unwrap_or_default();
            if !name.starts_with("ObjectCreated:") {
                event.ignored.push(if name.is_empty() { "unnamed record".into() } else { name });
                continue;
            }
            let s3 = &r["s3"];
            let bucket = str_field(&s3["bucket"], "name")
                .ok_or_else(|| EventError::Unrecognised("record without s3.bucket.name".into()))?;
            let raw_key = str_field(&s3["object"], "key")
                .ok_or_else(|| EventError::Unrecognised("record without s3.object.key".into()))?;
            event.objects.push(ObjectRef {
                bucket,
                key: decode_key(&raw_key)?,
                version_id: str_field(&s3["object"], "versionId").filter(|s| !s.is_empty()),
                etag: str_field(&s3["object"], "eTag").filter(|s| !s.is_empty()),
                size: s3["object"].get("size").and_then(Value::as_u64),
            });
        }
        return Ok(event);
    }

    if v.get("source").and_then(Value::as_str) == Some("aws.s3") {
        let kind = str_field(&v, "detail-type").unwrap_or_default();
        if kind != "Object Created" {
            event.ignored.push(kind);
            return Ok(event);
        }
        let d = &v["detail"];
        let bucket = str_field(&d["bucket"], "name")
            .ok_or_else(|| EventError::Unrecognised("EventBridge event without detail.bucket.name".into()))?;
        // EventBridge keys arrive as stored, not form-encoded.
        let key = str_field(&d["object"], "key")
            .ok_or_else(|| EventError::Unrecognised("EventBridge event without detail.object.key".into()))?;
        event.objects.push(ObjectRef {
            bucket,
            key,
            version_id: str_field(&d["object"], "version-id").filter(|s| !s.is_empty()),
            etag: str_field(&d["object"], "etag").filter(|s| !s.is_empty()),
            size: d["object"].get("size").and_then(Value::as_u64),
        });
        return Ok(event);
    }

    let keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    Err(EventError::Unrecognised(format!("fields {keys:?}")))
}

/// Textract's job completion notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextractCompletion {
    pub job_id: String,
    /// `SUCCEEDED`, `PARTIAL_SUCCESS`, `FAILED` or `ERROR`.
    pub status: String,
    pub api: String,
    pub job_tag: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// Reads a completion-queue message body (SNS envelope or raw delivery).
pub fn parse_completion(body: &str) -> Result<TextractCompletion, EventError> {
    let v: Value = serde_json::from_str(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    let v = unwrap_sns(v)?;
    let job_id =
        str_field(&v, "JobId").ok_or_else(|| EventError::Unrecognised("Textract notice without JobId".into()))?;
    let status =
        str_field(&v, "Status").ok_or_else(|| EventError::Unrecognised("Textract notice without Status".into()))?;
    Ok(TextractCompletion {
        job_id,
        status,
        api: str_field(&v, "API").unwrap_or_default(),
        job_tag: str_field(&v, "JobTag").filter(|s| !s.is_empty()),
        bucket: str_field(&v["DocumentLocation"], "S3Bucket"),
        key: str_field(&v["DocumentLocation"], "S3ObjectName"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/events/", $name))
        };
    }

    #[test]
    fn every_record_is_read_and_keys_are_form_decoded() {
        let e = parse_intake(fixture!("s3-put-two-records.json")).unwrap();
        assert!(e.ignored.is_empty());
        assert_eq!(e.objects.len(), 2, "not only Records[0]");
        let a = &e.objects[0];
        assert_eq!(
            (a.bucket.as_str(), a.key.as_str()),
            ("paperchart-intake", "scans/2024/Discharge Summary + Labs.pdf")
        );
        assert_eq!(a.size, Some(1467168));
        assert_eq!(a.version_id.as_deref(), Some("096fKKXTRTtl3on89fVO.nfljtsv6qko"));
        assert_eq!(
            a.identity(),
            "s3://paperchart-intake/scans/2024/Discharge Summary + Labs.pdf#etag=d41d8cd98f00b204e9800998ecf8427e"
        );
        let b = &e.objects[1];
        assert_eq!(b.key, "scans/ward:7/referral/letter.tif");
        assert_eq!(b.version_id, None);
        assert_eq!(
            b.identity(),
            "s3://paperchart-intake/scans/ward:7/referral/letter.tif#etag=9b2cf535f27731c974343645a3985328-2"
        );
    }

    #[test]
    fn sns_envelopes_are_unwrapped() {
        let direct = parse_intake(fixture!("s3-put-two-records.json")).unwrap();
        let wrapped = parse_intake(fixture!("sns-wrapped-s3.json")).unwrap();
        assert_eq!(direct, wrapped);
    }

    #[test]
    fn eventbridge_keys_are_taken_as_they_are() {
        let e = parse_intake(fixture!("eventbridge-object-created.json")).unwrap();
        assert_eq!(e.objects.len(), 1);
        let o = &e.objects[0];
        assert_eq!(o.key, "scans/Intake Form 2024+v2.jpg", "a + in an EventBridge key is a plus");
        assert_eq!(o.version_id.as_deref(), Some("IYV3p45BhZA2pxJ9nPbWK6nk7h9s9Quh"));
        assert_eq!(o.size, Some(459838));
    }

    #[test]
    fn test_events_and_deletes_are_ignored_not_errors() {
        let t = parse_intake(fixture!("s3-test-event.json")).unwrap();
        assert_eq!((t.objects.len(), t.ignored.as_slice()), (0, &["s3:TestEvent".to_string()][..]));
        let d = parse_intake(fixture!("s3-delete.json")).unwrap();
        assert_eq!((d.objects.len(), d.ignored.as_slice()), (0, &["ObjectRemoved:Delete".to_string()][..]));
        let eb = parse_intake(fixture!("eventbridge-object-deleted.json")).unwrap();
        assert_eq!(eb.ignored, ["Object Deleted"]);
    }

    #[test]
    fn malformed_messages_are_errors_with_a_reason() {
        assert!(matches!(parse_intake("not json"), Err(EventError::NotJson(_))));
        assert!(matches!(parse_intake(r#"{"hello": 1}"#), Err(EventError::Unrecognised(_))));
        let bad_key =
            r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%ZZ"}}}]}"#;
        assert!(matches!(parse_intake(bad_key), Err(EventError::BadKey { .. })));
        let no_bucket = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"a"}}}]}"#;
        assert!(matches!(parse_intake(no_bucket), Err(EventError::Unrecognised(_))));
    }

    #[test]
    fn decodes_keys() {
        assert_eq!(decode_key("a+b%2Bc%2Fd%3Ae%20f").unwrap(), "a b+c/d:e f");
        assert_eq!(decode_key("caf%C3%A9.pdf").unwrap(), "café.pdf");
        assert!(decode_key("bad%2").is_err());
        assert!(decode_key("bad%FF").is_err(), "not UTF-8");
    }

    #[test]
    fn completion_notices_raw_or_wrapped() {
        let raw = parse_completion(fixture!("textract-completion-raw.json")).unwrap();
        assert_eq!(raw.status, "SUCCEEDED");
        assert_eq!(raw.job_tag.as_deref(), Some("doc-3f1c2a"));
        assert_eq!(raw.key.as_deref(), Some("scans/2024/Discharge Summary + Labs.pdf"));
        let wrapped = parse_completion(fixture!("textract-completion-sns-failed.json")).unwrap();
        assert_eq!((wrapped.status.as_str(), wrapped.job_id.as_str()), ("FAILED", raw.job_id.as_str()));
        assert!(parse_completion(r#"{"Status":"SUCCEEDED"}"#).is_err());
    }
}
