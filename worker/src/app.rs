//! Assembling the pipeline from configuration: which implementation stands behind each seam.

use std::sync::Arc;

use crate::config::{Config, SinkKind};
use crate::fhir::Mapper;
use crate::nlp::Builtin;
use crate::ocr::TesseractEngine;
use crate::pipeline::Pipeline;
use crate::sink::{DirSink, FhirSink, RestSink};
use crate::source::LocalFiles;

pub fn agent() -> String {
    format!("paperchart {}", env!("CARGO_PKG_VERSION"))
}

/// The region of a HealthLake endpoint URL (`https://healthlake.<region>.amazonaws.com/...`).
pub fn healthlake_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut parts = host.split('.');
    (parts.next()? == "healthlake").then(|| parts.next().map(str::to_string)).flatten()
}

/// The configured sink, checked at start-up: a FHIR server (or HealthLake) must answer its
/// CapabilityStatement as R4, with the credentials configured, before any message is taken.
pub async fn sink(cfg: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    Ok(match cfg.sink.kind {
        SinkKind::Dir => Arc::new(DirSink::new(&cfg.sink.dir)?),
        SinkKind::Staging => {
            let sdk = crate::aws::sdk_config(&cfg.aws).await;
            let s3 = crate::aws::s3_client(&sdk, &cfg.aws);
            s3.head_bucket().bucket(&cfg.fleet.work_bucket).send().await.map_err(|e| {
                anyhow::anyhow!(
                    "staging sink: bucket {} (fleet.work_bucket): {}",
                    cfg.fleet.work_bucket,
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                )
            })?;
            Arc::new(crate::aws::staging::StagingSink::new(s3, &cfg.fleet.work_bucket, &cfg.fleet.work_prefix))
        }
        SinkKind::Fhir | SinkKind::Healthlake => {
            let mut sink = RestSink::new(&cfg.sink, cfg.sink.max_entries)?;
            if cfg.sink.kind == SinkKind::Healthlake || cfg.sink.sigv4 {
                let sdk = crate::aws::sdk_config(&cfg.aws).await;
                let credentials = sdk.credentials_provider().ok_or_else(|| {
                    anyhow::anyhow!("FHIR sink: SigV4 signing needs AWS credentials, and none were found")
                })?;
                let region = healthlake_region(&cfg.sink.fhir_url)
                    .or_else(|| sdk.region().map(|r| r.to_string()))
                    .ok_or_else(|| anyhow::anyhow!("FHIR sink: no AWS region for SigV4 (set aws.region)"))?;
                sink = sink.with_signer(crate::sink::Signer {
                    credentials,
                    region,
                    service: cfg.sink.sigv4_service.clone(),
                });
            }
            let version = sink.check().await.map_err(|e| {
                anyhow::anyhow!("FHIR sink {}: {e} (check sink.fhir_url and the credentials)", cfg.sink.fhir_url)
            })?;
            tracing::info!(fhir_version = %version, "fhir server ready");
            Arc::new(sink)
        }
    })
}

/// The embedded pipeline: local files, Tesseract, the built-in NLP, and the configured sink.
pub async fn pipeline(cfg: &Config) -> anyhow::Result<Pipeline> {
    let ocr = TesseractEngine::new(&cfg.ocr, cfg.ocr_threads(), cfg.limits)?;
    let nlp_cfg = cfg.nlp.clone();
    let nlp = tokio::task::spawn_blocking(move || Builtin::new(&nlp_cfg)).await??;
    Ok(Pipeline {
        source: Arc::new(LocalFiles { max_bytes: cfg.limits.max_bytes }),
        ocr: Arc::new(ocr),
        nlp: Arc::new(nlp),
        mapper: Arc::new(Mapper::new(cfg.fhir.clone(), agent())),
        sink: sink(cfg).await?,
    })
}
