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

/// `s` as it may reach a terminal: control characters (an ANSI escape in a file's name, a
/// carriage return) shown escaped (`\u{1b}`), never acted on.
pub fn shown(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
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
            Cell::new(shown(&r.name)),
            Cell::new(r.class.map_or("-", |c| c.as_str())),
            Cell::new(r.pages),
            Cell::new(read_by),
            Cell::new(conf),
            Cell::new(entities),
            Cell::new(r.resource_total()),
            Cell::new(r.held),
            Cell::new(format!("{:.1}s", r.millis as f64 / 1000.0)),
            Cell::new(shown(&outcome)),
        ]);
    }
    t.to_string()
}

/// Writes `summary.json` (this run), appends the run's totals to `runs.ndjson` (every run) and
/// brings `dead-letter.ndjson` up to date: this run's failures replace what earlier runs said of
/// the same inputs (an input that now succeeded leaves it), and the failures of inputs this run
/// did not read stay, so no batch's failures are lost to the next.
pub fn write(dir: &Path, reports: &[DocReport], sink: &str, millis: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let failed: Vec<&DocReport> = reports.iter().filter(|r| !r.succeeded()).collect();
    let review = reports.iter().filter(|r| matches!(r.outcome, Outcome::NeedsReview { .. })).count();
    let pages: usize = reports.iter().map(|r| r.pages).sum();
    let resources: usize = reports.iter().map(|r| r.resource_total()).sum();
    let held: usize = reports.iter().map(|r| r.held).sum();
    let at = paperchart_core::timestamps::rfc3339(std::time::SystemTime::now()).unwrap_or_default();
    let failures: Vec<serde_json::Value> = failed
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Failed { class, error, reason } => {
                json!({"input": r.uri, "class": class, "error": error, "reason": reason, "at": at})
            }
            _ => unreachable!("filtered to failures"),
        })
        .collect();
    let totals = json!({
        "paperchart": env!("CARGO_PKG_VERSION"),
        "at": at,
        "sink": sink,
        "inputs": reports.len(),
        "succeeded": reports.len() - failed.len(),
        "needs_review": review,
        "failed": failed.len(),
        "pages": pages,
        "resources": resources,
        "held_for_review": held,
        "millis": millis,
    });
    let mut summary = totals.clone();
    summary["documents"] = json!(reports);
    summary["failures"] = json!(failures);
    let mut text = serde_json::to_string_pretty(&summary)?;
    text.push('\n');
    write_file(&dir.join("summary.json"), text.as_bytes())?;
    append_line(&dir.join("runs.ndjson"), &totals.to_string())?;
    let read: std::collections::HashSet<&str> = reports.iter().map(|r| r.uri.as_str()).collect();
    record_dead_letters(dir, |input| read.contains(input), failures)
}

/// Rewrites `<dir>/dead-letter.ndjson`: the lines of inputs `replaced` says are answered anew
/// go, `failures` are added, every other line stays as it was (one that is not JSON too: it is
/// not this run's to judge).
pub fn record_dead_letters(
    dir: &Path,
    replaced: impl Fn(&str) -> bool,
    failures: Vec<serde_json::Value>,
) -> std::io::Result<()> {
    let path = dir.join("dead-letter.ndjson");
    let before = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut out = String::new();
    for line in before.lines().filter(|l| !l.trim().is_empty()) {
        let input =
            serde_json::from_str::<serde_json::Value>(line).ok().and_then(|v| v["input"].as_str().map(str::to_string));
        if !input.is_some_and(|i| replaced(&i)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    for f in failures {
        out.push_str(&f.to_string());
        out.push('\n');
    }
    write_file(&path, out.as_bytes())
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::dir_sink::write_atomic(path, bytes).map_err(std::io::Error::other)
}

/// Appends one line, synced: a cut line from an earlier crash is ended first.
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::{Read, Seek, Write};
    let mut f = std::fs::OpenOptions::new().create(true).read(true).append(true).open(path)?;
    let len = f.metadata()?.len();
    let mut last = [0u8; 1];
    if len > 0 {
        f.seek(std::io::SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
    }
    let lead = if len > 0 && last[0] != b'\n' { "\n" } else { "" };
    f.write_all(format!("{lead}{line}\n").as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(super::shown("scan.pdf"), "scan.pdf");
        assert_eq!(super::shown("\u{1b}[2Jevil\r.pdf"), "\\u{1b}[2Jevil\\r.pdf");
    }
}
