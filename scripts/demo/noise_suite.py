"""Bad scans, measured: raw Tesseract and paperchart side by side on the same noisy pages.

Run with `make noise-suite` (release build). Clinical notes with known text (the development
notes, data/eval/dev.jsonl) are rendered as letter pages at 300 dpi, then damaged by treatments
modelled on the Noisy OCR Dataset's recipes (Hegghammer 2022): salt-and-pepper, blur, weak ink
under uneven light, a watermark, scribbles, ink stains, and their combinations, plus rotation,
skew, a phone photo at an angle on a dark desk, and fax resolution (a fax viewer's 300 dpi image,
and the Group 3 TIFF a fax server stores).
Each treatment's pages are read by `tesseract <page> -` (one process per page, as a user would,
two at a time on the machine's two cores, `OMP_THREAD_LIMIT=1`) and by `paperchart read
<folder>`; the report gives per treatment the mean word accuracy (ISRI-style: gold words matched
in order, over gold words) of each, the share of the codes
`paperchart nlp extract` finds in the page's own text that it finds in each reading, and pages
per minute of each (paperchart reads a folder with its own workers, its start included; tesseract
runs one process a page, two at a time). No document text is printed.

    python scripts/demo/noise_suite.py --bin target/release/paperchart [--pages 4] [--keep DIR]
"""

import argparse
import concurrent.futures
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


def scribbles(img: Image.Image, rng: random.Random, strokes: int = 6) -> Image.Image:
    # Pen strokes over the text: loops and lines a reader draws on a printout (the dataset's
    # "scribbles" recipe), each a chain of short segments that wander across a few lines.
    out = img.copy()
    d = ImageDraw.Draw(out)
    w, h = img.size
    for _ in range(strokes):
        x, y = rng.uniform(0.15, 0.85) * w, rng.uniform(0.1, 0.85) * h
        heading = rng.uniform(0, 2 * math.pi)
        points = [(x, y)]
        for _ in range(rng.randint(12, 30)):
            heading += rng.uniform(-0.9, 0.9)
            x = min(w - 1, max(0, x + 40 * math.cos(heading)))
            y = min(h - 1, max(0, y + 40 * math.sin(heading)))
            points.append((x, y))
        d.line(points, fill=rng.randint(20, 70), width=rng.randint(4, 8), joint="curve")
    return out


def ink_stains(img: Image.Image, rng: random.Random, stains: int = 4) -> Image.Image:
    # Blots of ink or coffee: soft-edged grey ellipses that darken what lies under them.
    w, h = img.size
    shade = Image.new("L", img.size, 0)
    d = ImageDraw.Draw(shade)
    for _ in range(stains):
        rx, ry = rng.uniform(60, 220), rng.uniform(50, 180)
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=rng.randint(70, 140))
    return darken(img, shade.filter(ImageFilter.GaussianBlur(18)))


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    # Gaussian elimination with partial pivoting, for the 8 perspective coefficients.
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def phone_photo(img: Image.Image) -> Image.Image:
    # The page photographed from an angle on a dark desk: its corners pulled to a trapezoid in a
    # larger frame (PIL's perspective transform maps each output pixel to its source).
    w, h = img.size
    cw, ch = int(w * 1.3), int(h * 1.25)
    quad = [(0.12 * cw, 0.07 * ch), (0.86 * cw, 0.13 * ch), (0.93 * cw, 0.94 * ch), (0.05 * cw, 0.9 * ch)]
    page = [(0, 0), (w, 0), (w, h), (0, h)]
    a, b = [], []
    for (x, y), (u, v) in zip(quad, page):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    coeffs = solve(a, b)
    return img.transform((cw, ch), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=60)


def fax_as_sent(img: Image.Image) -> Image.Image:
    # 204 x 98 dpi, one bit per pixel: what a fax machine transmits.
    small = img.resize((int(PAGE[0] * 204 / DPI), int(PAGE[1] * 98 / DPI)), Image.BILINEAR)
    return small.point(lambda v: 255 if v > 150 else 0).convert("1")


def fax(img: Image.Image) -> Image.Image:
    # Stretched back to 300 dpi as a fax viewer shows it.
    return fax_as_sent(img).convert("L").resize(img.size, Image.NEAREST)


