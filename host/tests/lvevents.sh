#!/bin/bash
# <vm libvirt=...> against a real libvirtd, without a VM: a private
# libvirtd (in a mount namespace of its own, as in selftests/libvirt/
# libvirt-check.sh) whose domain is defined, redefined and undefined while
# virtserd follows it by libvirt's events alone: ports appear at define,
# a fake QEMU (socat listening on the domain's socket) gets connected, a
# redefinition that moves one socket restarts that port only, libvirtd
# restarts under virtserd, and undefine releases every port and endpoint.
# Skipped unless root with libvirtd, virtlogd, virsh, socat, unshare and a
# virtserd built with libvirt.
. "$(dirname "$0")/lib.sh"

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root (a private libvirtd in a mount namespace)"
for c in libvirtd virtlogd virsh socat unshare nsenter; do
	command -v $c > /dev/null || skip_all "no $c"
done
# A virtserd without libvirt refuses the <vm>, which is the answer here.
echo "<virtserd><control path='$T/x'/><vm name='a' libvirt='test:///default'/></virtserd>" > "$T/probe.xml"
"$B/virtserd" -t -c "$T/probe.xml" 2>&1 | grep -q "without libvirt" && skip_all "virtserd built without libvirt"

ns=$T/ns
uri="qemu:///system?socket=$ns/run/libvirt/libvirt-sock"
dom=vslvev
VL= LD=
virsh() { timeout 60 virsh -q -c "$uri" "$@"; }
mkdir -p "$ns/run/libvirt" "$ns/run/lock" "$ns/var/lib/libvirt/qemu" "$ns/var/log/libvirt/qemu" \
	"$ns/var/cache/libvirt" "$ns/var/tmp" "$ns/etc" "$T/q"
ln -s /run "$ns/var/run"
printf '%s\n' 'unix_sock_group = "root"' 'unix_sock_rw_perms = "0700"' 'auth_unix_rw = "none"' \
	'auth_unix_ro = "none"' 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' > "$ns/etc/libvirtd.conf"
printf '%s\n' 'user = "root"' 'group = "root"' 'security_driver = "none"' \
	'cgroup_controllers = [ ]' > "$ns/etc/qemu.conf"
echo 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"' > "$ns/etc/virtlogd.conf"
cp /etc/passwd "$ns/passwd"
cp /etc/group "$ns/group"
getent passwd libvirt-qemu > /dev/null ||
	echo 'libvirt-qemu:x:64055:64055:lvevents:/var/lib/libvirt:/usr/sbin/nologin' >> "$ns/passwd"
getent group libvirt-qemu > /dev/null || echo 'libvirt-qemu:x:64055:' >> "$ns/group"
unshare -m --propagation private sh -c '
	set -e
	mount --bind "$1/run" /run
	mount --bind "$1/var" /var
	mount --bind "$1/etc" /etc/libvirt
	mount --bind "$1/passwd" /etc/passwd
	mount --bind "$1/group" /etc/group
	exec virtlogd' sh "$ns" > "$T/virtlogd.log" 2>&1 &
VL=$!
pids="$pids $VL"
start_libvirtd() {
	nsenter --mount="/proc/$VL/ns/mnt" libvirtd >> "$T/libvirtd.log" 2>&1 &
	LD=$!
	pids="$pids $LD"
	waitfor "[ -S '$ns/run/libvirt/libvirt-sock' ] && virsh version > /dev/null 2>&1" 1200
}
stop_libvirtd() {
	kill -TERM "$LD" 2>/dev/null
	waitfor "! kill -0 $LD 2>/dev/null" 600 || kill -9 "$LD"
	wait "$LD" 2>/dev/null
	rm -f "$ns/run/libvirt/libvirt-sock"
}
waitfor "[ -S '$ns/run/libvirt/virtlogd-sock' ]" 600 &&
	check "a private libvirtd" start_libvirtd
