// SPDX-License-Identifier: GPL-2.0
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t vs_rotate_room(uint64_t size, uint64_t max, size_t want)
{
	if (!max)
		return want;
	if (size >= max)
		return 0;
	return max - size < want ? (size_t)(max - size) : want;
}

int vs_rotate_files(const char *path, unsigned backups)
{
	size_t n = strlen(path) + 16;
	char *from = malloc(n), *to = malloc(n);
	int ret = 0;

	if (!from || !to) {
		ret = -ENOMEM;
		goto out;
	}
	if (backups == 0) {
		if (unlink(path) && errno != ENOENT)
			ret = -errno;
		goto out;
	}
	for (unsigned i = backups; i > 0; i--) {
		if (i == 1)
			snprintf(from, n, "%s", path);
		else
			snprintf(from, n, "%s.%u", path, i - 1);
		snprintf(to, n, "%s.%u", path, i);
		/* rename() replaces path.N atomically: the oldest is dropped. */
		if (rename(from, to) && errno != ENOENT) {
			ret = -errno;
			break;
		}
	}
out:
	free(from);
	free(to);
	return ret;
}

int vs_open_log(const char *path, int append, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
		      (append ? 0 : O_TRUNC), 0640);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}
