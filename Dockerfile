# paperchart: one image with both binaries, for the worker and the scheduler tasks on ECS.
#   docker build -t paperchart:$(git rev-parse --short HEAD) .
# The build stage runs the same two scripts as the host build (`make release`, `make test` via
# scripts/ci/docker_steps.py), on the same Debian release as CI (bookworm), so what CI builds and
# checks is what goes into the image.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY scripts/ci/install-deps.sh scripts/ci/build-release.sh scripts/ci/
RUN scripts/ci/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/ci/build-release.sh \
    && install -D -m 0755 target/release/paperchart /out/paperchart \
    && install -D -m 0755 target/release/paperchart-scheduler /out/paperchart-scheduler

# Runtime: Tesseract's library and English data only (PDFs are rendered in-process, no poppler),
# CA certificates for HTTPS to AWS and FHIR servers. Pin a digest in production
# (debian:12.12-slim@sha256:...).
FROM debian:12.12-slim
# Debian's versions move with security updates: pinning them would break rebuilds that should
# pick the fixes up.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libtesseract5 tesseract-ocr-eng ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 paperchart \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin paperchart
COPY --from=build /out/ /usr/local/bin/
# One Tesseract engine per core: its own OpenMP threading halves throughput.
ENV OMP_THREAD_LIMIT=1 \
    PAPERCHART_LOG=info
USER 10001:10001
WORKDIR /tmp
EXPOSE 8081 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["paperchart", "probe", "http://127.0.0.1:8081/readyz"]
CMD ["paperchart", "worker"]
