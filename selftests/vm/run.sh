#!/bin/bash
# run.sh --kernel 6.1|6.12 --driver intree|ours [--build DIR] [--timeout S]
#        [--tests "PROG..."] [--tag NAME] [--append "KERNEL ARGS"] [--daemon]
#        [--bounce SLABS] [--packed]
#
# --daemon adds a port whose host end is virtserd (build/host/virtserd),
# for the end-to-end tests of the daemon with a real guest.
#
# --bounce SLABS makes every transfer of the virtio-serial device go
# through a bounce buffer, as under SEV or TDX: the device gets
# iommu_platform=on (VIRTIO_F_ACCESS_PLATFORM, so the guest maps buffers
# with the DMA API; QEMU needs no vIOMMU for it, but the device must be
# modern-only, disable-legacy=on) and the guest swiotlb=SLABS,force, a pool
# of SLABS 2 KiB slots (a multiple of 128) that every mapping is copied
# through.  A small pool makes mapping failures happen.
#
# --packed gives the virtio-serial device packed virtqueues (packed=on)
# instead of split ones; they report a failed DMA mapping differently.
#
# --vtdev leaves QEMU's virtio-serial device out and loads vtdev.ko
# (build/vtdev/<kernel>/, selftests/vtdev/) after the driver instead: the
# only console device the guest has is the one its tests program.
#
# Boots a Debian guest kernel under QEMU with the driver under test and runs
# the behaviour suite.  Prints TAP and ends with "N passed, M failed".
# Logs are kept in BUILD/vm/<kernel>-<driver>/.  QEMU names the binary to
# run (default qemu-system-x86_64); selftests/vm/accel.sh picks KVM or TCG.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kernel=6.1
driver=intree
build=$top/build
timeout=2400
tests=
tag=
extra=
daemon=
vtdev=
bounce=
packed=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--driver) driver=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;		# instead of selftests/tests.order
	--tag) tag=-$2; shift 2 ;;		# keeps these logs apart
	--append) extra=$2; shift 2 ;;		# more guest kernel arguments
	--daemon) daemon=1; shift ;;
	--vtdev) vtdev=1; shift ;;
	--bounce) bounce=$2; shift 2 ;;
	--packed) packed=1; shift ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case "$bounce" in *[!0-9]*) echo "run.sh: --bounce takes a number of slots" >&2; exit 2 ;; esac
case "$driver" in intree|ours) ;; *) echo "run.sh: DRIVER must be intree or ours" >&2; exit 2 ;; esac
# make -C selftests resolves a relative B= inside selftests/: make it absolute.
mkdir -p "$build" && build=$(cd "$build" && pwd)
read -r kver img hdr < <(sh "$top/scripts/kernel-paths.sh" "$kernel")

if [ "$driver" = ours ] && [ ! -f "$build/kmod/$kernel/virtser.ko" ]; then
	echo "1..0 # SKIP virtser.ko for $kernel is not built"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

make -s -C "$top/selftests" B="$build"
logs=$build/vm/$kernel-$driver$tag
mkdir -p "$logs"
if [ -n "$vtdev" ]; then
	[ -f "$build/vtdev/$kernel/vtdev.ko" ] || { echo "run.sh: $build/vtdev/$kernel/vtdev.ko not built" >&2; exit 2; }
	export VT_EXTRA_KO="$build/vtdev/$kernel/vtdev.ko"
fi
sh "$here/mkinitramfs.sh" "$kernel" "$driver" "$logs/initramfs.cpio.gz" "$build" "$tests"

