#!/bin/bash
# tcp and telnet endpoints, console overflow (drops counted, QEMU never
# blocked) against channel backpressure (QEMU blocked, nothing lost).
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer
# The daemon dials TC and TT (connect mode), each twice or more: the test
# listens there, on ports it holds for the whole run.
hold_port "$T/tc.port" && TC=$HELD
hold_port "$T/tt.port" && TT=$HELD

conf() {
	set -- $PORTS
	TP=$1 TN=$2 TW=$3
	cat <<XML
<vm name='vm1'>
  <channel type='tcp' name='tcp'>
    <source mode='bind' service='$TP'/>
    <chardev path='$T/qt.sock'/>
  </channel>
  <console type='telnet' name='tn'>
    <listen port='$TN'><nodelay/></listen>
    <chardev path='$T/qn.sock'/>
  </console>
  <channel type='tcp' name='wild'>
    <source mode='bind' host='0.0.0.0' service='$TW'/>
    <chardev path='$T/qw.sock'/>
  </channel>
  <channel type='tcp' name='out'>
    <source mode='connect' host='127.0.0.1' service='$TC'>
      <reconnect enabled='yes' timeout-ms='50'/>
    </source>
    <chardev path='$T/qo.sock'/>
  </channel>
  <channel type='telnet' name='tout'>
    <connect addr='127.0.0.1' port='$TT'/>
    <chardev path='$T/qtt.sock'/>
  </channel>
  <channel type='unix' name='uout'>
    <source mode='connect' path='$T/uc.sock'/>
    <chardev path='$T/quc.sock'/>
  </channel>
  <console type='unix' name='con'>
    <source mode='bind' path='$T/con.sock'/>
    <chardev path='$T/qc.sock'/>
    <buffer size='4096'/>
  </console>
  <channel type='unix' name='chan'>
    <source mode='bind' path='$T/chan.sock'/>
    <chardev path='$T/qh.sock'/>
    <buffer size='4096'/>
  </channel>
</vm>
XML
}
start_daemon_ports 3 conf vm1/tcp vm1/tn vm1/wild
check "the daemon bound every tcp listener" test $? = 0
set -- $PORTS
TP=$1 TN=$2 TW=$3
check "status reports the bound address and port" \
	eval "[ \"\$(bound vm1/tcp)\" = 127.0.0.1:$TP ] && [ \"\$(bound vm1/wild)\" = 0.0.0.0:$TW ]"
check "tcp: listens on loopback by default" eval "ss -ltn | grep -q '127.0.0.1:$TP '"
check "tcp: a wildcard address is warned about" grep -q "wildcard address (0.0.0.0)" "$T/d.err"

rand "$T/g" 1048576
rand "$T/u" 1048576
bg "$P" -l "$T/qt.sock" -s "$T/g" -o "$T/q.got" -n 1048576 -T 30 -q
QP=$LASTPID
timeout 30 "$P" -C $TP -s "$T/u" -o "$T/u.got" -n 1048576 -T 30 -q
check "tcp: client got 1 MiB" test $? = 0
wait $QP
check "tcp: QEMU got 1 MiB" test $? = 0
check "tcp: both directions identical (sha256)" eval "same '$T/g' '$T/u.got' && same '$T/u' '$T/q.got'"

# telnet, byte level: 0xff is doubled towards the client and undoubled
# from it; the greeting offers ECHO, SGA and BINARY.
printf 'a\377b' > "$T/tg"
printf 'x\377\377y\377\375\030z' > "$T/tu"	# IAC IAC, IAC DO TTYPE
bg "$P" -l "$T/qn.sock" -s "$T/tg" -o "$T/tq.got" -n 4 -T 20 -q
QP=$LASTPID
timeout 20 "$P" -C $TN -s "$T/tu" -o "$T/tu.got" -n 22 -T 20 -q
wait $QP
check "telnet: QEMU got x 0xff y z (IAC IAC undone, DO TTYPE consumed)" \
	test "$(od -An -tx1 "$T/tq.got" | tr -d ' \n')" = 78ff797a
got=$(od -An -tx1 "$T/tu.got" | tr -d ' \n')
check "telnet: greeting WILL ECHO, WILL SGA, DO SGA, WILL BINARY, DO BINARY" \
	test "${got:0:30}" = fffb01fffb03fffd03fffb00fffd00
check "telnet: refuses TTYPE (IAC WONT 24)" eval "echo '$got' | grep -q fffc18"
check "telnet: guest 0xff arrives doubled" eval "echo '$got' | grep -q '61ffff62'"

