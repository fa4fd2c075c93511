#!/bin/bash
# callgraph.sh - the daemon's files call each other without a cycle
# (scripts/callgraph.sh on the objects make just built).  TAP.
set -u
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${top_builddir:-.}/host
echo "1..2"
objs=$(ls "$B"/virtserd-*.o "$B"/libvirtserd_a-*.o 2>/dev/null)
if [ "$(echo "$objs" | grep -c 'virtserd-')" -lt 10 ]; then
	echo "Bail out! virtserd's objects are not in $B"
	exit 99
fi
out=$(bash "$S/scripts/callgraph.sh" $objs)
rc=$?
echo "$out" | sed 's/^/# /'
[ "$rc" = 0 ] && echo "ok 1 - no cycle among virtserd's files" ||
	echo "not ok 1 - no cycle among virtserd's files"
# The loop is the top and uring.c the bottom: nothing calls the loop but
# main, and uring.c calls nothing but log.c.
bad=$(echo "$out" | awk '($3 == "loop" && $1 != "main") || ($1 == "uring" && $3 != "log")')
[ -z "$bad" ] && echo "ok 2 - only main calls loop.c; uring.c calls only log.c" ||
	{ echo "not ok 2 - only main calls loop.c; uring.c calls only log.c"; echo "$bad" | sed 's/^/# /'; }
