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
    // The reading stage only: no NLP to load, no sink to open.
    let (source, ocr) = app::reader(&cfg)?;
    // Files are read side by side, as many as there are OCR threads (a folder of one-page scans
    // keeps every core busy), and printed in the order they were named: at most twice that many
    // are read ahead of the one being waited for.
    let window = cfg.ocr_threads().max(1);
    let mut all_ok = true;
    let mut reading = std::collections::VecDeque::new();
    let mut inputs = collect_inputs(&paths)?.into_iter();
    loop {
        while reading.len() < 2 * window {
            let Some(path) = inputs.next() else { break };
            let key = path.to_string_lossy().into_owned();
            let (source, ocr) = (source.clone(), ocr.clone());
            reading.push_back(tokio::spawn(async move {
                let document = async {
                    let object = source.fetch(&key).await?;
                    match ocr.start(&object, "read").await? {
                        OcrStart::Done(document) => anyhow::Ok(document),
                        OcrStart::Started(_) => {
                            anyhow::bail!(
                                "the OCR engine answers later; `paperchart read` needs one that answers at once"
                            )
                        }
                    }
                }
                .await;
                (key, document)
            }));
        }
        let Some(next) = reading.pop_front() else { break };
        let (key, document) = next.await?;
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
