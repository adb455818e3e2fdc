//! The end-of-run summary: a table for people, `summary.json` for programs.

use std::path::Path;

use comfy_table::{Cell, ContentArrangement, Table};
use serde_json::json;

use crate::job::{DocReport, Outcome};

fn abbreviate(kind: &str) -> &str {
    match kind {
        "CONDITION" => "cond",
        "MEDICATION" => "med",
        "PROCEDURE" => "proc",
        "TEST" => "test",
        "ALLERGY" => "allergy",
        "PHI" => "phi",
        other => other,
    }
}

pub fn table(reports: &[DocReport]) -> String {
    let mut t = Table::new();
    // Wrap to the terminal's width when there is a real one; reasons can be long.
    if t.width().is_some_and(|w| w >= 100) {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    t.set_header([
        "document",
        "class",
        "pages",
        "read by",
        "OCR conf",
        "entities",
        "FHIR resources",
        "held",
        "time",
        "outcome",
    ]);
    for r in reports {
        let read_by =
            r.read_by.iter().map(|(k, v)| format!("{v} {}", k.replace('_', " "))).collect::<Vec<_>>().join(", ");
        let conf = r.mean_ocr_confidence.map_or("-".to_string(), |c| format!("{c:.1}"));
        let entities = r.entities.iter().map(|(k, v)| format!("{} {v}", abbreviate(k))).collect::<Vec<_>>().join(" ");
        let outcome = match &r.outcome {
            Outcome::Ok => "ok".to_string(),
            Outcome::NeedsReview { reason } => reason.clone(),
            Outcome::Failed { reason, .. } => format!("FAILED: {reason}"),
        };
        t.add_row(vec![
            Cell::new(&r.name),
            Cell::new(r.class.map_or("-", |c| c.as_str())),
            Cell::new(r.pages),
            Cell::new(read_by),
            Cell::new(conf),
            Cell::new(entities),
            Cell::new(r.resource_total()),
            Cell::new(r.held),
            Cell::new(format!("{:.1}s", r.millis as f64 / 1000.0)),
            Cell::new(outcome),
        ]);
    }
    t.to_string()
}

/// Writes `summary.json` (and `dead-letter.ndjson` with every failure) into `dir`.
pub fn write(dir: &Path, reports: &[DocReport], sink: &str, millis: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let failed: Vec<&DocReport> = reports.iter().filter(|r| !r.succeeded()).collect();
    let review = reports.iter().filter(|r| matches!(r.outcome, Outcome::NeedsReview { .. })).count();
    let pages: usize = reports.iter().map(|r| r.pages).sum();
    let resources: usize = reports.iter().map(|r| r.resource_total()).sum();
    let held: usize = reports.iter().map(|r| r.held).sum();
    let summary = json!({
        "paperchart": env!("CARGO_PKG_VERSION"),
        "sink": sink,
        "inputs": reports.len(),
        "succeeded": reports.len() - failed.len(),
        "needs_review": review,
        "failed": failed.len(),
        "pages": pages,
        "resources": resources,
        "held_for_review": held,
        "millis": millis,
        "documents": reports,
        "failures": failed.iter().map(|r| match &r.outcome {
            Outcome::Failed { class, error, reason } => json!({"input": r.uri, "class": class, "error": error, "reason": reason}),
            _ => unreachable!("filtered to failures"),
        }).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&summary)?;
    text.push('\n');
    std::fs::write(dir.join("summary.json"), text)?;
    let mut dl = String::new();
    for f in summary["failures"].as_array().into_iter().flatten() {
        dl.push_str(&f.to_string());
        dl.push('\n');
    }
    std::fs::write(dir.join("dead-letter.ndjson"), dl)
}
