// SPDX-License-Identifier: GPL-2.0
/*
 * port.c - one virtio-serial port: QEMU's chardev socket on one side, the
 * configured endpoint on the other, and the two bounded buffers between.
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
 * Every state change ends in vs_port_kick(), which issues whatever I/O is
 * now possible; there is at most one read and one write in flight per fd.
 */
#include "virtserd.h"
#include "peerq.h"
#include "qmp.h"
#include "rotate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

struct vs_port *vs_ports;

#define TXCAP		16384	/* spy/telnet copy buffer */
#define RXCAP		4096	/* telnet/spy input; replies fit in TXCAP */
#define SCRATCH		65536	/* console overflow: read and count */
#define DGRAM_MAX	1400	/* stay under a typical MTU */
#define DRAIN_POLL_MS	10
#define RETRY_MS	1000
/*
 * While bytes written to QEMU are not known to be read, how often to ask
 * how many it has read: the answer is exact only if QEMU read nothing
 * after it, so a QEMU that stopped reading is measured within ACK_MS_MIN,
 * and the period doubles up to ACK_MS_MAX while nothing moves.
 */
#define ACK_MS_MIN	20
#define ACK_MS_MAX	1000
#define RETRY_MAX_MS	16000	/* endpoint opens back off to this */
/*
 * Ring pages that hold only consumed bytes go back to the kernel once the
 * port has been quiet for TRIM_MS, so a host whose ports once saw a burst
 * does not keep buffer_size x 2 resident per port.  Below TRIM_MIN stale
 * bytes the timer is not worth its wake-up; an idle port arms nothing.
 */
#define TRIM_MS		2000
#define TRIM_MIN	16384

/* Console overflow lands here and is discarded; nobody reads it. */
static uint8_t scratch[SCRATCH];

static void client_close(struct vs_client *c, const char *why);
static void vm_close(struct vs_port *p, const char *why);
static void user_open(struct vs_port *p);
static void port_maybe_free(struct vs_port *p);
static bool has_sock_client(const struct vs_port *p);

uint64_t vs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

struct vs_port *vs_port_find(const char *id)
{
	for (struct vs_port *p = vs_ports; p; p = p->next)
		if (!p->stopping && !strcmp(p->id, id))
			return p;
	return NULL;
}

/* ---- addresses --------------------------------------------------------- */

static int sock_addr(const struct vs_sockspec *s, struct sockaddr_storage *ss,
		     socklen_t *len, int *family)
{
	memset(ss, 0, sizeof(*ss));
	if (s->is_unix) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(s->path) >= sizeof(un->sun_path))
			return -ENAMETOOLONG;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, s->path);
		*len = sizeof(*un);
		*family = AF_UNIX;
		return 0;
	}
	/* Resolved when the configuration was loaded: nothing blocks here. */
	if (!s->addrlen)
		return -EDESTADDRREQ;
	memcpy(ss, &s->addr, s->addrlen);
	*len = s->addrlen;
	*family = s->addr.ss_family;
	return 0;
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* "host:port", "[v6]:port" or the unix path, for logs and status. */
static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		snprintf(out, len, "%s", ((const struct sockaddr_un *)ss)->sun_path);
	} else {
		snprintf(out, len, "?");
	}
}

/* The address the kernel actually bound @fd to (the port, for TCP/UDP). */
static void fmt_local(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		snprintf(out, len, "?");
	else
		fmt_addr(&ss, out, len);
}

/*
 * The sockfs inode of a socket listening on @path in our network
 * namespace, from /proc/net/unix (flag __SO_ACCEPTCON, 0x10000), or 0.
 * Looking there first means a live owner is never touched: a connect()
 * probe would be accepted by QEMU as its chardev client, and the guest
 * would see the host side open and close.
 */
static unsigned long unix_listener_inode(const char *path)
{
	/* /proc/self/net, not /proc/net: the unit's ProcSubset=pid hides that. */
	FILE *f = fopen("/proc/self/net/unix", "re");
	unsigned long ino, found = 0;
	unsigned flags, type, st;
	char line[PATH_MAX + 128];
	int off;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		off = 0;
		if (sscanf(line, "%*s %*s %*s %x %x %x %lu %n", &flags, &type, &st, &ino, &off) < 4 ||
		    !off)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((flags & 0x10000) && !strcmp(line + off, path))
			found = ino;
	}
	fclose(f);
	return found;
}

