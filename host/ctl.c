// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - the control socket.
 *
 * The protocol is in ctl_proto.h (and virtserctl(1)).
 *
 * Access: the socket is created 0600 (or with the configured group and
 * mode), and every connection's SO_PEERCRED is checked again, so a socket
 * that was made more open by hand does not grant anything.
 */
#include "virtserd.h"
#include "sock.h"
#include "ctl_proto.h"
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <limits.h>

#define CTL_LINE_MAX	VS_CTL_LINE_MAX
#define CTL_DISCARD_MAX	(1u << 20)

struct ctl_listener {
	uint32_t slot, gen;
	int fd;
	bool busy;		/* ACCEPT in flight */
	bool closing;		/* vs_ctl_close() ran: freed by the ACCEPT's completion */
	char *path;		/* unlinked on exit if it is still lis->ino */
	ino_t ino;
	gid_t gid;		/* (gid_t)-1: no group access */
	char *group;
};

/* One control connection; owner: ctl.c.  out is lent to the kernel while wr_busy. */
struct ctl_conn {
	uint32_t slot, gen;
	int fd;
	uid_t uid;
	pid_t pid;
	char in[CTL_LINE_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool rd_busy, wr_busy;
	bool closing;		/* shutting down: freed by its op's completion */
	/*
	 * After an ERR for an over-long line: read and drop the rest until
	 * EOF (at most CTL_DISCARD_MAX), so that closing with unread input
	 * does not reset the connection before the client read the ERR.
	 */
	bool discard;
	size_t discarded;
	struct ctl_conn *next;
};

static struct ctl_listener *lis;
static struct ctl_conn *conns;

struct obuf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void ob(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

static void ob_json_str(struct obuf *b, const char *s)
{
	ob(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			ob(b, "\\%c", c);
		else if (c < 0x20)
			ob(b, "\\u%04x", c);
		else
			ob(b, "%c", c);
	}
	ob(b, "\"");
}

static const char *client_kind(enum vs_cl_kind k)
{
	switch (k) {
	case CL_SOCK: return "socket";
	case CL_CTL: return "attach";
	case CL_FILE: return "file";
	case CL_LOG: return "log";
	case CL_PTY: return "pty";
	case CL_PIPE: return "pipe";
	case CL_UDP: return "udp";
	case CL_STDIO: return "stdio";
	case CL_DEV: return "dev";
	}
	return "?";
}

static const char *user_state(const struct vs_port *p)
{
	if (!p->started)
		return "pending";
	if (p->stopping)
		return "stopping";
	switch (p->cfg->ep.type) {
	case VS_EP_NULL:
		return "null";
	case VS_EP_UNIX:
	case VS_EP_TCP:
		if (p->cfg->ep.sock.mode == VS_MODE_BIND)
			return p->lfd >= 0 ? "listening" : "retrying";
		return p->writer ? "connected" : "connecting";
	default:
		return p->writer || p->clients ? "open" : "retrying";
	}
}

static void count_clients(const struct vs_port *p, unsigned *rw, unsigned *ro)
{
	*rw = *ro = 0;
	for (const struct vs_client *c = p->clients; c; c = c->next)
		if (!c->closing && (c->kind == CL_SOCK || c->kind == CL_CTL))
			(*(c->readonly ? ro : rw))++;
}

/*
 * Only for ports of a VM with <qmp> or libvirt=: the others have no guest
 * state.  "qmp" says whether the source of the state (QEMU's monitor, or
 * libvirt for a domain) is connected; "guest_source" says which it is.
 */
static void guest_json(struct obuf *b, const struct vs_port *p)
{
	enum vs_guest g;
	uint64_t ms;
	bool up, lv;

	if (!vs_guest_state(p, &g, &ms, &up, &lv))
		return;
	ob(b, ",\"guest\":\"%s\",\"guest_changed_ms\":%llu,\"guest_hold\":%s,\"qmp\":\"%s\","
	   "\"guest_source\":\"%s\"",
	   vs_guest_name(g), (unsigned long long)ms, p->cfg->guest_hold ? "true" : "false",
	   up ? "connected" : "disconnected", lv ? "libvirt" : "qmp");
}

static void guest_text(struct obuf *b, const struct vs_port *p)
{
	enum vs_guest g;
	uint64_t ms;
	bool up, lv;
	char when[64] = "never";

	if (!vs_guest_state(p, &g, &ms, &up, &lv))
		return;
	if (ms) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	}
	ob(b, "guest:           %s (changed %s; %s %s)%s\n", vs_guest_name(g), when,
	   lv ? "libvirt" : "QMP", up ? "connected" : "not connected",
	   p->cfg->guest_hold ? ", data held while not open" : "");
}

static void port_json(struct obuf *b, const struct vs_port *p)
{
	bool first = true;

	ob(b, "{\"id\":");
	ob_json_str(b, p->id);
	ob(b, ",\"kind\":\"%s\",\"type\":\"%s\",\"vm_state\":\"%s\",\"user_state\":\"%s\"",
	   vs_port_kind_name(p->cfg->kind), vs_ep_type_name(p->cfg->ep.type),
	   vs_vm_state_name(p->vm_state), user_state(p));
	ob(b, ",\"bytes_from_vm\":%llu,\"bytes_to_vm\":%llu,\"drops\":%llu",
	   (unsigned long long)p->vm_in, (unsigned long long)p->vm_out,
	   (unsigned long long)p->drops);
	ob(b, ",\"buffered_to_user\":%llu,\"buffered_to_vm\":%llu,\"buffer_size\":%zu",
	   (unsigned long long)(p->up.head - (p->writer ? p->writer->pos :
					       p->hold ? p->hold_pos : p->up.head)),
	   (unsigned long long)(p->down.head - p->down_pos), p->cfg->buffer_size);
	ob(b, ",\"vm_connects\":%llu,\"breaks\":%llu,\"ro_discarded\":%llu",
	   (unsigned long long)p->vm_connects, (unsigned long long)p->breaks,
	   (unsigned long long)p->ro_discarded);
	ob(b, ",\"trimmed\":%llu", (unsigned long long)p->trimmed);
	ob(b, ",\"unread_by_vm\":%llu,\"resent_to_vm\":%llu,\"lost_to_vm\":%llu"
	   ",\"vm_unread_unknown\":%llu",
	   (unsigned long long)(p->down_pos - p->down_acked),
	   (unsigned long long)p->resent_to_vm, (unsigned long long)p->lost_to_vm,
	   (unsigned long long)p->vm_unread_unknown);
	guest_json(b, p);
	if (p->last_err)
		ob(b, ",\"last_error\":\"%s\"", strerror(p->last_err));
	if (p->user_err)
		ob(b, ",\"user_error\":\"%s\"", strerror(p->user_err));
	if (p->user_addr[0]) {
		ob(b, ",\"user_address\":");
		ob_json_str(b, p->user_addr);
	}
	if (p->vm_lfd >= 0) {
		ob(b, ",\"chardev_address\":");
		ob_json_str(b, p->vm_laddr);
	}
	if (p->pty_name) {
		ob(b, ",\"pty\":");
		ob_json_str(b, p->pty_name);
	}
	ob(b, ",\"clients\":[");
	for (const struct vs_client *c = p->clients; c; c = c->next) {
		if (c->closing)
			continue;
		ob(b, "%s{\"kind\":\"%s\",\"peer\":", first ? "" : ",", client_kind(c->kind));
		ob_json_str(b, c->peer);
		ob(b, ",\"mode\":\"%s\",\"bytes_in\":%llu,\"bytes_out\":%llu,\"drops\":%llu}",
		   c == p->writer ? "rw" : c->readonly ? "ro" : "rw",
		   (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
		   (unsigned long long)vs_client_drops(c));
		first = false;
	}
	ob(b, "]}");
}

static void cmd_list(struct obuf *b, bool json)
{
	if (json) {
		ob(b, "{\"version\":1,\"ports\":[");
		for (const struct vs_port *p = vs_ports; p; p = p->next) {
			port_json(b, p);
			if (p->next)
				ob(b, ",");
		}
		ob(b, "]}\n");
		return;
	}
	ob(b, "%-24s %-8s %-6s %-11s %-11s %-7s %12s %12s %8s\n", "PORT", "KIND", "TYPE",
	   "VM", "USER", "CLIENTS", "FROM-VM", "TO-VM", "DROPS");
	for (const struct vs_port *p = vs_ports; p; p = p->next) {
		unsigned rw, ro;
		char cl[24];

		count_clients(p, &rw, &ro);
		snprintf(cl, sizeof(cl), "%u+%u", rw, ro);
		ob(b, "%-24s %-8s %-6s %-11s %-11s %-7s %12llu %12llu %8llu\n", p->id,
		   vs_port_kind_name(p->cfg->kind), vs_ep_type_name(p->cfg->ep.type),
		   vs_vm_state_name(p->vm_state), user_state(p), cl,
		   (unsigned long long)p->vm_in, (unsigned long long)p->vm_out,
		   (unsigned long long)p->drops);
	}
}

static void cmd_status(struct obuf *b, const struct vs_port *p, bool json)
{
	if (json) {
		port_json(b, p);
		ob(b, "\n");
		return;
	}
	ob(b, "port:            %s\n", p->id);
	ob(b, "kind:            %s\n", vs_port_kind_name(p->cfg->kind));
	ob(b, "endpoint:        %s (%s)%s%s\n", vs_ep_type_name(p->cfg->ep.type), user_state(p),
	   p->user_err ? ", last error: " : "", p->user_err ? strerror(p->user_err) : "");
	if (p->user_addr[0])
		ob(b, "bound to:        %s\n", p->user_addr);
	if (p->vm_lfd >= 0)
		ob(b, "chardev bound:   %s\n", p->vm_laddr);
	if (p->pty_name)
		ob(b, "pty:             %s\n", p->pty_name);
	ob(b, "vm side:         %s (%llu connects)%s%s\n", vs_vm_state_name(p->vm_state),
	   (unsigned long long)p->vm_connects, p->last_err ? ", last error: " : "",
	   p->last_err ? strerror(p->last_err) : "");
	guest_text(b, p);
	ob(b, "bytes from vm:   %llu\n", (unsigned long long)p->vm_in);
	ob(b, "bytes to vm:     %llu\n", (unsigned long long)p->vm_out);
	ob(b, "buffered to vm:  %llu of %zu\n",
	   (unsigned long long)(p->down.head - p->down_pos), p->cfg->buffer_size);
	ob(b, "unread by vm:    %llu (resent %llu, lost %llu, unknown %llu times)\n",
	   (unsigned long long)(p->down_pos - p->down_acked),
	   (unsigned long long)p->resent_to_vm, (unsigned long long)p->lost_to_vm,
	   (unsigned long long)p->vm_unread_unknown);
	ob(b, "drops:           %llu\n", (unsigned long long)p->drops);
	ob(b, "breaks:          %llu\n", (unsigned long long)p->breaks);
	for (const struct vs_client *c = p->clients; c; c = c->next) {
		uint64_t from = c->pos > vs_ring_oldest(&p->up) ? c->pos : vs_ring_oldest(&p->up);
		uint64_t behind = p->up.head > from ? p->up.head - from : 0;

		if (c->closing)
			continue;
		ob(b, "client:          %s %s %s in=%llu out=%llu drops=%llu behind=%llu\n",
		   client_kind(c->kind), c->peer, c == p->writer ? "rw" : "ro",
		   (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
		   (unsigned long long)vs_client_drops(c), (unsigned long long)behind);
	}
}

static void conn_free(struct ctl_conn *c, bool close_fd)
{
	struct ctl_conn **pp;

	if (close_fd)
		close(c->fd);
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	vs_slot_free(c->slot);
	free(c->out);
	free(c);
}

static void conn_reply(struct ctl_conn *c, struct obuf *b)
{
	struct io_uring_sqe *sqe;

	c->out = b->p;		/* the conn owns it; lent to the kernel below */
	c->outlen = b->len;
	c->outoff = 0;
	sqe = vs_sqe(VS_OP_CTL_WRITE, c->slot, c->gen);
	io_uring_prep_write(sqe, c->fd, c->out, (unsigned)c->outlen, (uint64_t)-1);
	c->wr_busy = true;
}

static void conn_read(struct ctl_conn *c)
{
	struct io_uring_sqe *sqe = vs_sqe(VS_OP_CTL_READ, c->slot, c->gen);

	/* c->in past inlen is the kernel's until ctl_read_ok/err. */
	io_uring_prep_read(sqe, c->fd, c->in + c->inlen,
			   (unsigned)(sizeof(c->in) - 1 - c->inlen), (uint64_t)-1);
	c->rd_busy = true;
}

static void conn_command(struct ctl_conn *c, char *line)
{
	struct obuf b = { 0 };
	char *argv[4] = { 0 };
	int argc = 0;
	struct vs_port *p = NULL;
	bool json;

	for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && argc < 4;
	     t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	json = argc > 1 && !strcmp(argv[argc - 1], VS_CTL_JSON);
	if (argc == 0) {
		ob(&b, VS_CTL_ERR " empty command\n");
	} else if (!strcmp(argv[0], VS_CTL_VERSION)) {
		ob(&b, "virtserd %s protocol %d\n", VIRTSERD_VERSION, VS_CTL_PROTOCOL);
	} else if (!strcmp(argv[0], VS_CTL_LIST)) {
		cmd_list(&b, json);
	} else if (!strcmp(argv[0], VS_CTL_RELOAD)) {
		const char *err = vs_reload();

		if (err)
			ob(&b, VS_CTL_ERR " %s\n", err);
		else
			ob(&b, VS_CTL_OK " reloaded\n");
	} else if (!strcmp(argv[0], VS_CTL_WATCH)) {
		/* The fd now belongs to the watcher. */
		vs_guest_watch(c->fd);
		conn_free(c, false);
		return;
	} else if (!strcmp(argv[0], VS_CTL_STATUS) || !strcmp(argv[0], VS_CTL_ATTACH)) {
		if (argc < 2 || !(p = vs_port_find(argv[1]))) {
			ob(&b, VS_CTL_ERR " no such port: %s\n", argc < 2 ? "(none given)" : argv[1]);
		} else if (!strcmp(argv[0], VS_CTL_STATUS)) {
			cmd_status(&b, p, json);
		} else {
			const char *m = argc > 2 ? argv[2] : VS_CTL_MODE_RW;
			char peer[64];
			int ret;

			if (strcmp(m, VS_CTL_MODE_RW) && strcmp(m, VS_CTL_MODE_RO) &&
			    strcmp(m, VS_CTL_MODE_FORCE)) {
				ob(&b, VS_CTL_ERR " attach mode must be ro, rw or force\n");
				goto reply;
			}
			snprintf(peer, sizeof(peer), "ctl:pid=%d,uid=%u", (int)c->pid,
				 (unsigned)c->uid);
			ret = vs_port_attach(p, c->fd, !strcmp(m, VS_CTL_MODE_RO),
					     !strcmp(m, VS_CTL_MODE_FORCE), peer);
			if (ret == -EPERM) {
				ob(&b, VS_CTL_ERR " attach: the %s endpoint has write access on this port "
				   "and keeps it; attach -r to watch\n",
				   vs_ep_type_name(p->cfg->ep.type));
				goto reply;
			}
			if (ret < 0) {
				ob(&b, VS_CTL_ERR " attach: %s\n", ret == -EUSERS ?
				   "too many clients on this port" : strerror(-ret));
				goto reply;
			}
			/* The fd now belongs to the port's client. */
			conn_free(c, false);
			free(b.p);
			return;
		}
	} else {
		ob(&b, VS_CTL_ERR " unknown command '%s' (list, status, attach, watch, reload, version)\n",
		   argv[0]);
	}
reply:
	conn_reply(c, &b);
}

void ctl_read_ok(void *obj, int res)
{
	struct ctl_conn *c = obj;
	char *nl;

	c->rd_busy = false;
	if (c->closing) {
		conn_free(c, true);
		return;
	}
	if (c->discard) {
		c->discarded += (size_t)res;
		if (res == 0 || c->discarded >= CTL_DISCARD_MAX) {
			conn_free(c, true);
			return;
		}
		c->inlen = 0;
		conn_read(c);
		return;
	}
	if (res == 0) {
		if (c->inlen) {
			struct obuf b = { 0 };

			ob(&b, VS_CTL_ERR " command not terminated by a newline\n");
			conn_reply(c, &b);
			return;
		}
		conn_free(c, true);
		return;
	}
	c->inlen += (size_t)res;
	c->in[c->inlen] = '\0';
	nl = memchr(c->in, '\n', c->inlen);
	if (nl) {
		*nl = '\0';
		conn_command(c, c->in);
		return;
	}
	if (c->inlen >= sizeof(c->in) - 1) {
		struct obuf b = { 0 };

		ob(&b, VS_CTL_ERR " command longer than %d bytes\n", CTL_LINE_MAX - 1);
		c->discard = true;
		conn_reply(c, &b);
		return;
	}
	conn_read(c);
}

void ctl_read_err(void *obj, int res)
{
	conn_free(obj, true);
}

void ctl_write_ok(void *obj, int res)
{
	struct ctl_conn *c = obj;
	struct io_uring_sqe *sqe;

	c->wr_busy = false;
	if (c->closing) {
		conn_free(c, true);
		return;
	}
	c->outoff += (size_t)res;
	if (c->outoff < c->outlen && res > 0) {
		/* Short write on a big listing: send the rest. */
		sqe = vs_sqe(VS_OP_CTL_WRITE, c->slot, c->gen);
		io_uring_prep_write(sqe, c->fd, c->out + c->outoff,
				    (unsigned)(c->outlen - c->outoff), (uint64_t)-1);
		c->wr_busy = true;
		return;
	}
	if (c->discard && res > 0) {
		c->inlen = 0;
		conn_read(c);
		return;
	}
	conn_free(c, true);
}

void ctl_write_err(void *obj, int res)
{
	conn_free(obj, true);
}

/*
 * Group access asks the kernel which groups the peer had when it
 * connected (SO_PEERGROUPS): its real supplementary groups, whatever
 * /etc/group says, and no NSS lookup that could block the loop.
 */
static bool peer_in_group(int fd, const struct ucred *uc, gid_t want)
{
	gid_t some[64], *g = some;
	socklen_t len = sizeof(some);
	bool in = false;

	if (uc->gid == want)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
		if (errno != ERANGE)
			return false;
		g = malloc(len);	/* len now says how much it needs */
		if (!g)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
			free(g);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(*g) && !in; i++)
		in = g[i] == want;
	if (g != some)
		free(g);
	return in;
}

static bool peer_allowed(int fd, const struct ucred *uc)
{
	if (uc->uid == 0 || uc->uid == geteuid())
		return true;
	if (lis->gid == (gid_t)-1)
		return false;
	return peer_in_group(fd, uc, lis->gid);
}

static void lis_free(void)
{
	close(lis->fd);
	if (lis->slot)
		vs_slot_free(lis->slot);
	free(lis->path);
	free(lis);
	lis = NULL;
}

static void ctl_accept_arm(void)
{
	struct io_uring_sqe *sqe;

	if (!lis || lis->busy || lis->closing)
		return;
	sqe = vs_sqe(VS_OP_CTL_ACCEPT, lis->slot, lis->gen);
	io_uring_prep_accept(sqe, lis->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	lis->busy = true;
}

void ctl_accept_ok(void *obj, int fd)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	struct ctl_conn *c;

	lis->busy = false;
	if (lis->closing) {
		close(fd);
		lis_free();
		return;
	}
	ctl_accept_arm();
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) || !peer_allowed(fd, &uc)) {
		static const char msg[] = VS_CTL_ERR " permission denied\n";

		vs_log(LOG_WARNING, "control: refused uid %u (pid %d)", (unsigned)uc.uid,
		       (int)uc.pid);
		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* The refusal is best effort. */
		}
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->fd = fd;
	c->uid = uc.uid;
	c->pid = uc.pid;
	c->slot = vs_slot_alloc(c, &c->gen);
	c->next = conns;
	conns = c;
	conn_read(c);
}

