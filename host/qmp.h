/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmp.h - each port's guest state from QMP, the hold policy, and control
 * clients that watch the state (qmp.c).
 */
#ifndef VIRTSERD_QMP_H
#define VIRTSERD_QMP_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "udata.h"

struct vs_port;
struct vs_op_handler;

enum vs_guest {
	VS_GUEST_UNKNOWN,	/* no QMP connection, or QEMU has not told us yet */
	VS_GUEST_CLOSED,
	VS_GUEST_OPEN,
};

const char *vs_guest_name(enum vs_guest g);

/* Start, keep or stop the QMP client of each <vm> (start-up and reload). */
void vs_qmp_apply(const struct vs_config *cfg);
/* Shutdown: close every QMP connection and watcher. */
void vs_qmp_shutdown(void);
/* After the loop: free what is left. */
void vs_qmp_exit(void);

/*
 * The hook of the host-to-guest path: true while @p has <guest
 * closed='hold'/> and its guest is not known to have the port open, so
 * what the endpoint sent stays in "down".  A state change kicks the port.
 */
bool vs_guest_holds(const struct vs_port *p);

/* @p's state, when it last changed (wall clock ms, 0: never), whether its
 * source is connected and whether that is libvirt (else QMP); false if its
 * VM has no <qmp> and no libvirt=, or the port no state. */
bool vs_guest_state(const struct vs_port *p, enum vs_guest *g, uint64_t *changed_ms,
		    bool *qmp_up, bool *via_libvirt);

/*
 * A libvirt domain's guest states (lvirt.c): libvirt, not a monitor socket
 * of ours, tells them.  _set gives the domain's ports (states of ports that
 * stay are kept), _link whether libvirt is connected (down: every state
 * unknown), _state one device's state by its QEMU id, _drop forgets the vm.
 */
void vs_guest_ext_set(const char *vm, const struct vs_port_cfg *ports, size_t n);
void vs_guest_ext_link(const char *vm, bool up);
void vs_guest_ext_state(const char *vm, const char *dev, enum vs_guest g);
void vs_guest_ext_drop(const char *vm);

/* A control connection that asked for "watch": @fd is ours from now on. */
int vs_guest_watch(int fd);

/* Completion handlers, for loop.c's dispatch table. */
void qmp_connect_ok(void *obj, int res);
void qmp_connect_err(void *obj, int res);
void qmp_read_ok(void *obj, int res);
void qmp_read_err(void *obj, int res);
void qmp_write_ok(void *obj, int res);
void qmp_write_err(void *obj, int res);
void qmp_timer_fire(void *obj, int res);
void watch_read_ok(void *obj, int res);
void watch_read_err(void *obj, int res);
void watch_write_ok(void *obj, int res);
void watch_write_err(void *obj, int res);

#endif
