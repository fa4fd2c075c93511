/* SPDX-License-Identifier: GPL-2.0 */
/*
 * notify.c - the service manager's readiness protocol, without libsystemd:
 * one datagram of "KEY=VALUE" lines to the unix socket named by
 * $NOTIFY_SOCKET, a path or, with a leading '@', an abstract name.  That
 * is the whole protocol a Type=notify daemon needs, so the daemon does not
 * take a library dependency for it.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int vs_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t n;
	socklen_t len;
	ssize_t sent;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(un.sun_path))
		return -EINVAL;
	memcpy(un.sun_path, path, n);
	if (path[0] == '@')
		un.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A final newline keeps datagrams apart for anything that logs them. */
	struct iovec iov[2] = {
		{ .iov_base = (void *)state, .iov_len = strlen(state) },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr mh = {
		.msg_name = &un, .msg_namelen = len, .msg_iov = iov,
		.msg_iovlen = iov[0].iov_len && state[iov[0].iov_len - 1] == '\n' ? 1 : 2,
	};

	sent = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent < 0)
		err = -errno;
	close(fd);
	return err ? err : 1;
}
