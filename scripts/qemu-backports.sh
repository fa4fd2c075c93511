#!/bin/bash
# qemu-backports.sh BUILDDIR - fetch the QEMU that Debian 13 ships (from
# bookworm-backports) into BUILDDIR/qemu-bpo without installing it, and
# print the path of a qemu-system-x86_64 wrapper to pass as QEMU=.
#
# The system's QEMU (7.2) is one device model; the newer one is a second,
# so the VM suite sees two implementations of the virtio-serial device.
# Nothing is installed and the system's apt configuration is not touched:
# a private apt state under BUILDDIR lists bookworm-backports, apt-get
# download fetches the three packages, dpkg -x unpacks them, and the
# wrapper passes -L so the binary finds its own firmware.  The libraries
# it needs are those of bookworm's own QEMU, which install-deps.sh brings.
# A second call with the same newest version does nothing but print.
set -euo pipefail

build=${1:?usage: qemu-backports.sh BUILDDIR}
mkdir -p "$build"
dir=$(cd "$build" && pwd)/qemu-bpo
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$dir/apt/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	  -o Dir::State::Lists="$dir/apt/lists" -o Dir::Cache="$dir/apt/cache"
	  -o Debug::NoLocking=1 -o APT::Sandbox::User=root)

exec 9>"$dir/.lock"
flock 9
if [ ! -f "$dir/apt/lists/.updated" ] ||
   [ -n "$(find "$dir/apt/lists/.updated" -mmin +1440)" ]; then
	apt-get -qq "${apt_opts[@]}" update >&2 ||
		{ echo "qemu-backports: apt-get update of bookworm-backports failed" >&2; exit 1; }
	touch "$dir/apt/lists/.updated"
fi
ver=$(apt-cache "${apt_opts[@]}" madison qemu-system-x86 |
	awk -F'|' '/bookworm-backports/ { gsub(/ /, "", $2); print $2; exit }')
[ -n "$ver" ] || { echo "qemu-backports: no qemu-system-x86 in bookworm-backports" >&2; exit 1; }

root=$dir/$ver
if [ ! -x "$root/usr/bin/qemu-system-x86_64" ]; then
	rm -rf "$root.tmp" && mkdir -p "$root.tmp/debs"
	(cd "$root.tmp/debs" && apt-get -qq "${apt_opts[@]}" download \
		"qemu-system-x86=$ver" "qemu-system-common=$ver" "qemu-system-data=$ver") >&2 ||
		{ echo "qemu-backports: apt-get download of QEMU $ver failed" >&2; exit 1; }
	for deb in "$root.tmp"/debs/*.deb; do dpkg -x "$deb" "$root.tmp"; done
	rm -rf "$root.tmp/debs" "$root"
	mv "$root.tmp" "$root"
fi
missing=$(ldd "$root/usr/bin/qemu-system-x86_64" | sed -n 's/^\s*\(\S*\) => not found/\1/p')
[ -z "$missing" ] || { echo "qemu-backports: QEMU $ver needs" $missing >&2; exit 1; }

cat > "$dir/qemu-system-x86_64.tmp" <<EOF
#!/bin/sh
# QEMU $ver from bookworm-backports, unpacked by scripts/qemu-backports.sh
exec "$root/usr/bin/qemu-system-x86_64" -L "$root/usr/share/qemu" -L /usr/share/seabios "\$@"
EOF
chmod +x "$dir/qemu-system-x86_64.tmp"
mv "$dir/qemu-system-x86_64.tmp" "$dir/qemu-system-x86_64"
echo "$dir/qemu-system-x86_64"
