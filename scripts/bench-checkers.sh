#!/usr/bin/env bash
# Runs the linearizability benchmark and prints it beside Porcupine's figures
# for the same data, measured on this machine type (the reference in issue 3;
# Go and Porcupine are not installable here, so they are quoted, not re-run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
./build/bin/linearizability_bench --benchmark_repetitions="${REPETITIONS:-3}" \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$out"
python3 - "$out" <<'PY'
import json, sys
runs = {b["run_name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"}
def ms(name, field="real_time"):
    b = runs[name]
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b[field] * scale
rows = [
    ("102 etcd logs, total (1 thread)", 424, ms("BM_EtcdAllLogsSequential", "cpu_time"), 140),
    ("slowest single etcd log", 158, runs["BM_EtcdAllLogsSequential"]["slowest_log_ms"], 158 / 3),
    ("kv c50-ok (1 thread)", 131, ms("BM_Kv/c50_ok/threads:1/real_time"), 45),
    ("kv c50-bad (1 thread)", 16, ms("BM_Kv/c50_bad/threads:1/real_time"), 16 / 3),
    ("kv c10-ok unpartitioned (1 thread)", 2470, ms("BM_Kv/c10_ok_unpartitioned/threads:1/real_time"), 800),
    ("kv c10-bad unpartitioned (1 thread)", 2020, ms("BM_Kv/c10_bad_unpartitioned/threads:1/real_time"), 2020 / 3),
    ("generated 1M-op register, 1000 keys (1 thread)", None, ms("BM_GeneratedRegisterMillion/threads:1/iterations:3/real_time"), 5000),
    ("generated 1M-op register, 1000 keys (2 threads)", None, ms("BM_GeneratedRegisterMillion/threads:2/iterations:3/real_time"), 5000),
    ("102 etcd logs, 2 threads (one log per task)", None, ms("BM_EtcdAllLogsParallel/real_time"), None),
]
print(f"{'case':50} {'porcupine ms':>13} {'chaosbench ms':>14} {'speed-up':>9} {'target ms':>10}")
for name, porcupine, ours, target in rows:
    speed = f"{porcupine / ours:8.1f}x" if porcupine else "        -"
    print(f"{name:50} {porcupine if porcupine else '-':>13} {ours:14.1f} {speed} {'%.0f' % target if target else '-':>10}"
          f" {'ok' if target is None or ours <= target else 'MISSED'}")
PY
