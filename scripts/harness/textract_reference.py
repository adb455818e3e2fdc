#!/usr/bin/env python3
"""Reads a Textract response with AWS's own parser (amazon-textract-textractor) and prints what
paperchart's conversion must agree with: lines, key/value pairs and table cells, normalised.

    python3 scripts/harness/textract_reference.py RESPONSE.json
"""
import json
import sys

from textractor.parsers import response_parser


def norm(text):
    return " ".join((text or "").split())


def key_text(kv):
    return norm(" ".join(w.text for w in kv.key))


def main():
    doc = response_parser.parse(json.load(open(sys.argv[1])))
    pairs = [[key_text(kv), norm(kv.value.text)] for kv in doc.key_values]
    # textractor keeps check boxes apart; paperchart writes them as "[X]" / "[ ]" values.
    pairs += [[key_text(c), "[X]" if c.is_selected() else "[ ]"] for c in doc.checkboxes]
    out = {
        "lines": sorted([l.page, norm(l.text)] for l in doc.lines),
        "key_values": sorted(pairs),
        "cells": sorted([t_i, c.row_index, c.col_index, norm(c.text)]
                        for t_i, t in enumerate(doc.tables) for c in t.table_cells),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
