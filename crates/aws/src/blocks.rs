//! Textract's SDK blocks, as the shared converter reads them: [`from_sdk`] gives the
//! [`TBlock`] of `paperchart_model::textract`, which turns blocks into the document model for the
//! fleet and for saved responses alike.

pub use paperchart_model::textract::*;

/// Converts an SDK block.
pub fn from_sdk(b: &aws_sdk_textract::types::Block) -> TBlock {
    TBlock {
        block_type: b.block_type.as_ref().map(|t| t.as_str().to_string()).unwrap_or_default(),
        id: b.id.clone().unwrap_or_default(),
        text: b.text.clone(),
        confidence: b.confidence,
        page: b.page.map(|p| p.max(0) as u32),
        geometry: b.geometry.as_ref().map(|g| TGeometry {
            bounding_box: g.bounding_box.as_ref().map(|bb| TBox {
                left: bb.left,
                top: bb.top,
                width: bb.width,
                height: bb.height,
            }),
        }),
        relationships: b
            .relationships
            .iter()
            .flatten()
            .map(|r| TRelationship {
                kind: r.r#type.as_ref().map(|t| t.as_str().to_string()).unwrap_or_default(),
                ids: r.ids.clone().unwrap_or_default(),
            })
            .collect(),
        entity_types: b.entity_types.iter().flatten().map(|e| e.as_str().to_string()).collect(),
        row_index: b.row_index.map(|v| v.max(0) as u32),
        column_index: b.column_index.map(|v| v.max(0) as u32),
        row_span: b.row_span.map(|v| v.max(0) as u32),
        column_span: b.column_span.map(|v| v.max(0) as u32),
        selection_status: b.selection_status.as_ref().map(|s| s.as_str().to_string()),
        text_type: b.text_type.as_ref().map(|t| t.as_str().to_string()),
    }
}
