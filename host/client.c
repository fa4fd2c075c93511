// SPDX-License-Identifier: GPL-2.0
/*
 * client.c - a port's user-side peers: accepted, connected and attached
 * clients, the writer seat and spies, their reads into "down" and writes
 * from "up", and what "up" may not overwrite yet (up_consumed).  Called
 * by port.c, ep.c, vm.c and ctl.c; calls sock.c, uring.c, log.c.
 */
#include "virtserd.h"
#include "port.h"
#include "rotate.h"
#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define TXCAP		16384	/* spy/telnet copy buffer */
#define RXCAP		4096	/* telnet/spy input; replies fit in TXCAP */
#define DGRAM_MAX	1400	/* stay under a typical MTU */

uint64_t up_consumed(const struct vs_port *p)
{
	uint64_t c = p->up.head;

	for (const struct vs_client *k = p->clients; k; k = k->next) {
		/* A direct write in flight lends ring memory even when closing. */
		if ((k->blocking && !k->closing) || (k->wr_busy && k->wr_direct))
			if (k->pos < c)
				c = k->pos;
	}
	if (p->hold && p->hold_pos < c)
		c = p->hold_pos;
	return c;
}

/*
 * The oldest byte of "up" anybody may still want: what the blocking sinks
 * need, what spies have not copied yet (they skip only when overrun, not
 * because we trimmed), and the replay window for an interactive attach.
 */
uint64_t up_keep(const struct vs_port *p)
{
	uint64_t k = up_consumed(p);

	for (const struct vs_client *c = p->clients; c; c = c->next)
		if (!c->closing && c->pos < k)
			k = c->pos;
	if (p->up.head - k < p->cfg->replay)
		k = p->up.head > p->cfg->replay ? p->up.head - p->cfg->replay : 0;
	return k;
}

static uint64_t start_pos(const struct vs_port *p, uint64_t replay_from_hold)
{
	uint64_t oldest = vs_ring_oldest(&p->up);
	uint64_t want = p->up.head > p->cfg->replay ? p->up.head - p->cfg->replay : 0;

	if (replay_from_hold < want)
		want = replay_from_hold;
	return want < oldest ? oldest : want;
}

/*
 * A spy's position moves past overwritten bytes only when its next write
 * is issued, and a spy that stopped reading has a write stuck in flight:
 * count what the ring has overwritten since then too, so status shows the
 * loss while it happens.
 */
uint64_t vs_client_drops(const struct vs_client *c)
{
	uint64_t oldest = vs_ring_oldest(&c->port->up);

	return c->drops + (c->pos < oldest ? oldest - c->pos : 0);
}

struct vs_client *client_new(struct vs_port *p, enum vs_cl_kind kind,
			     int rfd, int wfd)
{
	struct vs_client *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	c->port = p;
	c->kind = kind;
	c->rfd = rfd;
	c->wfd = wfd;
	c->slot = vs_slot_alloc(c, &c->gen);
	c->next = p->clients;
	p->clients = c;
	return c;
}

static void client_bufs(struct vs_client *c)
{
	/*
	 * calloc: the kernel fills these through io_uring, which valgrind
	 * cannot see; zeroed memory keeps its reports meaningful.
	 */
	if (!c->txbuf) {
		c->txbuf = calloc(1, TXCAP);
		c->txcap = TXCAP;
	}
	if (!c->rxbuf) {
		c->rxbuf = calloc(1, RXCAP);
		c->rxcap = RXCAP;
	}
	if (!c->txbuf || !c->rxbuf)
		abort();
}

/* Text or telnet replies queued ahead of data; false if it does not fit. */
static bool client_queue(struct vs_client *c, const void *buf, size_t n)
{
	client_bufs(c);
	if (c->txlen + n > c->txcap)
		return false;
	memcpy(c->txbuf + c->txlen, buf, n);
	c->txlen += n;
	return true;
}

