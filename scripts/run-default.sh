#!/usr/bin/env bash
# Installs what the default job needs, builds only harness, refnode and faultfs, and runs
# the default chaos test: `harness run` (5 reference Raft nodes in a local namespace
# sandbox, register workload, partitions, kills and clock faults for 60 s), then prints
# where the report is. The test command (scripts/run-tests.sh) builds everything.
# Exit status is harness's: 0 valid, 1 invalid, 2 unknown, 3 harness failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh run
cmake --preset default -DCHAOSBENCH_BUILD_TESTS=OFF >/dev/null
cmake --build --preset default -j "$(nproc)" --target harness refnode faultfs
exec ./build/bin/harness run "$@"
