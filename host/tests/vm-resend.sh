#!/bin/bash
# QEMU goes away without reading all that virtserd wrote into its socket:
# those bytes must reach the next QEMU, exactly once and in order.  Each
# fake QEMU (vspeer -z) reads a set number of bytes, then stops reading,
# with the rest still queued in its socket, and is SIGKILLed; the second
# dies before it has read all that was sent to it again; the third reads
# everything.  What the three read, put together, must be the user's
# stream byte for byte.  The 64 KiB buffer makes the ring wrap many times.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer
W=600	# waitfor tries: 30 s, for the daemon under valgrind

start_daemon <<XML
<vm name='vm1'>
  <channel type='unix' name='a'>
    <source mode='bind' path='$T/a.sock'/>
    <chardev path='$T/q.sock'><reconnect enabled='yes' timeout-ms='50'/></chardev>
    <buffer size='65536'/>
  </channel>
</vm>
XML
L=1048576
N1=100000
rand "$T/s" $L
# unread_settled N: the daemon has seen that QEMU stopped reading after N
# of the bytes it was sent (bytes_to_vm counts the resent ones too).
unread_settled() {
	local u w
	u=$(field vm1/a unread_by_vm)
	w=$(field vm1/a bytes_to_vm)
	[ -n "$u" ] && [ -n "$w" ] && [ "$u" = $((w - $1)) ] && [ "$u" -gt 0 ]
}
qemu_dies() {	# PID: SIGKILL, then wait until the daemon noticed
	kill -9 "$1"
	wait "$1" 2>/dev/null
	waitfor "ctl -j status vm1/a | grep -q '\"vm_state\":\"\(down\|connecting\)\"'" $W
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
check "daemon exits cleanly" stop_daemon
finish
