#!/bin/bash
# check.sh BUILDDIR - everything `make check` runs, in order, with one
# summary line at the end ("N passed, M failed, K skipped").
#
#   1. userspace build with -Werror and the unit tests (TAP, every case counted)
#   2. the unit tests again under ASan/UBSan, and under valgrind
#   2b. the fuzzers (control messages, configuration, telnet), briefly
#   3. the module for every supported kernel, warning-free with W=1, plus
#      scripts/kernel-check.sh (checkpatch, sparse) when present
#   4. packaging: make install/uninstall into a DESTDIR with the exact file
#      list, systemd-analyze verify on the unit and the man pages rendered
#      without a warning (scripts/install-check.sh); dkms add, build,
#      install and remove on 6.1 and 6.12 (scripts/dkms-check.sh, root
#      only); make distcheck, and the tarball's kernel/ against git.
#      About 3 minutes together (install-check 5-30 s, dkms-check 1-1.5
#      min, distcheck 75-100 s).
#   5. the VM behaviour suite on each kernel for each driver in VM_DRIVERS,
#      then the hostile-device suite (make hostile, selftests/vtdev/vtdev.ko)
#   5b. the same suite for both drivers through QEMU 10.0 (bookworm-backports,
#      what Debian 13 ships), unpacked into BUILDDIR/qemu-bpo
#   6. virtser.ko's own VM runs on each kernel: 100 load/unload and 1,000
#      hot-plug cycles under traffic (no splat, no slab growth), freeze and
#      restore, coexistence with the in-tree driver, a panic's output
#      through emergency write (multiport and single-port devices), and
#      I/O through a small forced swiotlb pool (make vmtest-bounce), with
#      split and with packed virtqueues
#   6b. the debug kernel lane: the debug guest kernel built once per machine
#      (scripts/debug-kernel.sh, cached in /var/cache/virtser), the module
#      against it, the VM suite, the stress run and the hostile suite for
#      virtser.ko on it,
#      every run ending with a kmemleak scan (the kernel is built in the
#      background from the start); CHECK_DEBUG=0 skips it
#   7. virtserd end to end with a real guest, per kernel and driver:
#      through the daemon both ways, a slow consumer, 100 clients, and QEMU
#      SIGKILLed mid-stream then restarted (the daemon must reconnect)
#   7b. virtserd behind a real libvirtd (make libvirt-check): a private
#      virtlogd and libvirtd, a TCG domain whose virtio channel, virtconsole
#      and ISA serial port virtserd backs, destroy/start and shutdown
#   8. the main job, make demo: a guest with virtser.ko and virtserd on its
#      ports, every step verified
#
# Environment: VM_KERNELS (default "6.1 6.12"), VM_DRIVERS (default
# "intree ours"), CHECK_SKIP_VM=1 to stop after step 4.
set -uo pipefail

B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$B"
B=$(cd "$B" && pwd)
supported=$(awk '!/^#/ { print $1 }' "$top/kernel/kernels.list")
kernels=${VM_KERNELS:-$supported}
drivers=${VM_DRIVERS:-intree ours}
pass=0 fail=0 skip=0
log=$B/check.log
: > "$log"
start=$(date +%s)

