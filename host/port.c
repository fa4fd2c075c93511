// SPDX-License-Identifier: GPL-2.0
/*
 * port.c - one virtio-serial port: QEMU's chardev socket on one side
 * (vm.c), the configured endpoint (ep.c) and its clients (client.c) on the
 * other, and the two bounded buffers between; the port's life (start,
 * stop, drain) and its kick.
 *
 * Flow control in one sentence: a VM read is issued only into free space of
 * "up", where free means not yet sent to every blocking sink (the writer,
 * files, ptys, pipes, or the held position when nobody is attached); a user
 * read that feeds the guest is issued only into free space of "down", where
 * free means read by QEMU (down_acked), not merely written to it.  So a
 * slow user stops the VM reads and QEMU throttles the guest.  virtconsole
 * ports cannot be throttled (QEMU drops instead), so there a full "up"
 * makes us read into a scratch buffer and count the bytes as drops.
 *
 * Completion handlers only change state and mark the port dirty; the loop
 * then calls vs_port_kick() once per dirty port and batch of completions,
 * which issues whatever I/O is now possible (at most one read and one
 * write in flight per fd) and frees what is closed and has no SQE left
 * in flight (vs_slot_inflight).  Nothing else frees a client or a port.
 */
#include "virtserd.h"
#include "port.h"
#include "sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/sockios.h>

#define DRAIN_POLL_MS	10

/*
 * Ring pages that hold only consumed bytes go back to the kernel once the
 * port has been quiet for TRIM_MS, so a host whose ports once saw a burst
 * does not keep buffer_size x 2 resident per port.  Below TRIM_MIN stale
 * bytes the timer is not worth its wake-up; an idle port arms nothing.
 */
#define TRIM_MS		2000
#define TRIM_MIN	16384

struct vs_port *vs_port_find(const char *id)
{
	for (struct vs_port *p = vs_ports; p; p = p->next)
		if (!p->stopping && !strcmp(p->id, id))
			return p;
	return NULL;
}

/* Arms the quiet-period timer when a ring holds enough consumed bytes. */
static void trim_check(struct vs_port *p)
{
	if (p->trim_busy || p->stopping)
		return;
	if (vs_ring_stale(&p->up, up_keep(p)) < TRIM_MIN &&
	    vs_ring_stale(&p->down, p->down_acked) < TRIM_MIN)
		return;
	p->trim_mark = p->up.head + p->down.head;
	arm_timer(p, VS_OP_PORT_TRIM, TRIM_MS);
}

void trim_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->trim_busy = false;
	if (p->stopping || res == -ECANCELED) {
		vs_port_dirty(p);
		return;
	}
	/*
	 * A port that moved a ring's worth since the timer was armed is
	 * streaming: it would fault the pages straight back in, so leave it
	 * (the kick below re-arms; one wake-up per TRIM_MS while busy).
	 */
	if (p->up.head + p->down.head - p->trim_mark < p->up.cap) {
		p->trimmed += vs_ring_trim(&p->up, up_keep(p));
		p->trimmed += vs_ring_trim(&p->down, p->down_acked);
	}
	vs_port_dirty(p);
}

void vs_ports_reopen_logs(void)
{
	for (struct vs_port *p = vs_ports; p; p = p->next)
		for (struct vs_client *c = p->clients; c; c = c->next)
			if ((c->kind == CL_FILE || c->kind == CL_LOG) && !c->closing) {
				c->reopen = true;
				client_reopen(c);
			}
}

static void port_start(struct vs_port *p)
{
	p->started = true;
	/* Until the endpoint is open (or a writer attaches), keep output. */
	p->hold = p->cfg->ep.type != VS_EP_NULL;
	p->hold_pos = p->up.head;
	user_open(p);
	vm_open(p);
	vs_port_dirty(p);
}

struct vs_port *vs_port_new(const char *vm, const struct vs_port_cfg *cfg)
{
	struct vs_port *p = calloc(1, sizeof(*p)), **pp;
	bool busy = false;

