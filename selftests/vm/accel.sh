#!/bin/bash
# accel.sh BUILDDIR - print the QEMU accelerator arguments every guest boot
# of the rig uses, one per line, and say on stderr which one and why.
#
# /dev/kvm being there and writable proves nothing: on some machines (a
# microVM host, nested virtualisation without MSR support) QEMU aborts with
# -cpu host or the guest hangs silently with other models.  So KVM is used
# only after a probe boot of the guest kernel under it reached a tiny init
# that printed a marker within a deadline.  The answer is kept in
# BUILDDIR/vm/accel-* for the life of this machine boot (keyed by the boot id
# and the QEMU binary), so one make invocation probes at most once and every
# script that boots a guest (run.sh, demo.sh, bench/guest.sh, the coexistence
# and panic runs) decides the same way.
#
# Environment: QEMU (the binary, default qemu-system-x86_64), VT_NO_KVM=1
# to force TCG, VT_PROBE_SECS (probe deadline, default 45).
set -euo pipefail

build=${1:?usage: accel.sh BUILDDIR}
qemu=${QEMU:-qemu-system-x86_64}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tcg=(-accel tcg)
kvm=(-accel kvm -cpu host)

say() { echo "# accel: $*" >&2; }
emit() { printf '%s\n' "$@"; }

if [ "${VT_NO_KVM:-0}" = 1 ]; then
	say "TCG (VT_NO_KVM=1)"
	emit "${tcg[@]}"
	exit 0
fi
if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	say "TCG (no usable /dev/kvm)"
	emit "${tcg[@]}"
	exit 0
fi

qbin=$(command -v "$qemu") || { echo "accel.sh: no QEMU binary '$qemu'" >&2; exit 2; }
key="$(cat /proc/sys/kernel/random/boot_id) $qbin $(stat -Lc '%s.%Y' "$qbin")"
mkdir -p "$build/vm"
cache=$build/vm/accel-$(printf '%s' "$qbin" | md5sum | cut -c1-8)	# one per QEMU
exec 9>>"$cache.lock"
flock 9	# a second script in this build tree waits for the first probe

if [ -f "$cache" ] && [ "$(head -n 1 "$cache")" = "$key" ]; then
	read -r answer reason < <(sed -n 2p "$cache")
	say "$answer ($reason; cached in $cache)"
	[ "$answer" = KVM ] && emit "${kvm[@]}" || emit "${tcg[@]}"
	exit 0
fi

# The probe: the 6.1 guest kernel (any installed series will do) and an
# initramfs whose init prints one line and powers off.
read -r _ img _ < <(sh "$top/scripts/kernel-paths.sh" 6.1 2>/dev/null ||
		    sh "$top/scripts/kernel-paths.sh" 6.12)
work=$(mktemp -d "${TMPDIR:-/tmp}/vt-accel.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/dev"
cp /bin/busybox "$work/root/bin/busybox"
cat > "$work/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox echo "vt-accel-probe: userspace reached" > /dev/ttyS0
/bin/busybox poweroff -f
EOF
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null | gzip) > "$work/initrd.gz"

secs=${VT_PROBE_SECS:-45}
# The status comes out of a command substitution, so that QEMU aborting is
# logged, not reported on this script's stderr.
{ st=$(timeout -k 5 "$secs" "$qbin" "${kvm[@]}" -m 256 -smp 1 -nodefaults -display none \
	-no-reboot -kernel "$img" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet" -serial "file:$work/serial.log" \
	> "$work/qemu.log" 2>&1; echo $?); } 2>/dev/null
if grep -q 'vt-accel-probe: userspace reached' "$work/serial.log" 2>/dev/null; then
	answer=KVM reason="a probe boot under KVM reached userspace"
elif [ $st = 124 ] || [ $st = 137 ]; then
	answer=TCG reason="KVM present but a probe boot hung for ${secs} s"
else
	why=$(grep -v '^$' "$work/qemu.log" | tail -n 1 | cut -c1-120)
	answer=TCG reason="KVM present but QEMU failed under it (status $st${why:+: $why})"
fi
printf '%s\n%s %s\n' "$key" "$answer" "$reason" > "$cache"
say "$answer ($reason)"
[ "$answer" = KVM ] && emit "${kvm[@]}" || emit "${tcg[@]}"