# Each heading says when the step began, so a slow step shows in the log.
step() { printf '\n== %s  [t=%d s]\n' "$*" $(( $(date +%s) - start )); }
count() {	# count NAME STATUS
	case "$2" in
	0) pass=$((pass + 1)); echo "ok - $1" ;;
	77) skip=$((skip + 1)); echo "ok - $1 # SKIP" ;;
	*) fail=$((fail + 1)); echo "not ok - $1" ;;
	esac
}
# Add a "# PASS: N / # FAIL: N" automake summary to the totals.
add_automake() {
	local p f s e
	p=$(sed -n 's/^# PASS: *\([0-9]*\)$/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^# FAIL: *\([0-9]*\)$/\1/p' "$1" | tail -n 1)
	e=$(sed -n 's/^# ERROR: *\([0-9]*\)$/\1/p' "$1" | tail -n 1)
	s=$(sed -n 's/^# SKIP: *\([0-9]*\)$/\1/p' "$1" | tail -n 1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0})); skip=$((skip + ${s:-0}))
	[ -n "$p" ] || { fail=$((fail + 1)); echo "not ok - $2 produced no summary"; }
}
# Add the ok / not ok lines of a plain TAP log.
add_tap() {
	local p f k
	p=$(grep -cE '^ok ' "$1")
	k=$(grep -cE '^ok .*# SKIP' "$1")
	f=$(grep -cE '^not ok ' "$1")
	pass=$((pass + p - k)); skip=$((skip + k)); fail=$((fail + f))
	[ $((p + f)) -gt 0 ] || { fail=$((fail + 1)); echo "not ok - $2 ran no test"; }
}
# A TAP script's log and exit status: its ok / not ok lines, or one skip
# when it exits 77, and a failure if it failed without saying so.
add_script() {	# add_script LOG STATUS NAME
	if [ "$2" = 77 ]; then
		grep -E '^1\.\.0 # SKIP' "$1"
		count "$3" 77
		return
	fi
	grep -E '^(not ok|ok)' "$1"
	add_tap "$1" "$3"
	if [ "$2" != 0 ] && ! grep -qE '^not ok ' "$1"; then
		fail=$((fail + 1)); echo "not ok - $3 exited with status $2"
	fi
}
# Add the VM suite's own "N passed, M failed, K skipped" line.  A run that
# did not check its programs against the build's plan (vmhost's "plan:"
# line: every program ran and reported as many results as its source has
# tests) fails, unless it was skipped as a whole.
add_vm() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1)); echo "not ok - $2 produced no summary"; return
	fi
	if ! grep -q '^# vmhost: plan: ' "$1" && ! grep -q '^1\.\.0 # SKIP' "$1"; then
		fail=$((fail + 1)); echo "not ok - $2 did not check its test count"
	fi
	set -- $line
	pass=$((pass + $1)); fail=$((fail + $3)); skip=$((skip + ${5:-0}))
}

# One VM run: its heading, its log in BUILDDIR/NAME.log, what it found
# (TAP failures, the rig's notes, kernel splats) and its summary line.
vm_run() {	# vm_run "HEADING" NAME COMMAND...
	local title=$1 name=$2
	shift 2
	step "$title"
	"$@" > "$B/$name.log" 2>&1
	grep -E '^(not ok|ok|# vmtest|# vmhost|# kernel)|cycles:' "$B/$name.log" |
		grep -v '^ok [0-9]\|^ok - guest' || true
	grep -E '^[0-9]+ passed' "$B/$name.log"
	add_vm "$B/$name.log" "$name"
}

cd "$top" || exit 1

# The debug guest kernel takes about 8 minutes to build the first time on
# a machine; build it at low priority beside the steps that do not boot a
# guest, and wait for it when its lane comes.  It ends with make check.
dk_pid=
if [ "${CHECK_SKIP_VM:-0}" != 1 ] && [ "${CHECK_DEBUG:-1}" = 1 ]; then
	t_dk=$(date +%s)
	setsid nice -n 19 bash scripts/debug-kernel.sh 6.1 > "$B/debug-kernel.log" 2>&1 &
	dk_pid=$!
	trap '[ -z "$dk_pid" ] || kill -- -"$dk_pid" 2>/dev/null' EXIT
	trap 'exit 130' INT TERM HUP
fi

step "configure and build (userspace, -Werror)"
if [ ! -f "$B/config.status" ]; then
	./autogen.sh >>"$log" 2>&1 && (cd "$B" && "$top/configure" --enable-werror) >>"$log" 2>&1
	count "configure" $?
fi
make -C "$B" -j2 >>"$log" 2>&1
count "userspace build" $?