# A real telnet client.
if command -v telnet > /dev/null; then
	printf 'guest-says-hi\r\n' > "$T/tg2"
	bg "$P" -l "$T/qn.sock" -s "$T/tg2" -o "$T/tq2.got" -n 7 -T 20 -q
	QP=$LASTPID
	waitfor "[ \"\$(field vm1/tn vm_connects)\" = 2 ]"
	{ waitfor "ctl status vm1/tn | grep -q 'client: *socket'"; printf 'hello\r\n'; waitfor "[ -s '$T/tq2.got' ]" 100; } |
		timeout 10 telnet 127.0.0.1 $TN > "$T/tel.out" 2>&1
	wait $QP
	check "telnet client: sees guest output" grep -q guest-says-hi "$T/tel.out"
	check "telnet client: its line reaches QEMU" grep -q hello "$T/tq2.got"
else
	skip "telnet client: output" "no telnet"; skip "telnet client: input" "no telnet"
fi

# tcp in connect mode: the daemon dials the user side, and again after
# the user side went away; output produced meanwhile is held for it.
printf 'first;' > "$T/o1"
bg "$P" -l "$T/qo.sock" -s "$T/o1" -T 30 -q
QP=$LASTPID
timeout 20 "$P" -L $TC -o "$T/o1.got" -n 6 -T 20 -q
check "tcp connect: the daemon dialled the user side and sent output" test "$(cat "$T/o1.got")" = 'first;'
kill $QP 2>/dev/null
wait $QP 2>/dev/null
printf 'held-for-the-next;' > "$T/o2"
bg "$P" -l "$T/qo.sock" -s "$T/o2" -T 30 -q
QP=$LASTPID
waitfor "[ \"\$(field vm1/out bytes_from_vm)\" = 24 ]"
timeout 20 "$P" -L $TC -o "$T/o2.got" -n 18 -T 20 -q
check "tcp connect: redialled after the user side closed; held output delivered" \
	test "$(cat "$T/o2.got")" = 'held-for-the-next;'
kill $QP 2>/dev/null

# telnet and unix in connect mode.
printf 'x\377y' > "$T/tt"
bg "$P" -l "$T/qtt.sock" -s "$T/tt" -T 30 -q
QP=$LASTPID
timeout 20 "$P" -L $TT -o "$T/tt.got" -n 19 -T 20 -q
check "telnet connect: greeting, then guest data with IAC doubled" \
	test "$(od -An -tx1 "$T/tt.got" | tr -d ' \n')" = fffb01fffb03fffd03fffb00fffd0078ffff79
kill $QP 2>/dev/null
printf 'to-unix-peer' > "$T/uc"
bg "$P" -l "$T/quc.sock" -s "$T/uc" -T 30 -q
QP=$LASTPID
timeout 20 "$P" -l "$T/uc.sock" -o "$T/uc.got" -n 12 -T 20 -q
check "unix connect: the daemon dialled the user's socket" test "$(cat "$T/uc.got")" = to-unix-peer
kill $QP 2>/dev/null

# console (virtconsole): QEMU must never be blocked; overflow is dropped and counted.
rand "$T/c" 1048576
timeout 20 "$P" -l "$T/qc.sock" -s "$T/c" -n 0 -T 20 -q
check "console: QEMU sent 1 MiB with nobody attached" test $? = 0
waitfor "[ \"\$(field vm1/con bytes_from_vm)\" = 1048576 ]"
check "console: drops counted (1 MiB - 4 KiB buffer)" test "$(field vm1/con drops)" = $((1048576 - 4096))
timeout 10 "$P" -c "$T/con.sock" -o "$T/c.got" -n 4096 -T 10 -q
check "console: the first 4 KiB were kept for the first client" \
	eval "[ \"\$(head -c 4096 '$T/c' | sha)\" = \"\$(sha '$T/c.got')\" ]"

# channel (virtserialport): the buffer fills, QEMU is blocked, nothing is lost.
rand "$T/h" 4194304
timeout 20 "$P" -l "$T/qh.sock" -s "$T/h" -n 0 -T 2 2> "$T/h.err"
check "channel: QEMU was throttled (its send did not complete)" test $? = 3
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$T/h.err")
diag "QEMU managed to send $sent of 4194304 bytes"
check "channel: no drops" test "$(field vm1/chan drops)" = 0
waitfor "[ \"\$(field vm1/chan bytes_from_vm)\" = $sent ]"
timeout 20 "$P" -c "$T/chan.sock" -o "$T/h.got" -n "$sent" -T 20 -q
check "channel: everything QEMU sent reached the late client" \
	eval "[ \"\$(head -c $sent '$T/h' | sha)\" = \"\$(sha '$T/h.got')\" ]"
check "daemon exits cleanly" stop_daemon
finish
