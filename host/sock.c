// SPDX-License-Identifier: GPL-2.0
/*
 * sock.c - socket helpers with no port state: addresses, listeners that
 * never replace a live socket, peer names, queue sizes.  Shared by the
 * port files and ctl.c's listener; calls only log.c.
 */
#include "virtserd.h"
#include "sock.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

int sock_addr(const struct vs_sockspec *s, struct sockaddr_storage *ss,
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
void fmt_local(int fd, char *out, size_t len)
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
int listen_on(const struct vs_sockspec *s, const struct vs_perms *pm,
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
void unlink_own(const char *path, ino_t ino)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode) && st.st_ino == ino)
		unlink(path);
}

void fmt_peer(int fd, char *out, size_t len)
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
void unix_sndbuf(int fd, size_t want)
{
	int cur = 0, v = want > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)want;
	socklen_t len = sizeof(cur);

	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &len) && cur / 2 >= v)
		return;
	/* Best effort: a smaller queue is slower, not wrong. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}
