//! Lost Textract notices. A job the fleet started is recorded in the work bucket until its
//! document is written. A record older than `scheduler.stuck_after_secs` means the completion
//! notice never came (or was lost): the job is checked with GetDocumentAnalysis and
//! - still running: left alone;
//! - finished (SUCCEEDED, PARTIAL_SUCCESS or FAILED): its notice is sent again to the completion
//!   queue, so a worker finishes it (writes it, or dead-letters it with Textract's reason) by
//!   the same path as every other job. Once per backoff: the re-notice is recorded on the job
//!   (count and time, a conditional write that never brings back a record the worker deleted
//!   meanwhile), and the next waits `stuck_after_secs` × 2^(count − 1), at most 6 hours — a
//!   notice that keeps failing is not re-sent every round to run the document again;
//! - unknown to Textract (expired, or never started): its notice goes to the completion
//!   dead-letter queue with the reason (a notice like Textract's, status `EXPIRED`, so a redrive
//!   hands it to a worker like any other), and the record is set aside under `textract-failed/`.
//!   Redriven, the worker finds the record there and, with no kept answer, reads the document
//!   again from its source object.
//!
//! A replay's record (`replay-<document id>`, see [`crate::replay`]) names no Textract job: its
//! answer is kept in the work bucket, so its notice is simply sent again.

use paperchart_aws::registry::{JobRecord, JobRegistry};
use paperchart_aws::sqs::SqsQueue;
use paperchart_aws::textract::TextractEngine;
use paperchart_core::error::Classified;
use paperchart_core::queue::JobQueue;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Every recorded job (started, not yet written).
    pub pending: usize,
    pub checked: usize,
    pub running: usize,
    pub renotified: usize,
    /// Finished jobs whose last re-notice is younger than their backoff.
    pub waiting: usize,
    pub dead_lettered: usize,
    pub errors: usize,
}

/// The completion notice Textract would have sent for `record`.
pub fn notice(record: &JobRecord, status: &str) -> String {
    serde_json::json!({
        "JobId": record.job_id,
        "Status": status,
        "API": "StartDocumentAnalysis",
        "JobTag": record.document_id,
        "Timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        "DocumentLocation": {"S3ObjectName": record.key, "S3Bucket": record.bucket},
    })
    .to_string()
}

/// The longest wait between two re-notices of one job.
const MAX_RENOTICE_WAIT_SECS: u64 = 6 * 3600;

/// Is a re-notice of this finished job due: never sent, or its backoff passed?
pub fn renotice_due(record: &JobRecord, now: time::OffsetDateTime, stuck_after_secs: u64) -> bool {
    let Some(at) = record.renotified_at.as_deref() else { return true };
    let Ok(at) = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) else {
        return true;
    };
    let doublings = record.renotices.saturating_sub(1).min(20);
    let wait = stuck_after_secs.max(1).saturating_mul(1u64 << doublings).min(MAX_RENOTICE_WAIT_SECS);
    (now - at).whole_seconds() >= wait as i64
}

fn age_secs(record: &JobRecord, now: time::OffsetDateTime) -> i64 {
    time::OffsetDateTime::parse(&record.started_at, &time::format_description::well_known::Rfc3339)
        .map(|t| (now - t).whole_seconds())
        .unwrap_or(i64::MAX)
}

pub async fn sweep(
    registry: &JobRegistry,
    textract: &TextractEngine,
    completion: &SqsQueue,
    stuck_after_secs: u64,
) -> anyhow::Result<Swept> {
    let mut out = Swept::default();
    let now = time::OffsetDateTime::now_utc();
    let records = registry.list_tagged().await.map_err(|e| anyhow::anyhow!("job records: {e}"))?;
    out.pending = records.len();
    for (record, etag) in records.iter().filter(|(r, _)| age_secs(r, now) >= stuck_after_secs as i64) {
        if !renotice_due(record, now, stuck_after_secs) {
            out.waiting += 1;
            continue;
        }
        out.checked += 1;
        let status = if paperchart_aws::responses::is_replay(&record.job_id) {
            Ok(("SUCCEEDED".to_string(), None))
        } else {
            textract.job_status(&record.job_id).await
        };
        match status {
            Ok((status, _)) if status == "IN_PROGRESS" => out.running += 1,
            Ok((status, _)) => {
                let mut next = record.clone();
                next.renotices += 1;
                next.renotified_at =
                    Some(now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default());
                // Recorded first: if the worker wrote the document (and deleted the record)
                // meanwhile, nothing is sent.
                if !registry.update(&next, etag).await.map_err(|e| anyhow::anyhow!("job record: {e}"))? {
                    continue;
                }
                completion
                    .send(&notice(record, &status))
                    .await
                    .map_err(|e| anyhow::anyhow!("completion queue: {e}"))?;
                tracing::info!(job = record.job_id.as_str(), status = status.as_str(), "lost notice sent again");
                out.renotified += 1;
            }
            Err(e) if e.class().is_permanent() => {
                let reason = format!("stuck Textract job: {e}");
                completion
                    .send_dead_letter(&notice(record, "EXPIRED"), &reason, 0)
                    .await
                    .map_err(|e| anyhow::anyhow!("completion DLQ: {e}"))?;
                registry.set_aside(record).await.map_err(|e| anyhow::anyhow!("job record: {e}"))?;
                tracing::warn!(job = record.job_id.as_str(), error = e.label(), "stuck job dead-lettered");
                out.dead_lettered += 1;
            }
            Err(e) => {
                tracing::warn!(job = record.job_id.as_str(), error = e.label(), "stuck job check failed; next round");
                out.errors += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(renotices: u32, at: Option<&str>) -> JobRecord {
        let mut r: JobRecord = serde_json::from_str(
            r#"{"job_id":"j","bucket":"b","key":"k","version_id":null,"etag":null,"size":1,"kind":"pdf","modified":null,"document_id":"d","token":"t","started_at":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        r.renotices = renotices;
        r.renotified_at = at.map(str::to_string);
        r
    }

    #[test]
    fn a_job_is_sent_again_once_per_doubling_backoff() {
        let now = time::OffsetDateTime::parse("2026-01-01T12:00:00Z", &time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(renotice_due(&record(0, None), now, 900), "never sent again: due");
        // Sent once 10 minutes ago: the next waits 15 minutes.
        assert!(!renotice_due(&record(1, Some("2026-01-01T11:50:00Z")), now, 900));
        assert!(renotice_due(&record(1, Some("2026-01-01T11:45:00Z")), now, 900));
        // Sent three times: 60 minutes.
        assert!(!renotice_due(&record(3, Some("2026-01-01T11:30:00Z")), now, 900));
        assert!(renotice_due(&record(3, Some("2026-01-01T11:00:00Z")), now, 900));
        // Never longer than 6 hours.
        assert!(renotice_due(&record(30, Some("2026-01-01T06:00:00Z")), now, 900));
        assert!(!renotice_due(&record(30, Some("2026-01-01T06:30:00Z")), now, 900));
    }
}
