#!/usr/bin/env bash
# Builds refnode and zab_cluster_bench in build-zab/ and runs the 3-node ZAB
# benchmark (fsync on, 64 clients). Extra arguments go to the benchmark,
# e.g. scripts/bench-zab.sh --seconds 20
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-zab}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target refnode zab_cluster_bench -j2
exec "$build/bin/zab_cluster_bench" "$@"
