//! The long-running worker: receive, process, settle — the same loop for every queue.
//!
//! - Permits before messages: it takes free concurrency permits first and receives at most that
//!   many messages, so nothing waits in memory while its lease runs.
//! - A heartbeat per job keeps its lease: it sleeps until the lease's deadline less a margin,
//!   extends it with a time limit on the call, and if an extension fails or does not answer in
//!   time the lease counts as lost and the job is abandoned (whoever holds the message now
//!   finishes it) rather than finished twice.
//! - A message is deleted only after its work is done: its documents written, their OCR jobs
//!   parked, or nothing to do. Throttled and transient failures send it again as a new message
//!   with its count of such deliveries, after the one backoff (the queue's receive limit is left
//!   to crashes); permanent ones, and the last of those, move it to the dead letters with the
//!   reason.
//! - Queue errors back off instead of spinning.
//! - On shutdown it stops receiving, gives in-flight jobs `grace` to finish, then releases what is
//!   unfinished at once (visibility 0) so another worker takes it.
//!
//! How each message was settled is one [`Settlement`], counted in [`WorkerStats`] and emitted as
//! one `message_settled` event (its log line and its metrics).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use paperchart_core::backoff::Backoff;
use paperchart_core::error::{Classified, ErrorClass};
use paperchart_core::events::{JobStarted, LeaseExtended, MessageSettled, ReceiveFailed, SettleFailed};
use paperchart_core::metrics::{self, QueueRole};
use paperchart_core::queue::{JobQueue, Message, QueueError, Settlement};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Failures waited out with deliveries of their own (a new message each, counted in
/// `paperchart-attempts`) rather than the queue's receive count: a peer that throttles or is
/// down. An internal failure (a panic in a stage) is not a peer's: it keeps the receive limit, so
/// a document that always fails that way stops after `maxReceiveCount` deliveries, not hours.
fn waits_out(e: &dyn Classified) -> bool {
    match e.class() {
        ErrorClass::Throttled => true,
        ErrorClass::Transient => e.label() != "internal",
        _ => false,
    }
}
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::job::StageError;

/// What one message's work came to, when it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// `Written`, `OcrStarted` or `Ignored`.
    pub how: Settlement,
    /// Documents (or OCR jobs) the message was about.
    pub documents: usize,
}

/// What the worker does with one message. `Ok` means the message's work is done (or there was
/// nothing to do) and it may be deleted; the error's class decides between release and dead
/// letter.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, message: &Message) -> Result<Done, StageError>;
    /// Called when the queue is idle after work, and at shutdown.
    async fn flush(&self) -> Result<(), StageError> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub visibility: Duration,
    /// How long after a lease starts (or was last extended) it is extended again.
    pub heartbeat: Duration,
    pub grace: Duration,
    pub poll: Duration,
    /// Delay before a released message comes back, by delivery (the first: `base`).
    pub retry: Backoff,
    /// Throttled deliveries re-sent before the message goes to the dead letters.
    pub throttle_max_attempts: u32,
    /// Wait after failed receive calls in a row.
    pub receive_backoff: Backoff,
    /// At most this many messages per receive call (SQS allows 10).
    pub max_batch: usize,
}

impl WorkerSettings {
    /// The worker section of the configuration, with the receive batch SQS allows.
    pub fn from_config(cfg: &paperchart_core::config::Config) -> WorkerSettings {
        let w = &cfg.worker;
        WorkerSettings {
            concurrency: cfg.worker_concurrency(),
            visibility: Duration::from_secs(w.visibility_timeout_secs),
            heartbeat: Duration::from_secs(w.heartbeat_secs),
            grace: Duration::from_secs(w.shutdown_grace_secs),
            poll: Duration::from_millis(w.poll_interval_ms),
            retry: Backoff::new(Duration::from_secs(w.retry_base_secs), Duration::from_secs(w.retry_max_secs)),
            throttle_max_attempts: w.throttle_max_attempts,
            receive_backoff: Backoff::new(Duration::from_millis(400), Duration::from_secs(30)),
            max_batch: 10,
        }
    }
}

/// Counters of one worker's life: how many messages it settled each way.
#[derive(Debug, Default)]
pub struct WorkerStats {
    settled: [AtomicU64; Settlement::ALL.len()],
}

impl WorkerStats {
    fn add(&self, how: Settlement) {
        self.settled[how as usize].fetch_add(1, Ordering::SeqCst);
    }

