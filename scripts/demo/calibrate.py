#!/usr/bin/env python3
"""`make calibrate`: measures how often each way of reading a finding is right, for the
confidence paperchart writes on every extracted resource.

    python3 scripts/demo/calibrate.py --bin target/release/paperchart

A finding's rule confidence is the precision of the findings read the same way — same type, same
form (an abbreviation of four letters or fewer, one word, several words), coded or not — on
development sets: conditions and medications on the real case-report sentences of PHEE (train and
dev, ../shared/eval/phee; a prediction is right when it overlaps a gold span of its type), tests,
procedures and allergies on the Synthea development set (data/eval/dev, paperchart's own
generator: the gold codes what Synthea codes). Precision is smoothed ((right + 1) / (n + 2)) and
capped at 0.95: no rule is surer than that on text nobody here wrote. PHEE annotates only drugs and
disorders that take part in an event, so its precision is a lower bound.

Writes data/calibration/rules.tsv (type, form, coded, confidence, right, n, set), which the NLP
compiles in. Standard library only.
"""
import argparse
import collections
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "eval")
CAP = 0.95


def form(text):
    t = text.strip()
    if len(t) <= 4 or (t.isupper() and len(t) <= 5):
        return "abbr"
    return "one-word" if " " not in t else "multi-word"


def extract(binary, notes):
    with open(notes, "rb") as f:
        out = subprocess.run([binary, "nlp", "extract"], stdin=f, capture_output=True, check=True).stdout
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def tally(stats, binary, notes, gold_path, types, name):
    gold = {}
    with open(gold_path) as f:
        for line in f:
            o = json.loads(line)
            gold[o["id"]] = o["entities"]
    for o in extract(binary, notes):
        for e in o["entities"]:
            if e["type"] not in types:
                continue
            right = any(g["type"] == e["type"] and g["start"] < e["end"] and e["start"] < g["end"]
                        for g in gold.get(o["id"], []))
            coded = "coded" if e["codes"] else "uncoded"
            for key in ((e["type"], form(e["text"]), coded), (e["type"], "*", "*")):
                s = stats[key]
                s[0] += right
                s[1] += 1
                s[2] = name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "paperchart"))
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "calibration", "rules.tsv"))
    a = ap.parse_args()
    stats = collections.defaultdict(lambda: [0, 0, ""])
    for split in ("train", "dev"):
        tally(stats, a.bin, os.path.join(SHARED, "phee", f"{split}.jsonl"),
              os.path.join(SHARED, "phee", f"{split}.gold.jsonl"), {"CONDITION", "MEDICATION"}, "phee")
    data = os.path.join(ROOT, "data", "eval")
    tally(stats, a.bin, os.path.join(data, "dev.jsonl"), os.path.join(data, "dev.gold.jsonl"),
          {"TEST", "PROCEDURE", "ALLERGY"}, "synthea-dev")
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# Rule confidence: the measured precision of findings read the same way. Made by\n"
                "# scripts/demo/calibrate.py (make calibrate); see its docstring for the method.\n")
        f.write("type\tform\tcoded\tconfidence\tright\tn\tset\n")
        for (t, fm, coded), (right, n, name) in sorted(stats.items()):
            conf = min(CAP, (right + 1) / (n + 2))
            f.write(f"{t}\t{fm}\t{coded}\t{conf:.3f}\t{right}\t{n}\t{name}\n")
    print(open(a.out).read())


if __name__ == "__main__":
    main()
