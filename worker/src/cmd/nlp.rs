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
    let Some(span) = v.get("span") else {
        return error_line(&id, "missing field \"span\": [start, end]");
    };
    let pair = span.as_array().filter(|s| s.len() == 2).and_then(|s| Some((s[0].as_u64()?, s[1].as_u64()?)));
    let Some((start, end)) = pair else {
        return error_line(
            &id,
            format!("field \"span\" must be [start, end], two whole numbers 0 or more, not {span}"),
        );
    };
    let chars = text.chars().count() as u64;
    if start > end || end > chars {
        return error_line(&id, format!("span [{start}, {end}] is outside the text ({chars} characters)"));
    }
    if start == end {
        return error_line(&id, format!("span [{start}, {end}] is empty: it names no concept"));
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
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    stream_lines(engine, answer, stdin, out)
}

/// Answers every line of `input`; a line that is not UTF-8 gets an error line (with its id when
/// it can be read) and the stream goes on.
fn stream_lines(
    engine: &dyn NlpEngine,
    answer: fn(&dyn NlpEngine, &str) -> String,
    mut input: impl BufRead,
    mut out: impl Write,
) -> std::io::Result<()> {
    let mut raw = Vec::new();
    let mut number = 0usize;
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        number += 1;
        while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            raw.pop();
        }
        let answered = match std::str::from_utf8(&raw) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => answer(engine, line),
            Err(e) => {
                let id = salvage_id(&String::from_utf8_lossy(&raw));
                let message = format!("line {number} is not UTF-8 (invalid byte at offset {})", e.valid_up_to());
                error_line(&id, message).to_string()
            }
        };
        writeln!(out, "{answered}")?;
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
    fn spans_that_name_nothing_are_refused_with_what_is_wrong() {
        for span in ["[-1, 3]", "[0.5, 3]", "[1]", "[1, 2, 3]", "\"1-3\""] {
            let line = format!(r#"{{"id":"s","text":"no fever","span":{span}}}"#);
            let out = assert_line(engine(), &line);
            let error = out["error"].as_str().unwrap_or_else(|| panic!("{span}: {out}"));
            assert!(error.contains("two whole numbers"), "{span}: {error}");
        }
        let out = assert_line(engine(), r#"{"id":"e","text":"no fever","span":[3,3]}"#);
        assert!(out["error"].as_str().unwrap().contains("empty"), "{out}");
        assert_eq!(out.get("assertion"), None, "an empty span gets no assertion");
    }

    #[test]
    fn a_line_that_is_not_utf8_gets_an_error_line_and_the_stream_goes_on() {
        let mut input = Vec::new();
        input.extend_from_slice(br#"{"id":"a","text":"Denies chest pain."}"#);
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(br#"{"id":"b","text":"caf"#);
        input.extend_from_slice(b"\xff\xfe\"}\n\n");
        input.extend_from_slice(br#"{"id":"c","text":"No fever."}"#);
        let mut out = Vec::new();
        stream_lines(engine(), extract_line_text, std::io::Cursor::new(input), &mut out).unwrap();
        let lines: Vec<Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3, "one answer per non-blank line: {lines:?}");
        assert_eq!(lines[0]["id"], "a");
        assert!(lines[0]["entities"].as_array().is_some_and(|e| !e.is_empty()));
        assert_eq!(lines[1]["id"], "b");
        assert_eq!(lines[1]["error"], "line 2 is not UTF-8 (invalid byte at offset 21)");
        assert_eq!(lines[2]["id"], "c");
        assert_eq!(lines[2]["entities"][0]["assertion"], "absent");
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