if [ "$fails" != 0 ]; then
	sed 's/^/# /' "$T/virtlogd.log" "$T/libvirtd.log" "$ns"/var/log/libvirt/*.log 2>/dev/null |
		tail -n 20
	finish
fi

domain_xml() {	# domain_xml DATA_SOCKET
	cat <<XML
<domain type='qemu'>
  <name>$dom</name>
  <uuid>8d1f4c3a-3b0e-4e55-9a51-7e4b2c6d9f10</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <serial type='unix'>
      <source mode='bind' path='$T/q/serial0.sock'/>
      <target port='0'/>
    </serial>
    <console type='unix'>
      <source mode='bind' path='$T/q/console.sock'/>
      <target type='virtio'/>
    </console>
    <channel type='unix'>
      <source mode='bind' path='$1'/>
      <target type='virtio' name='org.example.data'/>
    </channel>
    <channel type='pty'>
      <target type='virtio' name='org.example.pty'/>
    </channel>
  </devices>
</domain>
XML
}

lv_conf() {
	cat <<XML
<vm name='d' libvirt='$uri' domain='$dom'>
  <channel type='unix'><source mode='bind' path='$T/%v.%p'/></channel>
  <console type='unix'><source mode='bind' path='$T/%v.%p'/></console>
  <serial type='unix'><source mode='bind' path='$T/%v.%p'/></serial>
</vm>
<domains libvirt='$uri'>
  <channel type='unix'><source mode='bind' path='$T/all.%v.%p'/></channel>
</domains>
XML
}
# A plain <vm> of the same name with one port of the same name as the
# domain's channel.
plain_conf() {
	cat <<XML
<vm name='d'>
  <channel type='unix'>
    <source mode='bind' path='$T/plain.sock'/>
    <target type='virtio' name='org.example.data'/>
    <chardev type='unix' path='$T/q/plain-qemu.sock'/>
  </channel>
</vm>
XML
}
# reload_to FUNC: the running daemon's configuration becomes FUNC's body.
reload_to() {
	{ echo "<virtserd><control path='$T/ctl'/>"; "$1"; echo "</virtserd>"; } > "$T/c.xml"
	[ "$(ctl reload)" = "OK reloaded" ]
}

start_daemon < <(lv_conf)
nports() { ctl list 2>/dev/null | grep -c '^d/'; }
check "virtserd connected to libvirt; the domain is not defined: no port" \
	waitfor "grep -q 'libvirt .*: connected' '$T/d.err' && [ \"\$(nports)\" = 0 ]"

domain_xml "$T/q/data.sock" > "$T/dom.xml"
check "virsh define" virsh define "$T/dom.xml"
check "define: its 3 unix devices are ports (the pty is not), without a reload" \
	waitfor "[ \"\$(nports)\" = 3 ]" 400
check "ports named by the domain: d/org.example.data, d/console1, d/serial0" \
	bash -c "ctl() { timeout 10 '$B/virtserctl' -s '$T/ctl' \"\$@\"; }
		ctl status d/org.example.data > /dev/null && ctl status d/console1 > /dev/null &&
		ctl status d/serial0 > /dev/null"
check "endpoints from the templates: $T/d.org.example.data, d.console1, d.serial0" \
	test -S "$T/d.org.example.data" -a -S "$T/d.console1" -a -S "$T/d.serial0"
guest() { ctl -j status d/org.example.data | sed -n "s/.*\"guest\":\"\([a-z]*\)\".*/\1/p"; }
source_is() { ctl -j status d/org.example.data | grep -q '"guest_source":"libvirt"'; }
check "guest state unknown (the domain does not run), its source libvirt" \
	bash -c "[ \"\$1\" = unknown ]" _ "$(guest)"
check "guest_source is libvirt" source_is

# A fake QEMU listening where the domain puts the channel's socket.
bg socat -u "UNIX-LISTEN:$T/q/data.sock" "OPEN:$T/got,creat"
vm_state() { ctl -j status "d/$1" | sed -n 's/.*"vm_state":"\([a-z]*\)".*/\1/p'; }
check "virtserd connects to the domain's socket" waitfor "[ \"\$(vm_state org.example.data)\" = up ]" 400
echo hello-from-the-host | socat -u - "UNIX-CONNECT:$T/d.org.example.data"
check "data from the endpoint reached the domain's socket" \
	waitfor "grep -q hello-from-the-host '$T/got'" 400

