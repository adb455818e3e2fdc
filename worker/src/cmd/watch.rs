//! `paperchart watch DIR`: the local long-running worker.
//!
//! A scanner queues every new or changed file of the folder in the durable SQLite queue (a file
//! is queued once its size and modification time held still for `worker.settle_ms`, so a file
//! still being copied waits and is read once, whole); the [`Worker`] processes the queue with
//! bounded concurrency until SIGINT or SIGTERM.
//! Dead letters are mirrored to `<out>/dead-letter.ndjson`.

use std::collections::HashMap;
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

/// How often and how patiently the folder is looked at.
struct Scan {
    poll: Duration,
    /// How long a file's stamp must hold still before it is queued.
    settle: Duration,
}

async fn scan(dir: PathBuf, exclude: Vec<PathBuf>, queue: SqliteQueue, every: Scan, shutdown: CancellationToken) {
    // Each file's stamp and when this scanner first saw it.
    let mut previous: HashMap<PathBuf, ((u64, i128), Instant)> = HashMap::new();
    loop {
        let (d, ex) = (dir.clone(), exclude.clone());
        let found = tokio::task::spawn_blocking(move || -> Vec<(PathBuf, (u64, i128))> {
            collect_inputs(&[d])
                .unwrap_or_default()
                .into_iter()
                .filter(|p| !ex.iter().any(|e| p.starts_with(e)))
                .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, stamp(&m))))
                .collect()
        })
        .await
        .unwrap_or_default();
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
                let key = format!("{}|{}|{}", path.display(), st.0, st.1);
                match queue.send_once(&path.to_string_lossy(), &key).await {
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
        previous = current;
        tokio::select! { _ = tokio::time::sleep(every.poll) => {}, _ = shutdown.cancelled() => return }
    }
}

async fn mirror_dead_letters(queue: SqliteQueue, out: PathBuf, poll: Duration, shutdown: CancellationToken) {
    let mut last = usize::MAX;
    loop {
        if let Ok(dl) = queue.dead_letters().await {
            if dl.len() != last {
                let mut text = String::new();
                for d in &dl {
                    text.push_str(
                        &serde_json::json!({"input": d.body, "reason": d.reason, "receive_count": d.receive_count})
                            .to_string(),
                    );
                    text.push('\n');
                }
                if crate::dir_sink::write_atomic(&out.join("dead-letter.ndjson"), text.as_bytes()).is_ok() {
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
