//! Assembling the pipeline from configuration: which implementation stands behind each seam.

use std::sync::Arc;

use crate::config::{Config, SinkKind};
use crate::fhir::Mapper;
use crate::nlp::Builtin;
use crate::ocr::TesseractEngine;
use crate::pipeline::Pipeline;
use crate::sink::{DirSink, FhirSink, RestSink};
use crate::source::LocalFiles;

/// Entries per transaction Bundle sent to a FHIR server.
pub const MAX_BUNDLE_ENTRIES: usize = 100;

pub fn agent() -> String {
    format!("paperchart {}", env!("CARGO_PKG_VERSION"))
}

/// The configured sink, checked: a FHIR server must answer its CapabilityStatement as R4.
pub async fn sink(cfg: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    Ok(match cfg.sink.kind {
        SinkKind::Dir => Arc::new(DirSink::new(&cfg.sink.dir)?),
        SinkKind::Fhir => {
            let sink = RestSink::new(&cfg.sink, MAX_BUNDLE_ENTRIES)?;
            let version = sink.check().await.map_err(|e| anyhow::anyhow!("FHIR sink: {e}"))?;
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
