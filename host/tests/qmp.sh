#!/bin/bash
# The guest's open/closed state from QMP, against fakeqmp (a monitor that
# sends what it is told): the first query after connecting, events, a
# device QEMU does not have, junk, a malformed and an over-long message,
# the monitor going away and coming back, the "watch" stream, and the
# hold policy against a fake QEMU chardev (vspeer): bytes written while
# the guest has the port closed stay in the daemon until it opens it.
. "$(dirname "$0")/lib.sh"
P=$B/tests/vspeer
F=$B/tests/fakeqmp
mkfifo "$T/qctl"
fq() { echo "$*" > "$T/qctl"; }
fakeqmp() {	# fakeqmp DEV:LABEL:STATE...
	local a=()
	for d in "$@"; do a+=(-d "$d"); done
	rm -f "$T/qmp.sock"
	bg "$F" -l "$T/qmp.sock" -f "$T/qctl" "${a[@]}" ${fakeqmp_args[@]+"${fakeqmp_args[@]}"} -T 120
	FQ=$LASTPID
	waitfor "[ -S '$T/qmp.sock' ]"
}
fakeqmp agent:chA:closed held:chB:closed con0:chC:open > "$T/fq.out"
bg "$P" -l "$T/held.q" -o "$T/held.got" -n 65636 -T 120 -q
QP=$LASTPID
start_daemon <<XML
<vm name='g'>
  <qmp path='$T/qmp.sock'/>
  <channel type='null' name='agent'>
    <chardev path='$T/agent.q'/>
  </channel>
  <channel type='unix' name='held'>
    <source mode='bind' path='$T/held.user'/>
    <chardev path='$T/held.q'><reconnect enabled='yes' timeout-ms='50'/></chardev>
    <guest closed='hold'/>
  </channel>
  <console type='null' name='c'>
    <alias name='con0'/>
    <chardev path='$T/con.q'/>
  </console>
  <channel type='null' name='nodev'>
    <chardev path='$T/nodev.q'/>
  </channel>
</vm>
<vm name='plain'>
  <channel type='null' name='p'>
    <chardev path='$T/p.q'/>
  </channel>
</vm>
XML
gs() { ctl -j status "$1" | sed -n 's/.*"guest":"\([a-z]*\)".*/\1/p'; }
is() { [ "$(gs "$1")" = "$2" ]; }
bg timeout 100 "$B/virtserctl" -s "$T/ctl" watch > "$T/watch.out"

check "the first query tells a closed port: channel closed" waitfor "is g/agent closed"
check "the hold port is closed too" is g/held closed
check "a console's state is unknown until an event (frontend-open is not the guest's)" \
	is g/c unknown
check "a device QEMU does not have stays unknown, with a warning naming it" \
	eval "is g/nodev unknown && grep -q \"g/nodev: QMP has no device 'nodev'\" '$T/d.err'"
check "virtserd sent capabilities, a qom-get per device and query-chardev" \
	eval "grep -q 'command qmp_capabilities' '$T/fq.out' && \
	      [ \$(grep -c 'command qom-get' '$T/fq.out') = 4 ] && \
	      grep -q 'command query-chardev' '$T/fq.out'"
check "status shows the state in JSON with the QMP connection" \
	eval "ctl -j status g/agent | grep -q '\"guest\":\"closed\",\"guest_changed_ms\":[1-9][0-9]*,\"guest_hold\":false,\"qmp\":\"connected\"'"
check "a port of a VM without QMP has no guest state" \
	eval "! ctl -j status plain/p | grep -q '\"guest\"' && ! ctl status plain/p | grep -q '^guest:'"

fq event agent open
check "VSERPORT_CHANGE open" waitfor "is g/agent open"
check "status text says it" eval "ctl status g/agent | grep -q '^guest:           open (changed 20'"
fq event con0 open
check "the console is named by its <alias> (device id)" waitfor "is g/c open"
fq event agent closed
check "VSERPORT_CHANGE closed" waitfor "is g/agent closed"

fq raw 'this is not json'
fq raw '{"event": "VSERPORT_CHANGE", "data": {"id": "agent", "open": tru}}'
fq long 300000
fq raw '{"event": "VSERPORT_CHANGE", "data": {"id": "agent", "open": "yes"}}'
fq event agent open
check "after junk, a malformed, an over-long and a non-boolean message: still following" \
	waitfor "is g/agent open"
check "junk was reported" grep -q "bytes outside any JSON object; skipped" "$T/d.err"
check "the malformed message was reported" grep -q "a malformed message of 66 bytes; skipped" "$T/d.err"
check "the over-long message was reported" grep -q "a message longer than 262144 bytes; skipped" "$T/d.err"

# Hold: the guest has "held" closed.  What the user sends stays in the
# daemon's ring ("buffered_to_vm"), none of it goes to QEMU's socket.
waitfor "[ \"\$(field g/held vm_connects)\" = 1 ]"
rand "$T/data" 65536
timeout 10 "$P" -c "$T/held.user" -s "$T/data" -e -T 5 -q
check "held while closed: 65536 buffered in the daemon" \
	waitfor "[ \"\$(field g/held buffered_to_vm)\" = 65536 ]"
