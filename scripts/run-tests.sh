#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (ctest). .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --preset default -j "$(nproc)" "$@"
