#!/usr/bin/env python3
"""The fleet's AWS resources on a moto server, from the terraform module itself (terraform/local).

    fleet_stack.py record                                      # applies the module once, keeps its requests
    fleet_stack.py --endpoint http://127.0.0.1:5000 replay     # the same resources on this moto; prints
                                                               #   the worker's environment as JSON
    fleet_stack.py --endpoint ... upload FILE... [--prefix P]  # puts files in the intake bucket
    fleet_stack.py --endpoint ... dead-letters                 # prints what the DLQs hold (ids and reasons)

The resources have one description, the terraform module: `terraform` and `module_outputs` apply
it on moto (scripts/ci/terraform_moto.py checks what it creates; `make fleet-demo` runs a fleet on
it). Applying it takes a minute or two, too long for every integration test, so `record` applies
it once to a moto whose recorder keeps every request it was sent, and saves those requests with
the module's outputs under .cache/fleet-stack/<digest of terraform/>; `replay` sends them again to
a fresh moto (a second or two), checks the queues and buckets the outputs name exist, and prints
the settings that name them. A change to any .tf file makes a new digest, so a new recording.
KMS key ids are minted by moto and differ between a recording and its replays (resources keep
the recorded key's ARN; moto does not check it, and nothing in the tests decrypts).
"""
import argparse
import base64
import fcntl
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF = [os.path.join(ROOT, "scripts", "ci", "terraform.sh"), f"-chdir={os.path.join(ROOT, 'terraform', 'local')}"]
CACHE = os.path.join(ROOT, ".cache", "fleet-stack")
# The settings that name the module's resources; the tests choose the rest (rates, ports, lease).
RESOURCE_SETTINGS = (
    "PAPERCHART__FLEET__INTAKE_QUEUE_URL",
    "PAPERCHART__FLEET__INTAKE_DLQ_URL",
    "PAPERCHART__FLEET__COMPLETION_QUEUE_URL",
    "PAPERCHART__FLEET__COMPLETION_DLQ_URL",
    "PAPERCHART__FLEET__TEXTRACT_SNS_TOPIC_ARN",
    "PAPERCHART__FLEET__TEXTRACT_ROLE_ARN",
    "PAPERCHART__FLEET__WORK_BUCKET",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def terraform(work, command, *args, ok=(0,)):
    """`terraform <command>` on terraform/local with its provider cache and state under `work`:
    prints the exit code and time, stops with the output's tail when the code is not in `ok`."""
    env = dict(os.environ, TF_DATA_DIR=os.path.join(work, "terraform"), TF_INPUT="0")
    state = [] if command == "init" else [f"-state={os.path.join(work, 'terraform.tfstate')}"]
    started = time.monotonic()
    out = subprocess.run([*TF, command, "-no-color", *state, *args], env=env, capture_output=True, text=True)
    print(f"terraform {command}: exit {out.returncode} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    if out.returncode not in ok:
        sys.stderr.write(out.stdout[-6000:] + out.stderr[-6000:])
        raise SystemExit(f"terraform {command} failed")
    return out


def module_outputs(work):
    """The module's outputs (terraform/local's `fleet`) of the stack applied under `work`."""
    return json.loads(terraform(work, "output", "-json").stdout)["fleet"]["value"]


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("s3", **kw), boto3.client("sqs", **kw), boto3.client("sns", **kw)


def http(method, url, body=None, headers=None):
    """(status, body) of one request; an HTTP error status is an answer, not an exception."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for_moto(endpoint, proc):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"moto exited at start ({proc.returncode})")
        try:
            if http("GET", f"{endpoint}/moto-api/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("moto did not answer in 60 s")


def digest():
    """Digest of the module and its local wrapper: the recording's key."""
    h = hashlib.sha256(b"fleet-stack 1\n")
    files = sorted(glob.glob(os.path.join(ROOT, "terraform", "*.tf")) + glob.glob(os.path.join(ROOT, "terraform", "local", "*.tf")))
    for f in files:
        h.update(os.path.relpath(f, ROOT).encode() + b"\0" + open(f, "rb").read() + b"\0")
    return h.hexdigest()[:16]


def record():
    """The directory holding the module's recorded requests (`requests.jsonl`), the endpoint they
    were sent to (`endpoint`) and its outputs (`outputs.json`): made once per digest, under a
    lock so that concurrent tests wait for one recording."""
    done = os.path.join(CACHE, digest())
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(done, "outputs.json")):
            return done
        work = tempfile.mkdtemp(prefix="record-", dir=CACHE)
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=os.path.join(work, "requests.jsonl"))
        moto = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "harness", "moto_server.py"), "--port", str(port)],
                                env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_moto(endpoint, moto)
            http("POST", f"{endpoint}/moto-api/recorder/reset-recording")
            http("POST", f"{endpoint}/moto-api/recorder/start-recording")
            terraform(work, "init", "-backend=false")
            terraform(work, "apply", "-auto-approve", "-var", f"endpoint={endpoint}")
            http("POST", f"{endpoint}/moto-api/recorder/stop-recording")
            outputs = module_outputs(work)
        finally:
            moto.kill()
            moto.wait()
        os.makedirs(done, exist_ok=True)
        shutil.move(os.path.join(work, "requests.jsonl"), os.path.join(done, "requests.jsonl"))
        with open(os.path.join(done, "endpoint"), "w") as f:
            f.write(endpoint)
        with open(os.path.join(done, "outputs.json"), "w") as f:  # last: its presence marks the recording whole
            json.dump(outputs, f, indent=2)
        shutil.rmtree(work, ignore_errors=True)
        return done


