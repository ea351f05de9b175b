#!/usr/bin/env bash
# Merges the shards of one or more suites that ran on separate machines.
#   scripts/merge-shards.sh SHARDS_DIR OUT_STORE SUITE...
# SHARDS_DIR holds one folder per shard (any name), each with the shard's store
# either unpacked (FOLDER/store/<suite>/...) or packed (FOLDER/store.tar.gz, which
# keeps the 'latest' link that artifact uploads drop). For each SUITE, every
# folder holding that suite is handed to `harness suite merge ... --store OUT_STORE`.
# Exit status: the worst over the suites (3 a harness failure or a missing shard,
# else 1 a verdict differs, else 0); a suite no folder holds counts as 3.
# HARNESS defaults to build/bin/harness.
set -uo pipefail
if [ $# -lt 3 ]; then
  echo "merge-shards: usage: merge-shards.sh SHARDS_DIR OUT_STORE SUITE..." >&2
  exit 3
fi
shards_dir="$1"
out_store="$2"
shift 2
harness="${HARNESS:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/harness}"
if [ ! -d "$shards_dir" ]; then
  echo "merge-shards: $shards_dir: not a directory" >&2
  exit 3
fi
if [ ! -x "$harness" ]; then
  echo "merge-shards: $harness: no harness binary (build it, or set HARNESS)" >&2
  exit 3
fi
for archive in "$shards_dir"/*/store.tar.gz; do
  [ -e "$archive" ] || continue
  folder="$(dirname "$archive")"
  [ -d "$folder/store" ] && continue
  if ! tar -xzf "$archive" -C "$folder"; then
    echo "merge-shards: $archive: cannot unpack" >&2
    exit 3
  fi
done
worst=0
for suite in "$@"; do
  stores=()
  for folder in "$shards_dir"/*/; do
    [ -d "$folder/store/$suite" ] && stores+=("${folder%/}/store/$suite")
  done
  if [ ${#stores[@]} -eq 0 ]; then
    echo "merge-shards: suite $suite: no shard in $shards_dir holds it" >&2
    code=3
  else
    "$harness" suite merge "${stores[@]}" --store "$out_store"
    code=$?
    [ "$code" -eq 0 ] || [ "$code" -eq 1 ] || code=3
  fi
  if [ "$code" -gt "$worst" ]; then worst=$code; fi
done
exit "$worst"
