//! Running one document through the stages: source → OCR → NLP → FHIR → sink.
//!
//! [`Pipeline::step`] performs one transition of the job state machine ([`crate::job`]) and owns
//! every one of them, whatever reads the pages: a PDF's text layer, Tesseract, or Textract. An
//! asynchronous engine's job is parked in the job store on the way into `OcrStarted`;
//! [`Pipeline::resume`] takes it back when its completion comes. [`Pipeline::process`] runs a
//! document from its key. Only ids, counts, timings and error classes are logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use paperchart_core::error::Classified;
use paperchart_core::events::{
    DocumentFailed, DocumentHeld, DocumentIgnored, DocumentParked, DocumentWritten, OcrJobCompleted,
};
use paperchart_core::jobs::{JobStore, PendingJob, StoreError};
use paperchart_core::metrics::{self, Stage};
use paperchart_core::ocr::{OcrEngine, OcrError, OcrPoll, OcrStart};
use paperchart_core::queue::Settlement;
use paperchart_core::sink::{FhirSink, ReviewStore};
use paperchart_core::source::{ObjectSource, SourceObject};
use paperchart_core::timestamps;
use paperchart_fhir::{MapInput, Mapper};
use paperchart_model::document::ReadBy;
use paperchart_model::findings::NlpEngine;
use paperchart_read::decode;

use crate::job::{DocReport, JobState, Outcome, PoorRegion, StageError};

#[derive(Clone)]
pub struct Pipeline {
    pub source: Arc<dyn ObjectSource>,
    pub ocr: Arc<dyn OcrEngine>,
    pub nlp: Arc<dyn NlpEngine>,
    pub mapper: Arc<Mapper>,
    pub sink: Arc<dyn FhirSink>,
    /// Where findings without a patient wait for a person.
    pub review: Arc<dyn ReviewStore>,
    /// Where asynchronous OCR jobs wait; `None` for engines that answer at once.
    pub jobs: Option<Arc<dyn JobStore>>,
    /// With `fhir.deidentify`: the run's surrogates, applied to the text and findings before
    /// they are mapped.
    pub deid: Option<Arc<paperchart_nlp::deid::Deidentifier>>,
    /// How long a worker holds a job it resumes against a duplicated notice
    /// (`worker.job_lease_secs`).
    pub job_lease: Duration,
}

/// Gives a job's lease up when the work on it ends, however it ends (finished, failed, or dropped
/// at shutdown); a lease that cannot be given up only runs out.
struct LeaseGuard {
    jobs: Arc<dyn JobStore>,
    /// `None` once given up.
    job_id: Option<String>,
}

impl LeaseGuard {
    async fn give_up(mut self) {
        if let Some(job_id) = self.job_id.take() {
            unlease(&*self.jobs, &job_id).await;
        }
    }
}

async fn unlease(jobs: &dyn JobStore, job_id: &str) {
    if let Err(e) = jobs.unlease(job_id).await {
        tracing::warn!(event = "job_lease_kept", error = e.label(), "job lease not given up; it runs out");
    }
}

impl Drop for LeaseGuard {
    /// Dropped with the work (a shutdown): given up in the background.
    fn drop(&mut self) {
        let Some(job_id) = self.job_id.take() else { return };
        let jobs = self.jobs.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { unlease(&*jobs, &job_id).await });
        }
    }
}

/// The object as a parked job keeps it: everything but the bytes (the engine read them).
fn described(object: &SourceObject) -> SourceObject {
    SourceObject { bytes: Default::default(), ..object.clone() }
}

impl Pipeline {
    fn jobs(&self) -> Result<&Arc<dyn JobStore>, StageError> {
        self.jobs.as_ref().ok_or_else(|| StageError::Internal("an asynchronous OCR engine needs a job store".into()))
    }

