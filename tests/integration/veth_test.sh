#!/usr/bin/env bash
# Tier 3: fhsim and fhd on either side of a veth pair, each in a network
# namespace made here (hosts 198.18.0.1/.2, groups 239.1.1.1/.2), removed by a
# trap whatever happens. Usage: veth_test.sh BIN_DIR TESTDATA_DIR SOURCE_DIR CASE
#   CASE = replay-xdp | replay-udp | coexist | kill | queues | faults | join | socket-drops | retransmission |
#          least-privilege | syscalls | snapshot | prometheus | capture | memory
# replay-*: every capture of TESTDATA_DIR/itch50 published on lines A and B
# gives exactly the books of `fhctl book --from FILE`.
set -euo pipefail
bin=$1 testdata=$2 src=$3 case=$4
[[ $(id -u) == 0 ]] || { echo "veth tests need root (CI runs as root)"; exit 1; }

id=$$
nsS=fh-send-$id nsR=fh-recv-$id vS=fhs$id vR=fhr$id
# On tmpfs, as fhd's regions are in production: a region file on a disk
# filesystem takes a write fault on each page writeback cleaned.
work=$(mktemp -d /dev/shm/fh-veth.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$nsS" 2>/dev/null || true
  ip netns del "$nsR" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

S() { ip netns exec "$nsS" "$@"; }
R() { ip netns exec "$nsR" "$@"; }

ip netns add "$nsS"
ip netns add "$nsR"
ip link add "$vS" numtxqueues 2 numrxqueues 2 type veth peer name "$vR" numtxqueues 2 numrxqueues 2
ip link set "$vS" netns "$nsS"
ip link set "$vR" netns "$nsR"
S ip addr add 198.18.0.1/30 dev "$vS"
R ip addr add 198.18.0.2/30 dev "$vR"
S ip link set lo up
R ip link set lo up
S ip link set "$vS" up
R ip link set "$vR" up
S ip route add 239.0.0.0/8 dev "$vS"
R ip route add 239.0.0.0/8 dev "$vR"
# Line A leaves from CPU 0 on tx queue 0, line B from CPU 1 on tx queue 1;
# veth hands each to the receiving queue of the same number.
S sh -c "echo 1 >/sys/class/net/$vS/queues/tx-0/xps_cpus; echo 2 >/sys/class/net/$vS/queues/tx-1/xps_cpus" || true

# fhd's configuration for a source (xdp | udp) and region name, then any
# extra TOML for the feed (its tables come last); GAP_US sets gap_timeout_us,
# FEED_KEYS adds keys of the feed's own table; STAMPED leaves the trading date
# at today's (for fhsim --stamp).
config() {
  local source=$1 name=$2 extra=${3:-}
  cat >"$work/$name.toml" <<EOF
[instance]
name = "$name"
log_level = "warn"
[shm]
directory = "${SHM_DIR:-$work}"
ring_mib = 16
[book]
max_orders = 262144
max_levels = 1048576
[[feed]]
name = "veth"
source = "$source"
interface = "$vR"
queues = [0, 1]
xdp_mode = "native"
idle = "poll"
gap_timeout_us = ${GAP_US:-200000}
$([[ -n ${STAMPED:-} ]] || echo 'trading_date = "2019-12-30"')
${FEED_KEYS:-}
  [feed.line_a]
  group = "239.1.1.1"
  port = 26400
  [feed.line_b]
  group = "239.1.1.2"
  port = 26401
$extra
EOF
  echo "$work/$name.toml"
}

counter() {  # counter NAME REGION
  "$bin/fhctl" stats --json --shm "$2" --shm-dir "${SHM_DIR:-$work}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['counters'].get('$1', -1))"
}

# Waits (bounded) until COUNTER of REGION reaches VALUE.
wait_counter() {
  local name=$1 region=$2 value=$3 tries=0
  until [[ $(counter "$name" "$region" 2>/dev/null || echo -1) -ge $value ]]; do
    ((++tries > 600)) && { echo "timeout waiting for $name >= $value in $region"; return 1; }
    sleep 0.05
  done
}

start_fhd() {  # start_fhd SOURCE NAME [EXTRA]: runs fhd in the receiving namespace, waits for its region
  local cfg
  cfg=$(config "$1" "$2" "${3:-}")
  # `ip netns exec` may fork: the shell records the pid that becomes fhd.
  rm -f "$work/fhd.pid"
  # FHD_AS: a command fhd is run under (setpriv: another user, some capabilities).
  R sh -c 'echo $$ >"$0.pid.tmp"; mv "$0.pid.tmp" "$0.pid"; exec $4 "$1" --config "$2" 2>>"$0.$3.log"' \
    "$work/fhd" "$bin/fhd" "$cfg" "$2" "${FHD_AS:-}" &
  local tries=0
  until [[ -e $work/fhd.pid ]]; do
    ((++tries > 400)) && { echo "fhd did not start"; return 1; }
    sleep 0.05
  done
  fhd_pid=$(cat "$work/fhd.pid")
  pids+=("$fhd_pid")
  tries=0
  until [[ -e ${SHM_DIR:-$work}/$2 ]] && "$bin/fhctl" stats --shm "$2" --shm-dir "${SHM_DIR:-$work}" >/dev/null 2>&1; do
    if ! kill -0 "$fhd_pid" 2>/dev/null; then cat "$work/fhd.$2.log"; echo "fhd exited"; return 1; fi
    ((++tries > 400)) && { echo "fhd did not start"; cat "$work/fhd.$2.log"; return 1; }
    sleep 0.05
  done
}

stop_fhd() {  # SIGTERM, then wait (bounded) for a clean exit
  kill -TERM "$fhd_pid"
  local tries=0
  while kill -0 "$fhd_pid" 2>/dev/null; do
    ((++tries > 400)) && { echo "fhd did not stop on SIGTERM"; return 1; }
    sleep 0.05
  done
  wait 2>/dev/null || true
  if grep -q ' error ' "$work"/fhd.*.log 2>/dev/null; then cat "$work"/fhd.*.log; return 1; fi
}

# Runs CMD in the receiving namespace in the background, its own pid (not
# `ip netns exec`'s, which may fork) kept for the trap.
in_background() {  # in_background NAME CMD...
  local name=$1 tries=0
  shift
  R sh -c 'echo $$ >"$0.pid.tmp"; mv "$0.pid.tmp" "$0.pid"; exec "$@"' "$work/$name" "$@" &
  until [[ -e $work/$name.pid ]]; do
    ((++tries > 400)) && { echo "$name did not start"; return 1; }
    sleep 0.05
  done
  bg_pid=$(cat "$work/$name.pid")
  pids+=("$bg_pid")
}

publish() {  # publish FILE [extra fhsim options]
  local file=$1
  shift
  S "$bin/fhsim" publish --file "$file" --interface "$vS" --group-a 239.1.1.1 --port-a 26400 \
    --group-b 239.1.1.2 --port-b 26401 --rate "${RATE:-200000}" "$@" 2>>"$work/fhsim.log"
}

replay_all() {  # replay_all SOURCE
  local source=$1 n=0 failed=0
  while IFS= read -r file; do
    n=$((n + 1))
    local name=r$n
    start_fhd "$source" "$name"
    publish "$file"
    wait_counter arbiter.end_of_session "$name" 1
    local want got
    want=$("$bin/fhctl" book --from "$file" --json --depth 10)
    got=$("$bin/fhctl" book --shm "$name" --shm-dir "$work" --json --depth 0)
    local gaps
    gaps=$(counter arbiter.gaps "$name")
    if [[ $want != "$got" || $gaps != 0 ]]; then
      echo "FAIL $source $(basename "$file"): books differ or $gaps gaps"
      diff <(echo "$want") <(echo "$got") | head -5 || true
      failed=$((failed + 1))
    else
      echo "ok   $source $(basename "$file"): $(echo "$got" | grep -c . || true) books, $(counter messages "$name") messages"
    fi
    if [[ $source == xdp ]]; then
      [[ $(counter xdp.redirected "$name") -gt 0 ]] || { echo "FAIL nothing went through AF_XDP"; failed=$((failed + 1)); }
    fi
    stop_fhd
    rm -f "$work/$name"
  done < <(find "$testdata/itch50" -type f \( -name '*.pcap' -o -name '*.NASDAQ_ITCH50' \) | sort)
  echo "$source: $n captures, $failed failed"
  [[ $failed == 0 && $n -ge 30 ]]
}

small=$testdata/itch50/elk_nasdaq.pcap

case $case in
  replay-xdp) replay_all xdp ;;
  replay-udp) replay_all udp ;;
  coexist)
    # While fhd owns the feed, the kernel still gets everything else.
    start_fhd xdp co
    S ping -c 2 -W 2 198.18.0.2 >/dev/null
    R python3 "$src/tests/integration/udp_listen.py" 198.18.0.2 9999 198.18.0.2 5 3 >"$work/plain.out" &
    listener=$!
    until grep -q READY "$work/plain.out" 2>/dev/null; do sleep 0.05; done
    for _ in 1 2 3; do S python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('198.18.0.2', 9999))"; done
    wait "$listener"
    # Multicast to another port of the feed's group reaches a kernel socket too.
    R python3 "$src/tests/integration/udp_listen.py" 239.1.1.1 9998 198.18.0.2 5 3 >"$work/mc.out" &
    listener=$!
    until grep -q READY "$work/mc.out" 2>/dev/null; do sleep 0.05; done
    for _ in 1 2 3; do S python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('198.18.0.1'))
