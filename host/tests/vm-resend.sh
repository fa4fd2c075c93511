#!/bin/bash
# QEMU goes away without reading all that virtserd wrote into its socket:
# those bytes must reach the next QEMU, exactly once and in order.  Each
# fake QEMU (vspeer -z) reads a set number of bytes, then stops reading,
# with the rest still queued in its socket, and is SIGKILLed; the second
# dies before it has read all that was sent to it again; the third reads
# everything.  What the three read, put together, must be the user's
# stream byte for byte.  The 64 KiB buffer makes the ring wrap many times.
#
# Over a TCP chardev the sending side sees only what QEMU's kernel has not
# acknowledged: the bytes it acknowledged and QEMU never read are lost
# (documented), and everything after them must still arrive exactly once.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer
W=600	# waitfor tries: 30 s, for the daemon under valgrind
hold_port "$T/tq.port" && TQ=$HELD

start_daemon <<XML
<vm name='vm1'>
  <channel type='unix' name='a'>
    <source mode='bind' path='$T/a.sock'/>
    <chardev path='$T/q.sock'><reconnect enabled='yes' timeout-ms='50'/></chardev>
    <buffer size='65536'/>
  </channel>
  <channel type='unix' name='t'>
    <source mode='bind' path='$T/t.sock'/>
    <chardev type='tcp' host='127.0.0.1' service='$TQ'><reconnect enabled='yes' timeout-ms='50'/></chardev>
    <buffer size='65536'/>
  </channel>
</vm>
XML
L=1048576
N1=100000
rand "$T/s" $L
# unread_settled N: the daemon has seen that QEMU stopped reading after N
# of the bytes it was sent (bytes_to_vm counts the resent ones too).
unread_settled() {	# N [PORT]
	local u w
	u=$(field "vm1/${2:-a}" unread_by_vm)
	w=$(field "vm1/${2:-a}" bytes_to_vm)
	[ -n "$u" ] && [ -n "$w" ] && [ "$u" = $((w - $1)) ] && [ "$u" -gt 0 ]
}
qemu_dies() {	# PID [PORT]: SIGKILL, then wait until the daemon noticed
	kill -9 "$1"
	wait "$1" 2>/dev/null
	waitfor "ctl -j status vm1/${2:-a} | grep -q '\"vm_state\":\"\(down\|connecting\)\"'" $W
}

bg "$P" -l "$T/q.sock" -o "$T/q1" -n $N1 -b 4096 -z -T 120 -q
Q1=$LASTPID
waitfor "[ -S '$T/a.sock' ]"
bg "$P" -c "$T/a.sock" -s "$T/s" -T 120 -q
waitfor "[ \"\$(stat -c %s '$T/q1' 2>/dev/null)\" = $N1 ]" $W
check "first QEMU read $N1 bytes and stopped" test "$(stat -c %s "$T/q1")" = $N1
check "daemon saw what the first QEMU left unread" waitfor "unread_settled $N1" $W
B1=$(field vm1/a bytes_to_vm)
U1=$((B1 - N1))
diag "first QEMU: $B1 bytes written to it, $U1 of them left unread in its socket"
qemu_dies $Q1

# The second reads half of what the first left and dies too.
N2=$((U1 / 2))
rm -f "$T/q.sock"
bg "$P" -l "$T/q.sock" -o "$T/q2" -n $N2 -b 4096 -z -T 120 -q
Q2=$LASTPID
waitfor "[ \"\$(stat -c %s '$T/q2' 2>/dev/null)\" = $N2 ]" $W
check "second QEMU read $N2 bytes and stopped" test "$(stat -c %s "$T/q2" 2>/dev/null)" = $N2
check "daemon saw what the second QEMU left unread" waitfor "unread_settled $((B1 + N2))" $W
qemu_dies $Q2

rm -f "$T/q.sock"
N3=$((L - N1 - N2))
timeout 120 "$P" -l "$T/q.sock" -o "$T/q3" -n $N3 -T 60 -q
check "third QEMU got the remaining $N3 bytes" test $? = 0
cat "$T/q1" "$T/q2" "$T/q3" > "$T/all" 2>/dev/null
got=$(stat -c %s "$T/all")
diag "the three QEMUs read $got of $L bytes; first difference: $(cmp "$T/s" "$T/all" 2>&1 | head -1 | grep . || echo none)"
check "what the QEMUs read is the user's stream, byte for byte (sha256)" same "$T/s" "$T/all"
check "resent_to_vm counts each byte written again" \
	test "$(field vm1/a resent_to_vm)" = $(($(field vm1/a bytes_to_vm) - L))
check "nothing counted as lost" test "$(field vm1/a lost_to_vm)" = 0
check "the resend is logged with its size" \
	grep -q "vm1/a: QEMU went away with $U1 bytes it had not read; they go to the next QEMU" "$T/d.err"

# TCP: the first QEMU reads N1 and stops; its kernel keeps acknowledging
# until its receive buffer is full (INQ bytes, which it reports), then the
# daemon's send queue fills with bytes nobody acknowledged (on loopback,
# unacknowledged bytes that stay so mean the window is closed).
bg "$P" -L $TQ -o "$T/t1" -n $N1 -b 4096 -z -Z "$T/t1.inq" -T 120 -q
T1=$LASTPID
bg "$P" -c "$T/t.sock" -s "$T/s" -T 120 -q
waitfor "[ \"\$(stat -c %s '$T/t1' 2>/dev/null)\" = $N1 ]" $W
tcp_settled() {
	local inq
	inq=$(cat "$T/t1.inq" 2>/dev/null) && [ -n "$inq" ] && unread_settled $((N1 + inq)) t
}
check "TCP: daemon saw what the first QEMU's kernel did not acknowledge" waitfor tcp_settled $W
# SIGTERM: it writes what its socket holds a last time, then exits.
kill -TERM $T1
wait $T1 2>/dev/null
waitfor "ctl -j status vm1/t | grep -q '\"vm_state\":\"\(down\|connecting\)\"'" $W
INQ=$(cat "$T/t1.inq")
# What the daemon resends starts where QEMU's kernel last acknowledged:
# at most INQ past what QEMU read (less when an ACK was still delayed).
W1=$(field vm1/t bytes_to_vm)
U=$(sed -n 's/.*vm1\/t: QEMU went away with \([0-9]*\) bytes.*/\1/p' "$T/d.err")
X=$((W1 - ${U:-0} - N1))
diag "TCP: $W1 bytes written, $INQ queued unread in QEMU's kernel, ${U:-no} resent, $X lost"
check "TCP: only bytes QEMU's kernel held are lost" test -n "$U" -a $X -ge 0 -a $X -le $INQ
timeout 120 "$P" -L $TQ -o "$T/t2" -n $((L - N1 - X)) -T 60 -q
check "TCP: the next QEMU got the remaining $((L - N1 - X)) bytes" test $? = 0
check "TCP: everything after them arrived, once, in order" \
	eval "[ \"\$(cat '$T/t1' '$T/t2' | sha)\" = \"\$({ head -c $N1 '$T/s'; tail -c +$((N1 + X + 1)) '$T/s'; } | sha)\" ]"
check "TCP: resent_to_vm counts each byte written again" \
	test "$(field vm1/t resent_to_vm)" = $(($(field vm1/t bytes_to_vm) - L))
check "daemon exits cleanly" stop_daemon
finish
