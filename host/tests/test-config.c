// SPDX-License-Identifier: GPL-2.0
/*
 * test-config: golden round trips (parse -> format -> compare with the
 * recorded canonical form, then parse that again and require a fixed
 * point) and a table of bad configurations with their exact messages.
 */
#include "host/config.h"
#include "tests/tap.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void golden(const char *dir, const char *name)
{
	char in[512], out[512], err[512];
	struct vs_config *c1, *c2;
	char *want, *got, *again;

	snprintf(in, sizeof(in), "%s/%s.in.xml", dir, name);
	snprintf(out, sizeof(out), "%s/%s.out.xml", dir, name);
	c1 = vs_config_load(in, err, sizeof(err));
	if (!tap_check(c1 != NULL, "%s: parses", name)) {
		tap_diag("%s", err);
		return;
	}
	got = vs_config_format(c1);
	want = slurp(out);
	if (!tap_check(want && got && !strcmp(want, got), "%s: matches %s.out.xml", name, name))
		tap_diag("got:\n%s", got ? got : "(null)");
	c2 = vs_config_parse(got, strlen(got), out, err, sizeof(err));
	if (c2 && !vs_config_resolve(c2, out, err, sizeof(err))) {
		tap_diag("%s", err);
		vs_config_free(c2);
		c2 = NULL;
	}
	again = c2 ? vs_config_format(c2) : NULL;
	tap_check(again && !strcmp(again, got), "%s: canonical form is a fixed point", name);
	if (c2 && c1->nvms && c1->vms[0].nports)
		tap_check(vs_port_cfg_equal(&c1->vms[0].ports[0], &c2->vms[0].ports[0]),
			  "%s: reparsed port compares equal", name);
	free(want);
	free(got);
	free(again);
	vs_config_free(c1);
	vs_config_free(c2);
}

struct bad {
	const char *xml;
	const char *err;
};

#define CD "<chardev path='/q'/>"
#define VM(x) "<virtserd>\n<vm name='v'>\n" x "\n</vm>\n</virtserd>\n"

