"""Time and memory of `paperchart nlp extract` against the length of one text: a report, not a test.

Run with `make bench-nlp` (release build). The text is the project's own development notes
(data/eval/dev.jsonl) repeated to 1, 10 and 100 MB, in two shapes: as written (lines) and as one
line (what a PDF text layer without line breaks gives). Each size is one JSON Lines record; the
time includes the terminology load (~0.5 s). Linear means the seconds per MB and the memory per MB
above the engine's own stay flat as the size grows tenfold.

    python3 scripts/demo/bench_nlp_scale.py --bin target/release/paperchart [--sizes 1,10,100]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def corpus() -> str:
    notes = [json.loads(line)["text"] for line in (ROOT / "data/eval/dev.jsonl").open()]
    return "\n\n".join(notes)


def record(text: str, size: int, one_line: bool) -> str:
    body = (text * (size // len(text) + 1))[:size]
    if one_line:
        body = body.replace("\n", " ")
    return json.dumps({"id": "big", "text": body}) + "\n"


def run(binary: str, path: Path) -> tuple[float, int, int]:
    """Seconds, peak resident KB and the number of findings for one input."""
    started = time.monotonic()
    with path.open("rb") as stdin, tempfile.TemporaryFile() as out:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", binary, "nlp", "extract"],
            stdin=stdin,
            stdout=out,
            stderr=subprocess.PIPE,
            check=True,
        )
        secs = time.monotonic() - started
        out.seek(0)
        entities = len(json.loads(out.readline())["entities"])
    peak = int(proc.stderr.decode().strip().splitlines()[-1])
    return secs, peak, entities


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target/release/paperchart"))
    ap.add_argument("--sizes", default="1,10,100", help="sizes in MB")
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/time"):
        print("/usr/bin/time missing: apt-get install time", file=sys.stderr)
        return 1
    text = corpus()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("| shape | MB | seconds | s/MB | peak MB | findings |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for one_line in (False, True):
            for mb in sizes:
                path = Path(tmp) / "in.jsonl"
                path.write_text(record(text, mb * 1_000_000, one_line))
                secs, peak, n = run(args.bin, path)
                shape = "one line" if one_line else "lines"
                print(f"| {shape} | {mb} | {secs:.1f} | {secs / mb:.2f} | {peak / 1024:.0f} | {n:,} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
