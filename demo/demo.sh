#!/bin/bash
# demo.sh [--interactive] [--kernel 6.1|6.12] [--build DIR]
#
# The main job: a guest under QEMU with virtser.ko (the in-tree driver kept
# out), udev running, and three ports - the console, a data channel and an
# agent channel - which virtserd backs with a telnet listener on loopback,
# a pty and a size-capped log file.  A short scripted session shows the
# system working; every step is checked, and the script exits 0 only if
# all of them passed.  --interactive then leaves you at the guest console
# through the daemon (virtserctl attach) and shuts down when you detach.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=6.1
build=$top/build
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--interactive) interactive=1; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	*) echo "demo: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

run=$(mktemp -d /tmp/virtser-demo.XXXXXX)
qemu_pid= daemon_pid= steps=0 failed=0
bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)

# QEMU and virtserd end with the demo, whatever ends it: SIGTERM, then
# SIGKILL for whatever is still there after 10 s.
stop() {	# stop PID...
	local p i alive
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 50); do
		alive=0
		for p; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || break
		sleep 0.2
	done
	kill -KILL "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}
cleanup() {
	stop $qemu_pid $daemon_pid
	if [ $failed = 0 ]; then rm -rf "$run"; else echo "demo: logs kept in $run" >&2; fi
}
trap cleanup EXIT
trap 'failed=$((failed + 1)); exit 129' HUP
trap 'failed=$((failed + 1)); exit 130' INT
trap 'failed=$((failed + 1)); exit 143' TERM

step() { steps=$((steps + 1)); printf '\n%s[%d] %s%s\n' "$bold" "$steps" "$*" "$off"; }
pass() { echo "    ok: $*"; }
fail() { echo "    FAILED: $*"; failed=$((failed + 1)); }
# Wait up to $1 seconds for a command to succeed, printing dots meanwhile.
waitfor() {
	local t=$1 i=0
	shift
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $((t * 5)) ] && { echo; return 1; }
		[ $((i % 10)) = 0 ] && printf '.'
		sleep 0.2
	done
	[ $i -ge 10 ] && echo
	return 0
}
qmp() {
	printf '%s\n' '{"execute":"qmp_capabilities"}' "$1" |
		socat -t 3 - "UNIX-CONNECT:$run/qmp.sock" | tail -n 1
}
ctl() { "$build/host/virtserctl" -s "$run/control" "$@"; }
in_console() { grep -qaF -- "$1" "$run/console.log"; }

step "Building virtser.ko for $kernel, virtserd and a guest image"
read -r kver img hdr < <(sh "$top/scripts/kernel-paths.sh" "$kernel") || exit 1
if make -s -C "$top" userspace module-"$kernel" B="$build" > "$run/build.log" 2>&1 &&
   make -s -C "$top/selftests" B="$build" >> "$run/build.log" 2>&1 &&
   sh "$top/selftests/vm/mkinitramfs.sh" "$kver" ours "$run/initramfs.gz" "$build" "" \
	"$top/demo/guest-init" >> "$run/build.log" 2>&1; then
	pass "$build/kmod/$kernel/virtser.ko, $build/host/virtserd, guest $kver"
else
	fail "build (see $run/build.log)"; tail -n 20 "$run/build.log"; exit 1
fi

step "Starting virtserd from demo/virtserd-demo.xml.in"
# The telnet console's port: 4555 is below the kernel's ephemeral range,
# so no connect() on this machine is handed it as a source port; if
# something listens there already (another program, another make demo),
# the daemon says EADDRINUSE in its status and we start it again on the
# next port.  Probing first and starting afterwards would leave a window.
ctl_status() { "$build/host/virtserctl" -s "$run/control" -j status demo/console 2>/dev/null; }
console_bound() { ctl_status | grep -q '"user_address"'; }
console_settled() { ctl_status | grep -q '"user_address"\|"user_error":"Address already in use"'; }
telnet=4555
for try in 1 2 3 4 5 6 7 8 9 10; do
	sed -e "s|@RUN@|$run|g; s|@TELNET@|$telnet|g; s|@HOTPLUG@||" \
		"$top/demo/virtserd-demo.xml.in" > "$run/virtserd.xml"
	"$build/host/virtserd" -c "$run/virtserd.xml" > "$run/virtserd.log" 2>&1 &
	daemon_pid=$!
	waitfor 10 test -S "$run/control" && waitfor 10 console_settled
	console_bound && break
	echo "    (127.0.0.1:$telnet is in use; trying the next port)"
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	telnet=$((telnet + 1))
done
if [ -n "$daemon_pid" ] && console_bound; then
	pass "control socket $run/control, console on telnet 127.0.0.1:$telnet"
