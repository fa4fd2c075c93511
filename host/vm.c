// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - a port's QEMU side: connecting to or accepting QEMU's chardev
 * socket, reads into "up" (or the console scratch), writes from "down",
 * how much of it QEMU has read (peerq.c), and what a QEMU that goes away
 * leaves behind.  Called by port.c (and the loop for its completions);
 * calls client.c (up_consumed), sock.c, peerq.c, uring.c, log.c.
 */
#include "virtserd.h"
#include "peerq.h"
#include "port.h"
#include "qmp.h"
#include "sock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#define SCRATCH		65536	/* console overflow: read and count */

/*
 * While bytes written to QEMU are not known to be read, how often to ask
 * how many it has read: the answer is exact only if QEMU read nothing
 * after it, so a QEMU that stopped reading is measured within ACK_MS_MIN,
 * and the period doubles up to ACK_MS_MAX while nothing moves.
 */
#define ACK_MS_MIN	20
#define ACK_MS_MAX	1000

/* Console overflow lands here and is discarded; nobody reads it. */
static uint8_t scratch[SCRATCH];

const char *vs_vm_state_name(enum vs_vm_state s)
{
	switch (s) {
	case VM_DOWN: return "down";
	case VM_CONNECTING: return "connecting";
	case VM_LISTENING: return "listening";
	case VM_UP: return "up";
	case VM_CLOSING: return "closing";
	}
	return "?";
}

/*
 * QEMU's socket gets a send queue of about half the ring (the kernel
 * doubles what is asked, for its bookkeeping, and caps it at wmem_max).
 * Whatever that queue holds is also kept in "down" until QEMU is known to
 * have read it, so a larger queue would hold nothing more, while a smaller
 * one keeps a write waiting for room as QEMU reads: its completion is when
 * we learn how much QEMU has read and can let producers refill the ring.
 * Unix sockets only: a fixed SO_SNDBUF would switch off TCP's autotuning.
 */
static void vm_sndbuf(int fd, size_t cap)
{
	int v = cap / 4 > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)(cap / 4);

	/* Best effort: a larger queue costs throughput, never bytes. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void vm_connect(struct vs_port *p)
{
	struct io_uring_sqe *sqe;
	int family, fd, ret;

	ret = sock_addr(&p->cfg->chardev, &p->vm_addr, &p->vm_addrlen, &family);
	if (ret < 0 || (fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		p->last_err = ret < 0 ? -ret : errno;
		arm_timer(p, VS_OP_VM_TIMER, p->cfg->chardev.reconnect_ms ?
			  p->cfg->chardev.reconnect_ms : RETRY_MS);
		return;
	}
	if (p->cfg->chardev.is_unix)
		vm_sndbuf(fd, p->cfg->buffer_size);
	p->vm_fd = fd;
	p->vm_state = VM_CONNECTING;
	sqe = vs_sqe(VS_OP_VM_CONNECT, p->slot, p->gen);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&p->vm_addr, p->vm_addrlen);
}

static void vm_accept_arm(struct vs_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->vm_acc_busy || p->vm_lfd < 0 || p->stopping)
		return;
	p->vm_state = VM_LISTENING;
	sqe = vs_sqe(VS_OP_VM_ACCEPT, p->slot, p->gen);
	io_uring_prep_accept(sqe, p->vm_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	p->vm_acc_busy = true;
}

void vm_open(struct vs_port *p)
{
	if (p->cfg->chardev.mode == VS_MODE_CONNECT) {
		vm_connect(p);
		return;
	}
	if (p->vm_lfd < 0) {
		struct vs_perms pm = { .set = true, .mode = 0660 };
		char why[300];
		int fd = listen_on(&p->cfg->chardev, &pm, p->id, p->vm_laddr,
				   sizeof(p->vm_laddr), &p->vm_lfd_ino, why, sizeof(why));

		if (fd < 0) {
			if (*why)
				vs_log(LOG_ERR, "%s: chardev: %s; retrying", p->id, why);
			else
				vs_log(LOG_ERR, "%s: chardev listen: %s; retrying", p->id,
				       strerror(-fd));
			p->last_err = -fd;
			arm_timer(p, VS_OP_VM_TIMER, RETRY_MS);
			return;
		}
		p->vm_lfd = fd;
	}
	vm_accept_arm(p);
}

/*
 * Finds QEMU's end of a unix chardev socket, whose receive queue is what
 * it has not read.  Until QEMU accepts our connection that end has no
 * inode, and QEMU has read nothing: 0 with vm_peer_ino still 0, to be
 * asked again at the next measure.  -errno when sock_diag cannot be used.
 */
