// SPDX-License-Identifier: GPL-2.0
/*
 * test-lvxml: libvirt domain XML (live and inactive samples in
 * host/tests/data/lvdom-*.xml) scanned into ports, and <vm libvirt=...>
 * templates instantiated over them.
 */
#include "host/config.h"
#include "host/lvxml.h"
#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n = 0;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return buf;
}

static struct vs_lv_dom *scan_file(const char *dir, const char *name)
{
	char path[4096], err[300] = "";
	struct vs_lv_dom *d;
	size_t len;
	char *xml;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	xml = slurp(path, &len);
	if (!xml) {
		tap_diag("cannot read %s", path);
		return NULL;
	}
	d = vs_lv_scan(xml, len, err, sizeof(err));
	if (!d)
		tap_diag("%s: %s", name, err);
	free(xml);
	return d;
}

static const struct vs_lv_dev *dev(const struct vs_lv_dom *d, const char *name)
{
	for (size_t i = 0; d && i < d->ndevs; i++)
		if (!strcmp(d->devs[i].name, name))
			return &d->devs[i];
	return NULL;
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void test_live(const char *dir)
{
	struct vs_lv_dom *d = scan_file(dir, "lvdom-live.xml");
	const struct vs_lv_dev *v;

	if (!tap_check(d != NULL, "live XML scans"))
		return;
	tap_check(streq(d->name, "web1") && streq(d->uuid, "5f0c1c2e-8a51-4d3b-9e3a-0c6f2b9d1e11")
		  && d->active, "live: name, uuid, active");
	tap_check(d->ndevs == 5, "live: 5 devices can be backed (got %zu)", d->ndevs);
	v = dev(d, "serial1");
	tap_check(v && v->kind == VS_KIND_SERIAL && v->chardev.is_unix &&
		  v->chardev.mode == VS_MODE_CONNECT && v->chardev.reconnect &&
		  streq(v->chardev.path, "/run/vm/qemu/serial1.sock") &&
		  streq(v->alias, "serial1"),
		  "live: the unix serial, QEMU listening, virtserd connecting");
	v = dev(d, "console1");
	tap_check(v && v->kind == VS_KIND_CONSOLE &&
		  streq(v->chardev.path, "/run/vm/qemu/console.sock"),
		  "live: the virtconsole named by its alias");
	tap_check(!dev(d, "serial0"), "live: the file serial and its <console> view left out");
	v = dev(d, "org.virtser.libvirt.data");
	tap_check(v && v->kind == VS_KIND_CHANNEL && streq(v->alias, "channel0") &&
		  v->state == VS_LV_STATE_CONNECTED,
		  "live: the channel by its target name, alias channel0, state connected");
	v = dev(d, "org.qemu.guest_agent.0");
	tap_check(v && v->state == VS_LV_STATE_DISCONNECTED &&
		  streq(v->chardev.path, "/var/lib/libvirt/qemu/channel/target/domain-7-web1/"
			"org.qemu.guest_agent.0"),
		  "live: the agent channel at libvirt's own path, disconnected");
	v = dev(d, "org.example.tcp");
	tap_check(v && !v->chardev.is_unix && v->chardev.mode == VS_MODE_BIND &&
		  !v->chardev.reconnect && streq(v->chardev.host, "127.0.0.1") &&
		  streq(v->chardev.service, "4555"),
		  "live: a tcp source where QEMU connects: virtserd listens");
	tap_check(!dev(d, "org.example.telnet") && !dev(d, "org.example.pty") &&
		  !dev(d, "channel5") && !dev(d, "com.redhat.spice.0"),
		  "live: telnet, pty, guestfwd and spicevmc left out");
	tap_check(d->skipped && strstr(d->skipped, "org.example.telnet") &&
		  strstr(d->skipped, "org.example.pty") &&
		  strstr(d->skipped, "channel5") && strstr(d->skipped, "serial0"),
		  "live: each left-out device is named with a reason");
	if (d->skipped)
		tap_diag("skipped:\n%s", d->skipped);
	vs_lv_dom_free(d);
}

static void test_inactive(const char *dir)
{
	struct vs_lv_dom *d = scan_file(dir, "lvdom-inactive.xml");

	if (!tap_check(d != NULL, "inactive XML scans"))
		return;
	tap_check(!d->active, "inactive: no id, not active");
	tap_check(d->ndevs == 2 && dev(d, "serial0") && dev(d, "console1"),
		  "inactive: serial0 and console1 by libvirt's numbering (got %zu)", d->ndevs);
	tap_check(!dev(d, "org.qemu.guest_agent.0") && d->skipped &&
		  strstr(d->skipped, "org.qemu.guest_agent.0"),
		  "inactive: a channel whose path libvirt picks at start is not backed yet");
	vs_lv_dom_free(d);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"", "<domain", "<notdomain><name>x</name></notdomain>",
		"<domain type='qemu'><devices/></domain>",
		"<!DOCTYPE domain [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
		"<domain><name>&b;</name></domain>",
		"<domain><name>a</name><devices><channel type='unix'><source mode='bind' "
		"path='/x'/><target type='virtio' name='bad name'/></channel></devices></domain>",
	};
	char err[300];

	for (size_t i = 0; i < 5; i++) {
		struct vs_lv_dom *d = vs_lv_scan(bad[i], strlen(bad[i]), err, sizeof(err));

		tap_check(!d, "refused: '%.40s' (%s)", bad[i], d ? "accepted" : err);
		vs_lv_dom_free(d);
	}
	{
		struct vs_lv_dom *d = vs_lv_scan(bad[5], strlen(bad[5]), err, sizeof(err));

		tap_check(d && d->ndevs == 0 && d->skipped && strstr(d->skipped, "bad name"),
			  "a port name virtserd cannot use is left out and named");
		vs_lv_dom_free(d);
	}
}

