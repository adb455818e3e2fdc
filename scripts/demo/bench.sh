#!/usr/bin/env bash
# paperchart's benchmark: a report, not a test. Run with `make bench`.
#
# 1. OCR throughput on the same rendered pages: paperchart run against raw `tesseract` CLI
#    processes, as many in parallel as there are cores (goal: at least 0.9 of raw).
# 2. Text-layer PDF throughput.
# 3. Peak memory for a 3-page and a 300-page scanned PDF (goal: within 1.3x).
# 4. Terminology load time and resident memory of the NLP engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.cache/bench
BIN=target/release/paperchart
CORES=$(nproc)
export OMP_THREAD_LIMIT=1
rm -rf "$B" && mkdir -p "$B/pages" "$B/text" "$B/big"
for tool in pdftoppm pdfimages /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install poppler-utils time" >&2; exit 1; }
done
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

# The three scanned pages of the discharge summary, rendered once at 300 dpi, eight copies each.
pdftoppm -r 300 -gray -png samples/documents/discharge-summary-scanned.pdf "$B/p"
for i in $(seq 1 8); do for p in 1 2 3; do cp "$B/p-$p.png" "$B/pages/page-$i-$p.png"; done; done
PAGES=$(ls "$B/pages" | wc -l)

t0=$(now)
ls "$B"/pages/*.png | xargs -P "$CORES" -I{} tesseract {} - >/dev/null 2>&1
t1=$(now)
RAW=$(secs "$t0" "$t1")

t0=$(now)
"$BIN" run --no-progress --out "$B/out-pages" "$B/pages" >/dev/null
t1=$(now)
PC=$(secs "$t0" "$t1")

# Text-layer PDFs: 200 copies of the lab report.
for i in $(seq 1 200); do cp samples/documents/lab-report.pdf "$B/text/lab-$i.pdf"; done
t0=$(now)
"$BIN" run --no-progress --out "$B/out-text" "$B/text" >/dev/null
t1=$(now)
TEXT=$(secs "$t0" "$t1")

# Memory: the same three scanned pages as a 3-page PDF, as a 300-page PDF with an image per page
# (as a scanner writes it), and as a 300-page PDF whose pages share three images (a small file:
# what grows with the page count rather than with the file).
pdfimages -j samples/documents/discharge-summary-scanned.pdf "$B/img"
python3 scripts/data/make_big_pdf.py "$B/big/scan-3.pdf" 3 "$B"/img-*.jpg
python3 scripts/data/make_big_pdf.py "$B/big/scan-300.pdf" 300 "$B"/img-*.jpg
python3 scripts/data/make_big_pdf.py --shared "$B/big/shared-300.pdf" 300 "$B"/img-*.jpg
MEM3=$(peak_kb "$BIN" run --no-progress --out "$B/out-3" "$B/big/scan-3.pdf")
t0=$(now)
MEM300=$(peak_kb "$BIN" run --no-progress --out "$B/out-300" "$B/big/scan-300.pdf")
t1=$(now)
BIG=$(secs "$t0" "$t1")
MEMSHARED=$(peak_kb "$BIN" run --no-progress --out "$B/out-shared" "$B/big/shared-300.pdf")
SIZE3=$(du -k "$B/big/scan-3.pdf" | cut -f1)
SIZE300=$(du -m "$B/big/scan-300.pdf" | cut -f1)
SIZESHARED=$(du -k "$B/big/shared-300.pdf" | cut -f1)

# The NLP engine alone: terminology load time (from its log) and resident memory.
echo '{"id":"1","text":"Patient denies chest pain."}' > "$B/note.jsonl"
NLPMEM=$(PAPERCHART_LOG=info /usr/bin/time -f %M -o "$B/nlp.mem" "$BIN" nlp extract < "$B/note.jsonl" 2> "$B/nlp.log" >/dev/null; tail -1 "$B/nlp.mem")
LOAD=$(python3 -c "import json,sys; print(next(json.loads(l)['millis'] for l in open('$B/nlp.log') if 'terminology loaded' in l))")

python3 - "$PAGES" "$RAW" "$PC" "$TEXT" "$MEM3" "$MEM300" "$BIG" "$SIZE300" "$LOAD" "$NLPMEM" "$CORES" "$MEMSHARED" "$SIZE3" "$SIZESHARED" <<'PY' | tee "$B/report.md"
import sys
pages, raw, pc, text, m3, m300, big, size300, load, nlpmem, cores, mshared, size3, sizeshared = sys.argv[1:]
pages, raw, pc, text, big, load = int(pages), float(raw), float(pc), float(text), float(big), int(load)
m3, m300, nlpmem, mshared = int(m3) / 1024, int(m300) / 1024, int(nlpmem) / 1024, int(mshared) / 1024
print(f"## paperchart benchmark ({cores} cores)\n")
print("| measure | result | goal |")
print("|---|---|---|")
print(f"| scanned pages/min, raw `tesseract` x{cores} processes ({pages} pages at 300 dpi) | {pages / raw * 60:.1f} | |")
print(f"| scanned pages/min, `paperchart run` (same pages, to FHIR) | {pages / pc * 60:.1f} | |")
print(f"| paperchart / raw | {raw / pc:.2f} | >= 0.9 |")
print(f"| text-layer PDF pages/min (200 one-page lab reports) | {200 / text * 60:.0f} | |")
print(f"| peak memory, 3-page scanned PDF ({size3} KB) | {m3:.0f} MB | |")
print(f"| peak memory, 300-page scanned PDF, an image per page ({size300} MB file, {big:.0f} s) | {m300:.0f} MB | |")
print(f"| 300-page / 3-page peak memory | {m300 / m3:.2f} | <= 1.3 |")
print(f"| peak memory, 300-page PDF sharing its 3 page images ({sizeshared} KB file) | {mshared:.0f} MB | |")
print(f"| 300-page (shared images) / 3-page peak memory | {mshared / m3:.2f} | <= 1.3 |")
print(f"| terminology load; peak memory of `paperchart nlp extract` | {load} ms; {nlpmem:.0f} MB | < 1 s; < 300 MB |")
PY
echo
echo "report: $B/report.md (reproduce with: make bench)"
