//! Every metric paperchart exports, in one place: names, help texts, label values, buckets.
//!
//! Names are Prometheus style, `paperchart_<thing>_<unit>`, `_total` on counters. Labels take
//! only values from small fixed sets (queue role, stage, outcome, error class, resource type,
//! page source, Textract status) — never an object key, a job id or error text. Labels of error
//! counters: `error_class` is one of the three [`ErrorClass`] values, `error` the stable label of
//! what happened. Code elsewhere
//! records through the small functions below, so a name or a label is spelled once.
//!
//! Recording goes through the `metrics` facade: without an installed exporter (the one-shot
//! `paperchart run`, unit tests) every call is a no-op. [`install`] starts
//! `metrics-exporter-prometheus`'s listener; the README's metric catalog lists what it serves.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

use crate::error::ErrorClass;
use crate::queue::Settlement;
use paperchart_model::bundle::ReviewReason;
use paperchart_model::class::DocumentClass;

// --- queues and the worker loop (label `queue`: intake, completion, local) --------------------
pub const MESSAGES_RECEIVED: &str = "paperchart_queue_messages_received_total";
pub const MESSAGES_DELETED: &str = "paperchart_queue_messages_deleted_total";
pub const MESSAGES_RELEASED: &str = "paperchart_queue_messages_released_total";
pub const MESSAGES_DEAD_LETTERED: &str = "paperchart_queue_messages_dead_lettered_total";
pub const JOBS: &str = "paperchart_jobs_total";
pub const JOB_DURATION: &str = "paperchart_job_duration_seconds";
pub const JOBS_IN_FLIGHT: &str = "paperchart_jobs_in_flight";
pub const PERMITS_FREE: &str = "paperchart_worker_permits_free";
pub const VISIBILITY_EXTENSIONS: &str = "paperchart_visibility_extensions_total";
pub const RECEIVE_ERRORS: &str = "paperchart_queue_receive_errors_total";

// --- documents through the pipeline --------------------------------------------------------------
pub const DOCUMENTS: &str = "paperchart_documents_total";
pub const DOCUMENT_DURATION: &str = "paperchart_document_duration_seconds";
pub const STAGE_DURATION: &str = "paperchart_stage_duration_seconds";
pub const STAGE_ERRORS: &str = "paperchart_stage_errors_total";
pub const PAGES: &str = "paperchart_pages_total";
pub const OCR_CONFIDENCE: &str = "paperchart_ocr_confidence_ratio";
pub const ENTITIES: &str = "paperchart_entities_total";
pub const DOCUMENT_CLASSES: &str = "paperchart_document_classes_total";
pub const REVIEW_DOCUMENTS: &str = "paperchart_review_documents_total";
pub const REVIEW_FINDINGS: &str = "paperchart_review_findings_total";

// --- Textract ----------------------------------------------------------------------------------
pub const TEXTRACT_STARTED: &str = "paperchart_textract_jobs_started_total";
pub const TEXTRACT_COMPLETED: &str = "paperchart_textract_jobs_completed_total";
pub const TEXTRACT_DURATION: &str = "paperchart_textract_job_duration_seconds";

// --- the FHIR sink ------------------------------------------------------------------------------
pub const FHIR_ENTRIES: &str = "paperchart_fhir_entries_written_total";
pub const SINK_REQUESTS: &str = "paperchart_sink_requests_total";
pub const SINK_RETRIES: &str = "paperchart_sink_retries_total";

// --- the scheduler ------------------------------------------------------------------------------
pub const QUEUE_VISIBLE: &str = "paperchart_queue_visible_messages";
pub const QUEUE_IN_FLIGHT: &str = "paperchart_queue_in_flight_messages";
pub const QUEUE_OLDEST_AGE: &str = "paperchart_queue_oldest_message_age_seconds";
pub const WORKERS_RUNNING: &str = "paperchart_workers_running";
pub const BACKLOG_PER_TASK: &str = "paperchart_backlog_per_task_messages";
pub const TEXTRACT_PENDING: &str = "paperchart_textract_jobs_pending";
pub const TEXTRACT_SWEPT: &str = "paperchart_textract_jobs_swept_total";
pub const IMPORT_JOBS: &str = "paperchart_import_jobs_total";
pub const SCHEDULER_ROUNDS: &str = "paperchart_scheduler_rounds_total";

