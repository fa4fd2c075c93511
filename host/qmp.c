// SPDX-License-Identifier: GPL-2.0
/*
 * qmp.c - each port's guest state (open, closed, unknown) from a QMP
 * monitor of its VM, the hold policy built on it, and control clients
 * that watch the state ("watch" on the control socket).
 *
 * One client per <vm> with a <qmp path>: connect (io_uring, like the rest),
 * read the greeting, then send in one write qmp_capabilities, a qom-get of
 * each port device's "chardev" property and query-chardev.  QEMU answers in
 * order, so the chardev labels are known when query-chardev's
 * "frontend-open" arrives: for a virtserialport that is the guest's state
 * (QEMU sets it when the guest opens or closes the port).  For a
 * virtconsole QEMU does not track it there, so a console's state is
 * unknown until its first VSERPORT_CHANGE.  After that, VSERPORT_CHANGE
 * events (data.id = the device id) keep every state current.  QMP's stream
 * is ordered: an event read before an answer happened before it.
 *
 * While the monitor is not connected every state of the VM is "unknown";
 * the client reconnects with a backoff from QMP_RETRY_MIN_MS to
 * QMP_RETRY_MAX_MS (a QEMU that restarts comes back within one step).
 *
 * Objects are freed only after their last completion (busy flags), as in
 * port.c; vs_qmp_exit() frees what is left when the loop has ended.
 */
#include "virtserd.h"
#include "qmp.h"
#include "qmp_proto.h"
#include "ctl_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define QMP_RETRY_MIN_MS	250
#define QMP_RETRY_MAX_MS	5000
/*
 * Connected without a greeting this long: say that another client may
 * hold the monitor (QEMU greets a queued connection only once that client
 * leaves, so the connection is kept).
 */
#define QMP_GREET_WARN_MS	5000
#define QMP_ID_CAPS		1
#define QMP_ID_CHARDEVS		2
#define QMP_ID_DEV0		1000	/* + index of the device: its qom-get */
/* A watcher further behind than this is cut off rather than buffered. */
#define WATCH_PENDING_MAX	(64u * 1024)

enum qmp_conn {
	Q_DOWN,			/* no socket; the retry timer may be pending */
	Q_CONNECTING,		/* CONNECT in flight */
	Q_UP,			/* connected; greeted once the greeting is read */
};

/* One port of the VM as QMP sees it.  Owner: its client. */
struct qdev {
	char port[VS_QMP_STR_MAX];	/* port name (cfg->name) */
	char dev[VS_QMP_STR_MAX];	/* QEMU device id */
	char label[VS_QMP_STR_MAX];	/* its chardev, "" until qom-get answers */
	bool console;			/* virtconsole: not in frontend-open */
	enum vs_guest state;
	uint64_t changed_ms;		/* CLOCK_REALTIME ms of the last change, 0: none */
};

/* One QMP connection.  Owner of every field: this file, single-threaded. */
struct vs_qmp {
	struct vs_qmp *next;
	char *vm, *path;
	uint32_t slot, gen;
	enum qmp_conn conn;
	int fd;
	bool rd_busy, wr_busy, timer_busy;
	bool stopping;			/* removed from the configuration or shutdown */
	/*
	 * A libvirt domain's (lvirt.c): no socket of ours, path is NULL;
	 * the states are set by vs_guest_ext_*() and greeted means libvirt
	 * is connected.
	 */
	bool ext;
	bool greeted;			/* the greeting was read on this connection */
	bool greet_warned;		/* the no-greeting warning was given for this path */
	struct sockaddr_un addr;	/* kept alive for the CONNECT SQE */
	struct __kernel_timespec ts;	/* the kernel's while timer_busy */
	unsigned retry_ms;
	int last_err;			/* logged once per cause */
	struct vs_qmp_split split;	/* its buffer is the kernel's while rd_busy */
	char *out;			/* commands; the kernel's while wr_busy */
	size_t outlen, outoff;
	struct qdev *devs;
	size_t ndevs;
	uint64_t connects, events;
};

