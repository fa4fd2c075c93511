#!/bin/bash
# relay-bench.sh - virtserd against socat, ser2net and a direct connection.
#
#   bench/relay-bench.sh [BUILDDIR]      (default: build)
#   env: SIZE (bytes per throughput run, default 1 GiB), RUNS (3),
#        BENCH_BUF (the port's <buffer size>, default: the daemon's),
#        RTTS (round trips, 20000), PORTS (1000), IDLE_S (5)
#
# Throughput: unix -> unix, 64 KiB writes, best of RUNS; CPU seconds per
# GiB of the relay process (utime+stime).  Latency: 64-byte round trips
# through an echo server, median and p99.  Scale: PORTS ports in one
# daemon, memory per port and wake-ups/CPU while idle, then with 10% of
# the ports active.  This is a benchmark, not a test: nothing here fails
# on a threshold.
#
# ser2net (4.3 with gensio 2.6 in bookworm; optional, skipped when absent)
# relays unix -> unix too: "accepter: unix,PATH" and "connector: unix,PATH"
# are gensio's net plugin.  Its per-connection buffers default to 64 bytes
# (dev-to-net-bufsize / net-to-dev-bufsize), so it runs with 65536, the
# same block as socat -b 65536.  Like socat and unlike virtserd it connects
# to the source only when a user connects.
set -eu
B=$(cd "${1:-build}" && pwd)
RB=$B/bench/relaybench
D=$B/host/virtserd
SIZE=${SIZE:-1073741824}
RUNS=${RUNS:-3}
RTTS=${RTTS:-20000}
PORTS=${PORTS:-1000}
IDLE_S=${IDLE_S:-5}
TCK=$(getconf CLK_TCK)
T=$(mktemp -d /tmp/relay-bench.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
[ -x "$RB" ] && [ -x "$D" ] || { echo "build first: $RB, $D" >&2; exit 1; }
command -v socat > /dev/null || { echo "socat is needed" >&2; exit 1; }
S2N=$(command -v ser2net || true)
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
waitsock() { for _ in $(seq 500); do [ -S "$1" ] && return 0; sleep 0.01; done; return 1; }
daemon_start() { # config body on stdin
	{ echo "<virtserd><control path='$T/ctl'/><vm name='b'>"; cat; echo "</vm></virtserd>"; } > "$T/c.xml"
	"$D" -c "$T/c.xml" 2> "$T/d.err" &
	DP=$!
	PIDS="$PIDS $DP"
	waitsock "$T/ctl"
}
daemon_stop() { kill "$DP" 2>/dev/null || true; wait "$DP" 2>/dev/null || true; }
port_xml() { # name chardev-path endpoint-path
	echo "<channel type='unix' name='$1'><source mode='bind' path='$3'/><chardev path='$2'><reconnect enabled='yes' timeout-ms='10'/></chardev>${BENCH_BUF:+<buffer size='$BENCH_BUF'/>}</channel>"
}
best() { sort -g | tail -1; }
least() { sort -g | head -1; }
ser2net_start() { # accepter-path connector-path
	printf 'connection: &relay\n  accepter: unix,%s\n  connector: unix,%s\n  options:\n    dev-to-net-bufsize: 65536\n    net-to-dev-bufsize: 65536\n' \
		"$1" "$2" > "$T/s2n.yaml"
	# -n: stay in the foreground; -d: log to stderr (it prints a harmless
	# "Unable to start mdns" where there is no avahi).
	ser2net -n -d -c "$T/s2n.yaml" -P "$T/s2n.pid" 2> "$T/s2n.err" &
	NP=$!
	PIDS="$PIDS $NP"
	waitsock "$1"
}
ser2net_stop() { kill "$NP" 2>/dev/null || true; wait "$NP" 2>/dev/null || true; }

# ---- throughput -------------------------------------------------------
direct_mbs=""; socat_mbs=""; socat_cpu=""; vs_mbs=""; vs_cpu=""; s2n_mbs=""; s2n_cpu=""
rss_burst=""; rss_quiet=""
for run in $(seq "$RUNS"); do
	rm -f "$T"/*.sock
	"$RB" src "$T/d.sock" "$SIZE" 65536 & PIDS="$PIDS $!"
	waitsock "$T/d.sock"
	direct_mbs="$direct_mbs $("$RB" sink "$T/d.sock" "$SIZE")"
	wait

	"$RB" src "$T/q.sock" "$SIZE" 65536 & PIDS="$PIDS $!"
	waitsock "$T/q.sock"
	( socat -b 65536 UNIX-LISTEN:"$T/s.sock" UNIX-CONNECT:"$T/q.sock"; times ) > "$T/socat.times" &
	waitsock "$T/s.sock"
	socat_mbs="$socat_mbs $("$RB" sink "$T/s.sock" "$SIZE")"
	wait
	# The second line of "times" is the children's user and system time.
	socat_cpu="$socat_cpu $(sed -n 2p "$T/socat.times" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }')"

	if [ -n "$S2N" ]; then
		rm -f "$T"/*.sock
		"$RB" src "$T/q.sock" "$SIZE" 65536 & SP=$!
		waitsock "$T/q.sock"
		ser2net_start "$T/s.sock" "$T/q.sock"
		t0=$(ticks "$NP")
		s2n_mbs="$s2n_mbs $("$RB" sink "$T/s.sock" "$SIZE")"
		wait $SP
		s2n_cpu="$s2n_cpu $(echo "$(ticks "$NP") $t0 $TCK" | awk '{print ($1 - $2) / $3}')"
		ser2net_stop
	fi

	rm -f "$T"/*.sock
	daemon_start < <(port_xml p "$T/q.sock" "$T/u.sock")
	"$RB" src "$T/q.sock" "$SIZE" 65536 & SP=$!
	waitsock "$T/u.sock"
	t0=$(ticks "$DP")
	vs_mbs="$vs_mbs $("$RB" sink "$T/u.sock" "$SIZE")"
	wait $SP
	vs_cpu="$vs_cpu $(echo "$(ticks "$DP") $t0 $TCK" | awk '{print ($1 - $2) / $3}')"
	if [ "$run" = "$RUNS" ]; then
		# What a burst leaves resident, and what stays once the port has
		# been quiet long enough (2 s, twice if the timer was armed while
		# the stream still ran) for the ring pages to go back.
		rss_burst=$(awk '/VmRSS/ {print $2}' "/proc/$DP/status")
		sleep 5
		rss_quiet=$(awk '/VmRSS/ {print $2}' "/proc/$DP/status")
	fi
	daemon_stop
done
gib=$(echo "$SIZE" | awk '{print $1 / 1073741824}')
dm=$(echo $direct_mbs | tr ' ' '\n' | best)
sm=$(echo $socat_mbs | tr ' ' '\n' | best)
vm=$(echo $vs_mbs | tr ' ' '\n' | best)
sc=$(echo $socat_cpu | tr ' ' '\n' | least | awk -v g="$gib" '{printf "%.3f", $1 / g}')
vc=$(echo $vs_cpu | tr ' ' '\n' | least | awk -v g="$gib" '{printf "%.3f", $1 / g}')
nm=-; nc=-; n_med=-; n_p99=-
if [ -n "$S2N" ]; then
	nm=$(echo $s2n_mbs | tr ' ' '\n' | best)
	nc=$(echo $s2n_cpu | tr ' ' '\n' | least | awk -v g="$gib" '{printf "%.3f", $1 / g}')
fi

# ---- latency ----------------------------------------------------------
rm -f "$T"/*.sock
"$RB" echo "$T/e.sock" & PIDS="$PIDS $!"
waitsock "$T/e.sock"
read -r d_med d_p99 < <("$RB" rtt "$T/e.sock" "$RTTS" 64)
wait
"$RB" echo "$T/e.sock" & PIDS="$PIDS $!"
waitsock "$T/e.sock"
socat UNIX-LISTEN:"$T/s.sock" UNIX-CONNECT:"$T/e.sock" & PIDS="$PIDS $!"
waitsock "$T/s.sock"
read -r s_med s_p99 < <("$RB" rtt "$T/s.sock" "$RTTS" 64)
wait
if [ -n "$S2N" ]; then
	rm -f "$T"/*.sock
	"$RB" echo "$T/e.sock" & PIDS="$PIDS $!"
	waitsock "$T/e.sock"
	ser2net_start "$T/s.sock" "$T/e.sock"
	read -r n_med n_p99 < <("$RB" rtt "$T/s.sock" "$RTTS" 64)
	ser2net_stop
	wait
fi
rm -f "$T"/*.sock
"$RB" echo "$T/e.sock" & PIDS="$PIDS $!"
waitsock "$T/e.sock"
daemon_start < <(port_xml p "$T/e.sock" "$T/u.sock")
waitsock "$T/u.sock"
read -r v_med v_p99 < <("$RB" rtt "$T/u.sock" "$RTTS" 64)
daemon_stop

# ---- scale ------------------------------------------------------------
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
csw() { awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {s += $2} END {print s}' "/proc/$1/status"; }
scale() { # ports active -> "rss_kib wakeups_per_s cpu_percent"
	local n=$1 active=$2 i
	rm -f "$T"/*.sock
	mkdir -p "$T/m"
	rm -f "$T"/m/*
	"$RB" many "$T/m" "$n" "$active" 2> "$T/many.err" & MP=$!
	PIDS="$PIDS $MP"
	for i in $(seq 0 $((n - 1))); do
		echo "<channel type='unix' name='p$i'><source mode='bind' path='$T/m/u$i.sock'/><chardev path='$T/m/q$i.sock'/></channel>"
	done > "$T/body"
	daemon_start < "$T/body"
	for _ in $(seq 1000); do grep -q connected "$T/many.err" && break; sleep 0.02; done
	sleep 1
	local r c0 t0 c1 t1
	r=$(rss "$DP"); c0=$(csw "$DP"); t0=$(ticks "$DP")
	sleep "$IDLE_S"
	c1=$(csw "$DP"); t1=$(ticks "$DP")
	daemon_stop
	kill "$MP" 2>/dev/null || true; wait "$MP" 2>/dev/null || true
	echo "$r $(( (c1 - c0) / IDLE_S )) $(echo "$t1 $t0 $TCK $IDLE_S" | awk '{printf "%.2f", ($1 - $2) / $3 / $4 * 100}')"
}
read -r rss1 _ _ < <(scale 1 0)
read -r rssn wake_idle cpu_idle < <(scale "$PORTS" 0)
read -r rssa wake_act cpu_act < <(scale "$PORTS" $((PORTS / 10)))
per_port=$(echo "$rssn $rss1 $PORTS" | awk '{printf "%.1f", ($1 - $2) / ($3 - 1)}')

# ---- report -----------------------------------------------------------
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }
echo "relay benchmark: $(uname -r), $(nproc) CPUs, $gib GiB per run, best of $RUNS"
echo
printf "%-28s %12s %12s %12s %12s\n" "" "direct" "socat" "ser2net" "virtserd"
printf "%-28s %12s %12s %12s %12s\n" "throughput MB/s" "$dm" "$sm" "$nm" "$vm"
printf "%-28s %12s %12s %12s %12s\n" "relay CPU s/GiB" "-" "$sc" "$nc" "$vc"
printf "%-28s %12s %12s %12s %12s\n" "64 B RTT median us" "$d_med" "$s_med" "$n_med" "$v_med"
printf "%-28s %12s %12s %12s %12s\n" "64 B RTT p99 us" "$d_p99" "$s_p99" "$n_p99" "$v_p99"
echo
echo "ratios: virtserd/socat throughput $(ratio "$vm" "$sm"), virtserd/direct $(ratio "$vm" "$dm"),"
echo "        virtserd/ser2net throughput $(ratio "$vm" "$nm"),"
echo "        virtserd/socat CPU per GiB $(ratio "$vc" "$sc"), RTT median virtserd/socat $(ratio "$v_med" "$s_med")"
echo
echo "one port, ${BENCH_BUF:-default} buffer: RSS ${rss_burst} KiB right after the last stream,"
echo "  ${rss_quiet} KiB after 5 s of quiet (consumed ring pages given back)"
echo
echo "scale: $PORTS ports (unix listener + QEMU socket each)"
echo "  RSS with 1 port ${rss1} KiB, with $PORTS ports ${rssn} KiB: ${per_port} KiB per port"
echo "  idle:        ${wake_idle} wake-ups/s, ${cpu_idle}% CPU"
echo "  10% active:  ${wake_act} wake-ups/s, ${cpu_act}% CPU (64 B every 100 ms per active port), RSS ${rssa} KiB"