void ctl_accept_err(void *obj, int res)
{
	lis->busy = false;
	if (lis->closing) {
		lis_free();
		return;
	}
	if (res != -ECANCELED)
		vs_log(LOG_WARNING, "control: accept: %s", strerror(-res));
	ctl_accept_arm();
}

/*
 * One daemon per control socket.  Without this a second virtserd on the
 * same configuration took over the control socket, the unix endpoints and
 * the pty links, and deleted them when it exited, leaving the first
 * running and unreachable.  The lock is flock() on PATH.lock, held by the
 * open descriptor until the process ends (through the drain at shutdown,
 * so a successor cannot start while we still own the sockets), and never
 * unlinked: removing it would let two daemons lock two different files.
 * The holder's pid is written into it for the refusal message.
 */
int vs_ctl_lock(const char *control_path, char *err, size_t errlen)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.lock", control_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the lock file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		n = e == EWOULDBLOCK ? pread(fd, pid, sizeof(pid) - 1, 0) : -1;
		if (n > 0)
			pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "another virtserd (pid %s) holds %s and serves %s; "
				 "not starting a second one", n > 0 && *pid ? pid : "unknown",
				 path, control_path);
		else
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* The lock holds without the pid; only the message loses it. */
	}
	return fd;
}

int vs_ctl_open(const struct vs_config *cfg)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const char *path = cfg->control_path;
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(un.sun_path)) {
		vs_log(LOG_ERR, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(un.sun_path, path);
	{
		char why[300];
		int ret = vs_unix_claim(path, why, sizeof(why));

		if (ret < 0) {
			vs_log(LOG_ERR, "control socket: %s", *why ? why : strerror(-ret));
			return ret;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);	/* born 0600: see the comment at the top */
	if (bind(fd, (struct sockaddr *)&un, sizeof(un))) {
		int e = errno;

		umask(old);
		vs_log(LOG_ERR, "control socket %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	umask(old);
	lis = calloc(1, sizeof(*lis));
	if (!lis)
		abort();
	lis->fd = fd;
	lis->path = strdup(path);
	lis->ino = lstat(path, &st) ? 0 : st.st_ino;
	lis->gid = (gid_t)-1;
	if (cfg->control_group) {
		struct group *gr = getgrnam(cfg->control_group);

		if (!gr) {
			vs_log(LOG_WARNING, "control: unknown group '%s'", cfg->control_group);
		} else {
			lis->gid = gr->gr_gid;
			if (chown(path, (uid_t)-1, gr->gr_gid))
				vs_log(LOG_WARNING, "control: chown: %s", strerror(errno));
		}
	}
	if (lis->gid != (gid_t)-1 && chmod(path, cfg->control_mode & 0770))
		vs_log(LOG_WARNING, "control: chmod: %s", strerror(errno));
	if (listen(fd, 16)) {
		int e = errno;

		vs_ctl_close();
		return -e;
	}
	lis->slot = vs_slot_alloc(lis, &lis->gen);
	ctl_accept_arm();
	return 0;
}

/*
 * Stop serving the control socket.  An operation still in flight owns
 * its object's memory (the READ writes into c->in): cancel it and let
 * its completion free the object, so shutdown waits for vs_ctl_settled().
 * The path goes at once: nobody can connect from here on.
 */
void vs_ctl_close(void)
{
	for (struct ctl_conn *c = conns, *n; c; c = n) {
		n = c->next;
		if (!c->rd_busy && !c->wr_busy) {
			conn_free(c, true);
		} else if (!c->closing) {
			c->closing = true;
			vs_cancel_fd(c->fd);
		}
	}
	if (!lis || lis->closing)
		return;
	unlink_own(lis->path, lis->ino);	/* never a file put there since */
	if (!lis->busy) {
		lis_free();
		return;
	}
	lis->closing = true;
	vs_cancel_fd(lis->fd);
}

bool vs_ctl_settled(void)
{
	return !lis && !conns;
}