s.sendto(b'x', ('239.1.1.1', 9998))"; done
    wait "$listener"
    publish "$small"
    wait_counter arbiter.end_of_session co 1
    [[ $(counter xdp.pass.other_line co) -ge 3 ]]
    stop_fhd
    echo "ping, unicast UDP and other multicast ports reach the kernel while fhd runs"
    ;;
  kill)
    start_fhd xdp k1
    R ip link show "$vR" | grep -q xdp
    kill -9 "$fhd_pid"
    while kill -0 "$fhd_pid" 2>/dev/null; do sleep 0.05; done
    # The BPF link died with the process: no program, and the feed reaches the kernel.
    if R ip link show "$vR" | grep -q xdp; then echo "XDP program left attached"; exit 1; fi
    R python3 "$src/tests/integration/udp_listen.py" 239.1.1.1 26400 198.18.0.2 5 10 >"$work/after.out" &
    listener=$!
    until grep -q READY "$work/after.out" 2>/dev/null; do sleep 0.05; done
    publish "$small"
    wait "$listener"
    echo "after kill -9: $(tail -1 "$work/after.out") feed datagrams reached a kernel socket"
    # And a new fhd starts cleanly on the same interface and region name.
    start_fhd xdp k1
    publish "$small"
    wait_counter arbiter.end_of_session k1 1
    [[ $(counter xdp.redirected k1) -gt 0 ]]
    stop_fhd
    echo "fhd restarted cleanly"
    ;;
  queues)
    start_fhd xdp q
    S taskset -c 0 "$bin/fhsim" publish --file "$small" --interface "$vS" --group-a 239.1.1.1 --port-a 26400 \
      --rate 200000 2>>"$work/fhsim.log"
    S taskset -c 1 "$bin/fhsim" publish --file "$small" --interface "$vS" --group-a 239.1.1.2 --port-a 26401 \
      --rate 200000 2>>"$work/fhsim.log"
    wait_counter arbiter.end_of_session q 1
    wait_counter line_b.packets q 1
    q0=$(counter xsk.queue0.frames q) q1=$(counter xsk.queue1.frames q)
    echo "frames by queue: 0: $q0, 1: $q1"
    [[ $q0 -gt 0 && $q1 -gt 0 ]]
    [[ $(counter line_a.packets q) -gt 0 && $(counter line_b.packets q) -gt 0 ]]
    stop_fhd
    ;;
  faults)
    # Line A loses every third packet; B, later by 300 µs, fills the holes: nothing is lost.
    bx=$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50
    start_fhd xdp f1
    publish "$bx" --drop-a 3 --b-delay-us 300
    wait_counter arbiter.end_of_session f1 1
    [[ $(counter arbiter.gaps f1) == 0 ]]
    [[ $("$bin/fhctl" book --shm f1 --shm-dir "$work" --json --depth 0) == "$("$bin/fhctl" book --from "$bx" --json)" ]]
    echo "A losing packets: books exact, $(counter arbiter.filled f1) holes filled by the other line"
    stop_fhd
    rm -f "$work/f1"
    # Both lines lose every 50th packet: gaps, counted, and the books say stale.
    start_fhd xdp f2
    publish "$bx" --drop-both 50
    wait_counter arbiter.end_of_session f2 1
    tries=0  # every message either arrived or was declared lost (each hole waits gap_timeout_us)
    until (( $(counter messages f2) + $(counter arbiter.gap_messages f2) >= 12012 )); do
      ((++tries > 600)) && { echo "timeout waiting for the gaps"; exit 1; }
      sleep 0.05
    done
    gaps=$(counter arbiter.gaps f2) stale=$(counter book.stale f2)
    echo "both lines losing packets: $gaps gaps, $(counter arbiter.gap_messages f2) messages lost, $stale books stale"
    # fhsim drops data packets 50, 100, ... 300 of 325 on both lines: 6 packets, 219 messages.
    [[ $gaps == 6 && $(counter arbiter.gap_messages f2) == 219 && $(counter messages f2) == 11793 && $stale -gt 0 ]]
    "$bin/fhctl" book --shm f2 --shm-dir "$work" | grep -q STALE
    stop_fhd
    rm -f "$work/f2"
    # A frame whose IPv4 header checksum is wrong: the kernel would drop it, so
    # the bypass path does too, and counts it. The same frame made right is taken.
    start_fhd xdp f3
    S python3 "$src/tests/integration/raw_frame.py" "$vS" 198.18.0.1 239.1.1.1 26400 bad
    S python3 "$src/tests/integration/raw_frame.py" "$vS" 198.18.0.1 239.1.1.1 26400 good
    wait_counter line_a.packets f3 1
    echo "bad IPv4 header checksums counted: $(counter source.bad_ip_checksum f3), good frames taken: $(counter line_a.packets f3)"
    [[ $(counter source.bad_ip_checksum f3) == 1 && $(counter line_a.packets f3) == 1 && $(counter messages f3) == 1 ]]
    stop_fhd
    ;;
  join)
    # A feed picked up in mid-session (its first packet carries sequence 5000):
    # fhd cannot know what rested before, so every book says joining, never normal.
    bx=$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50
    start_fhd xdp j1
    publish "$bx" --first-seq 5000
    wait_counter arbiter.end_of_session j1 1
    [[ $(counter feed.joining j1) == 1 && $(counter feed.joined_at j1) == 5000 && $(counter arbiter.gaps j1) == 0 ]]
    books=$("$bin/fhctl" book --shm j1 --shm-dir "$work")
    total=$(grep -c '^[A-Z]' <<<"$books" || true)
    joining=$(grep -c 'JOINING' <<<"$books" || true)
    echo "joined at 5000: $joining of $total books say joining"
    [[ $total -gt 0 && $joining == "$total" ]]
    "$bin/fhctl" tail --shm j1 --shm-dir "$work" --from-oldest --json --count 100000 --seconds 1 >"$work/j1.jsonl" || true
    grep -q '"reason":102' "$work/j1.jsonl"  # BookJoining, for each book
    stop_fhd
    # The same day from its first message: no book says joining.
    start_fhd xdp j2
    publish "$bx"
    wait_counter arbiter.end_of_session j2 1
    [[ $(counter feed.joining j2) == 0 && $(counter feed.joined_at j2) == 0 ]]
    ! "$bin/fhctl" book --shm j2 --shm-dir "$work" | grep -q JOINING
    stop_fhd
    # After a clean stop the region says so: the writer stopped, the source too.
    "$bin/fhctl" stats --shm j2 --shm-dir "$work" >"$work/j2.stats"
    grep -E '^source +stopped$' "$work/j2.stats"
    grep -E "^writer .*, stopped," "$work/j2.stats"
    ;;
  socket-drops)
    # The kernel path: datagrams the socket buffer could not hold are counted
    # (SO_RXQ_OVFL), not silently lost. fhd is stopped while the feed floods in.
    start_fhd udp d1
    kill -STOP "$fhd_pid"
    S "$bin/fhsim" publish --generate 1500000 --symbols 500 --interface "$vS" --group-a 239.1.1.1 --port-a 26400 \
      --group-b 239.1.1.2 --port-b 26401 2>>"$work/fhsim.log"
    kill -CONT "$fhd_pid"
    wait_counter source.socket_drops d1 1
    echo "kernel socket drops counted: $(counter source.socket_drops d1) datagrams, $(counter source.datagrams d1) received"
    grep -q "the kernel's UDP socket buffers dropped" "$work/fhd.d1.log"  # and told in the log
    stop_fhd
    ;;
  retransmission)
    # Holes neither line fills are re-requested from fhsim's re-request server
    # (198.18.0.1:26500, unicast through the kernel beside AF_XDP).
    day=$work/day.itch
    "$bin/fhsim" generate --messages 400000 --symbols 200 --seed 3 --out "$day" 2>>"$work/fhsim.log"
    want=$("$bin/fhctl" book --from "$day" --json --depth 10)
    server='  [feed.retransmission]
  servers = ["198.18.0.1:26500"]
  timeout_us = 20000'
    # The accounting of a region: every message each line and the server
    # brought is applied, a duplicate, late, unparsed, foreign or held; lost =
    # recovered + unrecovered. Prints "applied recovered unrecovered".
    accounting() {
      "$bin/fhctl" stats --json --shm "$1" --shm-dir "$work" | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
lines = ["line_a", "line_b", "retransmission"]
received = sum(c[l + ".messages"] for l in lines)
outcome = sum(c[l + "." + k] for l in lines for k in ("applied", "duplicates", "late", "unparsed", "foreign"))
assert received == outcome + c["arbiter.held_messages"], (received, outcome, c["arbiter.held_messages"])
print(sum(c[l + ".applied"] for l in lines), c["retransmission.applied"], c["arbiter.gap_messages"])'
    }
    # Waits until every message published is applied or declared lost.
    settle() {  # settle REGION TOTAL
      local tries=0
      until read -r applied recovered unrecovered < <(accounting "$1") && ((applied + unrecovered >= $2)) &&
        [[ $(counter retransmission.in_flight "$1") == 0 ]]; do
        ((++tries > 600)) && { echo "timeout: $(accounting "$1") of $2"; return 1; }
        sleep 0.05
      done
    }
    total() { grep -o '^fhsim publish: [0-9]* messages' "$work/fhsim.log" | tail -1 | grep -o '[0-9][0-9]*'; }

    # 1. Each line loses 5% of the packets at random, independently.
    GAP_US=2000 start_fhd xdp t1 "$server"
    publish "$day" --loss-a 5 --loss-b 5 --fault-seed 7 --rerequest-listen 198.18.0.1:26500 --heartbeats 2
    settle t1 "$(total)"
    read -r applied recovered unrecovered < <(accounting t1)
    echo "5% loss on each line: $applied messages applied, $recovered recovered by $(counter retransmission.requests t1) requests, $unrecovered lost"
    [[ $recovered -gt 0 && $unrecovered == 0 && $(counter arbiter.gaps t1) == 0 && $(counter book.stale t1) == 0 ]]
    [[ $("$bin/fhctl" book --shm t1 --shm-dir "$work" --json --depth 0) == "$want" ]]
    ! "$bin/fhctl" book --shm t1 --shm-dir "$work" | grep -q STALE
    "$bin/fhctl" stats --shm t1 --shm-dir "$work" >"$work/t1.stats"
    grep -E '^feed +live$' "$work/t1.stats"
    grep -E "^lost +$recovered messages: $recovered recovered \+ 0 unrecovered$" "$work/t1.stats"
    stop_fhd
    rm -f "$work/t1"

    # 2. Both lines lose 40 packets in a row, far longer than the wait: recovered.
    GAP_US=2000 start_fhd udp t2 "$server"
    publish "$day" --burst-loss 100:40 --rerequest-listen 198.18.0.1:26500 --rerequest-max-messages 500
    settle t2 "$(total)"
    read -r applied recovered unrecovered < <(accounting t2)
    echo "a burst of 40 packets on both lines (kernel sockets): $recovered messages recovered, $unrecovered lost"
    [[ $recovered -gt 0 && $unrecovered == 0 && $(counter arbiter.gaps t2) == 0 && $(counter book.stale t2) == 0 ]]
    [[ $("$bin/fhctl" book --shm t2 --shm-dir "$work" --json --depth 0) == "$want" ]]
    stop_fhd
    rm -f "$work/t2"

    # 3. The server never answers: each hole is tried on it, then lost; the books
    # say stale, and the feed goes on.
    bx=$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50
    GAP_US=2000 start_fhd xdp t3 "$server
  attempts = 2"
    publish "$bx" --drop-both 50 --rerequest-listen 198.18.0.1:26500 --rerequest-stop-after 0
    settle t3 12012
    read -r applied recovered unrecovered < <(accounting t3)
    echo "server silent: $(counter retransmission.requests t3) requests unanswered, $(counter arbiter.gaps t3) gaps, $unrecovered messages lost, $(counter book.stale t3) books stale"
    # fhsim drops data packets 50, 100, ... 300 of 325 on both lines: 6 holes, 219 messages.
    [[ $(counter arbiter.gaps t3) == 6 && $unrecovered == 219 && $applied == 11793 && $recovered == 0 ]]
    [[ $(counter retransmission.exhausted t3) == 6 && $(counter retransmission.requests t3) == 12 ]]
    "$bin/fhctl" book --shm t3 --shm-dir "$work" | grep -q STALE
    "$bin/fhctl" stats --shm t3 --shm-dir "$work" | grep -E '^feed +stale: 6 holes lost'
    stop_fhd
    ;;
  snapshot)
    # Books rebuilt from fhsim's GLIMPSE server (198.18.0.1:26600, SoupBinTCP
    # over the kernel beside AF_XDP): after a start in mid-session, after a
    # kill -9 and restart, after a hole the re-request server has forgotten,
    # and through a rejected login and a snapshot cut off. Each time the books
    # at the end are those of the whole day, and none says joining or stale.
    day=$work/day.itch
    "$bin/fhsim" generate --messages 300000 --symbols 100 --seed 11 --out "$day" 2>>"$work/fhsim.log"
    want=$("$bin/fhctl" book --from "$day" --json --depth 10)
    snapshot='  [feed.snapshot]
  server = "198.18.0.1:26600"
  retry_ms = 200
  timeout_ms = 2000'
    publish_bg() {  # publish_bg [extra fhsim options]: the day at 100k/s (3 s) with the GLIMPSE server
      S "$bin/fhsim" publish --file "$day" --interface "$vS" --group-a 239.1.1.1 --port-a 26400 \
        --group-b 239.1.1.2 --port-b 26401 --rate 100000 --glimpse-listen 198.18.0.1:26600 --linger-ms 3000 \
        --heartbeats 2 "$@" 2>>"$work/fhsim.log" &
      publisher=$!
      pids+=("$publisher")
    }
    exact() {  # exact REGION: the books of the whole day, complete
      wait_counter arbiter.end_of_session "$1" 1 || { cat "$work/fhd.$1.log"; "$bin/fhctl" stats --shm "$1" --shm-dir "$work"; return 1; }
      wait_counter snapshot.loaded "$1" 1
      local tries=0
      until [[ $(counter snapshot.waiting "$1") == 0 ]]; do
        ((++tries > 600)) && { echo "timeout: still waiting for a snapshot"; return 1; }
        sleep 0.05
      done
      "$bin/fhctl" stats --shm "$1" --shm-dir "$work" >"$work/$1.stats"
      [[ $("$bin/fhctl" book --shm "$1" --shm-dir "$work" --json --depth 0) == "$want" ]] ||
        { echo "$1: books differ from the day's"; cat "$work/$1.stats"; return 1; }
      if "$bin/fhctl" book --shm "$1" --shm-dir "$work" | grep -E 'JOINING|STALE'; then
        echo "$1: books still marked"; cat "$work/$1.stats"; return 1
      fi
      [[ $(counter feed.joining "$1") == 0 && $(counter snapshot.suspect_adds "$1") == 0 &&
         $(counter snapshot.suspect_unknown "$1") == 0 ]] || { echo "$1: joining or off-by-one signs"; cat "$work/$1.stats"; return 1; }
      echo "$1: joined at $(counter feed.joined_at "$1"); snapshot to sequence $(counter snapshot.last_sequence "$1")" \
        "with $(counter snapshot.orders "$1") orders, $(counter snapshot.replayed "$1") buffered messages applied," \
        "$(counter snapshot.covered "$1") already in it; books exact"
    }

    # 1. fhd starts a third of the way into the day.
    publish_bg
    sleep 1
    start_fhd xdp s1 "$snapshot"
    wait "$publisher"
    exact s1
    # One snapshot is needed; a hole lost later (none is made here) would need another.
    echo "s1: $(counter snapshot.loaded s1) snapshots merged, $(counter arbiter.gaps s1) holes lost," \
      "$(counter xsk.rx_dropped s1) frames dropped, $(counter xsk.fill_ring_empty s1) times the fill ring was empty"
    [[ $(counter feed.joined_at s1) -gt 1 && $(counter snapshot.fetched s1) -ge 1 &&
       $(counter snapshot.loaded s1) == $(($(counter arbiter.gaps s1) + 1)) ]] ||
      { echo "s1: not one snapshot for the join and one for each hole lost"; cat "$work/s1.stats" "$work/fhd.s1.log"; exit 1; }
    grep -E '^feed +live$' "$work/s1.stats"
    grep -E '^snapshot +[0-9]+ merged of [0-9]+ needed at [0-9:.]+ UTC; the last to sequence [0-9]+ with [0-9]+ orders' "$work/s1.stats"
    grep -E '^fetches +[0-9]+: [0-9]+ fetched' "$work/s1.stats"
    stop_fhd

    # 2. fhd killed with SIGKILL in mid-day and started again: the same books.
    publish_bg
    start_fhd xdp s2 "$snapshot"
    sleep 1.2
    kill -9 "$fhd_pid"
    while kill -0 "$fhd_pid" 2>/dev/null; do sleep 0.05; done
    while R ip link show "$vR" | grep -q xdp; do sleep 0.05; done  # the kernel has let the program go
    start_fhd xdp s2 "$snapshot"
    wait "$publisher"
    exact s2
    stop_fhd

    # 3. A burst lost on both lines that the re-request server has forgotten:
    #    retransmission gives up, the hole is lost, a snapshot rebuilds the books.
    server='  [feed.retransmission]
  servers = ["198.18.0.1:26500"]
  timeout_us = 20000
  attempts = 2'
    GAP_US=2000 start_fhd xdp s3 "$server
