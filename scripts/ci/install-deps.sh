#!/usr/bin/env bash
# Installs the Debian packages paperchart builds and tests with, when they are missing, plus any
# named as arguments (the benchmark asks for poppler-utils and time).
#   scripts/ci/install-deps.sh            build + test (make test; .ci/run)
#   scripts/ci/install-deps.sh --build    only what `scripts/ci/build-release.sh` needs (the Dockerfile)
set -euo pipefail
build=(libtesseract-dev libleptonica-dev clang libclang-dev pkg-config)
# Tests: Tesseract and its English data, pdftoppm for moto's Textract, Prometheus and promtool
# for the metrics checks.
tests=(tesseract-ocr tesseract-ocr-eng poppler-utils prometheus)
if [ "${1:-}" = "--build" ]; then
    shift
    packages=("${build[@]}" "$@")
else
    packages=("${build[@]}" "${tests[@]}" "$@")
    # Node.js runs the FHIR validator; any node 20+ on PATH will do.
    command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust 1.85 or newer (https://rustup.rs)" >&2; exit 1; }
case " ${packages[*]} " in
*" tesseract-ocr-eng "*)
    tesseract --list-langs 2>/dev/null | grep -qx eng || { echo "Tesseract has no English data: apt-get install tesseract-ocr-eng" >&2; exit 1; } ;;
esac
