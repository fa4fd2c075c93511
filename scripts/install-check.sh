#!/bin/bash
# install-check.sh [BUILDDIR] - `make install` and `make uninstall`, checked.
#
# Configures a scratch build in BUILDDIR/install-check/build with a
# distribution's layout (--prefix=/usr --sysconfdir=/etc, --enable-dkms),
# installs it with DESTDIR and checks:
#   - the exact list of installed files, and the modes that matter;
#   - the installed virtserd takes /etc/virtserd.xml by default, and accepts
#     the installed sample configuration (virtserd -t);
#   - systemd-analyze verify on the installed unit (a copy whose ExecStart
#     points into DESTDIR, with MANPATH at DESTDIR's man pages so that the
#     unit's Documentation= links are resolved too); any message fails;
#   - every installed man page renders with groff -ww and man -l without a
#     warning;
#   - a second install keeps an edited /etc/virtserd.xml, and uninstall
#     keeps it too, while it removes the unmodified sample;
#   - make uninstall leaves no file behind.
# Prints TAP-style ok / not ok lines.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$top/build}
mkdir -p "$B"
B=$(cd "$B" && pwd)
work=$B/install-check
obj=$work/build
root=$work/root
log=$work/log
ver=$(sed -n 's/^AC_INIT(\[virtser\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")

. "$top/scripts/checklib.sh"
# Quiet unless it fails; then the last lines of its output, as comments.
run() {	# run LOGNAME COMMAND...
	local l=$log/$1.log
	shift
	"$@" > "$l" 2>&1 || { sed 's/^/# /' "$l" | tail -n 30; return 1; }
}

for t in systemd-analyze groff man; do
	command -v $t >/dev/null ||
		{ echo "1..0 # SKIP $t missing (apt-get install systemd groff-base man-db)"; exit 77; }
done

rm -rf "$root" "$log"
mkdir -p "$obj" "$root" "$log"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh) > "$log/autogen.log" 2>&1
if [ ! -f "$obj/config.status" ] || [ "$top/configure" -nt "$obj/config.status" ]; then
	ok "configure --prefix=/usr --sysconfdir=/etc --enable-dkms" \
		run configure sh -c "cd '$obj' && '$top/configure' --prefix=/usr \
			--sysconfdir=/etc --localstatedir=/var --enable-dkms"
fi
ok "build" run build make -C "$obj" -j2
ok "make install DESTDIR" run install make -C "$obj" install DESTDIR="$root"