# Redefine with the channel's socket moved: that port restarts, the others stay.
# Bytes for the console, which has no QEMU: virtserd holds them in the port.
echo keep-me | socat -u - "UNIX-CONNECT:$T/d.console1"
check "the console's port holds 8 bytes for its QEMU" waitfor '[ "$(field d/console1 buffered_to_vm)" = 8 ]' 400
domain_xml "$T/q/data2.sock" > "$T/dom2.xml"
check "virsh define again, the channel's socket moved" virsh define "$T/dom2.xml"
check "the channel's port now connects to the new socket" \
	waitfor "grep -q 'd/org.example.data: connect $T/q/data2.sock' '$T/d.err'" 400
check "the console's port was kept: it still holds the 8 bytes" \
	waitfor '[ "$(field d/console1 buffered_to_vm)" = 8 ]' 10
check "the log says 1 changed, 2 kept" waitfor "grep -q '2 ports kept, 1 added, 1 released' '$T/d.err'" 400

# <domains>: another domain of the connection is a vm of its own name;
# the one a <vm> follows is not taken twice.
cat > "$T/other.xml" <<XML
<domain type='qemu'>
  <name>vsother</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <channel type='unix'>
      <source mode='bind' path='$T/q/other.sock'/>
      <target type='virtio' name='org.example.other'/>
    </channel>
  </devices>
</domain>
XML
check "virsh define a second domain" virsh define "$T/other.xml"
check "<domains>: it is vm vsother, port vsother/org.example.other, at its template's path" \
	waitfor "ctl status vsother/org.example.other > /dev/null 2>&1 && [ -S '$T/all.vsother.org.example.other' ]" 400
check "<domains> leaves the domain a <vm> follows alone (no vslvev/ port)" \
	bash -c "! timeout 10 '$B/virtserctl' -s '$T/ctl' list | grep -q '^vslvev/'"
check "undefining it releases vm vsother" virsh undefine vsother
check "its port and endpoint are gone" \
	waitfor "! ctl status vsother/org.example.other > /dev/null 2>&1 && ! [ -e '$T/all.vsother.org.example.other' ]" 400

# libvirtd restarts: virtserd keeps its ports and reconnects.
stop_libvirtd
check "libvirtd gone: the ports stay (3)" bash -c "[ \"\$1\" = 3 ]" _ "$(nports)"
check "a second libvirtd" start_libvirtd
check "virtserd reconnected to it" \
	waitfor "[ \"\$(grep -c 'libvirt .*: connected' '$T/d.err')\" -ge 2 ]" 600
check "after the reconnect's scan too, <domains> leaves the <vm>'s domain alone" \
	bash -c "! timeout 10 '$B/virtserctl' -s '$T/ctl' list | grep -q '^vslvev/'"
check "events come through the new connection: undefine" virsh undefine "$dom"
check "undefine released every port" waitfor "[ \"\$(nports)\" = 0 ]" 400
check "and removed their endpoints" \
	waitfor "! ls '$T/d.org.example.data' '$T/d.console1' '$T/d.serial0' 2> /dev/null" 400
check "no reload took part" bash -c "! grep -q reload '$T/d.err'"
check "virtserd exits cleanly" stop_daemon

# A reload that turns a plain <vm> into the domain's vm of the same name:
# the domain's ports all come, the one it shares a name with included
# (the plain port, still draining when the domain's ports are made, must
# not stand in their way), and back again.
check "virsh define the domain again" virsh define "$T/dom2.xml"
start_daemon < <(plain_conf)
check "a plain <vm>: one port, d/org.example.data" \
	waitfor "[ \"\$(nports)\" = 1 ] && [ -S '$T/plain.sock' ]"
check "reload to the domain's vm" reload_to lv_conf
check "all 3 of the domain's ports, d/org.example.data at its template's path" \
	waitfor "[ \"\$(nports)\" = 3 ] && [ -S '$T/d.org.example.data' ] && ! [ -e '$T/plain.sock' ]" 400
check "d/org.example.data is the domain's now" source_is
check "reload back to the plain <vm>" reload_to plain_conf
check "one port again, at the plain path; the domain's endpoints gone" \
	waitfor "[ \"\$(nports)\" = 1 ] && [ -S '$T/plain.sock' ] && ! ls '$T/d.console1' '$T/d.serial0' 2> /dev/null" 400
check "virtserd exits cleanly after the reloads" stop_daemon
stop_libvirtd
finish