static int vm_peer(struct vs_port *p)
{
	int err;

	if (p->vm_peer_ino)
		return 0;
	err = vs_unix_peer_ino(p->vm_fd, &p->vm_peer_ino);
	return err == -ENOTCONN ? 0 : err;
}

static void vm_up(struct vs_port *p, int fd)
{
	int err;

	p->vm_fd = fd;
	p->vm_state = VM_UP;
	p->vm_connects++;
	p->last_err = 0;
	p->down_conn = p->down_pos;
	p->vm_reset = false;
	p->vm_ack_ms = ACK_MS_MIN;
	p->vm_peer_ino = 0;
	if (p->cfg->chardev.is_unix) {
		err = vm_peer(p);
		if (err && !p->vm_blind)
			vs_log(LOG_WARNING, "%s: cannot see how much QEMU has read (sock_diag: %s): "
			       "bytes it leaves unread when it goes away are lost", p->id,
			       strerror(-err));
		p->vm_blind = err != 0;
	}
	vs_log(LOG_INFO, "%s: QEMU connected", p->id);
	vs_port_dirty(p);
}

void vm_connect_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	if (p->stopping) {
		close(p->vm_fd);
		p->vm_fd = -1;
		p->vm_state = VM_DOWN;
		vs_port_dirty(p);
		return;
	}
	vm_up(p, p->vm_fd);
}

void vm_connect_err(void *obj, int res)
{
	struct vs_port *p = obj;

	close(p->vm_fd);
	p->vm_fd = -1;
	p->vm_state = VM_DOWN;
	if (p->stopping) {
		vs_port_dirty(p);
		return;
	}
	/* Once per cause, not once per retry. */
	if (p->last_err != -res)
		vs_log(LOG_INFO, "%s: connect %s: %s; retrying", p->id,
		       p->cfg->chardev.is_unix ? p->cfg->chardev.path : p->cfg->chardev.service,
		       strerror(-res));
	p->last_err = -res;
	if (p->cfg->chardev.reconnect)
		arm_timer(p, VS_OP_VM_TIMER, p->cfg->chardev.reconnect_ms);
}

void vm_accept_ok(void *obj, int fd)
{
	struct vs_port *p = obj;

	p->vm_acc_busy = false;
	if (p->stopping) {
		close(fd);
		vs_port_dirty(p);
		return;
	}
	if (p->cfg->chardev.is_unix)
		vm_sndbuf(fd, p->cfg->buffer_size);
	vm_up(p, fd);
}

void vm_accept_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_acc_busy = false;
	if (p->stopping || res == -ECANCELED) {
		vs_port_dirty(p);
		return;
	}
	vs_log(LOG_WARNING, "%s: chardev accept: %s", p->id, strerror(-res));
	arm_timer(p, VS_OP_VM_TIMER, RETRY_MS);
}

/*
 * Learns how much of what this connection was sent QEMU has read, and
 * lets producers reuse that much of "down".  Only with no write in flight:
 * then down_pos is all that the kernel was given.  False if it could not.
 */
static bool vm_measure(struct vs_port *p)
{
	uint64_t sent = p->down_pos - p->down_conn, acked;
	long q;

	if (p->vm_fd < 0 || p->vm_wr_busy)
		return false;
	if (p->cfg->chardev.is_unix) {
		if (vm_peer(p))
			return false;
		/* Not accepted yet: QEMU has read none of it. */
		q = p->vm_peer_ino ? vs_unix_rqlen(p->vm_peer_ino) : (long)sent;
	} else
		q = vs_tcp_unacked(p->vm_fd);
	if (q < 0)
		return false;
	/* Its queue holds only what this connection carried. */
	acked = p->down_pos - ((uint64_t)q < sent ? (uint64_t)q : sent);
	if (acked > p->down_acked) {
		p->down_acked = acked;
		p->vm_ack_ms = ACK_MS_MIN;
	}
	return true;
}

/*
 * The connection is over, no op is in flight on vm_fd and it is still
 * open: decide what QEMU left unread, and move down_pos back so that the
 * next QEMU gets it first.
 *
 * A unix peer that closes frees its receive queue at once, so its length
 * can no longer be asked for; what is known is whether it was empty (a
 * peer that closes with bytes queued leaves ECONNRESET on our socket) and
 * how long it was at the last measurement (vm_measure).  That is exact
 * unless QEMU read more after it: then those bytes go out again too.
 */
