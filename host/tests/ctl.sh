#!/bin/bash
# Control socket and virtserctl: list/status/JSON, reload (command and
# SIGHUP) that leaves unchanged ports alone, a bad config on reload,
# access control, io_uring refused by seccomp, and the SIGTERM drain.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer

port() { # name extra-xml
	echo "<channel type='unix' name='$1'><source mode='bind' path='$T/$1.sock'/>"
	echo "<chardev path='$T/q$1.sock'><reconnect enabled='yes' timeout-ms='50'/></chardev>${2:-}</channel>"
}
conf() { { echo "<virtserd><control path='$T/ctl'/><vm name='v'>"; for p in "$@"; do port "$p"; done; echo "</vm></virtserd>"; } > "$T/c.xml"; }

conf a b
${VS_WRAP:-} "$B/virtserd" -v -c "$T/c.xml" 2> "$T/d.err" &
DPID=$!
waitfor "[ -S '$T/ctl' ]"
check "control socket is 0600" test "$(stat -c %a "$T/ctl")" = 600
out=$(ctl list)
check "list has a header and both ports" \
	eval "echo \"\$out\" | head -1 | grep -q '^PORT' && echo \"\$out\" | grep -q '^v/a ' && echo \"\$out\" | grep -q '^v/b '"
if command -v python3 > /dev/null; then
	check "list --json is valid JSON with 2 ports" \
		eval "ctl -j list | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(len(d[\"ports\"]) != 2)'"
else
	skip "list --json is valid JSON" "no python3"
fi

# A live session on v/a must survive reloads that do not touch it.
bg "$P" -l "$T/qa.sock" -o "$T/qa.got" -T 30 -q
waitfor "[ \"\$(field v/a vm_connects)\" = 1 ]"
bg "$P" -c "$T/a.sock" -o "$T/a.got" -T 30 -q
waitfor "ctl status v/a | grep -q 'client: *socket'"
conf a c
out=$(ctl reload)
check "reload command answers OK" test "$out" = "OK reloaded"
# A port name too long for one command line is refused by the client,
# not cut short into a line the daemon waits forever to see end.
long=v/$(printf 'x%.0s' $(seq 600))
rc=0; out=$(timeout 10 "$B/virtserctl" -s "$T/ctl" status "$long" 2>&1) || rc=$?
check "status with a 600-byte port name: refused by virtserctl (exit 2)" \
	eval "[ $rc = 2 ] && echo \"\$out\" | grep -q 'too long'"
waitfor "! ctl list | grep -q '^v/b '"
check "removed port is gone, added port exists" eval "ctl list | grep -q '^v/c ' && ! ctl list | grep -q '^v/b '"
check "removed port's socket is gone" test ! -e "$T/b.sock"
check "unchanged port kept its QEMU connection and client" \
	eval "[ \"\$(field v/a vm_connects)\" = 1 ] && ctl status v/a | grep -q 'client: *socket'"
conf a c d
kill -HUP $DPID
waitfor "ctl list | grep -q '^v/d '"
check "SIGHUP reloads too" eval "ctl list | grep -q '^v/d '"
echo "<virtserd><vm name='v'><channel type='unix' name='x'/></vm></virtserd>" > "$T/c.xml"
out=$(ctl reload 2>&1)
check "bad config on reload is refused with file:line: element: message" \
	test "$out" = "ERR $T/c.xml:1: channel: missing <chardev> (QEMU's socket for this port)"
check "running ports kept after a bad reload" eval "ctl list | grep -q '^v/d '"
# What -t refuses is refused on reload too: two ports on one QEMU socket.
{ echo "<virtserd><control path='$T/ctl'/><vm name='v'>"
  echo "<channel type='null' name='x'><chardev path='$T/qa.sock'/></channel>"
  echo "<channel type='null' name='y'><chardev path='$T/qa.sock'/></channel>"
  echo "</vm></virtserd>"; } > "$T/c.xml"
out=$(ctl reload 2>&1)
check "reload refuses two ports on one chardev, naming both" \
	test "$out" = "ERR $T/c.xml:3: channel: <chardev path='$T/qa.sock'> is also the <chardev> path of v/x (line 2)"
check "and keeps the running ports" eval "ctl list | grep -q '^v/d '"
conf a c d
printf 'still-there' > "$T/m"
timeout 10 "$P" -c "$T/a.sock" -s "$T/m" -e -T 5 -q 2>/dev/null
check "second client on unchanged port is a spy (first is still attached)" \
	test "$(field v/a ro_discarded)" = 11

# Malformed control lines get an ERR, never a silent close.
if command -v socat > /dev/null; then
	out=$(printf 'list' | timeout 10 socat - UNIX-CONNECT:"$T/ctl" 2>&1)
	check "a command without a newline before EOF gets an ERR" \
		test "$out" = "ERR command not terminated by a newline"
	out=$(head -c 100000 /dev/zero | tr '\0' x | timeout 10 socat - UNIX-CONNECT:"$T/ctl" 2>&1)
	check "an over-long command gets an ERR, even while more is being sent" \
		test "$out" = "ERR command longer than 511 bytes"
else
	skip "unterminated command" "no socat"; skip "over-long command" "no socat"
fi

# Interactive attach on a terminal (script(1) provides the pty): raw
# mode, input relayed, the escape character (^]) detaches.
if command -v script > /dev/null; then
	{
		waitfor "ctl status v/a | grep -q 'attach ctl:.* rw '"
		printf 'typed'
		waitfor "[ \"\$(cat '$T/qa.got')\" = typed ]"
		printf '\035'
	} | timeout 20 script -qfec "$B/virtserctl -s $T/ctl attach -f v/a" /dev/null > "$T/script.out" 2>&1
	check "attach: keystrokes reach QEMU" test "$(cat "$T/qa.got")" = typed
	check "attach: banner names the port and the escape" grep -qF 'attached to v/a read-write (escape: ^])' "$T/script.out"
	check "attach: the escape character detaches" grep -q 'detached' "$T/script.out"
