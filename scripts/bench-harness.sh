#!/usr/bin/env bash
# Harness overhead benchmark (issue 5): builds harness and refnode, then
#  1. throughput: the client pool, closed loop, against one in-memory node
#     (refnode --fsync=off, no faults), history recorded as usual;
#  2. memory: an open-loop run at 1,000 ops/s (default 600 s), reporting the
#     controller's peak RSS before and after the final check.
# Usage: scripts/bench-harness.sh [throughput-seconds] [memory-seconds] [concurrency]
# Figures come from each run's results.json; see docs/performance-harness.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-run}"
throughput_seconds="${1:-20}"
memory_seconds="${2:-600}"
concurrency="${3:-32}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target harness refnode -j2
store="$(mktemp -d /tmp/chaosbench-bench-XXXXXX)"
trap 'rm -rf "$store"' EXIT

report() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = r["operations"]
lat = r["latency_from_intended_send"]
print(f"  verdict {r['verdict']}; {ops['invoked']} ops ({ops['ok']} ok, {ops['fail']} fail, {ops['info']} info) "
      f"in {r['workload_seconds']:.1f} s = {r['throughput_ok_per_second']:.0f} ok ops/s")
print(f"  latency p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms, max {lat['max_ms']:.1f} ms")
print(f"  controller peak RSS: {r['controller_peak_rss_bytes_before_check'] / 2**20:.1f} MiB before the check, "
      f"{r['controller_peak_rss_bytes'] / 2**20:.1f} MiB after it")
PY
}

echo "== throughput: 1 node, fsync off, closed loop, concurrency $concurrency, ${throughput_seconds}s"
"$build/bin/harness" run --store "$store" --test-name throughput --nodes 1 --nemesis none --rate 0 \
  --concurrency "$concurrency" --time-limit "${throughput_seconds}s" --seed 1 --target-arg=--fsync=off > "$store/throughput.txt"
report "$store/latest/results.json"

echo "== memory: 1 node, fsync off, open loop 1000 ops/s, ${memory_seconds}s"
"$build/bin/harness" run --store "$store" --test-name memory --nodes 1 --nemesis none --rate 1000 \
  --concurrency 10 --time-limit "${memory_seconds}s" --seed 1 --target-arg=--fsync=off > "$store/memory.txt"
report "$store/latest/results.json"