# The exact file list.  The DKMS tree is what kernel/scripts/build.sh
# needs: Kbuild, the source of every object Kbuild names, the headers, the
# probes and the scripts.
{
	cat <<EOF
/etc/virtserd.xml
/usr/bin/virtserctl
/usr/lib/modprobe.d/virtser.conf
/usr/lib/systemd/system/virtserd.service
/usr/lib/udev/rules.d/60-virtio-port.rules
/usr/sbin/virtserd
/usr/share/doc/virtser/examples/virtserd.xml
/usr/share/man/man1/virtserctl.1
/usr/share/man/man5/virtserd.xml.5
/usr/share/man/man8/virtserd.8
/usr/src/virtser-$ver/dkms.conf
/usr/src/virtser-$ver/Kbuild
EOF
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$top/kernel/Kbuild" |
		sed -n 's/^virtser-y *:= *//p' | tr ' \t' '\n\n' | sed -n 's,\.o$,.c,p' |
		sed "s,^,/usr/src/virtser-$ver/,"
	(cd "$top/kernel" && ls *.h proto/*.h probes/*.c scripts/*.sh) |
		sed "s,^,/usr/src/virtser-$ver/,"
} | sort > "$log/expected"
(cd "$root" && find . -type f -o -type l) | sed 's,^\.,,' | sort > "$log/installed"
if diff -u "$log/expected" "$log/installed" > "$log/filelist.diff"; then
	echo "ok - exactly the expected $(wc -l < "$log/expected") files are installed"
else
	sed 's/^/# /' "$log/filelist.diff"
	notok "the installed files differ from the expected list"
fi
modes=$(cd "$root" && stat -c '%a %n' usr/sbin/virtserd usr/bin/virtserctl etc/virtserd.xml \
	usr/lib/modprobe.d/virtser.conf usr/src/virtser-$ver/scripts/build.sh 2>&1 | paste -sd " " -)
ok "modes: $modes" test "$modes" = "755 usr/sbin/virtserd 755 usr/bin/virtserctl 644 etc/virtserd.xml 644 usr/lib/modprobe.d/virtser.conf 755 usr/src/virtser-$ver/scripts/build.sh"
ok "installed dkms.conf has version $ver" grep -qx "PACKAGE_VERSION=\"$ver\"" "$root/usr/src/virtser-$ver/dkms.conf"
ok "the modprobe.d file is kernel/virtser.conf" cmp -s "$top/kernel/virtser.conf" "$root/usr/lib/modprobe.d/virtser.conf"

# The daemon, its unit and its configuration agree on the paths.
ok "virtserd's default configuration is /etc/virtserd.xml" \
	grep -q '(default /etc/virtserd.xml)' < <("$root/usr/sbin/virtserd" -h)
ok "the unit runs /usr/sbin/virtserd -c /etc/virtserd.xml" \
	grep -qx 'ExecStart=/usr/sbin/virtserd -c /etc/virtserd.xml' "$root/usr/lib/systemd/system/virtserd.service"
ok "virtserd -t accepts the installed sample configuration" \
	run sample "$root/usr/sbin/virtserd" -t -c "$root/etc/virtserd.xml"

# systemd-analyze verify resolves ExecStart= on the running system and runs
# man(1) for Documentation=, so verify a copy whose paths point into
# DESTDIR.  It reports unknown keys and many other mistakes as messages
# with exit status 0: any message is a failure.
unit=$work/unit/virtserd.service
mkdir -p "$work/unit"
sed "s,=/usr/sbin/virtserd,=$root/usr/sbin/virtserd," \
	"$root/usr/lib/systemd/system/virtserd.service" > "$unit"
verify_unit() {
	local out st
	out=$(MANPATH=$root/usr/share/man systemd-analyze verify "$unit" 2>&1)
	st=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
	[ $st = 0 ] && [ -z "$out" ]
}
ok "systemd-analyze verify virtserd.service: no message" verify_unit

# Man pages: groff with every warning, and man(1) as a user runs it.
render() {
	local f=$1 out
	out=$(groff -ww -z -t -man "$f" 2>&1;
	      LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$f" 2>&1 >/dev/null)
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
	[ -z "$out" ]
}
for f in "$root"/usr/share/man/man*/*; do
	ok "man page ${f#$root} renders without a warning" render "$f"
done

# An operator's configuration survives reinstalling and uninstalling.
echo '<!-- edited by the operator -->' >> "$root/etc/virtserd.xml"
ok "make install again" run install2 make -C "$obj" install DESTDIR="$root"
ok "a second install keeps the edited /etc/virtserd.xml" \
	grep -q 'edited by the operator' "$root/etc/virtserd.xml"
ok "make uninstall DESTDIR" run uninstall make -C "$obj" uninstall DESTDIR="$root"
left=$(cd "$root" && find . -type f | sed 's,^\.,,')
ok "uninstall keeps only the edited /etc/virtserd.xml (left: ${left//$'\n'/ })" \
	test "$left" = /etc/virtserd.xml
cp "$top/host/virtserd.xml" "$root/etc/virtserd.xml"
ok "make uninstall DESTDIR with the unmodified sample" run uninstall2 make -C "$obj" uninstall DESTDIR="$root"
left=$(cd "$root" && find . -type f -o -type l | sed 's,^\.,,')
ok "make uninstall leaves no file${left:+ (left: ${left//$'\n'/ })}" test -z "$left"

[ $fails = 0 ]