static void vm_settle(struct vs_port *p)
{
	struct pollfd pf = { .fd = p->vm_fd };
	int err = 0;
	socklen_t len = sizeof(err);
	uint64_t back, oldest;

	/* Stopping: port_stop_step waited for QEMU to read, up to its deadline. */
	if (p->stopping)
		return;
	if (!getsockopt(p->vm_fd, SOL_SOCKET, SO_ERROR, &err, &len) && err == ECONNRESET)
		p->vm_reset = true;
	if (poll(&pf, 1, 0) < 0)
		pf.revents = 0;
	if (!(pf.revents & (POLLHUP | POLLERR)) && !p->vm_reset) {
		/* QEMU shut down only its sending side: it can still read its queue. */
		p->down_acked = p->down_pos;
		return;
	}
	if (!p->cfg->chardev.is_unix)
		vm_measure(p);	/* SIOCOUTQ outlives a reset */
	else if (!p->vm_reset)
		p->down_acked = p->down_pos;	/* it closed with nothing queued */
	else if (p->vm_blind) {
		p->vm_unread_unknown++;
		vs_log(LOG_WARNING, "%s: QEMU went away with bytes it had not read; "
		       "how many cannot be told, and they are lost", p->id);
		p->down_acked = p->down_pos;
		return;
	}
	back = p->down_pos - p->down_acked;
	if (!back)
		return;
	oldest = vs_ring_oldest(&p->down);
	if (oldest > p->down_acked) {
		/* Producers stay behind down_acked, so this is a bug if it happens. */
		p->lost_to_vm += oldest - p->down_acked;
		vs_log(LOG_ERR, "%s: %llu bytes QEMU had not read are no longer buffered: lost",
		       p->id, (unsigned long long)(oldest - p->down_acked));
		p->down_acked = oldest;
		back = p->down_pos - oldest;
	}
	vs_log(LOG_INFO, "%s: QEMU went away with %llu bytes it had not read; "
	       "they go to the next QEMU", p->id, (unsigned long long)back);
	p->down_pos = p->down_acked;
}

void vm_finish_close(struct vs_port *p)
{
	if (p->vm_state != VM_CLOSING || p->vm_rd_busy || p->vm_wr_busy ||
	    p->vm_poll_busy)
		return;
	vm_settle(p);
	p->vm_peer_ino = 0;
	close(p->vm_fd);
	p->vm_fd = -1;
	p->vm_state = VM_DOWN;
	if (p->stopping)
		return;		/* the kick frees the port */
	if (p->cfg->chardev.mode == VS_MODE_BIND)
		vm_accept_arm(p);
	else if (p->cfg->chardev.reconnect)
		arm_timer(p, VS_OP_VM_TIMER, p->cfg->chardev.reconnect_ms);
}

/*
 * Data still in "down" stays there: it goes to the next QEMU connection
 * (a restart or the migration target), so nothing typed is lost; so do
 * the bytes this QEMU was sent and never read (vm_settle).
 */
void vm_close(struct vs_port *p, const char *why)
{
	if (p->vm_state != VM_UP)
		return;
	vs_log(LOG_INFO, "%s: QEMU disconnected: %s", p->id, why);
	p->vm_state = VM_CLOSING;
	if (p->vm_rd_busy || p->vm_wr_busy || p->vm_poll_busy)
		vs_cancel_fd(p->vm_fd);
	vm_finish_close(p);
	vs_port_dirty(p);
}

/*
 * Throttled ("up" full), no read is in flight on QEMU's socket, so a QEMU
 * that dies now would go unnoticed until a user reads, and the daemon
 * would not reconnect to its successor.  Watch for the hang-up alone:
 * POLLRDHUP, not POLLIN, so data arriving on a throttled port costs no
 * wake-up.
 */
static void vm_hup_watch(struct vs_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->vm_state != VM_UP || p->vm_poll_busy)
		return;
	sqe = vs_sqe(VS_OP_VM_POLL, p->slot, p->gen);
	io_uring_prep_poll_add(sqe, p->vm_fd, POLLRDHUP);
	p->vm_poll_busy = true;
}

/*
 * QEMU hung up while "up" was full: take what its socket still holds (the
 * kernel has it already, so this does not block) into p->spill, so the
 * socket can be closed and the next QEMU connected without losing a byte.
 */
