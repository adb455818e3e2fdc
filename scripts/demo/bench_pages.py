"""Memory of `paperchart run` against the number of large pages read at once: a report, not a test.

Run with `make bench-pages` (release build). Each document is one PNG of 7740 x 7740 pixels (59.9
million, just under `limits.max_pixels_per_page`), RGB, a few lines of text on white: a file of
about 230 KB that decodes to 180 MB of RGB and 60 MB of grey before Tesseract's own copies. N of
them are read at once (`--concurrency N`, `ocr.threads = N`, as on an N-core machine) for N = 1,
2, 4, 8, once with the default `limits.max_pixels_in_flight` (120 million: two such pages) and
once with the budget out of the way (what every version before it did). Bounded means the peak
stays flat in N with the budget.

    python3 scripts/demo/bench_pages.py --bin target/release/paperchart [--counts 1,2,4,8]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIDE = 7740


def page(path: Path, n: int) -> None:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (SIDE, SIDE), "white")
    d = ImageDraw.Draw(im)
    for i in range(20):
        d.text((200, 200 + i * 300), f"Document {n} line {i}: blood pressure 120/80", fill="black")
    im.save(path, optimize=True)


def run(binary: str, inbox: Path, count: int, budget: int | None) -> tuple[float, int]:
    """Seconds and peak resident KB of one run over `inbox`."""
    env = dict(os.environ, PAPERCHART__OCR__THREADS=str(count), OMP_THREAD_LIMIT="1")
    if budget is not None:
        env["PAPERCHART__LIMITS__MAX_PIXELS_IN_FLIGHT"] = str(budget)
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", binary, "run", "--no-progress", "--concurrency", str(count),
             "--out", out, str(inbox)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )
        secs = time.monotonic() - started
    lines = proc.stderr.decode().strip().splitlines()
    if proc.returncode not in (0, 1) or not lines:
        sys.exit(f"paperchart run failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return secs, int(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target/release/paperchart"))
    ap.add_argument("--counts", default="1,2,4,8", help="pages read at once")
    args = ap.parse_args()
    if not shutil.which("/usr/bin/time"):
        print("/usr/bin/time missing: apt-get install time", file=sys.stderr)
        return 2
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for n in range(max(counts)):
            p = Path(tmp) / f"page-{n}.png"
            page(p, n)
            pages.append(p)
        print(f"{SIDE} x {SIDE} px PNG pages of {pages[0].stat().st_size // 1024} KB")
        print(f"{'pages at once':>13} {'budget':>22} {'seconds':>8} {'peak MB':>8}")
        for count in counts:
            inbox = Path(tmp) / f"in-{count}"
            inbox.mkdir()
            for p in pages[:count]:
                os.link(p, inbox / p.name)
            for label, budget in (("120 M px (default)", None), ("none (before)", 10**12)):
                secs, peak = run(args.bin, inbox, count, budget)
                print(f"{count:>13} {label:>22} {secs:>8.1f} {peak // 1024:>8}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
