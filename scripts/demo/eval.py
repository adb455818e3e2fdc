#!/usr/bin/env python3
"""`make eval`: paperchart's NLP scorecard.

    python3 scripts/demo/eval.py --bin target/release/paperchart --python .cache/eval-venv/bin/python

1. Negation on the NegEx test kit sentences of ../shared/eval/negex/dev.jsonl
   (`paperchart nlp assert`, scored by ../shared/eval/score_negation.py); PHEE dev's real
   case-report sentences (entities, medication attributes, share of drug mentions with an RxNorm
   code).
2. Entities and codes on the Synthea development set in data/eval/ (made by
   scripts/data/make_devset.py; `paperchart nlp extract`, scored by ../shared/eval/score_entities.py),
   and on the held-out set data/eval/test*.jsonl when present (never used to tune the engine).
   The gold standard codes what Synthea codes: conditions, procedures and allergens in SNOMED CT,
   medications in RxNorm, vital signs in LOINC. paperchart also writes ICD-10-CM codes and finds
   PHI, which Synthea's facts do not cover; the predictions are scored in the gold standard's code
   systems and types only (the filtered predictions are kept in eval-out/).
3. Speed on one core (taskset -c 0): characters per second of `paperchart nlp extract` over the
   development notes repeated to about 5 MB, against medspaCy 1.3.1 (sentence splitting, a target
   matcher holding every distinct gold mention of the set, and ConText) over the same notes once.
   Terminology load time (an empty input, best of 5) and peak resident memory.

Writes eval-out/report.md and prints it. Standard library only, except the medspaCy run, which
uses the Python given with --python.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "eval"))
OUT = os.path.join(ROOT, "eval-out")

MEDSPACY = r'''
import json, sys, time
import medspacy
from medspacy.target_matcher import TargetRule
notes = [json.loads(l)["text"] for l in open(sys.argv[1])]
terms = json.load(open(sys.argv[2]))
t0 = time.perf_counter()
nlp = medspacy.load()
nlp.get_pipe("medspacy_target_matcher").add([TargetRule(t, c) for t, c in terms])
load = time.perf_counter() - t0
t0 = time.perf_counter()
found = sum(len(doc.ents) for doc in nlp.pipe(notes))
took = time.perf_counter() - t0
print(json.dumps({"seconds": took, "load": load, "entities": found, "chars": sum(map(len, notes))}))
'''


def run(cmd, stdin=None, one_core=False):
    if one_core:
        cmd = ["taskset", "-c", "0"] + cmd
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
        return subprocess.run(cmd, stdin=f, capture_output=True, check=True)


def score_negation(binary, report):
    gold = os.path.join(SHARED, "negex", "dev.jsonl")
    pred = os.path.join(OUT, "negex.pred.jsonl")
    with open(pred, "wb") as f:
        f.write(run([binary, "nlp", "assert"], gold).stdout)
    out = subprocess.run([sys.executable, os.path.join(SHARED, "score_negation.py"), gold, pred],
                         capture_output=True, text=True, check=True).stdout
    f1 = float(re.search(r"f1 ([0-9.]+)", out).group(1))
    report.append("## Negation (NegEx test kit, reports 1-60, 1,190 sentences)\n")
    report.append(f"`paperchart nlp assert < ../shared/eval/negex/dev.jsonl`, scored by score_negation.py:\n")
    report.append("```\n" + out.strip() + "\n```\n")
    report.append(f"F1 {f1:.3f} (goal >= 0.96; negspacy 0.939, medspaCy ConText 0.929 on reports 1-120)\n")
    return f1


def score_phee(binary, report):
    """PHEE dev (real case-report sentences): drug and disorder spans, the medication attributes,
    and how many gold drug mentions get an RxNorm code."""
    notes, gold = os.path.join(SHARED, "phee", "dev.jsonl"), os.path.join(SHARED, "phee", "dev.gold.jsonl")
    pred = os.path.join(OUT, "phee-dev.pred.jsonl")
    with open(pred, "wb") as f:
        f.write(run([binary, "nlp", "extract"], notes).stdout)
    scores = [subprocess.run([sys.executable, os.path.join(SHARED, script), gold, pred],
                             capture_output=True, text=True, check=True).stdout
              for script in ("score_entities.py", "score_phee_attrs.py")]
    drugs = {}
    with open(gold) as f:
        for line in f:
            o = json.loads(line)
            drugs[o["id"]] = [e for e in o["entities"] if e["type"] == "MEDICATION"]
    mentions = found = coded = 0
    with open(pred) as f:
        for line in f:
            o = json.loads(line)
            meds = [e for e in o["entities"] if e["type"] == "MEDICATION"]
            for g in drugs.get(o["id"], []):
                mentions += 1
                hits = [e for e in meds if e["start"] < g["end"] and g["start"] < e["end"]]
                found += bool(hits)
                coded += any(c["system"].endswith("/rxnorm") for e in hits for c in e["codes"])
    report.append("## PHEE dev (961 sentences of case reports)\n")
    report.append("`paperchart nlp extract < ../shared/eval/phee/dev.jsonl`, scored by score_entities.py and "
                  "score_phee_attrs.py:\n")
    report.append("```\n" + "\n".join(s.strip() for s in scores) + "\n```\n")
    share = coded / max(mentions, 1)
    report.append(f"RxNorm coverage: {coded} of {mentions} gold drug mentions ({share:.1%}) get an RxNorm code; "
                  f"{found} are found.\n")
    return share


def score_phi(binary, report):
    """PHI recall on the generated de-identification set (scripts/data/make_phiset.py)."""
    notes, gold = os.path.join(ROOT, "data", "eval", "phi.jsonl"), os.path.join(ROOT, "data", "eval", "phi.gold.jsonl")
    pred = os.path.join(OUT, "phi.pred.jsonl")
    with open(pred, "wb") as f:
        f.write(run([binary, "nlp", "extract"], notes).stdout)
    out = subprocess.run([sys.executable, os.path.join(SHARED, "score_entities.py"), gold, pred, "--boot", "200"],
                         capture_output=True, text=True, check=True).stdout
    lenient = re.search(r"lenient.*?PHI\s+P=([0-9.]+) R=([0-9.]+)", out, re.S)
    report.append("## PHI (generated de-identification notes, data/eval/phi.jsonl)\n")
    report.append("```\n" + out.strip() + "\n```\n")
    return float(lenient.group(2)) if lenient else 0.0


def restrict(gold_path, pred_path, out_path):
    """Keeps the predicted entity types and code systems the gold standard annotates."""
    systems = {}
    with open(gold_path) as f:
        for line in f:
            for e in json.loads(line)["entities"]:
                for c in e["codes"]:
                    systems.setdefault(e["type"], set()).add(c["system"])
    with open(pred_path) as f, open(out_path, "w") as out:
        for line in f:
            p = json.loads(line)
            kept = []
            for e in p.get("entities", []):
                if e["type"] in systems:
                    e["codes"] = [c for c in e["codes"] if c["system"] in systems[e["type"]]]
                    kept.append(e)
            p["entities"] = kept
            out.write(json.dumps(p) + "\n")


def score_entities(binary, name, notes, gold, report):
    pred = os.path.join(OUT, f"{name}.pred.jsonl")
    with open(pred, "wb") as f:
        f.write(run([binary, "nlp", "extract"], notes).stdout)
    scored = os.path.join(OUT, f"{name}.pred.scored.jsonl")
    restrict(gold, pred, scored)
    out = subprocess.run([sys.executable, os.path.join(SHARED, "score_entities.py"), gold, scored, "--boot", "200"],
                         capture_output=True, text=True, check=True).stdout
    n = sum(1 for _ in open(notes))
    report.append(f"## Entities and codes: {name} ({n} notes, {os.path.relpath(notes, ROOT)})\n")
    report.append("```\n" + out.strip() + "\n```\n")
    codes = {}
    section = None
    for line in out.splitlines():
        if not line.startswith(" "):
            section = line.split()[0]
        m = re.match(r"\s+(\w+)\s+P=([0-9.]+) R=([0-9.]+) F1=([0-9.]+)", line)
        if m and section == "code":
            codes[m.group(1)] = float(m.group(4))
    return codes


def vital_code_f1(gold, scored):
    """Document-level code F1 of vital signs alone (TEST entities with subtype VITAL)."""
    def sets(path):
        out = {}
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                out[d["id"]] = {(c["system"], c["code"]) for e in d["entities"]
                                if e["type"] == "TEST" and e.get("subtype") == "VITAL" for c in e["codes"]}
        return out
    g, p = sets(gold), sets(scored)
    tp = sum(len(g[i] & p.get(i, set())) for i in g)
    ng, np_ = sum(map(len, g.values())), sum(len(p.get(i, set())) for i in g)
    prec, rec = (tp / np_ if np_ else 0), (tp / ng if ng else 0)
    return 2 * prec * rec / (prec + rec) if prec + rec else 0


def speed(binary, python, notes, gold, report):
    texts = [json.loads(l)["text"] for l in open(notes)]
    chars = sum(map(len, texts))
    reps = max(1, 5_000_000 // chars)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as big:
        for r in range(reps):
            for i, t in enumerate(texts):
                big.write(json.dumps({"id": f"{r}-{i}", "text": t}) + "\n")
    total = chars * reps
    loads = []
    for _ in range(5):
        t0 = time.perf_counter()
        run([binary, "nlp", "extract"], None, one_core=True)
        loads.append(time.perf_counter() - t0)
    load = min(loads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    run([binary, "nlp", "extract"], big.name, one_core=True)
    took = time.perf_counter() - t0
    rss_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    os.unlink(big.name)
    ours = total / (took - load)

    terms = sorted({(e["text"].lower(), e["type"]) for l in open(gold) for e in json.loads(l)["entities"]})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tf:
        json.dump(terms, tf)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(MEDSPACY)
    ms = json.loads(run([python, script.name, notes, tf.name], None, one_core=True).stdout)
    os.unlink(tf.name)
    os.unlink(script.name)
    theirs = ms["chars"] / ms["seconds"]
    ratio = ours / theirs
    report.append("## Speed and footprint (one core, taskset -c 0)\n")
    report.append(f"| | characters | seconds | characters/s |\n|---|---:|---:|---:|\n"
                  f"| paperchart nlp extract (notes x{reps}) | {total:,} | {took - load:.2f} | {ours:,.0f} |\n"
                  f"| medspaCy 1.3.1 (sentences, {len(terms)} target rules, ConText) | {ms['chars']:,} | "
                  f"{ms['seconds']:.2f} | {theirs:,.0f} |\n")
    report.append(f"paperchart / medspaCy: **{ratio:.0f}x** (goal >= 100x). Load: paperchart {load * 1000:.0f} ms "
                  f"for every terminology (goal < 1 s), medspaCy {ms['load'] * 1000:.0f} ms for its "
                  f"{len(terms)} rules. paperchart peak resident memory {rss_mb:.0f} MB (goal < 300 MB).\n")
    return ratio, load, rss_mb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "paperchart"))
    ap.add_argument("--python", default=os.path.join(ROOT, ".cache", "eval-venv", "bin", "python"))
    ap.add_argument("--no-speed", action="store_true", help="accuracy only")
    a = ap.parse_args()
    if not os.path.isdir(SHARED):
        sys.exit(f"{SHARED} is missing: the evaluation sets and scorers live beside the project")
    os.makedirs(OUT, exist_ok=True)
    report = ["# paperchart NLP scorecard\n", f"Reproduce: `make eval` (binary {os.path.relpath(a.bin, ROOT)}).\n"]
    neg = score_negation(a.bin, report)
    summary = [f"negation F1 {neg:.3f}"]
    summary.append(f"PHEE dev: {score_phee(a.bin, report):.1%} of drug mentions with an RxNorm code")
    summary.append(f"PHI recall (generated notes, lenient) {score_phi(a.bin, report):.3f}")
    data = os.path.join(ROOT, "data", "eval")
    for name in ("dev", "test"):
        notes, gold = os.path.join(data, f"{name}.jsonl"), os.path.join(data, f"{name}.gold.jsonl")
        if not os.path.exists(notes):
            continue
        codes = score_entities(a.bin, name, notes, gold, report)
        vital = vital_code_f1(gold, os.path.join(OUT, f"{name}.pred.scored.jsonl"))
        report.append(f"Code F1 (goal >= 0.95): conditions {codes.get('CONDITION', 0):.3f}, medications "
                      f"{codes.get('MEDICATION', 0):.3f}, vital signs {vital:.3f}.\n")
        summary.append(f"{name}: code F1 conditions {codes.get('CONDITION', 0):.3f} medications "
                       f"{codes.get('MEDICATION', 0):.3f} vital signs {vital:.3f}")
    if not a.no_speed:
        ratio, load, rss = speed(a.bin, a.python, os.path.join(data, "dev.jsonl"),
                                 os.path.join(data, "dev.gold.jsonl"), report)
        summary.append(f"speed {ratio:.0f}x medspaCy, load {load * 1000:.0f} ms, peak RSS {rss:.0f} MB")
    report.append("## Summary\n\n" + "\n".join(f"- {s}" for s in summary) + "\n")
    text = "\n".join(report)
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
