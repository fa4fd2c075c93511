#!/bin/bash
# Readiness notification (systemd Type=notify): READY=1 only once the
# control socket answers and the ports' listeners are bound, RELOADING=1
# then READY=1 around a reload (a refused one too), STOPPING=1 at SIGTERM;
# to a socket path and to an abstract name; nothing without NOTIFY_SOCKET.
. "$(dirname "$0")/lib.sh"

conf() {
	{ echo "<virtserd><control path='$T/ctl'/><vm name='v'>"
	  echo "<channel type='unix' name='a'><source mode='bind' path='$T/a.sock'/>"
	  echo "<chardev path='$T/qa.sock'><reconnect enabled='yes' timeout-ms='50'/></chardev></channel>"
	  echo "</vm></virtserd>"; } > "$T/c.xml"
}
conf
# Each datagram ends with a newline: one "KEY=VALUE" per line in notes.
bg sh -c "exec socat -u UNIX-RECV:'$T/notify' STDOUT > '$T/notes'"
waitfor "[ -S '$T/notify' ]"
NOTIFY_SOCKET=$T/notify ${VS_WRAP:-} "$B/virtserd" -v -c "$T/c.xml" 2> "$T/d.err" &
DPID=$!
# The moment READY=1 is seen, everything it promises must already hold.
ready=0
for i in $(seq 400); do
	if grep -q 'READY=1' "$T/notes" 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.025
done
sock_then=$([ -S "$T/a.sock" ] && echo yes || echo no)
ctl_then=$(ctl list 2>&1 | grep -c '^v/a ')
check "READY=1 is sent" test $ready = 1
check "a port's listener is bound when READY=1 arrives" test "$sock_then" = yes
check "the control socket answers when READY=1 arrives" test "$ctl_then" = 1
check "READY=1 comes with a STATUS" eval "grep -A1 -x 'READY=1' '$T/notes' | grep -qx 'STATUS=serving'"

kill -HUP $DPID
waitfor "[ \$(grep -cx 'READY=1' '$T/notes') -ge 2 ]"
check "a reload says RELOADING=1, then READY=1" \
	eval "grep -q 'RELOADING=1' '$T/notes' && [ \$(grep -cx 'READY=1' '$T/notes') = 2 ]"
echo "<virtserd><vm name='v'><channel type='unix' name='x'/></vm></virtserd>" > "$T/c.xml"
kill -HUP $DPID
waitfor "[ \$(grep -cx 'READY=1' '$T/notes') -ge 3 ]"
check "a refused reload is READY=1 again, saying so" \
	eval "grep -A1 -x 'READY=1' '$T/notes' | grep -q '^STATUS=reload refused'"
stop_daemon
waitfor "grep -q 'STOPPING=1' '$T/notes'"
check "SIGTERM says STOPPING=1" grep -q 'STOPPING=1' "$T/notes"

# An abstract socket name, as some managers use.
conf
name=virtserd-notify-test-$$
bg sh -c "exec socat -u ABSTRACT-RECV:$name STDOUT > '$T/notes2'"
sleep 0.2
NOTIFY_SOCKET=@$name ${VS_WRAP:-} "$B/virtserd" -v -c "$T/c.xml" 2> "$T/d.err" &
DPID=$!
waitfor "grep -q 'READY=1' '$T/notes2'"
check "READY=1 reaches an abstract NOTIFY_SOCKET" grep -q 'READY=1' "$T/notes2"
stop_daemon

# No manager: the daemon runs as before.
NOTIFY_SOCKET= ${VS_WRAP:-} "$B/virtserd" -v -c "$T/c.xml" 2> "$T/d.err" &
DPID=$!
waitfor "[ -S '$T/ctl' ]"
check "without NOTIFY_SOCKET the daemon starts and answers" eval "ctl list | grep -q '^v/a '"
check "and stops cleanly" stop_daemon
finish
