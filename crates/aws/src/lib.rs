//! The AWS side of the seams, on `paperchart-core` only: S3 objects ([`s3`]), SQS queues
//! ([`sqs`]), Textract behind the OCR seam ([`textract`], its blocks in [`blocks`]), the job
//! store in the work bucket ([`registry`]), the staging sink for HealthLake imports
//! ([`staging`]), SigV4 request signing for HealthLake's FHIR API ([`sigv4`]), and the event
//! formats S3, SNS and Textract put on the queues ([`events`]).
//!
//! It never maps FHIR: a document's id comes to it from the pipeline, and the staging sink writes
//! Bundles it is given. Every client is built from one [`aws_config::SdkConfig`]: the SDK's
//! default credential chain (environment, profile, ECS task role, instance metadata), one HTTPS
//! stack (rustls with ring), and, for tests and the local fleet, an endpoint override pointing at
//! an emulator.

pub mod blocks;
pub mod events;
pub mod registry;
pub mod responses;
pub mod review;
pub mod s3;
pub mod sigv4;
pub mod sqs;
pub mod staging;
pub mod textract;

pub use aws_config::SdkConfig;
// The SDK crates, for callers that talk to the same services directly (tests, the scheduler).
use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls;
pub use {aws_config, aws_sdk_s3, aws_sdk_sqs};

use paperchart_core::config::AwsConfig;

/// Loads the shared SDK configuration.
pub async fn sdk_config(cfg: &AwsConfig) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if !cfg.region.is_empty() {
        loader = loader.region(Region::new(cfg.region.clone()));
    }
    if !cfg.endpoint_url.is_empty() {
        loader = loader.endpoint_url(&cfg.endpoint_url);
    }
    loader.load().await
}

pub fn s3_client(sdk: &aws_config::SdkConfig, cfg: &AwsConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(cfg.s3_path_style).build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub fn sqs_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(sdk)
}

/// Textract without the SDK's own retries: the engine retries throttling itself, under its rate
/// limit, so that attempts are counted once.
pub fn textract_client(sdk: &aws_config::SdkConfig) -> aws_sdk_textract::Client {
    let conf =
        aws_sdk_textract::config::Builder::from(sdk).retry_config(aws_config::retry::RetryConfig::disabled()).build();
    aws_sdk_textract::Client::from_conf(conf)
}

/// The service error code of an SDK error, if the service answered with one.
pub fn error_code<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Option<String>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code()).map(str::to_string)
}

/// An SDK error as one line with its whole chain of causes: the one way paperchart shows them.
pub fn describe<E: std::error::Error>(err: &E) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(err).to_string()
}