static const struct bad bad[] = {
	{ "<virtserd>", "t.xml:1: xml: Premature end of data in tag virtserd line 1" },
	{ "<servers/>", "t.xml:1: servers: root element must be <virtserd>" },
	{ "<!DOCTYPE virtserd [<!ENTITY a 'aaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>\n"
	  "<virtserd><control path='&b;'/></virtserd>",
	  "t.xml:0: xml: a <!DOCTYPE> is not allowed in a configuration" },
	{ "<!DOCTYPE virtserd>\n<virtserd/>",
	  "t.xml:0: xml: a <!DOCTYPE> is not allowed in a configuration" },
	{ "<virtserd foo='1'/>", "t.xml:1: virtserd: unknown attribute 'foo'" },
	{ "<virtserd>\n<port/>\n</virtserd>", "t.xml:2: port: unknown element inside <virtserd>" },
	{ "<virtserd>\n<vm/>\n</virtserd>", "t.xml:2: vm: needs name= of 1-64 of [A-Za-z0-9._:-], not . or .." },
	{ "<virtserd>\n<vm name='a/b'/>\n</virtserd>", "t.xml:2: vm: needs name= of 1-64 of [A-Za-z0-9._:-], not . or .." },
	{ "<virtserd>\n<vm name='a'/>\n<vm name='a'/>\n</virtserd>", "t.xml:3: vm: duplicate vm name 'a'" },
	{ "<virtserd>\n<control mode='0666'/>\n</virtserd>", "t.xml:2: control: mode 0666 gives access to others; use group=" },
	{ "<virtserd>\n<control mode='rw'/>\n</virtserd>", "t.xml:2: control: mode='rw' is not an octal file mode" },
	{ "<virtserd>\n<buffer size='12'/>\n</virtserd>", "t.xml:2: buffer: size 12 is below the minimum of 4096" },
	{ VM("<channel type='bogus' name='x'>" CD "</channel>"), "t.xml:3: channel: unsupported type 'bogus'" },
	{ VM("<channel type='null' name='x'/>"), "t.xml:3: channel: missing <chardev> (QEMU's socket for this port)" },
	{ VM("<channel type='null' name='x'>" CD "</channel>\n<console type='null' name='x'>" CD "</console>"),
	  "t.xml:4: console: duplicate port name 'x' in vm 'v'" },
	{ VM("<channel type='unix' name='x'>\n<source mode='bind'/>" CD "</channel>"), "t.xml:3: channel: type 'unix' needs <source path=''/>" },
	{ VM("<channel type='unix' name='x'>\n<source mode='listen' path='/a'/>" CD "</channel>"), "t.xml:4: source: mode='listen' is not bind or connect" },
	{ VM("<channel type='unix' name='x'>\n<source mode='bind' path='/a' sevice='1'/>" CD "</channel>"), "t.xml:4: source: unknown attribute 'sevice'" },
	{ VM("<channel type='unix' name='x'>\n<source mode='bind' path='/a'>\n<reconnect enabled='yes' timeout='1'/></source>" CD "</channel>"),
	  "t.xml:3: channel: <reconnect> is only valid with mode='connect'" },
	{ VM("<channel type='unix' name='x'>\n<source mode='connect' path='/a'>\n<reconnect enabled='maybe'/></source>" CD "</channel>"),
	  "t.xml:5: reconnect: enabled='maybe' is not one of yes, no, on, off" },
	{ VM("<channel type='unix' name='x'>\n<source mode='connect' path='/a'>\n<reconnect enabled='yes' timeout='0'/></source>" CD "</channel>"),
	  "t.xml:5: reconnect: timeout must be at least 1 ms when enabled='yes'" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' host='::1'/>" CD "</channel>"), "t.xml:3: channel: type 'tcp' needs a service (port)" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='1' tls='yes'/>" CD "</channel>"),
	  "t.xml:4: source: tls='yes' is not supported; serve the port on loopback or a unix socket and put a TLS proxy in front" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='1' tls='maybe'/>" CD "</channel>"),
	  "t.xml:4: source: tls='maybe' is not one of yes, no, on, off" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='1'/>\n<protocol type='ssh'/>" CD "</channel>"), "t.xml:5: protocol: type='ssh' is not raw or telnet" },
	{ VM("<channel type='unix' name='x'>\n<source mode='bind' path='/a'/>\n<protocol type='telnet'/>" CD "</channel>"), "t.xml:3: channel: <protocol type='telnet'/> needs type 'tcp'" },
	{ VM("<channel type='file' name='x'>" CD "</channel>"), "t.xml:3: channel: type 'file' needs <source path=''/>" },
	{ VM("<channel type='file' name='x'>\n<source path='/f' max-size='lots'/>" CD "</channel>"), "t.xml:4: source: max-size='lots' is not a number" },
	{ VM("<channel type='file' name='x'>\n<source path='/f' backups='1000'/>" CD "</channel>"), "t.xml:4: source: backups='1000' is larger than 100" },
	{ VM("<channel type='null' name='x'>\n<source path='/f'/>" CD "</channel>"), "t.xml:4: source: type 'null' takes no <source>" },
	{ VM("<channel type='pty' name='x'>\n<source path='/a'/>\n<source path='/b'/>" CD "</channel>"), "t.xml:5: source: more than one <source> for type 'pty'" },
	{ VM("<channel type='udp' name='x'>\n<source mode='bind' service='1'/>" CD "</channel>"),
	  "t.xml:3: channel: type 'udp' needs a remote address (<source mode='connect'> or <sendto>)" },
	{ VM("<channel type='tcp' name='x'>\n<sendto port='1'/>" CD "</channel>"), "t.xml:4: sendto: only valid for type 'udp'" },
	{ VM("<channel type='udp' name='x'>\n<listen port='1'/>" CD "</channel>"), "t.xml:4: listen: only valid for type 'tcp' or 'telnet'" },
	{ VM("<channel type='tcp' name='x'>\n<listen port='1'/>\n<connect port='2'/>" CD "</channel>"), "t.xml:5: connect: the endpoint address is already set" },
	/* Found by fuzz-config: the <source> leaked the <connect>'s address. */
	{ VM("<channel type='tcp' name='x'>\n<connect addr='127.0.0.1' port='2'/>\n<source mode='bind' service='3'/>" CD "</channel>"), "t.xml:5: source: the endpoint address is already set" },
	{ VM("<channel type='tcp' name='x'>\n<listen port='1'><keepalive/></listen>" CD "</channel>"), "t.xml:4: keepalive: unknown element inside <listen>" },
	{ VM("<channel type='null' name='x'>\n<chardev type='vsock' path='/q'/></channel>"), "t.xml:4: chardev: type='vsock' is not unix or tcp" },
	{ VM("<channel type='null' name='x'>\n<chardev type='unix'/></channel>"), "t.xml:4: chardev: unix chardev needs path=" },
	{ VM("<channel type='null' name='x'>\n<chardev type='tcp' host='h'/></channel>"), "t.xml:4: chardev: tcp chardev needs service=" },
	{ VM("<channel type='null' name='x'>" CD "\n" CD "</channel>"), "t.xml:4: chardev: given twice" },
	{ VM("<channel type='null' name='x'>" CD "\n<log/></channel>"), "t.xml:4: log: needs file=" },
	{ VM("<channel type='null' name='x'>" CD "\n<buffer size='1G1'/></channel>"), "t.xml:4: buffer: size='1G1' is not a number" },
	{ VM("<channel type='null' name='x'>" CD "\n<buffer size='2G'/></channel>"), "t.xml:4: buffer: size='2G' is larger than 1073741824" },
	{ VM("<channel type='null' name='x'>" CD "\n<buffer size='100'/></channel>"), "t.xml:3: channel: buffer size 100 is below the minimum of 4096" },
	{ VM("<channel type='null' name='x'>" CD "\n<clients max='0'/></channel>"), "t.xml:4: clients: max must be at least 1" },
	{ VM("<channel type='null' name='x'>" CD "\n<buffer size='8192'/><clients replay='9000'/></channel>"),
	  "t.xml:3: channel: replay 9000 is larger than the buffer (8192)" },
	{ VM("<channel type='file' name='x'>\n<source path='/f'/><perms mode='0600'/>" CD "</channel>"), "t.xml:3: channel: <perms> applies to unix and pty only" },
	{ VM("<channel type='unix' name='x'>\n<source mode='connect' path='/f'/><perms mode='0600'/>" CD "</channel>"), "t.xml:3: channel: <perms> needs mode='bind'" },
	{ VM("<channel type='null' name='x'>" CD "\n<frobnicate/></channel>"), "t.xml:4: frobnicate: unknown element inside <channel>" },
	{ VM("<disk type='null' name='x'/>"), "t.xml:3: disk: unknown element inside <vm> (expected channel, console, serial or qmp)" },
	/* QMP: the monitor socket, device ids, the hold policy. */
	{ VM("<qmp/>"), "t.xml:3: qmp: needs path= (QEMU's -qmp unix:PATH,server=on,wait=off)" },
	{ VM("<qmp path='/m' wait='no'/>"), "t.xml:3: qmp: unknown attribute 'wait'" },
	{ VM("<qmp path='m'/>"), "t.xml:3: qmp: path='m' is relative; give an absolute path" },
	{ VM("<qmp path='/m'/>\n<qmp path='/n'/>"), "t.xml:4: qmp: given twice (the first is on line 3)" },
	{ VM("<qmp path='/q'/>\n<channel type='null' name='x'>" CD "</channel>"),
	  "t.xml:3: qmp: path='/q' is also the <chardev> path of v/x: QMP needs a monitor socket of its own (-qmp unix:PATH,server=on,wait=off)" },
	{ "<virtserd>\n<vm name='a'><qmp path='/m'/></vm>\n<vm name='b'><qmp path='/m'/></vm>\n</virtserd>\n",
	  "t.xml:3: qmp: path='/m' is also the <qmp> of vm 'a': a QMP monitor serves one client; give each VM its own -qmp socket" },
	{ VM("<channel type='null' name='x'>" CD "\n<guest closed='hold'/></channel>"),
	  "t.xml:3: channel: <guest closed='hold'/> needs a <qmp path=.../> in vm 'v' to learn the guest's state" },
	{ VM("<qmp path='/m'/>\n<channel type='null' name='x'>" CD "\n<guest closed='drop'/></channel>"),
	  "t.xml:5: guest: closed='drop' is not hold or pass" },
	{ VM("<qmp path='/m'/>\n<serial type='null'>" CD "\n<guest closed='hold'/></serial>"),
	  "t.xml:4: serial: <guest closed='hold'/>: QEMU reports the guest's state only for virtio-serial ports, not for a <serial>" },
	{ VM("<qmp path='/m'/>\n<channel type='null' name='org:x'>" CD "</channel>"),
	  "t.xml:4: channel: device id 'org:x' (QMP names the port by its -device id=) is not one QEMU accepts: a letter, then letters, digits, '.', '_' or '-'; give <alias name='...'/>" },
	{ VM("<qmp path='/m'/>\n<channel type='null' name='x'>" CD "</channel>\n<channel type='null' name='y'><chardev path='/r'/><alias name='x'/></channel>"),
	  "t.xml:5: channel: device id 'x' is also the one of port 'x' (line 4)" },
	{ VM("<channel type='null' name='bad name'>" CD "</channel>"), "t.xml:3: channel: port name 'bad name' must be 1-64 of [A-Za-z0-9._:-], not . or .." },
	{ VM("<channel type='null' name='..'>" CD "</channel>"), "t.xml:3: channel: port name '..' must be 1-64 of [A-Za-z0-9._:-], not . or .." },
	/* Addresses and ports are checked when loaded, not at run time. */
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='70000'/>" CD "</channel>"),
	  "t.xml:4: source: service='70000' is not a port number in 1-65535" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='connect' service='99999'/>" CD "</channel>"),
	  "t.xml:4: source: service='99999' is not a port number in 1-65535" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='0'/>" CD "</channel>"),
	  "t.xml:4: source: service='0' would bind a port the kernel picks; give one in 1-65535" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='-1'/>" CD "</channel>"),
	  "t.xml:4: source: service='-1' is neither a port number (1-65535) nor a service name from /etc/services" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='80abc'/>" CD "</channel>"),
	  "t.xml:4: source: service='80abc' is not a port number in 1-65535" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='bind' service='nosuchservice'/>" CD "</channel>"),
	  "t.xml:4: source: service='nosuchservice' is neither a port number (1-65535) nor a service name from /etc/services" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='connect' host='1.2.3.4.5' service='1'/>" CD "</channel>"),
	  "t.xml:4: source: host='1.2.3.4.5' is not an IPv4 address" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='connect' host='' service='1'/>" CD "</channel>"),
	  "t.xml:4: source: host='' is empty; leave it out for the default" },
	{ VM("<channel type='tcp' name='x'>\n<source mode='connect' host='::1::2' service='1'/>" CD "</channel>"),
	  "t.xml:4: source: host='::1::2' is not an IPv6 address" },
	{ VM("<channel type='tcp' name='x'>\n<listen port='65536'/>" CD "</channel>"),
	  "t.xml:4: listen: port='65536' is not a port number in 1-65535" },
	{ VM("<channel type='udp' name='x'>\n<sendto port='1'/><bind port='0'/>" CD "</channel>"),
	  "t.xml:4: bind: port='0' would bind a port the kernel picks; give one in 1-65535" },
	{ VM("<channel type='null' name='x'>\n<chardev type='tcp' service='100000'/></channel>"),
	  "t.xml:4: chardev: service='100000' is not a port number in 1-65535" },
	{ VM("<channel type='null' name='x'>\n<chardev path='LONG'/></channel>"),
	  "t.xml:4: chardev: path='LONG' is 108 bytes; a unix socket path holds at most 107" },
	{ VM("<channel type='unix' name='x'>\n<source mode='bind' path='LONG'/>" CD "</channel>"),
	  "t.xml:4: source: path='LONG' is 108 bytes; a unix socket path holds at most 107" },
	{ "<virtserd>\n<control path='LONG'/>\n</virtserd>",
	  "t.xml:2: control: path='LONG' is 108 bytes; a unix socket path holds at most 107" },
	/* libvirt and RFC spellings that are not ports, or not ours. */
	{ VM("<console type='vc'>" CD "</console>"),
	  "t.xml:3: console: type 'vc' is a display console (QEMU's graphical virtual console); virtserd has no display: use type 'pty'" },
	{ VM("<channel type='pty'>\n<target type='guestfwd' address='10.0.2.1' port='4600'/>" CD "</channel>"),
	  "t.xml:4: target: type='guestfwd' is QEMU's user-network forward to a chardev, not a virtio-serial port" },
	{ VM("<serial type='pty'><target port='0'/>" CD "</serial>\n<console type='pty'><target type='serial' port='0'/><chardev path='/r'/></console>"),
	  "t.xml:4: console: a <console> with <target type='serial'> is libvirt's view of serial0; configure that port once, as <serial>" },
	{ VM("<console type='pty'><target type='serial' port='0'/>" CD "</console>\n<serial type='pty'><target port='0'/><chardev path='/r'/></serial>"),
	  "t.xml:4: serial: the <console> with <target type='serial'> on line 3 is libvirt's view of serial0; configure that port once, as <serial>" },
	{ VM("<console type='host'>" CD "</console>"),
	  "t.xml:3: console: type 'host' needs port='N' (the host serial port /dev/ttySN)" },
	{ VM("<console type='host' port='x'>" CD "</console>"),
	  "t.xml:3: console: port='x' is not a serial port number (0-255)" },
	{ VM("<console type='pty' port='1'>" CD "</console>"),
	  "t.xml:3: console: port= is only valid with type 'host' (a host serial port)" },
	{ VM("<console type='tcp' path='/x'>" CD "</console>"),
	  "t.xml:3: console: path= is only valid with type 'file' or 'pipe'" },
	{ VM("<console type='file' path='x'>" CD "</console>"),
	  "t.xml:3: console: path='x' is relative; give an absolute path" },
	{ VM("<console type='file' pty='/dev/pts/1'>" CD "</console>"),
	  "t.xml:3: console: pty= is only valid with type 'pty'" },
	/* Relative paths would resolve against / under systemd. */
	{ VM("<channel type='null' name='x'>\n<chardev path='q.sock'/></channel>"),
	  "t.xml:4: chardev: path='q.sock' is relative; give an absolute path" },
	{ VM("<channel type='file' name='x'>\n<source path='out.log'/>" CD "</channel>"),
	  "t.xml:4: source: path='out.log' is relative; give an absolute path" },
	{ VM("<channel type='null' name='x'>" CD "\n<log file='l.log'/></channel>"),
	  "t.xml:4: log: file='l.log' is relative; give an absolute path" },
	/* What two ports, or a port's two sides, cannot share. */
	{ VM("<channel type='unix' name='x'>\n<source mode='bind' path='/q'/>" CD "</channel>"),
	  "t.xml:3: channel: <source path='/q'> is also the <chardev> path of v/x: in virtserd.xml "
	  "<source> is the user side and <chardev> QEMU's socket (see LIBVIRT in virtserd.xml(5))" },
	{ VM("<channel type='null' name='x'>" CD "</channel>\n<channel type='null' name='y'>" CD "</channel>"),
	  "t.xml:4: channel: <chardev path='/q'> is also the <chardev> path of v/x (line 3)" },
	{ VM("<channel type='unix' name='x'><source mode='bind' path='/a'/>" CD "</channel>\n"
	     "<channel type='unix' name='y'><source mode='bind' path='/a'/><chardev path='/r'/></channel>"),
	  "t.xml:4: channel: <source path='/a'> is also the <source> path of v/x (line 3)" },
	{ VM("<channel type='unix' name='x'><source mode='bind' path='/a'/>" CD "</channel>\n"
	     "<channel type='unix' name='y'><source mode='connect' path='/a'/><chardev path='/r'/></channel>"),
	  "t.xml:4: channel: <source path='/a'> is also the <source> path of v/x (line 3)" },
	{ "<virtserd>\n<vm name='a'><channel type='tcp' name='x'><source mode='bind' service='4555'/>" CD "</channel></vm>\n"
	  "<vm name='b'><console type='tcp' name='y'><source mode='bind' host='0.0.0.0' service='4555'/><chardev path='/r'/></console></vm>\n</virtserd>",
	  "t.xml:3: console: <source host='0.0.0.0' service='4555'> is also the <source> port of a/x (line 2)" },
	{ VM("<channel type='null' name='x'><chardev type='tcp' mode='bind' service='telnet'/></channel>\n"
	     "<channel type='tcp' name='y'><source mode='bind' service='23'/><chardev path='/r'/></channel>"),
	  "t.xml:4: channel: <source host='127.0.0.1' service='23'> is also the <chardev> address of v/x (line 3)" },
	{ VM("<channel type='null' name='x'><chardev type='tcp' service='7001'/></channel>\n"
	     "<channel type='null' name='y'><chardev type='tcp' service='7001'/></channel>"),
	  "t.xml:4: channel: <chardev host='localhost' service='7001'> is also the <chardev> address of v/x (line 3)" },
	{ VM("<channel type='udp' name='x'><source mode='bind' service='9'/><source mode='connect' service='10'/>" CD "</channel>\n"
	     "<channel type='udp' name='y'><source mode='bind' service='9'/><source mode='connect' service='11'/><chardev path='/r'/></channel>"),
	  "t.xml:4: channel: <source host='127.0.0.1' service='9'> is also the <source> port of v/x (line 3)" },
	{ VM("<channel type='file' name='x'><source path='/f'/>" CD "</channel>\n"
	     "<channel type='null' name='y'><chardev path='/r'/><log file='/f'/></channel>"),
	  "t.xml:4: channel: <log file='/f'> is also the <source> path of v/x (line 3)" },
	{ VM("<channel type='pipe' name='x'><source path='/p'/>" CD "</channel>\n"
	     "<channel type='file' name='y'><source path='/p.out'/><chardev path='/r'/></channel>"),
	  "t.xml:4: channel: <source path='/p.out'> is also the <source> FIFO of v/x (line 3)" },
	{ VM("<channel type='dev' name='x'><source path='/dev/ttyS0'/>" CD "</channel>\n"
	     "<serial type='dev' name='y'><source path='/dev/ttyS0'/><chardev path='/r'/></serial>"),
	  "t.xml:4: serial: <source path='/dev/ttyS0'> is also the <source> path of v/x (line 3)" },
	{ "<virtserd>\n<control path='/a'/>\n<vm name='v'><channel type='unix' name='x'><source mode='bind' path='/a'/>" CD "</channel></vm>\n</virtserd>",
	  "t.xml:2: control: the control socket /a (or its .lock) is also the <source> path of v/x (line 3)" },
};

