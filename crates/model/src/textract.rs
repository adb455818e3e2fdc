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

use serde::{Deserialize, Serialize};

use crate::document::{BBox, Cell, Document, Field, KeyValue, Line, Page, ReadBy, Table, Word};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TBox {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TGeometry {
    pub bounding_box: Option<TBox>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TRelationship {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub ids: Vec<String>,
}

/// A Textract block, as the JSON API and the SDK both describe it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TBlock {
    pub block_type: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<TGeometry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<TRelationship>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_span: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_span: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_status: Option<String>,
    /// A WORD's `TextType`: `PRINTED` or `HANDWRITING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_type: Option<String>,
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
    Ok(serde_json::from_str::<TResponse>(json)?.blocks)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TMetadata {
    #[serde(default)]
    pub pages: u32,
}

/// A warning of a PARTIAL_SUCCESS job: its error code and the pages it concerns.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TWarning {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub pages: Vec<u32>,
}

/// A whole GetDocumentAnalysis answer, its pages of results joined: what the fleet keeps of a
/// job (item "saved responses"), and what `paperchart run` reads as `<file>.textract.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_metadata: Option<TMetadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<TWarning>,
    pub blocks: Vec<TBlock>,
}

impl TResponse {
    /// The document model, with the pages Textract counted but gave no blocks for as missing
    /// and its warnings as `"<code> (pages 2,3)"`.
    pub fn document(&self) -> Document {
        let mut document = to_document(&self.blocks);
        let counted = self.document_metadata.as_ref().map_or(0, |m| m.pages);
        let present: Vec<u32> = document.pages.iter().map(|p| p.number).collect();
        document.missing_pages = (1..=counted).filter(|n| !present.contains(n)).collect();
        document.warnings = self
            .warnings
            .iter()
            .map(|w| {
                let pages: Vec<String> = w.pages.iter().map(u32::to_string).collect();
                let code = if w.error_code.is_empty() { "warning" } else { w.error_code.as_str() };
                format!("{code} (pages {})", pages.join(","))
            })
            .collect();
        document
    }
}

struct Index<'a> {
    by_id: HashMap<&'a str, &'a TBlock>,
}

