#!/bin/bash
# debug-kernel.sh SERIES - build (once) and locate the debug guest kernel of
# SERIES (6.1): Debian's linux-source-SERIES, allnoconfig with
# selftests/vm/debug.config merged onto it (KASAN, KFENCE, lockdep,
# atomic-sleep checks, kmemleak, hung-task and soft-lockup detectors, and
# only what the rig's guest uses), with virtio, virtio_pci and
# virtio_console as modules.
#
# Prints "KVER VMLINUZ KDIR MODROOT" like scripts/kernel-paths.sh, plus
# the root that holds lib/modules/KVER.  KDIR is the built tree, which
# kbuild takes for out-of-tree modules.
#
# The build takes about 8 minutes on 2 idle cores, so it is cached outside
# the checkout, in $VT_DEBUG_CACHE (default /var/cache/virtser), keyed by
# the linux-source package version and the hash of debug.config and this
# script: only the first run on a machine pays for it.  Concurrent runs
# wait for one build.  --check prints the paths only if the build is
# cached and exits 1 otherwise.
set -euo pipefail

check_only=0
[ "${1:-}" = --check ] && { check_only=1; shift; }
series=${1:?usage: debug-kernel.sh [--check] SERIES}
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/selftests/vm/debug.config
tarball=/usr/src/linux-source-$series.tar.xz

srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null) ||
	{ echo "debug-kernel: linux-source-$series is not installed" >&2; exit 1; }
hash=$(cat "$frag" "$0" | sha256sum | cut -c1-12)
root=${VT_DEBUG_CACHE:-/var/cache/virtser}/debug-kernel
out=$root/$series-$srcver-$hash

report() {
	local kver
	kver=$(cat "$out/kernelrelease")
	echo "$kver $out/vmlinuz $out/src $out/mods"
}
[ -f "$out/done" ] && { report; exit 0; }
[ $check_only = 1 ] && exit 1

mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
[ -f "$out/done" ] && { report; exit 0; }

echo "debug-kernel: building linux-source $srcver with debug.config into $out (about 8 min on 2 cores)" >&2
rm -rf "$out" && mkdir -p "$out"
t0=$(date +%s)
tar -C "$out" -xf "$tarball"
mv "$out/linux-source-$series" "$out/src"
cd "$out/src"
log=$out/build.log
{
	make -s allnoconfig
	scripts/kconfig/merge_config.sh -m .config "$frag"
	make -s olddefconfig
} > "$log" 2>&1 || { echo "debug-kernel: configuration failed, see $log" >&2; exit 1; }
# merge_config only warns when Kconfig overrides a request: check that
# every line of debug.config holds in the result.  An option switched off
# must be there as "is not set", which also proves that this kernel has it
# (a misspelt or renamed one would otherwise pass as absent).
bad=0
while IFS= read -r line; do
	case $line in
	''|'#'*) ;;
	CONFIG_*=n) grep -qxF "# ${line%=n} is not set" .config ||
		{ echo "debug-kernel: ${line%=n} is not off (or unknown) after merging" >&2; bad=1; } ;;
	CONFIG_*=*) grep -qxF "$line" .config ||
		{ echo "debug-kernel: not $line after merging" >&2; bad=1; } ;;
	*) echo "debug-kernel: debug.config: not an option line: $line" >&2; bad=1 ;;
	esac
done < "$frag"
[ $bad = 0 ] || exit 1
# The early-boot hang under TCG comes with the RCU-tasks self test
# (debug.config): nothing may bring TASKS_RCU back.
if grep -E '^CONFIG_(TASKS_RCU|TASKS_RUDE_RCU|TASKS_TRACE_RCU|PREEMPTION)=y' .config >&2; then
	echo "debug-kernel: set after merging, and must not be (see debug.config)" >&2
	exit 1
fi
nice make -j"$(nproc)" bzImage modules >> "$log" 2>&1 ||
	{ echo "debug-kernel: build failed, see $log" >&2; tail -n 20 "$log" >&2; exit 1; }
make -s modules_install INSTALL_MOD_PATH="$out/mods" >> "$log" 2>&1
cp arch/x86/boot/bzImage "$out/vmlinuz"
make -s kernelrelease > "$out/kernelrelease"
echo "debug-kernel: built $(cat "$out/kernelrelease") in $(( $(date +%s) - t0 )) s" >&2
touch "$out/done"
report