/* A stream client joins: writer if the seat is free (or forced), else spy. */
static void client_join(struct vs_port *p, struct vs_client *c, bool want_ro, bool force)
{
	/* A pty, pipe, tty or file endpoint keeps its seat: attach as a spy. */
	if (p->writer && p->writer->kind != CL_SOCK && p->writer->kind != CL_CTL)
		want_ro = true;
	if (!want_ro && (!p->writer || force)) {
		uint64_t from = p->hold ? p->hold_pos : p->up.head;

		if (p->writer) {
			struct vs_client *old = p->writer;

			/* The old writer keeps its place but stops holding data. */
			from = old->pos;
			old->readonly = true;
			old->blocking = false;
			/*
			 * Its pending read owns the "down" producer slot; cancel
			 * it so the new writer can feed the guest.  Bytes it
			 * already read still count: they were typed with write
			 * access.
			 */
			if (old->rd_busy && old->feeding)
				vs_cancel_ud(vs_ud_encode(VS_OP_CL_READ, old->slot, old->gen));
			/*
			 * A person at a terminal is told in the stream; a
			 * program on a channel would read the notice as data
			 * from the guest, so there the log and its "ro" in
			 * status are all it gets.
			 */
			if (old->kind == CL_CTL || p->cfg->kind == VS_KIND_CONSOLE)
				client_queue(old, "\r\n[virtserd: write access taken over]\r\n", 39);
			vs_log(LOG_NOTICE, "%s: %s took over from %s", p->id, c->peer, old->peer);
		}
		/*
		 * A program on a channel must see each byte exactly once, so a
		 * socket writer resumes where the last writer stopped; only an
		 * interactive attach also gets the replay for context.
		 */
		if (c->kind == CL_CTL)
			c->pos = start_pos(p, from);
		else
			c->pos = from < vs_ring_oldest(&p->up) ? vs_ring_oldest(&p->up) : from;
		c->blocking = true;
		c->readonly = false;
		p->writer = c;
		p->hold = false;
	} else {
		c->pos = start_pos(p, p->up.head);
		c->readonly = true;
		c->blocking = false;
	}
	if (c->readonly || c->telnet)
		client_bufs(c);
	vs_log(LOG_INFO, "%s: client %s attached %s", p->id, c->peer,
	       c->readonly ? "read-only" : "read-write");
}

/*
 * Releases a client that is closing and has no SQE in flight: the kernel
 * has given back its buffers (txbuf, rxbuf, lent ring space) and holds no
 * reference to its fds.  The caller has unlinked it from port->clients.
 */
void client_free(struct vs_client *c)
{
	if (c->rfd > 2)
		close(c->rfd);
	if (c->wfd > 2 && c->wfd != c->rfd)
		close(c->wfd);
	vs_slot_free(c->slot);
	free(c->txbuf);
	free(c->rxbuf);
	free(c->path);
	free(c);
}

void client_close(struct vs_client *c, const char *why)
{
	struct vs_port *p = c->port;

	if (c->closing) {
		vs_port_dirty(p);	/* a completion of a closing client: reap it */
		return;
	}
	c->closing = true;
	if (p->writer == c) {
		/* Whatever it had not received waits for the next writer. */
		p->writer = NULL;
		p->hold = true;
		p->hold_pos = c->pos;
	}
	if (c->kind == CL_SOCK || c->kind == CL_CTL)
		vs_log(LOG_INFO, "%s: client %s detached: %s", p->id, c->peer, why);
	else if (!p->stopping)
		vs_log(LOG_WARNING, "%s: endpoint closed: %s", p->id, why);
	if ((c->rd_busy || c->connecting) && c->rfd >= 0)
		vs_cancel_fd(c->rfd);
	if (c->wr_busy && (c->wfd != c->rfd || !c->rd_busy))
		vs_cancel_fd(c->wfd);
	vs_port_dirty(p);	/* the kick frees it once its CQEs are in */
}

static bool rotate_if_full(struct vs_client *c)
{
	uint64_t sz;
	int fd, ret;

	ret = vs_rotate_files(c->path, c->backups);
	if (ret < 0)
		vs_log(LOG_WARNING, "%s: rotating %s: %s", c->port->id, c->path, strerror(-ret));
	fd = vs_open_log(c->path, 1, &sz);
	if (fd < 0) {
		vs_log(LOG_ERR, "%s: reopening %s: %s", c->port->id, c->path, strerror(-fd));
		return false;
	}
	close(c->wfd);
	c->wfd = fd;
	c->file_size = sz;
	return true;
}

/*
 * After an external rotation (logrotate moving the file), SIGUSR2 makes us
 * write to a new file at the configured path.  Never while a write is in
 * flight: the old fd belongs to that SQE until its completion.
 */
