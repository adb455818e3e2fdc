//! The long-running worker: receive, process, acknowledge — the same code for every queue.
//!
//! - Permits before messages: it takes free concurrency permits first and receives at most that
//!   many messages, so nothing waits in memory while its lease runs.
//! - A heartbeat per job extends the lease every `heartbeat` interval; if an extension fails the
//!   lease is lost and the job is abandoned (another worker will do it) rather than finished twice.
//! - A message is deleted only after the sink stored the document. Transient failures release it
//!   with exponential backoff; permanent ones go to the dead letters with the reason.
//! - Queue errors back off instead of spinning.
//! - On shutdown it stops receiving, gives in-flight jobs `grace` to finish, then releases what is
//!   unfinished at once (visibility 0) so another worker takes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use async_trait::async_trait;

use crate::job::{ErrorClass, StageError};
use crate::metrics::{self, JobOutcome, QueueRole};
use crate::pipeline::Pipeline;
use crate::queue::{JobQueue, Message, QueueError};

/// What the worker does with one message. `Ok` means the message's work is done (or there was
/// nothing to do) and it may be deleted; the error's class decides between release and dead
/// letter.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, message: &Message) -> Result<Handled, StageError>;
    /// Called when the queue is idle after writes, and at shutdown.
    async fn flush(&self) -> Result<(), StageError> {
        Ok(())
    }
}

/// How a message was settled, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Documents written (their DocumentReference ids).
    Written(Vec<String>),
    /// Asynchronous OCR started (job ids); the completion queue carries on.
    Started(Vec<String>),
    /// Nothing to do: a test event, a delete, a duplicate notice.
    Ignored(String),
}

/// The local pipeline as a handler: the message body is a file path.
pub struct PipelineHandler(pub Pipeline);

#[async_trait]
impl Handler for PipelineHandler {
    async fn handle(&self, message: &Message) -> Result<Handled, StageError> {
        match self.0.process(&message.body).await {
            (report, None) => Ok(Handled::Written(report.document_id.into_iter().collect())),
            (_, Some(e)) => Err(e),
        }
    }

    async fn flush(&self) -> Result<(), StageError> {
        Ok(self.0.sink.flush().await?)
    }
}

#[derive(Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub visibility: Duration,
    pub heartbeat: Duration,
    pub grace: Duration,
    pub poll: Duration,
    pub retry_base: Duration,
    /// At most this many messages per receive call (SQS allows 10).
    pub max_batch: usize,
}

/// Resolves SIGINT or SIGTERM into one cancellation.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting down"),
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
        }
        t.cancel();
    });
    token
}

impl WorkerSettings {
    /// The worker section of the configuration, with the receive batch SQS allows.
    pub fn from_config(cfg: &crate::config::Config) -> WorkerSettings {
        let w = &cfg.worker;
        WorkerSettings {
            concurrency: cfg.worker_concurrency(),
            visibility: Duration::from_secs(w.visibility_timeout_secs),
            heartbeat: Duration::from_secs(w.heartbeat_secs),
            grace: Duration::from_secs(w.shutdown_grace_secs),
            poll: Duration::from_millis(w.poll_interval_ms),
            retry_base: Duration::from_secs(w.retry_base_secs),
            max_batch: 10,
        }
    }
}

/// Counters of one worker's life, for logs and tests.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub acknowledged: AtomicU64,
    pub released: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub abandoned: AtomicU64,
}

pub struct Worker {
    /// Which queue this loop serves, for metrics.
    pub role: QueueRole,
    pub queue: Arc<dyn JobQueue>,
    pub handler: Arc<dyn Handler>,
    pub settings: WorkerSettings,
    pub stats: Arc<WorkerStats>,
}

const MAX_RETRY_DELAY: Duration = Duration::from_secs(15 * 60);

