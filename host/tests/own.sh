#!/bin/bash
# What the daemon may touch: never a socket another process is listening
# on (a libvirt channel copied verbatim names QEMU's own socket as the
# endpoint), never a configuration whose endpoint is a chardev, and one
# daemon per control socket (a second one must leave the first alone).
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer

inode() { stat -c %i "$1" 2>/dev/null; }

# -t: an endpoint on a chardev's path is refused, naming both.
cat > "$T/same.xml" <<XML
<virtserd>
<vm name='web1'>
<channel type='unix' name='agent'>
  <source mode='bind' path='$T/qemu.sock'/>
  <chardev type='unix' path='$T/qemu.sock'/>
</channel>
</vm>
</virtserd>
XML
out=$("$B/virtserd" -t -c "$T/same.xml" 2>&1)
rc=$?
diag "$out"
check "-t refuses an endpoint path that is also a chardev path" \
	eval "[ $rc = 1 ] && echo \"\$out\" | grep -qF \"$T/same.xml:3: channel: <source path='$T/qemu.sock'> is also the <chardev> path of web1/agent\""

# A live listener (here a stand-in for QEMU) at the endpoint's path.
printf 'for-the-real-owner' > "$T/m"
bg "$P" -l "$T/live.sock" -o "$T/live.got" -n 18 -T 30 -q
LP=$LASTPID
waitfor "[ -S '$T/live.sock' ]"
ino=$(inode "$T/live.sock")
start_daemon <<XML
<vm name='web1'>
  <channel type='unix' name='agent'>
    <source mode='bind' path='$T/live.sock'/>
    <chardev path='$T/q.sock'/>
  </channel>
  <channel type='unix' name='other'>
    <source mode='bind' path='$T/other.sock'/>
    <chardev path='$T/q2.sock'/>
  </channel>
</vm>
XML
waitfor "[ -S '$T/other.sock' ]"
waitfor "grep -q 'live.sock' '$T/d.err'"
check "the daemon refused the live socket, naming its path and its owner's pid" \
	grep -qF "web1/agent: $T/live.sock is a socket in use by pid $LP (vspeer); not replacing it" "$T/d.err"
check "the live socket was not replaced" test "$(inode "$T/live.sock")" = "$ino"
check "status reports the endpoint error" \
	eval "ctl -j status web1/agent | grep -q '\"user_error\":\"Address already in use\"'"
timeout 10 "$P" -c "$T/live.sock" -s "$T/m" -n 0 -T 10 -q
wait $LP
check "its owner still gets the connections" test "$(cat "$T/live.got" 2>/dev/null)" = for-the-real-owner

# Single instance: a second daemon on the same configuration.
ino_ctl=$(inode "$T/ctl")
ino_other=$(inode "$T/other.sock")
out=$(timeout -s TERM 10 "$B/virtserd" -c "$T/c.xml" 2>&1)
rc=$?
diag "second daemon: $out"
check "a second daemon on the same control socket refuses to start" \
	eval "[ $rc = 1 ] && echo \"\$out\" | grep -qF 'another virtserd (pid $DPID) holds $T/ctl.lock'"
check "the first daemon's control socket is intact and answers" \
	eval "[ \"\$(inode '$T/ctl')\" = '$ino_ctl' ] && ctl list | grep -q '^web1/other '"
check "the first daemon's endpoint socket is intact" test "$(inode "$T/other.sock")" = "$ino_other"
bg "$P" -l "$T/q2.sock" -o "$T/q2.got" -n 7 -T 20 -q
QP=$LASTPID
printf 'reached' > "$T/r"
timeout 10 "$P" -c "$T/other.sock" -s "$T/r" -n 0 -T 10 -q
wait $QP
check "and still relays" test "$(cat "$T/q2.got" 2>/dev/null)" = reached
check "daemon exits cleanly" stop_daemon
check "the socket it created is removed on exit" test ! -e "$T/other.sock"
finish
