#!/usr/bin/env python3
"""Reads a Textract response with AWS's own parser (amazon-textract-textractor) and prints what
paperchart's conversion must agree with: lines, key/value pairs and table cells, normalised
(the cells under a MERGED_CELL joined into one, as paperchart keeps them).

    python3 scripts/harness/textract_reference.py RESPONSE.json
"""
import json
import re
import sys

from textractor.parsers import response_parser


def norm(text):
    return " ".join((text or "").split())


def cell_text(text):
    """A cell's text; with check boxes, its words and boxes as a sorted set: textractor writes a
    cell's boxes after its words, paperchart where they stand ("[X] Yes [ ] No")."""
    text = norm(text)
    if "[X]" not in text and "[ ]" not in text:
        return text
    return " ".join(sorted(re.findall(r"\[X\]|\[ \]|[^\s\[\]]+", text)))


def key_text(kv):
    return norm(" ".join(w.text for w in kv.key))


def merged_rects(raw):
    """Each TABLE's MERGED_CELL rectangles (row, col, row span, col span), by table id, from the
    raw response: paperchart writes a merged cell once, at its top-left, with its cells' words."""
    by_id = {b["Id"]: b for b in raw.get("Blocks", [])}
    out = {}
    for t in (b for b in raw.get("Blocks", []) if b["BlockType"] == "TABLE"):
        ids = [i for r in t.get("Relationships", []) if r["Type"] == "MERGED_CELL" for i in r["Ids"]]
        out[t["Id"]] = [(m["RowIndex"], m["ColumnIndex"], m.get("RowSpan", 1), m.get("ColumnSpan", 1))
                        for m in (by_id[i] for i in ids if i in by_id)]
    return out


def table_cells(t_i, table, rects):
    """textractor's cells of one table, those under a merged cell joined as paperchart joins them."""
    groups = {rect: [] for rect in rects}
    out = []
    for c in table.table_cells:
        rect = next((r for r in rects if r[0] <= c.row_index < r[0] + r[2] and r[1] <= c.col_index < r[1] + r[3]), None)
        if rect is None:
            out.append([t_i, c.row_index, c.col_index, cell_text(c.text)])
        else:
            groups[rect].append((c.row_index, c.col_index, cell_text(c.text)))
    for (row, col, _, _), parts in groups.items():
        out.append([t_i, row, col, " ".join(t for _, _, t in sorted(parts) if t)])
    return out


def main():
    raw = json.load(open(sys.argv[1]))
    merges = merged_rects(raw)
    doc = response_parser.parse(raw)
    pairs = [[key_text(kv), norm(kv.value.text)] for kv in doc.key_values]
    # textractor keeps check boxes apart; paperchart writes them as "[X]" / "[ ]" values.
    pairs += [[key_text(c), "[X]" if c.is_selected() else "[ ]"] for c in doc.checkboxes]
    out = {
        "lines": sorted([l.page, norm(l.text)] for l in doc.lines),
        "key_values": sorted(pairs),
        "cells": sorted(cell for t_i, t in enumerate(doc.tables)
                        for cell in table_cells(t_i, t, merges.get(t.id, []))),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
