#!/usr/bin/env python3
"""Starts a moto server on 127.0.0.1 for paperchart's tests and local fleet.

moto emulates S3, SQS and SNS (with S3 -> SQS notifications and SNS -> SQS delivery) well
enough; what paperchart needs from it beyond that is patched here before the server starts:

- S3: an object stored with SSE-KMS gets an eTag that is no digest of its content, as on AWS
  (moto gives every object the MD5 of its bytes, which would hide that the same bytes uploaded
  twice get two eTags).
- SQS: a stale receipt handle cannot change a message's visibility (as in SQS); a queue's
  RedriveAllowPolicy is returned by GetQueueAttributes (terraform waits to read it back).
- Textract: StartDocumentAnalysis honours ClientRequestToken (same token, same job), JobTag and
  NotificationChannel (the completion notice is published to the topic, as Textract does), and
  runs a real OCR of the S3 object in the background: a `<key>.textract.json` stored beside the
  object (or under the same key in a bucket named `<bucket>-fixtures`, out of reach of the
  bucket's notifications) is returned as it is, otherwise Tesseract reads it (PDF pages rendered by pdftoppm) and
  its words become PAGE/LINE/WORD blocks. Missing or unreadable objects give a FAILED job.
  GetDocumentAnalysis reports IN_PROGRESS until then, pages blocks by MaxResults/NextToken, and
  returns DocumentMetadata.Pages as the integer the SDK expects.
- `--census FILE`: every request counted by service and action (S3 by method and key kind), written
  to FILE as JSON on SIGUSR1 and at exit; `make bench-fleet` divides it by documents.
- `--keep-alive`: the same emulator served by waitress, which keeps HTTP/1.1 connections open as
  AWS's endpoints do (werkzeug's server closes every connection, so a client would connect once
  per request); `make bench-fleet` uses it, so a worker's CPU is not spent on the emulator's
  connections.
- Faults on request, for tests: a key containing `__throttleN__` makes the first N starts for it
  fail with ThrottlingException, `__limitN__` with LimitExceededException; `__badjob__` makes
  the job itself FAILED (BAD_DOCUMENT), as Textract does for documents it cannot read.

    .cache/py-tools/bin/python scripts/harness/moto_server.py --port 5000
"""
import argparse
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from moto.core.exceptions import JsonRESTError
from moto.s3.models import FakeKey, s3_backends
from moto.server import ThreadedMotoServer
from moto.sns import sns_backends
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.textract.responses import TextractResponse


def patch_s3():
    digest = FakeKey.etag

    def etag(self):
        # Multipart objects come with their own eTag (`<md5 of md5s>-<parts>`), kept as it is.
        if self._etag is None and self.encryption == "aws:kms":
            self._etag = uuid.uuid4().hex
        return digest.fget(self)

    FakeKey.etag = property(etag)


def patch_sqs():
    """SQS refuses to change the visibility of a message through a receipt handle from an earlier
    delivery: once the message was received again, only the newest handle holds it. moto accepts
    any handle the message ever had, which would hide the case where a worker lost its lease."""
    original = sqs_models.SQSBackend.change_message_visibility

    def change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
        queue = self.get_queue(queue_name)
        for message in queue._messages:
            if message.had_receipt_handle(receipt_handle) and message.receipt_handle != receipt_handle:
                raise ReceiptHandleIsInvalid()
        return original(self, queue_name, receipt_handle, visibility_timeout)

    sqs_models.SQSBackend.change_message_visibility = change_message_visibility

    # A dead-letter queue's RedriveAllowPolicy (which queues may use it) is stored by moto but
    # never returned, so terraform's aws_sqs_queue_redrive_allow_policy waited for it forever;
    # RedrivePolicy comes back as compact JSON, as from SQS, so a second plan shows no change.
    attributes = sqs_models.Queue.attributes.fget

    def with_redrive_allow(self):
        result = attributes(self)
        if result.get("RedrivePolicy"):  # compact, as SQS writes it (terraform saw a diff)
            result["RedrivePolicy"] = json.dumps(json.loads(result["RedrivePolicy"]), separators=(",", ":"))
        if getattr(self, "redrive_allow_policy", None):
            result["RedriveAllowPolicy"] = self.redrive_allow_policy
        return result

    sqs_models.Queue.attributes = property(with_redrive_allow)
    get_attributes = sqs_models.SQSBackend.get_queue_attributes

    def get_queue_attributes(self, queue_name, attribute_names):
        others = [n for n in attribute_names if n != "RedriveAllowPolicy"]
        result = get_attributes(self, queue_name, others) if others else {}
        if len(others) < len(attribute_names):  # asked by name ("All" has it already)
            allow = self.get_queue(queue_name).attributes.get("RedriveAllowPolicy")
            if allow:
                result["RedriveAllowPolicy"] = allow
        return result

    sqs_models.SQSBackend.get_queue_attributes = get_queue_attributes


