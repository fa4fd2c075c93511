# SPDX-License-Identifier: GPL-2.0
# minivm.sh - sourced by the scripts that boot a guest from an initramfs
# they build themselves (coexist.sh, emerg-panic.sh).  Needs series, top,
# build and name set; sets kver, img, hdr (scripts/kernel-paths.sh), ko,
# accel (selftests/vm/accel.sh: KVM only if a probe proved it), work (a
# fresh directory, removed at exit) and stage ($work/root).  The caller
# sets qemu_pid once QEMU runs: it ends with the script, whatever ends it.
read -r kver img hdr <<EOF2
$(sh "$top/scripts/kernel-paths.sh" "$series")
EOF2
ko=$build/kmod/$series/virtser.ko
[ -f "$ko" ] || { echo "1..0 # SKIP $ko not built"; exit 0; }
accel=$(bash "$top/selftests/vm/accel.sh" "$build")

work=$(mktemp -d "/tmp/vs-$name.XXXXXX")
# QEMU (under timeout, which passes SIGTERM on) ends with us.
qemu_pid=
trap 'if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid"; fi; rm -rf "$work"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
stage=$work/root