// --- every process --------------------------------------------------------------------------------
pub const BUILD_INFO: &str = "paperchart_build_info";

/// Latency buckets (seconds): a page of OCR is ~0.2–2 s, a Textract job tens of seconds to
/// minutes, a FHIR write tens of milliseconds.
const SECONDS_BUCKETS: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];
const RATIO_BUCKETS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0];

/// Starts the Prometheus endpoint (`GET /metrics` on `port`, every interface) and describes every
/// metric. `component` (`worker`, `scheduler`, `watch`) labels `paperchart_build_info`.
pub fn install(port: u16, component: &'static str) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(OCR_CONFIDENCE.into()), RATIO_BUCKETS)?
        .install()
        .map_err(|e| anyhow::anyhow!("metrics endpoint on port {port} (metrics.port): {e}"))?;
    describe();
    gauge!(BUILD_INFO, "component" => component, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    zero_series(component);
    Ok(())
}

/// Creates the series of fixed label sets at 0, so `rate()` and `increase()` see the first event
/// and a dashboard shows 0 rather than "no data" for what has not happened yet.
fn zero_series(component: &str) {
    if component == "scheduler" {
        for status in ["started", "completed", "completed_with_errors", "failed", "cancelled"] {
            counter!(IMPORT_JOBS, "status" => status).absolute(0);
        }
        for outcome in ["renotified", "dead_lettered"] {
            counter!(TEXTRACT_SWEPT, "outcome" => outcome).absolute(0);
        }
        return;
    }
    for outcome in ["ok", "needs_review", "failed"] {
        counter!(DOCUMENTS, "outcome" => outcome).absolute(0);
    }
    for class in DocumentClass::ALL {
        counter!(DOCUMENT_CLASSES, "class" => class.as_str()).absolute(0);
    }
    for reason in ReviewReason::ALL {
        counter!(REVIEW_DOCUMENTS, "reason" => reason.as_str()).absolute(0);
        counter!(REVIEW_FINDINGS, "reason" => reason.as_str()).absolute(0);
    }
    for status in ["succeeded", "partial_success", "failed", "error"] {
        counter!(TEXTRACT_COMPLETED, "status" => status).absolute(0);
    }
    counter!(TEXTRACT_STARTED).absolute(0);
    counter!(SINK_RETRIES).absolute(0);
}

fn describe() {
    describe_counter!(MESSAGES_RECEIVED, "Messages received from a queue.");
    describe_counter!(MESSAGES_DELETED, "Messages deleted after their work was done (acknowledged).");
    describe_counter!(MESSAGES_RELEASED, "Messages made visible again: retry after a transient error, or shutdown.");
    describe_counter!(MESSAGES_DEAD_LETTERED, "Messages moved to the dead-letter queue, by error class.");
    describe_counter!(JOBS, "Messages settled by the worker loop, by outcome.");
    describe_histogram!(JOB_DURATION, "Time from receiving a message to settling it.");
    describe_gauge!(JOBS_IN_FLIGHT, "Messages being worked on now.");
    describe_gauge!(PERMITS_FREE, "Concurrency permits free to take more messages.");
    describe_counter!(VISIBILITY_EXTENSIONS, "Lease (visibility timeout) extensions of running jobs, by outcome.");
    describe_counter!(RECEIVE_ERRORS, "Failed receive calls (the loop backs off).");
    describe_counter!(DOCUMENTS, "Documents finished by the pipeline: ok, needs_review or failed.");
    describe_histogram!(DOCUMENT_DURATION, "Time from taking a document to its FHIR write (Textract wait included).");
    describe_histogram!(STAGE_DURATION, "Time spent in one pipeline stage for one document.");
    describe_counter!(STAGE_ERRORS, "Stage failures by stage and error class.");
    describe_counter!(PAGES, "Pages read, by how: PDF text layer, Tesseract or Textract.");
    describe_histogram!(OCR_CONFIDENCE, "Mean word confidence of an OCR-read page (0..1).");
    describe_counter!(ENTITIES, "Clinical entities found by the NLP, by type.");
    describe_counter!(DOCUMENT_CLASSES, "Documents read, by the class that decided what was read from them.");
    describe_counter!(REVIEW_DOCUMENTS, "Documents whose findings were held for review instead of written, by reason.");
    describe_counter!(REVIEW_FINDINGS, "Findings held for review (not written to a patient record), by reason.");
    describe_counter!(TEXTRACT_STARTED, "Textract StartDocumentAnalysis jobs started.");
    describe_counter!(TEXTRACT_COMPLETED, "Textract jobs whose completion was handled, by Textract status.");
    describe_histogram!(TEXTRACT_DURATION, "Time from starting a Textract job to handling its completion.");
    describe_counter!(FHIR_ENTRIES, "FHIR resources written, by resource type and outcome (created, updated, failed).");
    describe_counter!(SINK_REQUESTS, "FHIR server requests, by HTTP status class (2xx, 4xx, 429, 5xx, network).");
    describe_counter!(SINK_RETRIES, "FHIR write attempts retried after a transient failure.");
    describe_gauge!(QUEUE_VISIBLE, "Messages waiting in a queue (SQS ApproximateNumberOfMessages).");
    describe_gauge!(QUEUE_IN_FLIGHT, "Messages received but not deleted (SQS ApproximateNumberOfMessagesNotVisible).");
    describe_gauge!(
        QUEUE_OLDEST_AGE,
        "Age of the oldest message in a queue (CloudWatch ApproximateAgeOfOldestMessage)."
    );
    describe_gauge!(WORKERS_RUNNING, "Running tasks of the worker service (ECS).");
    describe_gauge!(BACKLOG_PER_TASK, "Intake messages waiting per running worker task.");
    describe_gauge!(TEXTRACT_PENDING, "Textract jobs started and not yet written (job records).");
    describe_counter!(TEXTRACT_SWEPT, "Textract jobs whose notice never came, by what the sweep did.");
    describe_counter!(IMPORT_JOBS, "HealthLake import jobs, by how they ended (or started).");
    describe_counter!(SCHEDULER_ROUNDS, "Scheduler chores run, by chore and outcome.");
    describe_gauge!(BUILD_INFO, "1, labelled with the component and version.");
}

/// The queue a worker loop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueRole {
    Intake,
    Completion,
    /// `paperchart watch`'s SQLite queue.
    Local,
}

