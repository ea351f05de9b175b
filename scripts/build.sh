#!/usr/bin/env bash
# Installs missing packages, configures and builds all of chaosbench (tests and
# benchmarks included) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset default -DCHAOSBENCH_BUILD_TESTS=ON >/dev/null
cmake --build --preset default -j "$(nproc)"