impl<'a> Index<'a> {
    fn get(&self, id: &str) -> Option<&'a TBlock> {
        self.by_id.get(id).copied()
    }

    /// A TABLE block's cells. A MERGED_CELL (a header over two columns, a value over two rows)
    /// becomes one cell at its top-left with its spans and its cells' words in reading order; the
    /// cells it covers are not repeated.
    fn table(&self, b: &TBlock) -> Table {
        let cell = |c: &TBlock, content: Field| Cell {
            row: c.row_index.unwrap_or(0),
            col: c.column_index.unwrap_or(0),
            row_span: c.row_span.unwrap_or(1).max(1),
            col_span: c.column_span.unwrap_or(1).max(1),
            content,
            header: c.entity_types.iter().any(|e| e == "COLUMN_HEADER"),
        };
        let mut covered: Vec<&str> = Vec::new();
        let mut cells: Vec<Cell> = Vec::new();
        for m in b.related("MERGED_CELL").filter_map(|id| self.get(id)).filter(|m| m.block_type == "MERGED_CELL") {
            let mut parts: Vec<&TBlock> = m.related("CHILD").filter_map(|id| self.get(id)).collect();
            parts.sort_by_key(|c| (c.row_index, c.column_index));
            covered.extend(parts.iter().map(|c| c.id.as_str()));
            let fields: Vec<Field> = parts.iter().map(|c| self.field(c)).collect();
            let text = fields.iter().map(|f| f.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ");
            let selected = fields.iter().find_map(|f| f.selected);
            let confidence = if fields.is_empty() {
                m.confidence()
            } else {
                fields.iter().map(|f| f.confidence).sum::<f32>() / fields.len() as f32
            };
            let mut merged = cell(m, Field { text, bbox: m.bbox(), confidence, selected });
            merged.header = merged.header || parts.iter().any(|c| c.entity_types.iter().any(|e| e == "COLUMN_HEADER"));
            cells.push(merged);
        }
        cells.extend(
            b.related("CHILD")
                .filter_map(|c| self.get(c))
                .filter(|c| c.block_type == "CELL" && !covered.contains(&c.id.as_str()))
                .map(|c| cell(c, self.field(c))),
        );
        cells.sort_by_key(|c| (c.row, c.col));
        Table { bbox: b.bbox(), cells, continues: false }
    }

    /// The text of a block's WORD and SELECTION_ELEMENT children, and whether a selection among
    /// them is ticked.
    fn child_text(&self, b: &TBlock) -> (String, Option<bool>, f32) {
        let mut words = Vec::new();
        let mut selected = None;
        let mut conf = Vec::new();
        // With check boxes among them, children in the order they stand on the page, not the
        // order Textract lists them: a cell's boxes come before its words ("[ ] [X] Yes No"),
        // and which option a box ticks is where it stands ("[X] Yes [ ] No"). Words alone keep
        // Textract's reading order (right on a page scanned upside down, whose boxes are not).
        let mut children: Vec<&TBlock> = b.related("CHILD").filter_map(|id| self.get(id)).collect();
        let boxes = children.iter().any(|c| c.block_type == "SELECTION_ELEMENT");
        if boxes && children.iter().all(|c| c.bbox().is_some()) {
            let centre = |c: &TBlock| c.bbox().map_or(0.0, |b| b.top + b.height / 2.0);
            let height = children.iter().filter_map(|c| c.bbox()).map(|b| b.height).fold(0.0f32, f32::max);
            children.sort_by(|x, y| centre(x).total_cmp(&centre(y)));
            // Lines: children whose centres stand within half a height of the line's first.
            let mut lines: Vec<Vec<&TBlock>> = Vec::new();
            for c in children {
                match lines.last_mut() {
                    Some(line) if centre(c) - centre(line[0]) <= height / 2.0 => line.push(c),
                    _ => lines.push(vec![c]),
                }
            }
            for line in &mut lines {
                line.sort_by(|x, y| x.bbox().map_or(0.0, |b| b.left).total_cmp(&y.bbox().map_or(0.0, |b| b.left)));
            }
            children = lines.into_iter().flatten().collect();
        }
        for c in children {
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
                            handwritten: w.text_type.as_deref() == Some("HANDWRITING"),
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
                "TABLE" => tables.push(index.table(b)),
                _ => {}
            }
        }
        pages.push(Page {
            number,
            read_by: ReadBy::Textract,
            lines,
            key_values,
            tables,
            text_layer_rejected: false,
            prepared: Vec::new(),
        });
    }
    pages.sort_by_key(|p| p.number);
    mark_continued_tables(&mut pages);
    Document { pages, ..Default::default() }
}