/* "LONG" stands for a 108-byte path: one more than sun_path holds. */
static char *subst_long(const char *s)
{
	static const char tag[] = "LONG";
	char path[109], *out = malloc(strlen(s) * 30 + 1), *o = out;

	if (!out)
		abort();
	path[0] = '/';
	memset(path + 1, 'd', 107);
	path[108] = '\0';
	while (*s) {
		if (!strncmp(s, tag, 4)) {
			o += sprintf(o, "%s", path);
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[400], err[512];

	snprintf(dir, sizeof(dir), "%s/host/tests/data", top ? top : ".");
	golden(dir, "libvirt");
	golden(dir, "rfc");
	golden(dir, "qmp");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *xml = subst_long(bad[i].xml), *want = subst_long(bad[i].err);
		struct vs_config *c = vs_config_parse(xml, strlen(xml), "t.xml", err, sizeof(err));

		if (!tap_check(!c && !strcmp(err, want), "bad config %zu: %s", i, want))
			tap_diag("got: %s", c ? "(parsed fine)" : err);
		vs_config_free(c);
		free(xml);
		free(want);
	}
	{
		/* Resolution at load: a name that does not resolve is refused. */
		static const char xml[] = VM("<channel type='tcp' name='x'>\n"
			"<source mode='connect' host='nosuchhost.invalid' service='9'/>" CD "</channel>");
		static const char want[] = "t.xml:3: channel: <source> host='nosuchhost.invalid' "
					   "service='9' does not resolve: ";
		struct vs_config *c = vs_config_parse(xml, strlen(xml), "t.xml", err, sizeof(err));
		bool ok = c && !vs_config_resolve(c, "t.xml", err, sizeof(err));

		if (!tap_check(ok && !strncmp(err, want, strlen(want)),
			       "a host that does not resolve is refused with file:line: element"))
			tap_diag("got: %s", c ? err : "(did not parse)");
		vs_config_free(c);
	}
	{
		char sample[450];
		struct vs_config *c;

		snprintf(sample, sizeof(sample), "%s/host/virtserd.xml", top ? top : ".");
		c = vs_config_load(sample, err, sizeof(err));
		if (!tap_check(c && c->nvms == 1 && c->vms[0].nports == 3,
			       "the shipped sample config parses (1 vm, 3 ports)"))
			tap_diag("%s", err);
		/*
		 * The unit runs the daemon as a dynamic user whose only extra
		 * groups are SupplementaryGroups=: a <perms group> outside them
		 * cannot be applied (chown fails), so the sample must not use one.
		 */
		snprintf(sample, sizeof(sample), "%s/host/systemd/virtserd.service.in",
			 top ? top : ".");
		char *unit = slurp(sample), *groups = unit ? strstr(unit, "\nSupplementaryGroups=") : NULL;
		bool ok = c && groups;

		if (groups)
			groups[strcspn(groups + 1, "\n") + 1] = '\0';
		for (size_t j = 0; ok && j < c->vms[0].nports; j++) {
			const char *g = c->vms[0].ports[j].ep.perms.group;
			char list[256], word[80];

			snprintf(list, sizeof(list), " %s ", groups + 21);
			snprintf(word, sizeof(word), " %s ", g ? g : "");
			if (g && !strstr(list, word)) {
				tap_diag("port %s: <perms group='%s'>, the unit grants%s",
					 c->vms[0].ports[j].name, g, groups + 20);
				ok = false;
			}
		}
		tap_check(ok, "the sample's <perms> groups are ones the systemd unit grants");
		free(unit);
		vs_config_free(c);
	}
	{
		/*
		 * Mutated configurations: each must parse or fail with a
		 * message in the file:line: element: message form, never crash
		 * (ASan/valgrind watch this).
		 */
		char in[450], *orig, *buf;
		unsigned seed = 4242;
		int ok = 1, failed = 0;
		size_t len;

		snprintf(in, sizeof(in), "%s/libvirt.in.xml", dir);
		orig = slurp(in);
		len = orig ? strlen(orig) : 0;
		buf = malloc(len + 1);
		for (int round = 0; orig && buf && round < 2000; round++) {
			struct vs_config *c;

			memcpy(buf, orig, len + 1);
			for (int k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1103515245 + 12345;
				buf[(seed >> 8) % len] = "<>'/= ax0\n"[(seed >> 20) % 10];
			}
			c = vs_config_parse(buf, len, "m.xml", err, sizeof(err));
			if (!c) {
				failed++;
				ok &= !strncmp(err, "m.xml:", 6) && strchr(err + 6, ':') != NULL;
				if (!ok) {
					tap_diag("bad message: %s", err);
					break;
				}
			}
			vs_config_free(c);
		}
		tap_check(orig && ok && failed > 100,
			  "2000 mutated configs: every failure is file:line: element: message (%d failed)",
			  failed);
		free(orig);
		free(buf);
	}
	{
		/* The smallest file: formatting starts from an empty buffer. */
		struct vs_config *c = vs_config_parse("<virtserd/>", 11, "e.xml", err, sizeof(err));
		char *f = c ? vs_config_format(c) : NULL;

		tap_check(f && !strncmp(f, "<virtserd>\n  <control path='/run/virtserd/control'", 50),
			  "<virtserd/> parses and formats");
		free(f);
		vs_config_free(c);
	}
	{
		struct vs_config *c = vs_config_load("/nonexistent/virtserd.xml", err, sizeof(err));

		tap_check(!c && !strcmp(err, "/nonexistent/virtserd.xml:0: config: No such file or directory"),
			  "missing file is named");
	}
	return tap_done();
}