static void vm_spill(struct vs_port *p)
{
	int avail = 0;
	uint8_t *buf;
	ssize_t r;

	if (ioctl(p->vm_fd, FIONREAD, &avail) < 0 || avail <= 0)
		return;
	buf = realloc(p->spill, p->spill_len + (size_t)avail);
	if (!buf) {
		vs_log(LOG_ERR, "%s: no memory to keep %d bytes QEMU left behind; "
		       "they stay unread", p->id, avail);
		return;
	}
	p->spill = buf;
	while (avail > 0) {
		r = recv(p->vm_fd, p->spill + p->spill_len, (size_t)avail, MSG_DONTWAIT);
		if (r <= 0)
			break;
		p->spill_len += (size_t)r;
		p->vm_in += (uint64_t)r;
		avail -= (int)r;
	}
	vs_log(LOG_INFO, "%s: kept %zu bytes QEMU sent before it hung up",
	       p->id, p->spill_len - p->spill_off);
}

/* Move spilled bytes into "up" as space allows: true once none are left. */
static bool vm_unspill(struct vs_port *p)
{
	uint8_t *ptr;
	size_t n;

	while (p->spill_off < p->spill_len) {
		n = vs_ring_reserve(&p->up, up_consumed(p), &ptr);
		if (!n)
			return false;
		if (n > p->spill_len - p->spill_off)
			n = p->spill_len - p->spill_off;
		memcpy(ptr, p->spill + p->spill_off, n);
		vs_ring_commit(&p->up, n);
		p->spill_off += n;
	}
	free(p->spill);
	p->spill = NULL;
	p->spill_len = p->spill_off = 0;
	return true;
}

void vm_read_kick(struct vs_port *p)
{
	struct io_uring_sqe *sqe;
	uint8_t *ptr;
	size_t n;

	/*
	 * An earlier connection's last bytes go first, so order is kept; the
	 * current connection waits behind them, watched for its own hang-up.
	 */
	if (p->spill && !vm_unspill(p)) {
		vm_hup_watch(p);
		return;
	}
	if (p->vm_state != VM_UP || p->vm_rd_busy)
		return;
	n = vs_ring_reserve(&p->up, up_consumed(p), &ptr);
	p->vm_rd_drop = false;
	if (!n) {
		if (p->cfg->kind != VS_KIND_CONSOLE) {
			vm_hup_watch(p);
			return;	/* backpressure: QEMU throttles the guest */
		}
		ptr = scratch;
		n = sizeof(scratch);
		p->vm_rd_drop = true;
	}
	/* Reserved "up" space (or scratch) is the kernel's until vm_read_ok/err. */
	sqe = vs_sqe(VS_OP_VM_READ, p->slot, p->gen);
	io_uring_prep_recv(sqe, p->vm_fd, ptr, n, 0);
	p->vm_rd_busy = true;
}

void vm_write_kick(struct vs_port *p)
{
	struct io_uring_sqe *sqe;
	const uint8_t *ptr;
	size_t n;

	if (p->vm_state != VM_UP || p->vm_wr_busy || vs_guest_holds(p))
		return;
	n = vs_ring_span(&p->down, p->down_pos, &ptr);
	if (!n)
		return;
	/*
	 * The kernel reads "down" from down_pos until vm_write_ok/err; the
	 * bytes stay put because producers write only behind down_acked.
	 */
	sqe = vs_sqe(VS_OP_VM_WRITE, p->slot, p->gen);
	io_uring_prep_send(sqe, p->vm_fd, ptr, n, MSG_NOSIGNAL);
	p->vm_wr_len = n;
	p->vm_wr_busy = true;
}

void vm_read_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_rd_busy = false;
	if (p->vm_rd_drop)
		p->drops += (uint64_t)res;	/* console overflow, counted */
	else
		vs_ring_commit(&p->up, (size_t)res);	/* loan back, res bytes filled */
	p->vm_in += (uint64_t)res;
	if (p->vm_state == VM_CLOSING) {
		vs_port_dirty(p);	/* the kick finishes the close */
		return;
	}
	if (res == 0) {
		vm_close(p, "end of file");
		return;
	}
	vs_port_dirty(p);
}

void vm_read_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_rd_busy = false;
	if (!p->vm_rd_drop)
		vs_ring_unreserve(&p->up);
	if (res == -ECONNRESET)
		p->vm_reset = true;	/* QEMU closed with bytes unread */
	if (p->vm_state == VM_CLOSING) {
		vs_port_dirty(p);	/* the kick finishes the close */
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		vs_port_dirty(p);
		return;
	}
	p->last_err = -res;
	vm_close(p, strerror(-res));
}

