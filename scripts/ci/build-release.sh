#!/usr/bin/env bash
# The release build of both binaries, as the Dockerfile runs it and `make release` does on the
# host: target/release/paperchart (with the `fleet` feature: the AWS worker) and
# target/release/paperchart-scheduler.
set -euo pipefail
cd "$(dirname "$0")/../.."
# PAPERCHART_BUILD_PROFILE=dev builds the same selection in the dev profile (target/debug): what
# `make test` checks the image's build and runtime steps with, ten minutes sooner.
exec "${CARGO:-cargo}" build --profile "${PAPERCHART_BUILD_PROFILE:-release}" --locked \
    -p paperchart -p paperchart-scheduler --features paperchart/fleet
