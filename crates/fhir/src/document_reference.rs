//! `DocumentReference`: the document itself — the original (url, type, size, SHA-1), its LOINC
//! document type (from its title, else its class), its class as the category, and the extracted
//! text.

use base64::Engine as _;
use paperchart_model::class::SYSTEM_DOCUMENT_CLASS;
use paperchart_model::document::ReadBy;
use paperchart_model::findings::{Code, SYSTEM_LOINC};
use paperchart_model::settings::FhirSettings;
use serde_json::{json, Value};

use crate::codes::{concept, reference};
use crate::MapInput;

pub fn resource(cfg: &FhirSettings, id: &str, input: &MapInput, subject: Option<&str>) -> Value {
    let o = input.object;
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc = input.document;
    let class = input.nlp.document.class;
    let (text_pages, ocr_pages) =
        (doc.pages_read_by(ReadBy::TextLayer), doc.pages.len() - doc.pages_read_by(ReadBy::TextLayer));
    let mut r = json!({
        "resourceType": "DocumentReference",
        "id": id,
        "identifier": [{"system": cfg.document_system, "value": o.identity}],
        "status": "current",
        "docStatus": "final",
        "type": match (&input.nlp.document.doc_type, class.loinc()) {
            (Some(code), _) => concept(std::slice::from_ref(code), &code.display),
            (None, Some((code, display))) => concept(&[Code::new(SYSTEM_LOINC, code, display)], display),
            (None, None) => json!({"text": class.display()}),
        },
        "category": [concept(&[Code::new(SYSTEM_DOCUMENT_CLASS, class.as_str(), class.display())], class.display())],
        "description": format!("{} ({} pages: {text_pages} from the text layer, {ocr_pages} by OCR)", o.name, doc.pages.len()),
        "content": [{"attachment": {
            "contentType": input.kind.mime(),
            "url": o.uri,
            "size": o.size,
            "title": o.name
        }}]
    });
    if let Some(sha1) = o.sha1 {
        r["content"][0]["attachment"]["hash"] = json!(b64.encode(sha1));
    }
    if let Some(s) = subject {
        r["subject"] = reference("Patient", s);
    }
    if let Some(m) = o.modified.as_ref().filter(|_| !cfg.deidentify) {
        r["date"] = json!(m);
    }
    // De-identified: nothing that names or finds the original (its path, file name, digest,
    // where it came from) — the document is known by its id alone.
    if cfg.deidentify {
        r["identifier"][0]["value"] = json!(id);
        r["description"] = json!(format!("Document ({} pages, de-identified)", doc.pages.len()));
        let original = &mut r["content"][0]["attachment"];
        if let Some(a) = original.as_object_mut() {
            a.remove("url");
            a.remove("hash");
        }
        original["title"] = json!(format!("Document {id}"));
    }
    if cfg.include_text {
        r["content"].as_array_mut().expect("array").push(json!({"attachment": {
            "contentType": "text/plain",
            "language": "en",
            "data": b64.encode(input.text.as_bytes()),
            "size": input.text.len(),
            "title": "Extracted text"
        }}));
    }
    if let Some(date) = &input.nlp.document.date {
        r["context"] = json!({"period": {"start": date}});
    }
    r
}
