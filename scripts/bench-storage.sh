#!/usr/bin/env bash
# faultfs's cost, side by side in one session: cluster_bench (3 refnode Raft
# nodes on loopback, fsync on, 64 closed-loop clients) with plain data
# directories, then with each under faultfs, alternately for ROUNDS rounds
# (default 3), inside a user and mount namespace (so that it mounts without
# root and leaves no mount behind). Prints each run's table, then per round the
# write ops/s with faultfs as a share of without. Arguments go to cluster_bench.
#   scripts/bench-storage.sh --seconds 5
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
rounds="${ROUNDS:-3}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target refnode cluster_bench faultfs -j2
run() {
  unshare --user --map-root-user --mount "$build/bin/cluster_bench" --protocol raft --failovers 0 "$@"
}
writes() { awk -F'|' '$3 ~ /^ write / { gsub(/ /, "", $4); print $4 }'; }
summary=""
for round in $(seq "$rounds"); do
  plain="$(run "$@")"
  echo "$plain"
  wrapped="$(run --faultfs "$build/bin/faultfs" "$@")"
  echo "$wrapped"
  a="$(echo "$plain" | writes)"
  b="$(echo "$wrapped" | writes)"
  summary+="round $round: writes/s plain $a, under faultfs $b, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"$'\n'
done
printf '%s' "$summary"
