/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_guest.h - helpers for the guest half of the virtio-serial tests.
 */
#ifndef VT_GUEST_H
#define VT_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "vt_proto.h"

/*
 * Send one command to the host half and wait for its answer.  The result
 * text (after "OK "/"ERR ") is copied to reply if it is not NULL.
 * Returns 0 for OK, -1 for ERR or a broken channel.
 */
int vt_host(char *reply, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Encode and decode the hex used on the channel. */
void vt_hex(char *out, const void *data, size_t n);
int vt_unhex(void *out, size_t max, const char *hex);

/* Port discovery, from the host's "ports" answer and sysfs. */
struct vt_port {
	unsigned int id;
	int console;		/* virtconsole rather than virtserialport */
	int daemon;		/* the host end is virtserd, not the test's host half */
	char name[128];
};
int vt_ports(struct vt_port *ports, int max);
/* "/dev/vportNpM" for port id on the device under test, or -1. */
int vt_port_node(unsigned int id, char *path, size_t len);
/* The first generic port whose host end the host half holds itself. */
int vt_first_port(struct vt_port *p);
/* The first port the host half reaches through virtserd. */
int vt_daemon_port(struct vt_port *p);
/* The first port the device announced as a console. */
int vt_console_port(struct vt_port *p);

/* Milliseconds on the monotonic clock. */
uint64_t vt_now_ms(void);

#endif