/// A table that runs on from the previous page: the first table of a page that has the column
/// count of the last table of the page before, which ends near that page's foot, while it starts
/// near its own page's head, and either has no header row or repeats the same headers.
fn mark_continued_tables(pages: &mut [Page]) {
    let headers = |t: &Table| -> Vec<String> {
        t.cells.iter().filter(|c| c.header).map(|c| c.content.text.trim().to_lowercase()).collect()
    };
    for i in 1..pages.len() {
        if pages[i].number != pages[i - 1].number + 1 {
            continue;
        }
        let (before, after) = pages.split_at_mut(i);
        let (Some(last), Some(first)) = (before[i - 1].tables.last(), after[0].tables.first_mut()) else { continue };
        let at_foot = last.bbox.is_some_and(|b| b.top + b.height > 0.7);
        let at_head = first.bbox.is_some_and(|b| b.top < 0.3);
        let own = headers(first);
        if last.cols() == first.cols() && at_foot && at_head && (own.is_empty() || own == headers(last)) {
            first.continues = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small analysis response in the documented shape: one line, a key/value pair with a
    /// check box, and a 2x2 table with a header row.
    const FORM: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/textract/form.json"));

    /// Blocks of a lab table over two pages: a header merged over two columns on page 1, the
    /// header repeated on page 2, and a value cell merged over two rows.
    fn two_page_table() -> Vec<TBlock> {
        let mut blocks: Vec<serde_json::Value> = Vec::new();
        let word = |id: &str, text: &str, page: u32| serde_json::json!({"BlockType": "WORD", "Id": id, "Text": text, "Confidence": 90.0, "Page": page});
        let cell = |id: &str, r: u32, c: u32, words: &[&str], header: bool, page: u32| {
            let mut b = serde_json::json!({"BlockType": "CELL", "Id": id, "RowIndex": r, "ColumnIndex": c, "RowSpan": 1, "ColumnSpan": 1, "Confidence": 80.0, "Page": page,
                "Relationships": [{"Type": "CHILD", "Ids": words}]});
            if header {
                b["EntityTypes"] = serde_json::json!(["COLUMN_HEADER"]);
            }
            b
        };
        let bbox = |top: f32, height: f32| serde_json::json!({"BoundingBox": {"Left": 0.1, "Top": top, "Width": 0.8, "Height": height}});
        // Page 1: "Result" merged over columns 2-3; rows: Test | Result (value, flag).
        blocks.push(serde_json::json!({"BlockType": "PAGE", "Id": "p1", "Page": 1, "Relationships": [{"Type": "CHILD", "Ids": ["t1"]}]}));
        blocks.push(serde_json::json!({"BlockType": "TABLE", "Id": "t1", "Page": 1, "Geometry": bbox(0.5, 0.45),
            "Relationships": [{"Type": "CHILD", "Ids": ["a1", "a2", "a3", "a4", "a5", "a6"]}, {"Type": "MERGED_CELL", "Ids": ["m1"]}]}));
        blocks.push(cell("a1", 1, 1, &["wt"], true, 1));
        blocks.push(cell("a2", 1, 2, &["wr"], true, 1));
        blocks.push(cell("a3", 1, 3, &[], true, 1));
        blocks.push(cell("a4", 2, 1, &["wg"], false, 1));
        blocks.push(cell("a5", 2, 2, &["wv"], false, 1));
        blocks.push(cell("a6", 2, 3, &["wh"], false, 1));
        blocks.push(serde_json::json!({"BlockType": "MERGED_CELL", "Id": "m1", "Page": 1, "RowIndex": 1, "ColumnIndex": 2, "RowSpan": 1, "ColumnSpan": 2,
            "EntityTypes": ["COLUMN_HEADER"], "Relationships": [{"Type": "CHILD", "Ids": ["a3", "a2"]}]}));
        for (id, t) in [("wt", "Test"), ("wr", "Result"), ("wg", "Glucose"), ("wv", "182"), ("wh", "H")] {
            blocks.push(word(id, t, 1));
        }
        // Page 2: the header repeated, then one more row.
        blocks.push(serde_json::json!({"BlockType": "PAGE", "Id": "p2", "Page": 2, "Relationships": [{"Type": "CHILD", "Ids": ["t2"]}]}));
        blocks.push(serde_json::json!({"BlockType": "TABLE", "Id": "t2", "Page": 2, "Geometry": bbox(0.05, 0.2),
            "Relationships": [{"Type": "CHILD", "Ids": ["b1", "b2", "b3", "b4", "b5", "b6"]}, {"Type": "MERGED_CELL", "Ids": ["m2"]}]}));
        blocks.push(cell("b1", 1, 1, &["xt"], true, 2));
        blocks.push(cell("b2", 1, 2, &["xr"], true, 2));
        blocks.push(cell("b3", 1, 3, &[], true, 2));
        blocks.push(cell("b4", 2, 1, &["xg"], false, 2));
        blocks.push(cell("b5", 2, 2, &["xv"], false, 2));
        blocks.push(cell("b6", 2, 3, &[], false, 2));
        blocks.push(serde_json::json!({"BlockType": "MERGED_CELL", "Id": "m2", "Page": 2, "RowIndex": 1, "ColumnIndex": 2, "RowSpan": 1, "ColumnSpan": 2,
            "Relationships": [{"Type": "CHILD", "Ids": ["b2", "b3"]}]}));
        for (id, t) in [("xt", "Test"), ("xr", "Result"), ("xg", "Sodium"), ("xv", "139")] {
            blocks.push(word(id, t, 2));
        }
        serde_json::from_value(serde_json::json!(blocks)).unwrap()
    }

    #[test]
    fn merged_cells_are_one_cell_and_a_table_runs_over_pages() {
        let doc = to_document(&two_page_table());
        let t1 = &doc.pages[0].tables[0];
        let texts: Vec<(u32, u32, u32, &str)> =
            t1.cells.iter().map(|c| (c.row, c.col, c.col_span, c.content.text.as_str())).collect();
        assert_eq!(
            texts,
            [(1, 1, 1, "Test"), (1, 2, 2, "Result"), (2, 1, 1, "Glucose"), (2, 2, 1, "182"), (2, 3, 1, "H")],
            "the merged header once, with its span"
        );
        assert!(t1.cells[1].header);
        assert!(!t1.continues && doc.pages[1].tables[0].continues, "page 2's table runs on from page 1's");
        let whole = doc.tables();
        assert_eq!(whole.len(), 1);
        let rows: Vec<(u32, &str)> =
            whole[0].cells.iter().filter(|c| c.col == 1).map(|c| (c.row, c.content.text.as_str())).collect();
        assert_eq!(rows, [(1, "Test"), (2, "Glucose"), (3, "Sodium")], "the repeated header left out");
        // A table at the head of page 2 with other columns is a table of its own.
        let mut blocks = two_page_table();
        blocks.retain(|b| b.id != "b3" && b.id != "b6" && b.id != "m2");
        for b in blocks.iter_mut().filter(|b| b.id == "t2") {
            b.relationships =
                vec![TRelationship { kind: "CHILD".into(), ids: ["b1", "b2", "b4", "b5"].map(String::from).to_vec() }];
        }
        let doc = to_document(&blocks);
        assert!(!doc.pages[1].tables[0].continues);
        assert_eq!(doc.tables().len(), 2);
    }

    #[test]
    fn words_textract_reads_as_handwriting_are_marked_and_kept_so() {
        let json = r#"{"Blocks": [
            {"BlockType": "PAGE", "Id": "p", "Page": 1, "Relationships": [{"Type": "CHILD", "Ids": ["l1", "l2"]}]},
            {"BlockType": "LINE", "Id": "l1", "Text": "Reason for visit:", "Confidence": 99.0, "Page": 1, "Relationships": [{"Type": "CHILD", "Ids": ["a", "b", "c"]}]},
            {"BlockType": "LINE", "Id": "l2", "Text": "sore throat", "Confidence": 91.0, "Page": 1, "Relationships": [{"Type": "CHILD", "Ids": ["d", "e"]}]},
            {"BlockType": "WORD", "Id": "a", "Text": "Reason", "TextType": "PRINTED", "Confidence": 99.0, "Page": 1},
            {"BlockType": "WORD", "Id": "b", "Text": "for", "TextType": "PRINTED", "Confidence": 99.0, "Page": 1},
            {"BlockType": "WORD", "Id": "c", "Text": "visit:", "TextType": "PRINTED", "Confidence": 99.0, "Page": 1},
            {"BlockType": "WORD", "Id": "d", "Text": "sore", "TextType": "HANDWRITING", "Confidence": 92.0, "Page": 1},
            {"BlockType": "WORD", "Id": "e", "Text": "throat", "TextType": "HANDWRITING", "Confidence": 90.0, "Page": 1}
        ]}"#;
        let response: TResponse = serde_json::from_str(json).unwrap();
        let doc = response.document();
        let marks: Vec<bool> = doc.pages[0].lines.iter().flat_map(|l| l.words.iter().map(|w| w.handwritten)).collect();
        assert_eq!(marks, [false, false, false, true, true]);
        assert_eq!(doc.pages[0].handwritten_lines(), [1]);
        // A kept answer keeps Textract's own field, and the document model its mark.
        let again: TResponse = serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        assert_eq!(again.blocks[6].text_type.as_deref(), Some("HANDWRITING"));
        let word = serde_json::to_value(&doc.pages[0].lines[1].words[0]).unwrap();
        assert_eq!(word["handwritten"], true);
        assert!(serde_json::to_value(&doc.pages[0].lines[0].words[0]).unwrap().get("handwritten").is_none());
    }

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
