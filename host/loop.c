// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - the completion dispatcher and the kick-and-reap rule: the top
 * of the daemon's call graph (only main.c calls it).
 */
#include "virtserd.h"
#include "port.h"
#include "qmp.h"
#ifdef VS_HAVE_LIBVIRT
#include "lvevent.h"
#endif

#include <errno.h>
#include <string.h>
#include <syslog.h>

/*
 * The one dispatch table: op -> { .ok for res >= 0, .err for res < 0 }.
 * A handler changes the state of its object and marks its port dirty; it
 * never kicks a port or frees an object (kick_dirty below does both).
 */
static const struct vs_op_handler handlers[VS_OP__COUNT] = {
	/* vm.c: QEMU's chardev socket */
	[VS_OP_VM_CONNECT] = { vm_connect_ok, vm_connect_err },
	[VS_OP_VM_ACCEPT] = { vm_accept_ok, vm_accept_err },
	[VS_OP_VM_READ] = { vm_read_ok, vm_read_err },
	[VS_OP_VM_WRITE] = { vm_write_ok, vm_write_err },
	[VS_OP_VM_POLL] = { vm_poll_ok, vm_poll_err },
	/* A TIMEOUT that expires completes with -ETIME: both go one way. */
	[VS_OP_VM_TIMER] = { vm_timer_fire, vm_timer_fire },
	/* ep.c, port.c: the endpoint's retry timer, the idle-memory timer */
	[VS_OP_USER_TIMER] = { user_timer_fire, user_timer_fire },
	[VS_OP_PORT_TRIM] = { trim_fire, trim_fire },
	/* client.c: the endpoint's listener and its clients */
	[VS_OP_USER_ACCEPT] = { user_accept_ok, user_accept_err },
	[VS_OP_CL_CONNECT] = { cl_connect_ok, cl_connect_err },
	[VS_OP_CL_READ] = { cl_read_ok, cl_read_err },
	[VS_OP_CL_WRITE] = { cl_write_ok, cl_write_err },
	/* ctl.c: the control socket */
	[VS_OP_CTL_ACCEPT] = { ctl_accept_ok, ctl_accept_err },
	[VS_OP_CTL_READ] = { ctl_read_ok, ctl_read_err },
	[VS_OP_CTL_WRITE] = { ctl_write_ok, ctl_write_err },
	/* signal.c */
	[VS_OP_SIGNAL] = { sig_ok, sig_err },
	/* qmp.c: a VM's QMP monitor, and "watch" control clients */
	[VS_OP_QMP_CONNECT] = { qmp_connect_ok, qmp_connect_err },
	[VS_OP_QMP_READ] = { qmp_read_ok, qmp_read_err },
	[VS_OP_QMP_WRITE] = { qmp_write_ok, qmp_write_err },
	[VS_OP_QMP_TIMER] = { qmp_timer_fire, qmp_timer_fire },
	[VS_OP_WATCH_READ] = { watch_read_ok, watch_read_err },
	[VS_OP_WATCH_WRITE] = { watch_write_ok, watch_write_err },
#ifdef VS_HAVE_LIBVIRT
	/* lvevent.c: libvirt's handles and timeouts; each looks at res itself */
	[VS_OP_LV_POLL] = { lvev_poll_done, lvev_poll_done },
	[VS_OP_LV_TIMER] = { lvev_timer_done, lvev_timer_done },
#endif
};

static void dispatch(const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	enum vs_op op = vs_ud_op(ud);
	const struct vs_op_handler *h;
	void *obj;

	if (op == VS_OP_NONE || op >= VS_OP__COUNT)
		return;
	obj = vs_slot_complete(vs_ud_slot(ud), vs_ud_gen(ud));
	if (!obj) {
		/* Objects are freed only after their last CQE: a bug if seen. */
		vs_log(LOG_WARNING, "completion for a freed object (op %d)", op);
		return;
	}
	h = &handlers[op];
	if (!h->ok) {
		vs_log(LOG_ERR, "no handler for op %d (a bug)", op);
		return;
	}
	if (cqe->res < 0)
		h->err(obj, cqe->res);
	else
		h->ok(obj, cqe->res);
}

/*
 * Kick and reap: handlers only change state and mark their port dirty;
 * here, once per batch, each dirty port issues what is now possible and
 * frees what has nothing in flight any more (vs_port_kick).  A kick may
 * dirty another port (one that was waiting for this one to be freed
 * starts), so the list is taken until it is empty.
 */
static void kick_dirty(void)
{
	struct vs_port *p;

	while ((p = vs_dirty_ports)) {
		vs_dirty_ports = p->dirty_next;
		p->dirty_next = NULL;
		/* p->dirty stays set during its kick: the kick clears it. */
		vs_port_kick(p);	/* may free p */
	}
}

int vs_loop_run(bool (*done)(void))
{
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int ret;

		kick_dirty();
		if (done())
			break;
		vs_loop.pending_sqes = 0;
		/* Sleep until at least one completion: no timers while idle. */
		ret = io_uring_submit_and_wait(&vs_loop.ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			vs_log(LOG_ERR, "io_uring_submit_and_wait: %s", strerror(-ret));
			return ret;
		}
		vs_loop.wakeups++;
		io_uring_for_each_cqe(&vs_loop.ring, head, cqe) {
			dispatch(cqe);
			n++;
		}
		/* One store to the CQ head for the whole batch. */
		io_uring_cq_advance(&vs_loop.ring, n);
		vs_loop.cqes += n;
	}
	return 0;
}
