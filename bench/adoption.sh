#!/usr/bin/env bash
# The adoption path as one command: the numbers a user weighs before moving a
# feed to kernel bypass, measured in one run on a veth pair between two
# network namespaces made here.
#
# fhsim publishes a synthetic day on lines A and B, stamping each packet with
# its send time (CPU 0). Each mode receives it on CPU 1:
#   raw-xdp        bench/raw_receiver xdp: fh's XDP program and one AF_XDP socket, no decode (the floor)
#   raw-udp        bench/raw_receiver udp: kernel UDP sockets spinning on recvmmsg, no decode
#   fhd-udp-spin   fhd, source = "udp", idle = "spin"
#   fhd-udp-poll   fhd, source = "udp", idle = "poll"
#   fhd-xdp-spin   fhd, source = "xdp", idle = "spin"
#   fhd-xdp-poll   fhd, source = "xdp", idle = "poll"
#   fhd-*-*-tap    any fhd mode with `fhctl capture` attached (on the consumer's CPU, writing to tmpfs):
#                  what capturing costs the path (not in the default set)
# For fhd a consumer process (bench/path_latency --follow) spins on the tick
# ring: on CPU 2 where there is one, else on CPU 0 beside the sender, where it
# cannot run while the sender sends (its delay then includes the sender's bursts). Measured per mode: the delay at the receiver
# (fhd's ts_recv - ts_event; the raw receivers' read time - send time) and at
# the consumer (its read time - send time) as p50/p99/p99.9/max, messages
# lost, and the receiver's user and kernel CPU per million messages, from its
# first packet to the end. At each rate of FH_ADOPTION_RATES and at the
# sender's top rate (found first: the highest rate at which raw-xdp loses
# nothing), the modes run interleaved, FH_ADOPTION_RUNS times each; the report
# gives medians and the ratios to raw-xdp in the same run.
#
#   bench/adoption.sh OUTDIR
#     FH_ADOPTION_MESSAGES  messages a run (default 300000)
#     FH_ADOPTION_RATES     messages/s (default "100000 400000")
#     FH_ADOPTION_RUNS      runs of each mode at each rate (default 3)
#     FH_ADOPTION_MODES     a subset of the modes above (default all)
# Writes OUTDIR/report.md, OUTDIR/runs.jsonl (every run) and, with
# matplotlib (installed from Debian when missing), OUTDIR/latency.png and
# OUTDIR/cdf.png. Needs root.
#
# On a VM's veth the kernel's receive work runs on the sender's CPU, in its
# sendto(): kernel CPU time here is the receiver's own system calls only.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: bench/adoption.sh OUTDIR" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "adoption: run as root" >&2; exit 1; }
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
messages=${FH_ADOPTION_MESSAGES:-300000}
rates=${FH_ADOPTION_RATES:-"100000 400000"}
runs=${FH_ADOPTION_RUNS:-3}
modes=${FH_ADOPTION_MODES:-"raw-xdp raw-udp fhd-udp-spin fhd-udp-poll fhd-xdp-spin fhd-xdp-poll"}
[[ $(nproc) -ge 2 ]] || { echo "adoption: needs 2 CPUs (sender and receiver apart)" >&2; exit 1; }
consumer_cpu=$(($(nproc) > 2 ? 2 : 0))

# The plots need Debian's matplotlib: installed here if it is missing (the
# report says so when it cannot be).
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "adoption: installing python3-matplotlib for the plots"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-matplotlib >/dev/null 2>&1 ||
    echo "adoption: could not install python3-matplotlib: the report will have no plots" >&2
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target fhd fhsim fhctl path_latency raw_receiver >/dev/null
bin=$PWD/build/bin

