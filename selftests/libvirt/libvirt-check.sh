#!/bin/bash
# libvirt-check.sh [--build DIR] [--kernel 6.1|6.12]  (make libvirt-check)
#
# virtserd behind a real libvirtd.  As root: installs libvirt's packages when
# missing, starts its own virtlogd and libvirtd, defines the TCG domain of
# selftests/libvirt/domain.xml.in (direct kernel boot of the Debian guest
# kernel, the rig's initramfs with virtser.ko and lvguest) whose virtio
# channel, virtconsole and ISA serial port virtserd backs with the
# configuration of selftests/libvirt/virtserd.xml.in, and checks through
# virtserd's endpoints: data both ways on each port (SHA-256), the udev link
# in the guest, virsh destroy + virsh start with virtserd reconnecting and
# what was sent while the domain was down delivered to the new guest, and
# virsh shutdown leaving no socket behind.  Then the same with the domain
# as the configuration (virtserd-domain.xml.in: no port listed, virtserd
# reads the domain from libvirt): the ports made from the shut-off domain,
# data both ways, the guest's open/close state from libvirt, libvirtd
# restarted under virtserd, virsh destroy + start followed without a
# reload, and virsh undefine releasing the ports.  Prints TAP and ends with
# "N passed, M failed".  Logs are kept in BUILD/libvirt/.
#
# Environment: LV_TIMEOUT (seconds of silence an exchange with the guest
# may take, default 300: a bound, not a measure), LV_DATA_SIZE,
# LV_SERIAL_SIZE, LV_HELD_SIZE (bytes moved; see below).
#
# The private libvirt: virtlogd and libvirtd run in a mount namespace of
# their own (unshare -m --propagation private) where the test's directories
# are bind-mounted over /run, /var and /etc/libvirt, and over /etc/passwd
# and /etc/group copies that add the libvirt-qemu user (libvirt 9.0
# resolves it before reading qemu.conf, whose user = "root" then wins).  So
# their sockets, pid files, domain definitions, capability cache and logs
# are the test's, the host's /run/libvirt, /var/lib/libvirt and /etc/libvirt
# are never written (checked at the end), and a system libvirtd, if any,
# is not seen at all.  virsh connects from outside through
# qemu:///system?socket=RUN/ns/run/libvirt/libvirt-sock.  The domain's
# sockets live in RUN, outside the bind mounts, so QEMU (inside) and
# virtserd (outside) see the same paths.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/selftests/libvirt
build=$top/build
kernel=6.1
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	*) echo "libvirt-check: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
mkdir -p "$build" && build=$(cd "$build" && pwd)

# Transfer sizes per port.  The ISA UART moves 16 bytes per interrupt, so it
# gets less; the held size stays below virtserd's 1 MiB per-port buffer.
DATA_SIZE=${LV_DATA_SIZE:-4194304}
SERIAL_SIZE=${LV_SERIAL_SIZE:-1048576}
HELD_SIZE=${LV_HELD_SIZE:-524288}

pass=0 fail=0
t_ok() { pass=$((pass + 1)); echo "ok - $1"; }
t_fail() { fail=$((fail + 1)); echo "not ok - $1"; }
check() {	# check DESCRIPTION COMMAND...; returns the command's verdict
	local d=$1
	shift
	if "$@"; then t_ok "$d"; else t_fail "$d"; return 1; fi
}
summary() { echo "$pass passed, $fail failed"; }
quiet() { "$@" > /dev/null; }
# Wait up to $1 seconds for a command to succeed: an upper bound, no more.
waitfor() {
	local t=$1 i=0
	shift
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $((t * 5)) ] && return 1
		sleep 0.2
	done
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP libvirt-check needs root (a private libvirtd in a mount namespace)"
	exit 77
fi

# libvirt-dev: virtserd is built with libvirt for the domain-as-config part.
pkgs="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "# installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
check "libvirt installed ($(dpkg-query -W -f='${Version}' libvirt-daemon 2>/dev/null))" \
	quiet command -v libvirtd virtlogd virsh

