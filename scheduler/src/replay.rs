//! Replaying saved Textract answers: every answer kept under `<work prefix>textract-responses/`
//! for source objects under a prefix is processed again — with the engine, terminology and
//! mapping the workers run now — without paying Textract again, and after Textract has forgotten
//! the job. For each answer a job record `replay-<document id>` is parked and its completion
//! notice sent: workers resume it like any job (bounded by their concurrency, dead letters and
//! retries as usual), reading the kept answer instead of asking Textract.

use paperchart_aws::registry::JobRegistry;
use paperchart_aws::responses::{replay_record, ResponseArchive};
use paperchart_aws::sqs::SqsQueue;
use paperchart_core::queue::JobQueue;

use crate::sweep::notice;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Answers found under the prefix.
    pub found: usize,
    /// Notices sent.
    pub queued: usize,
    /// Answers that could not be read (named in the log by key, never by content).
    pub unreadable: usize,
}

pub async fn replay(
    archive: &ResponseArchive,
    registry: &JobRegistry,
    completion: &SqsQueue,
    source_prefix: &str,
    max: Option<usize>,
) -> anyhow::Result<Replayed> {
    let keys = archive
        .list(source_prefix, max.unwrap_or(usize::MAX))
        .await
        .map_err(|e| anyhow::anyhow!("saved Textract answers: {e}"))?;
    let mut out = Replayed { found: keys.len(), ..Replayed::default() };
    let now = paperchart_core::timestamps::now();
    for key in keys {
        let saved = match archive.load(&key).await {
            Ok(Some(saved)) => saved,
            Ok(None) => continue, // deleted since it was listed
            Err(paperchart_core::jobs::StoreError::Corrupt { .. }) => {
                tracing::warn!(error = "saved_response_unreadable", "a saved answer cannot be read; skipped");
                out.unreadable += 1;
                continue;
            }
            Err(e) => return Err(anyhow::anyhow!("saved Textract answer: {e}")),
        };
        let record = replay_record(&saved, &now);
        registry.put(&record).await.map_err(|e| anyhow::anyhow!("job record: {e}"))?;
        completion.send(&notice(&record, "SUCCEEDED")).await.map_err(|e| anyhow::anyhow!("completion queue: {e}"))?;
        tracing::info!(document_id = record.document_id.as_str(), "replay queued");
        out.queued += 1;
    }
    Ok(out)
}