    pub fn get(&self, how: Settlement) -> u64 {
        self.settled[how as usize].load(Ordering::SeqCst)
    }
}

pub struct Worker {
    /// Which queue this loop serves, for metrics.
    pub role: QueueRole,
    pub queue: Arc<dyn JobQueue>,
    pub handler: Arc<dyn Handler>,
    pub settings: WorkerSettings,
    pub stats: Arc<WorkerStats>,
}

/// What an extension must leave of the lease when it lands: time for the call's answer to
/// travel and for clocks to disagree.
const LEASE_SAFETY: Duration = Duration::from_secs(1);

impl Worker {
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let s = &self.settings;
        let permits = Arc::new(Semaphore::new(s.concurrency.max(1)));
        let tracker = TaskTracker::new();
        let stop_jobs = CancellationToken::new();
        let worked = Arc::new(AtomicBool::new(false));
        let mut receive_errors = 0u32;
        let (role, concurrency) = (self.role, s.concurrency.max(1));
        let occupancy = move |permits: &Semaphore| {
            let free = permits.available_permits();
            metrics::occupancy(role, concurrency - free.min(concurrency), free)
        };
        metrics::worker_started(role);
        tracing::info!(event = "worker_started", queue = role.as_str(), concurrency = s.concurrency, "worker started");
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
            let leased_at = Instant::now();
            match received {
                Err(_) => {
                    receive_errors += 1;
                    let wait = s.receive_backoff.delay(receive_errors, None);
                    ReceiveFailed { queue: role, wait }.emit();
                    drop(held);
                    tokio::select! { _ = tokio::time::sleep(wait) => {}, _ = shutdown.cancelled() => break }
                }
                Ok(messages) if messages.is_empty() => {
                    receive_errors = 0;
                    drop(held);
                    if worked.swap(false, Ordering::SeqCst) {
                        if let Err(e) = self.handler.flush().await {
                            tracing::warn!(event = "flush_failed", error = e.label(), "sink flush failed");
                            worked.store(true, Ordering::SeqCst);
                        }
                    }
                    tokio::select! { _ = tokio::time::sleep(s.poll) => {}, _ = shutdown.cancelled() => break }
                }
                Ok(messages) => {
                    receive_errors = 0;
                    metrics::received(role, messages.len());
                    for (msg, permit) in messages.into_iter().zip(held.drain(..)) {
                        let job = Job {
                            role,
                            queue: self.queue.clone(),
                            handler: self.handler.clone(),
                            settings: s.clone(),
                            stats: self.stats.clone(),
                            worked: worked.clone(),
                        };
                        let (stop, permits) = (stop_jobs.clone(), permits.clone());
                        tracker.spawn(async move {
                            job.run(msg, leased_at, stop).await;
                            drop(permit);
                            occupancy(&permits);
                        });
                    }
                    drop(held);
                    occupancy(&permits);
                }
            }
        }
        tracing::info!(
            event = "worker_stopping",
            queue = role.as_str(),
            in_flight = tracker.len(),
            grace_ms = s.grace.as_millis() as u64,
            "worker stopping"
        );
        tracker.close();
        if tokio::time::timeout(s.grace, tracker.wait()).await.is_err() {
            stop_jobs.cancel();
            tracker.wait().await;
        }
        self.handler.flush().await?;
        let count = |how| self.stats.get(how);
        tracing::info!(
            event = "worker_stopped",
            queue = role.as_str(),
            written = count(Settlement::Written),
            ocr_started = count(Settlement::OcrStarted),
            ignored = count(Settlement::Ignored),
            retried = count(Settlement::Retried),
            dead_lettered = count(Settlement::DeadLettered),
            abandoned = count(Settlement::Abandoned),
            interrupted = count(Settlement::Interrupted),
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
    worked: Arc<AtomicBool>,
}

/// Keeps the lease of one message until the job's end drops it: sleeps until the deadline less
/// the margin, extends with a time limit, and cancels `lost` when an extension fails.
async fn heartbeat(
    role: QueueRole,
    queue: Arc<dyn JobQueue>,
    msg_id: String,
    receipt: String,
    settings: WorkerSettings,
    leased_at: Instant,
    lost: CancellationToken,
) {
    let visibility = settings.visibility;
    let margin = visibility.saturating_sub(settings.heartbeat);
    let mut deadline = leased_at + visibility;
    loop {
        tokio::time::sleep_until(deadline - margin.min(visibility)).await;
        let requested = Instant::now();
        let budget = deadline.saturating_duration_since(requested).saturating_sub(LEASE_SAFETY).max(LEASE_SAFETY);
        let extended = tokio::time::timeout(budget, queue.extend(&receipt, visibility)).await;
        let ok = matches!(extended, Ok(Ok(())));
        LeaseExtended { queue: role, msg_id: &msg_id, ok, timed_out: extended.is_err() }.emit();
        if !ok {
            lost.cancel();
            return;
        }
        deadline = requested + visibility;
    }
}

