//! What a queue's messages ask for, and the one handler that carries it out through the pipeline.
//!
//! - `paperchart watch`'s local queue: the body is a file path.
//! - The fleet's intake queue: an S3 event (straight from S3, in an SNS envelope, or from
//!   EventBridge) naming one or more uploaded objects; test events and deletes are nothing to do.
//! - The fleet's completion queue: a Textract notice naming a job the pipeline parked.
//!
//! Every document goes the same way, [`Pipeline::process`] from its key or [`Pipeline::resume`]
//! from its parked job; a message of several documents settles when all of them are done.

use async_trait::async_trait;
use paperchart_core::error::Classified;
use paperchart_core::queue::{Message, Settlement};

use crate::job::StageError;
use crate::pipeline::Pipeline;
use crate::worker::{Done, Handler};

/// What a queue carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    /// The body is a local file path.
    Paths,
    /// S3 upload events (the fleet's intake queue).
    #[cfg(feature = "fleet")]
    S3Events,
    /// Asynchronous OCR completion notices (the fleet's completion queue).
    #[cfg(feature = "fleet")]
    OcrNotices,
}

/// One piece of work a message asks for.
enum Work {
    /// Read the object at this key.
    Document(String),
    /// Carry on the document of this completed job; its status as the notice says.
    #[cfg(feature = "fleet")]
    Resume { job_id: String, status: String },
}

/// Every queue's handler: the message's documents through the pipeline.
pub struct DocumentHandler {
    pub pipeline: Pipeline,
    pub messages: Messages,
}

impl DocumentHandler {
    /// The work a message asks for; `Err` for a body that says nothing the worker can act on,
    /// `Ok(Err(reason))` for a message with nothing to do.
    fn read(&self, body: &str) -> Result<Result<Vec<Work>, String>, StageError> {
        match self.messages {
            Messages::Paths => Ok(Ok(vec![Work::Document(body.to_string())])),
            #[cfg(feature = "fleet")]
            Messages::S3Events => {
                let event = paperchart_aws::events::parse_intake(body)
                    .map_err(|e| crate::job::MessageError { queue: "intake", detail: e.to_string() })?;
                if event.objects.is_empty() {
                    return Ok(Err(event.ignored.join(", ")));
                }
                Ok(Ok(event.objects.iter().map(|o| Work::Document(paperchart_aws::s3::source_key(o))).collect()))
            }
            #[cfg(feature = "fleet")]
            Messages::OcrNotices => {
                let notice = paperchart_aws::events::parse_completion(body)
                    .map_err(|e| crate::job::MessageError { queue: "completion", detail: e.to_string() })?;
                Ok(Ok(vec![Work::Resume { job_id: notice.job_id, status: notice.status }]))
            }
        }
    }
}

#[async_trait]
impl Handler for DocumentHandler {
    async fn handle(&self, message: &Message) -> Result<Done, StageError> {
        let work = match self.read(&message.body) {
            Ok(Ok(work)) => work,
            Ok(Err(reason)) => {
                tracing::info!(event = "message_ignored", msg_id = %message.id, reason = %reason, "nothing to do");
                return Ok(Done { how: Settlement::Ignored, documents: 0 });
            }
            Err(e) => {
                paperchart_core::metrics::stage_error(paperchart_core::metrics::Stage::Message, e.class(), e.label());
                return Err(e);
            }
        };
        let mut results = Vec::with_capacity(work.len());
        for w in work {
            let (key, (_, result)) = match w {
                Work::Document(key) => {
                    let r = self.pipeline.process(&key).await;
                    (key, r)
                }
                #[cfg(feature = "fleet")]
                Work::Resume { job_id, status } => {
                    let r = self.pipeline.resume(&job_id, &status).await;
                    (job_id, r)
                }
            };
            results.push((key, result));
        }
        settle(results)
    }

    async fn flush(&self) -> Result<(), StageError> {
        Ok(self.pipeline.sink.flush().await?)
    }
}

/// Settles a message of several documents: done when every one is (OCR started when any job
/// started, else written when any was, else ignored); otherwise the failure a retry could still
/// mend first, so nothing is dead-lettered that another delivery might finish; and when every
/// failure is permanent, all of them, each with its key.
pub fn settle(results: Vec<(String, Result<Settlement, StageError>)>) -> Result<Done, StageError> {
    let documents = results.len();
    let mut done = Vec::new();
    let mut failed: Vec<(String, StageError)> = Vec::new();
    for (key, r) in results {
        match r {
            Ok(how) => done.push(how),
            Err(e) => failed.push((key, e)),
        }
    }
    if failed.is_empty() {
        let how = [Settlement::OcrStarted, Settlement::Written]
            .into_iter()
            .find(|h| done.contains(h))
            .unwrap_or(Settlement::Ignored);
        return Ok(Done { how, documents });
    }
    if failed.len() == 1 {
        return Err(failed.pop().expect("one").1);
    }
    if let Some(i) = failed.iter().position(|(_, e)| !e.class().is_permanent()) {
        return Err(failed.swap_remove(i).1);
    }
    Err(StageError::Several(failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_core::error::ErrorClass;
    use paperchart_model::file::DecodeError;

    #[test]
    fn several_documents_settle_together() {
        let ok = |k: &str, how| (k.to_string(), Ok::<_, StageError>(how));
        assert_eq!(settle(vec![ok("a", Settlement::Ignored)]).unwrap().how, Settlement::Ignored);
        let started = settle(vec![ok("a", Settlement::Ignored), ok("b", Settlement::OcrStarted)]).unwrap();
        assert_eq!((started.how, started.documents), (Settlement::OcrStarted, 2));
        assert_eq!(
            settle(vec![ok("a", Settlement::Written), ok("b", Settlement::Written)]).unwrap().how,
            Settlement::Written
        );
        let permanent = |k: &str| (k.to_string(), Err(StageError::from(DecodeError::Empty)));
        let transient = |k: &str| (k.to_string(), Err(StageError::Internal("net".into())));
        let e = settle(vec![ok("a", Settlement::Written), permanent("b"), transient("c")]).unwrap_err();
        assert_eq!(e.class(), ErrorClass::Transient, "retry before giving up on any document");
        let e = settle(vec![permanent("a"), permanent("b")]).unwrap_err();
        assert_eq!((e.class(), e.label()), (ErrorClass::Permanent, "empty_file"));
        assert!(e.to_string().contains("a: empty file") && e.to_string().contains("b: empty file"), "{e}");
    }
}
