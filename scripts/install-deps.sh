#!/bin/sh
# install-deps.sh - install the Debian 12 packages the build and the tests
# need.  Does nothing when they are all present; needs root otherwise.
set -eu

# Newest Debian 6.12 kernel offered by the archive (the version in the name
# moves with every stable update).
newest_612() {
	apt-cache pkgnames linux-image-6.12 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n 1
}

pkgs="build-essential autoconf automake libtool pkg-config gawk
	liburing-dev libxml2-dev libxml2-utils
	qemu-system-x86 busybox-static udev kmod cpio xz-utils zstd
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 linux-source-6.12
	socat telnet sparse clang valgrind dkms python3 flex bison bc
	systemd man-db groff-base ser2net libelf-dev libssl-dev
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
# A 6.12 kernel and its headers: any installed one will do for a build, but
# a machine without one gets the newest.
if ! ls /boot/vmlinuz-6.12.*+deb12-amd64 >/dev/null 2>&1 ||
   ! ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 >/dev/null 2>&1; then
	need612=1
else
	need612=0
fi

[ -z "$missing" ] && [ $need612 = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing${need612:+ (and a 6.12 kernel)}" >&2
	echo "install-deps: run as root, or install them with apt-get" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update"
apt-get update -qq
if [ $need612 = 1 ]; then
	k=$(newest_612)
	[ -n "$k" ] || { echo "install-deps: no linux-image-6.12.*+deb12-amd64 in the archive" >&2; exit 1; }
	missing="$missing $k $(echo "$k" | sed 's/image/headers/')"
fi
echo "install-deps: installing$missing"
apt-get install -y -qq --no-install-recommends $missing >/dev/null
