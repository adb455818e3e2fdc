#!/usr/bin/env python3
"""Wraps the text of every JSON line as a scan's OCR lines wrap a paragraph: spaces become line
breaks so that no line runs past a width drawn per item (narrow columns and faxes wrap short).

A space is replaced by one line break, so every offset (spans, gold) stays where it was; runs of
spaces (a column's gap) are left alone. With the width of each item drawn from --widths, the
same gold scores the same assertions on wrapped text: a negation or a phrase that a line break
cuts is the class of failure it measures.

    python3 scripts/data/wrap_lines.py --seed 7 < ../shared/eval/negex/dev.jsonl > /tmp/negex-wrapped.jsonl
"""
import argparse
import json
import random
import sys


def wrap(text, width):
    out = list(text)
    line_start = 0
    last_space = None
    for i, c in enumerate(text):
        if c == "\n":
            line_start, last_space = i + 1, None
            continue
        lone = c == " " and (i == 0 or text[i - 1] != " ") and (i + 1 == len(text) or text[i + 1] != " ")
        if lone:
            last_space = i
        if i - line_start >= width and last_space is not None:
            out[last_space] = "\n"
            line_start, last_space = last_space + 1, None
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--widths", default="24-72", help="line widths to draw from, in characters (min-max)")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.widths.split("-"))
    rng = random.Random(a.seed)
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        item["text"] = wrap(item["text"], rng.randint(lo, hi))
        print(json.dumps(item))
    return 0


if __name__ == "__main__":
    sys.exit(main())
