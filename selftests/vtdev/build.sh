#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build.sh KDIR OBJDIR [kbuild args...] - build vtdev.ko for one kernel.
#
# The same path as kernel/scripts/build.sh takes for virtser.ko: sources
# linked into a per-kernel OBJDIR, compat probes compiled against KDIR by
# kernel/scripts/probe.sh (run from a copy of the layout it expects, with
# our probes/ beside it) into OBJDIR/vtdev_config.h, then kbuild.
set -eu

kdir=$1
objdir=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$src/../.." && pwd)

mkdir -p "$objdir"
objdir=$(cd "$objdir" && pwd)
for f in "$src"/Kbuild "$src"/*.c "$src"/*.h; do
	ln -sf "$f" "$objdir/$(basename "$f")"
done
# probe.sh finds its probes in ../probes from where it lives.
pt=$objdir/probe-tree
mkdir -p "$pt/scripts"
ln -sfn "$src/probes" "$pt/probes"
ln -sf "$top/kernel/scripts/probe.sh" "$pt/scripts/probe.sh"
stamp="$objdir/.probe-stamp"
want="$kdir $(cat "$src"/probes/*.c "$top/kernel/scripts/probe.sh" | cksum)"
if [ ! -f "$objdir/vtdev_config.h" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	sh "$pt/scripts/probe.sh" "$kdir" "$objdir/vtdev_config.h" >/dev/null
	echo "$want" > "$stamp"
fi
exec make -C "$kdir" M="$objdir" "$@" modules
