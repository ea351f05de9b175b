#!/usr/bin/env bash
# Builds refnode and the cluster benchmarks in build-bench/ (RelWithDebInfo) and
# runs cluster_bench: 3 refnode nodes on loopback, fsync on, 64 closed-loop
# clients. Arguments go to it, e.g.
#   scripts/bench-cluster.sh --protocol raft --read-mode lease --seconds 20
#   scripts/bench-cluster.sh --protocol zab --seconds 5 --failovers 3
#   scripts/bench-cluster.sh --protocol quorum
# `scripts/bench-cluster.sh anti-entropy [--divergence 0.01 ...]` runs
# quorum_anti_entropy_bench (in process, no cluster) instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
if [ "${1:-}" = "anti-entropy" ]; then
  shift
  cmake --build "$build" --target quorum_anti_entropy_bench -j2
  exec "$build/bin/quorum_anti_entropy_bench" "$@"
fi
cmake --build "$build" --target refnode cluster_bench -j2
exec "$build/bin/cluster_bench" "$@"
