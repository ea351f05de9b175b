#!/usr/bin/env bash
# Builds refnode and quorum_cluster_bench in build-quorum/ and runs the 3-node
# quorum benchmark (N=3, R=W=2 then R=W=1, fsync on, 64 clients) followed by
# the in-process anti-entropy cost on a 100,000-key store. Extra arguments go
# to the benchmark, e.g. scripts/bench-quorum.sh --seconds 20 --divergence 0.01
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-quorum}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target refnode quorum_cluster_bench -j2
exec "$build/bin/quorum_cluster_bench" "$@"
