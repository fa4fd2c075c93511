#!/bin/bash
# Real QEMU (TCG, no guest: the CPU is never started with -S) backing a
# virtserialport and a virtconsole with chardev sockets.  virtserd must
# connect, survive QEMU being SIGKILLed, and reconnect to its successor;
# its QMP monitor tells the guest state (closed: the guest never runs).
. "$(dirname "$0")/lib.sh"
Q=$(command -v qemu-system-x86_64 || true)
if [ -z "$Q" ]; then
	skip "QEMU reconnect" "qemu-system-x86_64 not installed"
	finish
fi
qemu() {
	"$Q" -accel tcg -M pc -S -nodefaults -display none -monitor none -serial none \
		-chardev socket,id=c0,path="$T/ch.sock",server=on,wait=off \
		-chardev socket,id=c1,path="$T/con.sock",server=on,wait=off \
		-qmp unix:"$T/qmp.sock",server=on,wait=off \
		-device virtio-serial-pci \
		-device virtserialport,chardev=c0,name=org.example.test,id=agent \
		-device virtconsole,chardev=c1,id=console0 2> "$T/qemu.err" &
	QP=$!
	pids="$pids $QP"
	waitfor "[ -S '$T/ch.sock' ] && [ -S '$T/con.sock' ] && [ -S '$T/qmp.sock' ]"
}
qemu
if ! kill -0 $QP 2>/dev/null; then
	skip "QEMU reconnect" "QEMU did not start: $(head -1 "$T/qemu.err")"
	finish
fi
start_daemon <<XML
<vm name='g'>
  <qmp path='$T/qmp.sock'/>
  <channel type='unix' name='org.example.test'>
    <source mode='bind' path='$T/ch.user'/>
    <target type='virtio' name='org.example.test'/>
    <alias name='agent'/>
    <chardev path='$T/ch.sock'><reconnect enabled='yes' timeout-ms='100'/></chardev>
  </channel>
  <console type='pty'>
    <source path='$T/con.pty'/>
    <alias name='console0'/>
    <chardev path='$T/con.sock'><reconnect enabled='yes' timeout-ms='100'/></chardev>
  </console>
</vm>
XML
waitfor "[ \"\$(field g/org.example.test vm_connects)\" = 1 ] && [ \"\$(field g/console0 vm_connects)\" = 1 ]"
check "connected to QEMU's channel and console sockets" \
	eval "ctl list | grep -q '^g/org.example.test .* up ' && ctl list | grep -q '^g/console0 .* up '"
gs() { ctl -j status "$1" | sed -n 's/.*"guest":"\([a-z]*\)".*/\1/p'; }
check "QMP: the guest has not opened the channel (query-chardev: closed)" \
	waitfor "[ \"\$(gs g/org.example.test)\" = closed ]"
check "QMP: a console's state is unknown before its first event" \
	test "$(gs g/console0)" = unknown
kill -9 $QP
wait $QP 2>/dev/null
waitfor "! ctl list | grep -q '^g/org.example.test .* up '"
check "QEMU's death is noticed" eval "! ctl list | grep -q '^g/org.example.test .* up '"
check "daemon survived QEMU's SIGKILL" kill -0 $DPID
check "QMP: unknown while QEMU is gone" waitfor "[ \"\$(gs g/org.example.test)\" = unknown ]"
rm -f "$T/ch.sock" "$T/con.sock" "$T/qmp.sock"
qemu
check "QMP: the restarted QEMU's monitor is found again" \
	waitfor "[ \"\$(gs g/org.example.test)\" = closed ]" 400
waitfor "[ \"\$(field g/org.example.test vm_connects)\" = 2 ] && [ \"\$(field g/console0 vm_connects)\" = 2 ]"
check "reconnected to the restarted QEMU (both ports)" \
	eval "[ \"\$(field g/org.example.test vm_connects)\" = 2 ] && [ \"\$(field g/console0 vm_connects)\" = 2 ]"
# The guest never opened the port (the CPU is stopped), so QEMU does not
# read: the daemon must wait for SIOCOUTQ to drain, up to its deadline.
printf 'pending' > "$T/m"
timeout 10 "$B/tests/vspeer" -c "$T/ch.user" -s "$T/m" -e -T 5 -q 2>/dev/null
waitfor "[ \"\$(field g/org.example.test bytes_to_vm)\" = 7 ]"
check "7 bytes written to QEMU's socket" test "$(field g/org.example.test bytes_to_vm)" = 7
check "daemon exits after its drain deadline" stop_daemon
check "and says QEMU had unread data in the kernel" \
	grep -q "g/org.example.test: QEMU did not read what it was sent before the deadline (0 bytes not written, [1-9][0-9]* queued" "$T/d.err"
kill -9 $QP
finish
