#!/usr/bin/env bash
# systemd-analyze verify on the unit, pointed at the built fhd; any warning fails.
set -euo pipefail
unit=$1 fhd=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/fhd|$fhd|g" "$unit" >"$dir/fhd.service"
out=$(systemd-analyze verify "$dir/fhd.service" 2>&1 || echo "exit status $?")
if [[ -n $out ]]; then
  echo "$out"
  exit 1
fi
grep -q '^Type=notify$' "$dir/fhd.service"
# The sandbox: an exposure of 2.5 or less (offline: systemd need not be PID 1).
score=$(systemd-analyze security --offline=true "$dir/fhd.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for fhd.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || { echo "systemd-analyze security gave no score"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || { echo "exposure $score is above 2.5"; exit 1; }
echo "systemd-analyze security: exposure $score"
# No capability beyond the five the bypass needs (CAP_SYS_NICE was one too many).
[[ $(grep '^AmbientCapabilities=' "$dir/fhd.service") == "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_IPC_LOCK" ]]
"$fhd" --help >/dev/null
echo "fhd.service verifies"
