#!/bin/bash
# Endpoint types against real peers: file (rotation), pty (a program
# opening the slave), pipe (FIFOs), null, udp (socat), dev (a pty pair),
# stdio (a second daemon in the foreground).
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer
# Ports: UT is QEMU's TCP chardev, which the test plays (held from port 0
# for the whole run); U2 the udp peer, a socat bound to port 0 (with
# SO_REUSEPORT, so that the test can later send from that port while it
# still holds it); U1 the daemon's own udp port, see start_daemon_ports.
hold_port "$T/ut.port" && UT=$HELD

command -v socat > /dev/null && HAVE_SOCAT=1 || HAVE_SOCAT=0
if [ $HAVE_SOCAT = 1 ]; then
	bg socat PTY,link="$T/ttyA",raw,echo=0 PTY,link="$T/ttyB",raw,echo=0
	waitfor "[ -e '$T/ttyA' ] && [ -e '$T/ttyB' ]"
	bg socat -u UDP-RECV:0,bind=127.0.0.1,so-reuseport OPEN:"$T/u.got",creat,append
	UP=$LASTPID
	waitfor "ss -Huanp | grep -q 'pid=$UP,'"
	U2=$(ss -Huanp | grep "pid=$UP," | awk '{ n = split($4, a, ":"); print a[n] }')