    /// One transition. `report` collects counts as the job advances.
    pub async fn step(&self, state: JobState, report: &mut DocReport) -> Result<JobState, StageError> {
        match state {
            JobState::Received { key } => {
                let t = Instant::now();
                let object = self.source.fetch(&key).await?;
                metrics::stage(Stage::Fetch, t.elapsed());
                // The same bytes written before from this or another key: nothing to pay for.
                if let Some(jobs) = &self.jobs {
                    if jobs.is_written(&object).await? {
                        return Ok(JobState::Ignored { reason: "already_written" });
                    }
                }
                report.name = object.name.clone();
                report.uri = object.uri.clone();
                let kind = decode::detect(&object.bytes)?;
                report.kind = Some(kind);
                Ok(JobState::Parsed { object, kind })
            }
            JobState::Parsed { object, kind } => {
                let document_id = paperchart_fhir::ids::document_id(&object.identity);
                report.document_id = Some(document_id.clone());
                let t = Instant::now();
                match self.ocr.start(&object, &document_id).await? {
                    OcrStart::Done(document) => {
                        metrics::stage(Stage::Ocr, t.elapsed());
                        Ok(JobState::OcrDone { object, kind, document, pending: None })
                    }
                    OcrStart::Started(job) => {
                        let pending = PendingJob {
                            job,
                            object: described(&object),
                            kind,
                            document_id,
                            started_at: timestamps::now(),
                            set_aside: false,
                        };
                        self.jobs()?.park(&pending).await?;
                        metrics::stage(Stage::Ocr, t.elapsed());
                        DocumentParked {
                            document_id: &pending.document_id,
                            engine: self.ocr.name(),
                            job_id: &pending.job.id,
                        }
                        .emit();
                        Ok(JobState::OcrStarted { pending })
                    }
                }
            }
            JobState::OcrStarted { pending } => {
                report.name = pending.object.name.clone();
                report.uri = pending.object.uri.clone();
                report.kind = Some(pending.kind);
                report.document_id = Some(pending.document_id.clone());
                if let Some(waited) = timestamps::age(&pending.started_at) {
                    metrics::stage(Stage::OcrWait, waited);
                }
                let t = Instant::now();
                match self.ocr.fetch(&pending).await? {
                    OcrPoll::Done(document) => {
                        metrics::stage(Stage::OcrFetch, t.elapsed());
                        let (object, kind) = (pending.object.clone(), pending.kind);
                        Ok(JobState::OcrDone { object, kind, document, pending: Some(pending) })
                    }
                    OcrPoll::Pending => Err(OcrError::StillRunning { job_id: pending.job.id.clone() }.into()),
                }
            }
            JobState::OcrDone { object, kind, document, pending } => {
                report.pages = document.pages.len();
                for how in [ReadBy::TextLayer, ReadBy::Tesseract, ReadBy::Textract] {
                    let n = document.pages_read_by(how);
                    if n > 0 {
                        report.read_by.insert(how.as_str(), n);
                    }
                }
                // Pages whose text layer was garbage and were OCR'd instead: counted apart, so the
                // summary says what was used.
                let rejected = document.pages.iter().filter(|p| p.text_layer_rejected).count();
                if rejected > 0 {
                    report.read_by.insert("text_layer_rejected", rejected);
                }
                report.mean_ocr_confidence = document.mean_ocr_confidence();
                for page in &document.pages {
                    for step in &page.prepared {
                        *report.prepared.entry(step.clone()).or_default() += 1;
                    }
                }
                report.poorly_read = document.pages.iter().filter(|p| p.poorly_read()).map(|p| p.number).collect();
                report.poorly_read_regions = document
                    .pages
                    .iter()
                    .flat_map(|p| {
                        p.poorly_read_regions()
                            .into_iter()
                            .map(|(a, b)| PoorRegion { page: p.number, lines: [a + 1, b + 1] })
                    })
                    .collect();
                report.handwritten_lines = document
                    .pages
                    .iter()
                    .map(|p| (p.number, p.handwritten_lines().len()))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                for page in &document.pages {
                    metrics::page(page.read_by.as_str(), page.mean_confidence());
                }
                let t = Instant::now();
                let text = document.text();
                let nlp = self.nlp.clone();
                let deid = self.deid.clone();
                let (document, text, nlp_out) = tokio::task::spawn_blocking(move || {
                    let mut out = nlp.analyze_document(&document, &text);
                    let mut text = text;
                    if let Some(d) = deid {
                        d.apply(&mut text, &mut out);
                    }
                    (document, text, out)
                })
                .await
                .map_err(|e| StageError::Internal(format!("NLP task: {e}")))?;
                report.entities = nlp_out.counts();
                report.class = Some(nlp_out.document.class);
                report.fax_lines = nlp_out.document.fax.as_ref().map(|f| f.lines);
                metrics::document_class(nlp_out.document.class);
                metrics::stage(Stage::Nlp, t.elapsed());
                for (kind, n) in &report.entities {
                    metrics::entities(kind, *n);
                }
                let t = Instant::now();
                let mut mapped = self.mapper.map(&MapInput {
                    object: &object,
                    kind,
                    document: &document,
                    text: &text,
                    nlp: &nlp_out,
                });
                metrics::stage(Stage::Map, t.elapsed());
                let missing = document.missing_pages.len();
                if missing > 0 {
                    mapped.needs_review =
                        Some(format!("{} reported {missing} page(s) missing (PARTIAL_SUCCESS)", self.ocr.name()));
                }
                // Pages, or runs of lines, read too poorly to trust (handwriting, damage): their
                // findings were kept below the confidence of fact by the NLP; a person, or
                // Textract, reads them.
                let mut poor: Vec<String> = Vec::new();
                if !report.poorly_read.is_empty() {
                    let pages = report.poorly_read.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                    poor.push(format!("page(s) {pages}"));
                }
                poor.extend(
                    report
                        .poorly_read_regions
                        .iter()
                        .map(|r| format!("page {} lines {}-{}", r.page, r.lines[0], r.lines[1])),
                );
                if !poor.is_empty() {
                    let note = format!(
                        "{} poorly read by {} (handwriting or damage): needs Textract or a person",
                        poor.join(", "),
                        self.ocr.name()
                    );
                    add_review_note(&mut mapped.needs_review, &note);
                }
                // Handwriting the engine read (Textract): written as read, with its confidence,
                // and checked by a person — from two lines on: one line alone is most often a
                // signature under a typed letter, which every signed document has.
                if report.handwritten_lines.values().sum::<usize>() >= 2 {
                    let lines = report
                        .handwritten_lines
                        .iter()
                        .map(|(page, n)| format!("page {page}: {n} line(s)"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let note = format!("handwriting read by {} ({lines}): check it", self.ocr.name());
                    add_review_note(&mut mapped.needs_review, &note);
                }
                // A fax that announced more pages than arrived, or gave a page twice, may be an
                // incomplete record.
                if let Some(note) = nlp_out.document.fax.as_ref().and_then(|f| f.incomplete(document.pages.len())) {
                    add_review_note(&mut mapped.needs_review, &note);
                }
                report.document_id = Some(mapped.bundle.id.clone());
                Ok(JobState::Mapped { mapped, pending })
            }
            JobState::Mapped { mapped, pending } => {
                let t = Instant::now();
                // Held findings are stored before the document is written, so a message is
                // acknowledged only when both are: nothing it said is dropped.
                if let Some(review) = &mapped.review {
                    report.review = Some(self.review.put(review).await?);
                    report.held = review.held();
                    DocumentHeld { document_id: &review.document_id, reason: review.reason, findings: review.held() }
                        .emit();
                }
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
                if let Some(p) = &pending {
                    self.jobs()?.written(p).await?;
                }
                metrics::stage(Stage::Write, t.elapsed());
                report.resources = mapped.bundle.counts();
                report.outcome = match mapped.needs_review {
                    Some(reason) => Outcome::NeedsReview { reason },
                    None => Outcome::Ok,
                };
                Ok(JobState::Written)
            }
            done @ (JobState::Written | JobState::Ignored { .. }) => Ok(done),
        }
    }

    /// Steps a document on from `state` until its work for this message ends: written, parked
    /// with its OCR job, ignored, or failed. A document whose job was parked and that fails for
    /// good is forgotten by the job store (it goes to the dead letters with the message).
    pub async fn run(&self, mut state: JobState, report: &mut DocReport) -> Result<Settlement, (Stage, StageError)> {
        let mut started_here = !matches!(state, JobState::OcrStarted { .. });
        // A job the engine forgot, whose document starts over from its source: its record goes
        // once the document's work for this message is done.
        let mut restarted: Option<PendingJob> = None;
        let mut started: Option<String> = None;
        loop {
            let stage = state.stage();
            let parked = state.pending().cloned();
            let settled = match self.step(state, report).await {
                Ok(JobState::Written) => Settlement::Written,
                Ok(JobState::OcrStarted { pending }) if started_here => {
                    started = Some(pending.job.id.clone());
                    Settlement::OcrStarted
                }
                Ok(JobState::Ignored { reason }) => {
                    DocumentIgnored { reason }.emit();
                    Settlement::Ignored
                }
                Ok(mut next) => {
                    if let (JobState::Parsed { object, .. }, Some(lost)) = (&mut next, &restarted) {
                        object.restart_of = Some(lost.job.id.clone());
                    }
                    state = next;
                    continue;
                }
                // A redriven notice whose job Textract no longer knows, and no answer kept: the
                // document is done again from the object it came from.
                Err(StageError::Ocr(OcrError::UnknownJob { .. })) if restarted.is_none() => {
                    let from_source = parked.as_ref().and_then(|p| {
                        p.object.location.as_ref().and_then(|l| self.source.key_for(l)).map(|k| (p.clone(), k))
                    });
                    if let Some((job, key)) = from_source {
                        tracing::info!(event = "document_restarted", document_id = %job.document_id, "OCR job unknown: read again from the source");
                        restarted = Some(job);
                        started_here = true;
                        state = JobState::Received { key };
                        continue;
                    }
                    let e =
                        StageError::Ocr(OcrError::UnknownJob { job_id: parked.map(|p| p.job.id).unwrap_or_default() });
                    return Err((stage, e));
                }
                Err(e) => {
                    if let (true, Some(job), Some(jobs)) = (e.class().is_permanent(), &parked, &self.jobs) {
                        jobs.forget(job).await.map_err(|f| (stage, f.into()))?;
                    }
                    return Err((stage, e));
                }
            };
            // (Never the record just parked, should an engine hand back the lost job's id.)
            if let (Some(old), Some(jobs)) = (&restarted, &self.jobs) {
                if started.as_deref() != Some(old.job.id.as_str()) {
                    jobs.discard(old).await.map_err(|f| (stage, f.into()))?;
                }
            }
            return Ok(settled);
        }
    }

    /// Runs the document at `key` until its work for this message ends.
    pub async fn process(&self, key: &str) -> (DocReport, Result<Settlement, StageError>) {
        // A local key may be a file:// URI keeping a name that is not UTF-8: shown lossily.
        let path = paperchart_core::source::local_path(key);
        let name = path.file_name().map_or(key.to_string(), |n| n.to_string_lossy().into_owned());
        self.finish(DocReport::new(&name, key), JobState::Received { key: key.to_string() }, Duration::ZERO).await
    }

    /// Carries on the document whose OCR job `job_id` completed with `status`; ignored when no
    /// such job is parked (already written, or not this fleet's).
    pub async fn resume(&self, job_id: &str, status: &str) -> (DocReport, Result<Settlement, StageError>) {
        let mut report = DocReport::new(job_id, job_id);
        let jobs = match self.jobs() {
            Ok(j) => j.clone(),
            Err(e) => {
                report.fail(&e);
                return (report, Err(e));
            }
        };
        // One worker at a time per job, the lease taken before the record is read: a duplicated
        // notice waits (re-sent like a throttle) while the first is being done, then finds no
        // record. The guard gives the lease up however this ends (a shutdown drops the work).
        match jobs.lease(job_id, self.job_lease).await {
            Ok(true) => {}
            Ok(false) => {
                let e = StageError::from(StoreError::Leased { job_id: job_id.to_string() });
                report.fail(&e);
                return (report, Err(e));
            }
            Err(e) => {
                let e = StageError::from(e);
                report.fail(&e);
                return (report, Err(e));
            }
        }
        let lease = LeaseGuard { jobs: jobs.clone(), job_id: Some(job_id.to_string()) };
        let done = match jobs.get(job_id).await {
            Ok(Some(pending)) => {
                let waited = timestamps::age(&pending.started_at);
                OcrJobCompleted { job_id, status, age: waited }.emit();
                self.finish(report, JobState::OcrStarted { pending }, waited.unwrap_or_default()).await
            }
            Ok(None) => {
                DocumentIgnored { reason: "no_parked_job" }.emit();
                report.settled = Settlement::Ignored.as_str();
                (report, Ok(Settlement::Ignored))
            }
            Err(e) => {
                let e = StageError::from(e);
                report.fail(&e);
                (report, Err(e))
            }
        };
        lease.give_up().await;
        done
    }

    /// Runs a document and reports it: its events, its time (`waited` before this process took
    /// it up), its outcome.
    async fn finish(
        &self,
        mut report: DocReport,
        state: JobState,
        waited: Duration,
    ) -> (DocReport, Result<Settlement, StageError>) {
        let started = Instant::now();
        let result = self.run(state, &mut report).await;
        report.millis = started.elapsed().as_millis() as u64;
        match result {
            Ok(how) => {
                report.settled = how.as_str();
                if how == Settlement::Written {
                    DocumentWritten {
                        document_id: report.document_id.as_deref().unwrap_or(""),
                        pages: report.pages,
                        entities: report.entities.values().sum(),
                        resources: report.resource_total(),
                        needs_review: matches!(report.outcome, Outcome::NeedsReview { .. }),
                        took: waited + started.elapsed(),
                    }
                    .emit();
                }
                (report, Ok(how))
            }
            Err((stage, e)) => {
                DocumentFailed {
                    document_id: report.document_id.as_deref().unwrap_or(""),
                    stage,
                    class: e.class(),
                    error: e.label(),
                    took: started.elapsed(),
                }
                .emit();
                report.fail(&e);
                (report, Err(e))
            }
        }
    }
}

/// Adds `note` to the reasons a document needs review.
fn add_review_note(needs_review: &mut Option<String>, note: &str) {
    *needs_review = Some(match needs_review.take() {
        Some(reason) => format!("{reason}; {note}"),
        None => format!("needs review: {note}"),
    });
}

#[cfg(test)]
mod tests {
    //! The one path, with fakes behind the seams: an engine that answers at once and one that
    //! starts jobs, each document parked, resumed, written, ignored or forgotten as the state
    //! machine says.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use paperchart_core::error::ErrorClass;
    use paperchart_core::ocr::OcrJob;
    use paperchart_core::source::{ObjectLocation, SourceError};
    use paperchart_model::document::{Document, Line, Page};
    use paperchart_model::findings::{Assertion, NlpOutput};
    use paperchart_model::findings::{Attrs, Entity, EntityType};
    use paperchart_model::settings::FhirSettings;
    use paperchart_testkit::memory::{MemoryJobs, MemoryReview, MemorySink};

    use super::*;

    /// Objects by key, in a bucket of their own.
    struct Objects(BTreeMap<String, Vec<u8>>);

    #[async_trait]
    impl ObjectSource for Objects {
        async fn fetch(&self, key: &str) -> Result<SourceObject, SourceError> {
            let bytes = self.0.get(key).ok_or_else(|| SourceError::NotFound { key: key.into() })?.clone();
            let mut object = SourceObject::from_bytes(key.into(), key.into(), bytes, None);
            object.location =
                Some(ObjectLocation { bucket: "b".into(), key: key.into(), version_id: None, etag: None });
            Ok(object)
        }
    }

    /// How the fake engine behaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Engine {
        /// Reads at once, as Tesseract does.
        AtOnce,
        /// Starts a job; its document comes with `fetch`, as Textract's does.
        Jobs,
        /// Starts jobs that fail.
        FailingJobs,
        /// Reads at once, a page it cleaned up first and could hardly read (handwriting).
        Scrawled,
        /// Reads at once a typed page with a note scrawled under it.
        Annotated,
        /// Reads at once a typed page whose fill-ins it marks handwritten, surely (as Textract does).
        Handwritten,
        /// Reads at once a typed letter with one handwritten line under it: its signature.
        Signed,
    }

    struct FakeOcr {
        engine: Engine,
        started: Mutex<u32>,
    }

    fn page() -> Document {
        read_as(95.0, Vec::new())
    }

    fn read_as(confidence: f32, prepared: Vec<String>) -> Document {
        let lines = vec![Line::from_text("Discharge summary", confidence)];
        Document {
            pages: vec![Page {
                number: 1,
                read_by: ReadBy::Textract,
                lines,
                key_values: vec![],
                tables: vec![],
                text_layer_rejected: false,
                prepared,
            }],
            ..Document::default()
        }
    }

    #[async_trait]
    impl OcrEngine for FakeOcr {
        fn name(&self) -> &'static str {
            "fake"
        }

        async fn start(&self, _object: &SourceObject, _tag: &str) -> Result<OcrStart, OcrError> {
            let mut n = self.started.lock().unwrap();
            *n += 1;
            Ok(match self.engine {
                Engine::AtOnce => OcrStart::Done(page()),
                Engine::Scrawled => OcrStart::Done(read_as(31.0, vec!["despeckled".into(), "rotated 180".into()])),
                Engine::Annotated => {
                    let mut doc = page();
                    let typed = ["Discharge summary", "Plan reviewed with the patient", "Follow up in the clinic"];
                    let scrawl = ["sore throat since Monday", "call back if worse", "see nurse note today"];
                    doc.pages[0].lines = typed
                        .iter()
                        .map(|t| Line::from_text(t, 95.0))
                        .chain(scrawl.iter().map(|t| Line::from_text(t, 40.0)))
                        .collect();
                    OcrStart::Done(doc)
                }
                Engine::Handwritten => {
                    let mut doc = page();
                    let typed = ["Intake form", "Reason for visit:"];
                    let filled = ["sore throat since Monday", "allergic to penicillin"];
                    let handwritten = |t: &&str| {
                        let mut line = Line::from_text(t, 93.0);
                        line.words.iter_mut().for_each(|w| w.handwritten = true);
                        line
                    };
                    doc.pages[0].lines =
                        typed.iter().map(|t| Line::from_text(t, 99.0)).chain(filled.iter().map(handwritten)).collect();
                    OcrStart::Done(doc)
                }
                Engine::Signed => {
                    let mut doc = page();
                    let mut signature = Line::from_text("Jane Whitcombe", 88.0);
                    signature.words.iter_mut().for_each(|w| w.handwritten = true);
                    doc.pages[0].lines.push(signature);
                    OcrStart::Done(doc)
                }
                Engine::Jobs | Engine::FailingJobs => OcrStart::Started(OcrJob { id: format!("job-{n}") }),
            })
        }

        async fn fetch(&self, job: &PendingJob) -> Result<OcrPoll, OcrError> {
            match self.engine {
                Engine::FailingJobs => {
                    Err(OcrError::JobFailed { job_id: job.job.id.clone(), message: "bad scan".into() })
                }
                _ => Ok(OcrPoll::Done(page())),
            }
        }
    }