$snapshot"
    publish_bg --burst-loss 3000:5 --rerequest-listen 198.18.0.1:26500 --rerequest-forget-before 200000
    wait "$publisher"
    exact s3
    [[ $(counter arbiter.gaps s3) -ge 1 && $(counter retransmission.exhausted s3) -ge 1 ]]
    stop_fhd

    # 4. The first login is rejected, the next snapshot is cut off halfway:
    #    counted, and a later try succeeds.
    publish_bg --glimpse-reject-first 1 --glimpse-close-first 1
    sleep 1
    start_fhd xdp s4 "$snapshot"
    wait "$publisher"
    exact s4
    [[ $(counter snapshot.login_rejected s4) == 1 && $(counter snapshot.closed_early s4) == 1 &&
       $(counter snapshot.fetched s4) -ge 1 ]] || { echo "s4: faults not counted"; cat "$work/s4.stats"; exit 1; }
    grep -q "snapshot failed: .*login rejected" "$work/fhd.s4.log"
    stop_fhd
    ;;
  memory)
    # [memory] on the XDP path: the book stores and the UMEM on the node of
    # the worker's CPU from explicit huge pages, as the region's counters say
    # and as the kernel's /proc/PID/numa_maps shows; with too few huge pages,
    # transparent ones and a warning that says why. The housekeeping threads
    # keep off the worker's CPU.
    node=$(basename "$(ls -d /sys/devices/system/cpu/cpu1/node* 2>/dev/null | head -1)" | tr -dc 0-9)
    [[ -n $node ]] || node=0
    # The node's own pool: on a host of several nodes vm.nr_hugepages spreads over all of them.
    pool=/sys/devices/system/node/node$node/hugepages/hugepages-2048kB
    pages_before=$(cat "$pool/nr_hugepages")
    restore_pages() { echo "$pages_before" >"$pool/nr_hugepages"; }
    trap 'restore_pages; cleanup' EXIT
    explicit='[memory]
