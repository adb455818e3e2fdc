//! Lost Textract notices. A job the fleet started is recorded in the work bucket until its
//! document is written. A record older than `scheduler.stuck_after_secs` means the completion
//! notice never came (or was lost): the job is checked with GetDocumentAnalysis and
//! - still running: left alone;
//! - finished (SUCCEEDED, PARTIAL_SUCCESS or FAILED): its notice is sent again to the completion
//!   queue, so a worker finishes it (writes it, or dead-letters it with Textract's reason) by
//!   the same path as every other job;
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
    let records = registry.list().await.map_err(|e| anyhow::anyhow!("job records: {e}"))?;
    out.pending = records.len();
    for record in records.iter().filter(|r| age_secs(r, now) >= stuck_after_secs as i64) {
        out.checked += 1;
        let status = if paperchart_aws::responses::is_replay(&record.job_id) {
            Ok(("SUCCEEDED".to_string(), None))
        } else {
            textract.job_status(&record.job_id).await
        };
        match status {
            Ok((status, _)) if status == "IN_PROGRESS" => out.running += 1,
            Ok((status, _)) => {
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
