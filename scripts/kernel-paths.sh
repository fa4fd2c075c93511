#!/bin/sh
# kernel-paths.sh 6.1|6.12 - print "KVER VMLINUZ HEADERS" for the newest
# installed Debian kernel of that series.
set -eu
case "$1" in
6.1)	pat='6.1.*-amd64' ;;
6.12)	pat='6.12.*+deb12-amd64' ;;
*)	echo "kernel-paths: unsupported kernel series '$1' (use 6.1 or 6.12)" >&2; exit 1 ;;
esac
img=$(ls /boot/vmlinuz-$pat 2>/dev/null | sort -V | tail -n 1)
[ -n "$img" ] || { echo "kernel-paths: no /boot/vmlinuz-$pat (run scripts/install-deps.sh)" >&2; exit 1; }
kver=${img#/boot/vmlinuz-}
hdr=/usr/src/linux-headers-$kver
[ -f "$hdr/Makefile" ] || { echo "kernel-paths: no headers at $hdr" >&2; exit 1; }
echo "$kver $img $hdr"