id=$$
nsS=fh-adopt-send-$id nsR=fh-adopt-recv-$id vS=fhas$id vR=fhar$id
work=$(mktemp -d /tmp/fh-adoption.XXXXXX)
# fhd's region on tmpfs, as in production: a region file on a disk
# filesystem (/tmp here is ext4) takes a write fault on every page the kernel
# wrote back, tens of microseconds on the hot path.
shm=$(mktemp -d /dev/shm/fh-adoption.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$nsS" 2>/dev/null || true
  ip netns del "$nsR" 2>/dev/null || true
  rm -rf "$work" "$shm"
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
lines=(--line-a 239.1.1.1:26400 --line-b 239.1.1.2:26401)

send() {  # send RATE: the day on both lines, stamped, from CPU 0
  ip netns exec "$nsS" taskset -c 0 "$bin/fhsim" publish --file "$work/day.itch" --interface "$vS" --stamp \
    --group-a 239.1.1.1 --port-a 26400 --group-b 239.1.1.2 --port-b 26401 --rate "$1" 2>"$work/send.log"
}

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }  # user, system in clock ticks

run_raw() {  # run_raw xdp|udp RATE -> one JSON line
  ip netns exec "$nsR" "$bin/raw_receiver" "$1" --interface "$vR" "${lines[@]}" --cpu 1 --idle-ms 1000 \
    >"$work/raw.json" 2>"$work/raw.log" &
  local pid=$!
  pids+=("$pid")
  sleep 0.3  # the socket is open before the first packet
  send "$2"
  wait "$pid" || { cat "$work/raw.log" >&2; return 1; }
  cat "$work/raw.json"
}

run_fhd() {  # run_fhd udp|xdp spin|poll RATE [tap] -> one JSON line
  local source=$1 idle=$2 rate=$3 tap=${4:-} name=adopt$RANDOM capture=
  cat >"$work/$name.toml" <<EOF
[instance]
name = "$name"
log_level = "warn"
[shm]
directory = "$shm"
ring_mib = 256
[book]
max_orders = 1048576
max_levels = 1048576
[[feed]]
source = "$source"
interface = "$vR"
queues = [0]
cpu = 1
idle = "$idle"
  [feed.line_a]
  group = "239.1.1.1"
  port = 26400
  [feed.line_b]
  group = "239.1.1.2"
  port = 26401
EOF
  rm -f "$work/fhd.pid"
  ip netns exec "$nsR" sh -c 'echo $$ >"$0"; exec "$1" --config "$2"' "$work/fhd.pid" "$bin/fhd" "$work/$name.toml" \
    2>"$work/fhd.log" &
  until [[ -s $work/fhd.pid ]] && "$bin/fhctl" stats --shm "$name" --shm-dir "$shm" >/dev/null 2>&1; do sleep 0.05; done
  local fhd_pid
  fhd_pid=$(cat "$work/fhd.pid")
  pids+=("$fhd_pid")
  "$bin/path_latency" "$name" "$shm" --follow 1000 --cpu "$consumer_cpu" >"$work/consumer.json" &
  local consumer=$!
  pids+=("$consumer")
  if [[ -n $tap ]]; then
    taskset -c "$consumer_cpu" "$bin/fhctl" capture --shm "$name" --shm-dir "$shm" --out "$shm/$name.pcapng" \
      2>"$work/capture.log" &
    capture=$!
    pids+=("$capture")
    until [[ $("$bin/fhctl" stats --json --shm "$name" --shm-dir "$shm" |
               python3 -c "import json,sys; print(json.load(sys.stdin)['counters'].get('tap.attached', 0))") == 1 ]]; do
      sleep 0.05
    done
  fi
  sleep 0.3
  local before after
  before=$(cpu_ticks "$fhd_pid")
  send "$rate"
  until [[ $("$bin/fhctl" stats --json --shm "$name" --shm-dir "$shm" |
             python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['arbiter.end_of_session'])") -ge 1 ]]; do
    sleep 0.05
  done
  after=$(cpu_ticks "$fhd_pid")
  wait "$consumer"
  "$bin/fhctl" stats --json --shm "$name" --shm-dir "$shm" >"$work/stats.json"
  if [[ -n $capture ]]; then
    kill -TERM "$capture"
    wait "$capture" || true
    grep -q ' 0 lost by the tap' "$work/capture.log" || echo "adoption: the capture lost packets: $(cat "$work/capture.log")" >&2
    rm -f "$shm/$name.pcapng"
  fi
  kill -TERM "$fhd_pid"
  while kill -0 "$fhd_pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$shm/$name"
  python3 - "$work/stats.json" "$work/consumer.json" "$before" "$after" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))["counters"]
lat = json.load(open(sys.argv[2]))
tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
(u0, s0), (u1, s1) = (map(int, a.split()) for a in sys.argv[3:5])
lat.update(lost=c["arbiter.gap_messages"], rx_dropped=c.get("xsk.rx_dropped", 0),
           socket_drops=c.get("source.socket_drops", 0), user_ms=(u1 - u0) * tick_ms, sys_ms=(s1 - s0) * tick_ms)
print(json.dumps(lat))
PY
}

