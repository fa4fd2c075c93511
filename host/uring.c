// SPDX-License-Identifier: GPL-2.0
/*
 * uring.c - the io_uring ring, the object table behind user_data and its
 * in-flight counts, the clock.  The bottom of the daemon: it
 * calls no other file of it except log.c.
 */
#include "virtserd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define VS_CQ_ENTRIES	16384

/* UAPI values, for liburing headers older than the kernel features. */
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN	(1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_ASYNC_CANCEL_ALL
#define IORING_ASYNC_CANCEL_ALL		(1U << 0)
#endif

struct vs_loop vs_loop;

uint64_t vs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- object table ------------------------------------------------------ */

struct slot {
	void *obj;		/* NULL: free */
	uint32_t gen;		/* bumped on free */
	uint32_t next_free;
	/*
	 * SQEs issued for this object whose CQE has not been dispatched yet:
	 * vs_sqe() counts up, dispatch() down.  While it is not zero the
	 * kernel may still write into the object's buffers, so the object is
	 * not freed (vs_slot_inflight()).
	 */
	uint32_t inflight;
};

/* Owner: loop.  Grows by doubling; slot 0 is never handed out. */
static struct slot *slots;
static uint32_t nslots, free_head;

uint32_t vs_slot_alloc(void *obj, uint32_t *gen)
{
	uint32_t s;

	if (!free_head) {
		uint32_t n = nslots ? nslots * 2 : 64;
		struct slot *ns = realloc(slots, n * sizeof(*ns));

		if (!ns) {
			vs_log(LOG_ERR, "out of memory for the object table");
			abort();
		}
		memset(ns + nslots, 0, (n - nslots) * sizeof(*ns));
		for (uint32_t i = n - 1; i >= (nslots ? nslots : 1); i--) {
			ns[i].next_free = free_head;
			free_head = i;
		}
		slots = ns;
		nslots = n;
	}
	s = free_head;
	free_head = slots[s].next_free;
	slots[s].obj = obj;
	*gen = slots[s].gen & VS_UD_GEN_MASK;
	return s;
}

void *vs_slot_get(uint32_t slot, uint32_t gen)
{
	if (slot == 0 || slot >= nslots || !slots[slot].obj ||
	    (slots[slot].gen & VS_UD_GEN_MASK) != gen)
		return NULL;
	return slots[slot].obj;
}

void *vs_slot_complete(uint32_t slot, uint32_t gen)
{
	void *obj = vs_slot_get(slot, gen);

	if (obj)
		slots[slot].inflight--;
	return obj;
}

uint32_t vs_slot_inflight(uint32_t slot)
{
	return slot && slot < nslots ? slots[slot].inflight : 0;
}

void vs_slot_free(uint32_t slot)
{
	if (slots[slot].inflight)
		vs_log(LOG_ERR, "object freed with %u operations in flight (a bug)",
		       slots[slot].inflight);
	slots[slot].inflight = 0;
	slots[slot].obj = NULL;
	slots[slot].gen++;
	slots[slot].next_free = free_head;
	free_head = slot;
}

/* ---- ring -------------------------------------------------------------- */

/* Operations the daemon cannot work without (checked with the probe). */
static const struct {
	int op;
	const char *name;
} required_ops[] = {
	{ IORING_OP_READ, "READ" },
	{ IORING_OP_WRITE, "WRITE" },
	{ IORING_OP_ACCEPT, "ACCEPT" },
	{ IORING_OP_CONNECT, "CONNECT" },
	{ IORING_OP_TIMEOUT, "TIMEOUT" },
	{ IORING_OP_POLL_ADD, "POLL_ADD" },
	{ IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL" },
};

int vs_loop_init(void)
{
	struct io_uring_params p;
	struct io_uring_probe *probe;
	int ret;

	memset(&p, 0, sizeof(p));
	/*
	 * One thread submits and reaps, so the kernel need not interrupt us
	 * to run completions (COOP_TASKRUN, 5.19) and may skip cross-task
	 * checks (SINGLE_ISSUER, 6.0).  Fall back to no flags on older
	 * kernels: both are optimisations only.
	 */
	p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
	/*
	 * Every port can have several operations in flight, and a burst of
	 * completions must fit: size the CQ for thousands of ports rather
	 * than relying on the kernel's overflow list.
	 */
	p.flags |= IORING_SETUP_CQSIZE;
	p.cq_entries = VS_CQ_ENTRIES;
	ret = io_uring_queue_init_params(256, &vs_loop.ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = VS_CQ_ENTRIES;
		ret = io_uring_queue_init_params(256, &vs_loop.ring, &p);
	}
	if (ret == -EPERM || ret == -ENOSYS) {
		vs_log(LOG_ERR, "io_uring is not available (%s): it is disabled by "
		       "kernel.io_uring_disabled, a seccomp filter (container runtimes "
		       "block io_uring_setup by default) or the kernel config; "
		       "virtserd needs it and has no fallback", strerror(-ret));
		return ret;
	}
	if (ret < 0) {
		vs_log(LOG_ERR, "io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	if (!(p.features & IORING_FEAT_FAST_POLL))
		vs_log(LOG_WARNING, "kernel lacks IORING_FEAT_FAST_POLL (5.7): idle "
		       "ports will occupy io-wq workers");
	probe = io_uring_get_probe_ring(&vs_loop.ring);
	if (!probe) {
		vs_log(LOG_ERR, "io_uring probe failed: kernel older than 5.6?");
		io_uring_queue_exit(&vs_loop.ring);
		return -ENOSYS;
	}
	for (size_t i = 0; i < sizeof(required_ops) / sizeof(required_ops[0]); i++)
		if (!io_uring_opcode_supported(probe, required_ops[i].op)) {
			vs_log(LOG_ERR, "io_uring lacks IORING_OP_%s; kernel too old",
			       required_ops[i].name);
			io_uring_free_probe(probe);
			io_uring_queue_exit(&vs_loop.ring);
			return -ENOSYS;
		}
	io_uring_free_probe(probe);
	return 0;
}

void vs_loop_exit(void)
{
	io_uring_queue_exit(&vs_loop.ring);
	free(slots);
	slots = NULL;
	nslots = free_head = 0;
}

struct io_uring_sqe *vs_sqe(enum vs_op op, uint32_t slot, uint32_t gen)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&vs_loop.ring);

	while (!sqe) {
		int ret = io_uring_submit(&vs_loop.ring);

		if (ret < 0 && ret != -EBUSY && ret != -EAGAIN) {
			vs_log(LOG_ERR, "io_uring_submit: %s", strerror(-ret));
			abort();
		}
		sqe = io_uring_get_sqe(&vs_loop.ring);
	}
	io_uring_sqe_set_data64(sqe, vs_ud_encode(op, slot, gen));
	/* Every SQE posts exactly one CQE (no multishot), so this balances. */
	if (op != VS_OP_NONE && slot && slot < nslots)
		slots[slot].inflight++;
	vs_loop.pending_sqes++;
	return sqe;
}

void vs_cancel_fd(int fd)
{
	struct io_uring_sqe *sqe = vs_sqe(VS_OP_NONE, 0, 0);

	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
}

void vs_cancel_ud(uint64_t ud)
{
	struct io_uring_sqe *sqe = vs_sqe(VS_OP_NONE, 0, 0);

	io_uring_prep_cancel64(sqe, ud, 0);
}

/*
 * Every port, linked by port.c as it creates and frees them.  The head
 * lives here, with the object table, so that a file port.c calls (qmp.c,
 * through vm.c) can look a port up without calling back into port.c.
 */
struct vs_port *vs_ports;

/* Ports a completion handler changed since the last kick (vs_port_dirty). */
struct vs_port *vs_dirty_ports;
