#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build.sh KDIR OBJDIR [kbuild args...] - build virtser.ko for one kernel.
#
# Kernel objects for different kernels must not share a directory, so each
# kernel gets OBJDIR: the sources are linked into it, the compat probes run
# against KDIR and write OBJDIR/virtser_config.h, then kbuild builds there.
# Extra arguments go to kbuild (for example W=1 or C=1).
set -eu

kdir=$1
objdir=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$objdir"
objdir=$(cd "$objdir" && pwd)
for f in "$src"/Kbuild "$src"/*.c "$src"/*.h; do
	[ -e "$f" ] || continue
	ln -sf "$f" "$objdir/$(basename "$f")"
done
if [ -d "$src/proto" ]; then
	mkdir -p "$objdir/proto"
	for f in "$src"/proto/*.c "$src"/proto/*.h; do
		[ -e "$f" ] || continue
		ln -sf "$f" "$objdir/proto/$(basename "$f")"
	done
fi
# The private hvc header of the target kernel (see hvc-header.sh).
if [ ! -s "$objdir/hvc/hvc_console.h" ]; then
	sh "$src/scripts/hvc-header.sh" "$kdir" "$objdir/hvc"
fi
# Probe again only when the probes, the kernel tree or the header changed.
stamp="$objdir/.probe-stamp"
want="$kdir $(cat "$src"/probes/*.c "$objdir/hvc/hvc_console.h" | cksum)"
if [ ! -f "$objdir/virtser_config.h" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	sh "$src/scripts/probe.sh" "$kdir" "$objdir/virtser_config.h" >/dev/null
	echo "$want" > "$stamp"
fi
exec make -C "$kdir" M="$objdir" "$@" modules
