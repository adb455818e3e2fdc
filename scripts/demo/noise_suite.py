"""Bad scans, measured: raw Tesseract and paperchart side by side on the same noisy pages.

Run with `make noise-suite` (release build). Clinical notes with known text (the development
notes, data/eval/dev.jsonl) are rendered as letter pages at 300 dpi, then damaged by treatments
modelled on the Noisy OCR Dataset's recipes (Hegghammer 2022): salt-and-pepper, blur, weak ink
under uneven light, a watermark, and their combinations, plus rotation, skew and fax resolution.
Each treatment's pages are read by `tesseract <page> -` (one process per page, as a user would)
and by `paperchart read <folder>`; the report gives per treatment the mean word accuracy
(ISRI-style: gold words matched in order, over gold words) of each and paperchart's pages per
minute. No document text is printed.

    python scripts/demo/noise_suite.py --bin target/release/paperchart [--pages 4] [--keep DIR]
"""

import argparse
import difflib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[2]
DPI = 300
PAGE = (int(8.5 * DPI), 11 * DPI)


def font(size: int) -> ImageFont.FreeTypeFont:
    import reportlab

    return ImageFont.truetype(os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf"), size)


def wrap(text: str, width: int = 78) -> list[str]:
    out = []
    for para in text.splitlines():
        line = ""
        for word in para.split():
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        out.append(line)
    return out


def render(text: str) -> tuple[Image.Image, str]:
    """A clean page and the text it holds (what fits)."""
    img = Image.new("L", PAGE, 255)
    d = ImageDraw.Draw(img)
    f = font(38)
    y, kept = 220, []
    for line in wrap(text):
        if y > PAGE[1] - 260:
            break
        d.text((230, y), line, font=f, fill=0)
        kept.append(line)
        y += 58
    return img, "\n".join(kept)


def salt_and_pepper(img: Image.Image, rng: random.Random, share: float = 0.05) -> Image.Image:
    px = bytearray(img.tobytes())
    n = len(px)
    for _ in range(int(n * share)):
        px[rng.randrange(n)] = 0 if rng.random() < 0.5 else 255
    return Image.frombytes("L", img.size, bytes(px))


def darken(img: Image.Image, shade: Image.Image) -> Image.Image:
    a, b = img.tobytes(), shade.tobytes()
    return Image.frombytes("L", img.size, bytes(max(0, x - y) for x, y in zip(a, b)))


def watermark(img: Image.Image) -> Image.Image:
    mark = Image.new("L", (PAGE[0], 700), 0)
    ImageDraw.Draw(mark).text((50, 100), "COPY  CONFIDENTIAL", font=font(260), fill=110)
    mark = mark.rotate(35, expand=True).resize(PAGE)
    return darken(img, mark)


def fax(img: Image.Image) -> Image.Image:
    # 204 x 98 dpi, one bit per pixel, then stretched back as a fax viewer shows it.
    small = img.resize((int(PAGE[0] * 204 / DPI), int(PAGE[1] * 98 / DPI)), Image.BILINEAR)
    return small.point(lambda v: 255 if v > 150 else 0).convert("1").convert("L")


def treatments(img: Image.Image, rng: random.Random) -> dict[str, Image.Image]:
    w, h = img.size
    light = Image.linear_gradient("L").rotate(90).resize((w, h)).point(lambda v: int(v * 0.4))
    faint = img.point(lambda v: 255 - int((255 - v) * 0.45))
    blur = img.filter(ImageFilter.GaussianBlur(2.2))
    return {
        "clean": img,
        "salt-and-pepper 5%": salt_and_pepper(img, rng),
        "salt-and-pepper 10%": salt_and_pepper(img, rng, 0.10),
        "blur": blur,
        "weak ink, uneven light": darken(faint, light),
        "watermark": watermark(img),
        "blur + salt-and-pepper": salt_and_pepper(blur, rng),
        "rotated 90": img.rotate(90, expand=True, fillcolor=255),
        "rotated 180": img.rotate(180, fillcolor=255),
        "skewed 3 degrees": img.rotate(3, expand=True, fillcolor=255, resample=Image.BICUBIC),
        "fax 204x98": fax(img),
    }


WORD = re.compile(r"[A-Za-z0-9]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def accuracy(gold: str, read: str) -> float:
    g, r = words(gold), words(read)
    if not g:
        return 1.0
    m = difflib.SequenceMatcher(None, g, r, autojunk=False)
    return sum(b.size for b in m.get_matching_blocks()) / len(g)


def tesseract(page: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(["tesseract", str(page), "-"], capture_output=True, env=env, check=False)
    return out.stdout.decode("utf-8", "replace")


def paperchart(binary: str, folder: Path) -> tuple[dict[str, str], float]:
    started = time.monotonic()
    out = subprocess.run([binary, "read", str(folder)], capture_output=True, check=False)
    secs = time.monotonic() - started
    texts = {}
    for line in out.stdout.decode().splitlines():
        v = json.loads(line)
        doc = v.get("document") or {}
        text = "\n".join(l["text"] for p in doc.get("pages", []) for l in p.get("lines", []))
        texts[Path(v["input"]).name] = text
    return texts, secs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target/release/paperchart"))
    ap.add_argument("--pages", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--keep", help="keep the generated pages in this folder")
    args = ap.parse_args()
    if not shutil.which("tesseract"):
        print("tesseract missing: apt-get install tesseract-ocr", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    notes = [json.loads(l)["text"] for l in (ROOT / "data/eval/dev.jsonl").open()]
    notes = rng.sample(notes, args.pages)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    gold: dict[str, str] = {}
    folders: dict[str, Path] = {}
    for i, note in enumerate(notes):
        page, text = render(note)
        gold[f"page-{i}.png"] = text
        for name, img in treatments(page, rng).items():
            folder = folders.setdefault(name, work / re.sub(r"[^a-z0-9]+", "-", name.lower()))
            folder.mkdir(parents=True, exist_ok=True)
            img.save(folder / f"page-{i}.png", dpi=(DPI, DPI))
    print(f"{args.pages} pages per treatment, word accuracy (%), paperchart pages/min")
    print(f"{'treatment':<26} {'tesseract':>9} {'paperchart':>10} {'pages/min':>9}")
    rows = []
    for name, folder in folders.items():
        texts, secs = paperchart(args.bin, folder)
        raw = [accuracy(gold[p], tesseract(folder / p)) for p in sorted(gold)]
        ours = [accuracy(gold[p], texts.get(p, "")) for p in sorted(gold)]
        row = (name, 100 * sum(raw) / len(raw), 100 * sum(ours) / len(ours), 60 * len(gold) / secs)
        rows.append(row)
        print(f"{row[0]:<26} {row[1]:>9.1f} {row[2]:>10.1f} {row[3]:>9.1f}", flush=True)
    mean = lambda i: sum(r[i] for r in rows) / len(rows)  # noqa: E731
    print(f"{'mean over treatments':<26} {mean(1):>9.1f} {mean(2):>10.1f}")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
