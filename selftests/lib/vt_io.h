/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_io.h - the few I/O loops every program of the rig needs, once:
 * guest tests, the host half (vmhost), vtbench and lvguest.
 */
#ifndef VT_IO_H
#define VT_IO_H

#include <stddef.h>

/*
 * Write all n bytes.  Retries after EINTR; on a nonblocking fd it waits
 * for room (up to 10 s each time).  Returns 0, or -1 with errno set.
 */
int vt_write_all(int fd, const void *buf, size_t n);

/* A connected AF_UNIX stream socket (close-on-exec), or -1 with errno. */
int vt_connect_unix(const char *path);

#endif