run_mode() {  # run_mode MODE RATE -> appends to runs.jsonl, prints a summary
  local mode=$1 rate=$2 line
  case $mode in
    raw-xdp) line=$(run_raw xdp "$rate") ;;
    raw-udp) line=$(run_raw udp "$rate") ;;
    fhd-*-*) IFS=- read -r _ source idle tap <<<"$mode"; line=$(run_fhd "$source" "$idle" "$rate" "$tap") ;;
    *) echo "adoption: unknown mode $mode" >&2; return 1 ;;
  esac
  python3 - "$mode" "$rate" "$line" "$messages" >>"$out/runs.jsonl" <<'PY'
import json, sys
r = json.loads(sys.argv[3])
r.update(mode=sys.argv[1], rate=int(sys.argv[2]), sent=int(sys.argv[4]))
print(json.dumps(r))
PY
  tail -1 "$out/runs.jsonl" | python3 -c "
import json, sys
r = json.load(sys.stdin)
c = f\", consumer p50 {r['consumer_p50_ns']/1e3:.1f} us\" if 'consumer_p50_ns' in r else ''
print(f\"  {r['mode']:<13} {r['rate']:>8}/s: p50 {r['p50_ns']/1e3:.1f} us, p99 {r['p99_ns']/1e3:.1f} us{c}, lost {r['lost']}\")"
}

: >"$out/runs.jsonl"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)" |
  tee "$out/machine.txt"