void client_reopen(struct vs_client *c)
{
	uint64_t sz;
	int fd;

	if (!c->reopen || c->wr_busy)
		return;
	c->reopen = false;
	fd = vs_open_log(c->path, 1, &sz);
	if (fd < 0) {
		vs_log(LOG_ERR, "%s: reopening %s: %s; keeping the old file",
		       c->port->id, c->path, strerror(-fd));
		return;
	}
	close(c->wfd);
	c->wfd = fd;
	c->file_size = sz;
}

void client_write_kick(struct vs_client *c)
{
	struct vs_port *p = c->port;
	struct io_uring_sqe *sqe;
	const uint8_t *ptr;
	uint64_t oldest;
	size_t n;

	if (c->wr_busy || c->closing || c->connecting || c->wfd < 0)
		return;
	client_reopen(c);
	if (c->txlen > c->txoff) {
		ptr = c->txbuf + c->txoff;
		n = c->txlen - c->txoff;
		c->wr_direct = false;
		goto submit;
	}
	c->txoff = c->txlen = 0;
	oldest = vs_ring_oldest(&p->up);
	if (c->pos < oldest) {
		/* Only spies can fall behind: blocking sinks hold the data. */
		c->drops += oldest - c->pos;
		c->pos = oldest;
	}
	n = vs_ring_span(&p->up, c->pos, &ptr);
	if (!n)
		return;
	if (c->kind == CL_FILE || c->kind == CL_LOG) {
		size_t room = vs_rotate_room(c->file_size, c->max_size, n);

		if (!room) {
			if (!rotate_if_full(c))
				return;
			room = vs_rotate_room(c->file_size, c->max_size, n);
		}
		n = room;
	}
	if (c->dgram && n > DGRAM_MAX)
		n = DGRAM_MAX;
	if (c->telnet) {
		size_t used;

		client_bufs(c);
		/* Leave room for negotiation replies queued meanwhile. */
		c->txlen = vs_telnet_encode(ptr, n, c->txbuf, c->txcap - RXCAP, &used);
		c->pos += used;
		ptr = c->txbuf;
		n = c->txlen;
		c->wr_direct = false;
	} else if (!c->blocking) {
		/* Spies get a copy so that the ring never waits for them. */
		client_bufs(c);
		if (n > c->txcap)
			n = c->txcap;
		memcpy(c->txbuf, ptr, n);
		c->txlen = n;
		c->pos += n;
		ptr = c->txbuf;
		c->wr_direct = false;
	} else {
		c->wr_direct = true;	/* ring bytes [pos, pos+n) lent to the kernel */
	}
submit:
	sqe = vs_sqe(VS_OP_CL_WRITE, c->slot, c->gen);
	if (c->kind == CL_SOCK || c->kind == CL_CTL)
		io_uring_prep_send(sqe, c->wfd, ptr, n, MSG_NOSIGNAL);
	else
		io_uring_prep_write(sqe, c->wfd, ptr, (unsigned)n, (uint64_t)-1);
	/*
	 * From here [ptr, ptr+n) is the kernel's: txbuf or ring bytes the
	 * writer's position holds; cl_write_ok/err hands it back.
	 */
	c->wr_len = n;
	c->wr_busy = true;
}

static bool client_feeds(const struct vs_client *c)
{
	return !c->readonly && c->kind != CL_FILE && c->kind != CL_LOG;
}

void client_read_kick(struct vs_client *c)
{
	struct vs_port *p = c->port;
	struct io_uring_sqe *sqe;
	uint8_t *ptr;
	size_t n;

	if (c->rd_busy || c->closing || c->connecting || c->rfd < 0 || p->stopping)
		return;
	if (client_feeds(c)) {
		if (p->down_busy)
			return;
		if (c->telnet) {
			n = vs_ring_room(&p->down, p->down_acked);
			if (n > c->rxcap / 4)	/* replies are up to 3x the input */
				n = c->rxcap / 4;
			if (!n || c->txcap - c->txlen < 3 * n)
				return;
			ptr = c->rxbuf;
			c->rd_direct = false;
		} else {
			n = vs_ring_reserve(&p->down, p->down_acked, &ptr);
			if (!n)
				return;	/* backpressure towards the user */
			c->rd_direct = true;	/* down space lent to the kernel */
		}
		c->feeding = true;
		p->down_busy = true;
	} else {
		client_bufs(c);
		ptr = c->rxbuf;
		n = c->telnet ? c->rxcap / 4 : c->rxcap;
		if (c->telnet && c->txcap - c->txlen < 3 * n)
			return;
		c->rd_direct = false;
		c->feeding = false;
	}
	sqe = vs_sqe(VS_OP_CL_READ, c->slot, c->gen);
	if (c->kind == CL_SOCK || c->kind == CL_CTL)
		io_uring_prep_recv(sqe, c->rfd, ptr, n, 0);
	else
		io_uring_prep_read(sqe, c->rfd, ptr, (unsigned)n, (uint64_t)-1);
	/* The kernel fills [ptr, ptr+n) until cl_read_ok commits it or _err unreserves. */
	c->rd_busy = true;
}

