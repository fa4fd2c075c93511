// SPDX-License-Identifier: GPL-2.0
/*
 * ep.c - opening a port's configured endpoint: pty, fifo pair, udp, host
 * tty, stdio, file sink, or the unix/tcp listener or dialler, and retrying
 * with back-off when that fails.  Called by port.c (and the loop for its
 * timer); calls client.c, sock.c, uring.c, log.c.
 */
#include "virtserd.h"
#include "port.h"
#include "rotate.h"
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#define RETRY_MAX_MS	16000	/* endpoint opens back off to this */

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

struct vs_client *file_sink(struct vs_port *p, enum vs_cl_kind kind,
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
void user_open(struct vs_port *p)
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

void user_timer_fire(void *obj, int res)
{
	struct vs_port *p = obj;

	p->user_timer_busy = false;
	if (p->stopping || res == -ECANCELED) {
		vs_port_dirty(p);
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
	vs_port_dirty(p);
}