else
	fail "virtserd did not start:"; cat "$run/virtserd.log"; exit 1
fi

step "Booting the guest under QEMU (console, data and agent ports)"
mapfile -t accel < <(bash "$top/selftests/vm/accel.sh" "$build")
[ ${#accel[@]} -gt 0 ] || { fail "no accelerator (selftests/vm/accel.sh failed)"; exit 1; }
append="console=ttyS0,115200 panic=-1"
grep -q '^CONFIG_VIRTIO_CONSOLE=y' "/boot/config-$kver" &&
	append="$append initcall_blacklist=virtio_console_init"
"${QEMU:-qemu-system-x86_64}" "${accel[@]}" -m 512 -smp 2 -nodefaults -display none -no-reboot \
	-kernel "$img" -initrd "$run/initramfs.gz" -append "$append" \
	-serial "file:$run/kernel.log" -qmp "unix:$run/qmp.sock,server=on,wait=off" \
	-device virtio-serial-pci,id=vser0 \
	-chardev "socket,id=con,path=$run/qemu-console.sock,server=on,wait=off" \
	-device virtconsole,bus=vser0.0,nr=0,chardev=con,name=org.virtser.demo.console \
	-chardev "socket,id=data,path=$run/qemu-data.sock,server=on,wait=off" \
	-device virtserialport,bus=vser0.0,nr=1,chardev=data,name=org.virtser.demo.data \
	-chardev "socket,id=agent,path=$run/qemu-agent.sock,server=on,wait=off" \
	-device virtserialport,bus=vser0.0,nr=2,chardev=agent,name=org.virtser.demo.agent.0 \
	> "$run/qemu.log" 2>&1 &
qemu_pid=$!
# Up, or QEMU gone (then there is nothing to wait for).
up_or_dead() { in_console "is up, driver" || ! kill -0 "$qemu_pid" 2>/dev/null; }
if waitfor 120 up_or_dead && in_console "is up, driver"; then
	pass "$(grep -a 'is up, driver' "$run/console.log" | tr -d '\r' | sed 's/^== //')"
elif ! kill -0 "$qemu_pid" 2>/dev/null; then
	fail "QEMU exited at start:"; tail -n 20 "$run/qemu.log"; exit 1
else
	fail "the guest did not come up (see $run/kernel.log)"; tail -n 20 "$run/kernel.log"; exit 1
fi

step "The port links udev made in the guest (seen on the guest console)"
waitfor 10 in_console "org.virtser.demo.data" || true
sed -n '/== ls -l/,/^$/p' "$run/console.log" | tr -d '\r' | grep -a 'virtio-port\|->' | sed 's/^/    /'
if in_console "virtio-ports/:" && in_console "virtio-port/:" &&
   in_console "org.virtser.demo.data -> ../vport" && in_console "org.virtser.demo.agent.0 -> ../vport"; then
	pass "/dev/virtio-ports/<name> and /dev/virtio-port/<name> for every named port"
else
	fail "links missing"
fi

step "A line from the host to a guest program on the data channel, and its reply"
if waitfor 10 test -e "$run/data.pty"; then
	stty -F "$run/data.pty" raw -echo 2>/dev/null
	exec 5<>"$run/data.pty"
	line="hello from $(hostname) at $(date +%T)"
	echo "    host -> pty $(readlink "$run/data.pty"): '$line'"
	echo "$line" >&5
	if read -r -t 30 reply <&5; then
		reply=${reply%$'\r'}
		echo "    guest -> host: $reply"
		case "$reply" in *"read: '$line'"*) pass "round trip through virtserd and virtser.ko" ;;
		*) fail "unexpected reply" ;; esac
	else
		fail "no reply within 30 s"
	fi
else
	fail "no pty at $run/data.pty"
fi

