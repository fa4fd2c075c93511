#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvc-header.sh KDIR OUTDIR - put the target kernel's private
# drivers/tty/hvc/hvc_console.h into OUTDIR.
#
# Console ports go through the hvc layer, whose header is not shipped in
# linux-headers and whose struct layout and callback types changed in 6.8.
# A copy from some other kernel would compile and then corrupt memory, so
# the header is taken from the Debian linux-source package of the same
# series (6.1, 6.12, ...) as KDIR, at build time, and never committed.
# VIRTSER_LINUX_SOURCE may name a different tarball or unpacked tree.
set -eu

kdir=$1
outdir=$2
rel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
	{ echo "hvc-header.sh: $kdir has no include/config/kernel.release" >&2; exit 1; }
series=$(echo "$rel" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
src=${VIRTSER_LINUX_SOURCE:-/usr/src/linux-source-$series.tar.xz}
member=drivers/tty/hvc/hvc_console.h

mkdir -p "$outdir"
if [ -d "$src" ]; then
	cp "$src/$member" "$outdir/hvc_console.h.tmp"
elif [ -f "$src" ]; then
	tar -xOf "$src" "linux-source-$series/$member" > "$outdir/hvc_console.h.tmp"
else
	echo "hvc-header.sh: need $src (apt-get install linux-source-$series) for console support on $rel" >&2
	exit 1
fi
mv "$outdir/hvc_console.h.tmp" "$outdir/hvc_console.h"
echo "$src" > "$outdir/source"