/* The process holding socket inode @ino, from /proc/PID/fd; 0 if unseen. */
static pid_t socket_owner(unsigned long ino, char *comm, size_t commlen)
{
	char want[48], f[64 + sizeof(((struct dirent *)0)->d_name) * 2], l[48];
	struct dirent *d, *fdent;
	DIR *proc, *fds;
	pid_t pid = 0;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!pid && (d = readdir(proc))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(f, sizeof(f), "/proc/%s/fd", d->d_name);
		fds = opendir(f);
		if (!fds)
			continue;
		while ((fdent = readdir(fds))) {
			ssize_t n;

			snprintf(f, sizeof(f), "/proc/%s/fd/%s", d->d_name, fdent->d_name);
			n = readlink(f, l, sizeof(l) - 1);
			if (n > 0 && (l[n] = '\0', !strcmp(l, want))) {
				pid = (pid_t)atoi(d->d_name);
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	comm[0] = '\0';
	if (pid) {
		FILE *cf;

		snprintf(f, sizeof(f), "/proc/%d/comm", (int)pid);
		cf = fopen(f, "re");
		if (cf) {
			if (fgets(comm, (int)commlen, cf))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
	}
	return pid;
}

/*
 * May a unix socket be bound at @path?  A socket file there is removed
 * only when nobody listens on it any more: the one in use may be QEMU's
 * own (a libvirt channel copied as the endpoint names QEMU's socket) or
 * another daemon's, and unlinking it would silently steal its future
 * connections.  A listener in our network namespace is found in
 * /proc/net/unix; otherwise (bound under another name, or in another
 * namespace) a connect() decides: refused means stale.  Returns 0 when
 * the path is free, -EEXIST when something that is not a socket is there,
 * -EADDRINUSE when a process accepts connections on it; @why says which.
 */
int vs_unix_claim(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	unsigned long sino;
	struct stat st;
	char comm[64];
	pid_t pid;
	int fd, ret;

	why[0] = '\0';
	if (lstat(path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen, "%s exists and is not a socket; not replacing it", path);
		return -EEXIST;
	}
	if (strlen(path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	sino = unix_listener_inode(path);
	if (sino) {
		pid = socket_owner(sino, comm, sizeof(comm));
		if (pid)
			snprintf(why, whylen, "%s is a socket in use by pid %d%s%s%s; "
				 "not replacing it", path, (int)pid, *comm ? " (" : "", comm,
				 *comm ? ")" : "");
		else
			snprintf(why, whylen, "%s is a socket another process listens on; "
				 "not replacing it", path);
		return -EADDRINUSE;
	}
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&un, sizeof(un)) ? -errno : 0;
	close(fd);
	if (ret == -ECONNREFUSED) {
		/* Nobody listens: a leftover of a process that is gone. */
		if (unlink(path) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (!ret || ret == -EAGAIN)	/* EAGAIN: a full backlog, so it listens */
		snprintf(why, whylen, "%s is a socket in use by a process outside "
			 "this network namespace; not replacing it", path);
	else
		snprintf(why, whylen, "%s is a socket that cannot be checked (%s); "
			 "not replacing it", path, strerror(-ret));
	return -EADDRINUSE;
}

/*
 * Listening socket.  A unix socket is bound under umask 0177, so it is born
 * owner-only; chown to the configured owner/group happens next and chmod to
 * the configured mode last, so access only ever widens to the intended
 * principals (no window where the socket is more open than configured).
 * On success *bound says what the kernel bound (the port, for TCP) and
 * *ino the unix socket's inode, so that exit removes only our own file.
 * On failure @why may hold a sentence for the log.
 */
static int listen_on(const struct vs_sockspec *s, const struct vs_perms *pm,
		     const char *what, char *bound, size_t boundlen, ino_t *ino,
		     char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, family, ret, one = 1;
	mode_t old;

	why[0] = '\0';
	ret = sock_addr(s, &ss, &len, &family);
	if (ret < 0)
		return ret;
	if (s->is_unix) {
		ret = vs_unix_claim(s->path, why, whylen);
		if (ret < 0)
			return ret;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!s->is_unix) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (is_wildcard(&ss))
			vs_log(LOG_WARNING, "%s: listening on a wildcard address (%s): "
			       "reachable from the network without authentication",
			       what, s->host ? s->host : "");
	}
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&ss, len);
	umask(old);
	if (ret) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (s->is_unix) {
		struct stat st;

		/* The file's inode (fstat on the fd would give sockfs's). */
		*ino = lstat(s->path, &st) ? 0 : st.st_ino;
	}
	if (s->is_unix && pm && pm->set) {
		uid_t uid = (uid_t)-1;
		gid_t gid = (gid_t)-1;

		if (pm->owner) {
			struct passwd *pw = getpwnam(pm->owner);

			if (pw)
				uid = pw->pw_uid;
			else
				vs_log(LOG_WARNING, "%s: unknown user '%s'", what, pm->owner);
		}
		if (pm->group) {
			struct group *gr = getgrnam(pm->group);

			if (gr)
				gid = gr->gr_gid;
			else
				vs_log(LOG_WARNING, "%s: unknown group '%s'", what, pm->group);
		}
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(s->path, uid, gid))
			vs_log(LOG_WARNING, "%s: chown %s: %s", what, s->path, strerror(errno));
		if (pm->mode && chmod(s->path, pm->mode))
			vs_log(LOG_WARNING, "%s: chmod %s: %s", what, s->path, strerror(errno));
	}
	if (listen(fd, 16)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	fmt_local(fd, bound, boundlen);
	return fd;
}

/* Removes a unix socket we bound, unless somebody replaced it since. */
static void unlink_own(const char *path, ino_t ino)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode) && st.st_ino == ino)
		unlink(path);
}


static void fmt_peer(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(out, len, "?");
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		struct ucred uc;
		socklen_t ul = sizeof(uc);

		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul))
			snprintf(out, len, "unix:pid=%d,uid=%u", (int)uc.pid, (unsigned)uc.uid);
		else
			snprintf(out, len, "unix");
		return;
	}
	fmt_addr(&ss, out, len);
}

