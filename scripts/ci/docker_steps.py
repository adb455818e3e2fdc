#!/usr/bin/env python3
"""Runs the Dockerfile's build on the host and checks its runtime stage, since these machines
cannot build images (no docker daemon).

- The build stage must run exactly `scripts/ci/install-deps.sh --build` and
  `scripts/ci/build-release.sh`; this script runs the same two commands here (same Debian release).
- Every shared library the two release binaries link against must come from a package the
  runtime stage installs, or from one those depend on (apt's dependency closure on this bookworm
  host), or from the slim base (libc6, libgcc-s1).
- The binaries run as the image runs them: OMP_THREAD_LIMIT=1, the English data only
  (TESSDATA_PREFIX pointed at a folder holding eng.traineddata alone), the default command's
  binary converts a scanned sample and codes every condition samples/expected lists for it, and the HEALTHCHECK's command answers (exit 1 when nothing
  listens, exit 0 against a /readyz that answers 200).

    python3 scripts/ci/docker_steps.py            (make docker-steps: the release build)
    PAPERCHART_BUILD_PROFILE=dev python3 scripts/ci/docker_steps.py
                                                  (make test: the same selection, dev profile)
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = {"libc6", "libgcc-s1"}  # in debian:*-slim


def stages(text):
    """Dockerfile -> [(from line, [instructions with continuations joined])]."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append((line, []))
        elif out:
            out[-1][1].append(line)
    return out


def fail(msg):
    print(f"FAIL {msg}", file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print(f"ok   {msg}", flush=True)


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def closure(packages):
    """The packages `packages` depend on and pre-depend on, recursively (apt on this host)."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(("Depends:", "PreDepends:")):
            line = line.split(":", 1)[1].strip()
        if line and not line.startswith("<") and " " not in line:
            names.add(line.split(":")[0])
    return names


class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *_):
        pass


def main():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        st = stages(f.read())
    if len(st) != 2:
        fail(f"the Dockerfile has {len(st)} stages, expected build + runtime")
    (build_from, build), (run_from, runtime) = st
    runs = " && ".join(i[4:] for i in build if i.upper().startswith("RUN "))
    for step in ("scripts/ci/install-deps.sh --build", "scripts/ci/build-release.sh"):
        if step not in runs:
            fail(f"the build stage does not run `{step}`")
    if "bookworm" not in build_from:
        fail(f"the build stage is not on bookworm like CI: {build_from}")
    os_release = open("/etc/os-release").read()
    if "bookworm" not in os_release:
        fail("this host is not Debian bookworm: the Dockerfile's build steps are checked on the same release")
    ok(f"build stage ({build_from.split()[1]}) runs install-deps.sh --build and build-release.sh")

    run(["scripts/ci/install-deps.sh", "--build"])
    run(["scripts/ci/build-release.sh"])
    profile = os.environ.get("PAPERCHART_BUILD_PROFILE", "release")
    folder = "debug" if profile == "dev" else profile
    binaries = [os.path.join(ROOT, "target", folder, b) for b in ("paperchart", "paperchart-scheduler")]

    apt = next((i for i in runtime if "apt-get install" in i), None)
    if apt is None:
        fail("the runtime stage installs no packages")
    wanted = [w for w in apt.split("apt-get install", 1)[1].split("&&")[0].split() if not w.startswith("-")]
    if [w for w in wanted if w.startswith("tesseract-ocr-")] != ["tesseract-ocr-eng"]:
        fail(f"the runtime stage should install tesseract-ocr-eng as its only language: {wanted}")
    allowed = closure(wanted) | set(wanted) | BASE
    for b in binaries:
        libs = re.findall(r"=> (/\S+)", subprocess.run(["ldd", b], capture_output=True, text=True, check=True).stdout)
        for lib in libs:
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
            pkg = owner.stdout.split(":")[0].strip()
            if pkg not in allowed:
                fail(f"{os.path.basename(b)} links {lib} from {pkg or 'no package'}, which the runtime stage lacks")
        ok(f"{os.path.basename(b)}: its {len(libs)} shared libraries all come with {' '.join(wanted)} or the base")

    env_line = " ".join(i for i in runtime if i.upper().startswith("ENV "))
    if "OMP_THREAD_LIMIT=1" not in env_line:
        fail("the runtime stage does not set OMP_THREAD_LIMIT=1")
    user = next((i.split()[1] for i in runtime if i.upper().startswith("USER ")), "")
    if not user or user.split(":")[0] in ("0", "root"):
        fail(f"the runtime stage runs as root ({user!r})")
    health = next((i for i in runtime if i.upper().startswith("HEALTHCHECK ")), "")
    probe = re.search(r'CMD \["paperchart", "probe", "([^"]+)"\]', health)
    if not probe:
        fail("no HEALTHCHECK running `paperchart probe`")
    ok(f"runtime stage ({run_from.split()[1]}): user {user}, OMP_THREAD_LIMIT=1, HEALTHCHECK paperchart probe")

    with tempfile.TemporaryDirectory() as tmp:
        tessdata = os.path.join(tmp, "tessdata")
        os.mkdir(tessdata)
        shutil.copy(subprocess.run(["sh", "-c", "ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata"],
                                   capture_output=True, text=True, check=True).stdout.split()[0], tessdata)
        env = dict(os.environ, OMP_THREAD_LIMIT="1", TESSDATA_PREFIX=tessdata, PAPERCHART_LOG="warn")
        out = os.path.join(tmp, "out")
        subprocess.run([binaries[0], "run", "samples/documents/discharge-summary-scanned.pdf", "--out", out],
                       cwd=ROOT, env=env, check=True)
        conditions = os.path.join(out, "ndjson", "Condition.ndjson")
        found = set()
        if os.path.exists(conditions):
            for line in open(conditions):
                found |= {c["code"] for c in json.loads(line)["code"].get("coding", [])}
        expected = json.load(open(os.path.join(ROOT, "samples", "expected", "discharge-summary-scanned.json")))
        missing = {c["code"] for c in expected["conditions"]} - found
        if missing:
            fail(f"the {profile} binary missed conditions of the scanned discharge summary: {sorted(missing)}")
        ok(f"the {profile} binary OCRs a scanned PDF with English data only: all {len(expected['conditions'])} "
           "expected conditions coded")

        url = probe.group(1)
        port = int(re.search(r":(\d+)/", url).group(1))
        if subprocess.run([binaries[0], "probe", url], capture_output=True).returncode == 0:
            fail(f"`paperchart probe {url}` succeeded with nothing listening")
        server = http.server.HTTPServer(("127.0.0.1", port), Ready)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            if subprocess.run([binaries[0], "probe", url]).returncode != 0:
                fail(f"`paperchart probe {url}` failed against a ready server")
        finally:
            server.shutdown()
        ok(f"HEALTHCHECK command: exit 1 with nothing on :{port}, exit 0 when /readyz answers 200")
    print("Dockerfile: build steps run and runtime stage checked")


if __name__ == "__main__":
    main()
