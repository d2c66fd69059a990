#!/usr/bin/env bash
# The pipeline's passes counted, not timed: instructions and simulated cache
# misses per message for each of decode_bench's book passes, under
# valgrind's callgrind with a fixed cache (32 KiB L1 data and instruction
# caches, 32 MiB last level, 64-byte lines). The counts are the same on every
# run of the same binary on the same day, whatever else the host does: a
# change of a few percent, lost in the noise of a timed run on a shared VM,
# shows here. They are not times: a miss in the simulated last level is not
# the cost of a miss to this host's memory, and the stores' prefetches are
# not simulated.
#
#   bench/cachesim.sh [MESSAGES [SYMBOLS]]
#     a day of `fhsim generate --messages MESSAGES --symbols SYMBOLS --seed 1`
#     (default 2000000 and 2000; about 2 minutes), book snapshots after
#     every 5000 messages (about a millisecond of fhd at full speed).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-2000000}
symbols=${2:-2000}
command -v valgrind >/dev/null || { echo "cachesim: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target decode_bench fhsim >/dev/null
dir=/var/tmp/fh-bench
day=$dir/day-$messages-$symbols-seed1.itch
mkdir -p "$dir"
[[ -f $day ]] || build/bin/fhsim generate --messages "$messages" --symbols "$symbols" --seed 1 --out "$day" >/dev/null 2>&1
work=$(mktemp -d /tmp/fh-cachesim.XXXXXX)
trap 'rm -rf "$work"' EXIT

valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64 \
  --callgrind-out-file="$work/out" build/bin/decode_bench "$day" 1 5000 >"$work/bench.log" 2>"$work/valgrind.log" ||
  { cat "$work/valgrind.log" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$work/out" >"$work/annotated"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(valgrind --version)"
echo "day: $messages messages, $symbols symbols; per message, inclusive of what each pass calls:"
/usr/bin/python3 - "$work/annotated" "$messages" <<'PY'
import re, sys
annotated, messages = sys.argv[1], int(sys.argv[2])
passes = [
    ("decode + books + records", "buildBooks("),
    ("  same, prefetch window", "buildBooksWindowed("),
    ("fhd's feed, output dropped", "replayFile<(anonymous namespace)::HandlerAsFeed>"),
    ("fhd's feed into a region", "replayFile<fh::feed::ItchFeed>"),
]
events, rows = None, {}
for line in open(annotated):
    if line.startswith("Events shown:"):
        events = line.split(":", 1)[1].split()
    for name, key in passes:
        if key in line and name not in rows:
            counts = [int(c.replace(",", "")) for c in re.findall(r"(\d[\d,]*) \(", line)]
            if len(counts) != len(events):  # callgrind_annotate writes a zero as "."
                sys.exit(f"cachesim: cannot read the counts of {name.strip()}: {line.strip()}")
            rows[name] = dict(zip(events, counts))
missing = [name for name, _ in passes if name not in rows]
if events is None or missing:
    sys.exit(f"cachesim: no counts for {missing or 'any pass'} in callgrind's output")
print(f"| pass | instructions | L1 data misses (read + write) | last-level misses (read + write) |")
print(f"|---|---|---|---|")
for name, _ in passes:
    r = rows[name]
    per = lambda *keys: sum(r[k] for k in keys) / messages
    print(f"| {name.strip()} | {per('Ir'):.0f} | {per('D1mr', 'D1mw'):.2f} | {per('DLmr', 'DLmw'):.2f} |")
PY