# Treatments saved as a fax server stores a fax: Group 3 TIFF at 204 x 98 dpi, rows unstretched.
FAX_STORED = {"fax G3 TIFF 204x98"}


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
        "skewed 6 degrees": img.rotate(-6, expand=True, fillcolor=255, resample=Image.BICUBIC),
        "skewed 10 degrees": img.rotate(10, expand=True, fillcolor=255, resample=Image.BICUBIC),
        "sideways and skewed 6": img.rotate(-6, expand=True, fillcolor=255, resample=Image.BICUBIC).rotate(
            90, expand=True, fillcolor=255
        ),
        "scribbles": scribbles(img, rng),
        "ink stains": ink_stains(img, rng),
        "scribbles + ink stains": ink_stains(scribbles(img, rng), rng),
        "phone photo at an angle": phone_photo(img),
        "fax 204x98": fax(img),
        "fax G3 TIFF 204x98": fax_as_sent(img),
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
        texts[Path(v["input"]).stem] = text
    return texts, secs


def codes(binary: str, texts: dict[str, str]) -> dict[str, set[tuple[str, str]]]:
    """The coded entities `paperchart nlp extract` finds in each text (system, code), PHI aside."""
    lines = "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items())
    out = subprocess.run([binary, "nlp", "extract"], input=lines.encode(), capture_output=True, check=True)
    found: dict[str, set[tuple[str, str]]] = {}
    for line in out.stdout.decode().splitlines():
        v = json.loads(line)
        found[v["id"]] = {
            (c["system"], c["code"]) for e in v["entities"] if e["type"] != "PHI" for c in e.get("codes", [])
        }
    return found


def recall(gold: dict[str, set], read: dict[str, set]) -> float:
    total = sum(len(g) for g in gold.values())
    return sum(len(g & read.get(k, set())) for k, g in gold.items()) / total if total else 1.0


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
        gold[f"page-{i}"] = text
        for name, img in treatments(page, rng).items():
            folder = folders.setdefault(name, work / re.sub(r"[^a-z0-9]+", "-", name.lower()))
            folder.mkdir(parents=True, exist_ok=True)
            if name in FAX_STORED:
                img.save(folder / f"page-{i}.tif", compression="group3", dpi=(204, 98))
            else:
                img.save(folder / f"page-{i}.png", dpi=(DPI, DPI))
    gold_codes = codes(args.bin, gold)
    print(f"{args.pages} pages per treatment, {sum(len(c) for c in gold_codes.values())} codes in their text;")
    print("word accuracy (%), recall of the text's codes (%), pages/min (tesseract: one process a page, two at a time)")
    head = ("words", "", "codes", "", "pages/min", "")
    print(f"{'':<26} " + " ".join(f"{h:>10}" for h in head))
    print(f"{'treatment':<26} " + " ".join(f"{h:>10}" for h in ("tesseract", "paperchart") * 3))
    rows = []
    for name, folder in folders.items():
        texts, secs = paperchart(args.bin, folder)
        files = {f.stem: f for f in folder.iterdir()}
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            raw_texts = dict(zip(sorted(gold), pool.map(lambda p: tesseract(files[p]), sorted(gold))))
        raw_secs = time.monotonic() - started
        raw = [accuracy(gold[p], raw_texts[p]) for p in sorted(gold)]
        ours = [accuracy(gold[p], texts.get(p, "")) for p in sorted(gold)]
        raw_codes = recall(gold_codes, codes(args.bin, raw_texts))
        our_codes = recall(gold_codes, codes(args.bin, {p: texts.get(p, "") for p in gold}))
        row = (
            name,
            100 * sum(raw) / len(raw),
            100 * sum(ours) / len(ours),
            100 * raw_codes,
            100 * our_codes,
            60 * len(gold) / raw_secs,
            60 * len(gold) / secs,
        )
        rows.append(row)
        print(f"{row[0]:<26} " + " ".join(f"{v:>10.1f}" for v in row[1:]), flush=True)
    mean = lambda i: sum(r[i] for r in rows) / len(rows)  # noqa: E731
    print(f"{'mean over treatments':<26} " + " ".join(f"{mean(i):>10.1f}" for i in range(1, 5)))
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
