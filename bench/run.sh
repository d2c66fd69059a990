#!/usr/bin/env bash
# Decode, book and pipeline throughput on a synthetic day: generates it with
# fhsim (25M messages, 8000 symbols, seed 1: the same file every time), runs
# decode_bench over it (medians and ratios against in-run peers), then fhd's
# own pipeline (`fhd --replay` into a region) and `fhctl book --from`, each
# RUNS times, with their messages/s (each by its own timer) and peak RSS.
#   bench/run.sh [RUNS]     (default 5; the day is kept in $FH_BENCH_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dir=${FH_BENCH_DIR:-/var/tmp/fh-bench}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fhsim decode_bench fhd fhctl
mkdir -p "$dir"
day=$dir/day-25M-8000-seed1.itch
if [[ ! -s $day ]]; then
  build/bin/fhsim generate --messages 25000000 --symbols 8000 --seed 1 --out "$day.part"
  mv "$day.part" "$day"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
build/bin/decode_bench "$day" "$runs"

# Stores sized for the day (1.23M live orders at the end, 393k levels).
stores=(--max-orders 2097152 --max-levels 1048576)
shm=$(mktemp -d /dev/shm/fh-bench.XXXXXX)
trap 'rm -rf "$shm"' EXIT
peak() { grep -o 'peak [0-9]* KiB' "$1" | tr -dc 0-9; }
echo
echo "fhd --replay and fhctl book --from (each by its own timer), $runs runs each, interleaved:"
for ((r = 1; r <= runs; r++)); do
  /usr/bin/time -f 'peak %M KiB' build/bin/fhd --replay "$day" --exit-when-done --shm-dir "$shm" --shm bench \
    "${stores[@]}" 2>"$shm/fhd.log"
  fhd=$(grep -o '([0-9.]*M messages/s, [0-9.]* ns/message)' "$shm/fhd.log")
  start=$(date +%s%N)
  /usr/bin/time -f 'peak %M KiB' build/bin/fhctl book --from "$day" "${stores[@]}" --timing \
    >/dev/null 2>"$shm/book.log" || { cat "$shm/book.log" >&2; exit 1; }
  wall=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", 25e9 / ns }')
  book=$(grep -o '([0-9.]*M messages/s, [0-9.]* ns/message)' "$shm/book.log")
  echo "  run $r: fhd --replay $fhd, peak RSS $(($(peak "$shm/fhd.log") / 1024)) MiB;" \
    "fhctl book --from $book, ${wall}M messages/s by wall time (the stores' start included)," \
    "peak RSS $(($(peak "$shm/book.log") / 1024)) MiB"
done
