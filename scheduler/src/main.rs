//! `paperchart-scheduler`: the fleet's periodic chores, one task per fleet.
//!
//! - `run`: every `scheduler.interval_secs`, finds Textract jobs whose completion notice never
//!   came and finishes or dead-letters them ([`sweep`]), and moves staged NDJSON into HealthLake
//!   import jobs ([`imports`]) when a datastore is configured, until SIGTERM.
//! - `sweep`: one round of the lost-notice check, then exit.
//! - `import`: one step of the import state machine, then exit.
//! - `backlog`: one measurement of the backlog per task, printed as its metric record.
//! - `redrive --from DLQ --to QUEUE [--max N]`: moves dead letters back after a fix ([`redrive`]).
//! - `annotate`: gives the letters SQS moved by itself (after `maxReceiveCount`) their reason
//!   ([`annotate`]); also part of every `run` round.
//! - `replay --prefix BUCKET/KEY-PREFIX [--max N]`: processes saved Textract answers again
//!   ([`replay`]) without paying Textract.
//!
//! Configured like the worker (`--config`, `PAPERCHART__SECTION__KEY`): the `[fleet]`, `[aws]`
//! and `[scheduler]` sections.

use paperchart_scheduler::{annotate, backlog, imports, queues, redrive, replay, sweep};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use paperchart_aws::registry::JobRegistry;
use paperchart_aws::responses::ResponseArchive;
use paperchart_aws::sqs::SqsQueue;
use paperchart_aws::textract::{TextractEngine, TextractSettings};
use paperchart_core::config::Config;
use paperchart_core::metrics;

#[derive(Parser)]
#[command(name = "paperchart-scheduler", version, about = "The paperchart fleet's periodic chores")]
struct Cli {
    /// TOML configuration file (the worker's).
    #[arg(long, global = true, env = "PAPERCHART_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the chores every scheduler.interval_secs until SIGINT or SIGTERM.
    Run,
    /// One round of the lost-notice check, then exit.
    Sweep,
    /// One step of the bulk import into HealthLake, then exit.
    Import,
    /// Measure the backlog per task once and print its metric record.
    Backlog,
    /// Give the letters SQS moved by itself (after maxReceiveCount) their reason, once.
    Annotate,
    /// Move messages from a dead-letter queue back to a work queue.
    Redrive {
        /// URL of the dead-letter queue.
        #[arg(long)]
        from: String,
        /// URL of the queue to move them to.
        #[arg(long)]
        to: String,
        /// Move at most this many.
        #[arg(long)]
        max: Option<usize>,
    },
    /// Process saved Textract answers again (after a new release or terminology), without
    /// calling Textract: those of source objects under PREFIX ("<intake bucket>/<key prefix>";
    /// "" for all).
    Replay {
        /// Source bucket and key prefix of the documents to process again.
        #[arg(long)]
        prefix: String,
        /// Replay at most this many.
        #[arg(long)]
        max: Option<usize>,
    },
}

/// Letters looked at per dead-letter queue and round.
const ANNOTATE_PER_ROUND: usize = 100;

