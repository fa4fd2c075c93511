#!/bin/bash
# dkms-check.sh [BUILDDIR] - the DKMS packaging, through dkms itself.
#
# Installs the DKMS source tree with `make install-dkms` (what
# `make dkms-source` runs) into /usr/src/virtser-VERSION, then for Debian's
# 6.1 and 6.12 kernels: dkms add, build -k KVER, install -k KVER, and checks
# the module dkms installed (where modinfo finds it, its vermagic, its
# virtio alias, and that the hvc header came from the matching
# linux-source), and that another kernel series is skipped.  dkms remove --all and make uninstall-dkms must then leave
# nothing behind.  Cleans up on failure too.  Needs root and dkms (exit 77
# otherwise); refuses to touch a virtser that dkms or /usr/src already has.
# Prints TAP-style ok / not ok lines.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$top/build}
B=$(cd "$B" 2>/dev/null && pwd) || { echo "not ok - no build directory $1"; exit 1; }

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "dkms-check needs root (dkms installs into /lib/modules)"
command -v dkms >/dev/null || skip "dkms is not installed (apt-get install dkms)"
[ -f "$B/Makefile" ] || { echo "not ok - $B is not a configured build directory"; exit 1; }

ver=$(sed -n 's/^AC_INIT(\[virtser\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
[ -n "$ver" ] || { echo "not ok - no version in configure.ac's AC_INIT"; exit 1; }
mod=virtser/$ver
src=/usr/src/virtser-$ver
dkms_tree=/var/lib/dkms
if [ -n "$(dkms status virtser 2>/dev/null)" ] || [ -e "$src" ] || [ -e "$dkms_tree/virtser" ]; then
	skip "virtser is already registered with dkms or $src exists; not touching it"
fi

log=$B/dkms-check
rm -rf "$log"
mkdir -p "$log"
. "$top/scripts/checklib.sh"
# dkms signs modules with a key it creates on first use; remove a key our
# run created, keep one that was there.
keys=
for f in "$dkms_tree/mok.key" "$dkms_tree/mok.pub"; do
	[ -e "$f" ] || keys="$keys $f"
done
added=0
cleanup() {
	[ $added = 1 ] && dkms remove "$mod" --all >>"$log/cleanup.log" 2>&1
	make -C "$B" uninstall-dkms >>"$log/cleanup.log" 2>&1
	[ -d "$dkms_tree/virtser" ] && rm -rf "$dkms_tree/virtser"
	[ -d "$src" ] && rm -rf "$src"
	[ -n "$keys" ] && rm -f $keys
	return 0
}
trap 'cleanup; exit 1' INT TERM
trap cleanup EXIT
# Show why dkms failed: its own output and kbuild's log.
show() {
	sed 's/^/# /' "$1" | tail -n 30
	[ -f "$dkms_tree/virtser/$ver/build/make.log" ] &&
		sed 's/^/# make.log: /' "$dkms_tree/virtser/$ver/build/make.log" | tail -n 30
	return 1
}
run() {	# run LOG COMMAND... - quiet unless it fails
	local l=$1
	shift
	"$@" > "$l" 2>&1 || show "$l"
}

ok "make install-dkms puts the tree in $src" run "$log/install-dkms.log" make -C "$B" install-dkms
ok "dkms.conf names virtser $ver and builds through scripts/build.sh" \
	grep -qx "PACKAGE_VERSION=\"$ver\"" "$src/dkms.conf"
grep -q 'scripts/build.sh' "$src/dkms.conf" || notok "dkms.conf does not use build.sh"
if run "$log/add.log" dkms add "$mod"; then
	added=1
	echo "ok - dkms add $mod"
else
	notok "dkms add $mod"
fi

for series in $(awk '!/^#/ { print $1 }' "$top/kernel/kernels.list"); do
	read -r kver img hdr < <(sh "$top/scripts/kernel-paths.sh" $series) ||
		{ notok "no $series kernel and headers"; continue; }
	ok "dkms build $mod -k $kver" run "$log/build-$series.log" dkms build "$mod" -k "$kver"
	ok "make.log: the hvc header came from linux-source-$series" \
		grep -qx "/usr/src/linux-source-$series.tar.xz" \
		"$dkms_tree/virtser/$ver/$kver/$(uname -m)/log/make.log"
	ok "dkms install $mod -k $kver" run "$log/install-$series.log" dkms install "$mod" -k "$kver"
	ok "dkms status says installed for $kver" \
		grep -q "^virtser/$ver, $kver, .*: installed" < <(dkms status -k "$kver" virtser 2>/dev/null)
	ko=$(modinfo -k "$kver" -F filename virtser 2>/dev/null)
	ok "modprobe finds virtser in updates/dkms for $kver ($ko)" \
		test -f "$ko" -a "${ko%/virtser.ko*}" = "/lib/modules/$kver/updates/dkms"
	magic=$(modinfo -F vermagic "$ko" 2>/dev/null)
	ok "vermagic of the installed module is $kver" test "${magic%% *}" = "$kver"
	ok "the installed module has the alias virtio:d00000003v*" \
		grep -qxF 'virtio:d00000003v*' < <(modinfo -F alias "$ko" 2>/dev/null)
done

# Any other kernel is skipped (77, which autoinstall treats as "not for
# this kernel"), not failed.
dkms build "$mod" -k 6.99.0-0-amd64 > "$log/build-6.99.log" 2>&1
st=$?
ok "dkms build for a 6.99 kernel is skipped by BUILD_EXCLUSIVE_KERNEL (status $st)" \
	test $st = 77

if [ $added = 1 ]; then
	ok "dkms remove $mod --all" run "$log/remove.log" dkms remove "$mod" --all
	added=0
	ok "dkms has forgotten virtser" test -z "$(dkms status virtser 2>&1)" -a ! -e "$dkms_tree/virtser"
	for series in $(awk '!/^#/ { print $1 }' "$top/kernel/kernels.list"); do
		read -r kver img hdr < <(sh "$top/scripts/kernel-paths.sh" $series) || continue
		ok "no virtser module left for $kver" eval \
			"! modinfo -k '$kver' virtser >/dev/null 2>&1 && ! ls /lib/modules/'$kver'/updates/dkms/virtser.ko* >/dev/null 2>&1"
	done
fi
ok "make uninstall-dkms removes $src" eval "make -C '$B' uninstall-dkms >'$log/uninstall-dkms.log' 2>&1 && test ! -e '$src'"
[ $fails = 0 ]