/* A control connection that asked for "watch".  Owner: this file. */
struct watcher {
	struct watcher *next;
	uint32_t slot, gen;
	int fd;
	bool rd_busy, wr_busy, closing;
	char rbuf[64];			/* input is read and ignored: EOF ends it */
	char *fly;			/* the kernel's while wr_busy */
	size_t flylen, flyoff;
	char *pend;			/* lines not yet sent */
	size_t pendlen;
};

static struct vs_qmp *clients;
static struct watcher *watchers;

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *vs_guest_name(enum vs_guest g)
{
	switch (g) {
	case VS_GUEST_OPEN: return "open";
	case VS_GUEST_CLOSED: return "closed";
	default: return "unknown";
	}
}

/* ---- watchers ---------------------------------------------------------- */

static void watcher_maybe_free(struct watcher *w)
{
	struct watcher **pp;

	if (!w->closing || w->rd_busy || w->wr_busy)
		return;
	for (pp = &watchers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	close(w->fd);
	vs_slot_free(w->slot);
	free(w->fly);
	free(w->pend);
	free(w);
}

/*
 * Starts the end; the caller frees with watcher_maybe_free() once, after
 * its last use of @w (a completion handler at its end).
 */
static void watcher_close(struct watcher *w)
{
	if (w->closing)
		return;
	w->closing = true;
	if (w->rd_busy || w->wr_busy)
		vs_cancel_fd(w->fd);
}

static void watcher_flush(struct watcher *w)
{
	struct io_uring_sqe *sqe;

	if (w->wr_busy || w->closing || !w->pendlen)
		return;
	w->fly = w->pend;	/* lent to the kernel until the CQE */
	w->flylen = w->pendlen;
	w->flyoff = 0;
	w->pend = NULL;
	w->pendlen = 0;
	sqe = vs_sqe(VS_OP_WATCH_WRITE, w->slot, w->gen);
	io_uring_prep_send(sqe, w->fd, w->fly, (unsigned)w->flylen, MSG_NOSIGNAL);
	w->wr_busy = true;
}

__attribute__((format(printf, 2, 3)))
static void watcher_say(struct watcher *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;
	char *np;

	if (w->closing)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (w->pendlen + (size_t)n > WATCH_PENDING_MAX) {
		vs_log(LOG_WARNING, "control: a watcher fell %zu bytes behind; closing it",
		       w->pendlen);
		watcher_close(w);
		watcher_maybe_free(w);	/* callers do not touch @w after this */
		return;
	}
	np = realloc(w->pend, w->pendlen + (size_t)n);
	if (!np)
		abort();
	memcpy(np + w->pendlen, line, (size_t)n);
	w->pend = np;
	w->pendlen += (size_t)n;
	watcher_flush(w);
}

static void watcher_read(struct watcher *w)
{
	struct io_uring_sqe *sqe;

	if (w->closing)
		return;
	sqe = vs_sqe(VS_OP_WATCH_READ, w->slot, w->gen);
	io_uring_prep_recv(sqe, w->fd, w->rbuf, sizeof(w->rbuf), 0);
	w->rd_busy = true;
}

void watch_read_ok(void *obj, int res)
{
	struct watcher *w = obj;

	w->rd_busy = false;
	if (res == 0 || w->closing) {
		watcher_close(w);
		watcher_maybe_free(w);
		return;
	}
	watcher_read(w);
}

void watch_read_err(void *obj, int res)
{
	struct watcher *w = obj;

	w->rd_busy = false;
	watcher_close(w);
	watcher_maybe_free(w);
}

void watch_write_ok(void *obj, int res)
{
	struct watcher *w = obj;
	struct io_uring_sqe *sqe;

	w->wr_busy = false;
	w->flyoff += (size_t)res;
	if (!w->closing && res > 0 && w->flyoff < w->flylen) {
		sqe = vs_sqe(VS_OP_WATCH_WRITE, w->slot, w->gen);
		io_uring_prep_send(sqe, w->fd, w->fly + w->flyoff,
				   (unsigned)(w->flylen - w->flyoff), MSG_NOSIGNAL);
		w->wr_busy = true;
		return;
	}
	free(w->fly);
	w->fly = NULL;
	if (res == 0)
		watcher_close(w);
	watcher_flush(w);
	watcher_maybe_free(w);
}

void watch_write_err(void *obj, int res)
{
	struct watcher *w = obj;

	w->wr_busy = false;
	watcher_close(w);
	watcher_maybe_free(w);
}

static void say_state(struct watcher *w, const struct vs_qmp *q, const struct qdev *d)
{
	watcher_say(w, "port %s/%s guest %s %llu\n", q->vm, d->port, vs_guest_name(d->state),
		    (unsigned long long)d->changed_ms);
}

int vs_guest_watch(int fd)
{
	struct watcher *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	w->fd = fd;		/* ours from here on */
	w->slot = vs_slot_alloc(w, &w->gen);
	w->next = watchers;
	watchers = w;
	/*
	 * The first line puts a write in flight, so @w outlives a cut-off in
	 * the lines that follow (it is freed by that write's completion).
	 */
	watcher_say(w, VS_CTL_OK " watching\n");
	/* The current state first, so a client never misses a change. */
	for (struct vs_qmp *q = clients; q; q = q->next)
		if (!q->stopping)
			for (size_t i = 0; i < q->ndevs; i++)
				say_state(w, q, &q->devs[i]);
	watcher_read(w);
	return 0;
}

/* ---- state ------------------------------------------------------------- */

/* Every port of @q named @d: an old one draining and its successor. */
static void dirty_ports(const struct vs_qmp *q, const struct qdev *d)
{
	char id[2 * VS_QMP_STR_MAX + 2];

	snprintf(id, sizeof(id), "%s/%s", q->vm, d->port);
	for (struct vs_port *p = vs_ports; p; p = p->next)
		if (!strcmp(p->id, id))
			vs_port_dirty(p);	/* the loop kicks it after this batch */
}

static void set_state(struct vs_qmp *q, struct qdev *d, enum vs_guest g)
{
	if (d->state == g)
		return;
	d->state = g;
	d->changed_ms = wall_ms();
	vs_log(LOG_INFO, "%s/%s: guest %s", q->vm, d->port, vs_guest_name(g));
	for (struct watcher *w = watchers, *n; w; w = n) {
		n = w->next;	/* a watcher too far behind is closed */
		say_state(w, q, d);
	}
	dirty_ports(q, d);
}

static struct vs_qmp *client_of(const char *vm, size_t vmlen)
{
	for (struct vs_qmp *q = clients; q; q = q->next)
		if (!q->stopping && strlen(q->vm) == vmlen && !memcmp(q->vm, vm, vmlen))
			return q;
	return NULL;
}

static const struct qdev *dev_of(const struct vs_port *p)
{
	const char *slash = strchr(p->id, '/');
	const struct vs_qmp *q = slash ? client_of(p->id, (size_t)(slash - p->id)) : NULL;

	if (!q)
		return NULL;
	for (size_t i = 0; i < q->ndevs; i++)
		if (!strcmp(q->devs[i].port, p->cfg->name))
			return &q->devs[i];
	return NULL;
}

bool vs_guest_holds(const struct vs_port *p)
{
	const struct qdev *d;

	if (!p->cfg->guest_hold)
		return false;
	d = dev_of(p);
	return !d || d->state != VS_GUEST_OPEN;
}

bool vs_guest_state(const struct vs_port *p, enum vs_guest *g, uint64_t *changed_ms,
		    bool *qmp_up, bool *via_libvirt)
{
	const char *slash = strchr(p->id, '/');
	const struct vs_qmp *q = slash ? client_of(p->id, (size_t)(slash - p->id)) : NULL;
	const struct qdev *d = dev_of(p);

	if (!q || !d)
		return false;
	*g = d->state;
	*changed_ms = d->changed_ms;
	*qmp_up = q->greeted;
	*via_libvirt = q->ext;
	return true;
}

/* ---- the QMP connection ------------------------------------------------ */

static void q_connect(struct vs_qmp *q);

/*
 * One timer: the reconnect delay while down, the greeting watchdog while
 * connected.  A connection lost while the watchdog runs reconnects when
 * it fires (qmp_timer_fire), which is the retry's job anyway.
 */
static void q_arm_timer(struct vs_qmp *q, unsigned ms)
{
	struct io_uring_sqe *sqe;

	if (q->timer_busy || q->stopping)
		return;
	q->ts.tv_sec = ms / 1000;
	q->ts.tv_nsec = (long long)(ms % 1000) * 1000000;
	sqe = vs_sqe(VS_OP_QMP_TIMER, q->slot, q->gen);
	io_uring_prep_timeout(sqe, &q->ts, 0, 0);	/* q->ts is the kernel's until the CQE */
	q->timer_busy = true;
}

static void q_arm_retry(struct vs_qmp *q)
{
	if (q->timer_busy || q->stopping)
		return;
	q_arm_timer(q, q->retry_ms);
	q->retry_ms = q->retry_ms * 2 > QMP_RETRY_MAX_MS ? QMP_RETRY_MAX_MS : q->retry_ms * 2;
}

static void q_maybe_free(struct vs_qmp *q)
{
	struct vs_qmp **pp;

	if (!q->stopping || q->rd_busy || q->wr_busy || q->timer_busy || q->conn == Q_CONNECTING)
		return;
	for (pp = &clients; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (q->fd >= 0)
		close(q->fd);
	vs_slot_free(q->slot);
	vs_qmp_split_free(&q->split);
	free(q->out);
	free(q->devs);
	free(q->vm);
	free(q->path);
	free(q);
}

/* Every state of the VM becomes unknown: nobody tells us any more. */
static void q_forget(struct vs_qmp *q)
{
	for (size_t i = 0; i < q->ndevs; i++) {
		q->devs[i].label[0] = '\0';
		set_state(q, &q->devs[i], VS_GUEST_UNKNOWN);
	}
}

/* Connection lost or refused: close once nothing of ours is in flight. */
static void q_down(struct vs_qmp *q, const char *why, int err)
{
	if (q->conn == Q_UP) {
		if (q->greeted)
			vs_log(LOG_NOTICE, "%s: QMP %s: %s", q->vm, q->path, why);
		if (q->rd_busy || q->wr_busy) {
			vs_cancel_fd(q->fd);
			q->conn = Q_DOWN;	/* the last CQE closes the fd */
			q->greeted = false;
			q_forget(q);
			return;
		}
	}
	if (q->fd >= 0 && !q->rd_busy && !q->wr_busy) {
		close(q->fd);
		q->fd = -1;
	}
	q->conn = Q_DOWN;
	q->greeted = false;
	q_forget(q);
	if (err && err != q->last_err)
		vs_log(LOG_INFO, "%s: QMP %s: %s; retrying", q->vm, q->path, strerror(err));
	q->last_err = err;
	if (q->stopping)
		q_maybe_free(q);
	else if (q->fd < 0)
		q_arm_retry(q);
}

/* The fd is closed and the retry armed by whichever CQE comes last. */
static void q_settle(struct vs_qmp *q)
{
	if (q->conn != Q_DOWN || q->rd_busy || q->wr_busy)
		return;
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->stopping)
		q_maybe_free(q);
	else
		q_arm_retry(q);
}

static void q_read(struct vs_qmp *q)
{
	struct io_uring_sqe *sqe;
	char *ptr;
	size_t n;

	if (q->rd_busy || q->conn != Q_UP || q->stopping)
		return;
	n = vs_qmp_split_space(&q->split, &ptr);
	sqe = vs_sqe(VS_OP_QMP_READ, q->slot, q->gen);
	io_uring_prep_recv(sqe, q->fd, ptr, (unsigned)n, 0);	/* ptr is the kernel's */
	q->rd_busy = true;
}

static void q_write(struct vs_qmp *q)
{
	struct io_uring_sqe *sqe;

	if (q->wr_busy || q->conn != Q_UP || q->outoff >= q->outlen)
		return;
	sqe = vs_sqe(VS_OP_QMP_WRITE, q->slot, q->gen);
	io_uring_prep_send(sqe, q->fd, q->out + q->outoff, (unsigned)(q->outlen - q->outoff),
			   MSG_NOSIGNAL);
	q->wr_busy = true;
}

static void q_greeted(struct vs_qmp *q)
{
	size_t cap = 256 * (q->ndevs + 2), n = 0;

	free(q->out);
	q->out = malloc(cap);
	if (!q->out)
		abort();
	n += vs_qmp_cmd_capabilities(q->out + n, cap - n, QMP_ID_CAPS);
	for (size_t i = 0; i < q->ndevs; i++)
		n += vs_qmp_cmd_dev_chardev(q->out + n, cap - n, QMP_ID_DEV0 + (unsigned)i,
					    q->devs[i].dev);
	n += vs_qmp_cmd_query_chardev(q->out + n, cap - n, QMP_ID_CHARDEVS);
	q->outlen = n;
	q->outoff = 0;
	q->greeted = true;
	q->greet_warned = false;
	q->connects++;
	q->retry_ms = QMP_RETRY_MIN_MS;
	q->last_err = 0;
	vs_log(LOG_INFO, "%s: QMP %s connected", q->vm, q->path);
	q_write(q);
}

static void q_answer(struct vs_qmp *q, const struct vs_qmp_msg *m)
{
	if (m->id >= QMP_ID_DEV0 && (size_t)(m->id - QMP_ID_DEV0) < q->ndevs) {
		struct qdev *d = &q->devs[m->id - QMP_ID_DEV0];

		if (m->kind == VS_QMP_ERROR)
			vs_log(LOG_WARNING, "%s/%s: QMP has no device '%s' (%s): give its -device "
			       "id=%s, or name it with <alias>; its guest state stays unknown "
			       "until an event names it", q->vm, d->port, d->dev, m->error, d->dev);
		else if (!vs_qmp_ret_string(m, d->label, sizeof(d->label)))
			d->label[0] = '\0';
		return;
	}
	if (m->id == QMP_ID_CHARDEVS && m->kind == VS_QMP_RETURN) {
		struct vs_qmp_iter it = { 0 };
		char label[VS_QMP_STR_MAX];
		bool open;

		while (vs_qmp_chardev_next(m, &it, label, sizeof(label), &open))
			for (size_t i = 0; i < q->ndevs; i++) {
				struct qdev *d = &q->devs[i];

				if (!d->console && d->label[0] && !strcmp(d->label, label))
					set_state(q, d, open ? VS_GUEST_OPEN : VS_GUEST_CLOSED);
			}
		return;
	}
	if (m->kind == VS_QMP_ERROR)
		vs_log(LOG_WARNING, "%s: QMP command %lld: %s", q->vm, m->id, m->error);
}

static void q_message(struct vs_qmp *q, const char *msg, size_t len)
{
	struct vs_qmp_msg m;

	if (vs_qmp_parse(msg, len, &m)) {
		vs_log(LOG_WARNING, "%s: QMP %s: a malformed message of %zu bytes; skipped",
		       q->vm, q->path, len);
		return;
	}
	if (!q->greeted) {
		if (m.kind == VS_QMP_GREETING)
			q_greeted(q);
		else
			vs_log(LOG_WARNING, "%s: QMP %s: a message before the greeting; skipped",
			       q->vm, q->path);
		return;
	}
	switch (m.kind) {
	case VS_QMP_RETURN:
	case VS_QMP_ERROR:
		q_answer(q, &m);
		break;
	case VS_QMP_EVENT:
		q->events++;
		if (strcmp(m.event, "VSERPORT_CHANGE") || m.data_open < 0)
			break;
		for (size_t i = 0; i < q->ndevs; i++)
			if (!strcmp(q->devs[i].dev, m.data_id))
				set_state(q, &q->devs[i],
					  m.data_open ? VS_GUEST_OPEN : VS_GUEST_CLOSED);
		break;
	default:
		break;
	}
}

void qmp_read_ok(void *obj, int res)
{
	struct vs_qmp *q = obj;
	enum vs_qmp_next r;
	const char *msg;
	size_t len;

	q->rd_busy = false;
	if (q->conn != Q_UP || q->stopping) {
		q_settle(q);
		return;
	}
	if (res == 0) {
		q_down(q, "QEMU closed the monitor", 0);
		return;
	}
	vs_qmp_split_commit(&q->split, (size_t)res);
	while ((r = vs_qmp_split_next(&q->split, &msg, &len)) != VS_QMP_NEED) {
		if (r == VS_QMP_MSG)
			q_message(q, msg, len);
		else if (r == VS_QMP_TOOLONG)
			vs_log(LOG_WARNING, "%s: QMP %s: a message longer than %u bytes; skipped",
			       q->vm, q->path, VS_QMP_MSG_MAX);
		else
			vs_log(LOG_WARNING, "%s: QMP %s: bytes outside any JSON object; skipped",
			       q->vm, q->path);
		if (q->conn != Q_UP)
			return;
	}
	q_read(q);
}

void qmp_read_err(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->rd_busy = false;
	if (q->conn != Q_UP || q->stopping) {
		q_settle(q);
		return;
	}
	q_down(q, strerror(-res), 0);
}

void qmp_write_ok(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->wr_busy = false;
	if (q->conn != Q_UP || q->stopping) {
		q_settle(q);
		return;
	}
	q->outoff += (size_t)res;
	q_write(q);
}

void qmp_write_err(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->wr_busy = false;
	if (q->conn != Q_UP || q->stopping) {
		q_settle(q);
		return;
	}
	q_down(q, strerror(-res), 0);
}

void qmp_connect_ok(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->conn = Q_UP;
	if (q->stopping) {
		q_down(q, "removed", 0);
		return;
	}
	vs_qmp_split_reset(&q->split);
	q->outlen = q->outoff = 0;
	q_read(q);
	q_arm_timer(q, QMP_GREET_WARN_MS);
}

void qmp_connect_err(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->conn = Q_DOWN;
	q_down(q, "connect", -res);
}

static void q_connect(struct vs_qmp *q)
{
	struct io_uring_sqe *sqe;
	int fd;

	if (q->stopping || q->conn != Q_DOWN || q->fd >= 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		q_down(q, "socket", errno);
		return;
	}
	q->fd = fd;
	q->conn = Q_CONNECTING;
	sqe = vs_sqe(VS_OP_QMP_CONNECT, q->slot, q->gen);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&q->addr, sizeof(q->addr));
}

