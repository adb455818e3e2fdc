//! The AWS side of the assembly (the `fleet` feature): the S3 source, Textract with its document
//! check and the job registry, HealthLake's SigV4 signing, the staging sink and the review store.
//!
//! Nothing here handles a document: the fleet's pipeline is the embedded one with these parts
//! behind the same seams (assembled in [`crate::app`]), and its queues' messages go through
//! [`crate::messages`].

use std::sync::Arc;

use paperchart_aws::registry::JobRegistry;
use paperchart_aws::responses::ResponseArchive;
use paperchart_aws::review::S3Review;
use paperchart_aws::s3::S3Source;
use paperchart_aws::sigv4::SigV4;
use paperchart_aws::staging::StagingSink;
use paperchart_aws::textract::{TextractEngine, TextractSettings};
use paperchart_core::config::Config;
use paperchart_core::jobs::JobStore;
use paperchart_core::ocr::OcrEngine;
use paperchart_core::sink::{FhirSink, RequestSigner, ReviewStore};
use paperchart_core::source::ObjectSource;

/// The staging sink, checked at start-up: the work bucket must answer.
pub async fn staging_sink(cfg: &Config) -> anyhow::Result<Arc<dyn FhirSink>> {
    let sdk = paperchart_aws::sdk_config(&cfg.aws).await;
    let sink =
        StagingSink::new(paperchart_aws::s3_client(&sdk, &cfg.aws), &cfg.fleet.work_bucket, &cfg.fleet.work_prefix);
    sink.check()
        .await
        .map_err(|e| anyhow::anyhow!("staging sink: bucket {} (fleet.work_bucket): {e}", cfg.fleet.work_bucket))?;
    Ok(Arc::new(sink))
}

/// SigV4 signing with the default credential chain, for HealthLake (or `sink.sigv4`).
pub async fn signer(cfg: &Config) -> anyhow::Result<Arc<dyn RequestSigner>> {
    let sdk = paperchart_aws::sdk_config(&cfg.aws).await;
    let signer = SigV4::for_endpoint(&sdk, &cfg.sink.fhir_url, &cfg.sink.sigv4_service)
        .map_err(|e| anyhow::anyhow!("FHIR sink: {e}"))?;
    Ok(Arc::new(signer))
}

/// Where the fleet keeps findings held for review: the work bucket's `review/` prefix.
pub fn review(cfg: &Config, sdk: &paperchart_aws::SdkConfig) -> Arc<dyn ReviewStore> {
    Arc::new(S3Review::new(paperchart_aws::s3_client(sdk, &cfg.aws), &cfg.fleet.work_bucket, &cfg.fleet.work_prefix))
}

/// The fleet's document source: S3 objects, their size checked with a HEAD first.
pub fn source(cfg: &Config, sdk: &paperchart_aws::SdkConfig) -> Arc<dyn ObjectSource> {
    Arc::new(S3Source::new(paperchart_aws::s3_client(sdk, &cfg.aws), cfg.limits.max_bytes))
}

/// Textract, checking each document as the reading stage would before it is paid to read it and
/// keeping every answer in the work bucket (read back instead of paying again), and the job
/// registry in the work bucket where its jobs wait for their notice.
pub fn textract(cfg: &Config, sdk: &paperchart_aws::SdkConfig) -> (Arc<dyn OcrEngine>, Arc<dyn JobStore>) {
    let f = &cfg.fleet;
    let s3 = paperchart_aws::s3_client(sdk, &cfg.aws);
    let textract = TextractEngine::new(paperchart_aws::textract_client(sdk), TextractSettings::from_fleet(f))
        .with_check(Arc::new(paperchart_read::decode::Checker), cfg.limits)
        .with_archive(ResponseArchive::new(s3.clone(), &f.work_bucket, &f.work_prefix));
    let registry = JobRegistry::new(s3, &f.work_bucket, &f.work_prefix);
    (Arc::new(textract), Arc::new(registry))
}