# Short: unix socket paths must fit in 108 bytes.
run=$(mktemp -d /tmp/virtser-lv.XXXXXX)
ns=$run/ns
logs=$build/libvirt
name=virtser-lv
uri="qemu:///system?socket=$ns/run/libvirt/libvirt-sock"
virtlogd_pid= libvirtd_pid= vs_pid= held_pid=
mkdir -p "$logs"
rm -f "$logs"/*

virsh() { timeout 120 virsh -q -c "$uri" "$@"; }
ctl() { "$build/host/virtserctl" -s "$run/virtserd.control" "$@"; }
# A field of a port's JSON status ("virtserctl status VM/PORT json").  In
# the domain-as-config part the ports have the domain's names (portid).
declare -A portid=()
field() {
	ctl -j status "$name/${portid[$1]:-$1}" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
host() { LV_TIMEOUT=${LV_TIMEOUT:-300} python3 "$here/lvhost.py" "$@"; }

# What the host's own libvirt directories hold, to show they were not touched.
host_state() {
	find /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt \
		-printf '%p %s %T@ %m\n' 2>/dev/null | sort
}
host_state > "$run/host-before.txt"

stop_pid() {	# stop_pid PID: SIGTERM, then SIGKILL after 30 s; our own child
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && { echo "# pid $pid ignored SIGTERM: SIGKILL"; kill -KILL "$pid"; }
	wait "$pid" 2>/dev/null
}

cleanup() {
	local qpid
	[ -n "$held_pid" ] && kill "$held_pid" 2>/dev/null
	if [ -n "$libvirtd_pid" ] && kill -0 "$libvirtd_pid" 2>/dev/null; then
		[ "$(virsh domstate "$name" 2>/dev/null)" = running ] && virsh destroy "$name" >/dev/null 2>&1
	fi
	# QEMU outlives a libvirtd that died: its pid file is in our /run.
	qpid=$(cat "$ns/run/libvirt/qemu/$name.pid" 2>/dev/null)
	if [ -n "$qpid" ] && [ -r "/proc/$qpid/cmdline" ] &&
	   tr '\0' ' ' < "/proc/$qpid/cmdline" | grep -q "guest=$name"; then
		echo "# QEMU $qpid still running at exit: killed"
		kill -KILL "$qpid"
	fi
	[ -n "$vs_pid" ] && stop_pid "$vs_pid"
	[ -n "$libvirtd_pid" ] && stop_pid "$libvirtd_pid"
	[ -n "$virtlogd_pid" ] && stop_pid "$virtlogd_pid"
	wait 2>/dev/null
	cp -f "$run"/*.log "$run"/*.xml "$run"/*.txt "$logs"/ 2>/dev/null
	cp -f "$ns"/var/log/libvirt/*.log "$logs"/ 2>/dev/null
	cp -f "$ns/var/log/libvirt/qemu/$name.log" "$logs/qemu.log" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The pieces: virtserd, virtser.ko, lvguest, and an initramfs whose init is
# selftests/libvirt/guest-init, with the ACPI button for virsh shutdown.
read -r kver img hdr < <(sh "$top/scripts/kernel-paths.sh" "$kernel") || { summary; exit 1; }
if make -s -C "$top" userspace module-"$kernel" B="$build" > "$run/build.log" 2>&1 &&
   make -s -C "$top/selftests" B="$build" >> "$run/build.log" 2>&1 &&
   sh "$top/selftests/vm/mkinitramfs.sh" "$kernel" ours "$run/initramfs.gz" "$build" "" \
	"$here/guest-init" "button evdev" >> "$run/build.log" 2>&1; then
	t_ok "built virtserd, virtser.ko for $kver, lvguest and the initramfs"
else
	tail -n 20 "$run/build.log" | sed 's/^/# /'
	t_fail "build (see $logs/build.log)"; summary; exit 1
fi

# Our own libvirt, in its own mount namespace (see the top of this file).
mkdir -p "$ns/run/libvirt" "$ns/run/lock" "$ns/var/lib/libvirt/qemu" "$ns/var/log/libvirt/qemu" \
	"$ns/var/cache/libvirt" "$ns/var/tmp" "$ns/etc" "$run/qemu"
ln -s /run "$ns/var/run"
ln -s /run/lock "$ns/var/lock"
cat > "$ns/etc/libvirtd.conf" <<'EOF'
# make libvirt-check's libvirtd: root only, on its private socket.
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
cat > "$ns/etc/qemu.conf" <<'EOF'
# make libvirt-check's QEMU driver: QEMU runs as root with no security
# driver and no cgroups (the host's cgroup tree is not the test's).
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
EOF
cat > "$ns/etc/virtlogd.conf" <<'EOF'
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
cp /etc/passwd "$ns/passwd"
cp /etc/group "$ns/group"
getent passwd libvirt-qemu >/dev/null ||
	echo 'libvirt-qemu:x:64055:64055:libvirt-check:/var/lib/libvirt:/usr/sbin/nologin' >> "$ns/passwd"
getent group libvirt-qemu >/dev/null || echo 'libvirt-qemu:x:64055:' >> "$ns/group"
# virtlogd holds the namespace; libvirtd joins it with nsenter.  Both are
# children of this script, so they are waited for.
unshare -m --propagation private sh -c '
	set -e
	ns=$1
	mount --bind "$ns/run" /run
	mount --bind "$ns/var" /var
	mount --bind "$ns/etc" /etc/libvirt
	mount --bind "$ns/passwd" /etc/passwd
	mount --bind "$ns/group" /etc/group
	exec virtlogd' sh "$ns" > "$run/virtlogd.out.log" 2>&1 &
virtlogd_pid=$!
if waitfor 30 test -S "$ns/run/libvirt/virtlogd-sock"; then
	nsenter --mount="/proc/$virtlogd_pid/ns/mnt" libvirtd > "$run/libvirtd.out.log" 2>&1 &
	libvirtd_pid=$!
fi
if [ -n "$libvirtd_pid" ] && waitfor 60 test -S "$ns/run/libvirt/libvirt-sock" &&
   waitfor 60 virsh version > "$run/virsh-version.txt"; then
	t_ok "own virtlogd ($virtlogd_pid) and libvirtd ($libvirtd_pid), $(grep hypervisor "$run/virsh-version.txt")"
else
	cat "$run"/*.out.log "$ns"/var/log/libvirt/*.log 2>/dev/null | tail -n 20 | sed 's/^/# /'
	t_fail "start virtlogd and libvirtd"; summary; exit 1
fi

# The domain, from the file the documentation quotes.
# sysrq_always_enabled: diag() asks the guest for its task list.
append="console=ttyS0,115200 panic=-1 sysrq_always_enabled"
kconfig=/boot/config-$kver
[ -f "$kconfig" ] || kconfig=$hdr/.config
grep -q '^CONFIG_VIRTIO_CONSOLE=y' "$kconfig" && append="$append initcall_blacklist=virtio_console_init"
fill() {
	sed -e "s|@RUN@|$run|g; s|@NAME@|$name|g; s|@KERNEL@|$img|g; s|@URI@|$uri|g" \
	    -e "s|@INITRD@|$run/initramfs.gz|g; s|@CMDLINE@|$append|g" "$1"
}
fill "$here/domain.xml.in" > "$run/domain.xml"
fill "$here/virtserd.xml.in" > "$run/virtserd.xml"
check "virsh define selftests/libvirt/domain.xml.in" quiet virsh define "$run/domain.xml"
check "Documentation/virtserd.rst quotes domain.xml.in and virtserd.xml.in verbatim" \
	python3 "$here/lvhost.py" docs "$top/Documentation/virtserd.rst" "$top"

"$build/host/virtserd" -c "$run/virtserd.xml" > "$run/virtserd.log" 2>&1 &
vs_pid=$!
if waitfor 10 test -S "$run/virtserd.control" && waitfor 10 test -S "$run/data.sock"; then
	t_ok "virtserd started from selftests/libvirt/virtserd.xml.in"
else
	sed 's/^/# /' "$run/virtserd.log"
	t_fail "virtserd did not start"; summary; exit 1
fi

ports="data console serial1"
declare -A size=([data]=$DATA_SIZE [console]=$DATA_SIZE [serial1]=$SERIAL_SIZE)
declare -A what=([data]="virtio channel" [console]="virtconsole" [serial1]="ISA serial port")
# Guest-to-host request size: QEMU drops virtconsole output that its
# chardev socket cannot take at once, so the console's is paced in pieces
# that fit in it (a 4 MiB burst lost 1.7 MiB there in a trial).
declare -A chunk=([data]=$DATA_SIZE [console]=65536 [serial1]=$SERIAL_SIZE)

# Every port: READY from the guest program on it, from a boot other than
# $1 (when given).
guest_up() {
	local p out
	for p in $ports; do
		if out=$(host ready "$run/$p.sock" "$p" ${1:+"$1"}); then
			grep '^#' <<< "$out"
			boot=$(sed -n 's/^boot //p' <<< "$out")
			t_ok "$p (${what[$p]}): the guest program answers through virtserd"
		else
			grep '^#' <<< "$out"
			t_fail "$p (${what[$p]}): no READY from the guest through virtserd"
		fi
	done
}
# After a failed exchange: what virtserd and QEMU hold.  A virtio port's
# receive queue with no available buffer (avail == used) means the guest
# kept every buffer QEMU filled, i.e. the guest side stopped consuming.
diag() {
	local q
	ctl list | sed 's/^/# /'
	# Alt-SysRq-T on the domain's keyboard: every guest task's state and
	# stack go to the kernel log (build/libvirt/kernel.log).
	virsh send-key "$name" KEY_LEFTALT KEY_SYSRQ KEY_T > /dev/null 2>&1 &&
		echo "# guest task states asked for (SysRq-T): see kernel.log"
	for q in 0 4; do	# port 0 (the console) and port 1 (the channel), host -> guest
		virsh qemu-monitor-command "$name" "{\"execute\":\"x-query-virtio-queue-status\",
			\"arguments\":{\"path\":\"/machine/peripheral/virtio-serial0/virtio-backend\",
			\"queue\":$q}}" 2>&1 | python3 -c 'import json, sys
r = json.load(sys.stdin).get("return", {})
print("# virtqueue %s: avail %s, last avail %s, used %s" % (r.get("queue-index"),
      r.get("shadow-avail-idx"), r.get("last-avail-idx"), r.get("used-idx")))'
	done
}
# Data both ways on every port; $1 is a seed, $2 divides the sizes.
both_ways() {
	local p n
	for p in $ports; do
		n=$((${size[$p]} / $2))
		check "$p: $n bytes host -> guest, SHA-256 equal" host put "$run/$p.sock" $n || diag
		check "$p: $n bytes guest -> host, SHA-256 equal" \
			host get "$run/$p.sock" $n $(($1 + n)) ${chunk[$p]} || diag
	done
}
vm_state_is() {	# vm_state_is STATE PORT...
	local s=$1 p
	shift
	for p in "$@"; do [ "$(field "$p" vm_state)" = "$s" ] || return 1; done
}
vm_state_not() {
	local s=$1 p
	shift
	for p in "$@"; do [ "$(field "$p" vm_state)" != "$s" ] || return 1; done
}
reconnected() {
	local p
	for p in $ports; do
		[ "$(field "$p" vm_state)" = up ] && [ "$(field "$p" vm_connects)" = 2 ] || return 1
	done
}
# The guest's open/close state of the data channel in libvirt's live XML
# (QEMU's VSERPORT_CHANGE, which libvirt turns into <target state=...>).
chan_state() {
	virsh dumpxml "$name" | grep -q "name='org.virtser.libvirt.data' state='$1'"
}
# The guest's init keeps the data channel closed until START: libvirt must
# show it closed, then open once lvguest opened it.  $1 is the boot number.
open_data() {
	check "libvirt, boot $1: the guest has the data channel closed (state='disconnected')" \
		waitfor 30 chan_state disconnected
	check "console: START data (the guest opens the data channel)" \
		host start "$run/console.sock" data
	[ "$1" = 1 ] && ports=data guest_up
	check "libvirt, boot $1: the guest opened the data channel (state='connected')" \
		waitfor 60 chan_state connected
}
domstate() { [ "$(virsh domstate "$name" 2>/dev/null)" = "$1" ]; }
no_qemu_sockets() {
	local s left=
	for s in "$run"/qemu/*; do [ -e "$s" ] && left="$left $s"; done
	[ -z "$left" ] || { echo "# left behind:$left"; return 1; }
}
# Both boots' kernel logs (append='on'), up to a task dump diag() asked for.
splat_free() {
	[ "$(grep -ac 'Linux version' "$run/kernel.log")" = 2 ] || { echo "# not two boots in kernel.log"; return 1; }
	! sed '/sysrq: Show State/,$d' "$run/kernel.log" | grep -aE 'WARNING:|BUG:|Oops|Kernel panic|Call Trace'
}

check "virsh start $name" quiet virsh start "$name"
boot=
ports="console serial1" guest_up
first_boot=$boot
open_data 1
check "udev in the guest: /dev/virtio-ports/org.virtser.libvirt.data" \
	host links "$run/data.sock" org.virtser.libvirt.data
check "virtserd: every port's VM side is up" waitfor 30 vm_state_is up $ports
both_ways 1000 1

# Destroy, send while the domain is down, start: nothing QEMU never read
# may be lost, and virtserd must find the new QEMU by itself.
check "virsh destroy" quiet virsh destroy "$name"
check "the domain is shut off" waitfor 60 domstate "shut off"
check "virtserd: every port's VM side left 'up'" waitfor 30 vm_state_not up $ports
check "no QEMU socket left in $run/qemu after virsh destroy" no_qemu_sockets
host held "$run/data.sock" "$HELD_SIZE" data "$first_boot" > "$run/held.txt" 2>&1 &
held_pid=$!
if waitfor 120 grep -q '^# sent' "$run/held.txt" &&
   waitfor 30 test "$(field data buffered_to_vm)" -ge "$HELD_SIZE"; then
	t_ok "data: $HELD_SIZE bytes sent while the domain is down, held by virtserd ($(field data buffered_to_vm) buffered)"
else
	sed 's/^/# /' "$run/held.txt"
	t_fail "data: $HELD_SIZE bytes sent while the domain is down are held by virtserd"
fi
check "virsh start after destroy" quiet virsh start "$name"
ports="console serial1" guest_up "$first_boot"
open_data 2
wait "$held_pid"
st=$?
held_pid=
grep '^#' "$run/held.txt"
check "data: what was sent while the domain was down reached the new guest, SHA-256 equal" test $st = 0
check "virtserd reconnected each port to the new QEMU (vm_connects 2, state up)" \
	waitfor 30 reconnected
both_ways 2000 4

# A clean shutdown through ACPI: the guest's lvguest --power powers off.
check "virsh shutdown" quiet virsh shutdown "$name"
check "the domain shut itself off" waitfor 180 domstate "shut off"
check "no QEMU socket left in $run/qemu after shutdown" no_qemu_sockets
check "virtserd: every port's VM side left 'up' after shutdown" waitfor 30 vm_state_not up $ports
check "the guest kernel log of both boots has no splat" splat_free

kill -TERM "$vs_pid"
if waitfor 30 bash -c "! kill -0 $vs_pid"; then
	wait "$vs_pid"
	st=$?
	vs_pid=
	check "virtserd exited cleanly on SIGTERM" test $st = 0
	check "virtserd removed its endpoints and control socket" \
		bash -c "! ls $run/data.sock $run/console.sock $run/serial1.sock $run/virtserd.control 2>/dev/null"
else
	t_fail "virtserd did not exit on SIGTERM"
fi

# ---- the domain as the configuration ----------------------------------------
# virtserd-domain.xml.in lists no port: virtserd asks libvirt for the
# domain's XML, and follows it through libvirt's events, never a reload.
portid=([data]=org.virtser.libvirt.data [console]=console1 [serial1]=serial1)
fill "$here/virtserd-domain.xml.in" > "$run/virtserd-domain.xml"
lv_ports() {	# lv_ports N: virtserd serves N ports of the domain
	[ "$(ctl list 2>/dev/null | grep -c "^$name/")" = "$1" ]
}
guest_is() {	# guest_is PORT STATE: virtserd's guest state, from libvirt
	[ "$(field "$1" guest)" = "$2" ] && [ "$(field "$1" guest_source)" = libvirt ]
}
lv_ports_any() { ctl list 2>/dev/null | grep -q "^$name/"; }
released() {
	! lv_ports_any && ! ls "$run/data.sock" "$run/console.sock" "$run/serial1.sock" 2>/dev/null
}
"$build/host/virtserd" -c "$run/virtserd-domain.xml" > "$run/virtserd-domain.log" 2>&1 &
vs_pid=$!
if waitfor 30 lv_ports 3 && waitfor 10 test -S "$run/data.sock"; then
	t_ok "virtserd (virtserd-domain.xml.in) made the shut-off domain's 3 ports from libvirt"
else
	sed 's/^/# /' "$run/virtserd-domain.log"
	ctl list 2>&1 | sed 's/^/# /'
	t_fail "virtserd made no ports from the domain"
fi
ctl list | sed 's/^/# /'
check "virsh start, followed by virtserd" quiet virsh start "$name"
prev=$boot
ports="console serial1" guest_up "$prev"
open_data 3
ports=data guest_up "$prev"
check "virtserd shows the data channel open, told by libvirt" waitfor 30 guest_is data open
check "virtserd: every port's VM side is up" waitfor 30 vm_state_is up $ports
both_ways 3000 4

# libvirtd restarts under virtserd (QEMU keeps running): virtserd
# reconnects, and the events that follow come through the new connection.
stop_pid "$libvirtd_pid"
libvirtd_pid=
nsenter --mount="/proc/$virtlogd_pid/ns/mnt" libvirtd >> "$run/libvirtd.out.log" 2>&1 &
libvirtd_pid=$!
check "libvirtd restarted ($libvirtd_pid); the domain still runs" waitfor 60 domstate running
lv_reconnected() { [ "$(grep -c 'libvirt .*: connected' "$run/virtserd-domain.log")" -ge 2 ]; }
check "virtserd reconnected to the new libvirtd" waitfor 60 lv_reconnected

check "virsh destroy" quiet virsh destroy "$name"
check "virtserd: every port's VM side left 'up'" waitfor 30 vm_state_not up $ports
check "virtserd shows the data channel's guest state unknown while the domain is down" \
	waitfor 30 guest_is data unknown
check "the ports stay while the domain is defined (3)" lv_ports 3
check "virsh start after destroy" quiet virsh start "$name"
prev=$boot
ports="console serial1" guest_up "$prev"
open_data 4
ports=data guest_up "$prev"
check "virtserd reconnected each port to the new QEMU (vm_connects 2, state up)" \
	waitfor 30 reconnected
check "virtserd shows the data channel open again" waitfor 30 guest_is data open
both_ways 4000 8
check "virtserd followed libvirt's events: no reload" \
	bash -c "! grep -q 'reload' '$run/virtserd-domain.log'"

check "virsh destroy" quiet virsh destroy "$name"
check "virsh undefine" quiet virsh undefine "$name"
check "undefine released the domain's ports and their endpoints" waitfor 30 released
kill -TERM "$vs_pid"
if waitfor 30 bash -c "! kill -0 $vs_pid"; then
	wait "$vs_pid"
	st=$?
	vs_pid=
	check "virtserd (domain as configuration) exited cleanly on SIGTERM" test $st = 0
else
	t_fail "virtserd (domain as configuration) did not exit on SIGTERM"
fi
grep -E 'error|warning' "$run/virtserd-domain.log" | sed 's/^/# /'

stop_pid "$libvirtd_pid"
libvirtd_pid=
stop_pid "$virtlogd_pid"
virtlogd_pid=
host_state > "$run/host-after.txt"
check "the host's /run/libvirt, /var/lib/libvirt, /etc/libvirt... are as they were" \
	cmp -s "$run/host-before.txt" "$run/host-after.txt"
summary
[ $fail = 0 ]
