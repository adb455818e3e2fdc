//! Running one document through the stages: source → OCR → NLP → FHIR → sink.
//!
//! [`Pipeline::step`] performs one transition of the job state machine ([`crate::job`]);
//! [`Pipeline::process`] runs a document from its key to `Written` and reports what happened.
//! Only ids, counts, timings and error classes are logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::decode;
use crate::fhir::map::MapInput;
use crate::fhir::Mapper;
use crate::job::{DocReport, JobState, Outcome, StageError};
use crate::metrics::{self, Stage};
use crate::model::ReadBy;
use crate::nlp::NlpEngine;
use crate::ocr::{OcrEngine, OcrPoll, OcrStart};
use crate::sink::FhirSink;
use crate::source::ObjectSource;

#[derive(Clone)]
pub struct Pipeline {
    pub source: Arc<dyn ObjectSource>,
    pub ocr: Arc<dyn OcrEngine>,
    pub nlp: Arc<dyn NlpEngine>,
    pub mapper: Arc<Mapper>,
    pub sink: Arc<dyn FhirSink>,
}

/// How often an asynchronous OCR job is polled when nothing notifies its completion.
const OCR_POLL: Duration = Duration::from_secs(2);

impl Pipeline {
    /// One transition. `report` collects counts as the job advances.
    pub async fn step(&self, state: JobState, report: &mut DocReport) -> Result<JobState, StageError> {
        match state {
            JobState::Received { key } => {
                let t = Instant::now();
                let object = self.source.fetch(&key).await?;
                metrics::stage(Stage::Download, t.elapsed());
                report.name = object.name.clone();
                report.uri = object.uri.clone();
                let kind = decode::detect(&object.bytes)?;
                report.kind = Some(kind);
                Ok(JobState::Parsed { object, kind })
            }
            JobState::Parsed { object, kind } => {
                let t = Instant::now();
                let started = self.ocr.start(&object).await?;
                metrics::stage(Stage::Ocr, t.elapsed());
                match started {
                    OcrStart::Done(document) => Ok(JobState::OcrDone { object, kind, document }),
                    OcrStart::Started(job) => Ok(JobState::OcrStarted { object, kind, job }),
                }
            }
            JobState::OcrStarted { object, kind, job } => match self.ocr.fetch(&job).await? {
                OcrPoll::Done(document) => Ok(JobState::OcrDone { object, kind, document }),
                OcrPoll::Pending => Ok(JobState::OcrStarted { object, kind, job }),
            },
            JobState::OcrDone { object, kind, document } => {
                report.pages = document.pages.len();
                for how in [ReadBy::TextLayer, ReadBy::Tesseract, ReadBy::Textract] {
                    let n = document.pages_read_by(how);
                    if n > 0 {
                        report.read_by.insert(how.as_str(), n);
                    }
                }
                report.mean_ocr_confidence = document.mean_ocr_confidence();
                for page in &document.pages {
                    metrics::page(page.read_by.as_str(), page.mean_confidence());
                }
                let t = Instant::now();
                let text = document.text();
                let nlp = self.nlp.clone();
                let (text, nlp_out) = tokio::task::spawn_blocking(move || {
                    let out = nlp.analyze(&text);
                    (text, out)
                })
                .await
                .map_err(|e| StageError::Internal(format!("NLP task: {e}")))?;
                report.entities = nlp_out.counts();
                metrics::stage(Stage::Nlp, t.elapsed());
                for (kind, n) in &report.entities {
                    metrics::entities(kind, *n);
                }
                let t = Instant::now();
                let mapped = self.mapper.map(&MapInput {
                    object: &object,
                    kind,
                    document: &document,
                    text: &text,
                    nlp: &nlp_out,
                });
                metrics::stage(Stage::Map, t.elapsed());
                report.document_id = Some(mapped.bundle.id.clone());
                Ok(JobState::Mapped { object, document, nlp: Box::new(nlp_out), mapped })
            }
            JobState::Mapped { mapped, .. } => {
                let t = Instant::now();
                match self.sink.write(&mapped.bundle).await {
                    Ok(written) => {
                        for e in &written.entries {
                            metrics::fhir_entries(&e.resource_type, e.status, 1);
                        }
                    }
                    Err(e) => {
                        for (resource, n) in mapped.bundle.counts() {
                            metrics::fhir_entries(resource, 0, n);
                        }
                        return Err(e.into());
                    }
                }
                metrics::stage(Stage::Write, t.elapsed());
                report.resources = mapped.bundle.counts();
                report.outcome = match mapped.needs_review {
                    Some(reason) => Outcome::NeedsReview { reason },
                    None => Outcome::Ok,
                };
                Ok(JobState::Written { report: report.clone() })
            }
            done @ (JobState::Written { .. }
            | JobState::Acknowledged { .. }
            | JobState::Ignored { .. }
            | JobState::DeadLettered { .. }) => Ok(done),
        }
    }

    /// Steps a document on from `state` until it is written or fails, waiting between polls of
    /// a running OCR job.
    pub async fn run(&self, mut state: JobState, report: &mut DocReport) -> Result<(), StageError> {
        loop {
            if matches!(state, JobState::OcrStarted { .. }) {
                tokio::time::sleep(OCR_POLL).await;
            }
            let stage = state.stage();
            match self.step(state, report).await {
                Ok(JobState::Written { .. }) => return Ok(()),
                Ok(next) => state = next,
                Err(e) => {
                    metrics::stage_error(stage, e.label());
                    return Err(e);
                }
            }
        }
    }

    /// Runs the document at `key` until it is written or fails.
    pub async fn process(&self, key: &str) -> (DocReport, Option<StageError>) {
        let started = Instant::now();
        let name = std::path::Path::new(key).file_name().map_or(key.to_string(), |n| n.to_string_lossy().into_owned());
        let mut report = DocReport::new(&name, key);
        let error = self.run(JobState::Received { key: key.to_string() }, &mut report).await.err();
        report.millis = started.elapsed().as_millis() as u64;
        report.record_metrics(started.elapsed(), error.as_ref());
        match &error {
            None => tracing::info!(
                document = report.document_id.as_deref().unwrap_or(""),
                pages = report.pages,
                entities = report.entities.values().sum::<usize>(),
                resources = report.resource_total(),
                millis = report.millis,
                needs_review = matches!(report.outcome, Outcome::NeedsReview { .. }),
                "document written"
            ),
            Some(e) => {
                tracing::warn!(error_class = ?e.class(), error = e.label(), millis = report.millis, "document failed");
                report.outcome =
                    Outcome::Failed { class: e.class(), error: e.label().to_string(), reason: e.to_string() };
            }
        }
        (report, error)
    }
}
