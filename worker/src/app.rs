//! Assembling the pipeline from configuration: which implementation stands behind each seam.
//!
//! The embedded default: local files, PDF text layers and Tesseract, the built-in NLP, and a
//! folder or any FHIR server. With the `fleet` feature, the AWS side: S3, Textract with the job
//! registry, HealthLake (SigV4) and the staging sink. Held findings go to `<out>/review/` or, in
//! the fleet, the work bucket's `review/` prefix.

use std::sync::Arc;

use paperchart_core::config::{Config, SinkKind};
use paperchart_core::sink::FhirSink;
use paperchart_fhir::Mapper;
use paperchart_nlp::Builtin;
use paperchart_read::TesseractEngine;

use crate::dir_sink::{DirSink, ReviewFolder};
use crate::local::LocalFiles;
use crate::pipeline::Pipeline;
use crate::rest_sink::RestSink;
use crate::saved_textract::SavedTextract;

pub fn agent() -> String {
    format!("paperchart {}", env!("CARGO_PKG_VERSION"))
}

/// What this build cannot do, and how to get a build that can.
#[cfg(not(feature = "fleet"))]
pub fn needs_fleet(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} needs the AWS fleet build of paperchart: `cargo build --release --features fleet` \
         (the container image has it); this build is the embedded default"
    )
}

/// The configured sink, checked at start-up: a FHIR server (or HealthLake) must answer its
/// CapabilityStatement as R4, with the credentials configured, before any message is taken.
pub async fn sink(cfg: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    Ok(match cfg.sink.kind {
        SinkKind::Dir => Arc::new(DirSink::new(&cfg.sink.dir)?),
        SinkKind::Staging => staging(cfg).await?,
        SinkKind::Fhir | SinkKind::Healthlake => {
            let mut sink = RestSink::new(&cfg.sink, cfg.sink.max_entries)?;
            if cfg.sink.kind == SinkKind::Healthlake || cfg.sink.sigv4 {
                sink = sink.with_signer(signer(cfg).await?);
            }
            let version = sink.check().await.map_err(|e| {
                anyhow::anyhow!("FHIR sink {}: {e} (check sink.fhir_url and the credentials)", cfg.sink.fhir_url)
            })?;
            tracing::info!(fhir_version = %version, "fhir server ready");
            Arc::new(sink)
        }
    })
}

#[cfg(feature = "fleet")]
async fn staging(cfg: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    crate::fleet::staging_sink(cfg).await
}

#[cfg(not(feature = "fleet"))]
async fn staging(_: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    Err(needs_fleet("sink.kind = \"staging\""))
}

#[cfg(feature = "fleet")]
async fn signer(cfg: &Config) -> anyhow::Result<Arc<dyn paperchart_core::sink::RequestSigner>> {
    crate::fleet::signer(cfg).await
}

#[cfg(not(feature = "fleet"))]
async fn signer(_: &Config) -> anyhow::Result<Arc<dyn paperchart_core::sink::RequestSigner>> {
    Err(needs_fleet("AWS SigV4 signing (sink.kind = \"healthlake\" or sink.sigv4)"))
}

/// The built-in NLP, its terminology loaded and its patterns warmed off the async threads.
pub async fn nlp(cfg: &Config) -> anyhow::Result<Arc<Builtin>> {
    let settings = cfg.nlp.clone();
    let nlp = tokio::task::spawn_blocking(move || -> anyhow::Result<Builtin> {
        let nlp = Builtin::new(&settings)?;
        let started = std::time::Instant::now();
        let findings = nlp.warm();
        tracing::debug!(millis = started.elapsed().as_millis() as u64, findings, "nlp warmed");
        Ok(nlp)
    })
    .await??;
    Ok(Arc::new(nlp))
}

/// The run's surrogates when `fhir.deidentify` is on.
pub fn deidentifier(cfg: &Config) -> Option<Arc<paperchart_nlp::deid::Deidentifier>> {
    cfg.fhir.deidentify.then(|| Arc::new(paperchart_nlp::deid::Deidentifier::from_key(&cfg.fhir.deidentify_key)))
}

pub fn mapper(cfg: &Config) -> Arc<Mapper> {
    Arc::new(Mapper::new(cfg.fhir.clone(), agent()))
}

pub fn tesseract(cfg: &Config) -> anyhow::Result<Arc<TesseractEngine>> {
    Ok(Arc::new(TesseractEngine::new(&cfg.ocr, cfg.ocr_threads(), cfg.limits)?))
}

/// The embedded reading stage alone: local files, and Tesseract (a saved Textract response beside
/// a file is read instead of OCR'ing the file).
pub fn reader(
    cfg: &Config,
) -> anyhow::Result<(Arc<dyn paperchart_core::source::ObjectSource>, Arc<dyn paperchart_core::ocr::OcrEngine>)> {
    Ok((Arc::new(LocalFiles { max_bytes: cfg.limits.max_bytes }), Arc::new(SavedTextract { inner: tesseract(cfg)? })))
}

/// The embedded pipeline: local files, Tesseract, the built-in NLP, and the configured sink.
pub async fn pipeline(cfg: &Config) -> anyhow::Result<Pipeline> {
    let (source, ocr) = reader(cfg)?;
    Ok(Pipeline {
        source,
        ocr,
        nlp: nlp(cfg).await?,
        mapper: mapper(cfg),
        sink: sink(cfg).await?,
        review: Arc::new(ReviewFolder::new(&cfg.sink.dir)),
        jobs: None,
        deid: deidentifier(cfg),
        job_lease: std::time::Duration::from_secs(cfg.worker.job_lease_secs),
    })
}

/// The fleet's pipeline: S3 objects, read by Textract (parked in the work bucket's job registry
/// until their notice comes) or, with `fleet.ocr = "tesseract"`, in the worker.
#[cfg(feature = "fleet")]
pub async fn fleet_pipeline(cfg: &Config, sdk: &paperchart_aws::SdkConfig) -> anyhow::Result<Pipeline> {
    let (ocr, jobs): (Arc<dyn paperchart_core::ocr::OcrEngine>, _) = if cfg.fleet.ocr == "textract" {
        let (ocr, jobs) = crate::fleet::textract(cfg, sdk);
        (ocr, Some(jobs))
    } else {
        (tesseract(cfg)?, None)
    };
    Ok(Pipeline {
        source: crate::fleet::source(cfg, sdk),
        ocr,
        nlp: nlp(cfg).await?,
        mapper: mapper(cfg),
        sink: sink(cfg).await?,
        review: crate::fleet::review(cfg, sdk),
        jobs,
        deid: deidentifier(cfg),
        job_lease: std::time::Duration::from_secs(cfg.worker.job_lease_secs),
    })
}