enum Ending {
    Finished(Result<Done, StageError>),
    LeaseLost,
    Stopped,
}

impl Job {
    async fn run(self, msg: Message, leased_at: Instant, stop: CancellationToken) {
        let lease_lost = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.role,
            self.queue.clone(),
            msg.id.clone(),
            msg.receipt.clone(),
            self.settings.clone(),
            leased_at,
            lease_lost.clone(),
        ));
        let started = Instant::now();
        JobStarted { queue: self.role, msg_id: &msg.id, receive_count: msg.receive_count }.emit();
        let ending = tokio::select! {
            result = self.handler.handle(&msg) => Ending::Finished(result),
            _ = lease_lost.cancelled() => Ending::LeaseLost,
            _ = stop.cancelled() => Ending::Stopped,
        };
        heartbeat.abort();
        let (how, error, delay, documents) = match &ending {
            Ending::LeaseLost => (Settlement::Abandoned, None, None, 0),
            Ending::Stopped => (Settlement::Interrupted, None, Some(Duration::ZERO), 0),
            Ending::Finished(Ok(done)) => (done.how, None, None, done.documents),
            Ending::Finished(Err(e)) => {
                let mut how = Settlement::after_failure(e.class());
                // A peer that throttles or is down (a FHIR outage, a 5xx) is waited out with
                // deliveries of its own (each a new message), up to a limit, never with the
                // queue's receive count: only crashes spend that.
                let waits = waits_out(e);
                if waits && msg.attempts + 1 > self.settings.throttle_max_attempts {
                    how = Settlement::DeadLettered;
                }
                let failures = if waits { msg.attempts + 1 } else { msg.receive_count.max(1) };
                let delay = (how == Settlement::Retried).then(|| self.settings.retry.delay(failures, e.retry_after()));
                (how, Some((e.class(), e.label())), delay, 0)
            }
        };
        let settled: Result<(), QueueError> = match &ending {
            Ending::LeaseLost => Ok(()),
            Ending::Stopped => self.queue.release(&msg.receipt, Duration::ZERO).await,
            Ending::Finished(Ok(_)) => {
                self.worked.store(true, Ordering::SeqCst);
                self.queue.ack(&msg.receipt).await
            }
            Ending::Finished(Err(e)) if how == Settlement::DeadLettered => {
                let reason = if waits_out(e) {
                    let state = if e.class() == ErrorClass::Throttled { "throttled" } else { "failing" };
                    format!(
                        "{}: still {state} after {} deliveries (worker.throttle_max_attempts): {e}",
                        e.label(),
                        msg.attempts + 1
                    )
                } else {
                    format!("{}: {e}", e.label())
                };
                self.queue.dead_letter(&msg, &reason).await
            }
            Ending::Finished(Err(e)) if waits_out(e) => {
                match self.queue.requeue(&msg, delay.unwrap_or_default(), msg.attempts + 1).await {
                    // The queue refused the new message (a permission, an outage): released as
                    // any retry, so the work is never left hanging.
                    Err(QueueError::Unavailable { .. }) => {
                        self.queue.release(&msg.receipt, delay.unwrap_or_default()).await
                    }
                    r => r,
                }
            }
            Ending::Finished(Err(_)) => self.queue.release(&msg.receipt, delay.unwrap_or_default()).await,
        };
        match settled {
            Ok(()) => {
                self.stats.add(how);
                MessageSettled {
                    queue: self.role,
                    msg_id: &msg.id,
                    how,
                    took: started.elapsed(),
                    error,
                    delay,
                    documents,
                }
                .emit();
            }
            // The work is idempotent: if another worker now holds the message it redoes the same
            // upserts. Nothing is lost.
            Err(e) => {
                SettleFailed { queue: self.role, msg_id: &msg.id, how, lease_lost: matches!(e, QueueError::LeaseLost) }
                    .emit()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The loop against the in-memory queue, in Tokio's paused time: every way a message can end.

    use super::*;
    use paperchart_model::file::DecodeError;
    use paperchart_testkit::memory::{Extensions, MemoryQueue};

    /// Does what the message body says.
    struct Scripted;

    #[async_trait]
    impl Handler for Scripted {
        async fn handle(&self, message: &Message) -> Result<Done, StageError> {
            let written = Done { how: Settlement::Written, documents: 1 };
            match message.body.as_str() {
                "written" => Ok(written),
                "ignored" => Ok(Done { how: Settlement::Ignored, documents: 0 }),
                "started" => Ok(Done { how: Settlement::OcrStarted, documents: 1 }),
                "transient" => Err(StageError::Internal("a stage failed".into())),
                "down" => Err(StageError::Sink(paperchart_core::sink::SinkError::Transient {
                    status: Some(503),
                    detail: "unavailable".into(),
                    retry_after: None,
                })),
                "throttled" => {
                    Err(StageError::Ocr(paperchart_core::ocr::OcrError::AtCapacity { api: "StartDocumentAnalysis" }))
                }
                "permanent" => Err(StageError::Decode(DecodeError::Empty)),
                // Longer than two leases.
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(300)).await;
                    Ok(written)
                }
                other => panic!("unscripted {other}"),
            }
        }
    }

    fn settings() -> WorkerSettings {
        WorkerSettings {
            concurrency: 2,
            visibility: Duration::from_secs(120),
            heartbeat: Duration::from_secs(30),
            grace: Duration::from_secs(25),
            poll: Duration::from_millis(500),
            retry: Backoff::new(Duration::from_secs(5), Duration::from_secs(900)),
            throttle_max_attempts: 3,
            receive_backoff: Backoff::new(Duration::from_millis(400), Duration::from_secs(30)),
            max_batch: 10,
        }
    }

    /// A worker on `queue`, running until the returned token is cancelled.
    fn start(
        queue: &MemoryQueue,
    ) -> (Arc<WorkerStats>, CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let stats = Arc::new(WorkerStats::default());
        let worker = Worker {
            role: QueueRole::Local,
            queue: Arc::new(queue.clone()),
            handler: Arc::new(Scripted),
            settings: settings(),
            stats: stats.clone(),
        };
        let stop = CancellationToken::new();
        let running = tokio::spawn({
            let stop = stop.clone();
            async move { worker.run(stop).await }
        });
        (stats, stop, running)
    }

    /// Runs a worker over `bodies` until `done` holds (or an hour of paused time passes), then
    /// shuts it down; gives its statistics.
    async fn run(queue: &MemoryQueue, bodies: &[&str], done: impl Fn(&WorkerStats) -> bool) -> Arc<WorkerStats> {
        for b in bodies {
            queue.send(b).await.unwrap();
        }
        let (stats, stop, running) = start(queue);
        let deadline = Instant::now() + Duration::from_secs(3600);
        while !done(&stats) {
            assert!(Instant::now() < deadline, "the worker never got there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.cancel();
        running.await.unwrap().unwrap();
        stats
    }

    #[tokio::test(start_paused = true)]
    async fn done_work_is_deleted() {
        let q = MemoryQueue::new();
        let stats = run(&q, &["written", "ignored", "started"], |s| {
            s.get(Settlement::Written) + s.get(Settlement::Ignored) + s.get(Settlement::OcrStarted) == 3
        })
        .await;
        assert_eq!(
            (stats.get(Settlement::Written), stats.get(Settlement::Ignored), stats.get(Settlement::OcrStarted)),
            (1, 1, 1)
        );
        assert!(q.is_empty());
        assert_eq!(q.acked().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_comes_back_later_with_backoff() {
        let q = MemoryQueue::new();
        let stats = run(&q, &["transient"], |s| s.get(Settlement::Retried) >= 3).await;
        let delays: Vec<Duration> = q.releases().into_iter().map(|(_, d)| d).collect();
        assert!(delays.len() >= 3, "{delays:?}");
        // Deliveries 1, 2, 3: within half to all of 5 s, 10 s, 20 s.
        for (i, d) in delays.iter().take(3).enumerate() {
            let ceiling = Duration::from_secs(5) * (1 << i);
            assert!(*d >= ceiling / 2 && *d <= ceiling, "release {i}: {d:?}");
        }
        assert!(q.dead_letters().is_empty() && q.acked().is_empty() && q.len() == 1, "kept for another try");
        assert_eq!(stats.get(Settlement::DeadLettered), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_is_down_is_waited_out_with_new_messages_not_the_receive_count() {
        let q = MemoryQueue::new();
        let stats = run(&q, &["down"], |s| s.get(Settlement::DeadLettered) == 1).await;
        assert_eq!(stats.get(Settlement::Retried), 3, "throttle_max_attempts re-sends");
        let dead = q.dead_letters();
        assert!(dead[0].1.starts_with("sink_unavailable: still failing after 4 deliveries"), "{dead:?}");
        // An internal failure (a stage's panic) keeps the receive count: released, never re-sent,
        // so it stops at the queue's receive limit.
        let q = MemoryQueue::new();
        run(&q, &["transient"], |s| s.get(Settlement::Retried) >= 4).await;
        assert!(q.dead_letters().is_empty(), "released, not counted out as a peer's failure");
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_resent_as_new_messages_then_dead_lettered_with_the_reason() {
        let q = MemoryQueue::new();
        // throttle_max_attempts 3: three re-sends, the fourth throttled delivery is dead-lettered.
        let stats = run(&q, &["throttled"], |s| s.get(Settlement::DeadLettered) == 1).await;
        assert_eq!(stats.get(Settlement::Retried), 3);
        let delays: Vec<Duration> = q.releases().into_iter().map(|(_, d)| d).collect();
        for (i, d) in delays.iter().enumerate() {
            let ceiling = Duration::from_secs(5) * (1 << i);
            assert!(*d >= ceiling / 2 && *d <= ceiling, "re-send {i}: {d:?}");
        }
        let dead = q.dead_letters();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].1.starts_with("ocr_at_capacity: still throttled after 4 deliveries"), "{dead:?}");
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_is_dead_lettered_with_its_reason() {
        let q = MemoryQueue::new();
        let stats =
            run(&q, &["permanent", "written"], |s| s.get(Settlement::DeadLettered) + s.get(Settlement::Written) == 2)
                .await;
        assert_eq!(q.dead_letters(), [("permanent".to_string(), "empty_file: empty file".to_string())]);
        assert_eq!((stats.get(Settlement::DeadLettered), stats.get(Settlement::Written)), (1, 1));
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_heartbeat_keeps_a_long_job_leased() {
        let q = MemoryQueue::new();
        let stats = run(&q, &["slow"], |s| s.get(Settlement::Written) == 1).await;
        // 300 s of work, a 120 s lease extended 30 s after each start or extension.
        assert!(q.extensions() >= 9, "{} extensions", q.extensions());
        assert_eq!(stats.get(Settlement::Abandoned), 0);
        assert_eq!(q.acked(), ["slow"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_lease_abandons_the_job_rather_than_finish_it_twice() {
        let q = MemoryQueue::new();
        q.set_extensions(Extensions::Fail);
        let stats = run(&q, &["slow"], |s| s.get(Settlement::Abandoned) == 1).await;
        assert_eq!(stats.get(Settlement::Written), 0, "abandoned before it finished");
        assert!(q.acked().is_empty() && q.dead_letters().is_empty());
        assert_eq!(q.len(), 1, "the message stays for whoever holds it now");
    }

    #[tokio::test(start_paused = true)]
    async fn an_extension_that_does_not_answer_counts_as_a_lost_lease() {
        let q = MemoryQueue::new();
        q.set_extensions(Extensions::Hang);
        let started = Instant::now();
        let stats = run(&q, &["slow"], |s| s.get(Settlement::Abandoned) == 1).await;
        // Extended at 30 s; the call must answer before the lease (120 s) runs out.
        assert!(started.elapsed() < Duration::from_secs(125), "{:?}", started.elapsed());
        assert_eq!(stats.get(Settlement::Written), 0);
        assert!(q.acked().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_releases_unfinished_work_at_once() {
        let q = MemoryQueue::new();
        q.send("slow").await.unwrap();
        let (stats, stop, running) = start(&q);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let at = Instant::now();
        stop.cancel();
        running.await.unwrap().unwrap();
        // The grace (25 s) passes, then the job is released with no delay.
        assert!(
            at.elapsed() >= Duration::from_secs(25) && at.elapsed() < Duration::from_secs(30),
            "{:?}",
            at.elapsed()
        );
        assert_eq!(stats.get(Settlement::Interrupted), 1);
        assert_eq!(q.releases(), [("slow".to_string(), Duration::ZERO)]);
        assert_eq!(q.len(), 1);
    }
}
