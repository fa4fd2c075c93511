#!/bin/bash
# A port waiting to start (its predecessor of the same id still drains
# after a reload) must go when it is stopped, <log> and all, so that the
# daemon can exit.  The predecessor drains because its QEMU (vspeer -z)
# holds bytes it never reads: the drain lasts up to its 5 s deadline.
. "$(dirname "$0")/lib.sh"
bg "$B/tests/vspeer" -l "$T/q.sock" -z -n 0 -T 60 -q
waitfor "[ -S '$T/q.sock' ]"
body() { # buffer size
	cat <<XML
<vm name='v'>
  <channel type='unix' name='p'>
    <source mode='bind' path='$T/u.sock'/>
    <chardev path='$T/q.sock'/>
    <log file='$T/p.log'/>
    <buffer size='$1'/>
  </channel>
</vm>
XML
}
start_daemon < <(body 65536)
waitfor "[ -S '$T/u.sock' ]"
printf 'pending' > "$T/m"
timeout 10 "$B/tests/vspeer" -c "$T/u.sock" -s "$T/m" -e -T 5 -q 2>/dev/null
waitfor "[ \"\$(field v/p bytes_to_vm)\" = 7 ]"
check "7 bytes sit unread in QEMU's socket" test "$(field v/p bytes_to_vm)" = 7
{ echo "<virtserd><control path='$T/ctl'/>"; body 131072; echo "</virtserd>"; } > "$T/c.xml"
check "reload changes the port" eval "ctl reload | grep -q '^OK'"
waitfor "grep -q 'reloaded .*1 added' '$T/d.err'"
check "the old port drains, the new one waits for it" \
	eval "grep -q 'reloaded .*1 added, 1 removed or changed' '$T/d.err'"
check "SIGTERM ends the daemon, the waiting port with it" stop_daemon
finish
