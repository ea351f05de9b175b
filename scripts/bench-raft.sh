#!/usr/bin/env bash
# Builds refnode and raft_cluster_bench in build-raft/ and runs the 3-node
# Raft benchmark (fsync on, 64 clients). Extra arguments go to the benchmark,
# e.g. scripts/bench-raft.sh --seconds 20 --read-mode lease
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-raft}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target refnode raft_cluster_bench -j2
exec "$build/bin/raft_cluster_bench" "$@"
