#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kernel-check.sh [BUILDDIR] - style and static checks of virtser.ko
# (and of the test rig's selftests/vtdev/vtdev.ko: steps 1 and 2 too).
#
#  1. checkpatch.pl --strict over the module sources (kernel/*.[ch],
#     kernel/proto/*.[ch]).  checkpatch is not in linux-headers, so it is
#     extracted at check time from Debian's linux-source-6.1 tarball into
#     BUILDDIR/kernel-check/ (never committed), with its spelling list.
#     scripts/kernel-doc -none checks the kernel-doc comments the same way.
#  2. For each supported kernel (6.1, 6.12): a full rebuild with W=1 and
#     C=1 (sparse), in a scratch object directory so the module that
#     `make modules` built is left alone; then scripts/callgraph.sh --functions
#     on its objects (no file calls back into a file that calls it).
#     With KERNEL_CHECK_BUILT=1 the caller has just built BUILDDIR/kmod/K
#     and BUILDDIR/vtdev/K from scratch with W=1 C=1 and checked their
#     output itself (scripts/check.sh does): no rebuild, the call graph
#     is checked on those objects.
#
# Exits non-zero if any step prints a warning or fails.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/kernel-check
tarball=${VIRTSER_CHECKPATCH_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
kernels=${VIRTSER_KERNELS:-$(awk '!/^#/ { print $1 }' "$top/kernel/kernels.list")}
fail=0

mkdir -p "$out"
if [ ! -f "$out/scripts/checkpatch.pl" ] || [ ! -f "$out/scripts/kernel-doc" ]; then
	[ -f "$tarball" ] || { echo "kernel-check: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
	tar -C "$out" --strip-components=1 -xJf "$tarball" \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/scripts/kernel-doc
fi
command -v sparse >/dev/null || { echo "kernel-check: sparse is not installed" >&2; exit 1; }

echo "== checkpatch --strict"
cd "$top"
log=$out/checkpatch.log
# --no-tree: this is not a kernel tree.  --terse prints nothing for a
# clean file and one line per issue otherwise.
: > "$log"
n=0
for f in kernel/*.c kernel/*.h kernel/proto/*.c kernel/proto/*.h \
	 selftests/vtdev/*.c selftests/vtdev/*.h; do
	n=$((n + 1))
	perl "$out/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		-f "$f" >> "$log" 2>&1 || echo "$f: checkpatch exited non-zero" >> "$log"
done
if grep -q . "$log"; then
	cat "$log"
	fail=1
else
	echo "clean ($n files)"
fi

echo "== kernel-doc"
log=$out/kernel-doc.log
perl "$out/scripts/kernel-doc" -none kernel/*.c kernel/*.h kernel/proto/*.c \
	kernel/proto/*.h > "$log" 2>&1 || echo "kernel-doc exited non-zero" >> "$log"
if grep -q . "$log"; then
	cat "$log"
	fail=1
else
	echo "clean"
fi

# rebuild BUILD.SH HEADERS OBJDIR LOG: from scratch with W=1 C=1; anything
# but kbuild's progress lines is a diagnostic and fails the check.
rebuild() {
	rm -rf "$3"
	if ! sh "$1" "$2" "$3" W=1 C=1 > "$4" 2>&1; then
		cat "$4"
		fail=1
		return 1
	fi
	if grep -v -E '^  (CC|LD|CHECK|MODPOST|BTF|AR)( \[M\])? |^make(\[[0-9]+\])?: (Entering|Leaving) directory|^Skipping BTF generation' "$4" | grep -q .; then
		cat "$4"
		fail=1
	else
		echo "clean ($kver, $(grep -c '  CHECK ' "$4") files through sparse)"
	fi
}

for k in $kernels; do
	echo "== W=1 C=1 against $k"
	read -r kver img hdr <<-EOF2
	$(sh "$top/scripts/kernel-paths.sh" "$k")
	EOF2
	if [ "${KERNEL_CHECK_BUILT:-0}" = 1 ]; then
		objdir=$build/kmod/$k
		echo "built and checked by the caller ($kver)"
	else
		objdir=$out/obj-$k
		rebuild "$top/kernel/scripts/build.sh" "$hdr" "$objdir" "$out/build-$k.log" || continue
	fi
	# No file of the module calls back into one that calls it.
	if cg=$(bash "$top/scripts/callgraph.sh" --functions "$objdir"/virtser_*.o \
		"$objdir"/proto/*.o 2>&1); then
		echo "call graph: no cycle among virtser.ko's files ($kver)"
	else
		echo "call graph: the files of virtser.ko call each other in a circle ($kver):"
		echo "$cg"
		fail=1
	fi
done

# The test rig's device module, the same way (selftests/vtdev/build.sh).
for k in $kernels; do
	echo "== vtdev.ko: W=1 C=1 against $k"
	read -r kver img hdr <<-EOF2
	$(sh "$top/scripts/kernel-paths.sh" "$k")
	EOF2
	if [ "${KERNEL_CHECK_BUILT:-0}" = 1 ]; then
		echo "built and checked by the caller ($kver)"
		continue
	fi
	rebuild "$top/selftests/vtdev/build.sh" "$hdr" "$out/vtdev-$k" "$out/build-vtdev-$k.log" || true
done

[ $fail -eq 0 ] && echo "kernel-check: all clean"
exit $fail
