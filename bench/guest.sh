#!/bin/bash
# guest.sh [KERNEL] - the guest driver benchmark: boots the same guest once
# with the in-tree virtio_console and once with virtser.ko, runs
# selftests/bench/vtbench.c in each, and prints the figures side by side
# with the ratio ours / in-tree.  Machines are noisy: compare ratios from
# one run, not figures across runs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-6.1}
build=${B:-$top/build}
declare -A val

for d in intree ours; do
	echo "# booting $kernel with $d ..." >&2
	out=$(bash "$top/selftests/vm/run.sh" --kernel "$kernel" --driver "$d" --build "$build" \
		--tests vtbench --tag bench 2>&1) || {
		echo "$out" | tail -n 20 >&2
		echo "bench: the $d run failed (logs in $build/vm/$kernel-$d-bench)" >&2
		exit 1
	}
	while read -r _ tag key v unit; do
		[ "$tag" = BENCH ] || continue
		val[$d.$key]=$v
		val[unit.$key]=$unit
	done <<< "$(grep '^# BENCH ' <<< "$out")"
done

# run.sh chose the accelerator through selftests/vm/accel.sh; ask it again
# (cached) to label the table.
if bash "$top/selftests/vm/accel.sh" "$build" 2>/dev/null | grep -qx kvm; then
	how=KVM
else
	how='QEMU TCG (no working KVM): absolute figures are low, ratios are what count'
fi
printf '\nvirtio-serial guest driver, Linux %s, %s, %s\n' "$kernel" "${QEMU:-qemu-system-x86_64}" "$how"
printf '%-46s %10s %10s %8s\n' "measure" "in-tree" "virtser" "ratio"
row() {	# key label better
	local a=${val[intree.$1]:-} b=${val[ours.$1]:-} r=-
	[ -n "$a" ] && [ -n "$b" ] && r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')
	printf '%-46s %10s %10s %8s  %s\n' "$2 (${val[unit.$1]:-})" "${a:--}" "${b:--}" "$r" "$3"
}
for s in 4K 64K 1024K; do row g2h_$s "guest->host, $s writes" "higher is better"; done
for s in 4K 64K 1024K; do row h2g_$s "host->guest, $s reads" "higher is better"; done
for s in 4K 64K 1024K; do row g2h_${s}_cpu "guest CPU, guest->host, $s writes" "lower is better"; done
for s in 4K 64K 1024K; do row h2g_${s}_cpu "guest CPU, host->guest, $s reads" "lower is better"; done
row rtt_median "64 B round trip, median" "lower is better"
row rtt_p99 "64 B round trip, p99" "lower is better"
row mem_unopened "memory per unopened port" "lower is better"
row mem_open "memory per open port" "lower is better"