void vm_write_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	uint64_t end = p->down_pos + (uint64_t)res;

	p->vm_wr_busy = false;
	if (p->down_pos < p->down_sent_max)
		p->resent_to_vm += (end < p->down_sent_max ? end : p->down_sent_max) - p->down_pos;
	if (end > p->down_sent_max)
		p->down_sent_max = end;
	p->down_pos = end;	/* short write: the rest goes next */
	p->vm_out += (uint64_t)res;
	/*
	 * Without a measure nothing can be kept for the next QEMU.  A measure
	 * costs two syscalls, so a write measures only when users need the
	 * room; otherwise the timer does it (vm_ack_arm), off the round trip.
	 */
	if (p->vm_blind)
		p->down_acked = p->down_pos;
	else if (vs_ring_room(&p->down, p->down_acked) < p->down.cap / 2)
		vm_measure(p);
	if (p->vm_state == VM_CLOSING) {
		vs_port_dirty(p);	/* the kick finishes the close */
		return;
	}
	vs_port_dirty(p);
}

void vm_write_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_wr_busy = false;
	if (res == -ECONNRESET)
		p->vm_reset = true;
	if (p->vm_state == VM_CLOSING) {
		vs_port_dirty(p);	/* the kick finishes the close */
		return;
	}
	/* -ECANCELED: vm_ack_tick took it back, having moved nothing, to measure. */
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		vm_measure(p);
		vs_port_dirty(p);
		return;
	}
	p->last_err = -res;
	vm_close(p, strerror(-res));
}

void vm_poll_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	(void)res;	/* POLLRDHUP, POLLHUP or POLLERR: the peer is gone */
	p->vm_poll_busy = false;
	if (p->vm_state != VM_UP) {
		vs_port_dirty(p);
		return;
	}
	/* A read in flight sees the rest and the end of file itself. */
	if (p->vm_rd_busy)
		return;
	vm_spill(p);
	vm_close(p, "end of file");
	vs_port_dirty(p);
}

void vm_poll_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_poll_busy = false;
	if (p->vm_state == VM_CLOSING) {
		vs_port_dirty(p);	/* the kick finishes the close */
		return;
	}
	if (res != -ECANCELED)
		vs_log(LOG_WARNING, "%s: watching QEMU's socket: %s", p->id, strerror(-res));
	vs_port_dirty(p);
}

/*
 * Asks how much QEMU has read.  A write waiting for room in QEMU's socket
 * is taken back first (it has moved nothing yet, or it completes with
 * what it moved), since while it is in flight down_pos may not be all
 * that the kernel holds; its completion measures and issues it again.
 */
static void vm_ack_tick(struct vs_port *p)
{
	uint64_t before = p->down_acked;

	if (p->vm_wr_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_VM_WRITE, p->slot, p->gen));
	else
		vm_measure(p);
	if (p->down_acked == before)
		p->vm_ack_ms = p->vm_ack_ms * 2 > ACK_MS_MAX ? ACK_MS_MAX : p->vm_ack_ms * 2;
}

/* While QEMU may hold unread bytes, measure now and then (vm_ack_tick). */
void vm_ack_arm(struct vs_port *p)
{
	if (p->vm_state != VM_UP || p->stopping || p->vm_blind || p->vm_timer_busy ||
	    p->down_acked >= p->down_pos)
		return;
	arm_timer(p, VS_OP_VM_TIMER, p->vm_ack_ms);
	p->vm_ack_timer = true;
}

void vm_timer_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_timer_busy = false;
	if (p->vm_ack_timer) {
		p->vm_ack_timer = false;
		if (res == -ECANCELED) {
			vs_port_dirty(p);
			return;
		}
		if (!p->stopping && p->vm_state == VM_UP)
			vm_ack_tick(p);
		else if (!p->stopping && p->vm_state == VM_DOWN &&
			 p->cfg->chardev.mode == VS_MODE_CONNECT && p->cfg->chardev.reconnect)
			/* The connection ended while this was armed: the reconnect delay was not. */
			arm_timer(p, VS_OP_VM_TIMER, p->cfg->chardev.reconnect_ms);
		vs_port_dirty(p);
		return;
	}
	if (res == -ECANCELED || p->stopping) {
		vs_port_dirty(p);
		return;
	}
	if (p->vm_state == VM_DOWN)
		vm_open(p);
	else if (p->vm_state == VM_LISTENING)
		vm_accept_arm(p);
}