numa_node = "cpu"
huge_pages = "explicit"'
    FEED_KEYS="cpu = 1" start_fhd xdp mem-short "$explicit"
    # Too few huge pages free for every store (none are reserved beyond what is free now).
    free=$(cat "$pool/free_hugepages")
    need=$((($(counter memory.stores_bytes mem-short) + $(counter memory.umem_bytes mem-short)) / 2097152))
    echo "the stores and the UMEM take $need huge pages; $free are free"
    if ((free < need)); then
      grep -q 'explicit huge pages: too few to be had' "$work/fhd.mem-short.log" ||
        { cat "$work/fhd.mem-short.log"; echo "no fallback reported"; exit 1; }
      [[ $(counter memory.stores_huge_page_bytes mem-short) -lt $(counter memory.stores_bytes mem-short) ||
        $(grep -c 'transparent ones instead' "$work/fhd.mem-short.log") -gt 0 ]]
      echo "with $free huge pages free: $(grep -o 'explicit huge pages: [^;]*' "$work/fhd.mem-short.log" | head -1)"
    fi
    stop_fhd
    echo $((pages_before + need)) >"$pool/nr_hugepages"
    (($(cat "$pool/free_hugepages") >= need)) ||
      { echo "cannot reserve $need huge pages (the host's memory is fragmented)"; exit 77; }
    FEED_KEYS="cpu = 1" start_fhd xdp mem "$explicit"
    publish "$small"
    wait_counter arbiter.end_of_session mem 1
    [[ $("$bin/fhctl" book --shm mem --shm-dir "$work" --json --depth 0) == "$("$bin/fhctl" book --from "$small" --json)" ]]
    stores=$(counter memory.stores_bytes mem) umem=$(counter memory.umem_bytes mem)
    ((umem > 0 && stores > 0))
    [[ $(counter memory.stores_huge_page_bytes mem) == "$stores" && $(counter memory.umem_huge_page_bytes mem) == "$umem" ]]
    [[ $(counter memory.stores_off_node_bytes mem) == 0 && $(counter memory.umem_off_node_bytes mem) == 0 ]]
    [[ $(counter memory.stores_node mem) == "$node" && $(counter memory.umem_node mem) == "$node" ]]
    ! grep -q 'warning' "$work/fhd.mem.log" || { cat "$work/fhd.mem.log"; exit 1; }
    row=$("$bin/fhctl" stats --shm mem --shm-dir "$work" | grep '^memory ')
    echo "fhctl stats: $row"
    [[ $row =~ stores\ [0-9]+\ MiB\ on\ node\ $node,\ 100%\ in\ 2\ MiB\ pages\;\ UMEM\ [0-9]+\ MiB\ on\ node\ $node,\ 100% ]]
    # The kernel's view: fhd's hugetlb mappings are exactly the stores and the UMEM, all on the node.
    python3 - "/proc/$fhd_pid/numa_maps" "$node" $((stores + umem)) <<'PY'