step "The agent channel, logged to a size-capped file"
if waitfor 15 grep -q 'heartbeat 3' "$run/agent.log"; then
	tail -n 3 "$run/agent.log" | sed 's/^/    /'
	pass "$run/agent.log (max-size 64K, 2 backups)"
else
	fail "no heartbeats in $run/agent.log"
fi

step "Hot-plugging a port: QMP device_add, then virtserctl reload"
r1=$(qmp "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"hot\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"$run/qemu-hot.sock\"}},\"server\":true,\"wait\":false}}}}")
r2=$(qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser0.0","nr":3,"chardev":"hot","name":"org.virtser.demo.hotplug","id":"hot"}}')
hot="    <channel type='unix' name='hotplug'>
      <source mode='bind' path='$run/hotplug.sock'/>
      <target type='virtio' name='org.virtser.demo.hotplug'/>
      <chardev type='unix' path='$run/qemu-hot.sock'><reconnect enabled='yes' timeout='1'/></chardev>
    </channel>"
awk -v hot="$hot" '{ if ($0 == "@HOTPLUG@") print hot; else print }' \
	"$top/demo/virtserd-demo.xml.in" | sed -e "s|@RUN@|$run|g; s|@TELNET@|$telnet|g" > "$run/virtserd.xml"
r3=$(ctl reload 2>&1)
echo "    qmp: ${r1:0:60} ${r2:0:60}"
echo "    virtserctl reload: $r3"
if waitfor 30 in_console "a port was hot-plugged"; then
	sed -n '/a port was hot-plugged/,$p' "$run/console.log" | tr -d '\r' | grep -a -- '->' | sed 's/^/    /'
	got=$(timeout 10 socat -u "UNIX-CONNECT:$run/hotplug.sock" - 2>/dev/null | head -n 1)
	echo "    host read from $run/hotplug.sock: '$got'"
	[ "$got" = "hello from the hot-plugged port" ] && pass "the new port works end to end" ||
		fail "nothing came through the hot-plugged port"
else
	fail "the guest did not see the new port"
fi

step "virtserctl list: both sides of every port, bytes each way"
if ctl list > "$run/list.txt" 2>&1; then
	sed 's/^/    /' "$run/list.txt"
	grep -q 'agent' "$run/list.txt" && pass "status from the control socket" || fail "ports missing"
else
	fail "virtserctl list: $(cat "$run/list.txt")"
fi

step "The console over telnet (what a person attaching sees first)"
seen=$(timeout 5 socat -u "TCP:127.0.0.1:$telnet" - 2>/dev/null | tr -d '\r' | tr -c '[:print:]\n' ' ')
if grep -q 'login:' <<< "$seen"; then
	grep 'login:' <<< "$seen" | tail -n 1 | sed 's/^ */    /'
	pass "telnet 127.0.0.1 $telnet  (replays the last 16 KiB on attach)"
else
	fail "no login prompt on the telnet console"
fi
echo "    attach yourself with:  $build/host/virtserctl -s $run/control attach demo/console"

if [ $interactive = 1 ] && [ $failed = 0 ]; then
	step "Interactive: you are at the guest console (log in as root; ^] detaches)"
	ctl attach demo/console
fi

step "Shutting down: the guest powers off on request, then the daemon stops"
echo poweroff >&5 2>/dev/null
if waitfor 60 bash -c "! kill -0 $qemu_pid"; then
	wait "$qemu_pid" 2>/dev/null
	qemu_pid=
	pass "guest powered off"
else
	fail "guest still running"
fi
kill -TERM "$daemon_pid"
if waitfor 10 bash -c "! kill -0 $daemon_pid"; then
	wait "$daemon_pid"; st=$?
	daemon_pid=
	[ $st = 0 ] && pass "virtserd exited cleanly" || fail "virtserd exited with status $st"
else
	fail "virtserd did not stop"
fi
if grep -qE 'WARNING:|BUG:|Oops|Kernel panic' "$run/kernel.log"; then
	fail "the guest kernel log has a splat:"; grep -E 'WARNING:|BUG:|Oops' "$run/kernel.log" | head
fi

echo
if [ $failed = 0 ]; then
	echo "${bold}demo: all $steps steps verified${off}"
	exit 0
fi
echo "${bold}demo: $failed step(s) failed${off}"
exit 1
