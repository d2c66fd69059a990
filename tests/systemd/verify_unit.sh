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
"$fhd" --help >/dev/null
echo "fhd.service verifies"
