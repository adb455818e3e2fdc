//! `paperchart watch DIR`: the local long-running worker.
//!
//! A scanner queues every new or changed file of the folder in the durable SQLite queue (a file
//! is queued once its size and modification time held still for `worker.settle_ms`, so a file
//! still being copied waits and is read once, whole); the [`Worker`] processes the queue with
//! bounded concurrency until SIGINT or SIGTERM.
//! Dead letters are mirrored to `<out>/dead-letter.ndjson`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use paperchart_core::config::Config;

use crate::app;
use crate::local::collect_inputs;
use crate::messages::{DocumentHandler, Messages};
use crate::sqlite_queue::SqliteQueue;
use crate::worker::{Worker, WorkerSettings, WorkerStats};

pub struct WatchArgs {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub queue: PathBuf,
}

fn stamp(meta: &std::fs::Metadata) -> (u64, i128) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    (meta.len(), mtime)
}

/// How often the queue is pruned of finished files that are gone or changed.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// The queue's key for one version of a file: its path, size and modification time.
fn version_key(path: &Path, st: (u64, i128)) -> String {
    format!("{}|{}|{}", paperchart_core::source::local_key(path), st.0, st.1)
}

/// How often and how patiently the folder is looked at.
struct Scan {
    poll: Duration,
    /// How long a file's stamp must hold still before it is queued.
    settle: Duration,
}

async fn scan(dir: PathBuf, exclude: Vec<PathBuf>, queue: SqliteQueue, every: Scan, shutdown: CancellationToken) {
    // Each file's stamp and when this scanner first saw it.
    let mut previous: HashMap<PathBuf, ((u64, i128), Instant)> = HashMap::new();
    let mut last_forget = Instant::now();
    loop {
        let (d, ex) = (dir.clone(), exclude.clone());
        // `None` when the folder could not be listed: nothing is queued or forgotten on that.
        let found = tokio::task::spawn_blocking(move || -> Option<Vec<(PathBuf, (u64, i128))>> {
            let listed = collect_inputs(&[d]).ok()?;
            Some(
                listed
                    .into_iter()
                    .filter(|p| !ex.iter().any(|e| p.starts_with(e)))
                    .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, stamp(&m))))
                    .collect(),
            )
        })
        .await
        .ok()
        .flatten();
        let Some(found) = found else {
            tokio::select! { _ = tokio::time::sleep(every.poll) => {}, _ = shutdown.cancelled() => return }
            continue;
        };
        let (mut queued, mut settling) = (0, 0);
        let mut current = HashMap::new();
        for (path, st) in found {
            // When its stamp last changed, as far as this scanner knows: a file is queued once it
            // has held still for at least one scan and the settle time.
            let since = match previous.get(&path) {
                Some((seen, since)) if *seen == st => Some(*since),
                _ => None,
            };
            if since.is_some_and(|t| t.elapsed() >= every.settle) {
                let key = version_key(&path, st);
                match queue.send_once(&paperchart_core::source::local_key(&path), &key).await {
                    Ok(true) => queued += 1,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot queue file"),
                }
            } else {
                settling += 1;
            }
            current.insert(path, (st, since.unwrap_or_else(Instant::now)));
        }
        if queued > 0 {
            tracing::info!(files = queued, settling, "queued new files");
        }
        // Now and then, the queue forgets the files it finished that are gone or changed since.
        if last_forget.elapsed() >= FORGET_EVERY {
            last_forget = Instant::now();
            let keys: HashSet<String> = current.iter().map(|(p, (st, _))| version_key(p, *st)).collect();
            match queue.forget_done(move |k| keys.contains(k)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(forgotten = n, "finished files no longer in the folder forgotten"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the queue"),
            }
        }
        previous = current;
        tokio::select! { _ = tokio::time::sleep(every.poll) => {}, _ = shutdown.cancelled() => return }
    }
}

async fn mirror_dead_letters(queue: SqliteQueue, out: PathBuf, poll: Duration, shutdown: CancellationToken) {
    let mut last = usize::MAX;
    loop {
        if let Ok(dl) = queue.dead_letters().await {
            if dl.len() != last {
                // The queue's dead letters replace what the file said of the same inputs; what
                // `run` recorded of other inputs stays.
                let inputs: std::collections::HashSet<String> = dl.iter().map(|d| d.body.clone()).collect();
                let lines = dl
                    .iter()
                    .map(|d| serde_json::json!({"input": d.body, "reason": d.reason, "receive_count": d.receive_count}))
                    .collect();
                if super::summary::record_dead_letters(&out, |i| inputs.contains(i), lines).is_ok() {
                    last = dl.len();
                }
            }
        }
        tokio::select! { _ = tokio::time::sleep(poll * 4) => {}, _ = shutdown.cancelled() => return }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub async fn watch(cfg: Config, args: WatchArgs) -> anyhow::Result<()> {
    let dir = absolute(&args.dir);
    if !dir.is_dir() {
        anyhow::bail!("{}: not a folder", dir.display());
    }
    std::fs::create_dir_all(&args.out)?;
    let queue = SqliteQueue::open(&args.queue, cfg.worker.max_receives)?;
    let pipeline = app::pipeline(&cfg).await?;
    let shutdown = paperchart_core::shutdown::on_signals();
    let poll = Duration::from_millis(cfg.worker.poll_interval_ms);
    let exclude = vec![absolute(&args.out), absolute(args.queue.parent().unwrap_or(Path::new(".")))];
    let every = Scan { poll, settle: Duration::from_millis(cfg.worker.settle_ms) };
    let scanner = tokio::spawn(scan(dir.clone(), exclude, queue.clone(), every, shutdown.clone()));
    let mirror = tokio::spawn(mirror_dead_letters(queue.clone(), args.out.clone(), poll, shutdown.clone()));
    if cfg.metrics.port != 0 {
        paperchart_core::metrics::install(cfg.metrics.port, "watch")?;
    }
    let worker = Worker {
        role: paperchart_core::metrics::QueueRole::Local,
        queue: Arc::new(queue.clone()),
        handler: Arc::new(DocumentHandler { pipeline, messages: Messages::Paths }),
        settings: WorkerSettings::from_config(&cfg),
        stats: Arc::new(WorkerStats::default()),
    };
    eprintln!(
        "paperchart watch: processing files dropped in {} (Ctrl-C to stop); output in {}",
        dir.display(),
        args.out.display()
    );
    worker.run(shutdown.clone()).await?;
    shutdown.cancel();
    let _ = tokio::join!(scanner, mirror);
    Ok(())
}