step "unit tests"
make -C "$B" -j2 check > "$B/unit.log" 2>&1
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL):|^# (TOTAL|PASS|FAIL|SKIP|ERROR)' "$B/unit.log"
add_automake "$B/unit.log" "unit tests"

step "unit tests under ASan/UBSan"
mkdir -p "$B/san"
if [ ! -f "$B/san/config.status" ]; then
	(cd "$B/san" && "$top/configure" --enable-werror --enable-sanitizers) >>"$log" 2>&1
fi
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -C "$B/san" -j2 check > "$B/san.log" 2>&1
grep -E '^(FAIL|ERROR):|^# (TOTAL|PASS|FAIL|ERROR)' "$B/san.log"
add_automake "$B/san.log" "sanitizer unit tests"

# The C unit tests: the shell tests would run here as they did above,
# not under valgrind (that is the next step, through VS_WRAP).
step "unit tests under valgrind"
make -C "$B" -j2 check TESTS='$(UNIT_TESTS)' LOG_COMPILER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	> "$B/valgrind.log" 2>&1
grep -E '^(FAIL|ERROR):|^# (TOTAL|PASS|FAIL|ERROR)' "$B/valgrind.log"
add_automake "$B/valgrind.log" "valgrind unit tests"

step "virtserd integration tests with the daemon under valgrind"
# The shell tests start the daemon through $VS_WRAP.
VS_WRAP="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite" \
	make -C "$B" -j2 check TESTS='$(HOST_SHTESTS)' \
	> "$B/valgrind-daemon.log" 2>&1
grep -E '^(FAIL|ERROR):|^# (TOTAL|PASS|FAIL|ERROR)' "$B/valgrind-daemon.log"
add_automake "$B/valgrind-daemon.log" "virtserd under valgrind"

step "fuzzers (clang libFuzzer, ASan/UBSan), ${FUZZ_SECS:-20} s each"
# Control-message parser, the port table's state machine (sequences of
# messages and completions through proto/'s rules), configuration parser
# (parse, print the canonical form, parse again: the same), telnet codec
# (split reads, round trip).
mkdir -p "$B/fuzz"
if [ ! -f "$B/fuzz/config.status" ]; then
	(cd "$B/fuzz" && "$top/configure" CC=clang --enable-fuzzing) >>"$log" 2>&1
fi
fuzzers=(kernel/tests/fuzz_proto kernel/tests/fuzz_state host/tests/fuzz-config host/tests/fuzz-telnet
	 host/tests/fuzz-qmp host/tests/fuzz-lvxml)
make -C "$B/fuzz" -j2 "${fuzzers[@]}" >>"$log" 2>&1
count "fuzzers build" $?
# One fuzzer: its seed corpus, then FUZZ_SECS of fuzzing; its exit status
# goes to BUILDDIR/fuzz/NAME.st.
fuzz_one() {
	local f=$1 corpus=$B/fuzz/corpus-${1##*/}
	mkdir -p "$corpus"
	case $f in
	*/fuzz-config) cp host/tests/data/*.in.xml host/virtserd.xml "$corpus"/ ;;
	*/fuzz-lvxml) cp host/tests/data/lvdom-*.xml "$corpus"/ ;;
	*/fuzz_state) cp kernel/tests/corpus/fuzz_state/* "$corpus"/ ;;
	*/fuzz-qmp)	# read size 7, then what QEMU says to virtserd
		printf '\007{"QMP": {"capabilities": []}}\r\n{"return": "ch0", "id": 1000}\r\n%s\r\n%s\r\n' \
			'{"return": [{"frontend-open": false, "label": "ch0"}], "id": 2}' \
			'{"event": "VSERPORT_CHANGE", "data": {"open": true, "id": "p4"}}' > "$corpus/qemu" ;;
	esac
	(cd "$B/fuzz" && ./$f -max_total_time="${FUZZ_SECS:-20}" -rss_limit_mb=2048 \
		-artifact_prefix="$B/fuzz/${f##*/}-" "$corpus") > "$B/fuzz/${f##*/}.log" 2>&1
	echo $? > "$B/fuzz/${f##*/}.st"
}
# Two at a time: each is one process on one core.  (Waiting on their pids
# only: the debug kernel's build is a child of this shell too.)
for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
	pids=()
	for f in "${fuzzers[i]}" "${fuzzers[i + 1]:-}"; do
		[ -n "$f" ] || continue
		rm -f "$B/fuzz/${f##*/}.st"
		fuzz_one "$f" &
		pids+=($!)
	done
	wait "${pids[@]}"