/* ---- timers ------------------------------------------------------------ */

static void arm_timer(struct vs_port *p, enum vs_op op, unsigned ms)
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

/*
 * Unix stream sockets queue against the sender's SO_SNDBUF (212992 bytes by
 * default; the receiver's SO_RCVBUF plays no part).  Each time it fills,
 * the sender waits for the reader to drain it to a quarter, so with the
 * default every ~150 KiB costs a wake-up on both sides, which dominated
 * relay throughput.  Let the queue toward the peer hold as much as our
 * ring does.  Only raised, never lowered; the kernel doubles the value for
 * bookkeeping and caps it at net.core.wmem_max.  Not for TCP: a fixed
 * SO_SNDBUF would switch off the kernel's autotuning.
 */
static void unix_sndbuf(int fd, size_t want)
{
	int cur = 0, v = want > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)want;
	socklen_t len = sizeof(cur);

	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &len) && cur / 2 >= v)
		return;
	/* Best effort: a smaller queue is slower, not wrong. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
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

/* ---- up-buffer accounting ---------------------------------------------- */

static uint64_t up_consumed(const struct vs_port *p)
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
static uint64_t up_keep(const struct vs_port *p)
{
	uint64_t k = up_consumed(p);

	for (const struct vs_client *c = p->clients; c; c = c->next)
		if (!c->closing && c->pos < k)
			k = c->pos;
	if (p->up.head - k < p->cfg->replay)
		k = p->up.head > p->cfg->replay ? p->up.head - p->cfg->replay : 0;
	return k;
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

static void trim_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->trim_busy = false;
	if (p->stopping || res == -ECANCELED) {
		port_maybe_free(p);
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
	vs_port_kick(p);
}

static uint64_t start_pos(const struct vs_port *p, uint64_t replay_from_hold)
{
	uint64_t oldest = vs_ring_oldest(&p->up);
	uint64_t want = p->up.head > p->cfg->replay ? p->up.head - p->cfg->replay : 0;

	if (replay_from_hold < want)
		want = replay_from_hold;
	return want < oldest ? oldest : want;
}

/* ---- clients ----------------------------------------------------------- */

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

static struct vs_client *client_new(struct vs_port *p, enum vs_cl_kind kind,
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

static void client_maybe_free(struct vs_client *c)
{
	struct vs_port *p = c->port;
	struct vs_client **pp;

	enum vs_cl_kind kind = c->kind;

	if (!c->closing || c->rd_busy || c->wr_busy || c->connecting)
		return;
	if (c->rfd > 2)
		close(c->rfd);
	if (c->wfd > 2 && c->wfd != c->rfd)
		close(c->wfd);
	for (pp = &p->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	vs_slot_free(c->slot);
	free(c->txbuf);
	free(c->rxbuf);
	free(c->path);
	free(c);
	if (p->stopping) {
		port_maybe_free(p);
		return;
	}
	/* A connect-mode endpoint dials again after the delay. */
	if ((p->cfg->ep.type == VS_EP_UNIX || p->cfg->ep.type == VS_EP_TCP) &&
	    p->cfg->ep.sock.mode == VS_MODE_CONNECT && p->cfg->ep.sock.reconnect &&
	    !has_sock_client(p))
		arm_timer(p, VS_OP_USER_TIMER, p->cfg->ep.sock.reconnect_ms);
	/* A tty unplugged or a file gone bad: reopen later, holding output. */
	if (kind != CL_SOCK && kind != CL_CTL && kind != CL_LOG && !p->writer)
		arm_timer(p, VS_OP_USER_TIMER, RETRY_MS);
	vs_port_kick(p);
}

static void client_close(struct vs_client *c, const char *why)
{
	struct vs_port *p = c->port;

	if (c->closing) {
		/* Callers clear their busy flag first: this may be the last one. */
		client_maybe_free(c);
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
	client_maybe_free(c);
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
static void client_reopen(struct vs_client *c)
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

void vs_ports_reopen_logs(void)
{
	for (struct vs_port *p = vs_ports; p; p = p->next)
		for (struct vs_client *c = p->clients; c; c = c->next)
			if ((c->kind == CL_FILE || c->kind == CL_LOG) && !c->closing) {
				c->reopen = true;
				client_reopen(c);
			}
}

static void client_write_kick(struct vs_client *c)
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
	c->wr_len = n;
	c->wr_busy = true;
}

static bool client_feeds(const struct vs_client *c)
{
	return !c->readonly && c->kind != CL_FILE && c->kind != CL_LOG;
}

static void client_read_kick(struct vs_client *c)
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
	c->rd_busy = true;
}

static void cl_read_ok(void *obj, int res)
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
		client_maybe_free(c);
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
	vs_port_kick(p);
}

static void cl_read_err(void *obj, int res)
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
		client_maybe_free(c);
		return;
	}
	/* -ECANCELED without closing: a takeover took the producer slot. */
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		vs_port_kick(p);
		return;
	}
	client_close(c, strerror(-res));
}

