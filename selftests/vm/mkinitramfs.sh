#!/bin/sh
# mkinitramfs.sh KERNEL DRIVER OUT.cpio.gz BUILDDIR [TESTS] [INIT] [MODULES]
#
# KERNEL is a series (6.1, 6.12, 6.1-debug: see scripts/kernel-paths.sh) or
# the release of an installed Debian kernel.
# Builds the test guest's initramfs: busybox, systemd-udevd with its
# libraries and the udev rules under test, the static test programs, and
# the driver under test with what it depends on.  DRIVER is "intree" (the
# kernel's virtio_console) or "ours" (build/kmod/<series>/virtser.ko).
set -eu

kernel=$1
driver=$2
out=$3
build=$4
tests=${5:-}	# programs to run, in order; default selftests/tests.order
		# ("A B|C": A B on the first boot, C after the host restarts QEMU)
init=${6:-}	# the guest's /init; default the test rig's (make demo has its own)
modules=${7:-}	# more modules to load first, with their dependencies
		# (libvirt-check: button evdev, for ACPI shutdown)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
case "$kernel" in
*.*.*)	kver=$kernel series=$(echo "$kver" | cut -d. -f1-2) modroot=/ ;;
*)	series=$kernel
	kver=$(sh "$top/scripts/kernel-paths.sh" "$series" | cut -d' ' -f1)
	modroot=$(sh "$top/scripts/kernel-paths.sh" --modroot "$series") ;;
esac
stage=$(mktemp -d "${TMPDIR:-/tmp}/vt-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/bin "$stage"/sbin "$stage"/etc "$stage"/proc "$stage"/sys \
	"$stage"/dev "$stage"/run "$stage"/tmp "$stage"/root "$stage"/lib/vt \
	"$stage"/lib/udev/rules.d "$stage"/lib/systemd "$stage"/vt
cp /bin/busybox "$stage/bin/busybox"
install -m 0755 "${init:-$here/init}" "$stage/init"
mknod -m 600 "$stage/dev/console" c 5 1
ln -s busybox "$stage/bin/sh"

# systemd-udevd is udevadm under another name; take its libraries along.
cp /bin/udevadm "$stage/bin/udevadm"
ln -s ../../bin/udevadm "$stage/lib/systemd/systemd-udevd"
for lib in $(ldd /bin/udevadm | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^\s*\(\/lib[^ ]*\) .*/\1/p'); do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
cp /lib/udev/rules.d/50-udev-default.rules "$stage/lib/udev/rules.d/"
cp "$top/udev/60-virtio-port.rules" "$stage/lib/udev/rules.d/"

cat > "$stage/etc/passwd" <<PW
root::0:0:root:/root:/bin/sh
PW
cat > "$stage/etc/group" <<GR
root:x:0:
tty:x:5:
disk:x:6:
dialout:x:20:
kmem:x:15:
audio:x:29:
video:x:44:
input:x:105:
kvm:x:106:
render:x:107:
sgx:x:108:
GR
echo "vtguest" > "$stage/etc/hostname"

# Kernel modules, uncompressed, in load order.
: > "$stage/lib/vt/modules.order"
add_module() {
	for f in $(modprobe -d "$modroot" -S "$kver" --show-depends "$1" | sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
		name=$(basename "$f" | sed 's/\.ko.*//')
		grep -qx "$name.ko" "$stage/lib/vt/modules.order" && continue
		case "$f" in
		*.ko.xz)  xz -dc "$f" > "$stage/lib/vt/$name.ko" ;;
		*.ko.zst) zstd -qdc "$f" > "$stage/lib/vt/$name.ko" ;;
		*.ko.gz)  gzip -dc "$f" > "$stage/lib/vt/$name.ko" ;;
		*)        cp "$f" "$stage/lib/vt/$name.ko" ;;
		esac
		echo "$name.ko" >> "$stage/lib/vt/modules.order"
	done
}
for m in $modules; do add_module "$m"; done
add_module virtio_pci		# nothing when built in (6.12)
case "$driver" in
intree)
	add_module virtio_console	# nothing when built in (6.12)
	;;
ours)
	ko="$build/kmod/$series/virtser.ko"
	[ -f "$ko" ] || { echo "mkinitramfs: $ko not built (make module-$series)" >&2; exit 1; }
	cp "$ko" "$stage/lib/vt/virtser.ko"
	echo virtser.ko >> "$stage/lib/vt/modules.order"
	;;
*)
	echo "mkinitramfs: unknown driver '$driver'" >&2; exit 1 ;;
esac

# Test-only modules loaded after the driver (run.sh --vtdev).
for ko in ${VT_EXTRA_KO:-}; do
	cp "$ko" "$stage/lib/vt/"
	basename "$ko" >> "$stage/lib/vt/modules.order"
done

cp "$build/selftests/guest/"* "$stage/vt/"
if [ -n "$tests" ]; then
	printf '%s\n' ${tests%%|*} > "$stage/vt/tests.order"
	case "$tests" in *'|'*) printf '%s\n' ${tests#*|} > "$stage/vt/tests.order.2" ;; esac
else
	cp "$here/../tests.order" "$stage/vt/tests.order"
fi

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$out"
