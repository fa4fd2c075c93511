// SPDX-License-Identifier: GPL-2.0
/*
 * lvevent.c - libvirt's event loop, run by the daemon's io_uring loop
 * (virEventRegisterImpl): a handle is a one-shot POLL_ADD re-armed after
 * each callback, a timeout a TIMEOUT SQE re-armed after each expiry.  So
 * libvirt's sockets, keepalive and event dispatch cost no thread and no
 * second poll loop.  Calls uring.c and log.c only.
 *
 * libvirt's rules, as its event API documents them: a timeout of -1 is
 * disabled, 0 fires on every iteration, N every N ms; a handle or timeout
 * may be updated or removed from inside its own callback; and the free
 * callback of a removed one must not run inside the remove call, since
 * libvirt may hold the lock the free callback takes.  Here it runs when
 * the object's last SQE completes (a NOP when nothing else was in flight).
 */
#include "virtserd.h"
#include "lvevent.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <syslog.h>

#include <libvirt/libvirt.h>

/* One handle or timeout.  Owner of every field: this file, single-threaded. */
struct lvev {
	struct lvev *next;
	bool is_timer;
	int id;				/* what libvirt knows it by */
	uint32_t slot, gen;
	bool busy;			/* an SQE of ours is in flight */
	bool removed;			/* freed (ff called) when !busy */
	bool dispatching;		/* inside its callback: re-armed after */
	bool dead;			/* the fd cannot be polled: not re-armed
					 * until libvirt updates the handle */
	/* handle */
	int fd;
	int events;			/* VIR_EVENT_HANDLE_*; 0: not watched */
	unsigned armed;			/* poll mask of the SQE in flight */
	virEventHandleCallback hcb;
	/* timeout */
	int ms;				/* -1: disabled */
	int armed_ms;			/* of the TIMEOUT in flight */
	struct __kernel_timespec ts;	/* the kernel's while busy */
	virEventTimeoutCallback tcb;
	void *opaque;
	virFreeCallback ff;
};

static struct lvev *evs;
static int next_id = 1;

static struct lvev *find(int id, bool timer)
{
	for (struct lvev *e = evs; e; e = e->next)
		if (e->id == id && e->is_timer == timer && !e->removed)
			return e;
	return NULL;
}

static unsigned to_poll(int ev)
{
	return (ev & VIR_EVENT_HANDLE_READABLE ? POLLIN : 0) |
	       (ev & VIR_EVENT_HANDLE_WRITABLE ? POLLOUT : 0);
}