import sys
path, node, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
huge = on_node = 0
for line in open(path):
    fields = line.split()
    if "huge" not in fields:
        continue
    kib = int(next(f for f in fields if f.startswith("kernelpagesize_kB=")).split("=")[1])
    for f in fields:
        if f.startswith("N") and "=" in f:
            pages = int(f.split("=")[1])
            huge += pages * kib * 1024
            if int(f[1:].split("=")[0]) == node:
                on_node += pages * kib * 1024
    assert fields[1] == f"prefer:{node}", line
print(f"numa_maps: {huge >> 20} MiB in explicit huge pages, {on_node >> 20} MiB of it on node {node}")
assert huge == want == on_node, (huge, want, on_node)
PY
    # One thread (the worker) on CPU 1; every other one kept off it.
    python3 - /proc/"$fhd_pid"/task <<'PY'
import os, sys
def cpus(text):
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out
allowed = {}
for tid in os.listdir(sys.argv[1]):
    for line in open(f"{sys.argv[1]}/{tid}/status"):
        if line.startswith("Cpus_allowed_list:"):
            allowed[tid] = cpus(line.split()[1])
print("threads' allowed CPUs:", sorted(sorted(c) for c in allowed.values()))
assert sum(1 for c in allowed.values() if c == {1}) == 1, "the worker alone on CPU 1"
assert sum(1 for c in allowed.values() if 1 in c) == 1, "another thread may run on the worker's CPU"
assert len(allowed) >= 2
PY
    stop_fhd
    ;;
  least-privilege)
    # fhd as an unprivileged user with exactly the capabilities the unit grants:
    # the XDP path works. Without one of them, the error names what is missing.
    # As systemd/fhd.service grants them (CAP_IPC_LOCK: the UMEM is pinned
    # whatever the locked-memory limit, which this host's root cannot raise).
    caps=+net_admin,+net_raw,+bpf,+perfmon,+ipc_lock
    as_nobody() { echo "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=$1 --ambient-caps=$1"; }
    chmod 755 "$work"
    export SHM_DIR=$work/shm FH_TRUSTED_WRITERS=nobody  # the region is nobody's; this reader trusts it
    mkdir "$SHM_DIR" && chown 65534:65534 "$SHM_DIR"
    # The worker pinned (feed.cpu) as well: no CAP_SYS_NICE needed for that.
    FEED_KEYS="cpu = 1" FHD_AS=$(as_nobody $caps) start_fhd xdp lp
    grep -qE '^Cpus_allowed_list:\s+1$' /proc/"$fhd_pid"/task/*/status  # the worker thread, on CPU 1
    [[ $(stat -c %u "$SHM_DIR/lp") == 65534 ]]
    publish "$small"
    wait_counter arbiter.end_of_session lp 1
    [[ $("$bin/fhctl" book --shm lp --shm-dir "$SHM_DIR" --json --depth 0) == "$("$bin/fhctl" book --from "$small" --json)" ]]
    [[ $(counter xdp.redirected lp) -gt 0 ]]
    echo "as nobody with $caps: XDP attached, books exact"
    stop_fhd
    # Each capability left out in turn: refused, and the message names it.
    for drop in net_admin bpf net_raw perfmon ipc_lock; do
      cfg=$(config xdp "lp-$drop")
      fewer=$(tr ',' '\n' <<<"$caps" | grep -v "$drop" | paste -sd,)
      if R $(as_nobody "$fewer") "$bin/fhd" --config "$cfg" 2>"$work/no-$drop.log"; then
        echo "fhd started without $drop"; exit 1
      fi
      name=CAP_${drop^^}
      grep -qE "lacks .*$name|grant $name" "$work/no-$drop.log" || {
        cat "$work/no-$drop.log"
        echo "the error does not name $name"
        exit 1
      }
      echo "without $name: $(grep -o 'cannot [^:(]*' "$work/no-$drop.log" | head -1), naming $name"
    done
    ;;
  syscalls)
    # Every system call fhd makes, on both sources, is one the unit's
    # SystemCallFilter allows: it could not be tried under systemd here (not
    # PID 1), so fhd runs under strace and its calls are checked against the
    # filter as systemd-analyze expands it.
    unit=$src/systemd/fhd.service
    for source in xdp udp; do
      FHD_AS="strace -f -qq -o $work/strace.$source" start_fhd "$source" "sc-$source"
      publish "$small"
      wait_counter arbiter.end_of_session "sc-$source" 1
      traced=$(pgrep -f "^$bin/fhd --config $work/sc-$source.toml" | head -1)
      kill -TERM "$traced"
      tries=0
      while kill -0 "$fhd_pid" 2>/dev/null; do ((++tries > 400)) && exit 1; sleep 0.05; done
    done
    python3 - "$unit" "$work"/strace.xdp "$work"/strace.udp <<'PY'
import re, subprocess, sys
unit, traces = sys.argv[1], sys.argv[2:]
def expand(group, seen=None):
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= expand(item) if item.startswith("@") else {item}
    return names
allowed, denied = set(), set()
for line in open(unit):
    if line.startswith("SystemCallFilter="):
        value = line.split("=", 1)[1].split()
        deny = value[0].startswith("~")
        for item in value:
            item = item.lstrip("~")
            names = expand(item) if item.startswith("@") else {item}
            (denied if deny else allowed).update(names)
used = set()
for t in traces:
    for line in open(t):
        m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if m and not line.split(None, 1)[1].startswith("+++") and not line.split(None, 1)[1].startswith("---"):
            used.add(m.group(1))
used.discard("exit")
bad = sorted(n for n in used if n not in allowed or n in denied)
print(f"fhd made {len(used)} distinct system calls; the unit allows {len(allowed - denied)}")
if bad:
    print("not allowed by the unit's filter:", " ".join(bad))
    sys.exit(1)
PY
    ;;
  prometheus)
    # A real Prometheus (Debian's), on the receiving namespace's loopback with
    # its own configuration and data, scrapes `fhctl exporter` every second
    # while fhd takes a stamped feed; what its HTTP API answers must be what
    # `fhctl stats --json` reads from the region.
    command -v prometheus >/dev/null || { echo "SKIP: no prometheus binary (tools/install-deps installs it)"; exit 77; }
    STAMPED=1 start_fhd udp prom
    in_background exporter sh -c 'exec "$0" exporter --shm prom --shm-dir "$1" --listen 127.0.0.1:9464 2>>"$1/exporter.log"' \
      "$bin/fhctl" "$work"
    exporter_pid=$bg_pid
    cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fh
    static_configs:
      - targets: ["127.0.0.1:9464"]
EOF
    in_background prometheus sh -c 'exec prometheus --config.file="$0/prometheus.yml" \
      --storage.tsdb.path="$0/prometheus-data" --web.listen-address=127.0.0.1:9090 >"$0/prometheus.log" 2>&1' "$work"
    prometheus_pid=$bg_pid
    RATE=4000 publish "$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50" --stamp
    wait_counter arbiter.end_of_session prom 1
    "$bin/fhctl" stats --json --shm prom --shm-dir "$work" >"$work/stats.json"
    "$bin/fhctl" stats --shm prom --shm-dir "$work" | sed -n '/^latency\./,$p'
    R python3 "$src/tests/integration/prometheus_check.py" "$work/stats.json" "$bin/fhctl" "$work" ||
      { tail -20 "$work/prometheus.log"; cat "$work/exporter.log"; exit 1; }
    kill -TERM "$exporter_pid" "$prometheus_pid"
    stop_fhd
    ;;
  capture)
    # `fhctl capture` while fhd runs: the pcapng holds every packet the worker
    # received on each line (as the region counts them), `fhctl decode` reads
    # back the day's messages from it, and Debian's tshark dissects it as
    # MoldUDP64 (and the snapshot as SoupBinTCP).
    command -v tshark >/dev/null || { echo "SKIP: no tshark (tools/install-deps installs it)"; exit 77; }
    bx=$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50
    capture_bg() {  # capture_bg REGION [options]: fhctl capture until SIGTERM, attached when it returns
      local region=$1
      shift
      # STDOUT=1: through --out - (standard output) into the same file.
      in_background "capture-$region" sh -c 'r=$1 w=$2 s=$3; shift 3
        if [ "$s" = 1 ]; then exec "$0" capture --shm "$r" --shm-dir "$w" --out - "$@" >"$w/$r.pcapng" 2>"$w/capture-$r.log"; fi
        exec "$0" capture --shm "$r" --shm-dir "$w" --out "$w/$r.pcapng" "$@" 2>"$w/capture-$r.log"' \
        "$bin/fhctl" "$region" "$work" "${STDOUT:-0}" "$@"
      capture_pid=$bg_pid
      wait_counter tap.attached "$region" 1 || { cat "$work/capture-$region.log"; return 1; }
    }
    capture_end() {  # capture_end REGION: SIGTERM, wait for the file
      kill -TERM "$capture_pid"
      local tries=0
      while kill -0 "$capture_pid" 2>/dev/null; do
        ((++tries > 400)) && { echo "fhctl capture did not stop on SIGTERM"; return 1; }
        sleep 0.05
      done
      cat "$work/capture-$1.log"
      grep -q ' 0 lost by the tap' "$work/capture-$1.log"
    }

    # 1. AF_XDP: lines A and B lose packets 50, 100, ... on both; the re-request
    #    server's replies fill the holes, and the capture has them too.
    GAP_US=2000 start_fhd xdp c1 '  [feed.retransmission]
  servers = ["198.18.0.1:26500"]
  port = 26501
  timeout_us = 20000'
    capture_bg c1
    RATE=20000 publish "$bx" --drop-both 50 --rerequest-listen 198.18.0.1:26500 --heartbeats 2
    wait_counter arbiter.end_of_session c1 1
    wait_counter retransmission.applied c1 219
    sleep 0.3  # heartbeats end the day; let the last ones through
    capture_end c1
    "$bin/fhctl" stats --json --shm c1 --shm-dir "$work" >"$work/c1.json"
    python3 "$src/tests/integration/capture_check.py" udp "$work/c1.pcapng" "$work/c1.json" "$bin/fhctl" "$bx"
    tries=0
    until [[ $(counter tap.attached c1) == 0 ]]; do  # the tap is off once the capture went
      ((++tries > 100)) && { echo "the tap stayed on after the capture ended"; exit 1; }
      sleep 0.05
    done
    stop_fhd

    # 2. Kernel sockets, joined in mid-day: the GLIMPSE snapshot that completes
    #    the books is in the capture (the first login is refused, so that the
    #    capture is attached before the snapshot that counts comes).
    day=$work/day.itch
    "$bin/fhsim" generate --messages 200000 --symbols 100 --seed 11 --out "$day" 2>>"$work/fhsim.log"
    S "$bin/fhsim" publish --file "$day" --interface "$vS" --group-a 239.1.1.1 --port-a 26400 \
      --group-b 239.1.1.2 --port-b 26401 --rate 100000 --glimpse-listen 198.18.0.1:26600 --linger-ms 3000 \
      --heartbeats 2 --glimpse-reject-first 1 2>>"$work/fhsim.log" &
    publisher=$!
    pids+=("$publisher")
    sleep 0.5
    start_fhd udp c2 '  [feed.snapshot]
  server = "198.18.0.1:26600"
  retry_ms = 1500
  timeout_ms = 2000'
    STDOUT=1 capture_bg c2
    wait "$publisher"
    wait_counter snapshot.loaded c2 1
    capture_end c2
    "$bin/fhctl" stats --json --shm c2 --shm-dir "$work" >"$work/c2.json"
    python3 "$src/tests/integration/capture_check.py" snapshot "$work/c2.pcapng" "$work/c2.json" "$bin/fhctl" "$day" || { cp "$work/c2.pcapng" /tmp/; exit 1; }
    stop_fhd
    ;;
  *) echo "unknown case $case"; exit 2 ;;
esac
