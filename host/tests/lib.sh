# Shared helpers for the virtserd integration tests (sourced, TAP output).
# Every wait is bounded and every process we start is killed on exit.
set -u
B=${top_builddir:-.}/host
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/virtserd-test.XXXXXX)
n=0
fails=0
pids=""
DPID=""
if [ ! -x "$B/virtserd" ] || [ ! -x "$B/tests/vspeer" ]; then
	echo "Bail out! $B/virtserd or $B/tests/vspeer is not built"
	exit 99
fi

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
check() {
	local desc=$1
	shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
diag() { echo "# $*"; }
bg() { "$@" & pids="$pids $!"; LASTPID=$!; }
cleanup() {
	for p in $pids $DPID; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
finish() {
	if [ "$fails" != 0 ] && [ -f "$T/d.err" ]; then
		sed 's/^/# daemon: /' "$T/d.err" | tail -n 30
	fi
	echo "1..$n"
	[ "$fails" = 0 ]
	exit $?
}
# waitfor 'shell condition' [tries]: 50 ms apart, 10 s by default.
waitfor() {
	local i
	for i in $(seq "${2:-200}"); do
		eval "$1" && return 0
		sleep 0.05
	done
	return 1
}
sha() { if [ $# = 0 ]; then sha256sum; else sha256sum < "$1"; fi | cut -d' ' -f1; }
same() { [ -f "$1" ] && [ -f "$2" ] && [ "$(sha "$1")" = "$(sha "$2")" ]; }
ctl() { timeout 10 "$B/virtserctl" -s "$T/ctl" "$@"; }
# start_daemon: config body (inside <virtserd>) on stdin.
start_daemon() {
	{ echo "<virtserd><control path='$T/ctl'/>"; cat; echo "</virtserd>"; } > "$T/c.xml"
	${VS_WRAP:-} "$B/virtserd" -v -c "$T/c.xml" 2> "$T/d.err" &
	DPID=$!
	waitfor "[ -S '$T/ctl' ]" || { diag "daemon did not start"; cat "$T/d.err"; }
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	if ! waitfor "! kill -0 $DPID 2>/dev/null" 200; then
		diag "daemon ignored SIGTERM for 10 s; killing it"
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=""
		return 1
	fi
	wait "$DPID" 2>/dev/null
	local rc=$?
	DPID=""
	return $rc
}
# field PORT NAME: a number from "virtserctl -j status".
field() { ctl -j status "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
rand() { head -c "$2" /dev/urandom > "$1"; }
