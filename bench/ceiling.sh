#!/bin/bash
# ceiling.sh [KERNEL] - the driver-ceiling benchmark: boots the same guest
# once with the in-tree virtio_console and once with virtser.ko, with
# vtdev.ko (the in-guest programmable device, selftests/vtdev/) as the only
# console device instead of QEMU's, runs selftests/bench/vtceiling.c in
# each and prints the figures side by side with the ratio virtser/in-tree.
# QEMU's device model is out of the path, so what differs is the driver;
# what vtdev does per byte (the same for both) is said in vtceiling.c.
#
# Every row starts with "ceiling"; throughput and CPU rows name the
# direction (g2h, h2g) and the call size (4K, 64K, 1M) and end with the
# ratio written as 1.23x; CPU rows say "cpu".  memcpy rows are the limit,
# measured in each guest.  "zerocopy" rows are virtser.ko's writes with
# tx_zerocopy=Y (the opt-in; only 1M is large enough to be lent, 4K and 64K
# take the copy path) against the in-tree driver's ordinary writes.
#
# CEILING_MIB (default 256) is the size of each transfer; machines are
# noisy: compare ratios from one run, not figures across runs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-6.1}
build=${B:-$top/build}
mib=${CEILING_MIB:-256}
declare -A val

for d in intree ours; do
	echo "# booting $kernel with $d and vtdev.ko ..." >&2
	out=$(bash "$top/selftests/vm/run.sh" --kernel "$kernel" --driver "$d" --build "$build" \
		--vtdev --tests vtceiling --tag ceiling --append "vt.ceiling_mib=$mib" 2>&1) || {
		echo "$out" | tail -n 20 >&2
		echo "ceiling: the $d run failed (logs in $build/vm/$kernel-$d-ceiling)" >&2
		exit 1
	}
	# run.sh skips (and succeeds) when virtser.ko is not built: say so.
	grep -q '^# CEIL ' <<< "$out" || {
		echo "$out" | tail -n 5 >&2
		echo "ceiling: the $d run printed no figures" >&2
		exit 1
	}
	while read -r _ tag key v unit; do
		[ "$tag" = CEIL ] || continue
		val[$d.$key]=$v
		val[unit.$key]=$unit
	done <<< "$(grep '^# CEIL ' <<< "$out")"
done

if bash "$top/selftests/vm/accel.sh" "$build" 2>/dev/null | grep -qx kvm; then
	how=KVM
else
	how='QEMU TCG (no working KVM)'
fi
printf '\ndriver ceiling: vtdev.ko in the guest, Linux %s, %s, %s MiB per transfer, median of 5\n' \
	"$kernel" "$how" "$mib"
printf '%-38s %10s %8s %10s %8s %7s\n' "" "in-tree" "memcpy" "virtser" "memcpy" "ratio"

ratio() {	# a b -> b/a as 1.23x
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b != "") printf "%.2fx", b / a; else print "-" }'
}
frac() {	# v limit -> v as a percentage of limit
	awk -v v="$1" -v l="$2" 'BEGIN { if (l > 0 && v != "") printf "%.1f%%", 100 * v / l; else print "-" }'
}
row() {		# key label [memcpy-key [virtser's key]]
	local a=${val[intree.$1]:-} b=${val[ours.${4:-$1}]:-} fa=- fb=-
	if [ -n "${3:-}" ]; then
		fa=$(frac "$a" "${val[intree.$3]:-}")
		fb=$(frac "$b" "${val[ours.$3]:-}")
	fi
	printf '%-38s %10s %8s %10s %8s %7s\n' "ceiling $2 (${val[unit.$1]:-})" \
		"${a:--}" "$fa" "${b:--}" "$fb" "$([ -n "$a" ] && [ -n "$b" ] && ratio "$a" "$b" || echo -)"
}
for s in 4K 64K 1024K; do
	l=${s/1024K/1M}
	row memcpy_$s "memcpy $l"
done
for dir in g2h h2g; do
	for s in 4K 64K 1024K; do
		l=${s/1024K/1M}
		row ${dir}_$s "$dir $l" memcpy_$s
	done
done
for dir in g2h h2g; do
	for s in 4K 64K 1024K; do
		l=${s/1024K/1M}
		row ${dir}_${s}_cpu "$dir $l cpu"
	done
done
for s in 4K 64K 1024K; do
	l=${s/1024K/1M}
	row g2h_$s "zerocopy g2h $l" memcpy_$s zc_g2h_$s
done
for s in 4K 64K 1024K; do
	l=${s/1024K/1M}
	row g2h_${s}_cpu "zerocopy g2h $l cpu" "" zc_g2h_${s}_cpu
done
row rtt_median "rtt 64B median"
row rtt_p99 "rtt 64B p99"
# memcpy does not depend on the driver: when its ratio is far from 1.00x
# the host was busier during one boot than during the other.
for s in 4K 64K 1024K; do
	r=$(ratio "${val[intree.memcpy_$s]:-0}" "${val[ours.memcpy_$s]:-}")
	awk -v r="${r%x}" 'BEGIN { exit !(r == "-" || r < 0.8 || r > 1.25) }' && {
		echo "ceiling: memcpy ${s/1024K/1M} differs between the two boots ($r): the host load changed, rerun for ratios"
		break
	}
done
echo "(memcpy columns: each throughput as a share of memcpy of that size in the same guest;"
echo " throughput: higher is better; cpu (system CPU of the benchmark process per GiB) and rtt: lower)"
