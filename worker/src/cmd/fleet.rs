//! `paperchart worker`: the fleet's long-running worker on ECS.
//!
//! Two loops share one process and one shutdown: the intake loop turns S3 upload events into
//! Textract jobs (or, with `fleet.ocr = "tesseract"`, into FHIR directly); the completion loop
//! turns Textract's notices into FHIR. Before taking any message the worker checks its sink (a
//! HealthLake or FHIR server must answer its CapabilityStatement with these credentials) and
//! its queues; only then does `/readyz` answer 200.

use std::sync::Arc;
use std::time::Duration;

use crate::app;
use crate::aws::s3::S3Source;
use crate::aws::sqs::SqsQueue;
use crate::aws::textract::{TextractEngine, TextractSettings};
use crate::config::Config;
use crate::fhir::Mapper;
use crate::fleet::{CompletionHandler, IntakeHandler, JobRegistry};
use crate::health::{self, Readiness};
use crate::metrics::QueueRole;
use crate::nlp::Builtin;
use crate::ocr::{OcrEngine, TesseractEngine};
use crate::pipeline::Pipeline;
use crate::worker::{shutdown_on_signals, Worker, WorkerSettings, WorkerStats};

pub async fn worker(cfg: Config) -> anyhow::Result<()> {
    cfg.fleet.validate_for_worker()?;
    let f = &cfg.fleet;
    let ready = Readiness::default();
    let stop_health = tokio_util::sync::CancellationToken::new();
    if f.health_port != 0 {
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", f.health_port))
            .await
            .map_err(|e| anyhow::anyhow!("health endpoint on port {} (fleet.health_port): {e}", f.health_port))?;
        tokio::spawn(health::serve(listener, ready.clone(), stop_health.clone()));
    }
    if cfg.metrics.port != 0 {
        crate::metrics::install(cfg.metrics.port, "worker")?;
    }

    let sdk = crate::aws::sdk_config(&cfg.aws).await;
    let s3 = crate::aws::s3_client(&sdk, &cfg.aws);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let wait = Duration::from_secs(f.wait_secs.clamp(1, 20));
    let source = Arc::new(S3Source::new(s3.clone(), cfg.limits.max_bytes));
    let nlp_cfg = cfg.nlp.clone();
    let nlp = Arc::new(tokio::task::spawn_blocking(move || Builtin::new(&nlp_cfg)).await??);
    let textract = (f.ocr == "textract")
        .then(|| Arc::new(TextractEngine::new(crate::aws::textract_client(&sdk), TextractSettings::from_fleet(f))));
    let ocr: Arc<dyn OcrEngine> = match &textract {
        Some(t) => t.clone(),
        None => Arc::new(TesseractEngine::new(&cfg.ocr, cfg.ocr_threads(), cfg.limits)?),
    };
    let pipeline = Pipeline {
        source: source.clone(),
        ocr,
        nlp,
        mapper: Arc::new(Mapper::new(cfg.fhir.clone(), app::agent())),
        sink: app::sink(&cfg).await?,
    };
    let intake_queue = SqsQueue::new(sqs.clone(), &f.intake_queue_url, &f.intake_dlq_url, wait);
    intake_queue
        .depth()
        .await
        .map_err(|e| anyhow::anyhow!("intake queue {} (fleet.intake_queue_url): {e}", f.intake_queue_url))?;
    let registry = (!f.work_bucket.is_empty()).then(|| JobRegistry::new(s3.clone(), &f.work_bucket, &f.work_prefix));
    let settings = WorkerSettings::from_config(&cfg);
    let shutdown = shutdown_on_signals();
    let intake = Worker {
        role: QueueRole::Intake,
        queue: Arc::new(intake_queue),
        handler: Arc::new(IntakeHandler {
            source,
            limits: cfg.limits,
            textract: textract.clone(),
            registry: registry.clone(),
            pipeline: pipeline.clone(),
        }),
        settings: settings.clone(),
        stats: Arc::new(WorkerStats::default()),
    };
    let completion = match (&textract, registry) {
        (Some(t), Some(registry)) => {
            let queue = SqsQueue::new(sqs.clone(), &f.completion_queue_url, &f.completion_dlq_url, wait);
            queue.depth().await.map_err(|e| {
                anyhow::anyhow!("completion queue {} (fleet.completion_queue_url): {e}", f.completion_queue_url)
            })?;
            Some(Worker {
                role: QueueRole::Completion,
                queue: Arc::new(queue),
                handler: Arc::new(CompletionHandler { textract: t.clone(), registry, pipeline }),
                settings,
                stats: Arc::new(WorkerStats::default()),
            })
        }
        _ => None,
    };
    ready.set(true);
    tracing::info!(ocr = f.ocr.as_str(), "fleet worker ready");
    let (a, b) = tokio::join!(intake.run(shutdown.clone()), async {
        match &completion {
            Some(w) => w.run(shutdown.clone()).await,
            None => Ok(()),
        }
    });
    ready.set(false);
    stop_health.cancel();
    a?;
    b
}