static int from_poll(unsigned rev)
{
	return (rev & POLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
	       (rev & POLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
	       (rev & POLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
	       (rev & POLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static void ev_free(struct lvev *e)
{
	struct lvev **pp;

	for (pp = &evs; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	vs_slot_free(e->slot);
	/* Outside libvirt's remove call: a CQE of ours, or the loop's end. */
	if (e->ff)
		e->ff(e->opaque);
	free(e);
}

/* Puts in flight what @e needs now: a poll, a timeout, or a NOP to free it. */
static void ev_arm(struct lvev *e)
{
	struct io_uring_sqe *sqe;

	if (e->busy || e->dispatching)
		return;
	if (e->removed) {
		sqe = vs_sqe(e->is_timer ? VS_OP_LV_TIMER : VS_OP_LV_POLL, e->slot, e->gen);
		io_uring_prep_nop(sqe);
		e->busy = true;
		return;
	}
	if (!e->is_timer && e->events && !e->dead) {
		e->armed = to_poll(e->events);
		sqe = vs_sqe(VS_OP_LV_POLL, e->slot, e->gen);
		/* ERR and HUP are reported whatever the mask asks for. */
		io_uring_prep_poll_add(sqe, e->fd, e->armed);
		e->busy = true;
	} else if (e->is_timer && e->ms >= 0) {
		e->armed_ms = e->ms;
		e->ts.tv_sec = e->ms / 1000;
		e->ts.tv_nsec = (long long)(e->ms % 1000) * 1000000;
		sqe = vs_sqe(VS_OP_LV_TIMER, e->slot, e->gen);
		io_uring_prep_timeout(sqe, &e->ts, 0, 0);	/* e->ts is the kernel's */
		e->busy = true;
	}
}

/* What is in flight no longer matches what libvirt asks: cancel it. */
static void ev_changed(struct lvev *e)
{
	bool stale;

	if (!e->busy) {
		ev_arm(e);
		return;
	}
	stale = e->removed || (e->is_timer ? e->ms != e->armed_ms :
			       to_poll(e->events) != e->armed);
	if (stale)
		vs_cancel_ud(vs_ud_encode(e->is_timer ? VS_OP_LV_TIMER : VS_OP_LV_POLL,
					  e->slot, e->gen));
}

static struct lvev *ev_new(bool timer, void *opaque, virFreeCallback ff)
{
	struct lvev *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->is_timer = timer;
	e->id = next_id++;
	if (next_id <= 0)
		next_id = 1;
	e->opaque = opaque;
	e->ff = ff;
	e->fd = -1;
	e->ms = -1;
	e->slot = vs_slot_alloc(e, &e->gen);
	e->next = evs;
	evs = e;
	return e;
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
		      virFreeCallback ff)
{
	struct lvev *e = ev_new(false, opaque, ff);

	e->fd = fd;
	e->events = events;
	e->hcb = cb;
	ev_arm(e);
	return e->id;
}

static void update_handle(int id, int events)
{
	struct lvev *e = find(id, false);

	if (!e)
		return;
	e->events = events;
	e->dead = false;
	ev_changed(e);
}

static int remove_handle(int id)
{
	struct lvev *e = find(id, false);

	if (!e)
		return -1;
	e->removed = true;
	e->events = 0;
	ev_changed(e);
	return 0;
}

static int add_timeout(int ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct lvev *e = ev_new(true, opaque, ff);

	e->ms = ms < 0 ? -1 : ms;
	e->tcb = cb;
	ev_arm(e);
	return e->id;
}

static void update_timeout(int id, int ms)
{
	struct lvev *e = find(id, true);

	if (!e)
		return;
	e->ms = ms < 0 ? -1 : ms;
	ev_changed(e);
}

static int remove_timeout(int id)
{
	struct lvev *e = find(id, true);

	if (!e)
		return -1;
	e->removed = true;
	ev_changed(e);
	return 0;
}

void vs_lvev_register(void)
{
	virEventRegisterImpl(add_handle, update_handle, remove_handle,
			     add_timeout, update_timeout, remove_timeout);
}

/* The CQE of a poll, a cancelled poll or a NOP. */
void lvev_poll_done(void *obj, int res)
{
	struct lvev *e = obj;
	int ev = res > 0 ? from_poll((unsigned)res) : 0;

	e->busy = false;
	if (e->removed) {
		ev_free(e);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		/*
		 * The fd is not pollable (closed under us): say so as libvirt
		 * expects, once; polling it again would fail at once, for ever.
		 */
		ev = VIR_EVENT_HANDLE_ERROR;
		e->dead = true;
	}
	if (ev && e->events) {
		e->dispatching = true;
		e->hcb(e->id, e->fd, ev, e->opaque);
		e->dispatching = false;
		if (e->removed) {
			ev_arm(e);	/* the NOP that frees it */
			return;
		}
	}
	ev_arm(e);
}

/* The CQE of a timeout: -ETIME when it expired, -ECANCELED when updated. */
void lvev_timer_done(void *obj, int res)
{
	struct lvev *e = obj;

	e->busy = false;
	if (e->removed) {
		ev_free(e);
		return;
	}
	if (res == -ETIME && e->ms >= 0) {
		e->dispatching = true;
		e->tcb(e->id, e->opaque);
		e->dispatching = false;
	}
	ev_arm(e);
}

bool vs_lvev_settled(void)
{
	for (struct lvev *e = evs; e; e = e->next)
		if (e->removed)
			return false;
	return true;
}

void vs_lvev_exit(void)
{
	/* The loop has ended: no completion will come for what is left. */
	while (evs) {
		evs->busy = false;
		ev_free(evs);
	}
}
