//! `paperchart run`: a batch of files or folders through the pipeline, with a summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use paperchart_core::config::Config;

use super::summary;
use crate::app;
use crate::job::DocReport;
use crate::local::collect_inputs;

pub struct RunArgs {
    pub paths: Vec<PathBuf>,
    /// Where summary.json goes (and, for the directory sink, the FHIR).
    pub out: PathBuf,
    pub progress: bool,
}

/// Runs every input; returns whether all of them succeeded.
pub async fn run(cfg: Config, args: RunArgs) -> anyhow::Result<bool> {
    let inputs = collect_inputs(&args.paths)?;
    if inputs.is_empty() {
        anyhow::bail!(
            "no input files under {}",
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let started = Instant::now();
    let pipeline = app::pipeline(&cfg).await?;
    let bar = if args.progress { ProgressBar::new(inputs.len() as u64) } else { ProgressBar::hidden() };
    if args.progress {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} documents  {msg}",
            )
            .expect("progress template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    // Permits first, then work: never more documents in memory than the concurrency allows.
    let permits = Arc::new(Semaphore::new(cfg.worker_concurrency()));
    let mut tasks = JoinSet::new();
    for (i, path) in inputs.iter().enumerate() {
        let permit = permits.clone().acquire_owned().await?;
        let pipeline = pipeline.clone();
        let key = paperchart_core::source::local_key(path);
        let bar = bar.clone();
        tasks.spawn(async move {
            let (report, _) = pipeline.process(&key).await;
            drop(permit);
            bar.set_message(summary::shown(&report.name));
            bar.inc(1);
            (i, report)
        });
    }
    let mut reports: Vec<(usize, DocReport)> = Vec::with_capacity(inputs.len());
    while let Some(done) = tasks.join_next().await {
        reports.push(done?);
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<DocReport> = reports.into_iter().map(|(_, r)| r).collect();
    bar.finish_and_clear();
    // The summary is written whatever the flush says: what was read is never lost with it.
    let flushed = pipeline.sink.flush().await;
    let millis = started.elapsed().as_millis() as u64;
    summary::write(&args.out, &reports, &pipeline.sink.describe(), millis)?;
    flushed?;
    println!("{}", summary::table(&reports));
    let failed = reports.iter().filter(|r| !r.succeeded()).count();
    let pages: usize = reports.iter().map(|r| r.pages).sum();
    let held: Vec<&DocReport> = reports.iter().filter(|r| r.review.is_some()).collect();
    if !held.is_empty() {
        println!(
            "{} findings of {} documents held for review: {} — see README, \"Review\".",
            held.iter().map(|r| r.held).sum::<usize>(),
            held.len(),
            args.out.join("review").display()
        );
    }
    println!(
        "{} documents, {pages} pages, {} FHIR resources in {:.1}s; {failed} failed. Output: {} (summary.json).",
        reports.len(),
        reports.iter().map(|r| r.resource_total()).sum::<usize>(),
        millis as f64 / 1000.0,
        args.out.display()
    );
    Ok(failed == 0)
}