impl QueueRole {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueRole::Intake => "intake",
            QueueRole::Completion => "completion",
            QueueRole::Local => "local",
        }
    }
}

/// Creates a worker loop's series at 0 (see [`zero_series`]).
pub fn worker_started(queue: QueueRole) {
    let q = queue.as_str();
    for reason in ["retry", "shutdown"] {
        counter!(MESSAGES_RELEASED, "queue" => q, "reason" => reason).absolute(0);
    }
    for outcome in ["ok", "failed"] {
        counter!(VISIBILITY_EXTENSIONS, "queue" => q, "outcome" => outcome).absolute(0);
    }
    counter!(MESSAGES_RECEIVED, "queue" => q).absolute(0);
    counter!(MESSAGES_DELETED, "queue" => q).absolute(0);
    counter!(RECEIVE_ERRORS, "queue" => q).absolute(0);
}

pub fn received(queue: QueueRole, n: usize) {
    counter!(MESSAGES_RECEIVED, "queue" => queue.as_str()).increment(n as u64);
}

pub fn receive_failed(queue: QueueRole) {
    counter!(RECEIVE_ERRORS, "queue" => queue.as_str()).increment(1);
}

/// The gauges of one worker loop.
pub fn occupancy(queue: QueueRole, in_flight: usize, free: usize) {
    gauge!(JOBS_IN_FLIGHT, "queue" => queue.as_str()).set(in_flight as f64);
    gauge!(PERMITS_FREE, "queue" => queue.as_str()).set(free as f64);
}

pub fn extension(queue: QueueRole, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    counter!(VISIBILITY_EXTENSIONS, "queue" => queue.as_str(), "outcome" => outcome).increment(1);
}