static void cl_write_ok(void *obj, int res)
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
		client_maybe_free(c);
		return;
	}
	vs_port_kick(p);
}

static void cl_write_err(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->wr_busy = false;
	if (c->closing) {
		client_maybe_free(c);
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		vs_port_kick(p);
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
		vs_port_kick(p);
		return;
	}
	client_close(c, strerror(-res));
}

static void cl_connect_ok(void *obj, int res)
{
	struct vs_client *c = obj;
	struct vs_port *p = c->port;

	c->connecting = false;
	if (c->closing) {
		client_maybe_free(c);
		return;
	}
	fmt_peer(c->rfd, c->peer, sizeof(c->peer));
	if (c->telnet) {
		uint8_t g[16];

		client_bufs(c);
		client_queue(c, g, vs_telnet_greeting(&c->tn, g));
	}
	client_join(p, c, false, false);
	vs_port_kick(p);
}

static void cl_connect_err(void *obj, int res)
{
	struct vs_client *c = obj;

	c->connecting = false;
	if (!c->closing)
		vs_log(LOG_DEBUG, "%s: connect to %s: %s", c->port->id, c->peer,
		       strerror(-res));
	client_close(c, strerror(-res));
}

static void user_connect(struct vs_port *p)
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
	c->connecting = true;
	sqe = vs_sqe(VS_OP_CL_CONNECT, c->slot, c->gen);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&c->addr, c->addrlen);
}

/* ---- user-side listener ------------------------------------------------ */

static void user_accept_arm(struct vs_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->acc_busy || p->lfd < 0 || p->stopping)
		return;
	sqe = vs_sqe(VS_OP_USER_ACCEPT, p->slot, p->gen);
	io_uring_prep_accept(sqe, p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	p->acc_busy = true;
}

static bool has_sock_client(const struct vs_port *p)
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

static void user_accept_ok(void *obj, int fd)
{
	struct vs_port *p = obj;
	struct vs_client *c;
	int one = 1;

	p->acc_busy = false;
	if (p->stopping) {
		close(fd);
		port_maybe_free(p);
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
	vs_port_kick(p);
}

static void user_accept_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->acc_busy = false;
	if (p->stopping || res == -ECANCELED) {
		port_maybe_free(p);
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
	vs_port_kick(p);
	return 0;
}

/* ---- endpoints --------------------------------------------------------- */

static int set_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		return -errno;
	cfmakeraw(&t);
	return tcsetattr(fd, TCSANOW, &t) ? -errno : 0;
}

