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
	# The daemon names its own invariant violations "(a bug)".
	if grep '(a bug)' "$T/d.err" | sed 's/^/# daemon: /' | grep .; then
		return 1
	fi
	return $rc
}
# field PORT NAME: a number from "virtserctl -j status".
field() { ctl -j status "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
rand() { head -c "$2" /dev/urandom > "$1"; }

# TCP and UDP ports for the tests.  A port inside the kernel's ephemeral
# range (ip_local_port_range) may be given to any program's connect() as
# its source port at any moment, so the daemon's listeners get ports
# outside it that nothing listens on now (pick_ports N sets PORTS), and
# start_daemon_ports starts again with new ones if the daemon still
# reports EADDRINUSE (another program or another make check got there
# first).  Where a test listens itself, it binds port 0 (hold_port).
pick_ports() {
	local lo hi base span p used
	read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
	base=10000
	[ "$lo" -gt "$base" ] || base=1024
	span=$(( (lo - base) + (65535 - hi) ))
	used=" $(ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | tr '\n' ' ') "
	PORTS=""
	while [ "$(echo $PORTS | wc -w)" -lt "$1" ]; do
		p=$(( ( (RANDOM << 15) | RANDOM ) % span + base ))
		[ "$p" -ge "$lo" ] && p=$(( p - lo + hi + 1 ))
		case "$used $PORTS " in *" $p "*) continue ;; esac
		PORTS="$PORTS $p"
	done
}
# start_daemon_ports N FUNC ID...: FUNC prints the config body (as for
# start_daemon) using the N ports in $PORTS; each port ID must then
# report the address it bound, or the daemon is restarted on new ports.
# VS_TEST_PORTS="P1 P2 ..." makes the first attempt use those.
start_daemon_ports() {
	local nports=$1 fn=$2 try id busy
	shift 2
	for try in 1 2 3 4 5; do
		pick_ports "$nports"
		# VS_TEST_PORTS forces the first choice (to show the retry).
		[ "$try" = 1 ] && [ -n "${VS_TEST_PORTS:-}" ] && PORTS=" $VS_TEST_PORTS"
		# Not a pipeline: start_daemon must set DPID in this shell.
		start_daemon < <("$fn")
		busy=""
		for id in "$@"; do
			waitfor "ctl -j status $id | grep -q '\"user_address\"\\|\"user_error\":\"Address already in use\"'"
			ctl -j status "$id" | grep -q '"user_error":"Address already in use"' && busy="$busy $id"
		done
		[ -z "$busy" ] && return 0
		diag "ports$PORTS: in use for$busy; trying others"
		stop_daemon
	done
	diag "no free ports after 5 tries"
	return 1
}
# hold_port FILE: a loopback TCP port from port 0, held by vspeer -H for
# the rest of the test (vspeer -L can listen on it); its number in HELD.
hold_port() {
	bg "$B/tests/vspeer" -H "$1" -T 600
	waitfor "[ -s '$1' ]" || return 1
	HELD=$(cat "$1")
}
# bound PORT-ID: the address:port the daemon bound for that port's endpoint.
bound() { ctl -j status "$1" | sed -n 's/.*"user_address":"\([^"]*\)".*/\1/p'; }
