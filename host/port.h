/* SPDX-License-Identifier: GPL-2.0 */
/*
 * port.h - what the port files call of each other.  Calls go one way:
 * port.c calls ep.c, vm.c and client.c; ep.c and vm.c call client.c;
 * nothing calls port.c back (handlers mark the port dirty and the loop
 * kicks it), and client.c calls none of them.
 */
#ifndef VIRTSERD_PORT_H
#define VIRTSERD_PORT_H

#include "virtserd.h"

#define RETRY_MS	1000	/* endpoint, accept and chardev retries */

/* A port's three timers, each one TIMEOUT SQE at most (its *_busy flag). */
static inline void arm_timer(struct vs_port *p, enum vs_op op, unsigned ms)
{
	struct __kernel_timespec *ts;
	struct io_uring_sqe *sqe;
	bool *busy;

	switch (op) {
	case VS_OP_VM_TIMER:
		ts = &p->vm_ts;
		busy = &p->vm_timer_busy;
		break;
	case VS_OP_PORT_TRIM:
		ts = &p->trim_ts;
		busy = &p->trim_busy;
		break;
	default:
		ts = &p->user_ts;
		busy = &p->user_timer_busy;
		break;
	}
	if (*busy)
		return;
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long long)(ms % 1000) * 1000000;
	sqe = vs_sqe(op, p->slot, p->gen);
	io_uring_prep_timeout(sqe, ts, 0, 0);	/* *ts is the kernel's until the CQE */
	*busy = true;
}

/* ---- client.c ---------------------------------------------------------- */

/* The oldest byte of "up" a blocking sink (or the held position) needs. */
uint64_t up_consumed(const struct vs_port *p);
/* ... and the oldest anybody may still want, replay window included. */
uint64_t up_keep(const struct vs_port *p);
struct vs_client *client_new(struct vs_port *p, enum vs_cl_kind kind, int rfd, int wfd);
/* Only for a closing client with nothing in flight (port_reap_clients). */
void client_free(struct vs_client *c);
void client_close(struct vs_client *c, const char *why);
void client_reopen(struct vs_client *c);
void client_write_kick(struct vs_client *c);
void client_read_kick(struct vs_client *c);
void user_connect(struct vs_port *p);
void user_accept_arm(struct vs_port *p);
bool has_sock_client(const struct vs_port *p);
void cl_read_ok(void *obj, int res);
void cl_read_err(void *obj, int res);
void cl_write_ok(void *obj, int res);
void cl_write_err(void *obj, int res);
void cl_connect_ok(void *obj, int res);
void cl_connect_err(void *obj, int res);
void user_accept_ok(void *obj, int fd);
void user_accept_err(void *obj, int res);

/* ---- ep.c -------------------------------------------------------------- */

struct vs_client *file_sink(struct vs_port *p, enum vs_cl_kind kind,
			    const char *path, bool append, uint64_t max,
			    unsigned backups, int *err);
void user_open(struct vs_port *p);
void user_timer_fire(void *obj, int res);

/* ---- vm.c -------------------------------------------------------------- */

void vm_open(struct vs_port *p);
void vm_close(struct vs_port *p, const char *why);
/* VM_CLOSING and nothing in flight on vm_fd: settle, close, go on. */
void vm_finish_close(struct vs_port *p);
void vm_read_kick(struct vs_port *p);
void vm_write_kick(struct vs_port *p);
void vm_ack_arm(struct vs_port *p);
void vm_connect_ok(void *obj, int res);
void vm_connect_err(void *obj, int res);
void vm_accept_ok(void *obj, int fd);
void vm_accept_err(void *obj, int res);
void vm_read_ok(void *obj, int res);
void vm_read_err(void *obj, int res);
void vm_write_ok(void *obj, int res);
void vm_write_err(void *obj, int res);
void vm_poll_ok(void *obj, int res);
void vm_poll_err(void *obj, int res);
void vm_timer_fire(void *obj, int res);

#endif
