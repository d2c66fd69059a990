#!/usr/bin/env bash
# Every C and C++ file git knows of is as clang-format writes it, under the
# tree's .clang-format files. Pinned to Debian 12's clang-format 14: another
# version formats some constructs differently, so it skips (exit 77) rather
# than fail or pass on a judgement that is not the project's.
# Usage: format_check.sh SOURCE_DIR. To fix: clang-format -i FILE...
set -euo pipefail
cd "$1"
format=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n $format ]] || { echo "SKIP: no clang-format (tools/install-deps installs clang-format-14)"; exit 77; }
version=$("$format" --version)
[[ $version == *" version 14."* ]] || { echo "SKIP: $version is not clang-format 14"; exit 77; }
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cc')
((${#files[@]} > 0)) || { echo "no files: not a git checkout?"; exit 1; }
if ! "$format" --dry-run --Werror "${files[@]}" 2>"${TMPDIR:-/tmp}/format-check.$$"; then
  grep -E '^[^ ].*: (error|warning):' "${TMPDIR:-/tmp}/format-check.$$" | cut -d: -f1 | sort | uniq -c |
    awk '{print "not formatted: " $2 " (" $1 " places)"}'
  rm -f "${TMPDIR:-/tmp}/format-check.$$"
  echo "run: clang-format -i FILE (clang-format 14, .clang-format)"
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/format-check.$$"
echo "${#files[@]} files formatted as .clang-format says ($version)"
