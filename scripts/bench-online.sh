#!/usr/bin/env bash
# What --check-online costs the run loop, side by side in one run: one refnode
# (fsync off, no faults), the same seed, runs without and with --check-online
# alternating (so a disturbance of the machine hits both), for
#  - register (per-key linearizability) and list-append (Elle, whole history),
#  - open loop at 20,000 ops/s (the target rate) and closed loop (the capacity).
# Prints each pair's ok throughput and the ratio, and what the online check did.
# Usage: scripts/bench-online.sh [seconds-per-run] [rounds]   (defaults 10, 3)
# Figures: docs/performance.md, "Online checking".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
rounds="${2:-3}"
build="${BUILD_DIR:-$root/build}"
if [ ! -x "$build/bin/harness" ] || [ ! -x "$build/bin/refnode" ]; then
  bash "$root/scripts/build.sh" >/dev/null
fi
store="$(mktemp -d "${TMPDIR:-/tmp}/chaosbench-online-XXXXXX")"
trap 'rm -rf "$store"' EXIT
results="$store/results.jsonl"

for workload in register list-append; do
  for rate in 20000 0; do
    for round in $(seq 1 "$rounds"); do
      for mode in off on; do
        flags=()
        [ "$mode" = on ] && flags=(--check-online)
        name="$workload-$rate-$mode-$round"
        "$build/bin/harness" run --store "$store" --test-name "$name" --nodes 1 --nemesis none \
          --workload "$workload" --rate "$rate" --concurrency 64 --time-limit "${seconds}s" --seed 1 \
          --target-arg=--fsync=off "${flags[@]}" >"$store/$name.txt" 2>&1 || {
          echo "run $name failed (exit $?):"
          tail -5 "$store/$name.txt"
          exit 3
        }
        python3 - "$store/latest/results.json" "$workload" "$rate" "$mode" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
online = r.get("online_check") or {}
print(json.dumps({"workload": sys.argv[2], "rate": int(sys.argv[3]), "mode": sys.argv[4],
                  "verdict": r["verdict"], "ok_per_second": r["throughput_ok_per_second"],
                  "intended_not_sent": r.get("intended_not_sent", 0),
                  "p99_ms": r["latency_from_intended_send"].get("p99_ms"),
                  "online_verdict": online.get("verdict"), "passes": online.get("passes"),
                  "checking_seconds": online.get("checking_seconds"),
                  "peak_operations_held": online.get("peak_operations_held"),
                  "workload_seconds": r["workload_seconds"]}))
PY
      done
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'workload':12} {'rate':>6} {'ok/s off':>10} {'ok/s on':>10} {'on/off':>7} {'p99 off':>8} {'p99 on':>8} "
      f"{'passes':>6} {'check s':>8} {'held ops':>9} verdicts")
for workload in ("register", "list-append"):
    for rate in (20000, 0):
        pick = lambda mode: [r for r in rows if r["workload"] == workload and r["rate"] == rate and r["mode"] == mode]
        off, on = pick("off"), pick("on")
        if not off or not on:
            continue
        off_rate = statistics.median(r["ok_per_second"] for r in off)
        on_rate = statistics.median(r["ok_per_second"] for r in on)
        print(f"{workload:12} {rate or 'closed':>6} {off_rate:10.0f} {on_rate:10.0f} {on_rate / off_rate:7.3f} "
              f"{statistics.median(r['p99_ms'] for r in off):8.2f} {statistics.median(r['p99_ms'] for r in on):8.2f} "
              f"{statistics.median(r['passes'] for r in on):6.0f} "
              f"{statistics.median(r['checking_seconds'] for r in on):8.2f} "
              f"{statistics.median(r['peak_operations_held'] for r in on):9.0f} "
              f"{sorted(set(r['verdict'] for r in off + on))} online {sorted(set(r['online_verdict'] for r in on))}")
PY
