//! `paperchart worker`: the fleet's long-running worker on ECS.
//!
//! Two loops share one process and one shutdown: the intake loop turns S3 upload events into
//! Textract jobs (or, with `fleet.ocr = "tesseract"`, into FHIR directly); the completion loop
//! turns Textract's notices into FHIR. Before taking any message the worker checks its sink (a
//! HealthLake or FHIR server must answer its CapabilityStatement with these credentials) and
//! its queues; only then does `/readyz` answer 200.

use std::sync::Arc;
use std::time::Duration;

use paperchart_aws::sqs::SqsQueue;
use paperchart_core::config::Config;
use paperchart_core::metrics::QueueRole;

use crate::health::{self, Readiness};
use crate::messages::{DocumentHandler, Messages};
use crate::worker::{Worker, WorkerSettings, WorkerStats};

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
        paperchart_core::metrics::install(cfg.metrics.port, "worker")?;
    }

    let sdk = paperchart_aws::sdk_config(&cfg.aws).await;
    let sqs = paperchart_aws::sqs_client(&sdk);
    let wait = Duration::from_secs(f.wait_secs.clamp(1, 20));
    let pipeline = crate::app::fleet_pipeline(&cfg, &sdk).await?;
    let intake_queue = SqsQueue::new(sqs.clone(), &f.intake_queue_url, &f.intake_dlq_url, wait);
    intake_queue
        .depth()
        .await
        .map_err(|e| anyhow::anyhow!("intake queue {} (fleet.intake_queue_url): {e}", f.intake_queue_url))?;
    let settings = WorkerSettings::from_config(&cfg);
    let shutdown = paperchart_core::shutdown::on_signals();
    let intake = Worker {
        role: QueueRole::Intake,
        queue: Arc::new(intake_queue),
        handler: Arc::new(DocumentHandler { pipeline: pipeline.clone(), messages: Messages::S3Events }),
        settings: settings.clone(),
        stats: Arc::new(WorkerStats::default()),
    };
    let completion = if f.ocr == "textract" {
        let queue = SqsQueue::new(sqs.clone(), &f.completion_queue_url, &f.completion_dlq_url, wait);
        queue.depth().await.map_err(|e| {
            anyhow::anyhow!("completion queue {} (fleet.completion_queue_url): {e}", f.completion_queue_url)
        })?;
        Some(Worker {
            role: QueueRole::Completion,
            queue: Arc::new(queue),
            handler: Arc::new(DocumentHandler { pipeline, messages: Messages::OcrNotices }),
            settings,
            stats: Arc::new(WorkerStats::default()),
        })
    } else {
        None
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
