//! Textract blocks → the shared document model, without loss.
//!
//! PAGE → [`Page`] (its CHILD relationships give the lines in reading order), LINE → [`Line`],
//! WORD → [`Word`], KEY_VALUE_SET (KEY with its VALUE) → [`KeyValue`], TABLE / CELL →
//! [`Table`] / [`Cell`] (with COLUMN_HEADER as `header`), SELECTION_ELEMENT → [`Field::selected`]
//! and `[X]`/`[ ]` in the text. Geometry and confidence are Textract's own (page-relative boxes,
//! 0..100). The same conversion serves the fleet (the SDK's typed blocks, converted to [`TBlock`]
//! in `paperchart-aws`) and saved Textract JSON (`paperchart run` reads `<file>.textract.json`
//! beside a file; the test fixtures), so both read a response alike.

use std::collections::HashMap;

use serde::Deserialize;

use crate::document::{BBox, Cell, Document, Field, KeyValue, Line, Page, ReadBy, Table, Word};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TBox {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TGeometry {
    pub bounding_box: Option<TBox>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TRelationship {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub ids: Vec<String>,
}

/// A Textract block, as the JSON API and the SDK both describe it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TBlock {
    pub block_type: String,
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub confidence: Option<f32>,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub geometry: Option<TGeometry>,
    #[serde(default)]
    pub relationships: Vec<TRelationship>,
    #[serde(default)]
    pub entity_types: Vec<String>,
    #[serde(default)]
    pub row_index: Option<u32>,
    #[serde(default)]
    pub column_index: Option<u32>,
    #[serde(default)]
    pub row_span: Option<u32>,
    #[serde(default)]
    pub column_span: Option<u32>,
    #[serde(default)]
    pub selection_status: Option<String>,
}

impl TBlock {
    fn bbox(&self) -> Option<BBox> {
        self.geometry.as_ref()?.bounding_box.as_ref().map(|b| BBox {
            left: b.left,
            top: b.top,
            width: b.width,
            height: b.height,
        })
    }

    fn related<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.relationships.iter().filter(move |r| r.kind == kind).flat_map(|r| r.ids.iter())
    }

    fn confidence(&self) -> f32 {
        self.confidence.unwrap_or(0.0).clamp(0.0, 100.0)
    }
}

/// The block JSON of a Textract response (`{"Blocks": [...]}`).
pub fn parse_response(json: &str) -> Result<Vec<TBlock>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Response {
        blocks: Vec<TBlock>,
    }
    Ok(serde_json::from_str::<Response>(json)?.blocks)
}

struct Index<'a> {
    by_id: HashMap<&'a str, &'a TBlock>,
}

impl<'a> Index<'a> {
    fn get(&self, id: &str) -> Option<&'a TBlock> {
        self.by_id.get(id).copied()
    }

    /// The text of a block's WORD and SELECTION_ELEMENT children, and whether a selection among
    /// them is ticked.
    fn child_text(&self, b: &TBlock) -> (String, Option<bool>, f32) {
        let mut words = Vec::new();
        let mut selected = None;
        let mut conf = Vec::new();
        for id in b.related("CHILD") {
            let Some(c) = self.get(id) else { continue };
            match c.block_type.as_str() {
                "WORD" => {
                    words.push(c.text.clone().unwrap_or_default());
                    conf.push(c.confidence());
                }
                "SELECTION_ELEMENT" => {
                    let on = c.selection_status.as_deref() == Some("SELECTED");
                    selected = Some(on);
                    words.push(if on { "[X]".into() } else { "[ ]".into() });
                    conf.push(c.confidence());
                }
                _ => {}
            }
        }
        let mean = if conf.is_empty() { b.confidence() } else { conf.iter().sum::<f32>() / conf.len() as f32 };
        (words.join(" "), selected, mean)
    }

    fn field(&self, b: &TBlock) -> Field {
        let (text, selected, confidence) = self.child_text(b);
        Field { text, bbox: b.bbox(), confidence, selected }
    }
}

