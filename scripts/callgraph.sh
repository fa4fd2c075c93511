#!/bin/bash
# callgraph.sh - which object file calls (or refers to) a symbol another
# one defines, from their symbol tables; fails when the graph has a cycle.
#
#   scripts/callgraph.sh [--functions] OBJ...
#
# An edge A -> B means A has an undefined symbol (nm "U") that B defines
# (T, D, B, R, C; with --functions only T, a function).  Static functions
# and static inline helpers in headers make no edges, which is right: they
# are no call between files.  Prints the edges, then either "no cycle" or
# each file on a cycle, and exits 1 in that case.  Names are shortened to
# the part after the last "-" (virtserd-port.o -> port).
#
# virtserd (host/tests/callgraph.sh) counts every reference; virtser.ko
# (scripts/kernel-check.sh) counts calls only, since a file that hands
# the kernel an operations table of another file (the char device's
# file_operations, hvc's ops) calls none of it.
set -eu
types=TDBRC
[ "${1:-}" = --functions ] && { types=T; shift; }
[ $# -gt 0 ] || { echo "usage: $0 [--functions] OBJ..." >&2; exit 2; }
NM=${NM:-nm}
for o in "$@"; do
	n=$(basename "$o" .o); n=${n##*-}
	"$NM" "$o" | awk -v f="$n" -v t="^[$types]\$" '$1 == "U" { print "U", f, $2; next }
		NF == 3 && $2 ~ t { print "D", f, $3 }'
done | awk '
	$1 == "D" { def[$3] = $2; next }
	{ use[NR] = $2 " " $3 }
	END {
		for (i in use) {
			split(use[i], u, " ")
			if ((u[2] in def) && def[u[2]] != u[1])
				edge[u[1] " " def[u[2]]] = 1
		}
		for (e in edge) {
			split(e, x, " ")
			print x[1] " -> " x[2] | "sort"
			adj[x[1]] = adj[x[1]] " " x[2]
			node[x[1]] = node[x[2]] = 1
		}
		close("sort")
		# Depth-first search; a back edge to a node on the stack is a cycle.
		bad = 0
		for (n in node) if (!(n in color)) bad += dfs(n)
		if (bad) { print "cycle:" cyc; exit 1 }
		print "no cycle"
	}
	function dfs(n,    k, m, a, r) {
		color[n] = 1
		r = 0
		k = split(adj[n], a, " ")
		for (m = 1; m <= k; m++) {
			if ((a[m] in color) && color[a[m]] == 1) { cyc = cyc " " n " -> " a[m] ";"; r = 1 }
			else if (!(a[m] in color)) r += dfs(a[m])
		}
		color[n] = 2
		return r
	}'
