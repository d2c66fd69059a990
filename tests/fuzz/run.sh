#!/usr/bin/env bash
# Builds a libFuzzer target with clang and runs it for a bounded time over
# its committed corpus (new inputs go to a scratch directory, not the tree).
# Usage: run.sh SOURCE_DIR BUILD_DIR SECONDS [TARGET]
#   TARGET: fuzz_mold_book (default), fuzz_capture, fuzz_config, fuzz_region
set -euo pipefail
src=$1 build=$2 seconds=${3:-60} target=${4:-fuzz_mold_book}
corpus=$src/tests/fuzz/corpus
[[ $target == fuzz_mold_book ]] || corpus=$src/tests/fuzz/corpus-${target#fuzz_}
cmake -S "$src/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "$target" >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$scratch" "$corpus"
