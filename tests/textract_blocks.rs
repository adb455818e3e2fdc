//! paperchart's conversion of Textract responses against AWS's own parser
//! (amazon-textract-textractor): for the real responses shipped with textract2page 0.3.1 and a
//! form with key/value pairs and a check box, both must find the same lines, key/value pairs and
//! table cells.

use std::path::{Path, PathBuf};
use std::process::Command;

use paperchart_testkit::*;
use serde_json::{json, Value};

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A cell's text; with check boxes, its words and boxes as a sorted set (textractor writes a
/// cell's boxes after its words, paperchart where they stand: "[X] Yes [ ] No").
fn cell_text(s: &str) -> String {
    let s = norm(s);
    if !s.contains("[X]") && !s.contains("[ ]") {
        return s;
    }
    let spaced = s.replace("[ ]", "[_]");
    let mut tokens: Vec<String> = spaced.split_whitespace().map(|t| t.replace("[_]", "[ ]")).collect();
    tokens.sort();
    tokens.join(" ")
}

fn ours(path: &Path) -> Value {
    let blocks = paperchart_aws::blocks::parse_response(&std::fs::read_to_string(path).unwrap()).unwrap();
    let doc = paperchart_aws::blocks::to_document(&blocks);
    let mut lines: Vec<(u32, String)> =
        doc.pages.iter().flat_map(|p| p.lines.iter().map(move |l| (p.number, norm(&l.text)))).collect();
    lines.sort();
    let mut kvs: Vec<(String, String)> = doc
        .pages
        .iter()
        .flat_map(|p| p.key_values.iter().map(|kv| (norm(&kv.key.text), norm(&kv.value.text))))
        .collect();
    kvs.sort();
    let mut cells: Vec<(usize, u32, u32, String)> = doc
        .pages
        .iter()
        .flat_map(|p| p.tables.iter())
        .enumerate()
        .flat_map(|(i, t)| t.cells.iter().map(move |c| (i, c.row, c.col, cell_text(&c.content.text))))
        .collect();
    cells.sort();
    json!({"lines": lines, "key_values": kvs, "cells": cells})
}

fn reference(path: &Path) -> Value {
    let python = root().join(".cache/py-tools/bin/python");
    assert!(python.exists(), "the Python test tools are not installed: run `make py-tools` (make test does)");
    let out =
        Command::new(python).arg(root().join("scripts/harness/textract_reference.py")).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let mut v = vec![
        root().join("tests/fixtures/textract/form.json"),
        root().join("tests/fixtures/textract/patient_intake_form_sample.json"),
    ];
    let dir = root().join(".cache/textract2page");
    assert!(
        dir.exists(),
        "textract2page's responses are not downloaded: run `make textract-fixtures` (make test does)"
    );
    let mut real: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    real.sort();
    assert_eq!(real.len(), 8, "textract2page 0.3.1 ships eight responses");
    v.extend(real);
    v
}

#[test]
fn lines_key_values_and_cells_match_amazons_parser() {
    let mut mismatches = Vec::new();
    for f in fixtures() {
        let (a, b) = (ours(&f), reference(&f));
        for part in ["lines", "key_values", "cells"] {
            if a[part] != b[part] {
                let (x, y) = (a[part].as_array().unwrap(), b[part].as_array().unwrap());
                let only_ours: Vec<_> = x.iter().filter(|v| !y.contains(v)).take(3).collect();
                let only_ref: Vec<_> = y.iter().filter(|v| !x.contains(v)).take(3).collect();
                mismatches.push(format!(
                    "{} {part}: {} vs {}; only ours {only_ours:?}; only textractor {only_ref:?}",
                    f.display(),
                    x.len(),
                    y.len()
                ));
            }
        }
        assert!(!a["lines"].as_array().unwrap().is_empty(), "{}", f.display());
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
