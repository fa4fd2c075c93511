// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-lvxml.c - libFuzzer target for the libvirt domain XML scanner.
 *
 * The input is a domain's XML as libvirtd would hand it over.  Whatever it
 * is, the scan must end without a leak or an overflow, every device it
 * keeps must be one the daemon can use (a valid name, a unix path that
 * fits, a tcp service), and the ports made of it with a fixed set of
 * templates must expand to paths that fit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/config.h"
#include "host/lvxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tmpl[] =
	"<virtserd><control path='/run/f/c'/>"
	"<vm name='f' libvirt='test:///default'>"
	"<channel type='unix'><source mode='bind' path='/run/f/%v.%p'/></channel>"
	"<console type='pty'><source path='/run/f/%p.pty'/><log file='/run/f/%p.log'/></console>"
	"<serial type='file' name='serial1'><source path='/run/f/%v-%p-%%'/></serial>"
	"</vm></virtserd>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vs_config *cfg;
	struct vs_port_cfg *ports = NULL;
	struct vs_lv_dom *d;
	char err[600];
	long n;

	if (!cfg) {
		cfg = vs_config_parse(tmpl, strlen(tmpl), "fuzz.xml", err, sizeof(err));
		if (!cfg)
			abort();
	}
	d = vs_lv_scan((const char *)data, size, err, sizeof(err));
	if (!d)
		return 0;
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct vs_lv_dev *v = &d->devs[i];

		if (!vs_config_valid_name(v->name))
			abort();
		if (v->chardev.is_unix && (!v->chardev.path || v->chardev.path[0] != '/' ||
					   strlen(v->chardev.path) >= VS_SUN_PATH_MAX))
			abort();
		if (!v->chardev.is_unix && (!v->chardev.service || !v->chardev.host))
			abort();
	}
	n = vs_lv_ports(&cfg->vms[0], d, &ports, err, sizeof(err));
	for (long i = 0; i < n; i++)
		if (ports[i].ep.sock.path && strlen(ports[i].ep.sock.path) >= VS_SUN_PATH_MAX)
			abort();
	if (n >= 0)
		vs_lv_ports_free(ports, (size_t)n);
	vs_lv_dom_free(d);
	return 0;
}
