#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# emerg-panic.sh 6.1|6.12 [BUILDDIR] [single] - prove that a guest kernel
# panic's console output reaches the host through
# VIRTIO_CONSOLE_F_EMERG_WRITE.  With "single" the device is created with
# max_ports=1, so QEMU does not offer MULTIPORT: that run also proves the
# non-multiport mode (port 0 is a console from probe on, no control queue).
#
# Boots the Debian kernel under QEMU with a minimal busybox
# initramfs that loads virtser.ko, waits for /dev/hvc0 (the virtconsole,
# also the kernel console) and crashes the kernel with sysrq-c.  QEMU
# writes each emerg_wr byte to the console chardev through the port's
# have_data hook, which its virtio_console_flush_buf trace event records
# with in_len 1; the ring path sends the hvc core's 16-byte chunks.  The
# test passes when "Kernel panic" reached the chardev and the bytes from
# there on arrived as 1-byte emerg_wr writes (see the check at the end for
# the one reordering QEMU allows).
set -eu

series=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$top/build}
mode=${3:-multiport}
devopts=
[ "$mode" = single ] && devopts=,max_ports=1
name=emerg
. "$top/selftests/vm/minivm.sh"
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/lib/m"
cp /bin/busybox "$stage/bin/busybox"
: > "$stage/lib/m/order"
for f in $(modprobe -S "$kver" --show-depends virtio_pci 2>/dev/null |
	   sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
	name=$(basename "$f")
	case "$name" in
	*.xz) xz -dc "$f" > "$stage/lib/m/${name%.xz}"; name=${name%.xz} ;;
	*) cp "$f" "$stage/lib/m/$name" ;;
	esac
	echo "$name" >> "$stage/lib/m/order"
done
cp "$ko" "$stage/lib/m/virtser.ko"
echo virtser.ko >> "$stage/lib/m/order"
cat > "$stage/init" <<'EOF2'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/m/order); do insmod /lib/m/$m; done
# Up to 120 s: on a loaded host the console port can take more than 20 s.
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e /dev/hvc0 ]; then
	echo "emerg-panic: hvc0 ready" > /dev/ttyS0
else
	echo "emerg-panic: no hvc0 after 120 s" > /dev/ttyS0
fi
echo c > /proc/sysrq-trigger
EOF2
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$work/initrd.gz"

append="console=ttyS0,115200 console=hvc0 panic=-1"
grep -q '^CONFIG_VIRTIO_CONSOLE=y' "/boot/config-$kver" &&
	append="$append initcall_blacklist=virtio_console_init"
timeout 300 "${QEMU:-qemu-system-x86_64}" $accel -m 512 -smp 1 -nodefaults \
	-display none -no-reboot -kernel "$img" -initrd "$work/initrd.gz" \
	-append "$append" -serial "file:$work/serial.log" \
	-device "virtio-serial-pci,id=vser0$devopts" \
	-chardev "file,id=c0,path=$work/port0.out" \
	-device virtconsole,bus=vser0.0,nr=0,chardev=c0,name=con0 \
	-trace 'virtio_console_flush_buf' 2> "$work/trace.log" &
qemu_pid=$!
wait "$qemu_pid" || true
qemu_pid=

ok=1
grep -q 'emerg-panic: hvc0 ready' "$work/serial.log" || ok=0
line=$(grep -a -n 'Kernel panic' "$work/port0.out" | head -n 1 | cut -d: -f1)
if [ $ok = 0 ]; then
	echo "not ok 1 - $series ($mode): the console port never appeared as hvc0 (see the guest's log)"
	tail -n 20 "$work/serial.log"
	exit 1
fi
if [ -z "$line" ]; then
	echo "not ok 1 - $series ($mode): panic output did not reach the console port"
	tail -n 20 "$work/serial.log"
	exit 1
fi
# The trace lists QEMU's chardev writes in order, so it maps onto byte
# offsets of port0.out.  Count how the bytes after the start of the panic
# line arrived.  QEMU takes emerg_wr writes synchronously in the vCPU
# thread but ring kicks later in its main loop, so a chunk the guest queued
# on the ring just before panicking (the end of the oops) can land after
# the first emergency bytes: allow that for up to 4 hvc chunks (64 bytes),
# and require every other byte after the panic line to be a 1-byte write.
start=$(grep -abo 'Kernel panic' "$work/port0.out" | head -n 1 | cut -d: -f1)
total=$(wc -c < "$work/port0.out")
read -r emerg ring <<EOF3
$(grep 'virtio_console_flush_buf port 0,' "$work/trace.log" |
	sed -n 's/.*in_len \([0-9]*\),.*/\1/p' |
	awk -v start="$start" '{ if (off + $1 > start) { if ($1 == 1) e++; else r += $1 } off += $1 }
		END { print e + 0, r + 0 }')
EOF3
after=$((total - start))
if [ "$ring" -le 64 ] && [ $((emerg + ring)) -ge "$after" ]; then
	echo "ok 1 - $series ($mode): panic output ($after bytes) reached the host through emerg_wr ($emerg 1-byte writes, $ring bytes of earlier ring chunks)"
else
	echo "not ok 1 - $series ($mode): of $after bytes after the panic, $emerg came through emerg_wr and $ring through the ring"
	exit 1
fi
echo "1..1"