impl Worker {
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let s = &self.settings;
        let permits = Arc::new(Semaphore::new(s.concurrency.max(1)));
        let tracker = TaskTracker::new();
        let stop_jobs = CancellationToken::new();
        let written = Arc::new(AtomicBool::new(false));
        let mut queue_errors = 0u32;
        let (role, concurrency) = (self.role, s.concurrency.max(1));
        let occupancy = move |permits: &Semaphore| {
            let free = permits.available_permits();
            metrics::occupancy(role, concurrency - free.min(concurrency), free)
        };
        metrics::worker_started(role);
        tracing::info!(concurrency = s.concurrency, "worker started");
        loop {
            occupancy(&permits);
            let first = tokio::select! {
                p = permits.clone().acquire_owned() => p?,
                _ = shutdown.cancelled() => break,
            };
            let mut held: Vec<OwnedSemaphorePermit> = vec![first];
            while held.len() < s.max_batch.max(1) {
                match permits.clone().try_acquire_owned() {
                    Ok(p) => held.push(p),
                    Err(_) => break,
                }
            }
            let received = tokio::select! {
                r = self.queue.receive(held.len(), s.visibility) => r,
                _ = shutdown.cancelled() => break,
            };
            match received {
                Err(e) => {
                    metrics::receive_failed(role);
                    queue_errors += 1;
                    let wait = Duration::from_millis(200u64.saturating_mul(1 << queue_errors.min(8)))
                        .min(Duration::from_secs(30));
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "queue receive failed");
                    drop(held);
                    tokio::select! { _ = tokio::time::sleep(wait) => {}, _ = shutdown.cancelled() => break }
                }
                Ok(messages) if messages.is_empty() => {
                    queue_errors = 0;
                    drop(held);
                    if written.swap(false, Ordering::SeqCst) {
                        if let Err(e) = self.handler.flush().await {
                            tracing::warn!(error = e.label(), "sink flush failed");
                            written.store(true, Ordering::SeqCst);
                        }
                    }
                    tokio::select! { _ = tokio::time::sleep(s.poll) => {}, _ = shutdown.cancelled() => break }
                }
                Ok(messages) => {
                    queue_errors = 0;
                    metrics::received(role, messages.len());
                    for (msg, permit) in messages.into_iter().zip(held.drain(..)) {
                        let job = Job {
                            role,
                            queue: self.queue.clone(),
                            handler: self.handler.clone(),
                            settings: s.clone(),
                            stats: self.stats.clone(),
                            written: written.clone(),
                        };
                        let (stop, permits) = (stop_jobs.clone(), permits.clone());
                        tracker.spawn(async move {
                            job.run(msg, stop).await;
                            drop(permit);
                            occupancy(&permits);
                        });
                    }
                    drop(held);
                    occupancy(&permits);
                }
            }
        }
        tracing::info!(in_flight = tracker.len(), grace_ms = s.grace.as_millis() as u64, "worker stopping");
        tracker.close();
        if tokio::time::timeout(s.grace, tracker.wait()).await.is_err() {
            stop_jobs.cancel();
            tracker.wait().await;
        }
        self.handler.flush().await?;
        tracing::info!(
            acknowledged = self.stats.acknowledged.load(Ordering::SeqCst),
            released = self.stats.released.load(Ordering::SeqCst),
            dead_lettered = self.stats.dead_lettered.load(Ordering::SeqCst),
            "worker stopped"
        );
        Ok(())
    }
}

struct Job {
    role: QueueRole,
    queue: Arc<dyn JobQueue>,
    handler: Arc<dyn Handler>,
    settings: WorkerSettings,
    stats: Arc<WorkerStats>,
    written: Arc<AtomicBool>,
}

enum Ending {
    Finished(Result<Handled, StageError>),
    LeaseLost,
    Stopped,
}