# Unix socket paths are short-lived and must stay under 108 bytes.
work=$(mktemp -d /tmp/vt.XXXXXX)
# vmhost ends QEMU and virtserd whenever it ends; it ends with us, whatever
# ends us (and PR_SET_PDEATHSIG in vmhost covers our being SIGKILLed).
vmhost_pid=
cleanup() {
	if [ -n "$vmhost_pid" ]; then
		kill -TERM "$vmhost_pid" 2>/dev/null
		wait "$vmhost_pid" 2>/dev/null
	fi
	cp -f "$work"/*.log "$logs"/ 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The ports the guest sees: a console on port 0, named generic ports after it.
ports=(0:console:org.virtser.console.0 1:port:org.virtser.test.1
       2:port:org.virtser.test.2 3:port:org.virtser.test.3)
daemon_args=()
daemon_qmp=()
if [ -n "$daemon" ]; then
	[ -x "$build/host/virtserd" ] || { echo "run.sh: $build/host/virtserd not built" >&2; exit 2; }
	# Port 5 holds host data while the guest has it closed (daemon_qmp);
	# virtserd follows the guest state on a QMP monitor of its own.
	ports+=(4:port:org.virtser.daemon.4:daemon 5:port:org.virtser.daemon.5:hold)
	daemon_args=(--daemon "$build/host/virtserd")
	daemon_qmp=(-qmp "unix:$work/qmp-d.sock,server=on,wait=off")
fi
[ -n "$vtdev" ] && ports=()
qemu_ports=()
vmhost_ports=()
for spec in "${ports[@]}"; do
	IFS=: read -r id kind name via <<< "$spec"
	dev=virtserialport
	[ "$kind" = console ] && dev=virtconsole
	qemu_ports+=(-chardev "socket,id=c$id,path=$work/port$id.sock,server=on,wait=off"
		     -device "$dev,bus=vser0.0,nr=$id,chardev=c$id,name=$name,id=p$id")
	vmhost_ports+=(--port "$spec")
done

# pm_test=devices holds the frozen state for pm_test_delay seconds, 5 by
# default, as a busy wait: 2 still leave the hot-plug-while-frozen tests
# their window (they aim at its middle) and save 3 s of a vCPU per freeze,
# of which a make check has about 50.
append="console=ttyS0,115200 panic=-1 suspend.pm_test_delay=2 vt.driver=$driver vt.nports=${#ports[@]} $extra"
vser=virtio-serial-pci,id=vser0
if [ -n "$bounce" ]; then
	vser="$vser,iommu_platform=on,disable-legacy=on"
	append="$append swiotlb=$bounce,force"
fi
if [ -n "$packed" ]; then
	vser="$vser,packed=on"
	append="$append vt.packed=1"	# the guest checks it got them
fi
# The debug kernel takes PCI interrupt routing from the BIOS's table, not
# from ACPI: under TCG its AML interpreter (KASAN, lockdep) took 22 s of each
# boot for QEMU's _PRT, and at a device_del's re-add ran into ACPICA's 30 s
# loop timeout.  ACPI still does the hot-plug itself, and poweroff.
case $kernel in *-debug) append="$append acpi=noirq" ;; esac
# A built-in virtio_console (6.12) must not bind the device when we test ours.
kconfig=/boot/config-$kver
[ -f "$kconfig" ] || kconfig=$hdr/.config	# the debug kernel's built tree
if [ "$driver" = ours ] && grep -q '^CONFIG_VIRTIO_CONSOLE=y' "$kconfig"; then
	append="$append initcall_blacklist=virtio_console_init"
fi

mapfile -t accel < <(bash "$here/accel.sh" "$build")
[ ${#accel[@]} -gt 0 ] || { echo "run.sh: no accelerator (selftests/vm/accel.sh failed)" >&2; exit 2; }
qemu=${QEMU:-qemu-system-x86_64}

# vmhost checks every program of the list against what the build planned.
programs=${tests:-$(tr '\n' ' ' < "$top/selftests/tests.order")}

echo "# vmtest: kernel $kver, driver $driver, $qemu ${accel[*]}"
set +e
# vmhost exits 75 when the guest never reached its init (an early-boot
# hang or panic of the guest kernel under TCG on a loaded host, before the
# driver under test is even loaded): that boot is retried once, and said so.
for attempt in 1 2; do
"$build/selftests/vmhost" --dir "$work" --timeout "$timeout" "${vmhost_ports[@]}" "${daemon_args[@]}" \
	--plan "$build/selftests/tests.plan" --programs "$programs" -- \
	"$qemu" "${accel[@]}" -name vt,debug-threads=on -m 768 -smp 2 -nodefaults -display none -no-reboot \
	-kernel "$img" -initrd "$logs/initramfs.cpio.gz" -append "$append" \
	-serial "file:$work/console.log" \
	-chardev "socket,id=ctl,path=$work/ctl.sock,server=on,wait=off" -serial chardev:ctl \
	-qmp "unix:$work/qmp.sock,server=on,wait=off" "${daemon_qmp[@]}" \
	${ports[0]:+-device "$vser"} "${qemu_ports[@]}" &
vmhost_pid=$!
wait "$vmhost_pid"
rc=$?
vmhost_pid=
[ $rc = 75 ] && [ $attempt = 1 ] || break
echo "# vmtest: the guest never reached its init; booting it again (first boot's log: $logs/console-boot-hang.log)"
cp -f "$work/console.log" "$logs/console-boot-hang.log" 2>/dev/null
rm -f "$work"/*.sock "$work"/*.log
done
set -e
exit $rc
