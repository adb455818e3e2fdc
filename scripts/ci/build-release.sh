#!/usr/bin/env bash
# The release build of both binaries, as the Dockerfile runs it and `make release` does on the
# host: target/release/paperchart (with the `fleet` feature: the AWS worker) and
# target/release/paperchart-scheduler.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${CARGO:-cargo}" build --release --locked -p paperchart -p paperchart-scheduler --features paperchart/fleet