    /// Finds nothing, or one condition; never a patient: the document and its provenance are what
    /// is written, and what was found is held for review.
    struct NoFindings;
    struct OneFinding;

    impl NlpEngine for NoFindings {
        fn analyze(&self, _text: &str) -> NlpOutput {
            NlpOutput::default()
        }

        fn assertion(&self, _text: &str, _start: usize, _end: usize) -> Assertion {
            Assertion::default()
        }
    }

    impl NlpEngine for OneFinding {
        fn analyze(&self, text: &str) -> NlpOutput {
            let entity = Entity {
                kind: EntityType::Condition,
                subtype: None,
                start: 0,
                end: text.len().min(9),
                text: "Discharge".into(),
                codes: vec![],
                assertion: Assertion::Present,
                attrs: Attrs::default(),
                confidence: None,
                section: None,
            };
            NlpOutput { entities: vec![entity], ..NlpOutput::default() }
        }

        fn assertion(&self, _text: &str, _start: usize, _end: usize) -> Assertion {
            Assertion::default()
        }
    }

    struct Setup {
        pipeline: Pipeline,
        ocr: Arc<FakeOcr>,
        sink: MemorySink,
        review: MemoryReview,
        jobs: MemoryJobs,
    }

    fn setup(engine: Engine) -> Setup {
        let objects = BTreeMap::from([
            ("scan.pdf".to_string(), b"%PDF-1.4 a scan".to_vec()),
            ("notes.txt".to_string(), b"not a document type".to_vec()),
        ]);
        let ocr = Arc::new(FakeOcr { engine, started: Mutex::new(0) });
        let (sink, jobs, review) = (MemorySink::new(), MemoryJobs::new(), MemoryReview::new());
        let pipeline = Pipeline {
            source: Arc::new(Objects(objects)),
            ocr: ocr.clone(),
            nlp: Arc::new(NoFindings),
            mapper: Arc::new(Mapper::new(FhirSettings::default(), "paperchart test".into())),
            sink: Arc::new(sink.clone()),
            review: Arc::new(review.clone()),
            jobs: (engine != Engine::AtOnce).then(|| Arc::new(jobs.clone()) as Arc<dyn JobStore>),
            deid: None,
            job_lease: Duration::from_secs(60),
        };
        Setup { pipeline, ocr, sink, review, jobs }
    }

