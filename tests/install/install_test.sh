#!/usr/bin/env bash
# fh installed like a package, tested against what was installed alone:
# `cmake --install` into a staging root (DESTDIR); the two example consumers
# built out of tree, with pkg-config and with find_package(fh), and run
# against a live fhd from the staging root; systemd-analyze verify on the
# installed units; and `cpack -G DEB`'s package: its files, conffiles and
# postinst, installed for real and purged where that cannot disturb the host
# (root, no fh package, user or group yet), skipped visibly otherwise.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR TESTDATA_DIR
set -euo pipefail
build=$1 src=$2 testdata=$3
work=$(mktemp -d /tmp/fh-install.XXXXXX)
fhd_pid=
installed=
cleanup() {
  [[ -n $fhd_pid ]] && kill -9 "$fhd_pid" 2>/dev/null || true
  if [[ -n $installed ]]; then
    dpkg --purge fh >/dev/null 2>&1 || true
    deluser --quiet --system fh >/dev/null 2>&1 || true
    delgroup --quiet --system fhread >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL $*"; exit 1; }

DESTDIR=$work/stage cmake --install "$build" >"$work/install.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$work/stage$prefix
pc=$(find "$root" -name fh.pc)
[[ -n $pc ]] || fail "no fh.pc installed"
libdir=$(dirname "$(dirname "$pc")")
sysconf=$(sed -n 's/^CMAKE_INSTALL_SYSCONFDIR:PATH=//p' "$build/CMakeCache.txt")
[[ $prefix == /usr && $sysconf == etc ]] && etc=$work/stage/etc || etc=$root/$sysconf
for f in "$root/bin/fhd" "$root/bin/fhctl" "$root/bin/fhsim" "$libdir/libfh_consumer.a" "$libdir/libfh_consumer.so.0" \
  "$root/include/fh/shm/consumer.h" "$root/include/fh/shm/fh_consumer.h" "$root/include/fh/record/record.h" \
  "$libdir/cmake/fh/fhConfig.cmake" "$root/lib/systemd/system/fhd.service" "$root/lib/systemd/system/fhd@.service" \
  "$etc/fh/fhd.toml" "$root/share/doc/fh/README.md"; do
  [[ -e $f ]] || fail "not installed: ${f#"$work/stage"}"
done
echo "ok   installed: programs, libfh_consumer (.a, .so), headers under include/fh, pkg-config, CMake package, units, configuration, README"

# Out of tree, against the staging root only.
mkdir -p "$work/pc" "$work/cm"
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$work/stage
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/pc/consumer_c" "$src/examples/consumer_c.c" $(pkg-config --cflags --libs fh) \
  -Wl,-rpath,"$libdir"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cp "$src/examples/consumer_c.c" "$src/examples/consumer_cpp.cc" "$work/cm/"
cat >"$work/cm/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(consumers C CXX)
find_package(fh 0.1 REQUIRED)
add_executable(consumer_cpp consumer_cpp.cc)
target_link_libraries(consumer_cpp PRIVATE fh::consumer)
add_executable(consumer_c consumer_c.c)
target_link_libraries(consumer_c PRIVATE fh::consumer_shared)
CMAKE
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_BUILD_RPATH="$libdir" >"$work/cmake.log" ||
  { cat "$work/cmake.log"; fail "find_package(fh)"; }
cmake --build "$work/cm/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "out-of-tree build"; }
echo "ok   the examples build out of tree: consumer_c with pkg-config; consumer_cpp (fh::consumer) and consumer_c (fh::consumer_shared) with CMake"

# A live fhd from the staging root serves a day's books; each consumer reads it.
mkdir -p "$work/shm"
"$root/bin/fhd" --replay "$testdata/itch50/bx_sample_20191230.NASDAQ_ITCH50" --shm inst --shm-dir "$work/shm" \
  --max-orders 65536 --max-levels 65536 --log-level warn 2>"$work/fhd.log" &
fhd_pid=$!
tries=0
until "$root/bin/fhctl" stats --json --shm inst --shm-dir "$work/shm" 2>/dev/null | grep -q '"source":"done"'; do
  ((++tries > 400)) && { cat "$work/fhd.log"; fail "the staged fhd did not replay"; }
  sleep 0.05
done
for consumer in "$work/pc/consumer_c" "$work/cm/build/consumer_cpp" "$work/cm/build/consumer_c"; do
  out=$("$consumer" -d "$work/shm" -o -n 5 -t 30 inst ALC) || fail "${consumer#"$work/"} exited $?"
  grep -q '^done: 5 records, 0 lost, 0 reattached$' <<<"$out" || { echo "$out"; fail "${consumer#"$work/"}"; }
  echo "ok   ${consumer#"$work/"} read 5 ticks of the live staged fhd"
done
book=$(PYTHONPATH=$root/lib/python3/dist-packages FH_CONSUMER_LIB=$libdir/libfh_consumer.so.0 python3 -c \
  'import fh, sys; r = fh.Region("inst", directory=sys.argv[1]); print(fh.__file__, len(r.book("ALC").bids))' "$work/shm") ||
  fail "the installed Python package"
[[ $book == "$root/lib/python3/dist-packages/fh/__init__.py 10" ]] || fail "the installed Python package read: $book"
echo "ok   the installed Python package (lib/python3/dist-packages/fh) reads the live staged fhd's books"
kill -TERM "$fhd_pid"
wait "$fhd_pid" || true
fhd_pid=

# The installed units, pointed at the staged fhd.
verify() {  # verify UNIT_FILE NAME
  mkdir -p "$work/units"
  sed "s|$prefix/bin/fhd|$root/bin/fhd|g" "$1" >"$work/units/$2"
  out=$(systemd-analyze verify "$work/units/$2" 2>&1 || echo "exit status $?")
  [[ -z $out ]] || { echo "$out"; fail "systemd-analyze verify $2"; }
}
verify "$root/lib/systemd/system/fhd.service" fhd.service
verify "$root/lib/systemd/system/fhd@.service" fhd@feed1.service
grep -q "^ExecStart=$prefix/bin/fhd --config ${etc#"$work/stage"}/fh/%i.toml$" "$root/lib/systemd/system/fhd@.service" ||
  fail "fhd@.service does not read <sysconfdir>/fh/%i.toml"
echo "ok   systemd-analyze verify: the installed fhd.service and fhd@feed1.service"

# The Debian package.
(cd "$build" && cpack -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(find "$work/deb" -maxdepth 1 -name 'fh_*.deb')
[[ -n $deb ]] || fail "cpack made no fh_*.deb"
dpkg-deb -c "$deb" >"$work/deb.files"
for f in "$prefix/bin/fhd" "$prefix/lib/systemd/system/fhd@.service" "${etc#"$work/stage"}/fh/fhd.toml"; do
  grep -q " \.$f\$" "$work/deb.files" || fail "the package lacks $f"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx "${etc#"$work/stage"}/fh/fhd.toml" "$work/control/conffiles" || fail "the configuration is not a conffile"
grep -q '^Depends:.*libbpf' "$work/control/control" || fail "no library dependencies (dpkg-shlibdeps)"
sh -n "$work/control/postinst"
echo "ok   $(basename "$deb"): programs, units, the configuration as a conffile, Depends: from the libraries, a postinst"
if [[ $(id -u) != 0 ]] || dpkg -s fh >/dev/null 2>&1 || getent passwd fh >/dev/null || getent group fhread >/dev/null ||
  [[ -e $prefix/bin/fhd ]]; then
  echo "SKIP installing the package: needs root and a host without an fh package, user, group or $prefix/bin/fhd"
  exit 0
fi
installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
getent passwd fh >/dev/null || fail "the package made no fh user"
id -nG fh | tr ' ' '\n' | grep -qx fhread || fail "fh is not in the group fhread"
[[ $(getent passwd fh | cut -d: -f7) == /usr/sbin/nologin ]] || fail "fh can log in"
out=$(systemd-analyze verify "$prefix/lib/systemd/system/fhd.service" 2>&1 || echo "exit status $?")
[[ -z $out ]] || { echo "$out"; fail "systemd-analyze verify of the packaged unit"; }
dpkg --purge fh >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
[[ ! -e $prefix/bin/fhd ]] || fail "purge left $prefix/bin/fhd"
echo "ok   dpkg -i made the user fh in the group fhread; the packaged unit verifies; dpkg --purge removed it"
