#!/usr/bin/env python3
"""`make fleet-demo`: the AWS fleet on one machine, without an AWS account.

Starts moto (S3, SQS, SNS, KMS, IAM and the Textract of scripts/harness/moto_server.py) and the Helios
FHIR server on 127.0.0.1, creates the fleet's resources with the terraform module (terraform/local:
the module of terraform/ with every endpoint at moto, HealthLake and the ECS services off), starts
two `paperchart worker` processes and `paperchart-scheduler run` with the environment the module
outputs, uploads samples/documents to the intake bucket, waits until every document is in the
FHIR server, prints what was written, the dead letters and the throughput, and stops everything
it started. Each process serves Prometheus metrics on the port it prints.

    .cache/py-tools/bin/python -m scripts.demo.fleet_demo --bin target/release --hfs .cache/hfs/bin/hfs
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from scripts.harness.fleet_stack import dead_letters, free_port, module_outputs, terraform, upload  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TYPES = ["Patient", "DocumentReference", "Condition", "MedicationStatement", "Observation",
         "AllergyIntolerance", "Procedure", "FamilyMemberHistory", "Provenance"]


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/fhir+json"}), timeout=timeout) as r:
            return r.status, r.read().decode()
    except Exception as e:  # noqa: BLE001 - anything but an answer is "not yet"
        return None, str(e)


def wait(what, check, timeout):
    start = time.time()
    while not check():
        if time.time() - start > timeout:
            raise SystemExit(f"fleet-demo: timed out waiting for {what}")
        time.sleep(0.3)


def count(fhir, resource_type):
    for _ in range(50):
        status, body = get(f"{fhir}/{resource_type}?_summary=count")
        if status == 200:
            return json.loads(body).get("total", 0)
        time.sleep(0.1)
    raise SystemExit(f"fleet-demo: the FHIR server does not answer searches: {body}")


def provision(moto, out):
    """Applies terraform/local to moto (state and provider cache under `out`) and returns the
    workers' environment (the module's `environment` output plus what points them at moto) and
    the module's outputs."""
    state = os.path.join(out, "terraform.tfstate")
    if os.path.exists(state):
        os.unlink(state)  # the last run's resources went with its moto
    terraform(out, "init", "-backend=false")
    terraform(out, "apply", "-auto-approve", "-var", f"endpoint={moto}")
    outputs = module_outputs(out)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERCHART__")}
    # No ECS services on moto (create_services = false): the scheduler counts no workers.
    no_ecs = ("PAPERCHART__SCHEDULER__ECS_CLUSTER", "PAPERCHART__SCHEDULER__WORKER_SERVICE")
    env.update({k: v for k, v in outputs["environment"].items() if v != "" and k not in no_ecs})
    env.update({
        "PAPERCHART__AWS__REGION": "us-east-1",
        "PAPERCHART__AWS__ENDPOINT_URL": moto,
        "PAPERCHART__AWS__S3_PATH_STYLE": "true",
        "PAPERCHART__FLEET__WAIT_SECS": "2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    })
    return env, outputs


def stop(procs):
    """Terminates every process, newest first, and waits for each (killing what hangs)."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"), help="folder of paperchart and paperchart-scheduler")
    ap.add_argument("--hfs", default=os.path.join(ROOT, ".cache", "hfs", "bin", "hfs"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "fleet-demo-out"), help="logs of every process")
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()
    a.bin, a.hfs, a.out = (os.path.abspath(x) for x in (a.bin, a.hfs, a.out))
    os.makedirs(a.out, exist_ok=True)
    procs = []

    def start(name, cmd, env=None, cwd=None):
        log = open(os.path.join(a.out, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        procs.append((name, p))
        return p

    try:
        moto_port, fhir_port = free_port(), free_port()
        moto = f"http://127.0.0.1:{moto_port}"
        fhir = f"http://127.0.0.1:{fhir_port}"
        start("moto", [sys.executable, os.path.join(ROOT, "scripts", "harness", "moto_server.py"), "--port", str(moto_port)])
        data = tempfile.mkdtemp(prefix="paperchart-fhir-")
        start("fhir", [a.hfs, "--host", "127.0.0.1", "--port", str(fhir_port), "--database-url", ":memory:", "--log-level", "error"],
              env=dict(os.environ, HFS_VALIDATION_MODE="enforce"), cwd=data)
        wait("moto", lambda: get(f"{moto}/moto-api/")[0] == 200, 60)
        wait("the FHIR server", lambda: get(f"{fhir}/metadata")[0] == 200, 60)
        print(f"moto (S3, SQS, SNS, Textract) on {moto}; Helios FHIR server on {fhir}")

        env, outputs = provision(moto, a.out)
        env["PAPERCHART__SINK__FHIR_URL"] = fhir  # the module's fhir_url, had the server existed before it
        print("terraform applied terraform/local: KMS key, intake and work buckets, intake and completion queues "
              "with DLQs, the Textract topic and role, task roles, ECS cluster")

        health, metrics = [], []
        for i in range(a.workers):
            port, metrics_port = free_port(), free_port()
            health.append(port)
            metrics.append(f"worker-{i} 127.0.0.1:{metrics_port}")
            start(f"worker-{i}", [os.path.join(a.bin, "paperchart"), "worker"],
                  env=dict(env, PAPERCHART__FLEET__HEALTH_PORT=str(port), PAPERCHART__METRICS__PORT=str(metrics_port)))
        scheduler_port = free_port()
        metrics.append(f"scheduler 127.0.0.1:{scheduler_port}")
        start("scheduler", [os.path.join(a.bin, "paperchart-scheduler"), "run"],
              env=dict(env, PAPERCHART__SCHEDULER__INTERVAL_SECS="10", PAPERCHART__SCHEDULER__STUCK_AFTER_SECS="120",
                       PAPERCHART__SCHEDULER__METRICS_PORT=str(scheduler_port)))
        for i, port in enumerate(health):
            def ready(i=i, port=port):
                p = procs[2 + i][1]
                if p.poll() is not None:
                    raise SystemExit(f"fleet-demo: worker-{i} exited; see {a.out}/worker-{i}.log")
                return get(f"http://127.0.0.1:{port}/readyz")[0] == 200
            wait(f"worker-{i}", ready, 120)
        print(f"{a.workers} workers ready (/readyz), scheduler running; Prometheus metrics: {', '.join(metrics)}")

        files = sorted(glob.glob(os.path.join(ROOT, "samples", "documents", "*")))
        started = time.time()
        upload(moto, files, "", bucket=outputs["intake_bucket"])
        print(f"uploaded {len(files)} documents to s3://{outputs['intake_bucket']}/")
        wait("every document in the FHIR server", lambda: count(fhir, "DocumentReference") >= len(files), a.timeout)
        took = time.time() - started

        print()
        print(f"{'resource type':<22}{'in the FHIR server':>20}")
        for t in TYPES:
            print(f"{t:<22}{count(fhir, t):>20}")
        letters = dead_letters(moto, [outputs["queues"][q].rsplit("/", 1)[1] for q in ("intake_dlq", "completion_dlq")])
        print()
        print("dead letters: " + ", ".join(f"{q}: {len(m)}" for q, m in letters.items()))
        for q, msgs in letters.items():
            for m in msgs:
                print(f"  {q} {m['message_id']}: {m['reason']}")
        print()
        print(f"{len(files)} documents through the fleet in {took:.1f} s: {len(files) / took * 60:.1f} documents/min "
              f"({a.workers} workers, Textract emulated by Tesseract in moto); logs in {a.out}/")
        return 0
    finally:
        stop([p for _, p in procs])


if __name__ == "__main__":
    sys.exit(main())