	if (!p)
		abort();
	p->cfg = vs_port_cfg_dup(cfg);
	snprintf(p->id, sizeof(p->id), "%s/%s", vm, cfg->name);
	p->vm_fd = p->vm_lfd = p->lfd = p->pty_slave = -1;
	if (vs_ring_init(&p->up, cfg->buffer_size) || vs_ring_init(&p->down, cfg->buffer_size))
		abort();
	p->slot = vs_slot_alloc(p, &p->gen);
	for (struct vs_port *o = vs_ports; o; o = o->next)
		if (!strcmp(o->id, p->id))
			busy = true;
	/* Append, so that listings keep configuration order. */
	for (pp = &vs_ports; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	if (cfg->log.file) {
		int err = 0;

		if (!file_sink(p, CL_LOG, cfg->log.file, cfg->log.append,
			       cfg->log.max_size, cfg->log.backups, &err))
			vs_log(LOG_ERR, "%s: log %s: %s", p->id, cfg->log.file, strerror(-err));
	}
	if (!busy)
		port_start(p);
	return p;
}

void vs_ports_start_pending(void)
{
	for (struct vs_port *p = vs_ports; p; p = p->next) {
		bool busy = false;

		if (p->started || p->stopping)
			continue;
		for (struct vs_port *o = vs_ports; o; o = o->next)
			if (o != p && !strcmp(o->id, p->id))
				busy = true;
		if (!busy)
			port_start(p);
	}
}

void vs_port_stop(struct vs_port *p, unsigned timeout_ms)
{
	if (p->stopping)
		return;
	p->stopping = true;
	p->stop_deadline_ms = vs_now_ms() + timeout_ms;
	vs_port_dirty(p);	/* the kick runs port_stop_step */
	if (!p->started)
		return;
	if (p->acc_busy)
		vs_cancel_fd(p->lfd);
	if (p->vm_acc_busy)
		vs_cancel_fd(p->vm_lfd);
	if (p->user_timer_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_USER_TIMER, p->slot, p->gen));
	if (p->trim_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_PORT_TRIM, p->slot, p->gen));
}

/*
 * Frees the clients that are closed and have nothing in flight, and says
 * what the port does next without them: a connect-mode endpoint dials
 * again after its delay, a tty unplugged or a file gone bad is reopened
 * later while output is held.
 */
static void port_reap_clients(struct vs_port *p)
{
	struct vs_client **pp = &p->clients, *c;
	enum vs_cl_kind kind;

	while ((c = *pp)) {
		if (!c->closing || vs_slot_inflight(c->slot)) {
			pp = &c->next;
			continue;
		}
		kind = c->kind;
		*pp = c->next;
		client_free(c);
		if (p->stopping)
			continue;
		if ((p->cfg->ep.type == VS_EP_UNIX || p->cfg->ep.type == VS_EP_TCP) &&
		    p->cfg->ep.sock.mode == VS_MODE_CONNECT && p->cfg->ep.sock.reconnect &&
		    !has_sock_client(p))
			arm_timer(p, VS_OP_USER_TIMER, p->cfg->ep.sock.reconnect_ms);
		if (kind != CL_SOCK && kind != CL_CTL && kind != CL_LOG && !p->writer)
			arm_timer(p, VS_OP_USER_TIMER, RETRY_MS);
	}
}

/*
 * A stopping port goes once nothing of it is left for the kernel: no
 * client, no SQE in flight (timers, accepts and QEMU-side I/O included:
 * the in-flight count says so, no flag need be consulted), QEMU's socket
 * closed.  Then its listeners and links go too.
 */
