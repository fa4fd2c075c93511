#!/bin/bash
# unix endpoint against a fake QEMU: integrity both ways, backpressure with
# a slow reader (bounded memory), QEMU killed and restarted mid-stream.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer

start_daemon <<XML
<vm name='vm1'>
  <channel type='unix' name='a'>
    <source mode='bind' path='$T/a.sock'/>
    <chardev path='$T/q.sock'><reconnect enabled='yes' timeout-ms='50'/></chardev>
    <buffer size='65536'/>
  </channel>
</vm>
XML
rand "$T/g2u" 4194304
rand "$T/u2g" 4194304
bg "$P" -l "$T/q.sock" -s "$T/g2u" -o "$T/q.got" -n 4194304 -T 60 -q
QP=$LASTPID
check "user side socket exists" waitfor "[ -S '$T/a.sock' ]"
check "user socket is not accessible to others" \
	test "$(stat -c %a "$T/a.sock")" = 600
timeout 60 "$P" -c "$T/a.sock" -s "$T/u2g" -o "$T/u.got" -n 4194304 -T 60 -q
check "user peer got its 4 MiB" test $? = 0
wait $QP
check "fake QEMU got its 4 MiB" test $? = 0
check "guest->user bytes identical (sha256)" same "$T/g2u" "$T/u.got"
check "user->guest bytes identical (sha256)" same "$T/u2g" "$T/q.got"

# Quiet after a burst: the ring pages go back to the kernel (TRIM_MS, 2 s),
# except the replay window, which an interactive attach still gets intact.
check "ring pages returned after the burst" \
	waitfor "[ \"\$(field vm1/a trimmed)\" -gt 0 ] 2>/dev/null" 200
sleep 3 | timeout 2 "$B/virtserctl" -s "$T/ctl" attach -r vm1/a > "$T/replay.got"
check "replay after trimming is the last 4 KiB of guest output" \
	eval "[ \"\$(sha "$T/replay.got")\" = \"\$(tail -c 4096 "$T/g2u" | sha)\" ]"

# Slow consumer: 16 MiB through a 64 KiB buffer while the user reads 4 KiB
# at a time with pauses.  Everything must arrive and the daemon must not
# grow: the backpressure reaches the fake QEMU instead.
rand "$T/big" 16777216
hwm0=$(awk '/VmRSS/ {print $2}' /proc/$DPID/status)
bg "$P" -l "$T/q.sock" -s "$T/big" -T 120 -q
QP=$LASTPID
timeout 120 "$P" -c "$T/a.sock" -o "$T/slow.got" -n 16777216 -b 4096 -d 200 -T 120 -q
check "slow consumer received all 16 MiB" test $? = 0
check "slow consumer data identical (sha256)" same "$T/big" "$T/slow.got"
hwm1=$(awk '/VmHWM/ {print $2}' /proc/$DPID/status)
diag "daemon RSS before ${hwm0} KiB, peak ${hwm1} KiB"
check "daemon memory stayed bounded (peak grew < 4 MiB)" test $((hwm1 - hwm0)) -lt 4096
kill $QP 2>/dev/null

# QEMU killed with SIGKILL: what the user types while it is gone is
# delivered to the restarted QEMU.
bg "$P" -l "$T/q.sock" -o "$T/q1.got" -T 30 -q
QP=$LASTPID
waitfor "[ \"\$(field vm1/a vm_connects)\" = 3 ]"
printf 'before-kill' > "$T/m1"
timeout 10 "$P" -c "$T/a.sock" -s "$T/m1" -e -T 5 -q
waitfor "[ \"\$(stat -c %s '$T/q1.got' 2>/dev/null)\" = 11 ]"
check "first QEMU got data" test "$(cat "$T/q1.got")" = before-kill
kill -9 $QP
wait $QP 2>/dev/null
waitfor "ctl -j status vm1/a | grep -q '\"vm_state\":\"\(down\|connecting\)\"'"
printf 'typed-while-qemu-was-down' > "$T/m2"
timeout 10 "$P" -c "$T/a.sock" -s "$T/m2" -e -T 5 -q
check "daemon survived QEMU's SIGKILL" kill -0 $DPID
timeout 30 "$P" -l "$T/q.sock" -o "$T/q2.got" -n 25 -T 30 -q
check "restarted QEMU got what was typed while it was down" \
	test "$(cat "$T/q2.got")" = typed-while-qemu-was-down
check "status counts 4 QEMU connections" test "$(field vm1/a vm_connects)" -ge 4
# QEMU hangs up while nobody reads: the buffer (64 KiB) is full, so no read
# is in flight, yet the daemon must notice, keep what the socket still held
# and connect to the next QEMU; a reader then gets the old bytes first, in
# order, then the new QEMU's.  (100 KiB: more than the buffer, and little
# enough for the rest to fit in the socket, so the fake QEMU can hang up.)
n0=$(field vm1/a vm_connects)	# the old QEMU makes it n0+1, the next n0+2
rand "$T/old" 102400
timeout 30 "$P" -l "$T/q.sock" -s "$T/old" -e -n 0 -T 30 -q
check "first QEMU sent 100 KiB into a full buffer and hung up" test $? = 0
rm -f "$T/q.sock"
printf 'from-the-next-qemu' > "$T/new"
bg "$P" -l "$T/q.sock" -s "$T/new" -T 30 -q
QP=$LASTPID
check "reconnected to the next QEMU while nobody read" \
	waitfor "[ \"\$(field vm1/a vm_connects)\" = $((n0 + 2)) ]" 200
check "and said it kept the old QEMU's last bytes" grep -q 'vm1/a: kept [1-9][0-9]* bytes QEMU sent before it hung up' "$T/d.err"
timeout 30 "$P" -c "$T/a.sock" -o "$T/hup.got" -n $((102400 + 18)) -T 30 -q
check "the reader got all 100 KiB of the old QEMU, then the new one's bytes" \
	eval "[ \"\$(sha "$T/hup.got")\" = \"\$(cat "$T/old" "$T/new" | sha)\" ]"
kill $QP 2>/dev/null
wait $QP 2>/dev/null

# SIGTERM in the middle of a transfer in both directions: every
# in-flight operation must complete or be cancelled, and the daemon exit.
rand "$T/mid" 67108864
bg "$P" -l "$T/q.sock" -s "$T/mid" -T 30 -q
waitfor "ctl -j status vm1/a | grep -q '\"vm_state\":\"up\"'"
bg "$P" -c "$T/a.sock" -s "$T/mid" -T 30 -q
waitfor "[ \"\$(field vm1/a bytes_to_vm)\" -gt 20000000 ] 2>/dev/null"
check "daemon exits cleanly on SIGTERM mid-transfer" stop_daemon
check "user socket removed on exit" test ! -e "$T/a.sock"
finish
