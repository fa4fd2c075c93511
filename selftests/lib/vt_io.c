// SPDX-License-Identifier: GPL-2.0
/*
 * vt_io.c - write-all and unix-socket connect, shared by the rig.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vt_io.h"

/* How long a nonblocking writer waits for room before it gives up. */
#define VT_IO_ROOM_MS	10000

int vt_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int ready = poll(&pfd, 1, VT_IO_ROOM_MS);

			if (ready < 0 && errno == EINTR)
				continue;
			if (ready <= 0) {
				if (!ready)
					errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (r == 0)
			errno = EIO;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int vt_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