static int open_pty(struct vs_port *p)
{
	const struct vs_endpoint *e = &p->cfg->ep;
	int m, s;
	char *name;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (grantpt(m) || unlockpt(m) || !(name = ptsname(m))) {
		int e2 = errno;

		close(m);
		return -e2;
	}
	/*
	 * Holding the slave open ourselves means the master never reports
	 * HUP, so output written while no user has the slave open waits in
	 * the tty and then in our ring (up to the cap) instead of vanishing.
	 */
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		int e2 = errno;

		close(m);
		return -e2;
	}
	set_raw(s);
	if (e->perms.set) {
		uid_t uid = (uid_t)-1;
		gid_t gid = (gid_t)-1;
		struct passwd *pw = e->perms.owner ? getpwnam(e->perms.owner) : NULL;
		struct group *gr = e->perms.group ? getgrnam(e->perms.group) : NULL;

		if (pw)
			uid = pw->pw_uid;
		if (gr)
			gid = gr->gr_gid;
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(s, uid, gid))
			vs_log(LOG_WARNING, "%s: chown %s: %s", p->id, name, strerror(errno));
		if (e->perms.mode && fchmod(s, e->perms.mode))
			vs_log(LOG_WARNING, "%s: chmod %s: %s", p->id, name, strerror(errno));
	} else if (fchmod(s, 0600)) {
		vs_log(LOG_WARNING, "%s: chmod %s: %s", p->id, name, strerror(errno));
	}
	free(p->pty_name);
	p->pty_name = strdup(name);
	if (e->path) {
		/* Replace the link atomically: readers never see it missing. */
		size_t l = strlen(e->path) + 8;
		char *tmp = malloc(l);
		struct stat st;

		/* Only ever replace a symlink: a typo must not eat a file. */
		if (!lstat(e->path, &st) && !S_ISLNK(st.st_mode)) {
			vs_log(LOG_ERR, "%s: %s exists and is not a symlink; not "
			       "replacing it", p->id, e->path);
			free(tmp);
			close(s);
			close(m);
			return -EEXIST;
		}
		snprintf(tmp, l, "%s.new", e->path);
		unlink(tmp);
		if (symlink(name, tmp) || rename(tmp, e->path))
			vs_log(LOG_WARNING, "%s: symlink %s -> %s: %s", p->id, e->path,
			       name, strerror(errno));
		free(tmp);
	}
	if (p->pty_slave >= 0)
		close(p->pty_slave);	/* reopened after an error */
	p->pty_slave = s;
	vs_log(LOG_INFO, "%s: pty %s%s%s", p->id, name, e->path ? " linked at " : "",
	       e->path ? e->path : "");
	return m;
}

static int open_fifo(const char *base, const char *suffix, int *fd)
{
	size_t l = strlen(base) + 8;
	char *path = malloc(l);
	struct stat st;
	int ret = 0;

	snprintf(path, l, "%s%s", base, suffix);
	if (mkfifo(path, 0600) && errno != EEXIST)
		ret = -errno;
	/* O_RDWR: never ENXIO without a reader, never EOF without a writer. */
	if (!ret && (*fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) < 0)
		ret = -errno;
	if (!ret && (fstat(*fd, &st) || !S_ISFIFO(st.st_mode))) {
		close(*fd);
		ret = -EINVAL;
	}
	free(path);
	return ret;
}

