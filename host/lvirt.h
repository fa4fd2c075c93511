/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvirt.h - <vm libvirt=...>: ports that follow a libvirt domain (lvirt.c).
 */
#ifndef VIRTSERD_LVIRT_H
#define VIRTSERD_LVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* False and a message if @cfg names libvirt and this build has none. */
bool vs_lv_supported(const struct vs_config *cfg, char *err, size_t errlen);
/*
 * Start-up and reload: connect to each URI, fetch each domain and make its
 * ports; vms gone from @cfg release theirs.  Ports of a plain <vm> are
 * reload.c's; those made here carry p->lv.
 */
void vs_lv_apply(const struct vs_config *cfg);
/* Shutdown: close every connection; the ports are stopped with the rest. */
void vs_lv_shutdown(void);
/*
 * At shutdown the loop runs until this is true: what libvirt removed when
 * its connections closed has had its last completion.
 */
bool vs_lv_settled(void);
/* After the loop: free what libvirt left. */
void vs_lv_exit(void);

#endif
