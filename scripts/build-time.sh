#!/usr/bin/env bash
# Times a fresh build of what the default job needs (harness, refnode, faultfs; tests
# off, the default preset's build type) into throw-away build directories, with
# unity builds on and off, one after the other in one run:
#   scripts/build-time.sh [JOBS=$(nproc)]
# Prints one line per variant: wall seconds and compile steps. ccache, if set up
# through CMAKE_CXX_COMPILER_LAUNCHER, is not used.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${1:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for unity in ON OFF; do
  cmake -S "$root" -B "$work/$unity" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHAOSBENCH_BUILD_TESTS=OFF \
    -DCHAOSBENCH_UNITY_BUILD="$unity" -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
  start=$(date +%s%N)
  cmake --build "$work/$unity" -j "$jobs" --target harness refnode faultfs >"$work/$unity.log" 2>&1 || {
    echo "build-time: the build with unity $unity failed; its log:" >&2
    tail -20 "$work/$unity.log" >&2
    exit 3
  }
  end=$(date +%s%N)
  steps=$(grep -c '^\[' "$work/$unity.log" || true)
  tenths=$(((end - start) / 100000000))
  printf 'unity %-3s  %d.%d s wall  %d build steps  (-j %s)\n' "$unity" $((tenths / 10)) $((tenths % 10)) "$steps" "$jobs"
  rm -rf "${work:?}/$unity"
done