class TextractError(JsonRESTError):
    code = 400

    def __init__(self, kind, message):
        super().__init__(kind, message)


JOBS = {}          # job id -> job
TOKENS = {}        # ClientRequestToken -> job id
FAULTS = {}        # (kind, key) -> failures so far
LOCK = threading.Lock()


def tsv_blocks(tsv, page_offset, blocks, page_ids):
    """Tesseract TSV -> Textract PAGE/LINE/WORD blocks with page-relative geometry."""
    rows = list(csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE))
    size = {}
    lines = {}
    for r in rows:
        page = int(r["page_num"]) + page_offset
        if r["level"] == "1":
            size[page] = (float(r["width"]), float(r["height"]))
        if r["level"] != "5" or not (r.get("text") or "").strip():
            continue
        key = (page, r["block_num"], r["par_num"], r["line_num"])
        lines.setdefault(key, []).append(r)
    for page in sorted(size):
        pid = str(uuid.uuid4())
        page_ids.append(pid)
        w, h = size[page]
        children = []
        blocks.append({"BlockType": "PAGE", "Id": pid, "Page": page, "Relationships": [{"Type": "CHILD", "Ids": children}],
                       "Geometry": {"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 1}}})
        for key in sorted(k for k in lines if k[0] == page):
            words = lines[key]
            lid = str(uuid.uuid4())
            children.append(lid)
            wids = []
            def box(r):
                return {"Left": float(r["left"]) / w, "Top": float(r["top"]) / h, "Width": float(r["width"]) / w, "Height": float(r["height"]) / h}
            for r in words:
                wid = str(uuid.uuid4())
                wids.append(wid)
                blocks.append({"BlockType": "WORD", "Id": wid, "Page": page, "Text": r["text"], "TextType": "PRINTED",
                               "Confidence": max(0.0, float(r["conf"])), "Geometry": {"BoundingBox": box(r)}})
            left = min(float(r["left"]) for r in words); top = min(float(r["top"]) for r in words)
            right = max(float(r["left"]) + float(r["width"]) for r in words); bottom = max(float(r["top"]) + float(r["height"]) for r in words)
            blocks.append({"BlockType": "LINE", "Id": lid, "Page": page, "Text": " ".join(r["text"] for r in words),
                           "Confidence": sum(max(0.0, float(r["conf"])) for r in words) / len(words),
                           "Geometry": {"BoundingBox": {"Left": left / w, "Top": top / h, "Width": (right - left) / w, "Height": (bottom - top) / h}},
                           "Relationships": [{"Type": "CHILD", "Ids": wids}]})
    return max(size) - page_offset if size else 0


def ocr(data):
    """Blocks and page count of a document's bytes, by Tesseract."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    blocks, page_ids = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if data[:1024].find(b"%PDF-") >= 0:
            src = os.path.join(tmp, "doc.pdf")
            open(src, "wb").write(data)
            try:
                subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", src, os.path.join(tmp, "p")], check=True, env=env,
                               capture_output=True)
            except subprocess.CalledProcessError:
                raise ValueError("BAD_DOCUMENT")
            images = sorted(f for f in os.listdir(tmp) if f.startswith("p") and f.endswith(".png"))
            offset = 0
            for img in images:
                out = subprocess.run(["tesseract", os.path.join(tmp, img), "-", "tsv"], check=True, capture_output=True, text=True, env=env)
                offset += tsv_blocks(out.stdout, offset, blocks, page_ids)
            return blocks, offset
        if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8\xff") or data[:4] in (b"II*\x00", b"MM\x00*")):
            raise ValueError("UNSUPPORTED_DOCUMENT")
        src = os.path.join(tmp, "doc")
        open(src, "wb").write(data)
        out = subprocess.run(["tesseract", src, "-", "tsv"], check=True, capture_output=True, text=True, env=env)
        pages = tsv_blocks(out.stdout, 0, blocks, page_ids)
        return blocks, pages


def fault(kind, key):
    m = re.search(r"__%s(\d+)__" % kind, key)
    if not m:
        return False
    with LOCK:
        n = FAULTS.get((kind, key), 0)
        if n < int(m.group(1)):
            FAULTS[(kind, key)] = n + 1
            return True
    return False


def run_job(job, account, region):
    s3 = s3_backends[account]["aws"]
    loc = job["location"]
    try:
        obj = s3.get_object(loc["Bucket"], loc["Name"], loc.get("Version"))
        if obj is None:
            raise KeyError("missing")
        if "__badjob__" in loc["Name"]:
            raise ValueError("BAD_DOCUMENT")
        fixture = s3.get_object(loc["Bucket"], loc["Name"] + ".textract.json")
        if fixture is None:
            try:
                fixture = s3.get_object(loc["Bucket"] + "-fixtures", loc["Name"] + ".textract.json")
            except Exception:  # noqa: BLE001 - no fixtures bucket
                fixture = None
        if fixture is not None:
            resp = json.loads(fixture.value)
            job["blocks"] = resp["Blocks"]
            job["pages"] = int(resp.get("DocumentMetadata", {}).get("Pages", 1))
        else:
            job["blocks"], job["pages"] = ocr(obj.value)
        job["status"] = "SUCCEEDED"
    except KeyError:
        job["status"], job["message"] = "FAILED", "INVALID_S3_OBJECT: Unable to get object metadata from S3"
    except ValueError as e:
        why = {"BAD_DOCUMENT": "the document cannot be read"}.get(str(e), "the document format is not supported")
        job["status"], job["message"] = "FAILED", f"{e}: {why}"
    except Exception as e:  # noqa: BLE001 - the emulator reports every failure as Textract would
        job["status"], job["message"] = "FAILED", f"INTERNAL_ERROR: {type(e).__name__}"
    channel = job.get("channel") or {}
    if channel.get("SNSTopicArn"):
        notice = {"JobId": job["id"], "Status": job["status"], "API": "StartDocumentAnalysis", "JobTag": job.get("tag", ""),
                  "Timestamp": int(time.time() * 1000), "DocumentLocation": {"S3ObjectName": loc["Name"], "S3Bucket": loc["Bucket"]}}
        try:
            sns_backends[account][region].publish(message=json.dumps(notice), arn=channel["SNSTopicArn"], subject=None)
        except Exception as e:  # noqa: BLE001
            print(f"textract notice not published: {e}", file=sys.stderr)


def start_document_analysis(self):
    params = json.loads(self.body)
    loc = (params.get("DocumentLocation") or {}).get("S3Object") or {}
    if not loc.get("Bucket") or not loc.get("Name") or not params.get("FeatureTypes"):
        raise TextractError("InvalidParameterException", "DocumentLocation.S3Object and FeatureTypes are required")
    key = loc["Name"]
    if fault("throttle", key):
        raise TextractError("ThrottlingException", "Rate exceeded")
    if fault("limit", key):
        raise TextractError("LimitExceededException", "Too many concurrent jobs")
    token = params.get("ClientRequestToken")
    with LOCK:
        if token and token in TOKENS:
            return json.dumps({"JobId": TOKENS[token]})
        job = {"id": uuid.uuid4().hex, "status": "IN_PROGRESS", "location": loc, "tag": params.get("JobTag", ""),
               "channel": params.get("NotificationChannel"), "started": time.time()}
        JOBS[job["id"]] = job
        if token:
            TOKENS[token] = job["id"]
    threading.Thread(target=run_job, args=(job, self.current_account, self.region), daemon=True).start()
    return json.dumps({"JobId": job["id"]})


def get_document_analysis(self):
    params = json.loads(self.body)
    job = JOBS.get(params.get("JobId"))
    if job is None:
        raise TextractError("InvalidJobIdException", "An invalid job identifier was passed.")
    if job["status"] == "IN_PROGRESS":
        return json.dumps({"JobStatus": "IN_PROGRESS"})
    if job["status"] == "FAILED":
        return json.dumps({"JobStatus": "FAILED", "StatusMessage": job["message"]})
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 1000)
    blocks = job["blocks"][start:start + size]
    out = {"JobStatus": "SUCCEEDED", "DocumentMetadata": {"Pages": job["pages"]}, "Blocks": blocks,
           "AnalyzeDocumentModelVersion": "1.0"}
    if start + size < len(job["blocks"]):
        out["NextToken"] = str(start + size)
    return json.dumps(out)


def patch_textract():
    TextractResponse.start_document_analysis = start_document_analysis
    TextractResponse.get_document_analysis = get_document_analysis


CENSUS = {}
CENSUS_LOCK = threading.Lock()


def census_kind(environ):
    """What a request is, without its names: `sqs ReceiveMessage`, `s3 PUT jobs/`."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, action = target.rpartition(".")
        return f"{service.split('_')[0].lower()} {action}"
    path = environ.get("PATH_INFO", "")
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return f"query {environ.get('REQUEST_METHOD')} {path}"
    parts = path.strip("/").split("/")
    # The key's first segment below the work prefix says what kind of object it is.
    kind = "/".join(parts[1:3]) if len(parts) > 2 else "/".join(parts[1:2])
    kind = re.sub(r"[0-9a-f]{16,}.*", "<id>", kind)
    kind = re.sub(r"\d+", "N", kind)
    return f"s3 {environ.get('REQUEST_METHOD')} {kind if len(parts) > 2 else parts[0] and 'bucket'}"


def count_requests(path):
    from moto.moto_server import werkzeug_app

    call = werkzeug_app.DomainDispatcherApplication.__call__

    def counted(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            with CENSUS_LOCK:
                k = census_kind(environ)
                CENSUS[k] = CENSUS.get(k, 0) + 1
        return call(self, environ, start_response)

    werkzeug_app.DomainDispatcherApplication.__call__ = counted


def write_census(path):
    with CENSUS_LOCK, open(path + ".tmp", "w") as f:
        json.dump(CENSUS, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


class KeptAliveServer:
    """moto's WSGI application behind waitress, which keeps connections open between requests."""

    def __init__(self, host, port):
        import waitress
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        self.server = waitress.create_server(app, host=host, port=port, threads=8, channel_timeout=60)

    def start(self):
        threading.Thread(target=self.server.run, daemon=True).start()

    def stop(self):
        self.server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5000)
    ap.add_argument("--census", metavar="FILE", help="count requests by kind into FILE (JSON)")
    ap.add_argument("--keep-alive", action="store_true", help="serve with waitress: connections kept open, as AWS does")
    a = ap.parse_args()
    if a.census:
        count_requests(a.census)
    patch_s3()
    patch_sqs()
    patch_textract()
    server = KeptAliveServer(a.host, a.port) if a.keep_alive else ThreadedMotoServer(ip_address=a.host, port=a.port, verbose=False)
    server.start()
    print(f"moto listening on http://{a.host}:{a.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if a.census:
        signal.signal(signal.SIGUSR1, lambda *_: write_census(a.census))
    stop.wait()
    server.stop()
    if a.census:
        write_census(a.census)


if __name__ == "__main__":
    sys.exit(main())