check "and nothing written to QEMU" test "$(field g/held bytes_to_vm)" = 0
fq event held open
check "the guest opens the port: all of it goes to QEMU" \
	waitfor "[ \"\$(field g/held bytes_to_vm)\" = 65536 ]"
check "the fake QEMU got every byte (sha256)" \
	eval "waitfor \"[ \\\"\\\$(stat -c %s '$T/held.got' 2>/dev/null)\\\" = 65536 ]\" && \
	      [ \"\$(head -c 65536 '$T/held.got' | sha)\" = \"\$(sha '$T/data')\" ]"

# The monitor goes away: every state is unknown, and a hold port holds.
fq drop
check "monitor hung up: states unknown" waitfor "is g/held unknown && is g/agent unknown"
head -c 100 /dev/urandom > "$T/d2"
timeout 10 "$P" -c "$T/held.user" -s "$T/d2" -e -T 5 -q
check "held while unknown" waitfor "[ \"\$(field g/held buffered_to_vm)\" = 100 ]"
check "reconnected to the monitor" waitfor "grep -q 'connected 2' '$T/fq.out'" 200
check "after the reconnect, the state is asked again: open" waitfor "is g/held open"
check "and the held bytes went out" waitfor "[ \"\$(field g/held bytes_to_vm)\" = 65636 ]"
wait $QP
check "fake QEMU got all 65636 bytes in order" \
	eval "[ \"\$(sha '$T/held.got')\" = \"\$(cat '$T/data' '$T/d2' | sha)\" ]"

# QEMU restarts: a new monitor on the same path.
fq quit
wait $FQ
fakeqmp agent:chA:open held:chB:closed con0:chC:open > "$T/fq2.out"
check "a new monitor on the same path is found" waitfor "is g/agent open && is g/held closed" 200

# The watcher may have connected before or after the first query.
check "watch: OK first, then the state of each port of a VM with QMP" \
	eval "head -1 '$T/watch.out' | grep -q '^OK watching' && \
	      [ \"\$(sed -n 2,5p '$T/watch.out' | grep -E '^port g/[a-z]+ guest (open|closed|unknown) [0-9]+$' | \
		 cut -d' ' -f2 | sort | tr '\n' ' ')\" = 'g/agent g/c g/held g/nodev ' ]"
check "watch: every change, in order" \
	eval "grep -o 'port g/agent guest [a-z]*' '$T/watch.out' | cut -d' ' -f4 | tr '\n' ' ' | \
	      grep -q 'open closed open unknown open unknown open \$'"
# Reload: without <qmp> (and so without the hold) the ports have no guest
# state and the monitor is let go; with it again, it is followed again.
cp "$T/c.xml" "$T/c.orig"
sed -e "s|<qmp path='$T/qmp.sock'/>||" -e "s|<guest closed='hold'/>||" "$T/c.orig" > "$T/c.xml"
check "reload without <qmp>" eval "ctl reload | grep -q '^OK'"
check "the ports have no guest state" eval "! ctl -j status g/agent | grep -q '\"guest\"'"
check "the monitor connection is closed" waitfor "grep -q 'client left' '$T/fq2.out'"
cp "$T/c.orig" "$T/c.xml"
check "reload with <qmp> again" eval "ctl reload | grep -q '^OK'"
check "the monitor is followed again" \
	waitfor "grep -q 'connected 2' '$T/fq2.out' && is g/agent open && is g/held closed"

# A monitor that another client holds: QEMU leaves our connection in its
# listen queue, ungreeted, until that client leaves.  The daemon says so
# and waits; when the monitor greets, the state follows.
fq quit
wait $FQ
rm -f "$T/free"
fakeqmp_args=(-w "$T/free")
fakeqmp agent:chA:closed held:chB:closed con0:chC:open > "$T/fq3.out"
fakeqmp_args=()
check "connected without a greeting: the daemon says another client may hold the monitor" \
	waitfor "grep -q 'QMP $T/qmp.sock: connected, but no greeting after 5000 ms' '$T/d.err'" 400
check "meanwhile the states are unknown" eval "is g/agent unknown && is g/held unknown"
touch "$T/free"
check "once the monitor greets, the state follows" waitfor "is g/agent closed" 200

# Watchers that leave: one hangs up at once, one after reading the
# states; the daemon frees each once and goes on serving.
for i in 1 2 3; do
	timeout 5 "$B/virtserctl" -s "$T/ctl" watch < /dev/null | head -c 1 > /dev/null
	printf 'watch\n' | timeout 5 socat -u - UNIX-CONNECT:"$T/ctl" 2>/dev/null
done
fq event agent closed
check "after watchers hung up, the daemon still follows and answers" waitfor "is g/agent closed"
check "daemon exits cleanly" stop_daemon
fq quit
finish