def replay(endpoint):
    """Creates the module's resources on the moto at `endpoint` from the recording and returns the
    worker's environment naming them (plus INTAKE_BUCKET for the tests)."""
    rec = record()
    recorded = open(os.path.join(rec, "endpoint")).read().strip()
    with open(os.path.join(rec, "requests.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            body = r.get("body") or b""
            body = base64.b64decode(body) if r.get("body_encoded") else (body.encode() if isinstance(body, str) else body)
            headers = {k: v for k, v in r["headers"].items() if k.lower() not in ("host", "content-length", "transfer-encoding")}
            # Reads of what does not exist yet and KMS calls naming the recorded key id answer
            # 4xx here as they may have there; what must exist is checked below.
            http(r["method"], endpoint + r["url"].split(recorded, 1)[-1], body or None, headers)
    outputs = json.loads(open(os.path.join(rec, "outputs.json")).read().replace(recorded, endpoint))
    s3, sqs, _ = clients(endpoint)
    for url in outputs["queues"].values():
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    for bucket in (outputs["intake_bucket"], outputs["work_bucket"]):
        s3.head_bucket(Bucket=bucket)
    env = {k: outputs["environment"][k] for k in RESOURCE_SETTINGS}
    env.update({
        "PAPERCHART__AWS__REGION": "us-east-1",
        "PAPERCHART__AWS__ENDPOINT_URL": endpoint,
        "PAPERCHART__AWS__S3_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "INTAKE_BUCKET": outputs["intake_bucket"],
    })
    return env


def upload(endpoint, files, prefix, bucket):
    s3, _, _ = clients(endpoint)
    for f in files:
        key = prefix + os.path.basename(f)
        s3.upload_file(f, bucket, key)
        print(f"s3://{bucket}/{key}")


def dead_letters(endpoint, names=("paperchart-intake-dlq", "paperchart-completion-dlq")):
    """Queue name -> [{message_id, reason}] of what each dead-letter queue holds."""
    _, sqs, _ = clients(endpoint)
    out = {}
    for name in names:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        seen = []
        while True:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                reason = m.get("MessageAttributes", {}).get("paperchart-reason", {}).get("StringValue", "(exceeded maxReceiveCount)")
                seen.append({"message_id": m["MessageId"], "reason": reason})
        out[name] = seen
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", help="the moto server (all but record)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("record")
    sub.add_parser("replay")
    u = sub.add_parser("upload")
    u.add_argument("files", nargs="+")
    u.add_argument("--prefix", default="")
    u.add_argument("--bucket", required=True)
    sub.add_parser("dead-letters")
    a = ap.parse_args()
    if a.cmd != "record" and not a.endpoint:
        ap.error(f"{a.cmd} needs --endpoint")
    if a.cmd == "record":
        print(record())
    elif a.cmd == "replay":
        print(json.dumps(replay(a.endpoint), indent=2))
    elif a.cmd == "upload":
        upload(a.endpoint, a.files, a.prefix, a.bucket)
    else:
        print(json.dumps(dead_letters(a.endpoint), indent=2))


if __name__ == "__main__":
    sys.exit(main())
