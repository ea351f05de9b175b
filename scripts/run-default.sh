#!/usr/bin/env bash
# Installs, builds and runs the default chaos test: `harness run` (5 reference
# Raft nodes in a local namespace sandbox, register workload, partitions,
# kills and clock faults for 60 s), then prints where the report is.
# Exit status is harness's: 0 valid, 1 invalid, 2 unknown, 3 harness failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/bin/harness run "$@"
