//! `paperchart nlp extract` and `paperchart nlp assert`: the JSON Lines evaluation contract of
//! `shared/eval/README.md`, over the same engine the pipeline runs.
//!
//! One output line per input line, in order. A line that cannot be read gives an error line
//! naming its id (when it has one) instead of stopping the stream.

use std::io::{BufRead, Write};

use serde_json::{json, Value};

use crate::nlp::text::CharIndex;
use crate::nlp::{Entity, NlpEngine};

fn entity_json(e: &Entity) -> Value {
    json!({
        "type": e.kind.as_str(),
        "subtype": e.subtype,
        "start": e.start,
        "end": e.end,
        "text": e.text,
        "codes": e.codes,
        "assertion": e.assertion.as_str(),
        "attrs": e.attrs,
    })
}

fn error_line(id: &Value, message: impl std::fmt::Display) -> Value {
    json!({"id": id, "error": message.to_string()})
}

/// Answers one `extract` line.
pub fn extract_line(engine: &dyn NlpEngine, line: &str) -> Value {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error_line(&Value::Null, format!("not JSON: {e}")),
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(text) = v.get("text").and_then(Value::as_str) else {
        return error_line(&id, "missing string field \"text\"");
    };
    let mut out = engine.analyze(text);
    out.char_offsets(text);
    json!({"id": id, "entities": out.entities.iter().map(entity_json).collect::<Vec<_>>()})
}

/// Answers one `assert` line.
pub fn assert_line(engine: &dyn NlpEngine, line: &str) -> Value {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error_line(&Value::Null, format!("not JSON: {e}")),
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(text) = v.get("text").and_then(Value::as_str) else {
        return error_line(&id, "missing string field \"text\"");
    };
    let span = v.get("span").and_then(Value::as_array).and_then(|s| Some((s.first()?.as_u64()?, s.get(1)?.as_u64()?)));
    let Some((start, end)) = span else {
        return error_line(&id, "missing field \"span\": [start, end]");
    };
    let chars = text.chars().count() as u64;
    if start > end || end > chars {
        return error_line(&id, format!("span [{start}, {end}] is outside the text ({chars} characters)"));
    }
    let idx = CharIndex::new(text);
    let assertion = engine.assertion(text, idx.byte_of(start as usize), idx.byte_of(end as usize));
    json!({"id": id, "negated": assertion == crate::nlp::Assertion::Absent, "assertion": assertion.as_str()})
}

/// Streams stdin to stdout through `answer`.
pub fn stream(engine: &dyn NlpEngine, answer: fn(&dyn NlpEngine, &str) -> Value) -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", answer(engine, &line))?;
    }
    out.flush()
}