    #[tokio::test]
    async fn an_engine_that_answers_at_once_goes_straight_to_written() {
        let s = setup(Engine::AtOnce);
        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Written);
        assert_eq!((report.settled, report.pages), ("written", 1));
        let bundles = s.sink.bundles();
        assert_eq!(bundles.keys().collect::<Vec<_>>(), [report.document_id.as_ref().unwrap()]);
        assert!(s.jobs.parked().is_empty());
    }

    #[tokio::test]
    async fn a_page_read_too_poorly_to_trust_is_said_and_sent_to_review() {
        let s = setup(Engine::Scrawled);
        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Written, "the document itself is kept");
        assert_eq!(report.poorly_read, [1]);
        assert_eq!(report.prepared, BTreeMap::from([("despeckled".into(), 1), ("rotated 180".into(), 1)]));
        match &report.outcome {
            Outcome::NeedsReview { reason } => {
                assert!(
                    reason.contains("page(s) 1 poorly read by fake") && reason.contains("Textract or a person"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["poorly_read"], serde_json::json!([1]), "in summary.json");
        // A page read well says neither.
        let (report, _) = setup(Engine::AtOnce).pipeline.process("scan.pdf").await;
        assert!(report.poorly_read.is_empty() && report.prepared.is_empty());
        assert!(!serde_json::to_value(&report).unwrap().as_object().unwrap().contains_key("poorly_read"));
    }

    #[tokio::test]
    async fn lines_read_too_poorly_on_a_readable_page_are_said_and_sent_to_review() {
        let s = setup(Engine::Annotated);
        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Written);
        assert!(report.poorly_read.is_empty(), "the page as a whole reads");
        assert_eq!(report.poorly_read_regions, [PoorRegion { page: 1, lines: [4, 6] }]);
        let Outcome::NeedsReview { reason } = &report.outcome else { panic!("{:?}", report.outcome) };
        assert!(reason.contains("page 1 lines 4-6 poorly read by fake (handwriting or damage)"), "{reason}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["poorly_read_regions"], serde_json::json!([{"page": 1, "lines": [4, 6]}]));
    }

    #[tokio::test]
    async fn handwriting_the_engine_read_is_written_and_sent_to_a_person_to_check() {
        let s = setup(Engine::Handwritten);
        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Written);
        assert!(report.poorly_read.is_empty() && report.poorly_read_regions.is_empty(), "read surely");
        assert_eq!(report.handwritten_lines, BTreeMap::from([(1, 2)]));
        let Outcome::NeedsReview { reason } = &report.outcome else { panic!("{:?}", report.outcome) };
        assert!(reason.contains("handwriting read by fake (page 1: 2 line(s)): check it"), "{reason}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["handwritten_lines"], serde_json::json!({"1": 2}));
        // A page without handwriting says nothing of it.
        let (report, _) = setup(Engine::AtOnce).pipeline.process("scan.pdf").await;
        assert!(serde_json::to_value(&report).unwrap().get("handwritten_lines").is_none());
        // One handwritten line under a typed letter, its signature: counted, not sent to review.
        let (report, _) = setup(Engine::Signed).pipeline.process("scan.pdf").await;
        assert_eq!(report.handwritten_lines, BTreeMap::from([(1, 1)]));
        if let Outcome::NeedsReview { reason } = &report.outcome {
            assert!(!reason.contains("handwriting"), "{reason}");
        }
    }

    #[tokio::test]
    async fn a_started_job_is_parked_then_resumed_then_written_once() {
        let s = setup(Engine::Jobs);
        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::OcrStarted);
        assert_eq!(s.jobs.parked(), ["job-1"]);
        assert_eq!(s.sink.writes(), 0, "nothing is written before the job's document comes");
        let parked_as = report.document_id.clone().unwrap();

        let (report, result) = s.pipeline.resume("job-1", "SUCCEEDED").await;
        assert_eq!(result.unwrap(), Settlement::Written);
        assert_eq!(report.document_id.as_deref(), Some(parked_as.as_str()), "written under the id it was parked with");
        assert!(s.jobs.parked().is_empty(), "the job store forgets a written job");
        assert_eq!(s.sink.bundles().len(), 1);

        // The same upload event again: turned away before the engine is paid.
        let (_, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Ignored);
        assert_eq!(*s.ocr.started.lock().unwrap(), 1);
        // The same notice again: no parked job, nothing to do.
        let (_, result) = s.pipeline.resume("job-1", "SUCCEEDED").await;
        assert_eq!(result.unwrap(), Settlement::Ignored);
        assert_eq!(s.sink.writes(), 1);
    }

    #[tokio::test]
    async fn a_duplicated_notice_waits_while_the_job_is_leased_and_then_finds_it_written() {
        let s = setup(Engine::Jobs);
        s.pipeline.process("scan.pdf").await.1.unwrap();
        // Another worker holds the job (it took the first copy of the notice).
        assert!(s.jobs.lease("job-1", Duration::from_secs(60)).await.unwrap());
        let (_, result) = s.pipeline.resume("job-1", "SUCCEEDED").await;
        let e = result.unwrap_err();
        assert_eq!((e.class(), e.label()), (ErrorClass::Throttled, "job_leased"), "waited out, not counted");
        assert_eq!(s.sink.writes(), 0, "not run twice at once");
        // The holder is done: the lease is given up, the next delivery does the job once.
        s.jobs.unlease("job-1").await.unwrap();
        assert_eq!(s.pipeline.resume("job-1", "SUCCEEDED").await.1.unwrap(), Settlement::Written);
        assert_eq!(s.pipeline.resume("job-1", "SUCCEEDED").await.1.unwrap(), Settlement::Ignored);
        assert_eq!(s.sink.writes(), 1);
        // A resume gives its lease up when its work ends.
        assert!(s.jobs.lease("job-1", Duration::from_secs(60)).await.unwrap());
    }

    #[tokio::test]
    async fn a_failed_write_keeps_the_job_parked_for_the_retry() {
        let s = setup(Engine::Jobs);
        s.pipeline.process("scan.pdf").await.1.unwrap();
        s.sink.fail_next(1);
        let (_, result) = s.pipeline.resume("job-1", "SUCCEEDED").await;
        assert_eq!(result.unwrap_err().class(), ErrorClass::Transient);
        assert_eq!(s.jobs.parked(), ["job-1"], "kept for the notice's next delivery");
        assert_eq!(s.pipeline.resume("job-1", "SUCCEEDED").await.1.unwrap(), Settlement::Written);
    }

    #[tokio::test]
    async fn a_job_that_failed_for_good_is_forgotten_and_says_why() {
        let s = setup(Engine::FailingJobs);
        s.pipeline.process("scan.pdf").await.1.unwrap();
        let (report, result) = s.pipeline.resume("job-1", "FAILED").await;
        let e = result.unwrap_err();
        assert_eq!((e.class(), e.label()), (ErrorClass::Permanent, "ocr_job_failed"));
        assert_eq!(s.jobs.forgotten(), ["job-1"]);
        assert!(matches!(report.outcome, Outcome::Failed { .. }));
        assert_eq!(s.sink.writes(), 0);
    }

    #[tokio::test]
    async fn what_cannot_be_read_fails_where_it_is_found_with_its_own_error() {
        let s = setup(Engine::Jobs);
        let e = s.pipeline.process("notes.txt").await.1.unwrap_err();
        assert!(matches!(e, StageError::Decode(_)), "{e:?}");
        assert_eq!(e.class(), ErrorClass::Permanent);
        let e = s.pipeline.process("missing.pdf").await.1.unwrap_err();
        assert_eq!(e.label(), "not_found");
        assert_eq!(*s.ocr.started.lock().unwrap(), 0, "the engine is never asked");
        assert!(s.jobs.parked().is_empty());
    }

    #[tokio::test]
    async fn findings_without_a_patient_are_held_for_review_before_the_document_is_written() {
        let mut s = setup(Engine::AtOnce);
        s.pipeline.nlp = Arc::new(OneFinding);
        s.review.fail_next(1);
        let (_, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap_err().class(), ErrorClass::Transient, "a review that cannot be stored is retried");
        assert_eq!(s.sink.writes(), 0, "nothing is written before the held findings are stored");

        let (report, result) = s.pipeline.process("scan.pdf").await;
        assert_eq!(result.unwrap(), Settlement::Written);
        let id = report.document_id.clone().unwrap();
        let reviews = s.review.reviews();
        assert_eq!(reviews[&id].held(), 1);
        assert_eq!((report.held, report.review.as_deref()), (1, Some(format!("memory:{id}").as_str())));
        assert!(matches!(report.outcome, Outcome::NeedsReview { .. }));
        let bundle = &s.sink.bundles()[&id];
        assert_eq!(bundle.count("Condition"), 0, "never filed without a patient");
        assert_eq!(bundle.count("DocumentReference"), 1);
    }
}
