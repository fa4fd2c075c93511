#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# call-graph-check.sh OBJDIR - fail if the files of virtser.ko call each
# other in a circle.
#
# The graph comes from the objects kbuild left in OBJDIR (one .o per
# source file): file A calls file B when A's object has an undefined
# symbol (nm type U) that B's object defines as a function (type T).
# Calls within a file, and calls into the kernel, are not edges.  The
# rule (kernel/virtser_internal.h, Documentation/design.rst) is that the
# graph has no cycle: no file calls back into a file that calls it.
# tsort(1) finds cycles; the edges are printed with -v.
set -eu

verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
objdir=${1:?usage: call-graph-check.sh [-v] OBJDIR}
cd "$objdir"
objs=$(ls virtser_*.o proto/*.o 2>/dev/null | grep -v '\.mod\.o$' || true)
[ -n "$objs" ] || { echo "call-graph-check: no virtser objects in $objdir" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in $objs; do
	f=$(basename "$o" .o)
	nm "$o" | awk -v f="$f" '$2 == "T" { print $3, f }' >> "$tmp/defs"
	nm "$o" | awk -v f="$f" '$1 == "U" { print $2, f }' >> "$tmp/uses"
done
# "caller callee" pairs, one per file pair.
awk 'NR == FNR { def[$1] = $2; next }
     ($1 in def) && def[$1] != $2 { print $2, def[$1] }' \
	"$tmp/defs" "$tmp/uses" | sort -u > "$tmp/edges"
if [ $verbose -eq 1 ]; then
	awk 'NR == FNR { def[$1] = $2; next }
	     ($1 in def) && def[$1] != $2 { print "  " $2 " -> " def[$1] " (" $1 ")" }' \
		"$tmp/defs" "$tmp/uses" | sort
fi
if ! tsort "$tmp/edges" > /dev/null 2> "$tmp/loop"; then
	echo "call-graph-check: the files of virtser.ko call each other in a circle:"
	sed -n 's/^tsort: //p' "$tmp/loop" | grep -v 'input contains a loop' | sed 's/^/  /'
	echo "edges (caller callee):"
	sed 's/^/  /' "$tmp/edges"
	exit 1
fi
echo "call-graph-check: no cycle ($(wc -l < "$tmp/edges") file-to-file edges, $(echo "$objs" | wc -w) objects)"