impl Job {
    async fn run(self, msg: Message, stop: CancellationToken) {
        let lease_lost = CancellationToken::new();
        let heartbeat = {
            let (queue, receipt, lost) = (self.queue.clone(), msg.receipt.clone(), lease_lost.clone());
            let (every, visibility, role) = (self.settings.heartbeat, self.settings.visibility, self.role);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let extended = queue.extend(&receipt, visibility).await;
                    metrics::extension(role, extended.is_ok());
                    if let Err(e) = extended {
                        tracing::warn!(lease = %receipt_tag(&receipt), error = %e, "lease extension failed; abandoning job");
                        lost.cancel();
                        break;
                    }
                }
            })
        };
        let started = std::time::Instant::now();
        tracing::info!(msg_id = %msg.id, receive_count = msg.receive_count, "job started");
        let ending = tokio::select! {
            result = self.handler.handle(&msg) => Ending::Finished(result),
            _ = lease_lost.cancelled() => Ending::LeaseLost,
            _ = stop.cancelled() => Ending::Stopped,
        };
        heartbeat.abort();
        let result: Result<(), QueueError> = match ending {
            Ending::LeaseLost => {
                self.stats.abandoned.fetch_add(1, Ordering::SeqCst);
                metrics::settled(self.role, JobOutcome::Abandoned, started.elapsed(), None);
                Ok(())
            }
            Ending::Stopped => {
                self.stats.released.fetch_add(1, Ordering::SeqCst);
                metrics::settled(self.role, JobOutcome::Interrupted, started.elapsed(), None);
                tracing::info!(msg_id = %msg.id, "job interrupted by shutdown; released");
                self.queue.release(&msg.receipt, Duration::ZERO).await
            }
            Ending::Finished(Ok(handled)) => {
                self.written.store(true, Ordering::SeqCst);
                self.stats.acknowledged.fetch_add(1, Ordering::SeqCst);
                let outcome = match &handled {
                    Handled::Written(ids) => {
                        tracing::info!(msg_id = %msg.id, documents = ?ids, "job done; acknowledged");
                        JobOutcome::Written
                    }
                    Handled::Started(jobs) => {
                        tracing::info!(msg_id = %msg.id, ocr_jobs = ?jobs, "ocr started; acknowledged");
                        JobOutcome::OcrStarted
                    }
                    Handled::Ignored(why) => {
                        tracing::info!(msg_id = %msg.id, reason = %why, "nothing to do; acknowledged");
                        JobOutcome::Ignored
                    }
                };
                let acked = self.queue.ack(&msg.receipt).await;
                if acked.is_ok() {
                    metrics::settled(self.role, outcome, started.elapsed(), None);
                }
                acked
            }
            Ending::Finished(Err(e)) => match e.class() {
                ErrorClass::Permanent => {
                    self.stats.dead_lettered.fetch_add(1, Ordering::SeqCst);
                    tracing::warn!(msg_id = %msg.id, error = e.label(), "job failed permanently; dead-lettered");
                    let moved = self.queue.dead_letter(&msg, &format!("{}: {e}", e.label())).await;
                    if moved.is_ok() {
                        metrics::settled(self.role, JobOutcome::DeadLettered, started.elapsed(), Some(e.label()));
                    }
                    moved
                }
                ErrorClass::Transient | ErrorClass::Throttled => {
                    let backoff =
                        self.settings.retry_base.saturating_mul(1 << (msg.receive_count.saturating_sub(1)).min(16));
                    let delay = e.retry_after().unwrap_or(backoff).min(MAX_RETRY_DELAY);
                    self.stats.released.fetch_add(1, Ordering::SeqCst);
                    metrics::settled(self.role, JobOutcome::Retried, started.elapsed(), Some(e.label()));
                    tracing::warn!(msg_id = %msg.id, error = e.label(), delay_ms = delay.as_millis() as u64, "job failed; released for retry");
                    self.queue.release(&msg.receipt, delay).await
                }
            },
        };
        if let Err(e) = result {
            // The work is idempotent: if another worker now holds the message it redoes the same
            // upserts. Nothing is lost.
            tracing::warn!(msg_id = %msg.id, error = %e, "could not settle message");
        }
    }
}

/// A short, non-identifying tag of a receipt for logs.
fn receipt_tag(receipt: &str) -> String {
    receipt.chars().take(8).collect()
}