static int open_udp(struct vs_port *p)
{
	const struct vs_endpoint *e = &p->cfg->ep;
	const struct vs_sockspec *rem = &e->sock, *loc = &e->udp_local;
	int fd, ret;

	if (!rem->addrlen || (loc->mode && !loc->addrlen))
		return -EDESTADDRREQ;
	fd = socket(rem->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -errno : 0;
	if (!ret && loc->mode && bind(fd, (const struct sockaddr *)&loc->addr, loc->addrlen))
		ret = -errno;
	if (!ret && connect(fd, (const struct sockaddr *)&rem->addr, rem->addrlen))
		ret = -errno;
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

static struct vs_client *file_sink(struct vs_port *p, enum vs_cl_kind kind,
				   const char *path, bool append, uint64_t max,
				   unsigned backups, int *err)
{
	struct vs_client *c;
	uint64_t sz;
	int fd = vs_open_log(path, append, &sz);

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	c = client_new(p, kind, -1, fd);
	c->blocking = true;
	c->readonly = true;
	c->pos = p->up.head;
	c->file_size = sz;
	c->path = strdup(path);
	c->max_size = max;
	c->backups = backups;
	snprintf(c->peer, sizeof(c->peer), "%s", kind == CL_LOG ? "log" : "file");
	return c;
}

/* What an endpoint opens, as the configuration names it, for messages. */
static const char *ep_desc(const struct vs_endpoint *e, char *out, size_t len)
{
	const struct vs_sockspec *s = e->type == VS_EP_UDP && e->udp_local.mode ?
				      &e->udp_local : &e->sock;

	switch (e->type) {
	case VS_EP_UNIX:
		snprintf(out, len, "%s", e->sock.path);
		break;
	case VS_EP_TCP:
	case VS_EP_UDP:
		snprintf(out, len, "%s%s%s:%s", strchr(s->host, ':') ? "[" : "", s->host,
			 strchr(s->host, ':') ? "]" : "", s->service);
		break;
	default:
		snprintf(out, len, "%s", e->path ? e->path : "");
		break;
	}
	return out;
}

/* Opens the user side; on failure retries later (the path may appear). */
static void user_open(struct vs_port *p)
{
	const struct vs_endpoint *e = &p->cfg->ep;
	struct vs_client *c = NULL;
	int ret = 0, fd, fd2, lvl;
	char why[300] = "", desc[160];
	unsigned delay;

	p->user_addr[0] = '\0';
	switch (e->type) {
	case VS_EP_NULL:
		break;
	case VS_EP_FILE:
		c = file_sink(p, CL_FILE, e->path, e->append, e->max_size, e->backups, &ret);
		if (!c)
			goto fail;
		break;
	case VS_EP_PTY:
		fd = open_pty(p);
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		c = client_new(p, CL_PTY, fd, fd);
		snprintf(c->peer, sizeof(c->peer), "pty");
		break;
	case VS_EP_PIPE:
		ret = open_fifo(e->path, ".in", &fd);
		if (ret)
			goto fail;
		ret = open_fifo(e->path, ".out", &fd2);
		if (ret) {
			close(fd);
			goto fail;
		}
		c = client_new(p, CL_PIPE, fd, fd2);
		snprintf(c->peer, sizeof(c->peer), "pipe");
		break;
	case VS_EP_UNIX:
	case VS_EP_TCP:
		if (e->sock.mode == VS_MODE_CONNECT) {
			user_connect(p);
			break;
		}
		fd = listen_on(&e->sock, &e->perms, p->id, p->user_addr,
			       sizeof(p->user_addr), &p->lfd_ino, why, sizeof(why));
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		p->lfd = fd;
		user_accept_arm(p);
		break;
	case VS_EP_UDP:
		fd = open_udp(p);
		if (fd < 0) {
			ret = fd;
			goto fail;
		}
		fmt_local(fd, p->user_addr, sizeof(p->user_addr));
		c = client_new(p, CL_UDP, fd, fd);
		c->dgram = true;
		snprintf(c->peer, sizeof(c->peer), "udp");
		break;
	case VS_EP_STDIO:
		c = client_new(p, CL_STDIO, STDIN_FILENO, STDOUT_FILENO);
		snprintf(c->peer, sizeof(c->peer), "stdio");
		break;
	case VS_EP_DEV:
		fd = open(e->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto fail;
		}
		if (set_raw(fd))
			vs_log(LOG_WARNING, "%s: %s is not a tty; using it as is", p->id, e->path);
		c = client_new(p, CL_DEV, fd, fd);
		snprintf(c->peer, sizeof(c->peer), "dev");
		break;
	case VS_EP__COUNT:
		break;
	}
	if (c) {
		/* It gets everything held while it could not be opened. */
		c->blocking = true;
		c->pos = p->hold ? p->hold_pos : p->up.head;
		if (c->pos < vs_ring_oldest(&p->up))
			c->pos = vs_ring_oldest(&p->up);
		p->hold = false;
		p->writer = c;
	}
	if (p->user_err)
		vs_log(LOG_NOTICE, "%s: the %s endpoint %s is open", p->id,
		       vs_ep_type_name(e->type), ep_desc(e, desc, sizeof(desc)));
	p->user_err = 0;
	p->user_retry_ms = 0;
	return;
fail:
	/*
	 * Said once at error level; the same failure again only at debug
	 * level, and the retries back off (1, 2, 4 ... 16 s) so that a path
	 * that stays missing costs neither the log nor the CPU much.
	 */
	delay = p->user_retry_ms ? p->user_retry_ms : RETRY_MS;
	lvl = p->user_err == -ret ? LOG_DEBUG : LOG_ERR;
	if (*why)
		vs_log(lvl, "%s: %s; retrying in %u s", p->id, why, delay / 1000);
	else
		vs_log(lvl, "%s: opening the %s endpoint %s: %s; retrying in %u s", p->id,
		       vs_ep_type_name(e->type), ep_desc(e, desc, sizeof(desc)),
		       strerror(-ret), delay / 1000);
	p->user_err = -ret;
	p->user_retry_ms = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
	arm_timer(p, VS_OP_USER_TIMER, delay);
}

static void user_timer_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->user_timer_busy = false;
	if (p->stopping || res == -ECANCELED) {
		port_maybe_free(p);
		return;
	}
	if (p->cfg->ep.type == VS_EP_UNIX || p->cfg->ep.type == VS_EP_TCP) {
		if (p->cfg->ep.sock.mode == VS_MODE_CONNECT) {
			if (!has_sock_client(p))
				user_connect(p);
		} else if (p->lfd < 0) {
			user_open(p);
		} else {
			user_accept_arm(p);
		}
	} else if (!p->writer) {
		user_open(p);
	}
	vs_port_kick(p);
}

/* ---- VM side ----------------------------------------------------------- */

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

static void vm_open(struct vs_port *p)
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
	vs_port_kick(p);
}

static void vm_connect_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	if (p->stopping) {
		close(p->vm_fd);
		p->vm_fd = -1;
		p->vm_state = VM_DOWN;
		port_maybe_free(p);
		return;
	}
	vm_up(p, p->vm_fd);
}

