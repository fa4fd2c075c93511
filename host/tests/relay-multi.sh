#!/bin/bash
# Several clients on one port: output held while nobody is attached, the
# first client is the writer, later ones are read-only spies with replay,
# spy input never reaches the guest, forced takeover through virtserctl,
# a log file next to the endpoint.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer

start_daemon <<XML
<vm name='vm1'>
  <channel type='unix' name='a'>
    <source mode='bind' path='$T/a.sock'/>
    <chardev path='$T/q.sock'/>
    <log file='$T/a.log' append='off'/>
    <clients max='3' replay='8'/>
  </channel>
  <channel type='unix' name='spy'>
    <source mode='bind' path='$T/spy.sock'/>
    <chardev path='$T/qs.sock'/>
    <buffer size='65536'/>
  </channel>
  <channel type='unix' name='many'>
    <source mode='bind' path='$T/many.sock'/>
    <chardev path='$T/qm.sock'/>
    <clients max='200'/>
  </channel>
</vm>
XML
printf 'early-boot-output;' > "$T/early"
printf 'rw-input;' > "$T/rw.in"
printf 'ro-input;' > "$T/ro.in"
# Fake QEMU: says something before anyone is attached, then collects.
bg "$P" -l "$T/q.sock" -s "$T/early" -o "$T/q.got" -n 18 -T 20 -q
QP=$LASTPID
waitfor "[ \"\$(field vm1/a bytes_from_vm)\" = 18 ]"
check "output arrived while no client was attached" test "$(field vm1/a bytes_from_vm)" = 18
check "held output is counted as buffered" test "$(field vm1/a buffered_to_user)" = 18

bg "$P" -c "$T/a.sock" -s "$T/rw.in" -o "$T/rw.got" -T 20 -q
waitfor "ctl status vm1/a | grep -q 'socket.* rw '"
check "first client is the writer" eval "ctl status vm1/a | grep -q 'socket.* rw '"
waitfor "[ \"\$(stat -c %s '$T/rw.got' 2>/dev/null)\" = 18 ]"
check "writer got the output held before it attached" test "$(cat "$T/rw.got")" = 'early-boot-output;'

bg "$P" -c "$T/a.sock" -s "$T/ro.in" -o "$T/ro.got" -T 20 -q
waitfor "[ \"\$(stat -c %s '$T/ro.got' 2>/dev/null)\" = 8 ]"
check "second client is read-only" eval "ctl status vm1/a | grep -q 'socket.* ro '"
check "spy got a replay of the last 8 bytes" test "$(cat "$T/ro.got")" = '-output;'
waitfor "[ \"\$(field vm1/a ro_discarded)\" = 9 ]"
check "spy input was discarded, not sent to the guest" test "$(field vm1/a ro_discarded)" = 9

# Forced takeover: virtserctl attach -f becomes the writer.
printf 'forced;!!' | timeout 10 "$B/virtserctl" -s "$T/ctl" attach -f vm1/a > "$T/attach.out" 2>&1
wait $QP
check "fake QEMU got all it expected" test $? = 0
check "QEMU got the writer's and the forced attach's input, not the spy's" \
	test "$(cat "$T/q.got")" = 'rw-input;forced;!!'
waitfor "ctl status vm1/a | grep -q 'client: *socket unix:pid=[0-9,uid=]* ro .*in=9 '"
check "the old writer became a spy" eval "ctl status vm1/a | grep -q 'client: *socket unix:pid=[0-9,uid=]* ro .*in=9 '"
check "a program on a channel gets only the guest's bytes, no takeover notice in its stream" \
	test "$(cat "$T/rw.got")" = 'early-boot-output;'
grep -q 'took over from unix:pid' "$T/d.err"
check "the takeover is logged" test $? = 0
check "log file has the guest output" test "$(cat "$T/a.log")" = 'early-boot-output;'
check "log file is not world readable" test "$(stat -c %a "$T/a.log")" = 640

# max='3': two sockets are attached; the third fits, a fourth is refused.
bg "$P" -c "$T/a.sock" -o "$T/c3.got" -T 20 -q
waitfor "[ \"\$(ctl status vm1/a | grep -c 'client: *socket')\" = 3 ]"
timeout 5 "$P" -c "$T/a.sock" -o "$T/c4.got" -T 5 -q
check "a client beyond max is refused with a message" grep -q 'too many clients' "$T/c4.got"
out=$(ctl attach vm1/nope 2>&1)
check "attach to a missing port names it" test "$out" = "virtserctl: ERR no such port: vm1/nope"
# 100 clients at once, then all gone: no descriptor or client left behind.
# (A connected fake QEMU keeps the VM side from opening reconnect sockets.)
bg "$P" -l "$T/qm.sock" -o /dev/null -T 60 -q
waitfor "ctl -j status vm1/many | grep -q '\"vm_state\":\"up\"'"
fds0=$(ls /proc/$DPID/fd | wc -l)
mp=""
for i in $(seq 100); do
	bg "$P" -c "$T/many.sock" -o /dev/null -T 60 -q 2>/dev/null
	mp="$mp $LASTPID"
done
waitfor "[ \"\$(ctl status vm1/many | grep -c 'client: *socket')\" = 100 ]" 600
check "100 clients attached at once (1 writer, 99 spies)" \
	eval "[ \"\$(ctl status vm1/many | grep -c 'client: *socket.* ro ')\" = 99 ]"
for p in $mp; do kill $p 2>/dev/null; wait $p 2>/dev/null; done
waitfor "! ctl status vm1/many | grep -q 'client:'"
check "all 100 detached" eval "! ctl status vm1/many | grep -q 'client:'"
check "no descriptors leaked" test "$(ls /proc/$DPID/fd | wc -l)" = "$fds0"
# A spy that stops reading falls behind and loses data: the count must
# show while it is stuck, not only once it reads again.
rand "$T/s.in" 4194304
bg "$P" -c "$T/spy.sock" -o /dev/null -n 4194304 -T 30 -q
WP=$LASTPID
waitfor "ctl status vm1/spy | grep -q 'socket.* rw '"
bg "$P" -c "$T/spy.sock" -o /dev/null -b 1 -d 30000000 -T 40 -q
SPY=$LASTPID
waitfor "ctl status vm1/spy | grep -q 'socket.* ro '"
timeout 30 "$P" -l "$T/qs.sock" -s "$T/s.in" -n 0 -T 30 -q
wait $WP
check "the writer got all 4 MiB" test $? = 0
line=$(ctl status vm1/spy | grep 'socket.* ro ')
diag "$line"
out=$(echo "$line" | sed -n 's/.* out=\([0-9]*\).*/\1/p')
drops=$(echo "$line" | sed -n 's/.* drops=\([0-9]*\).*/\1/p')
# What it did not get, is not in the copy its stuck write holds (up to 16 KiB)
# and the ring (64 KiB) no longer holds is lost: all of it is counted.
check "a stuck spy's drops are counted while it does not read" \
	test "${drops:-0}" -ge $((4194304 - ${out:-0} - 16384 - 65536))
kill $SPY 2>/dev/null
check "daemon exits cleanly" stop_daemon
finish