void cl_read_ok(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;
	size_t n = (size_t)res;

	c->rd_busy = false;
	if (c->feeding)
		p->down_busy = false;
	if (c->rd_direct) {
		vs_ring_commit(&p->down, n);	/* loan returned with n bytes */
	} else if (c->telnet) {
		uint8_t reply[3 * RXCAP / 4];
		size_t rn, dn;
		unsigned long br = c->tn.breaks;

		/* Decoding in place is safe: output never overtakes input. */
		dn = vs_telnet_decode(&c->tn, c->rxbuf, n, c->rxbuf, reply, &rn);
		if (rn && !client_queue(c, reply, rn)) {
			client_close(c, "telnet client does not read negotiation replies");
			return;
		}
		p->breaks += c->tn.breaks - br;
		if (c->feeding)
			vs_ring_put(&p->down, c->rxbuf, dn);
		else
			p->ro_discarded += dn;
	} else {
		p->ro_discarded += n;
	}
	c->bytes_in += n;
	if (c->closing) {
		/* The read won the race with our cancel: its bytes are kept. */
		vs_port_dirty(p);
		return;
	}
	if (res == 0) {
		if (c->kind == CL_STDIO) {
			c->rfd = -1;	/* stdin closed: keep writing to stdout */
		} else if (c->kind != CL_PTY && c->kind != CL_PIPE) {
			client_close(c, "end of file");
			return;
		}
	}
	vs_port_dirty(p);
}

void cl_read_err(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->rd_busy = false;
	if (c->feeding) {
		p->down_busy = false;
		if (c->rd_direct)
			vs_ring_unreserve(&p->down);
	}
	if (c->closing) {
		vs_port_dirty(p);
		return;
	}
	/* -ECANCELED without closing: a takeover took the producer slot. */
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		vs_port_dirty(p);
		return;
	}
	client_close(c, strerror(-res));
}

void cl_write_ok(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->wr_busy = false;
	if (c->wr_direct) {
		c->pos += (uint64_t)res;	/* short writes resume from here */
	} else {
		c->txoff += (size_t)res;
		if (c->txoff >= c->txlen)
			c->txoff = c->txlen = 0;
	}
	c->file_size += (uint64_t)res;
	c->bytes_out += (uint64_t)res;
	if (c->closing) {
		vs_port_dirty(p);
		return;
	}
	vs_port_dirty(p);
}

void cl_write_err(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->wr_busy = false;
	if (c->closing) {
		vs_port_dirty(p);
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		vs_port_dirty(p);
		return;
	}
	if (c->kind == CL_FILE || c->kind == CL_LOG) {
		/*
		 * A full disk must not stall the guest forever: skip what we
		 * could not write, count it, and try again with new data.
		 */
		uint64_t lost = p->up.head - c->pos;

		vs_log(LOG_ERR, "%s: writing %s: %s; %llu bytes not logged", p->id,
		       c->path, strerror(-res), (unsigned long long)lost);
		c->drops += lost;
		c->pos = p->up.head;
		c->txoff = c->txlen = 0;
		vs_port_dirty(p);
		return;
	}
	client_close(c, strerror(-res));
}

void cl_connect_ok(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->connecting = false;
	if (c->closing) {
		vs_port_dirty(p);
		return;
	}
	fmt_peer(c->rfd, c->peer, sizeof(c->peer));
	if (c->telnet) {
		uint8_t g[16];

		client_bufs(c);
		client_queue(c, g, vs_telnet_greeting(&c->tn, g));
	}
	client_join(p, c, false, false);
	vs_port_dirty(p);
}

void cl_connect_err(void *obj, int res)
{
	struct vs_client *c = obj;

	c->connecting = false;
	if (!c->closing)
		vs_log(LOG_DEBUG, "%s: connect to %s: %s", c->port->id, c->peer,
		       strerror(-res));
	client_close(c, strerror(-res));
}