void qmp_timer_fire(void *obj, int res)
{
	struct vs_qmp *q = obj;

	q->timer_busy = false;
	if (q->stopping) {
		q_maybe_free(q);
		return;
	}
	if (q->conn == Q_UP) {
		if (!q->greeted && !q->greet_warned) {
			vs_log(LOG_WARNING, "%s: QMP %s: connected, but no greeting after %u ms: "
			       "another client (libvirt, a script) may be using this monitor, "
			       "which serves one at a time; give virtserd a -qmp of its own. "
			       "Waiting for it", q->vm, q->path, QMP_GREET_WARN_MS);
			q->greet_warned = true;
		}
		return;
	}
	q_connect(q);
}

/* ---- configuration ----------------------------------------------------- */

static void q_stop(struct vs_qmp *q)
{
	if (q->stopping)
		return;
	q_forget(q);
	q->stopping = true;
	if (q->conn == Q_UP)
		q->conn = Q_DOWN;	/* the last CQE closes the fd (q_settle) */
	if (q->timer_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_QMP_TIMER, q->slot, q->gen));
	if (q->fd >= 0 && (q->rd_busy || q->wr_busy || q->conn == Q_CONNECTING))
		vs_cancel_fd(q->fd);
	q_maybe_free(q);
}

/* The VM's devices from @vm; states of ports that stay are kept. */
static void q_set_devs(struct vs_qmp *q, const struct vs_vm_cfg *vm)
{
	struct qdev *nd = calloc(vm->nports ? vm->nports : 1, sizeof(*nd));
	size_t n = 0;
	bool changed = false;

	if (!nd)
		abort();
	for (size_t i = 0; i < vm->nports; i++) {
		const struct vs_port_cfg *pc = &vm->ports[i];
		struct qdev *d = &nd[n];

		if (pc->kind == VS_KIND_SERIAL)
			continue;
		snprintf(d->port, sizeof(d->port), "%s", pc->name);
		snprintf(d->dev, sizeof(d->dev), "%s", vs_port_device_id(pc));
		d->console = pc->kind == VS_KIND_CONSOLE;
		for (size_t j = 0; j < q->ndevs; j++)
			if (!strcmp(q->devs[j].port, d->port) && !strcmp(q->devs[j].dev, d->dev))
				*d = q->devs[j];
		if (n >= q->ndevs || strcmp(q->devs[n].dev, d->dev))
			changed = true;
		n++;
	}
	if (n != q->ndevs)
		changed = true;
	free(q->devs);
	q->devs = nd;
	q->ndevs = n;
	/* New devices' labels are asked for on a new connection: start one. */
	if (changed && q->conn == Q_UP)
		q_down(q, "devices changed; asking again", 0);
}

