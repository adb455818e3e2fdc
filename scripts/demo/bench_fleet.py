#!/usr/bin/env python3
"""Worker CPU time per page outside OCR, with canned Textract responses (`make bench-fleet`).

Textract's answers for the sample documents are computed once (Tesseract, as moto_server.py
does) and stored as canned responses in the `<intake bucket>-fixtures` bucket, so the
emulated Textract returns them at once. Then one release `paperchart worker` takes every
upload through the two queues — S3 event, StartDocumentAnalysis, job record, completion notice,
GetDocumentAnalysis paging, blocks to the document model, NLP, FHIR mapping, the REST write to
a Helios FHIR server — and its CPU time (user + system, from /proc) is divided by the pages.
moto counts the AWS requests by kind (`moto_server.py --census`); they are printed per document.

    .cache/py-tools/bin/python -m scripts.demo.bench_fleet --bin target/release --copies 10
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time

import boto3  # noqa: E402
from scripts.demo import fleet_demo as demo  # noqa: E402
from scripts.harness import fleet_stack, moto_server  # noqa: E402

ROOT = demo.ROOT


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_faults(pid):
    """Minor page faults so far: fresh memory the kernel had to zero."""
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[7])


def read_census(proc, path):
    """moto's request counts by kind (scripts/harness/moto_server.py --census), as of now."""
    mtime = os.path.getmtime(path) if os.path.exists(path) else 0
    proc.send_signal(signal.SIGUSR1)
    demo.wait("the request census", lambda: os.path.exists(path) and os.path.getmtime(path) != mtime, 10)
    return json.load(open(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--hfs", default=os.path.join(ROOT, ".cache", "hfs", "bin", "hfs"))
    ap.add_argument("--copies", type=int, default=10, help="uploads of each sample document")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-fleet-out"))
    ap.add_argument("--profile", metavar="PERF_DATA", help="record the worker with `perf record` into this file")
    a = ap.parse_args()
    a.bin, a.hfs, a.out = (os.path.abspath(x) for x in (a.bin, a.hfs, a.out))
    os.makedirs(a.out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(ROOT, "samples", "documents", "*")))
    canned = {}
    for f in files:
        blocks, pages = moto_server.ocr(open(f, "rb").read())
        canned[f] = (json.dumps({"DocumentMetadata": {"Pages": pages}, "Blocks": blocks}), pages)
    procs = []
    try:
        moto_port, fhir_port = demo.free_port(), demo.free_port()
        moto, fhir = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{fhir_port}"
        census = os.path.join(a.out, "requests.json")
        moto_proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "harness", "moto_server.py"),
                                      "--port", str(moto_port), "--census", census, "--keep-alive"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(moto_proc)
        procs.append(subprocess.Popen([a.hfs, "--host", "127.0.0.1", "--port", str(fhir_port), "--database-url", ":memory:",
                                       "--log-level", "error"], env=dict(os.environ, HFS_VALIDATION_MODE="enforce"),
                                      cwd=a.out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        demo.wait("moto", lambda: demo.get(f"{moto}/moto-api/")[0] == 200, 60)
        demo.wait("the FHIR server", lambda: demo.get(f"{fhir}/metadata")[0] == 200, 60)
        stack = fleet_stack.replay(moto)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERCHART__")}
        env.update(stack, PAPERCHART__FLEET__WAIT_SECS="1", PAPERCHART__FLEET__HEALTH_PORT=str(demo.free_port()),
                   PAPERCHART__FLEET__TEXTRACT_START_PER_SEC="50", PAPERCHART__FLEET__TEXTRACT_GET_PER_SEC="50",
                   PAPERCHART_LOG="info")
        log = os.path.join(a.out, "worker.log")
        worker = subprocess.Popen([os.path.join(a.bin, "paperchart"), "worker", "--sink", "fhir", "--fhir-url", fhir],
                                  env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        procs.append(worker)
        port = env["PAPERCHART__FLEET__HEALTH_PORT"]
        demo.wait("the worker", lambda: demo.get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 120)
        time.sleep(2)  # the test event
        s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        bucket = stack["INTAKE_BUCKET"]
        # The canned answers' bucket, out of reach of the intake bucket's notifications.
        s3.create_bucket(Bucket=bucket + "-fixtures")
        pages = 0
        uploads = []
        for i in range(a.copies):
            for f in files:
                key = f"bench/{i:03d}/{os.path.basename(f)}"
                body, n = canned[f]
                s3.put_object(Bucket=bucket + "-fixtures", Key=key + ".textract.json", Body=body.encode())
                # Each copy a content of its own (a trailer after the file's end): the fleet
                # writes one content once, whatever key it comes under.
                data = open(f, "rb").read() + f"\n%bench-{i:03d}\n".encode()
                uploads.append((key, data))
                pages += n
        if a.profile:
            perf = subprocess.Popen(["perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-o", a.profile, "-p", str(worker.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(perf)
            time.sleep(1)
        before = read_census(moto_proc, census)
        cpu0, faults0, t0 = cpu_seconds(worker.pid), page_faults(worker.pid), time.time()
        for key, data in uploads:
            s3.put_object(Bucket=bucket, Key=key, Body=data)

        def written():
            """Completion notices settled as written (the worker's message_settled events)."""
            n = 0
            for line in open(log):
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                n += e.get("event") == "message_settled" and e.get("queue") == "completion" and e.get("settlement") == "written"
            return n
        demo.wait("every document written", lambda: written() >= len(uploads), 1800)
        wall, cpu = time.time() - t0, cpu_seconds(worker.pid) - cpu0
        faults = page_faults(worker.pid) - faults0
        after = read_census(moto_proc, census)
        n = len(uploads)
        print("AWS requests per document (the uploads' own PUTs included):")
        rows = sorted(((after.get(k, 0) - before.get(k, 0)) / n, k) for k in after)
        for per, k in reversed(rows):
            if per >= 0.01:
                print(f"  {per:6.2f}  {k}")
        print(f"  {sum(p for p, _ in rows):6.2f}  in all")
        print(f"documents {len(uploads)}, pages {pages}, wall {wall:.1f} s, worker CPU {cpu:.2f} s")
        print(f"worker CPU per page outside OCR: {cpu / pages * 1000:.1f} ms ({faults / pages:.0f} page faults a page)")
        print(f"documents/min through one worker with canned Textract: {len(uploads) / wall * 60:.0f}")
        return 0
    finally:
        demo.stop(procs)


if __name__ == "__main__":
    sys.exit(main())