static void vm_connect_err(void *obj, int res)
{
	struct vs_port *p = obj;

	close(p->vm_fd);
	p->vm_fd = -1;
	p->vm_state = VM_DOWN;
	if (p->stopping) {
		port_maybe_free(p);
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

static void vm_accept_ok(void *obj, int fd)
{
	struct vs_port *p = obj;

	p->vm_acc_busy = false;
	if (p->stopping) {
		close(fd);
		port_maybe_free(p);
		return;
	}
	if (p->cfg->chardev.is_unix)
		vm_sndbuf(fd, p->cfg->buffer_size);
	vm_up(p, fd);
}

static void vm_accept_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_acc_busy = false;
	if (p->stopping || res == -ECANCELED) {
		port_maybe_free(p);
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

static void vm_finish_close(struct vs_port *p)
{
	if (p->vm_state != VM_CLOSING || p->vm_rd_busy || p->vm_wr_busy ||
	    p->vm_poll_busy)
		return;
	vm_settle(p);
	p->vm_peer_ino = 0;
	close(p->vm_fd);
	p->vm_fd = -1;
	p->vm_state = VM_DOWN;
	if (p->stopping) {
		port_maybe_free(p);
		return;
	}
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
static void vm_close(struct vs_port *p, const char *why)
{
	if (p->vm_state != VM_UP)
		return;
	vs_log(LOG_INFO, "%s: QEMU disconnected: %s", p->id, why);
	p->vm_state = VM_CLOSING;
	if (p->vm_rd_busy || p->vm_wr_busy || p->vm_poll_busy)
		vs_cancel_fd(p->vm_fd);
	vm_finish_close(p);
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

static void vm_read_kick(struct vs_port *p)
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
	sqe = vs_sqe(VS_OP_VM_READ, p->slot, p->gen);
	io_uring_prep_recv(sqe, p->vm_fd, ptr, n, 0);
	p->vm_rd_busy = true;
}

static void vm_write_kick(struct vs_port *p)
{
	struct io_uring_sqe *sqe;
	const uint8_t *ptr;
	size_t n;

	if (p->vm_state != VM_UP || p->vm_wr_busy || vs_guest_holds(p))
		return;
	n = vs_ring_span(&p->down, p->down_pos, &ptr);
	if (!n)
		return;
	sqe = vs_sqe(VS_OP_VM_WRITE, p->slot, p->gen);
	io_uring_prep_send(sqe, p->vm_fd, ptr, n, MSG_NOSIGNAL);
	p->vm_wr_len = n;
	p->vm_wr_busy = true;
}

static void vm_read_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_rd_busy = false;
	if (p->vm_rd_drop)
		p->drops += (uint64_t)res;	/* console overflow, counted */
	else
		vs_ring_commit(&p->up, (size_t)res);	/* loan back, res bytes filled */
	p->vm_in += (uint64_t)res;
	if (p->vm_state == VM_CLOSING) {
		vm_finish_close(p);
		return;
	}
	if (res == 0) {
		vm_close(p, "end of file");
		return;
	}
	vs_port_kick(p);
}

static void vm_read_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_rd_busy = false;
	if (!p->vm_rd_drop)
		vs_ring_unreserve(&p->up);
	if (res == -ECONNRESET)
		p->vm_reset = true;	/* QEMU closed with bytes unread */
	if (p->vm_state == VM_CLOSING) {
		vm_finish_close(p);
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		vs_port_kick(p);
		return;
	}
	p->last_err = -res;
	vm_close(p, strerror(-res));
}

static void vm_write_ok(void *obj, int res)
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
		vm_finish_close(p);
		return;
	}
	vs_port_kick(p);
}

static void vm_write_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_wr_busy = false;
	if (res == -ECONNRESET)
		p->vm_reset = true;
	if (p->vm_state == VM_CLOSING) {
		vm_finish_close(p);
		return;
	}
	/* -ECANCELED: vm_ack_tick took it back, having moved nothing, to measure. */
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		vm_measure(p);
		vs_port_kick(p);
		return;
	}
	p->last_err = -res;
	vm_close(p, strerror(-res));
}

static void vm_poll_ok(void *obj, int res)
{
	struct vs_port *p = obj;

	(void)res;	/* POLLRDHUP, POLLHUP or POLLERR: the peer is gone */
	p->vm_poll_busy = false;
	if (p->vm_state != VM_UP) {
		vm_finish_close(p);
		return;
	}
	/* A read in flight sees the rest and the end of file itself. */
	if (p->vm_rd_busy)
		return;
	vm_spill(p);
	vm_close(p, "end of file");	/* may free p: nothing may follow */
}

