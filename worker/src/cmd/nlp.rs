//! `paperchart nlp extract` and `paperchart nlp assert`: the JSON Lines evaluation contract of
//! `shared/eval/README.md`, over the same engine the pipeline runs.
//!
//! One output line per input line, in order. A line that cannot be read gives an error line
//! naming its id (when it has one) instead of stopping the stream.

use std::io::{BufRead, Write};

use serde_json::{json, Value};

use paperchart_model::findings::{Assertion, Entity, NlpEngine};
use paperchart_nlp::text::CharIndex;

fn error_line(id: &Value, message: impl std::fmt::Display) -> Value {
    json!({"id": id, "error": message.to_string()})
}

/// Reads an input line: the parsed object, its id and its text, or the error line to answer.
fn read_line(line: &str) -> Result<(Value, Value, String), Value> {
    let v: Value = serde_json::from_str(line).map_err(|e| error_line(&salvage_id(line), format!("not JSON: {e}")))?;
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(text) = v.get("text").and_then(Value::as_str).map(str::to_string) else {
        return Err(error_line(&id, "missing string field \"text\""));
    };
    Ok((v, id, text))
}

/// The id of a line that is not valid JSON, when its `"id"` field can still be read (a line cut
/// short, a bad escape later on), so the error line names it; else null.
fn salvage_id(line: &str) -> Value {
    static ID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = ID.get_or_init(|| regex::Regex::new(r#""id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)"#).expect("id pattern"));
    re.captures(line).and_then(|c| serde_json::from_str(c.get(1)?.as_str()).ok()).unwrap_or(Value::Null)
}

/// One `extract` answer as it is written: the entities serialise themselves in the contract's
/// shape (checked against [`entity_json`] by the tests), without an intermediate JSON tree.
#[derive(serde::Serialize)]
struct Extracted<'a> {
    id: &'a Value,
    entities: &'a [Entity],
}

/// Answers one `extract` line, as text.
pub fn extract_line_text(engine: &dyn NlpEngine, line: &str) -> String {
    let (_, id, text) = match read_line(line) {
        Ok(parts) => parts,
        Err(answer) => return answer.to_string(),
    };
    let mut out = engine.analyze(&text);
    paperchart_nlp::char_offsets(&mut out, &text);
    serde_json::to_string(&Extracted { id: &id, entities: &out.entities }).expect("entities serialise")
}

/// Answers one `extract` line.
pub fn extract_line(engine: &dyn NlpEngine, line: &str) -> Value {
    serde_json::from_str(&extract_line_text(engine, line)).expect("an answer is JSON")
}

/// Answers one `assert` line.
pub fn assert_line(engine: &dyn NlpEngine, line: &str) -> Value {
    let (v, id, text) = match read_line(line) {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let text = text.as_str();
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
    json!({"id": id, "negated": assertion == Assertion::Absent, "assertion": assertion.as_str()})
}

/// Answers one `assert` line, as text.
pub fn assert_line_text(engine: &dyn NlpEngine, line: &str) -> String {
    assert_line(engine, line).to_string()
}

/// Streams stdin to stdout through `answer`.
pub fn stream(engine: &dyn NlpEngine, answer: fn(&dyn NlpEngine, &str) -> String) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::findings::EntityType;
    use paperchart_nlp::Builtin;
    use std::sync::OnceLock;

    /// The contract's entity shape, written out field by field (shared/eval/README.md).
    fn entity_json(e: &Entity) -> Value {
        let mut v = json!({
            "type": e.kind.as_str(),
            "subtype": e.subtype,
            "start": e.start,
            "end": e.end,
            "text": e.text,
            "codes": e.codes,
            "assertion": e.assertion.as_str(),
            "attrs": e.attrs,
        });
        // Every finding but PHI says how sure it is (0..1).
        if let Some(c) = e.confidence {
            v["confidence"] = json!(c);
        }
        v
    }

    fn engine() -> &'static Builtin {
        static E: OnceLock<Builtin> = OnceLock::new();
        E.get_or_init(|| Builtin::new(&Default::default()).unwrap())
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let line = json!({"id": "n1", "text": "Café patient — denies chest pain."}).to_string();
        let out = extract_line(engine(), &line);
        let e = out["entities"].as_array().unwrap().iter().find(|e| e["text"] == "chest pain").unwrap();
        let text: Vec<char> = "Café patient — denies chest pain.".chars().collect();
        let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(text[s..t].iter().collect::<String>(), "chest pain");
        assert_eq!(e["assertion"], "absent");
        assert_eq!(e["type"], "CONDITION");
    }

    #[test]
    fn odd_lines_get_error_lines_not_crashes() {
        assert_eq!(extract_line(engine(), r#"{"id":"e","text":""}"#), json!({"id": "e", "entities": []}));
        let bad = extract_line(engine(), "{not json");
        assert!(bad["error"].as_str().unwrap().starts_with("not JSON"));
        assert_eq!(bad["id"], Value::Null);
        // Cut short: the id is still named.
        let cut = extract_line(engine(), r#"{"id": "r\"7", "text": "No fever and"#);
        assert_eq!(cut["id"], "r\"7");
        assert!(cut["error"].as_str().unwrap().starts_with("not JSON"));
        assert_eq!(assert_line(engine(), r#"{"id": 12, "text": "x", "span": [0,"#)["id"], 12);
        let missing = extract_line(engine(), r#"{"id":7}"#);
        assert_eq!(
            (missing["id"].clone(), missing["error"].as_str().unwrap()),
            (json!(7), "missing string field \"text\"")
        );
        let span = assert_line(engine(), r#"{"id":"s","text":"abc","span":[1,9]}"#);
        assert!(span["error"].as_str().unwrap().contains("outside the text"));
        let long = "No fever. ".repeat(20_000);
        let out = extract_line(engine(), &json!({"id": "long", "text": long}).to_string());
        assert_eq!(out["entities"].as_array().unwrap().len(), 20_000);
    }

    #[test]
    fn entities_serialise_in_the_contract_shape() {
        let text = "Medications: lisinopril 10 mg PO daily. BP 128/82. Denies chest pain. Mother had asthma.";
        let mut out = engine().analyze(text);
        paperchart_nlp::char_offsets(&mut out, text);
        assert!(out.entities.len() >= 4);
        assert!(out.entities.iter().all(|e| e.confidence.is_some() == (e.kind != EntityType::Phi)));
        for e in &out.entities {
            assert_eq!(serde_json::to_value(e).unwrap(), entity_json(e));
        }
    }

    #[test]
    fn assert_spans_count_characters() {
        // "Ångström-level" precedes the concept: character, not byte, offsets.
        let text = "Ångström-level résumé: patient denies CHEST PAIN ✓.";
        let start = text.chars().position(|c| c == 'C').unwrap();
        let line = json!({"id": "u", "text": text, "span": [start, start + 10]}).to_string();
        assert_eq!(assert_line(engine(), &line), json!({"id": "u", "negated": true, "assertion": "absent"}));
    }

    #[test]
    fn assert_reads_the_given_span() {
        let out = assert_line(engine(), r#"{"id":"a","text":"The patient DENIES CHEST PAIN today.","span":[19,29]}"#);
        assert_eq!(out, json!({"id": "a", "negated": true, "assertion": "absent"}));
        let out = assert_line(engine(), r#"{"id":"b","text":"Mother had BREAST CANCER.","span":[11,24]}"#);
        assert_eq!(out["assertion"], "family");
        assert_eq!(out["negated"], false);
    }
}