static void port_reap(struct vs_port *p)
{
	struct vs_port **pp;

	port_reap_clients(p);
	if (!p->stopping || p->clients || vs_slot_inflight(p->slot) || p->vm_fd >= 0)
		return;
	if (p->lfd >= 0) {
		close(p->lfd);
		if (p->cfg->ep.sock.is_unix)
			unlink_own(p->cfg->ep.sock.path, p->lfd_ino);
	}
	if (p->vm_lfd >= 0) {
		close(p->vm_lfd);
		if (p->cfg->chardev.is_unix)
			unlink_own(p->cfg->chardev.path, p->vm_lfd_ino);
	}
	if (p->pty_slave >= 0)
		close(p->pty_slave);
	if (p->cfg->ep.type == VS_EP_PTY && p->cfg->ep.path && p->pty_name) {
		char buf[256];
		ssize_t n = readlink(p->cfg->ep.path, buf, sizeof(buf) - 1);

		/* Only remove the link if it is still ours. */
		if (n > 0 && (buf[n] = '\0', !strcmp(buf, p->pty_name)))
			unlink(p->cfg->ep.path);
	}
	for (pp = &vs_ports; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->spill)
		vs_log(LOG_WARNING, "%s: %zu bytes an earlier QEMU sent were never read",
		       p->id, p->spill_len - p->spill_off);
	free(p->spill);
	vs_log(LOG_INFO, "%s: removed", p->id);
	vs_slot_free(p->slot);
	vs_ring_free(&p->up);
	vs_ring_free(&p->down);
	vs_port_cfg_free(p->cfg);
	free(p->pty_name);
	free(p);
	vs_ports_start_pending();
}

/*
 * Shutdown/reload of one port.  QEMU discards what it has not read when
 * its peer hangs up, so first everything in "down" is written, then we wait
 * until the kernel send queue is empty (SIOCOUTQ), and only then close.
 * Blocking sinks (files, ptys) get what is in "up".  The deadline bounds
 * the wait if QEMU is paused; what is left is reported.
 */
static void port_stop_step(struct vs_port *p)
{
	bool late = vs_now_ms() >= p->stop_deadline_ms;
	int outq = 0;

	if (p->vm_state == VM_UP) {
		if (p->down_pos < p->down.head || p->vm_wr_busy) {
			if (!late)
				goto wait;
		}
		if (ioctl(p->vm_fd, SIOCOUTQ, &outq) == 0 && outq > 0 && !late)
			goto wait;
		if (late && (outq > 0 || p->down_pos < p->down.head))
			vs_log(LOG_WARNING, "%s: QEMU did not read what it was sent before "
			       "the deadline (%llu bytes not written, %d queued in the kernel "
			       "as SIOCOUTQ counts them); closing anyway", p->id,
			       (unsigned long long)(p->down.head - p->down_pos), outq);
	}
	for (struct vs_client *c = p->clients; c; c = c->next)
		if (c->blocking && !c->closing && c->pos < p->up.head && c->wfd >= 0 && !late)
			goto wait;
	vm_close(p, "port removed");
	if (p->vm_timer_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_VM_TIMER, p->slot, p->gen));
	if (p->vm_state == VM_CONNECTING)
		vs_cancel_fd(p->vm_fd);
	for (struct vs_client *c = p->clients, *n; c; c = n) {
		n = c->next;
		client_close(c, "port removed");
	}
	return;
wait:
	arm_timer(p, VS_OP_VM_TIMER, DRAIN_POLL_MS);
}

/*
 * Called by the loop only (kick_dirty), once per dirty port and batch of
 * completions, never from a handler: so nothing below runs twice for one
 * batch, and no handler has the port freed under it.
 */
void vs_port_kick(struct vs_port *p)
{
	if (p->started) {
		if (p->vm_state == VM_CLOSING)
			vm_finish_close(p);
		vm_write_kick(p);
		vm_ack_arm(p);
		vm_read_kick(p);
		for (struct vs_client *c = p->clients; c; c = c->next) {
			client_write_kick(c);
			client_read_kick(c);
		}
		trim_check(p);
	}
	if (p->stopping)
		port_stop_step(p);
	/*
	 * Marking p dirty while it is kicked is a no-op (a second pass in
	 * the same batch would find nothing new: everything above already
	 * saw the state it left); from here on a change needs a new kick.
	 */
	p->dirty = false;
	port_reap(p);	/* may free p: nothing may follow */
}