void user_connect(struct vs_port *p)
{
	const struct vs_sockspec *s = &p->cfg->ep.sock;
	struct io_uring_sqe *sqe;
	struct vs_client *c;
	int fd, family, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	if (sock_addr(s, &ss, &len, &family) < 0 ||
	    (fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		arm_timer(p, VS_OP_USER_TIMER, s->reconnect_ms ? s->reconnect_ms : RETRY_MS);
		return;
	}
	if (!s->is_unix) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (s->nodelay)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	} else {
		unix_sndbuf(fd, p->cfg->buffer_size);
	}
	c = client_new(p, CL_SOCK, fd, fd);
	c->telnet = p->cfg->ep.telnet;
	c->addr = ss;
	c->addrlen = len;
	snprintf(c->peer, sizeof(c->peer), "%s", s->is_unix ? s->path : s->service);
	c->connecting = true;	/* c->addr is the kernel's until the CQE */
	sqe = vs_sqe(VS_OP_CL_CONNECT, c->slot, c->gen);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&c->addr, c->addrlen);
}

void user_accept_arm(struct vs_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->acc_busy || p->lfd < 0 || p->stopping)
		return;
	sqe = vs_sqe(VS_OP_USER_ACCEPT, p->slot, p->gen);
	io_uring_prep_accept(sqe, p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	p->acc_busy = true;
}

bool has_sock_client(const struct vs_port *p)
{
	for (const struct vs_client *c = p->clients; c; c = c->next)
		if (c->kind == CL_SOCK)
			return true;
	return false;
}

static unsigned live_clients(const struct vs_port *p)
{
	unsigned n = 0;

	for (const struct vs_client *c = p->clients; c; c = c->next)
		if (!c->closing && (c->kind == CL_SOCK || c->kind == CL_CTL))
			n++;
	return n;
}

void user_accept_ok(void *obj, int fd)
{
	struct vs_port *p = obj;
	struct vs_client *c;
	int one = 1;

	p->acc_busy = false;
	if (p->stopping) {
		close(fd);
		vs_port_dirty(p);
		return;
	}
	if (live_clients(p) >= p->cfg->max_clients) {
		static const char msg[] = "virtserd: too many clients on this port\r\n";

		vs_log(LOG_WARNING, "%s: refusing a client: %u already attached", p->id,
		       p->cfg->max_clients);
		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* Best effort notice on a socket we close anyway. */
		}
		close(fd);
		user_accept_arm(p);
		return;
	}
	if (p->cfg->ep.type == VS_EP_TCP) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (p->cfg->ep.sock.nodelay)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (p->cfg->ep.sock.is_unix)
		unix_sndbuf(fd, p->cfg->buffer_size);
	c = client_new(p, CL_SOCK, fd, fd);
	fmt_peer(fd, c->peer, sizeof(c->peer));
	c->telnet = p->cfg->ep.telnet;
	if (c->telnet) {
		uint8_t g[16];

		client_bufs(c);
		client_queue(c, g, vs_telnet_greeting(&c->tn, g));
	}
	client_join(p, c, false, false);
	user_accept_arm(p);
	vs_port_dirty(p);
}

void user_accept_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->acc_busy = false;
	if (p->stopping || res == -ECANCELED) {
		vs_port_dirty(p);
		return;
	}
	vs_log(LOG_WARNING, "%s: accept: %s", p->id, strerror(-res));
	/* EMFILE and friends: retry later instead of spinning. */
	arm_timer(p, VS_OP_USER_TIMER, RETRY_MS);
}

int vs_port_attach(struct vs_port *p, int fd, bool readonly, bool force, const char *peer)
{
	struct vs_client *c;

	if (p->stopping)
		return -ESHUTDOWN;
	if (live_clients(p) >= p->cfg->max_clients)
		return -EUSERS;
	/* A pty, pipe, tty or file endpoint keeps its seat (client_join). */
	if (force && p->writer && p->writer->kind != CL_SOCK && p->writer->kind != CL_CTL)
		return -EPERM;
	c = client_new(p, CL_CTL, fd, fd);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	client_bufs(c);
	client_join(p, c, readonly, force);
	client_queue(c, c->readonly ? "OK read-only\n" : "OK read-write\n",
		     c->readonly ? 13 : 14);
	vs_port_dirty(p);
	return 0;
}