else
	skip "attach on a terminal" "no script(1)"
fi

# Access control: the socket mode, and SO_PEERCRED behind it.
if command -v setpriv > /dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$B/virtserctl" -s "$T/ctl" list 2>&1)
	check "other users cannot connect (0600)" eval "echo \"\$out\" | grep -q 'Permission denied'"
	chmod 0777 "$T" "$T/ctl"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$B/virtserctl" -s "$T/ctl" list 2>&1)
	check "a socket opened up by hand still refuses them (SO_PEERCRED)" \
		test "$out" = "ERR permission denied"
	chmod 0700 "$T"
	chmod 0600 "$T/ctl"
	if getent group nogroup > /dev/null; then
		# A second daemon whose control socket is shared with a group.
		echo "<virtserd><control path='$T/gctl' group='nogroup' mode='0660'/></virtserd>" > "$T/g.xml"
		"$B/virtserd" -c "$T/g.xml" 2> "$T/g.err" &
		GP=$!
		pids="$pids $GP"
		# The socket exists from bind() on; its group and mode are set
		# just after, before the daemon answers on it: wait for that.
		waitfor "\"$B/virtserctl\" -s '$T/gctl' list > /dev/null 2>&1"
		chmod 0711 "$T"
		check "group control socket is 0660 and owned by the group" \
			test "$(stat -c '%a %G' "$T/gctl")" = "660 nogroup"
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$B/virtserctl" -s "$T/gctl" version 2>&1)
		check "a member of the control group is let in" eval "echo \"\$out\" | grep -q '^virtserd .* protocol 1'"
		# Membership is the peer's real supplementary groups (SO_PEERGROUPS),
		# not /etc/group's member lists, which name nobody in nogroup.
		out=$(setpriv --reuid=65534 --regid=1 --groups=65534 "$B/virtserctl" -s "$T/gctl" version 2>&1)
		check "a supplementary member of the control group is let in" \
			eval "echo \"\$out\" | grep -q '^virtserd .* protocol 1'"
		chmod 0777 "$T/gctl"
		out=$(setpriv --reuid=65534 --regid=1 --clear-groups "$B/virtserctl" -s "$T/gctl" version 2>&1)
		check "a non-member is refused even when the mode lets it connect" \
			test "$out" = "ERR permission denied"
		chmod 0660 "$T/gctl"
		chmod 0700 "$T"
		kill -TERM $GP
	else
		skip "group control socket" "no group nogroup"
		skip "group member let in" "no group nogroup"
		skip "supplementary member let in" "no group nogroup"
		skip "non-member refused" "no group nogroup"
	fi
else
	skip "other users cannot connect" "no setpriv"; skip "SO_PEERCRED" "no setpriv"
	skip "group control socket" "no setpriv"; skip "group member let in" "no setpriv"
	skip "supplementary member let in" "no setpriv"; skip "non-member refused" "no setpriv"
fi

# SIGTERM: what was read from a user reaches QEMU before the socket closes.
rand "$T/big" 1048576
bg "$P" -l "$T/qc.sock" -o "$T/qc.got" -n 1048576 -b 4096 -d 1000 -T 30 -q
QP=$LASTPID
waitfor "[ \"\$(field v/c vm_connects)\" = 1 ]"
timeout 20 "$P" -c "$T/c.sock" -s "$T/big" -e -T 20 -q
waitfor "! ctl status v/c | grep -q 'client:'"
kill -TERM $DPID
wait $QP
check "slow QEMU got all 1 MiB although the daemon was stopping" same "$T/big" "$T/qc.got"
waitfor "! kill -0 $DPID 2>/dev/null"
check "daemon exited after the drain" eval "! kill -0 $DPID 2>/dev/null"
DPID=""

out=$("$B/tests/noiouring" "$B/virtserd" -c "$T/c.xml" 2>&1)
rc=$?
if [ $rc = 77 ]; then
	skip "io_uring refused: clear error" "cannot install a seccomp filter"
else
	check "io_uring refused by seccomp: exit 1 and the cause named" \
		eval "[ $rc = 1 ] && echo \"\$out\" | grep -q 'io_uring is not available (Operation not permitted)'"
fi
out=$("$B/virtserd" -t -c "$S/host/virtserd.xml" 2>&1)
check "virtserd -t prints the sample config in canonical form" \
	eval "echo \"\$out\" | head -1 | grep -qx '<virtserd>' && echo \"\$out\" | grep -q \"<console type='tcp' name='console0'>\""
printf "<virtserd>\n<vm name='v'>\n<channel type='pty' name='x'><chardev path='/q' mode='listen'/></channel></vm></virtserd>\n" > "$T/bad.xml"
out=$("$B/virtserd" -t -c "$T/bad.xml" 2>&1)
rc=$?
check "virtserd -t on a bad config: exit 1, file:line: element: message" \
	eval "[ $rc = 1 ] && [ \"\$out\" = \"virtserd: $T/bad.xml:3: chardev: mode='listen' is not bind or connect\" ]"
out=$("$B/virtserd" -c "$T/nonexistent.xml" 2>&1)
check "missing config file is named" test "$out" = "virtserd: $T/nonexistent.xml:0: config: No such file or directory"
finish