/// Builds the document from every block of a job (all result pages concatenated).
pub fn to_document(blocks: &[TBlock]) -> Document {
    let index = Index { by_id: blocks.iter().map(|b| (b.id.as_str(), b)).collect() };
    let mut pages: Vec<Page> = Vec::new();
    for (n, page) in blocks.iter().filter(|b| b.block_type == "PAGE").enumerate() {
        let number = page.page.unwrap_or(n as u32 + 1);
        let mut lines = Vec::new();
        let mut key_values = Vec::new();
        let mut tables = Vec::new();
        for id in page.related("CHILD") {
            let Some(b) = index.get(id) else { continue };
            match b.block_type.as_str() {
                "LINE" => {
                    let words: Vec<Word> = b
                        .related("CHILD")
                        .filter_map(|w| index.get(w))
                        .filter(|w| w.block_type == "WORD")
                        .map(|w| Word {
                            text: w.text.clone().unwrap_or_default(),
                            bbox: w.bbox(),
                            confidence: w.confidence(),
                        })
                        .collect();
                    lines.push(Line {
                        text: b.text.clone().unwrap_or_default(),
                        bbox: b.bbox(),
                        confidence: b.confidence(),
                        words,
                    });
                }
                "KEY_VALUE_SET" if b.entity_types.iter().any(|e| e == "KEY") => {
                    let key = index.field(b);
                    let value = b
                        .related("VALUE")
                        .filter_map(|v| index.get(v))
                        .map(|v| index.field(v))
                        .next()
                        .unwrap_or(Field { text: String::new(), bbox: None, confidence: 0.0, selected: None });
                    key_values.push(KeyValue { key, value });
                }
                "TABLE" => {
                    let cells = b
                        .related("CHILD")
                        .filter_map(|c| index.get(c))
                        .filter(|c| c.block_type == "CELL")
                        .map(|c| Cell {
                            row: c.row_index.unwrap_or(0),
                            col: c.column_index.unwrap_or(0),
                            row_span: c.row_span.unwrap_or(1),
                            col_span: c.column_span.unwrap_or(1),
                            content: index.field(c),
                            header: c.entity_types.iter().any(|e| e == "COLUMN_HEADER"),
                        })
                        .collect();
                    tables.push(Table { bbox: b.bbox(), cells });
                }
                _ => {}
            }
        }
        pages.push(Page { number, read_by: ReadBy::Textract, lines, key_values, tables, text_layer_rejected: false });
    }
    pages.sort_by_key(|p| p.number);
    Document { pages, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small analysis response in the documented shape: one line, a key/value pair with a
    /// check box, and a 2x2 table with a header row.
    const FORM: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/textract/form.json"));

    #[test]
    fn converts_lines_forms_and_tables() {
        let doc = to_document(&parse_response(FORM).unwrap());
        assert_eq!(doc.pages.len(), 1);
        let p = &doc.pages[0];
        assert_eq!(p.read_by, ReadBy::Textract);
        assert_eq!(
            p.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["Patient Name: Jane Doe", "Smoker", "Test Result", "Hemoglobin A1c 7.2", "Date of Birth: 03/07/1952"]
        );
        assert_eq!(p.lines[0].words.len(), 4);
        assert!((p.lines[0].words[0].bbox.unwrap().left - 0.1).abs() < 1e-6);
        assert_eq!(p.key_values.len(), 2);
        assert_eq!(
            (p.key_values[1].key.text.as_str(), p.key_values[1].value.text.as_str()),
            ("Date of Birth:", "03/07/1952")
        );
        let kv = &p.key_values[0];
        assert_eq!((kv.key.text.as_str(), kv.value.text.as_str(), kv.value.selected), ("Smoker", "[X]", Some(true)));
        let t = &p.tables[0];
        assert_eq!((t.rows(), t.cols()), (2, 2));
        assert!(t.cells[0].header && !t.cells[2].header);
        assert_eq!(t.cells[2].content.text, "Hemoglobin A1c");
        assert!(doc.text().starts_with("Patient Name: Jane Doe\nSmoker\n"));
    }
}