struct Chores {
    registry: JobRegistry,
    archive: ResponseArchive,
    textract: TextractEngine,
    completion: SqsQueue,
    stuck_after_secs: u64,
    s3: aws_sdk_s3::Client,
    work_bucket: String,
    work_prefix: String,
    /// With a datastore configured: the control plane and the import dead-letter queue.
    imports: Option<(imports::HealthLakeImports, SqsQueue)>,
    import_max_files: usize,
    /// The intake queue, and the ECS cluster and service of the workers when configured.
    intake: SqsQueue,
    ecs: Option<(aws_sdk_ecs::Client, String, String)>,
    metrics_namespace: String,
    /// Every work and dead-letter queue, for the queue gauges.
    watched: Vec<queues::Watched>,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

async fn chores(cfg: &Config, sdk: &paperchart_aws::SdkConfig) -> anyhow::Result<Chores> {
    let f = &cfg.fleet;
    for (key, value) in [
        ("fleet.intake_queue_url", &f.intake_queue_url),
        ("fleet.intake_dlq_url", &f.intake_dlq_url),
        ("fleet.work_bucket", &f.work_bucket),
        ("fleet.completion_queue_url", &f.completion_queue_url),
        ("fleet.completion_dlq_url", &f.completion_dlq_url),
    ] {
        anyhow::ensure!(!value.is_empty(), "configuration: {key} is not set (the scheduler needs it)");
    }
    let s3 = paperchart_aws::s3_client(sdk, &cfg.aws);
    let sc = &cfg.scheduler;
    let imports = if sc.healthlake_datastore_id.is_empty() {
        None
    } else {
        for (key, value) in [
            ("scheduler.import_role_arn", &sc.import_role_arn),
            ("scheduler.import_kms_key_id", &sc.import_kms_key_id),
            ("scheduler.import_dlq_url", &sc.import_dlq_url),
        ] {
            anyhow::ensure!(!value.is_empty(), "configuration: {key} is not set (imports need it)");
        }
        let control = imports::HealthLakeImports {
            client: aws_sdk_healthlake::Client::new(sdk),
            datastore_id: sc.healthlake_datastore_id.clone(),
            role_arn: sc.import_role_arn.clone(),
            kms_key_id: sc.import_kms_key_id.clone(),
        };
        let dlq = SqsQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            &sc.import_dlq_url,
            &sc.import_dlq_url,
            Duration::from_secs(1),
        );
        Some((control, dlq))
    };
    let queue = |url: &str| SqsQueue::new(aws_sdk_sqs::Client::new(sdk), url, url, Duration::from_secs(1));
    let mut watched: Vec<queues::Watched> = [
        ("intake", &f.intake_queue_url),
        ("intake_dlq", &f.intake_dlq_url),
        ("completion", &f.completion_queue_url),
        ("completion_dlq", &f.completion_dlq_url),
    ]
    .into_iter()
    .map(|(role, url)| queues::Watched { role, queue: queue(url) })
    .collect();
    if !sc.import_dlq_url.is_empty() {
        watched.push(queues::Watched { role: "import_dlq", queue: queue(&sc.import_dlq_url) });
    }
    let ecs = (!sc.ecs_cluster.is_empty() && !sc.worker_service.is_empty())
        .then(|| (aws_sdk_ecs::Client::new(sdk), sc.ecs_cluster.clone(), sc.worker_service.clone()));
    Ok(Chores {
        intake: SqsQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            &f.intake_queue_url,
            &f.intake_dlq_url,
            Duration::from_secs(1),
        ),
        ecs,
        metrics_namespace: sc.metrics_namespace.clone(),
        watched,
        cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
        s3: s3.clone(),
        work_bucket: f.work_bucket.clone(),
        work_prefix: f.work_prefix.clone(),
        imports,
        import_max_files: sc.import_max_files.max(1),
        archive: ResponseArchive::new(s3.clone(), &f.work_bucket, &f.work_prefix),
        registry: JobRegistry::new(s3, &f.work_bucket, &f.work_prefix),
        textract: TextractEngine::new(paperchart_aws::textract_client(sdk), TextractSettings::from_fleet(f)),
        completion: SqsQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            &f.completion_queue_url,
            &f.completion_dlq_url,
            Duration::from_secs(1),
        ),
        stuck_after_secs: cfg.scheduler.stuck_after_secs,
    })
}

impl Chores {
    async fn import_step(&self) -> anyhow::Result<Option<imports::Round>> {
        let Some((control, dlq)) = &self.imports else { return Ok(None) };
        let step = imports::Imports {
            s3: &self.s3,
            bucket: &self.work_bucket,
            prefix: &self.work_prefix,
            control,
            dead_letters: dlq,
            max_files: self.import_max_files,
        };
        Ok(Some(step.round().await?))
    }

    /// Gives the letters SQS moved to the intake and completion dead-letter queues their reason.
    async fn annotate(&self) -> anyhow::Result<annotate::Annotated> {
        let mut total = annotate::Annotated::default();
        for q in [&self.intake, &self.completion] {
            if q.dlq_url().is_empty() {
                continue;
            }
            let a = annotate::annotate(q.client(), q.dlq_url(), q.url(), ANNOTATE_PER_ROUND).await?;
            total.annotated += a.annotated;
            total.kept += a.kept;
        }
        Ok(total)
    }

    /// Measures the backlog and prints its Embedded Metric Format line.
    async fn publish_backlog(&self) -> anyhow::Result<backlog::Backlog> {
        let ecs = self.ecs.as_ref().map(|(c, cluster, service)| (c, cluster.as_str(), service.as_str()));
        let b = backlog::measure(&self.intake, &self.completion, ecs).await?;
        let service = self.ecs.as_ref().map_or("paperchart-worker", |(_, _, s)| s.as_str());
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        println!("{}", b.emf(&self.metrics_namespace, service, now));
        if let (Some(w), Some(per_task)) = (b.workers, b.per_task()) {
            metrics::workers(w, per_task);
        }
        Ok(b)
    }

