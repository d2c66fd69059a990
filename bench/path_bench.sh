#!/usr/bin/env bash
# The adoption path's comparison: the same feed through the kernel path
# (source = "udp", recvmmsg) and through XDP + AF_XDP (source = "xdp"), side by
# side in one run on a veth pair between two network namespaces made here.
# fhsim publishes a synthetic day on lines A and B at a fixed rate, stamping
# each packet with its send time; fhd's ts_recv - ts_event is the path's delay.
# Reports per path the median over RUNS of p50/p99 delay, messages lost (gaps)
# and fhd's CPU time per million messages, and the xdp/udp ratios.
#   bench/path_bench.sh [RUNS] [MESSAGES] [RATE]      (defaults 3, 1000000, 100000)
#   FH_BENCH_IDLE=poll: the worker sleeps in poll() when idle, so CPU time means something
# Needs root. Numbers from a VM's veth measure the kernel paths' software
# overhead only: veth does the receive work on the sender's CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3} messages=${2:-1000000} rate=${3:-100000}
[[ $(id -u) == 0 ]] || { echo "path_bench: run as root" >&2; exit 1; }
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fhd fhsim fhctl path_latency >/dev/null
bin=build/bin

id=$$
nsS=fh-bench-send-$id nsR=fh-bench-recv-$id vS=fhbs$id vR=fhbr$id
work=$(mktemp -d /tmp/fh-bench.XXXXXX)
fhd_pid=
cleanup() {
  [[ -n $fhd_pid ]] && kill -9 "$fhd_pid" 2>/dev/null
  ip netns del "$nsS" 2>/dev/null || true
  ip netns del "$nsR" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$nsS"
ip netns add "$nsR"
ip link add "$vS" type veth peer name "$vR"
ip link set "$vS" netns "$nsS"
ip link set "$vR" netns "$nsR"
ip -n "$nsS" addr add 198.18.0.1/30 dev "$vS"
ip -n "$nsR" addr add 198.18.0.2/30 dev "$vR"
for ns in "$nsS" "$nsR"; do ip -n "$ns" link set lo up; done
ip -n "$nsS" link set "$vS" up
ip -n "$nsR" link set "$vR" up
ip -n "$nsS" route add 239.0.0.0/8 dev "$vS"

"$bin/fhsim" generate --messages "$messages" --symbols 500 --seed 1 --out "$work/day.itch" 2>/dev/null
cpus=$(nproc)
fhd_cpu=$((cpus > 1 ? 1 : 0))

run_once() {  # run_once SOURCE -> prints "p50 p99 gaps cpu_ms_per_million"
  local source=$1 name=b$RANDOM
  cat >"$work/$name.toml" <<EOF
[instance]
name = "$name"
log_level = "warn"
[shm]
directory = "$work"
ring_mib = 512
[book]
max_orders = 2097152
max_levels = 2097152
[[feed]]
source = "$source"
interface = "$vR"
queues = [0]
cpu = $fhd_cpu
idle = "${FH_BENCH_IDLE:-spin}"
  [feed.line_a]
  group = "239.1.1.1"
  port = 26400
  [feed.line_b]
  group = "239.1.1.2"
  port = 26401
EOF
  rm -f "$work/fhd.pid"
  ip netns exec "$nsR" sh -c 'echo $$ >"$0"; exec "$1" --config "$2"' "$work/fhd.pid" "$bin/fhd" "$work/$name.toml" &
  until [[ -s $work/fhd.pid ]] && "$bin/fhctl" stats --shm "$name" --shm-dir "$work" >/dev/null 2>&1; do sleep 0.05; done
  fhd_pid=$(cat "$work/fhd.pid")
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$fhd_pid/stat")
  ip netns exec "$nsS" taskset -c 0 "$bin/fhsim" publish --file "$work/day.itch" --interface "$vS" --stamp \
    --group-a 239.1.1.1 --port-a 26400 --group-b 239.1.1.2 --port-b 26401 --rate "$rate" 2>/dev/null
  until [[ $("$bin/fhctl" stats --json --shm "$name" --shm-dir "$work" |
             python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['arbiter.end_of_session'])") -ge 1 ]]; do
    sleep 0.05
  done
  after=$(awk '{print $14 + $15}' "/proc/$fhd_pid/stat")
  local stats lat
  stats=$("$bin/fhctl" stats --json --shm "$name" --shm-dir "$work")
  lat=$("$bin/path_latency" "$name" "$work")
  kill -TERM "$fhd_pid"
  while kill -0 "$fhd_pid" 2>/dev/null; do sleep 0.05; done
  fhd_pid=
  rm -f "$work/$name"
  python3 - "$stats" "$lat" "$before" "$after" "$messages" <<'EOF'
import json, os, sys
stats, lat = json.loads(sys.argv[1])["counters"], json.loads(sys.argv[2])
ticks = int(sys.argv[4]) - int(sys.argv[3])
ms = ticks * 1000 / os.sysconf("SC_CLK_TCK")
print(lat["p50_ns"], lat["p99_ns"], stats["arbiter.gap_messages"], round(ms * 1e6 / int(sys.argv[5]), 1),
      stats["messages"])
EOF
}

declare -A results
for ((r = 1; r <= runs; r++)); do
  for source in udp xdp; do
    line=$(run_once "$source")
    results[$source]+="$line"$'\n'
    echo "run $r $source: p50 $(cut -d' ' -f1 <<<"$line") ns, p99 $(cut -d' ' -f2 <<<"$line") ns, lost $(cut -d' ' -f3 <<<"$line") messages, $(cut -d' ' -f4 <<<"$line") ms CPU per 1M messages"
  done
done

python3 - "${results[udp]}" "${results[xdp]}" "$runs" "$messages" "$rate" <<'EOF'
import statistics, sys
def med(block, i):
    return statistics.median(float(l.split()[i]) for l in block.strip().splitlines())
udp, xdp = sys.argv[1], sys.argv[2]
print(f"\n{sys.argv[4]} messages at {sys.argv[5]}/s on lines A and B, {sys.argv[3]} runs each, medians")
print(f"{'path':<34}{'p50 ns':>10}{'p99 ns':>10}{'lost':>8}{'CPU ms/1M msgs':>16}")
for name, b in (("kernel UDP (recvmmsg)", udp), ("XDP + AF_XDP (copy mode)", xdp)):
    print(f"{name:<34}{med(b,0):>10.0f}{med(b,1):>10.0f}{med(b,2):>8.0f}{med(b,3):>16.1f}")
print(f"{'xdp / udp':<34}{med(xdp,0)/med(udp,0):>10.2f}{med(xdp,1)/med(udp,1):>10.2f}{'':>8}{med(xdp,3)/max(med(udp,3),0.1):>16.2f}")
EOF