else
	pick_ports 1
	U2=${PORTS# }
fi
conf() {
	U1=${PORTS# }
	cat <<XML
<vm name='vm1'>
  <console type='file' name='file'>
    <source path='$T/f.log' max-size='4096' backups='2'/>
    <chardev path='$T/qf.sock'/>
  </console>
  <channel type='file' name='vmbind'>
    <source path='$T/vb.log'/>
    <chardev type='unix' mode='bind' path='$T/qb.sock'/>
  </channel>
  <channel type='file' name='vmtcp'>
    <source path='$T/vt.log'/>
    <chardev type='tcp' host='127.0.0.1' service='$UT'><reconnect enabled='yes' timeout-ms='50'/></chardev>
  </channel>
  <channel type='file' name='late'>
    <source path='$T/later/f.log'/>
    <chardev path='$T/ql.sock'/>
  </channel>
  <channel type='pty' name='pty'>
    <source path='$T/pty'/>
    <perms mode='0620'/>
    <chardev path='$T/qp.sock'/>
  </channel>
  <channel type='pipe' name='pipe'>
    <source path='$T/p'/>
    <chardev path='$T/qi.sock'/>
  </channel>
  <channel type='null' name='null'>
    <chardev path='$T/qn.sock'/>
  </channel>
  <channel type='udp' name='udp'>
    <source mode='bind' host='127.0.0.1' service='$U1'/>
    <source mode='connect' host='127.0.0.1' service='$U2'/>
    <chardev path='$T/qu.sock'/>
  </channel>
  <channel type='dev' name='dev'>
    <source path='$T/ttyA'/>
    <chardev path='$T/qd.sock'/>
  </channel>
</vm>
XML
}
start_daemon_ports 1 conf vm1/udp
check "the daemon bound its udp port" test $? = 0
U1=${PORTS# }
check "status reports the udp socket's local address" test "$(bound vm1/udp)" = "127.0.0.1:$U1"

# file: 10000 bytes through a 4096-byte cap with 2 backups.
seq 1 3000 | head -c 10000 > "$T/f.in"
timeout 20 "$P" -l "$T/qf.sock" -s "$T/f.in" -n 0 -T 20 -q
waitfor "[ \"\$(field vm1/file bytes_from_vm)\" = 10000 ] && [ -s '$T/f.log.2' ] && [ \"\$(stat -c %s '$T/f.log')\" = 1808 ]"
check "file: live log holds the tail (1808 bytes)" test "$(stat -c %s "$T/f.log")" = 1808
check "file: two full backups, no third" \
	eval "[ \"\$(stat -c %s '$T/f.log.1')\" = 4096 ] && [ \"\$(stat -c %s '$T/f.log.2')\" = 4096 ] && [ ! -e '$T/f.log.3' ]"
cat "$T/f.log.2" "$T/f.log.1" "$T/f.log" > "$T/f.cat"
check "file: backups + live log are the input, in order" same "$T/f.in" "$T/f.cat"
check "file: opened with O_APPEND" eval "grep -q '^flags:.*[2-7][0-7][0-7][0-7]$' /proc/$DPID/fdinfo/\$(ls -l /proc/$DPID/fd | awk '/f.log\$/ {print \$9}')"

# QEMU as the client of a chardev socket we listen on, twice in a row.
waitfor "[ -S '$T/qb.sock' ]"
check "chardev bind: socket is 0660" test "$(stat -c %a "$T/qb.sock")" = 660
printf 'first-qemu;' > "$T/vb1"
printf 'second-qemu;' > "$T/vb2"
timeout 10 "$P" -c "$T/qb.sock" -s "$T/vb1" -e -n 0 -T 10 -q
waitfor "[ \"\$(field vm1/vmbind bytes_from_vm)\" = 11 ] && ctl -j status vm1/vmbind | grep -q '\"vm_state\":\"listening\"'"
timeout 10 "$P" -c "$T/qb.sock" -s "$T/vb2" -e -n 0 -T 10 -q
waitfor "[ \"\$(cat '$T/vb.log')\" = 'first-qemu;second-qemu;' ]"
check "chardev bind: accepted QEMU, and its successor" test "$(cat "$T/vb.log")" = 'first-qemu;second-qemu;'
# QEMU's chardev as a TCP server.
printf 'over-tcp' > "$T/vt.in"
timeout 10 "$P" -L $UT -s "$T/vt.in" -n 0 -T 10 -q
waitfor "[ \"\$(cat '$T/vt.log')\" = over-tcp ]"
check "chardev tcp: connected to QEMU over TCP" test "$(cat "$T/vt.log")" = over-tcp

# file whose directory does not exist yet: output is held, then written.
printf 'held-until-open' > "$T/l.in"
timeout 20 "$P" -l "$T/ql.sock" -s "$T/l.in" -n 0 -T 20 -q
waitfor "[ \"\$(field vm1/late bytes_from_vm)\" = 15 ]"
check "file: unopenable endpoint is reported with its path" grep -qF "vm1/late: opening the file endpoint $T/later/f.log: No such file or directory; retrying" "$T/d.err"
# Three attempts: the first at error level, the same failure again only
# at debug level (and later).
waitfor "[ \"\$(grep -c 'vm1/late: opening the file endpoint' '$T/d.err')\" -ge 3 ]"
check "file: the same open failure is logged at error level once" \
	test "$(grep -c 'error: vm1/late: opening the file endpoint' "$T/d.err")" = 1
mkdir "$T/later"
waitfor "[ \"\$(cat '$T/later/f.log' 2>/dev/null)\" = held-until-open ]"
check "file: output held until the file could be opened" test "$(cat "$T/later/f.log" 2>/dev/null)" = held-until-open
check "file: and that it is open now is said" grep -qF "vm1/late: the file endpoint $T/later/f.log is open" "$T/d.err"

# SIGUSR2 after an external rotation: new output goes to a new file.
mv "$T/later/f.log" "$T/later/f.log.moved"
kill -USR2 $DPID
printf 'after-usr2' > "$T/l2.in"
timeout 20 "$P" -l "$T/ql.sock" -s "$T/l2.in" -n 0 -T 20 -q
waitfor "[ \"\$(cat '$T/later/f.log' 2>/dev/null)\" = after-usr2 ]"
check "file: SIGUSR2 reopens the path after an external rotation" \
	eval "[ \"\$(cat '$T/later/f.log' 2>/dev/null)\" = after-usr2 ] && [ \"\$(cat '$T/later/f.log.moved')\" = held-until-open ]"

# pty: output written while no one has the slave open is kept.
printf 'boot-messages' > "$T/pty.data"
bg "$P" -l "$T/qp.sock" -s "$T/pty.data" -o "$T/pty.got" -n 5 -T 20 -q
QP=$LASTPID
waitfor "[ \"\$(field vm1/pty bytes_from_vm)\" = 13 ]"
check "pty: stable symlink to a pts" eval "readlink '$T/pty' | grep -q '^/dev/pts/'"
check "pty: slave mode is 0620" test "$(stat -L -c %a "$T/pty")" = 620
out=$(timeout 5 head -c 13 "$T/pty")
check "pty: a late reader gets the output written before it opened the slave" test "$out" = boot-messages
timeout 5 sh -c "printf typed > '$T/pty'"
wait $QP
# The pty keeps write access; -f cannot take it, and must say so.
out=$(printf 'x' | ctl attach -f vm1/pty 2>&1)
check "pty: attach -f is refused, naming the endpoint that writes" \
	test "$out" = "virtserctl: ERR attach: the pty endpoint has write access on this port and keeps it; attach -r to watch"
check "pty: bytes written to the slave reach QEMU" test "$(cat "$T/pty.got")" = typed

# pipe: path.in / path.out FIFOs.
printf 'to-the-pipe' > "$T/i.in"
bg "$P" -l "$T/qi.sock" -s "$T/i.in" -o "$T/i.got" -n 9 -T 20 -q
QP=$LASTPID
waitfor "[ -p '$T/p.out' ] && [ -p '$T/p.in' ]"
check "pipe: FIFOs created with mode 600" test "$(stat -c %a "$T/p.out")" = 600
out=$(timeout 5 head -c 11 "$T/p.out")
check "pipe: guest output readable from path.out" test "$out" = to-the-pipe
timeout 5 sh -c "printf from-pipe > '$T/p.in'"
wait $QP
check "pipe: path.in reaches QEMU" test "$(cat "$T/i.got")" = from-pipe

# null: 1 MiB is accepted and discarded without stalling QEMU.
rand "$T/n.in" 1048576
timeout 20 "$P" -l "$T/qn.sock" -s "$T/n.in" -n 0 -T 20 -q
check "null: QEMU could send 1 MiB" test $? = 0
waitfor "[ \"\$(field vm1/null bytes_from_vm)\" = 1048576 ]"
check "null: all of it read" test "$(field vm1/null bytes_from_vm)" = 1048576

# udp.
if [ $HAVE_SOCAT = 1 ]; then
	printf 'datagram-out' > "$T/u.in"
	bg "$P" -l "$T/qu.sock" -s "$T/u.in" -o "$T/u.qgot" -n 11 -T 20 -q
	QP=$LASTPID
	waitfor "[ \"\$(stat -c %s '$T/u.got' 2>/dev/null)\" = 12 ]"
	check "udp: guest output sent to the remote address" test "$(cat "$T/u.got" 2>/dev/null)" = datagram-out
	# As with QEMU's udp chardev, only the remote address may talk to us.
	printf 'spoofed' | timeout 5 socat -u - UDP-SENDTO:127.0.0.1:$U1
	printf 'datagram-in' | timeout 5 socat -u - UDP-SENDTO:127.0.0.1:$U1,bind=127.0.0.1:$U2,so-reuseport
	wait $QP
	kill $UP 2>/dev/null
	wait $UP 2>/dev/null
	check "udp: datagrams from the remote address reach QEMU, others do not" \
		test "$(cat "$T/u.qgot")" = datagram-in
else
	skip "udp: out" "socat not installed"; skip "udp: in" "socat not installed"
fi

# dev: the daemon owns one end of a pty pair, the test the other.
if [ $HAVE_SOCAT = 1 ]; then
	printf 'to-tty' > "$T/d.in"
	bg "$P" -l "$T/qd.sock" -s "$T/d.in" -o "$T/d.got" -n 8 -T 20 -q
	QP=$LASTPID
	out=$(timeout 5 head -c 6 "$T/ttyB")
	check "dev: guest output comes out of the tty" test "$out" = to-tty
	timeout 5 sh -c "printf from-tty > '$T/ttyB'"
	wait $QP
	check "dev: tty input reaches QEMU" test "$(cat "$T/d.got")" = from-tty
else
	skip "dev: out" "socat not installed"; skip "dev: in" "socat not installed"
fi
check "daemon exits cleanly" stop_daemon
check "pty link removed on exit" test ! -e "$T/pty"

# stdio: a foreground daemon whose stdin/stdout are files.
printf 'from-stdin' > "$T/stdin"
cat > "$T/s.xml" <<XML
<virtserd><control path='$T/ctl2'/><vm name='v'><channel type='stdio' name='s'>
<chardev path='$T/qs.sock'/></channel></vm></virtserd>
XML
printf 'to-stdout' > "$T/s.in"
bg "$P" -l "$T/qs.sock" -s "$T/s.in" -o "$T/s.got" -n 10 -T 20 -q
QP=$LASTPID
"$B/virtserd" -c "$T/s.xml" < "$T/stdin" > "$T/stdout" 2> "$T/s.err" &
SP=$!
pids="$pids $SP"
wait $QP
check "stdio: stdin reaches QEMU" test "$(cat "$T/s.got")" = from-stdin
waitfor "[ \"\$(cat '$T/stdout')\" = to-stdout ]"
check "stdio: guest output on stdout" test "$(cat "$T/stdout")" = to-stdout
kill -TERM $SP
finish
