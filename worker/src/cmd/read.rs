//! `paperchart read`: what the reading stage makes of files — the document model (pages, lines,
//! words with their boxes and confidence, key/value fields, tables, check boxes) as JSON Lines,
//! one line per file, and the document class. For checking a layout rule or a saved Textract
//! response by eye; it prints document text, so it writes to standard output only, never to logs.

use std::path::PathBuf;

use paperchart_core::config::Config;
use paperchart_core::ocr::OcrStart;
use serde_json::json;

use crate::app;
use crate::local::collect_inputs;

pub async fn read(cfg: Config, paths: Vec<PathBuf>) -> anyhow::Result<bool> {
    let pipeline = app::pipeline(&cfg).await?;
    let mut all_ok = true;
    for path in collect_inputs(&paths)? {
        let key = path.to_string_lossy().into_owned();
        let document = async {
            let object = pipeline.source.fetch(&key).await?;
            match pipeline.ocr.start(&object, "read").await? {
                OcrStart::Done(document) => anyhow::Ok(document),
                OcrStart::Started(_) => {
                    anyhow::bail!("the OCR engine answers later; `paperchart read` needs one that answers at once")
                }
            }
        }
        .await;
        let line = match document {
            Ok(document) => {
                let class = paperchart_nlp::classify::classify(&document.text(), Some(&document));
                json!({"input": key, "class": class, "document": document})
            }
            Err(e) => {
                all_ok = false;
                json!({"input": key, "error": format!("{e:#}")})
            }
        };
        println!("{line}");
    }
    Ok(all_ok)
}
