#!/bin/sh
# kernel-paths.sh [--modroot] SERIES - print "KVER VMLINUZ HEADERS" for the
# newest installed Debian kernel of a series of kernel/kernels.list, or for
# the debug guest kernel (built once and cached by scripts/debug-kernel.sh;
# its HEADERS is the built tree).  --modroot prints instead the directory
# that holds lib/modules/KVER: / for Debian's kernels.
set -eu
modroot=0
[ "${1:-}" = --modroot ] && { modroot=1; shift; }
list=$(dirname "$0")/../kernel/kernels.list
pat=$(awk -v s="${1:-}" '!/^#/ && $1 == s { print $2 }' "$list")
case "${1:-}" in
*-debug)
	line=$(bash "$(dirname "$0")/debug-kernel.sh" "${1%-debug}") || exit 1
	if [ $modroot = 1 ]; then echo "$line" | cut -d' ' -f4; else echo "$line" | cut -d' ' -f1-3; fi
	exit 0 ;;
*)	[ -n "$pat" ] || {
		echo "kernel-paths: unsupported kernel '${1:-}' (kernel/kernels.list has" \
			$(awk '!/^#/ { print $1 }' "$list") "and SERIES-debug)" >&2
		exit 1
	} ;;
esac
[ $modroot = 1 ] && { echo /; exit 0; }
img=$(ls /boot/vmlinuz-$pat 2>/dev/null | sort -V | tail -n 1)
[ -n "$img" ] || { echo "kernel-paths: no /boot/vmlinuz-$pat (run scripts/install-deps.sh)" >&2; exit 1; }
kver=${img#/boot/vmlinuz-}
hdr=/usr/src/linux-headers-$kver
[ -f "$hdr/Makefile" ] || { echo "kernel-paths: no headers at $hdr" >&2; exit 1; }
echo "$kver $img $hdr"
