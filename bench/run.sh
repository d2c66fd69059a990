#!/usr/bin/env bash
# Decode and book throughput on a synthetic day: generates it with fhsim
# (25M messages, 8000 symbols, seed 1: the same file every time) and runs
# decode_bench over it, printing medians and ratios against in-run peers.
#   bench/run.sh [RUNS]     (default 5; the day is kept in $FH_BENCH_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dir=${FH_BENCH_DIR:-/var/tmp/fh-bench}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fhsim decode_bench
mkdir -p "$dir"
day=$dir/day-25M-8000-seed1.itch
if [[ ! -s $day ]]; then
  build/bin/fhsim generate --messages 25000000 --symbols 8000 --seed 1 --out "$day.part"
  mv "$day.part" "$day"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
exec build/bin/decode_bench "$day" "$runs"