static void vm_poll_err(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_poll_busy = false;
	if (p->vm_state == VM_CLOSING) {
		vm_finish_close(p);
		return;
	}
	if (res != -ECANCELED)
		vs_log(LOG_WARNING, "%s: watching QEMU's socket: %s", p->id, strerror(-res));
	port_maybe_free(p);
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
static void vm_ack_arm(struct vs_port *p)
{
	if (p->vm_state != VM_UP || p->stopping || p->vm_blind || p->vm_timer_busy ||
	    p->down_acked >= p->down_pos)
		return;
	arm_timer(p, VS_OP_VM_TIMER, p->vm_ack_ms);
	p->vm_ack_timer = true;
}

static void vm_timer_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->vm_timer_busy = false;
	if (p->vm_ack_timer) {
		p->vm_ack_timer = false;
		if (res == -ECANCELED) {
			port_maybe_free(p);
			return;
		}
		if (!p->stopping && p->vm_state == VM_UP)
			vm_ack_tick(p);
		else if (!p->stopping && p->vm_state == VM_DOWN &&
			 p->cfg->chardev.mode == VS_MODE_CONNECT && p->cfg->chardev.reconnect)
			/* The connection ended while this was armed: the reconnect delay was not. */
			arm_timer(p, VS_OP_VM_TIMER, p->cfg->chardev.reconnect_ms);
		vs_port_kick(p);
		return;
	}
	if (res == -ECANCELED) {
		port_maybe_free(p);
		return;
	}
	if (p->stopping) {
		vs_port_kick(p);
		return;
	}
	if (p->vm_state == VM_DOWN)
		vm_open(p);
	else if (p->vm_state == VM_LISTENING)
		vm_accept_arm(p);
}

/* ---- lifecycle --------------------------------------------------------- */

static void port_start(struct vs_port *p)
{
	p->started = true;
	/* Until the endpoint is open (or a writer attaches), keep output. */
	p->hold = p->cfg->ep.type != VS_EP_NULL;
	p->hold_pos = p->up.head;
	user_open(p);
	vm_open(p);
	vs_port_kick(p);
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
	if (!p->started) {
		port_maybe_free(p);
		return;
	}
	if (p->acc_busy)
		vs_cancel_fd(p->lfd);
	if (p->vm_acc_busy)
		vs_cancel_fd(p->vm_lfd);
	if (p->user_timer_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_USER_TIMER, p->slot, p->gen));
	if (p->trim_busy)
		vs_cancel_ud(vs_ud_encode(VS_OP_PORT_TRIM, p->slot, p->gen));
	vs_port_kick(p);
}

static void port_maybe_free(struct vs_port *p)
{
	struct vs_port **pp;

	if (!p->stopping || p->depth)
		return;
	if (p->clients || p->vm_rd_busy || p->vm_wr_busy || p->vm_acc_busy || p->vm_poll_busy ||
	    p->acc_busy || p->vm_timer_busy || p->user_timer_busy || p->trim_busy ||
	    p->vm_state == VM_CONNECTING || p->vm_state == VM_CLOSING || p->vm_fd >= 0)
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
	port_maybe_free(p);
	return;
wait:
	arm_timer(p, VS_OP_VM_TIMER, DRAIN_POLL_MS);
}

void vs_port_kick(struct vs_port *p)
{
	if (!p->started || p->depth)
		return;
	p->depth++;
	vm_write_kick(p);
	vm_ack_arm(p);
	vm_read_kick(p);
	for (struct vs_client *c = p->clients; c; c = c->next) {
		client_write_kick(c);
		client_read_kick(c);
	}
	trim_check(p);
	if (p->stopping)
		port_stop_step(p);
	p->depth--;
	if (p->stopping)
		port_maybe_free(p);	/* may free p: nothing may follow */
}

const struct vs_op_handler vs_port_handlers[VS_OP__COUNT] = {
	[VS_OP_VM_CONNECT] = { vm_connect_ok, vm_connect_err },
	[VS_OP_VM_ACCEPT] = { vm_accept_ok, vm_accept_err },
	[VS_OP_VM_READ] = { vm_read_ok, vm_read_err },
	[VS_OP_VM_WRITE] = { vm_write_ok, vm_write_err },
	[VS_OP_VM_POLL] = { vm_poll_ok, vm_poll_err },
	/* A TIMEOUT that expires completes with -ETIME: both go one way. */
	[VS_OP_VM_TIMER] = { vm_timer_fire, vm_timer_fire },
	[VS_OP_USER_TIMER] = { user_timer_fire, user_timer_fire },
	[VS_OP_PORT_TRIM] = { trim_fire, trim_fire },
	[VS_OP_USER_ACCEPT] = { user_accept_ok, user_accept_err },
	[VS_OP_CL_CONNECT] = { cl_connect_ok, cl_connect_err },
	[VS_OP_CL_READ] = { cl_read_ok, cl_read_err },
	[VS_OP_CL_WRITE] = { cl_write_ok, cl_write_err },
};