static void test_expand(void)
{
	char *s = vs_lv_expand("/run/%v/%p.sock", "web1", "org.qemu.guest_agent.0");

	tap_check(streq(s, "/run/web1/org.qemu.guest_agent.0.sock"), "expand %%v and %%p");
	free(s);
	s = vs_lv_expand("/a/%%p%p", "v", "p");
	tap_check(streq(s, "/a/%pp"), "expand %%%% to one %%");
	free(s);
	s = vs_lv_expand("/a/%x", "v", "p");
	tap_check(!s, "expand refuses %%x");
	free(s);
	s = vs_lv_expand("/a/%", "v", "p");
	tap_check(!s, "expand refuses a trailing %%");
	free(s);
}

static const char cfg_ok[] =
	"<virtserd>\n"
	"  <control path='/run/t/control'/>\n"
	"  <vm name='web1' libvirt='qemu:///system'>\n"
	"    <channel type='unix'>\n"
	"      <source mode='bind' path='/run/t/%v.%p'/>\n"
	"    </channel>\n"
	"    <console type='unix'>\n"
	"      <source mode='bind' path='/run/t/%v-console-%p'/>\n"
	"      <log file='/var/log/t/%v.%p.log'/>\n"
	"    </console>\n"
	"    <channel type='tcp' name='org.qemu.guest_agent.0'>\n"
	"      <source mode='bind' host='127.0.0.1' service='7000'/>\n"
	"      <guest closed='hold'/>\n"
	"    </channel>\n"
	"  </vm>\n"
	"</virtserd>\n";