void vs_qmp_apply(const struct vs_config *cfg)
{
	for (struct vs_qmp *q = clients, *n; q; q = n) {
		bool keep = false;

		n = q->next;
		keep = q->ext;		/* lvirt.c keeps or drops those */
		for (size_t i = 0; i < cfg->nvms && !keep; i++)
			keep = cfg->vms[i].qmp_path && !strcmp(cfg->vms[i].name, q->vm) &&
			       !strcmp(cfg->vms[i].qmp_path, q->path);
		if (!keep)
			q_stop(q);
	}
	for (size_t i = 0; i < cfg->nvms; i++) {
		const struct vs_vm_cfg *vm = &cfg->vms[i];
		struct vs_qmp *q;

		if (!vm->qmp_path)
			continue;
		q = client_of(vm->name, strlen(vm->name));
		if (q) {
			q_set_devs(q, vm);
			continue;
		}
		q = calloc(1, sizeof(*q));
		if (!q || vs_qmp_split_init(&q->split))
			abort();
		q->vm = strdup(vm->name);
		q->path = strdup(vm->qmp_path);
		if (!q->vm || !q->path)
			abort();
		q->fd = -1;
		q->addr.sun_family = AF_UNIX;
		snprintf(q->addr.sun_path, sizeof(q->addr.sun_path), "%s", q->path);
		q->retry_ms = QMP_RETRY_MIN_MS;
		q->slot = vs_slot_alloc(q, &q->gen);
		q_set_devs(q, vm);
		q->next = clients;
		clients = q;
		q_connect(q);
	}
}