# The sender's top rate: as fast as fhsim sends, then lower until raw-xdp loses nothing.
run_raw xdp 0 >"$work/top.json"
top=$(python3 -c "
import re
s = open('$work/send.log').read()
m = re.search(r'(\d+) messages in \d+ packets.*, ([0-9.]+) s', s)
print(int(int(m.group(1)) / float(m.group(2))))")
for _ in 1 2 3 4 5; do
  lost=$(run_raw xdp "$top" | python3 -c "import json,sys; print(json.load(sys.stdin)['lost'])")
  [[ $lost == 0 ]] && break
  top=$((top * 8 / 10))
done
echo "sender's top rate: $top messages/s (raw-xdp lost $lost there)"

for rate in $rates $top; do
  echo "rate $rate messages/s"
  for ((r = 1; r <= runs; r++)); do
    for mode in $modes; do run_mode "$mode" "$rate"; done
  done
done

# Debian's python3 (with its matplotlib) even where another comes first in PATH.
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
"$py" - "$out" "$top" "$messages" "$runs" "$consumer_cpu" <<'PY'
import json, statistics, sys
out, top, messages, runs, consumer_cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = [json.loads(l) for l in open(f"{out}/runs.jsonl")]
modes = list(dict.fromkeys(r["mode"] for r in rows))
rates = list(dict.fromkeys(r["rate"] for r in rows))
med = lambda xs: statistics.median(xs) if xs else float("nan")
def dropped(mode, rate):  # packets the socket lost (the other line may have had them)
    return med([r.get("rx_dropped", 0) + r.get("socket_drops", 0) for r in rows if r["mode"] == mode and r["rate"] == rate])
def stat(mode, rate, key, scale=1.0):
    return med([r[key] * scale for r in rows if r["mode"] == mode and r["rate"] == rate and key in r])
machine = open(f"{out}/machine.txt").read().strip()
md = [f"# fh adoption benchmark", "", f"{machine}. {messages} messages a run on lines A and B over veth, "
      f"sender on CPU 0, receiver on CPU 1, consumer on CPU {consumer_cpu}; {runs} runs a mode and rate, interleaved; medians. "
      f"Delays in µs; CPU in ms per million messages, from the receiver's first packet. "
      f"The sender's top rate here: {top} messages/s. Ratios are to raw-xdp at the same rate.", ""]
for rate in rates:
    label = f"{rate} messages/s" + (" (the sender's top rate)" if rate == top else "")
    md += [f"## {label}", "",
           "| mode | p50 | p99 | p99.9 | max | consumer p50 | consumer p99 | consumer p99.9 | consumer max | lost | dropped | user CPU | kernel CPU | p50 / floor | p99 / floor | consumer p50 − floor p50 |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    f50, f99 = stat("raw-xdp", rate, "p50_ns", 1e-3), stat("raw-xdp", rate, "p99_ns", 1e-3)
    for mode in modes:
        s = lambda k, sc=1e-3: stat(mode, rate, k, sc)
        per = lambda k: s(k, 1.0) * 1e6 / messages
        cons = [s(f"consumer_{k}") for k in ("p50_ns", "p99_ns", "p999_ns", "max_ns")]
        fmt = lambda v: "–" if v != v else f"{v:.1f}"
        md.append(f"| {mode} | {fmt(s('p50_ns'))} | {fmt(s('p99_ns'))} | {fmt(s('p999_ns'))} | {fmt(s('max_ns'))} | "
                  + " | ".join(fmt(v) for v in cons)
                  + f" | {s('lost', 1.0):.0f} | {dropped(mode, rate):.0f} | {per('user_ms'):.0f} | {per('sys_ms'):.0f} | "
                  f"{s('p50_ns') / f50:.2f} | {s('p99_ns') / f99:.2f} | {fmt(cons[0] - f50)} |")
    md.append("")
md += ["The delay at a raw receiver is its read of the packet; at fhd, ts_recv (its read of the packet) − ts_event; "
       "at the consumer, its read of the tick record. `lost`: messages no line delivered (fhd: arbiter.gap_messages); "
       "`dropped`: fhd's packets lost in the socket (xsk.rx_dropped, source.socket_drops), which the other line may "
       "have carried. Under load fhd's own delay stops at its read of the packet, so packets waiting in the ring "
       "behind others show at the consumer only.", ""]
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(rates), figsize=(5 * len(rates), 4.5), sharey=True, squeeze=False)
    for ax, rate in zip(axes[0], rates):
        for q, marker in (("p50_ns", "o"), ("p99_ns", "s"), ("p999_ns", "^")):
            ax.plot(modes, [stat(m, rate, q, 1e-3) for m in modes], marker=marker, linestyle="", label=f"at receiver {q[:-3]}")
            ax.plot(modes, [stat(m, rate, "consumer_" + q, 1e-3) for m in modes], marker=marker, linestyle="",
                    fillstyle="none", label=f"at consumer {q[:-3]}")
        ax.set_title(f"{rate} msg/s")
        ax.set_yscale("log")
        ax.tick_params(axis="x", rotation=45)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("delay after send (µs)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}/latency.png", dpi=110)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    rate = rates[0]
    for mode in modes:
        for key, style in (("cdf_ns", "-"), ("consumer_cdf_ns", "--")):
            runs_ = [r for r in rows if r["mode"] == mode and r["rate"] == rate and key in r]
            if not runs_:
                continue
            cdf = [statistics.median(r[key][q] for r in runs_) / 1e3 for q in range(101)]
            ax.plot(cdf, range(101), style, label=mode + (" consumer" if key.startswith("consumer") else ""))
    ax.set_xscale("log")
    ax.set_xlabel("delay after send (µs)")
    ax.set_ylabel("% of messages")
    ax.set_title(f"CDF at {rate} messages/s (median of runs)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}/cdf.png", dpi=110)
    md += ["![latency percentiles](latency.png)", "", "![CDF](cdf.png)", ""]
except ImportError:
    md += ["(No plots: matplotlib is missing; `apt-get install python3-matplotlib`.)", ""]
open(f"{out}/report.md", "w").write("\n".join(md))
print("\n".join(md))
PY
echo "adoption: report in $out/report.md"
