//! Fakes behind the seams, for unit tests: a queue with SQS's semantics, a sink and a review
//! store that keep what they are given, and a job store that keeps parked OCR jobs. Time is Tokio's, so a test with paused time runs leases and heartbeats
//! without waiting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use paperchart_core::jobs::{JobStore, PendingJob, StoreError};
use paperchart_core::queue::{JobQueue, Message, QueueError};
use paperchart_core::sink::{FhirSink, ReviewStore, SinkError, WriteOutcome};
use paperchart_core::source::SourceObject;
use paperchart_model::bundle::{Bundle, Review};
use tokio::time::Instant;

struct Held {
    id: u64,
    body: String,
    visible_at: Instant,
    receive_count: u32,
    receipt: Option<String>,
    attempts: u32,
}

/// How the queue's extend calls behave, to test what the worker does when they fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extensions {
    #[default]
    Work,
    /// Every extension answers an error.
    Fail,
    /// Every extension hangs (until the caller's time limit).
    Hang,
}

#[derive(Default)]
struct State {
    next: u64,
    messages: Vec<Held>,
    dead: Vec<(String, String)>,
    acked: Vec<String>,
    releases: Vec<(String, Duration)>,
    extensions: u32,
    extend: Extensions,
}

/// A queue in memory with SQS's rules: leases by visibility timeout, single-use receipts, a
/// receive count per delivery, dead letters with their reason.
#[derive(Clone, Default)]
pub struct MemoryQueue {
    state: Arc<Mutex<State>>,
}

impl MemoryQueue {
    pub fn new() -> MemoryQueue {
        MemoryQueue::default()
    }

    pub fn set_extensions(&self, how: Extensions) {
        self.state.lock().unwrap().extend = how;
    }

    /// (body, reason) of every dead letter.
    pub fn dead_letters(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().dead.clone()
    }

    /// Bodies of the acknowledged (deleted) messages.
    pub fn acked(&self) -> Vec<String> {
        self.state.lock().unwrap().acked.clone()
    }

    /// (body, delay) of every release.
    pub fn releases(&self) -> Vec<(String, Duration)> {
        self.state.lock().unwrap().releases.clone()
    }

    /// Successful extensions so far.
    pub fn extensions(&self) -> u32 {
        self.state.lock().unwrap().extensions
    }

    /// Messages still in the queue, visible or leased.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, body: &str, delay: Duration, attempts: u32) {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let id = s.next;
        s.messages.push(Held {
            id,
            body: body.to_string(),
            visible_at: Instant::now() + delay,
            receive_count: 0,
            receipt: None,
            attempts,
        });
    }

    fn held<'a>(s: &'a mut State, receipt: &str) -> Result<&'a mut Held, QueueError> {
        let now = Instant::now();
        s.messages
            .iter_mut()
            .find(|m| m.receipt.as_deref() == Some(receipt) && m.visible_at > now)
            .ok_or(QueueError::LeaseLost)
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let mut s = self.state.lock().unwrap();
        let now = Instant::now();
        let mut out = Vec::new();
        for m in s.messages.iter_mut().filter(|m| m.visible_at <= now).take(max) {
            m.receive_count += 1;
            let receipt = format!("{}-{}", m.id, m.receive_count);
            m.receipt = Some(receipt.clone());
            m.visible_at = now + visibility;
            out.push(Message {
                id: m.id.to_string(),
                body: m.body.clone(),
                receipt,
                receive_count: m.receive_count,
                attempts: m.attempts,
            });
        }
        Ok(out)
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        let how = self.state.lock().unwrap().extend;
        match how {
            Extensions::Fail => {
                return Err(QueueError::Unavailable { op: "extend", detail: "refused by the test".into() })
            }
            Extensions::Hang => std::future::pending::<()>().await,
            Extensions::Work => {}
        }
        let mut s = self.state.lock().unwrap();
        Self::held(&mut s, receipt)?.visible_at = Instant::now() + visibility;
        s.extensions += 1;
        Ok(())
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        let mut s = self.state.lock().unwrap();
        let id = Self::held(&mut s, receipt)?.id;
        let i = s.messages.iter().position(|m| m.id == id).expect("held");
        let m = s.messages.remove(i);
        s.acked.push(m.body);
        Ok(())
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let mut s = self.state.lock().unwrap();
        let m = Self::held(&mut s, receipt)?;
        m.visible_at = Instant::now() + delay;
        m.receipt = None;
        let body = m.body.clone();
        s.releases.push((body, delay));
        Ok(())
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), QueueError> {
        let mut s = self.state.lock().unwrap();
        let id = Self::held(&mut s, &message.receipt)?.id;
        let i = s.messages.iter().position(|m| m.id == id).expect("held");
        let m = s.messages.remove(i);
        s.dead.push((m.body, reason.to_string()));
        Ok(())
    }

    async fn send(&self, body: &str) -> Result<(), QueueError> {
        self.push(body, Duration::ZERO, 0);
        Ok(())
    }

    /// As SQS: a new message (receive count 0) after `delay`, the held one deleted.
    async fn requeue(&self, message: &Message, delay: Duration, attempts: u32) -> Result<(), QueueError> {
        {
            let mut s = self.state.lock().unwrap();
            let id = Self::held(&mut s, &message.receipt)?.id;
            s.messages.retain(|m| m.id != id);
            s.releases.push((message.body.clone(), delay));
        }
        self.push(&message.body, delay, attempts);
        Ok(())
    }
}