/* ---- libvirt domains (lvirt.c) ---------------------------------------- */

void vs_guest_ext_set(const char *vm, const struct vs_port_cfg *ports, size_t n)
{
	struct vs_qmp *q = client_of(vm, strlen(vm));
	struct vs_vm_cfg v = { .ports = (struct vs_port_cfg *)ports, .nports = n };

	if (q && !q->ext)
		return;		/* cannot happen: a vm's name is unique */
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q || vs_qmp_split_init(&q->split))
			abort();
		q->vm = strdup(vm);
		if (!q->vm)
			abort();
		q->ext = true;
		q->fd = -1;
		q->slot = vs_slot_alloc(q, &q->gen);
		q->next = clients;
		clients = q;
	}
	q_set_devs(q, &v);
}

void vs_guest_ext_drop(const char *vm)
{
	struct vs_qmp *q = client_of(vm, strlen(vm));

	if (q && q->ext)
		q_stop(q);
}

void vs_guest_ext_link(const char *vm, bool up)
{
	struct vs_qmp *q = client_of(vm, strlen(vm));

	if (!q || !q->ext)
		return;
	q->greeted = up;
	if (!up)
		q_forget(q);
}

void vs_guest_ext_state(const char *vm, const char *dev, enum vs_guest g)
{
	struct vs_qmp *q = client_of(vm, strlen(vm));

	if (!q || !q->ext)
		return;
	for (size_t i = 0; i < q->ndevs; i++)
		if (!strcmp(q->devs[i].dev, dev))
			set_state(q, &q->devs[i], g);
}

void vs_qmp_shutdown(void)
{
	for (struct vs_qmp *q = clients, *n; q; q = n) {
		n = q->next;
		q_stop(q);
	}
	for (struct watcher *w = watchers, *n; w; w = n) {
		n = w->next;
		watcher_close(w);
		watcher_maybe_free(w);
	}
}

void vs_qmp_exit(void)
{
	/* The loop has ended: no completion will come for what is left. */
	while (clients) {
		struct vs_qmp *q = clients;

		q->rd_busy = q->wr_busy = q->timer_busy = false;
		q->conn = Q_DOWN;
		q->stopping = true;
		q_maybe_free(q);
	}
	while (watchers) {
		struct watcher *w = watchers;

		w->rd_busy = w->wr_busy = false;
		w->closing = true;
		watcher_maybe_free(w);
	}
}
