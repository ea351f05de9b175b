#!/usr/bin/env bash
# Formats every tracked C++ file with the project's .clang-format (clang-format 14,
# Debian's clang-format package). With --check, changes nothing and exits 1 when a
# file is not formatted, naming it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--check" ]; then
  exec clang-format --dry-run --Werror "${files[@]}"
fi
clang-format -i "${files[@]}"
