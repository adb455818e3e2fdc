#!/usr/bin/env python3
"""Part of `make calibrate`: how often Tesseract's words are right at each confidence it gives.

    .venv/bin/python scripts/data/make_formset.py --per-kind 8 --seed 77 --out .cache/calibration-formset
    python3 scripts/demo/calibrate_ocr.py --bin target/release/paperchart --set .cache/calibration-formset

Reads every document of a generated set (scripts/data/make_formset.py, which keeps each page's
true text in truth/<file>.txt) with `paperchart read`, and counts a word right when its letters and
digits, folded to lower case, are a word of the true text. Writes data/calibration/ocr.tsv: per band
of Tesseract confidence (0-100, ten points wide), the share of words right (smoothed
(right + 1) / (n + 2), then made non-decreasing). The NLP weighs a finding's rule confidence by this share for its words,
instead of taking Tesseract's number as a probability (it is not one). Standard library only.
"""
import argparse
import collections
import json
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fold(w):
    return re.sub(r"[^0-9a-z]", "", w.lower())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "paperchart"))
    ap.add_argument("--set", default=os.path.join(ROOT, ".cache", "calibration-formset"))
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "calibration", "ocr.tsv"))
    a = ap.parse_args()
    docs = os.path.join(a.set, "documents")
    bands = collections.defaultdict(lambda: [0, 0])
    for name in sorted(os.listdir(docs)):
        truth_path = os.path.join(a.set, "truth", name + ".txt")
        if not os.path.exists(truth_path):
            continue
        truth = {fold(w) for w in open(truth_path, encoding="utf-8").read().split()} - {""}
        out = subprocess.run([a.bin, "read", os.path.join(docs, name)], capture_output=True, check=True).stdout
        for line in out.decode().splitlines():
            doc = json.loads(line)["document"]
            for page in doc["pages"]:
                if page.get("read_by") != "tesseract":
                    continue
                for ln in page["lines"]:
                    for w in ln.get("words", []):
                        f = fold(w["text"])
                        if not f:
                            continue
                        band = min(9, int(w["confidence"] // 10))
                        bands[band][0] += f in truth
                        bands[band][1] += 1
    # Smoothed shares, then made non-decreasing (pool adjacent violators): a surer word is never
    # scored below a less sure one because of a small band.
    shares = [[(bands[b][0] + 1) / (bands[b][1] + 2), bands[b][1] + 2] for b in range(10)]
    blocks = []
    for share, weight in shares:
        blocks.append([share, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            s2, w2, c2 = blocks.pop()
            s1, w1, c1 = blocks.pop()
            blocks.append([(s1 * w1 + s2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    monotone = [s for s, _, c in blocks for _ in range(c)]
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# Share of Tesseract's words that are right, per band of its confidence. Made by\n"
                "# scripts/demo/calibrate_ocr.py (make calibrate) on a generated form set; see its docstring.\n")
        f.write("from\tto\tright_share\tright\tn\n")
        for band in range(10):
            right, n = bands[band]
            f.write(f"{band * 10}\t{band * 10 + 10}\t{monotone[band]:.3f}\t{right}\t{n}\n")
    print(open(a.out).read())


if __name__ == "__main__":
    main()
