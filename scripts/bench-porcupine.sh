#!/usr/bin/env bash
# Whole-process timing, side by side: chaosbench's `harness check` against
# Porcupine's own etcd tests (TestEtcdJepsen*, 102 logs; etcd_095 is empty and
# Porcupine skips it, so it is left out here too).
# Usage: bash scripts/bench-porcupine.sh PORCUPINE_CHECKOUT [ROUNDS]
# HARNESS=path overrides ./build/bin/harness. Go's compile time is not timed.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=${1:-}
rounds=${2:-10}
harness=${HARNESS:-./build/bin/harness}
[[ -n $checkout && -f $checkout/porcupine_test.go && -d $checkout/test_data/jepsen ]] ||
  { echo "bench-porcupine: no Porcupine checkout at '${checkout}'" >&2; exit 3; }
command -v go >/dev/null || { echo "bench-porcupine: 'go' is not installed" >&2; exit 3; }
[[ -x $harness ]] || { echo "bench-porcupine: no harness binary at $harness" >&2; exit 3; }
checkout=$(cd "$checkout" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$checkout" && go test -c -o "$tmp/porcupine.test" .)
logs=()
for f in tests/data/porcupine/jepsen/etcd_*.log; do [[ -s $f ]] && logs+=("$f"); done

# Verdicts must match verdicts.json before anything is timed.
sed -n 's/.*"jepsen\/\(etcd_[0-9]*\.log\)": \(true\|false\).*/\1 \2/p' tests/data/porcupine/verdicts.json |
  sed 's/ true$/ valid/; s/ false$/ invalid/' | sort >"$tmp/want"
"$harness" check "${logs[@]}" -q | sed -n 's/^.*\/\(etcd_[0-9]*\.log\): \([a-z]*\):.*/\1 \2/p' |
  sort >"$tmp/got" || true
cmp -s "$tmp/want" "$tmp/got" ||
  { echo "bench-porcupine: harness verdicts differ from verdicts.json" >&2; diff "$tmp/want" "$tmp/got" >&2; exit 3; }
(cd "$checkout" && "$tmp/porcupine.test" -test.run '^TestEtcdJepsen' >/dev/null) ||
  { echo "bench-porcupine: Porcupine's etcd tests failed" >&2; exit 3; }

now() { date +%s%N; }
for ((i = 1; i <= rounds; i++)); do
  t0=$(now); "$harness" check "${logs[@]}" -q >/dev/null || true; t1=$(now)
  (cd "$checkout" && "$tmp/porcupine.test" -test.run '^TestEtcdJepsen' >/dev/null); t2=$(now)
  echo "$(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))" >>"$tmp/times"
  echo "round $i: chaosbench $(((t1 - t0) / 1000000)) ms, porcupine $(((t2 - t1) / 1000000)) ms"
done
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1000}'; }
ours=$(cut -d' ' -f1 "$tmp/times" | median)
theirs=$(cut -d' ' -f2 "$tmp/times" | median)
echo "logs: ${#logs[@]}, rounds: $rounds, interleaved"
echo "median chaosbench (harness check): $ours ms"
echo "median porcupine (TestEtcdJepsen*): $theirs ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "ratio porcupine/chaosbench: %.1fx\n", b / a}'
