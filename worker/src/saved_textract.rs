//! Saved Textract responses, read instead of OCR: a file `scan.png` with `scan.png.textract.json`
//! beside it is read from that response (the `GetDocumentAnalysis` JSON, `{"Blocks": [...]}`),
//! through the converter the fleet uses (`paperchart_model::textract`), so anyone can check the
//! Textract side — key/value fields, tables, check boxes — without AWS. Files without a saved
//! response go to the wrapped engine (Tesseract).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use paperchart_core::jobs::PendingJob;
use paperchart_core::ocr::{OcrEngine, OcrError, OcrPoll, OcrStart};
use paperchart_core::source::{path_of_file_uri, SourceObject};
use paperchart_model::textract::TResponse;

/// The suffix of a saved response: `<file name>.textract.json`.
pub const SUFFIX: &str = ".textract.json";

pub struct SavedTextract {
    pub inner: Arc<dyn OcrEngine>,
}

/// Where a local file's saved response would be.
pub fn sidecar(object: &SourceObject) -> Option<PathBuf> {
    let path = path_of_file_uri(&object.uri)?;
    let mut name = path.file_name()?.to_os_string();
    name.push(SUFFIX);
    Some(path.with_file_name(name))
}

fn refused(code: &str, message: String) -> OcrError {
    OcrError::Refused { api: "saved Textract response", code: code.to_string(), message }
}

#[async_trait]
impl OcrEngine for SavedTextract {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn start(&self, object: &SourceObject, tag: &str) -> Result<OcrStart, OcrError> {
        let Some(path) = sidecar(object).filter(|p| p.is_file()) else {
            return self.inner.start(object, tag).await;
        };
        let json = tokio::fs::read_to_string(&path).await.map_err(|e| refused("unreadable", e.to_string()))?;
        // The parser's message names a line and column, never the response's text.
        let response: TResponse = serde_json::from_str(&json).map_err(|e| refused("invalid_json", e.to_string()))?;
        let doc = response.document();
        if doc.pages.is_empty() {
            return Err(refused("no_pages", "the saved response holds no PAGE block".into()));
        }
        Ok(OcrStart::Done(doc))
    }

    async fn fetch(&self, job: &PendingJob) -> Result<OcrPoll, OcrError> {
        self.inner.fetch(job).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_core::source::file_uri;
    use paperchart_model::document::ReadBy;

    struct Never;

    #[async_trait]
    impl OcrEngine for Never {
        fn name(&self) -> &'static str {
            "never"
        }
        async fn start(&self, _: &SourceObject, _: &str) -> Result<OcrStart, OcrError> {
            Err(OcrError::EngineFailed { engine: "never", detail: "asked".into() })
        }
        async fn fetch(&self, job: &PendingJob) -> Result<OcrPoll, OcrError> {
            Err(OcrError::UnknownJob { job_id: job.job.id.clone() })
        }
    }

    fn object(path: &std::path::Path) -> SourceObject {
        SourceObject::from_bytes(file_uri(path), "scan.png".into(), b"png".to_vec(), None)
    }

    #[tokio::test]
    async fn a_saved_response_is_read_instead_of_ocr() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("intake form.png");
        std::fs::write(&scan, b"png").unwrap();
        let engine = SavedTextract { inner: Arc::new(Never) };
        assert!(engine.start(&object(&scan), "t").await.is_err(), "no response: the wrapped engine reads it");

        let form = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/textract/form.json");
        std::fs::copy(form, dir.path().join("intake form.png.textract.json")).unwrap();
        let Ok(OcrStart::Done(doc)) = engine.start(&object(&scan), "t").await else { panic!("read from the response") };
        assert_eq!(doc.pages[0].read_by, ReadBy::Textract);
        assert_eq!(doc.pages[0].key_values.len(), 2);

        std::fs::write(dir.path().join("intake form.png.textract.json"), b"{\"Blocks\": 7}").unwrap();
        let Err(e) = engine.start(&object(&scan), "t").await else { panic!("a bad response is refused") };
        assert!(e.to_string().contains("invalid_json"), "{e}");
    }
}
