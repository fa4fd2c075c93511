// SPDX-License-Identifier: GPL-2.0
/*
 * reload.c - a new configuration for the running daemon (SIGHUP or the
 * control socket's "reload"): ports that did not change are not touched,
 * the others drain and go, new ones start.  Calls port.c, config.c,
 * notify.c, log.c.
 */
#include "virtserd.h"
#include "lvirt.h"
#include "notify.h"
#include "qmp.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

const char *vs_config_path = DEFAULT_CONFIG;

const char *vs_reload(void)
{
	static char err[600];
	struct vs_config *cfg;
	unsigned kept = 0, added = 0, removed = 0;

	vs_notify("RELOADING=1");
	cfg = vs_config_load(vs_config_path, err, sizeof(err));
	if (!cfg) {
		vs_log(LOG_ERR, "reload: %s (keeping the running configuration)", err);
		vs_notify("READY=1\nSTATUS=reload refused; the running configuration stays");
		return err;
	}
	if (!vs_lv_supported(cfg, err, sizeof(err))) {
		vs_log(LOG_ERR, "reload: %s (keeping the running configuration)", err);
		vs_notify("READY=1\nSTATUS=reload refused; the running configuration stays");
		vs_config_free(cfg);
		return err;
	}
	/*
	 * Ports whose configuration did not change are not touched at all.
	 * The others stop before vs_lv_apply(), so that a plain <vm> that
	 * becomes a domain's gives up its ports' names (a stopping port is
	 * not found by name) and the domain's ports of the same names start.
	 */
	for (struct vs_port *p = vs_ports, *next; p; p = next) {
		bool keep = false;

		next = p->next;
		if (p->stopping || p->lv)
			continue;
		for (size_t i = 0; i < cfg->nvms && !keep; i++)
			for (size_t j = 0; j < cfg->vms[i].nports && !keep; j++) {
				char id[160];

				snprintf(id, sizeof(id), "%s/%s", cfg->vms[i].name,
					 cfg->vms[i].ports[j].name);
				keep = !strcmp(id, p->id) &&
				       vs_port_cfg_equal(p->cfg, &cfg->vms[i].ports[j]);
			}
		if (!keep) {
			vs_port_stop(p, STOP_TIMEOUT_MS);
			removed++;
		} else {
			kept++;
		}
	}
	/* Before the new plain ports: a vm that stops being a domain frees its names. */
	vs_lv_apply(cfg);
	for (size_t i = 0; i < cfg->nvms; i++)
		for (size_t j = 0; j < cfg->vms[i].nports; j++) {
			char id[160];

			snprintf(id, sizeof(id), "%s/%s", cfg->vms[i].name,
				 cfg->vms[i].ports[j].name);
			if (!vs_port_find(id)) {
				vs_port_new(cfg->vms[i].name, &cfg->vms[i].ports[j]);
				added++;
			}
		}
	vs_qmp_apply(cfg);
	vs_log(LOG_NOTICE, "reloaded %s: %u kept, %u added, %u removed or changed",
	       vs_config_path, kept, added, removed);
	vs_notify("READY=1\nSTATUS=reloaded");
	vs_config_free(cfg);
	return NULL;
}