/// A sink in memory: the last Bundle written per document, and how many writes it took.
#[derive(Clone, Default)]
pub struct MemorySink {
    bundles: Arc<Mutex<BTreeMap<String, Bundle>>>,
    writes: Arc<Mutex<u32>>,
    /// Writes that fail (transiently) before writes succeed.
    failures: Arc<Mutex<u32>>,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// The next `n` writes fail as a server answering 503 would.
    pub fn fail_next(&self, n: u32) {
        *self.failures.lock().unwrap() = n;
    }

    pub fn bundles(&self) -> BTreeMap<String, Bundle> {
        self.bundles.lock().unwrap().clone()
    }

    pub fn writes(&self) -> u32 {
        *self.writes.lock().unwrap()
    }
}

#[async_trait]
impl FhirSink for MemorySink {
    async fn write(&self, bundle: &Bundle) -> Result<WriteOutcome, SinkError> {
        *self.writes.lock().unwrap() += 1;
        {
            let mut f = self.failures.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(SinkError::Transient {
                    status: Some(503),
                    detail: "failed by the test".into(),
                    retry_after: None,
                });
            }
        }
        let existed = self.bundles.lock().unwrap().insert(bundle.id.clone(), bundle.clone()).is_some();
        let status = if existed { 200 } else { 201 };
        Ok(WriteOutcome::whole(bundle, status))
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// A review store in memory: the last review per document.
#[derive(Clone, Default)]
pub struct MemoryReview {
    reviews: Arc<Mutex<BTreeMap<String, Review>>>,
    failures: Arc<Mutex<u32>>,
}

impl MemoryReview {
    pub fn new() -> MemoryReview {
        MemoryReview::default()
    }

    /// The next `n` puts fail as an unreachable bucket would.
    pub fn fail_next(&self, n: u32) {
        *self.failures.lock().unwrap() = n;
    }

    pub fn reviews(&self) -> BTreeMap<String, Review> {
        self.reviews.lock().unwrap().clone()
    }
}

#[async_trait]
impl ReviewStore for MemoryReview {
    async fn put(&self, review: &Review) -> Result<String, SinkError> {
        {
            let mut f = self.failures.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(SinkError::Transient {
                    status: None,
                    detail: "failed by the test".into(),
                    retry_after: None,
                });
            }
        }
        self.reviews.lock().unwrap().insert(review.document_id.clone(), review.clone());
        Ok(format!("memory:{}", review.document_id))
    }
}

/// A job store in memory: parked jobs by id, and the contents written through it.
#[derive(Clone, Default)]
pub struct MemoryJobs {
    parked: Arc<Mutex<BTreeMap<String, PendingJob>>>,
    /// The content identities of the documents written.
    contents: Arc<Mutex<Vec<String>>>,
    forgotten: Arc<Mutex<Vec<String>>>,
    /// Jobs set aside with their dead-lettered documents, found again by `get`.
    aside: Arc<Mutex<BTreeMap<String, PendingJob>>>,
    /// Leases: job id → until when.
    leases: Arc<Mutex<BTreeMap<String, std::time::Instant>>>,
}

impl MemoryJobs {
    pub fn new() -> MemoryJobs {
        MemoryJobs::default()
    }

    /// The ids of the jobs parked now.
    pub fn parked(&self) -> Vec<String> {
        self.parked.lock().unwrap().keys().cloned().collect()
    }

    /// The ids of the jobs forgotten without being written.
    pub fn forgotten(&self) -> Vec<String> {
        self.forgotten.lock().unwrap().clone()
    }
}

#[async_trait]
impl JobStore for MemoryJobs {
    async fn is_written(&self, object: &SourceObject) -> Result<bool, StoreError> {
        Ok(self.contents.lock().unwrap().contains(&object.identity))
    }

    async fn park(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.parked.lock().unwrap().insert(job.job.id.clone(), job.clone());
        Ok(())
    }

    async fn get(&self, job_id: &str) -> Result<Option<PendingJob>, StoreError> {
        if let Some(job) = self.parked.lock().unwrap().get(job_id).cloned() {
            return Ok(Some(job));
        }
        let mut aside = self.aside.lock().unwrap();
        let Some(job) = aside.get(job_id).cloned() else { return Ok(None) };
        // Written since it was set aside (as the S3 registry does): stale, gone.
        if self.contents.lock().unwrap().contains(&job.object.identity) {
            aside.remove(job_id);
            return Ok(None);
        }
        Ok(Some(PendingJob { set_aside: true, ..job }))
    }

    async fn written(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.contents.lock().unwrap().push(job.object.identity.clone());
        self.parked.lock().unwrap().remove(&job.job.id);
        self.aside.lock().unwrap().remove(&job.job.id);
        Ok(())
    }

    async fn lease(&self, job_id: &str, hold: Duration) -> Result<bool, StoreError> {
        let mut leases = self.leases.lock().unwrap();
        let now = std::time::Instant::now();
        if leases.get(job_id).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        leases.insert(job_id.to_string(), now + hold);
        Ok(true)
    }

    async fn unlease(&self, job_id: &str) -> Result<(), StoreError> {
        self.leases.lock().unwrap().remove(job_id);
        Ok(())
    }

    async fn discard(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.parked.lock().unwrap().remove(&job.job.id);
        self.aside.lock().unwrap().remove(&job.job.id);
        Ok(())
    }

    async fn forget(&self, job: &PendingJob) -> Result<(), StoreError> {
        self.parked.lock().unwrap().remove(&job.job.id);
        self.aside.lock().unwrap().insert(job.job.id.clone(), job.clone());
        self.forgotten.lock().unwrap().push(job.job.id.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_queue_keeps_the_contract() {
        let q = MemoryQueue::new();
        let handle = q.clone();
        crate::contract::queue(&q, || {
            let q = handle.clone();
            async move { q.dead_letters() }
        })
        .await;
    }
}