/// One message settled: how, its duration, and for a failure its class and label.
pub fn settled(queue: QueueRole, how: Settlement, took: Duration, error: Option<(ErrorClass, &'static str)>) {
    let q = queue.as_str();
    counter!(JOBS, "queue" => q, "outcome" => how.as_str()).increment(1);
    histogram!(JOB_DURATION, "queue" => q).record(took.as_secs_f64());
    match how {
        Settlement::Written | Settlement::OcrStarted | Settlement::Ignored => {
            counter!(MESSAGES_DELETED, "queue" => q).increment(1)
        }
        Settlement::Retried => counter!(MESSAGES_RELEASED, "queue" => q, "reason" => "retry").increment(1),
        Settlement::Interrupted => counter!(MESSAGES_RELEASED, "queue" => q, "reason" => "shutdown").increment(1),
        Settlement::DeadLettered => {
            let (class, label) = error.map_or(("permanent", "unknown"), |(c, l)| (c.as_str(), l));
            counter!(MESSAGES_DEAD_LETTERED, "queue" => q, "error_class" => class, "error" => label).increment(1)
        }
        Settlement::Abandoned => {}
    }
}

/// Pipeline stages: the transitions of a document's state machine, the one vocabulary of the
/// `stage` label for durations and errors alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the queue message: which documents or jobs it names.
    Message,
    /// Received → Parsed: find the object, read it, detect its type.
    Fetch,
    /// Parsed → OcrDone (read at once) or OcrStarted (a job started and parked).
    Ocr,
    /// The time an asynchronous job ran (a duration only).
    OcrWait,
    /// OcrStarted → OcrDone: the finished job's document.
    OcrFetch,
    /// OcrDone → entities.
    Nlp,
    /// entities → Mapped.
    Map,
    /// Mapped → Written.
    Write,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Message => "message",
            Stage::Fetch => "fetch",
            Stage::Ocr => "ocr",
            Stage::OcrWait => "ocr_wait",
            Stage::OcrFetch => "ocr_fetch",
            Stage::Nlp => "nlp",
            Stage::Map => "map",
            Stage::Write => "write",
        }
    }
}

pub fn stage(stage: Stage, took: Duration) {
    histogram!(STAGE_DURATION, "stage" => stage.as_str()).record(took.as_secs_f64());
}

/// A stage failed: its class and the label of what happened.
pub fn stage_error(stage: Stage, class: ErrorClass, label: &'static str) {
    counter!(STAGE_ERRORS, "stage" => stage.as_str(), "error_class" => class.as_str(), "error" => label).increment(1);
}

/// A document finished: `outcome` is `ok`, `needs_review` or `failed`.
pub fn document(outcome: &'static str, took: Option<Duration>) {
    counter!(DOCUMENTS, "outcome" => outcome).increment(1);
    if let Some(t) = took {
        histogram!(DOCUMENT_DURATION).record(t.as_secs_f64());
    }
}

/// One page read: how, and its mean word confidence (0..100) when it has words.
pub fn page(read_by: &'static str, confidence: Option<f32>) {
    counter!(PAGES, "read_by" => read_by).increment(1);
    if let (Some(c), true) = (confidence, read_by != "text_layer") {
        histogram!(OCR_CONFIDENCE, "read_by" => read_by).record((c as f64 / 100.0).clamp(0.0, 1.0));
    }
}

/// A document's findings were held for review.
pub fn review(reason: ReviewReason, findings: usize) {
    counter!(REVIEW_DOCUMENTS, "reason" => reason.as_str()).increment(1);
    counter!(REVIEW_FINDINGS, "reason" => reason.as_str()).increment(findings as u64);
}

/// One document read as `class`.
pub fn document_class(class: DocumentClass) {
    counter!(DOCUMENT_CLASSES, "class" => class.as_str()).increment(1);
}

pub fn entities(kind: &'static str, n: usize) {
    counter!(ENTITIES, "type" => kind).increment(n as u64);
}

pub fn textract_started() {
    counter!(TEXTRACT_STARTED).increment(1);
}

/// A completion handled; `status` is Textract's (SUCCEEDED, PARTIAL_SUCCESS, FAILED, ERROR).
pub fn textract_completed(status: &str, took: Option<Duration>) {
    let status = match status {
        "SUCCEEDED" => "succeeded",
        "PARTIAL_SUCCESS" => "partial_success",
        "FAILED" => "failed",
        "ERROR" => "error",
        _ => "other",
    };
    counter!(TEXTRACT_COMPLETED, "status" => status).increment(1);
    if let Some(t) = took {
        histogram!(TEXTRACT_DURATION).record(t.as_secs_f64());
    }
}

