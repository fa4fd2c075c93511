// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - the completion dispatcher and the kick-and-reap rule: the top
 * of the daemon's call graph (only main.c calls it).
 */
#include "virtserd.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>

static const struct vs_op_handler *handler_for(enum vs_op op)
{
	if (vs_port_handlers[op].ok)
		return &vs_port_handlers[op];
	if (vs_ctl_handlers[op].ok)
		return &vs_ctl_handlers[op];
	if (vs_main_handlers[op].ok)
		return &vs_main_handlers[op];
	return NULL;
}

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
	h = handler_for(op);
	if (!h)
		return;
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