done
for f in "${fuzzers[@]}"; do
	st=$(cat "$B/fuzz/${f##*/}.st" 2>/dev/null) || st=1
	[ "$st" = 0 ] || grep -E 'ERROR|SUMMARY|artifact' "$B/fuzz/${f##*/}.log" | head -n 5
	count "fuzz ${f##*/}: $(grep -o 'Done [0-9]* runs' "$B/fuzz/${f##*/}.log" || echo 'no run')" "$st"
done

# A make target built with W=1 (and FLAGS): it must build, and print
# nothing but kbuild's progress lines: no compiler or sparse diagnostic.
build_w1() {	# build_w1 TARGET "WHAT" [FLAGS]
	make -s "$1" B="$B" KBUILD_FLAGS="W=1 ${3:-}" > "$B/$1.log" 2>&1
	local st=$?
	if [ $st = 0 ] && grep -v -E '^  (CC|LD|CHECK|MODPOST|BTF|AR)( \[M\])? |^make(\[[0-9]+\])?: (Entering|Leaving) directory|^Skipping BTF generation' \
			"$B/$1.log" | grep .; then
		st=1
	fi
	count "$2" $st
}

# From scratch, so that sparse (C=1) sees every file; kernel-check.sh then
# does not build them again (KERNEL_CHECK_BUILT).
step "kernel module on every supported kernel (W=1, sparse)"
for k in $supported; do
	rm -rf "$B/kmod/$k" "$B/vtdev/$k"
	build_w1 module-$k "virtser.ko builds warning-free against $k (W=1 C=1)" C=1
	build_w1 vtdev-$k "vtdev.ko (test device) builds warning-free against $k (W=1 C=1)" C=1
done
if [ -f scripts/kernel-check.sh ]; then
	KERNEL_CHECK_BUILT=1 sh scripts/kernel-check.sh "$B" > "$B/kernel-check.log" 2>&1
	st=$?
	tail -n 5 "$B/kernel-check.log"
	count "kernel-check (checkpatch --strict, sparse)" $st
fi

step "packaging: make install and uninstall (scripts/install-check.sh)"
bash scripts/install-check.sh "$B" > "$B/install-check.log" 2>&1
add_script "$B/install-check.log" $? "install-check"

step "packaging: DKMS on every supported kernel (scripts/dkms-check.sh)"
bash scripts/dkms-check.sh "$B" > "$B/dkms-check.log" 2>&1
add_script "$B/dkms-check.log" $? "dkms-check"

step "packaging: make distcheck"
t0=$(date +%s)
make -C "$B" -j2 distcheck > "$B/distcheck.log" 2>&1
st=$?
[ $st = 0 ] || grep -E '^(FAIL|ERROR)|Error|ERROR|fatal:' "$B/distcheck.log" | tail -n 10
count "make distcheck ($(( $(date +%s) - t0 )) s)" $st
# The module's sources go into the tarball by name (kernel/local.mk): every
# tracked one, and nothing that is not in the source tree (objects, logs,
# configure's virtser_config.h from the build tree).
ver=$(sed -n 's/^AC_INIT(\[virtser\], *\[\([^]]*\)\].*/\1/p' configure.ac)
tar -tzf "$B/virtser-$ver.tar.gz" 2>/dev/null |
	sed -n "s,^virtser-$ver/\(kernel/.*[^/]\)$,\1,p" | sort > "$B/dist-kernel.list"
st=0
for f in $(git ls-files kernel | grep -v '/\.'); do
	grep -qxF "$f" "$B/dist-kernel.list" || { echo "# missing from the tarball: $f"; st=1; }
done
while read -r f; do
	[ -f "$f" ] && [[ $f != */.* ]] || { echo "# not a source file: $f"; st=1; }
done < "$B/dist-kernel.list"
count "the tarball's kernel/: every tracked file, no build product" $st

if [ "${CHECK_SKIP_VM:-0}" != 1 ]; then
	for d in $drivers; do
		for k in $kernels; do
			vm_run "VM behaviour suite: KERNEL=$k DRIVER=$d" vmtest-$k-$d \
				make -s vmtest KERNEL=$k DRIVER=$d B="$B"
		done
	done
	# Paced console input gets a boot of its own: after it, the in-tree
	# driver sometimes missed the next programs' host connects (not
	# understood yet; Documentation/testing.rst).
	for d in $drivers; do
		for k in $kernels; do
			vm_run "paced console input: KERNEL=$k DRIVER=$d" console-$k-$d \
				bash selftests/vm/run.sh --kernel $k --driver $d --build "$B" \
				--tests console_flow --tag console
		done
	done
	for d in $drivers; do
		for k in $kernels; do
			vm_run "hostile-device suite: KERNEL=$k DRIVER=$d" hostile-$k-$d \
				make -s hostile KERNEL=$k DRIVER=$d B="$B"
		done
	done
	step "QEMU 10.0 from bookworm-backports (scripts/qemu-backports.sh)"
	qemu10=$(bash scripts/qemu-backports.sh "$B" 2>>"$log")
	count "QEMU 10.0 fetched and unpacked into $B/qemu-bpo" $?
	# Both drivers: the in-tree failures seen here came after console_flow
	# in the same boot, which now has a boot of its own.
	if [ -n "$qemu10" ]; then
		for d in $drivers; do
			for k in $kernels; do
				vm_run "VM behaviour suite on QEMU 10.0: KERNEL=$k DRIVER=$d" \
					vmtest-$k-$d-qemu10 env QEMU="$qemu10" \
					make -s vmtest KERNEL=$k DRIVER=$d B="$B" VMTAG=qemu10
			done
		done
	fi
fi

if [ "${CHECK_SKIP_VM:-0}" != 1 ] && [[ " $drivers " == *" ours "* ]]; then
	for k in $kernels; do
		vm_run "virtser.ko stress, PM and memory runs: KERNEL=$k" stress-$k \
			bash selftests/vm/run.sh --kernel $k --driver ours --build "$B" \
			--tests virtser_stress --tag stress --append "vs.load=100 vs.plug=1000"

		# Its tests skip on the in-tree driver, which has no zero-copy.
		vm_run "writes through a small swiotlb bounce pool: KERNEL=$k" bounce-$k \
			make -s vmtest-bounce KERNEL=$k DRIVER=ours B="$B"
		# Packed rings report a failed mapping as -EIO, not -ENOMEM.
		vm_run "the same with packed virtqueues: KERNEL=$k" bounce-packed-$k \
			make -s vmtest-bounce KERNEL=$k DRIVER=ours B="$B" PACKED=1

		step "coexistence with the in-tree driver: KERNEL=$k"
		sh selftests/vm/coexist.sh $k "$B" > "$B/coexist-$k.log" 2>&1
		grep -E '^(not ok|ok)' "$B/coexist-$k.log"
		add_tap "$B/coexist-$k.log" "coexist $k"

		for mode in multiport single; do
			step "kernel panic through emergency write: KERNEL=$k, $mode device"
			sh selftests/vm/emerg-panic.sh $k "$B" $mode > "$B/emerg-$k-$mode.log" 2>&1
			grep -E '^(not ok|ok)' "$B/emerg-$k-$mode.log"
			add_tap "$B/emerg-$k-$mode.log" "emerg-panic $k $mode"
		done
	done
fi

# The debug kernel lane: the same suite, and virtser.ko's stress runs, on a
# guest kernel with KASAN, KFENCE, lockdep, atomic-sleep checks, kmemleak
# and the hang detectors; any report from them fails the run (vmhost's
# splat list), and each run ends with a kmemleak scan (selftests/vm/init).
# CHECK_DEBUG=0 skips it.
if [ -n "$dk_pid" ]; then
	step "debug guest kernel: build or reuse (scripts/debug-kernel.sh)"
	wait "$dk_pid"
	st=$?
	dk_pid=
	cat "$B/debug-kernel.log"
	count "debug kernel 6.1-debug ready ($(( $(date +%s) - t_dk )) s since make check began)" $st
	if [ $st = 0 ]; then
		build_w1 module-6.1-debug "virtser.ko builds warning-free against 6.1-debug"
		# virtser.ko only: the lane is there to find our bugs, and each
		# debug boot costs minutes (make vmtest KERNEL=6.1-debug
		# DRIVER=intree runs the in-tree driver there).
		for d in $(for x in $drivers; do [ "$x" = ours ] && echo ours; done); do
			vm_run "VM behaviour suite: KERNEL=6.1-debug DRIVER=$d" vmtest-6.1-debug-$d \
				make -s vmtest KERNEL=6.1-debug DRIVER=$d B="$B"
		done
		if [[ " $drivers " == *" ours "* ]]; then
			vm_run "virtser.ko stress, PM and memory runs: KERNEL=6.1-debug" stress-6.1-debug \
				bash selftests/vm/run.sh --kernel 6.1-debug --driver ours --build "$B" \
				--tests virtser_stress --tag stress --append "vs.load=10 vs.plug=100"
			vm_run "hostile-device suite: KERNEL=6.1-debug DRIVER=ours" hostile-6.1-debug-ours \
				make -s hostile KERNEL=6.1-debug DRIVER=ours B="$B"
			# 20 s of typing as on the other kernels, but a write
			# every 4 ms, not 0.5 (10 KB/s, about a 115200-baud
			# line): the debug guest's tty layer takes about 3 KB/s
			# through getty, echo and cat, and would need 9 minutes
			# to drain 20 s at the usual 80 KB/s.
			vm_run "paced console input: KERNEL=6.1-debug DRIVER=ours" console-6.1-debug-ours \
				bash selftests/vm/run.sh --kernel 6.1-debug --driver ours --build "$B" \
				--tests console_flow --tag console --append "vt.paced_ms=20000 vt.paced_tick_us=4000"
		fi
	fi
fi

if [ "${CHECK_SKIP_VM:-0}" != 1 ]; then
	for d in $drivers; do
		for k in $kernels; do
			vm_run "virtserd end to end with a real guest: KERNEL=$k DRIVER=$d" daemon-$k-$d \
				bash selftests/vm/run.sh --kernel $k --driver $d --build "$B" --daemon \
				--tests "daemon_e2e daemon_qmp daemon_kill|daemon_restart" --tag daemon
		done
	done

	# CHECK_LIBVIRT=0 skips it.  2 of 17 runs stalled on console input in
	# an earlier session; none of the runs since (testing.rst).
	if [ "${CHECK_LIBVIRT:-1}" = 1 ]; then
		step "virtserd behind libvirt (selftests/libvirt/libvirt-check.sh)"
		bash selftests/libvirt/libvirt-check.sh --build "$B" > "$B/libvirt-check.log" 2>&1
		add_script "$B/libvirt-check.log" $? "libvirt-check"
	fi

	step "the main job: make demo"
	bash demo/demo.sh --build "$B" > "$B/demo.log" 2>&1
	st=$?
	grep -E 'ok:|FAILED|demo:' "$B/demo.log"
	count "make demo: every step verified" $st
fi

step "summary"
echo "wall time: $(( $(date +%s) - start )) s; logs in $B"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