/// FHIR resource types paperchart writes; anything else is counted as `other`.
fn resource_type(t: &str) -> &'static str {
    const TYPES: &[&str] = &[
        "AllergyIntolerance",
        "Condition",
        "DocumentReference",
        "Encounter",
        "FamilyMemberHistory",
        "MedicationStatement",
        "Observation",
        "Patient",
        "Procedure",
        "Provenance",
        "Binary",
    ];
    TYPES.iter().find(|x| **x == t).copied().unwrap_or("other")
}

/// One resource written (`status` 201 created, 200 updated) or failed (`status` 0).
pub fn fhir_entries(resource: &str, status: u16, n: usize) {
    let outcome = match status {
        201 => "created",
        200..=299 => "updated",
        _ => "failed",
    };
    counter!(FHIR_ENTRIES, "resource_type" => resource_type(resource), "outcome" => outcome).increment(n as u64);
}

/// One request to a FHIR server; `None` is a network failure.
pub fn sink_request(status: Option<u16>) {
    let class = match status {
        None => "network",
        Some(429) => "429",
        Some(200..=299) => "2xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
    };
    counter!(SINK_REQUESTS, "status_class" => class).increment(1);
}

pub fn sink_retry() {
    counter!(SINK_RETRIES).increment(1);
}

/// The scheduler's view of one queue (`queue`: intake, completion, intake_dlq, completion_dlq,
/// import_dlq).
pub fn queue_depth(queue: &'static str, visible: u64, in_flight: u64) {
    gauge!(QUEUE_VISIBLE, "queue" => queue).set(visible as f64);
    gauge!(QUEUE_IN_FLIGHT, "queue" => queue).set(in_flight as f64);
}

pub fn queue_oldest_age(queue: &'static str, seconds: f64) {
    gauge!(QUEUE_OLDEST_AGE, "queue" => queue).set(seconds);
}

pub fn workers(running: u64, backlog_per_task: f64) {
    gauge!(WORKERS_RUNNING).set(running as f64);
    gauge!(BACKLOG_PER_TASK).set(backlog_per_task);
}

pub fn textract_pending(n: usize) {
    gauge!(TEXTRACT_PENDING).set(n as f64);
}

pub fn textract_swept(outcome: &'static str, n: usize) {
    counter!(TEXTRACT_SWEPT, "outcome" => outcome).increment(n as u64);
}

/// An import job started, or ended with HealthLake's status (COMPLETED, COMPLETED_WITH_ERRORS,
/// FAILED, CANCELLED).
pub fn import_job(status: &str) {
    let status = match status {
        "started" => "started",
        "COMPLETED" => "completed",
        "COMPLETED_WITH_ERRORS" => "completed_with_errors",
        "FAILED" => "failed",
        "CANCELLED" | "CANCEL_COMPLETED" => "cancelled",
        _ => "other",
    };
    counter!(IMPORT_JOBS, "status" => status).increment(1);
}

/// One chore of a scheduler round (`backlog`, `import`, `sweep`), ok or failed.
pub fn scheduler_round(chore: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "failed" };
    counter!(SCHEDULER_ROUNDS, "chore" => chore, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_stay_in_their_sets() {
        assert_eq!(resource_type("Condition"), "Condition");
        assert_eq!(resource_type("Patient/123"), "other", "never an id");
        assert_eq!(resource_type("x".repeat(300).as_str()), "other");
    }

    #[test]
    fn names_follow_the_convention() {
        let src = include_str!("metrics.rs");
        let consts: Vec<(&str, &str)> = src
            .lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .filter_map(|l| Some((l.split(':').next()?, l.split('"').nth(1)?)))
            .collect();
        assert!(consts.len() >= 30, "{consts:?}");
        let unique: std::collections::BTreeSet<_> = consts.iter().map(|c| c.1).collect();
        assert_eq!(unique.len(), consts.len(), "a name defined twice");
        // Whitespace removed, so a call rustfmt broke over lines reads as one.
        let flat: String = src.chars().filter(|c| !c.is_whitespace()).collect();
        for (konst, name) in &consts {
            assert!(name.starts_with("paperchart_"), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            let kind = ["counter", "gauge", "histogram"]
                .into_iter()
                .find(|k| flat.contains(&format!("describe_{k}!({konst},")))
                .unwrap_or_else(|| panic!("{konst} has no help text"));
            assert_eq!(kind == "counter", name.ends_with("_total"), "{name}: only counters end in _total");
        }
    }
}
