#!/usr/bin/env bash
# Nightly reliability loop: SIGKILLs `harness run` (the process started, or the
# controller inside its sandbox) at random points, ITERATIONS times, and checks
# that no process of the run survives and every history.jsonl parses and checks.
# Same test as ctest's controller_kill_test, with more iterations.
#   scripts/kill-controller-loop.sh [ITERATIONS=50] [SEED]   (BUILD_DIR defaults to build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
test_binary="$build/tests/controller_kill_test"
if [ ! -x "$test_binary" ]; then
  echo "kill-controller-loop: $test_binary not built (cmake --build $build --target controller_kill_test)" >&2
  exit 3
fi
export CONTROLLER_KILL_ITERATIONS="${1:-50}"
if [ -n "${2:-}" ]; then export CONTROLLER_KILL_SEED="$2"; fi
exec "$test_binary" --gtest_filter='ControllerKill.*'