static const struct vs_port_cfg *port(const struct vs_port_cfg *p, long n, const char *name)
{
	for (long i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	return NULL;
}

static void test_ports(const char *dir)
{
	char err[600] = "";
	struct vs_config *cfg = vs_config_parse(cfg_ok, strlen(cfg_ok), "t.xml", err, sizeof(err));
	struct vs_lv_dom *d = scan_file(dir, "lvdom-live.xml");
	struct vs_port_cfg *ports = NULL;
	const struct vs_port_cfg *p;
	long n = 0;

	if (!tap_check(cfg && d, "templates parse (%s)", err))
		goto out;
	tap_check(cfg->nvms == 1 && streq(cfg->vms[0].libvirt_uri, "qemu:///system") &&
		  streq(cfg->vms[0].domain, "web1") && cfg->vms[0].nports == 0 &&
		  cfg->vms[0].ntmpls == 3, "a libvirt vm: uri, domain defaulting to its name, "
		  "3 templates, no ports");
	n = vs_lv_ports(&cfg->vms[0], d, &ports, err, sizeof(err));
	/* No <serial> template: serial1 and the tcp channel stay unbacked. */
	if (!tap_check(n == 4, "4 ports from 5 devices and 3 templates (got %ld: %s)", n,
		       n < 0 ? err : ""))
		goto out;
	p = port(ports, n, "org.virtser.libvirt.data");
	tap_check(p && p->ep.type == VS_EP_UNIX &&
		  streq(p->ep.sock.path, "/run/t/web1.org.virtser.libvirt.data") &&
		  streq(p->chardev.path, "/run/vm/qemu/data.sock") &&
		  p->chardev.mode == VS_MODE_CONNECT && p->chardev.reconnect &&
		  streq(p->alias, "channel0") && !p->guest_hold,
		  "the channel default, expanded, on the domain's socket");
	p = port(ports, n, "org.qemu.guest_agent.0");
	tap_check(p && p->ep.type == VS_EP_TCP && streq(p->ep.sock.service, "7000") &&
		  p->guest_hold && streq(p->alias, "channel1"),
		  "the per-name override wins over the channel default");
	p = port(ports, n, "console1");
	tap_check(p && p->kind == VS_KIND_CONSOLE &&
		  streq(p->ep.sock.path, "/run/t/web1-console-console1") &&
		  streq(p->log.file, "/var/log/t/web1.console1.log"),
		  "the console default with its log, expanded");
	p = port(ports, n, "org.example.tcp");
	tap_check(p && !p->chardev.is_unix && p->chardev.mode == VS_MODE_BIND &&
		  p->chardev.addrlen > 0, "the tcp channel: virtserd binds the resolved address");
	tap_check(!port(ports, n, "serial1"), "no <serial> template: serial1 is not backed");
	{
		/* Same input, same ports: what reload and a restart event rely on. */
		struct vs_port_cfg *again = NULL;
		long m = vs_lv_ports(&cfg->vms[0], d, &again, err, sizeof(err));
		bool same = m == n;

		for (long i = 0; same && i < n; i++)
			same = vs_port_cfg_equal(&ports[i], &again[i]);
		tap_check(same, "instantiating twice gives equal ports");
		if (m >= 0)
			vs_lv_ports_free(again, (size_t)m);
	}
	{
		char *s = vs_config_format(cfg);

		tap_check(s && strstr(s, "<vm name='web1' libvirt='qemu:///system' domain='web1'>") &&
			  strstr(s, "path='/run/t/%v.%p'") && !strstr(s, "<chardev"),
			  "canonical form keeps libvirt=, domain= and the templates");
		free(s);
	}
out:
	if (n >= 0)
		vs_lv_ports_free(ports, (size_t)n);
	vs_lv_dom_free(d);
	vs_config_free(cfg);
}

struct bad_cfg {
	const char *vm;		/* inside <virtserd> */
	const char *want;	/* in the error */
};

static const struct bad_cfg bad_cfgs[] = {
	{ "<vm name='a' libvirt='qemu:///system'><channel type='unix'>"
	  "<source mode='bind' path='/run/t/a.sock'/></channel></vm>",
	  "must contain %p" },
	{ "<vm name='a' libvirt='qemu:///system'><channel type='unix'>"
	  "<source mode='bind' path='/run/t/%p'/><chardev path='/x'/></channel></vm>",
	  "comes from the libvirt domain" },
	{ "<vm name='a' libvirt='qemu:///system'><channel type='unix'>"
	  "<source mode='bind' path='/run/t/%q%p'/></channel></vm>",
	  "only %v (vm), %p (port)" },
	{ "<vm name='a' libvirt='qemu:///system'><qmp path='/run/q'/></vm>",
	  "the guest's state comes from libvirt" },
	{ "<vm name='a' domain='b'/>", "domain= needs libvirt=" },
	{ "<vm name='a' libvirt=''/>", "must not be empty" },
	{ "<vm name='a' libvirt='qemu:///system'><channel type='tcp'>"
	  "<source mode='bind' service='7000'/></channel></vm>",
	  "cannot be a default" },
	{ "<vm name='a' libvirt='qemu:///system'><console type='null'/><console type='pty'/></vm>",
	  "a second default for every console" },
	{ "<vm name='a' libvirt='qemu:///system'><channel type='null' name='x'/>"
	  "<channel type='pty' name='x'/></vm>", "port 'x' is given twice" },
	{ "<vm name='a' libvirt='qemu:///system'><serial type='null'><guest closed='hold'/>"
	  "</serial></vm>", "not for a <serial>" },
	{ "<domains/>", "needs libvirt='URI'" },
	{ "<domains libvirt='x:///'/><domains libvirt='x:///'/>", "a second <domains>" },
	{ "<domains libvirt='x:///'><channel type='unix'><source mode='bind' path='/r/%v'/>"
	  "</channel></domains>", "must contain %p" },
	{ "<domains libvirt='x:///'><qmp path='/q'/></domains>", "comes from libvirt" },
	/* Names go into paths: "." and ".." would step out of a directory. */
	{ "<vm name='..' libvirt='x:///'/>", "not . or .." },
	/* One template for every domain: what it binds or writes names the domain. */
	{ "<domains libvirt='x:///'><console type='file' name='console1'>"
	  "<source path='/var/log/vs/%p.log'/></console></domains>", "must contain %v" },
	{ "<domains libvirt='x:///'><channel type='unix'><source mode='bind' path='/r/%p'/>"
	  "</channel></domains>", "must contain %v" },
	{ "<domains libvirt='x:///'><channel type='unix'><source mode='bind' path='/r/%%v.%p'/>"
	  "</channel></domains>", "must contain %v" },
	{ "<domains libvirt='x:///'><console type='pty'><source path='/r/%v.%p'/>"
	  "<log file='/var/log/%p.log'/></console></domains>", "must contain %v" },
	{ "<domains libvirt='x:///'><channel type='tcp' name='org.x'>"
	  "<source mode='bind' service='7000'/></channel></domains>", "cannot be in <domains>" },
};

static void test_bad_cfg(void)
{
	for (size_t i = 0; i < sizeof(bad_cfgs) / sizeof(bad_cfgs[0]); i++) {
		char buf[1024], err[600] = "";
		struct vs_config *cfg;

		snprintf(buf, sizeof(buf), "<virtserd>%s</virtserd>", bad_cfgs[i].vm);
		cfg = vs_config_parse(buf, strlen(buf), "t.xml", err, sizeof(err));
		tap_check(!cfg && strstr(err, bad_cfgs[i].want), "refused: %s (%s)",
			  bad_cfgs[i].want, cfg ? "accepted" : err);
		vs_config_free(cfg);
	}
}

static void test_domains(void)
{
	static const char x[] =
		"<virtserd><control path='/run/t/c'/>"
		"<domains libvirt='qemu:///system'>"
		"<console type='unix'><source mode='bind' path='/run/t/%v.%p'/></console>"
		"</domains></virtserd>";
	char err[600] = "";
	struct vs_config *cfg = vs_config_parse(x, strlen(x), "t.xml", err, sizeof(err));
	char *s = cfg ? vs_config_format(cfg) : NULL;

	tap_check(cfg && cfg->nvms == 0 && cfg->nevery == 1 &&
		  streq(cfg->every[0].libvirt_uri, "qemu:///system") && cfg->every[0].ntmpls == 1,
		  "<domains libvirt=>: one entry with its template (%s)", err);
	tap_check(s && strstr(s, "<domains libvirt='qemu:///system'>") &&
		  strstr(s, "path='/run/t/%v.%p'"), "<domains> in the canonical form");
	free(s);
	vs_config_free(cfg);
}

/*
 * A tcp source named by a host name: refused with a reason, not looked up
 * (the lookup would stall the daemon's loop at every lifecycle event);
 * "localhost" is taken as 127.0.0.1.
 */
static void test_numeric_hosts(void)
{
	static const char dom_fmt[] =
		"<domain type='qemu'><name>web1</name><devices>"
		"<channel type='tcp'><source mode='connect' host='%s' service='4555'/>"
		"<protocol type='raw'/><target type='virtio' name='org.example.tcp'/>"
		"<alias name='channel0'/></channel></devices></domain>";
	const char *hosts[] = { "qemu-host.invalid", "localhost" };
	char err[600] = "", xml[1024];
	struct vs_config *cfg = vs_config_parse(cfg_ok, strlen(cfg_ok), "t.xml", err, sizeof(err));

	if (!tap_check(cfg != NULL, "templates parse (%s)", err))
		return;
	for (int i = 0; i < 2; i++) {
		struct vs_port_cfg *ports = NULL;
		struct vs_lv_dom *d;
		long n;

		snprintf(xml, sizeof(xml), dom_fmt, hosts[i]);
		err[0] = '\0';
		d = vs_lv_scan(xml, strlen(xml), err, sizeof(err));
		if (!tap_check(d != NULL, "a domain with host='%s' scans (%s)", hosts[i], err))
			continue;
		err[0] = '\0';
		n = vs_lv_ports(&cfg->vms[0], d, &ports, err, sizeof(err));
		if (i == 0)
			tap_check(n < 0 && strstr(err, "not a numeric address"),
				  "host='%s' is refused, not resolved (%s)", hosts[i], err);
		else
			tap_check(n == 1 && ports[0].chardev.addrlen > 0,
				  "host='localhost' is 127.0.0.1 (%ld: %s)", n, err);
		if (n >= 0)
			vs_lv_ports_free(ports, (size_t)n);
		vs_lv_dom_free(d);
	}
	vs_config_free(cfg);
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/host/tests/data", top ? top : ".");
	test_live(dir);
	test_inactive(dir);
	test_bad();
	test_expand();
	test_ports(dir);
	test_bad_cfg();
	test_domains();
	test_numeric_hosts();
	return tap_done();
}
