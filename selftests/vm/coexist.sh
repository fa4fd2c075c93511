#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# coexist.sh 6.1|6.12 [BUILDDIR] - coexistence of virtser.ko with the in-tree
# virtio_console, on a module kernel (Debian 6.1) and a built-in one
# (Debian 6.12).  Each case boots a minimal busybox guest under QEMU
# with kmod's modprobe, the distribution's module tree and kernel/virtser.conf
# in /etc/modprobe.d, and prints TAP.
#
# 6.1  (virtio_console=m):
#   - modprobe of the device's modalias loads virtser, not virtio_console
#     (the blacklist in virtser.conf);
#   - with virtio_console loaded explicitly, inserting virtser fails with
#     EEXIST and says why in the kernel log.
# 6.12 (virtio_console=y):
#   - without initcall_blacklist the built-in driver owns the class and
#     virtser refuses to load, saying why;
#   - with initcall_blacklist=virtio_console_init there is no
#     /sys/class/virtio-ports until virtser loads, and then it works.
set -eu

series=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$top/build}
name=coexist
. "$top/selftests/vm/minivm.sh"
mods=$stage/lib/modules/$kver
mkdir -p "$stage/bin" "$stage/sbin" "$stage/proc" "$stage/sys" "$stage/dev" \
	"$stage/etc/modprobe.d" "$mods/extra"
cp /bin/busybox "$stage/bin/busybox"
cp /bin/kmod "$stage/bin/kmod"
for t in modprobe insmod rmmod lsmod; do ln -s ../bin/kmod "$stage/sbin/$t"; done
for lib in $(ldd /bin/kmod | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^\s*\(\/lib[^ ]*\) .*/\1/p'); do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
cp /lib/modules/"$kver"/modules.builtin* /lib/modules/"$kver"/modules.order "$mods/"
for m in virtio_pci virtio_console; do
	for f in $(modprobe -S "$kver" --show-depends "$m" 2>/dev/null |
		   sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
		rel=${f#/lib/modules/$kver/}
		mkdir -p "$mods/$(dirname "$rel")"
		cp "$f" "$mods/$rel"
	done
done
cp "$ko" "$mods/extra/virtser.ko"
depmod -b "$stage" "$kver"
cp "$top/kernel/virtser.conf" "$stage/etc/modprobe.d/virtser.conf"

cat > "$stage/init" <<'EOF2'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
out=/dev/ttyS1
n=0
check() {	# check DESCRIPTION COMMAND...
	d=$1; shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then echo "ok $n - $d" > $out
	else echo "not ok $n - $d" > $out; fi
}
mode=$(sed -n 's/.*vs.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
modprobe virtio_pci 2>/dev/null
i=0
while [ ! -e /sys/bus/virtio/devices/virtio0/modalias ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
alias=$(cat /sys/bus/virtio/devices/virtio0/modalias)
case "$mode" in
module)
	modprobe "$alias"
	check "modprobe $alias loads virtser" test -d /sys/module/virtser
	check "virtio_console stays unloaded (blacklisted)" test ! -d /sys/module/virtio_console
	check "ports appear under virtser" test -d /sys/class/virtio-ports/vport0p1
	rmmod virtser
	modprobe virtio_console
	check "explicit modprobe virtio_console still works" test -d /sys/module/virtio_console
	check "insmod virtser fails while virtio_console owns the class" sh -c '! insmod /lib/modules/$(uname -r)/extra/virtser.ko'
	check "and says why" sh -c 'dmesg | grep -q "class virtio-ports already exists"'
	;;
builtin)
	check "built-in virtio_console owns the class" test -d /sys/class/virtio-ports
	check "insmod virtser fails" sh -c '! insmod /lib/modules/$(uname -r)/extra/virtser.ko'
	check "and says why" sh -c 'dmesg | grep -q "class virtio-ports already exists"'
	;;
blacklisted)
	check "no virtio-ports class before virtser loads" test ! -e /sys/class/virtio-ports
	insmod /lib/modules/$(uname -r)/extra/virtser.ko
	check "virtser loads" test -d /sys/module/virtser
	check "and binds the device (ports appear)" sh -c 'sleep 2; test -d /sys/class/virtio-ports/vport0p1'
	;;
esac
echo "1..$n" > $out
poweroff -f
EOF2
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$work/initrd.gz"

boot() {	# boot MODE [extra append]
	timeout 300 "${QEMU:-qemu-system-x86_64}" $accel -m 512 -smp 1 -nodefaults \
		-display none -no-reboot -kernel "$img" -initrd "$work/initrd.gz" \
		-append "console=ttyS0,115200 panic=-1 vs.mode=$1 ${2:-}" \
		-serial "file:$work/console-$1.log" -serial "file:$work/tap-$1.log" \
		-device virtio-serial-pci,id=vser0 \
		-chardev null,id=c1 \
		-device virtserialport,bus=vser0.0,nr=1,chardev=c1,name=org.virtser.coexist \
		>/dev/null 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid" || true
	qemu_pid=
	echo "# $series $1"
	cat "$work/tap-$1.log"
	! grep -q '^not ok' "$work/tap-$1.log" && grep -q '^1\.\.[1-9]' "$work/tap-$1.log"
}

rc=0
if grep -q '^CONFIG_VIRTIO_CONSOLE=m' "/boot/config-$kver"; then
	boot module || rc=1
else
	boot builtin || rc=1
	boot blacklisted initcall_blacklist=virtio_console_init || rc=1
fi
exit $rc
