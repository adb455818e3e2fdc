#!/usr/bin/env python3
"""Writes an image-only PDF whose pages are the given JPEG files, repeated: a large scanned
document for the memory benchmark. Every page gets its own image object, as a scanner writes
them, so the file grows with the page count. Standard library only; the JPEGs are embedded as
they are.

    python3 scripts/data/make_big_pdf.py [--shared] OUT.pdf PAGES page1.jpg [page2.jpg ...]

With --shared, pages reuse the image objects instead: a 300-page document of a few megabytes,
which separates memory that grows with the page count from memory that grows with file size.
"""
import struct
import sys


def jpeg_size(data):
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h, data[i + 9]
        i += 2 + length
    raise ValueError("no JPEG frame header")


def main():
    args = sys.argv[1:]
    shared = args[0] == "--shared"
    if shared:
        args = args[1:]
    out, pages, files = args[0], int(args[1]), args[2:]
    images = [open(f, "rb").read() for f in files]
    offsets, body = [], bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def obj(num, payload):
        offsets.append((num, len(body)))
        body.extend(f"{num} 0 obj\n".encode() + payload + b"\nendobj\n")

    # 1 catalog, 2 pages, then per page: page, contents, image
    kids = " ".join(f"{3 + 3 * p} 0 R" for p in range(pages))
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
    for p in range(pages):
        page, contents, img = 3 + 3 * p, 4 + 3 * p, 5 + 3 * p
        data = images[p % len(images)]
        if shared and p >= len(images):
            img = 5 + 3 * (p % len(images))
        w, h, comps = jpeg_size(data)
        cs = "/DeviceGray" if comps == 1 else "/DeviceRGB"
        content = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
        obj(page, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                  f"/Resources << /XObject << /Im0 {img} 0 R >> >> /Contents {contents} 0 R >>".encode())
        obj(contents, f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
        if shared and p >= len(images):
            obj(5 + 3 * p, b"null")  # keeps the object numbering regular
            continue
        obj(img, f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {cs} "
                 f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>\nstream\n".encode()
            + data + b"\nendstream")
    xref = len(body)
    count = 3 + 3 * pages
    table = {n: o for n, o in offsets}
    body.extend(f"xref\n0 {count}\n0000000000 65535 f \n".encode())
    for n in range(1, count):
        body.extend(f"{table[n]:010d} 00000 n \n".encode())
    body.extend(f"trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    with open(out, "wb") as f:
        f.write(body)


if __name__ == "__main__":
    main()