    async fn round(&self) {
        let unread = queues::measure(&self.watched, &self.cloudwatch).await;
        metrics::scheduler_round("queues", unread == 0);
        let backlog = self.publish_backlog().await;
        metrics::scheduler_round("backlog", backlog.is_ok());
        if let Err(e) = backlog {
            tracing::warn!(error = %e, "backlog not published");
        }
        let step = self.import_step().await;
        metrics::scheduler_round("import", step.is_ok());
        match step {
            Ok(Some(r)) => {
                match &r {
                    imports::Round::Started { .. } => metrics::import_job("started"),
                    imports::Round::Finished { status, .. } => metrics::import_job(status),
                    imports::Round::Idle | imports::Round::Waiting(_) => {}
                }
                tracing::info!(round = ?r, "import step done")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "import step failed"),
        }
        let annotated = self.annotate().await;
        metrics::scheduler_round("annotate", annotated.is_ok());
        match annotated {
            Ok(a) if a.annotated > 0 => {
                tracing::warn!(annotated = a.annotated, "letters moved by SQS given their reason")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "dead letters not annotated"),
        }
        let swept = sweep::sweep(&self.registry, &self.textract, &self.completion, self.stuck_after_secs).await;
        metrics::scheduler_round("sweep", swept.is_ok());
        match swept {
            Ok(s) => {
                metrics::textract_pending(s.pending);
                metrics::textract_swept("renotified", s.renotified);
                metrics::textract_swept("dead_lettered", s.dead_lettered);
                tracing::info!(
                    pending = s.pending,
                    checked = s.checked,
                    running = s.running,
                    renotified = s.renotified,
                    waiting = s.waiting,
                    dead_lettered = s.dead_lettered,
                    errors = s.errors,
                    "lost-notice check done"
                )
            }
            Err(e) => tracing::warn!(error = %e, "lost-notice check failed"),
        }
    }
}

async fn main_async(cli: Cli, cfg: Config) -> anyhow::Result<()> {
    let sdk = paperchart_aws::sdk_config(&cfg.aws).await;
    match cli.command {
        Command::Redrive { from, to, max } => {
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            let r = redrive::redrive(&sqs, &from, &to, max).await?;
            println!("moved {} message(s) from {from} to {to}", r.moved);
        }
        Command::Sweep => {
            let c = chores(&cfg, &sdk).await?;
            let s = sweep::sweep(&c.registry, &c.textract, &c.completion, c.stuck_after_secs).await?;
            println!(
                "checked {}, still running {}, notices sent again {}, waiting for their backoff {}, dead-lettered {}, errors {}",
                s.checked, s.running, s.renotified, s.waiting, s.dead_lettered, s.errors
            );
        }
        Command::Replay { prefix, max } => {
            let c = chores(&cfg, &sdk).await?;
            let r = replay::replay(&c.archive, &c.registry, &c.completion, &prefix, max).await?;
            println!("saved answers found {}, replays queued {}, unreadable {}", r.found, r.queued, r.unreadable);
            anyhow::ensure!(r.unreadable == 0, "{} saved answer(s) could not be read", r.unreadable);
        }
        Command::Backlog => {
            chores(&cfg, &sdk).await?.publish_backlog().await?;
        }
        Command::Annotate => {
            let a = chores(&cfg, &sdk).await?.annotate().await?;
            println!("letters given their reason {}, with one already {}", a.annotated, a.kept);
        }
        Command::Import => {
            let c = chores(&cfg, &sdk).await?;
            match c.import_step().await? {
                Some(r) => println!("{r:?}"),
                None => anyhow::bail!("configuration: scheduler.healthlake_datastore_id is not set"),
            }
        }
        Command::Run => {
            let c = chores(&cfg, &sdk).await?;
            if cfg.scheduler.metrics_port != 0 {
                metrics::install(cfg.scheduler.metrics_port, "scheduler")?;
            }
            let stop = paperchart_core::shutdown::on_signals();
            let every = Duration::from_secs(cfg.scheduler.interval_secs.max(1));
            tracing::info!(interval_secs = every.as_secs(), "scheduler started");
            loop {
                c.round().await;
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.cancelled() => break,
                }
            }
            tracing::info!("scheduler stopped");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPERCHART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).json().flatten_event(true).init();
    let cfg = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("paperchart-scheduler: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("paperchart-scheduler: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(main_async(cli, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paperchart-scheduler: {e:#}");
            ExitCode::from(2)
        }
    }
}
