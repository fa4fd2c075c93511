/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sock.h - socket helpers (sock.c) for the port files and ctl.c.
 */
#ifndef VIRTSERD_SOCK_H
#define VIRTSERD_SOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"

/* A configured address as a sockaddr (resolved at load: never blocks). */
int sock_addr(const struct vs_sockspec *s, struct sockaddr_storage *ss,
	      socklen_t *len, int *family);
/* "host:port", "[v6]:port" or the path @fd is bound to. */
void fmt_local(int fd, char *out, size_t len);
/* The peer of a connected socket, for status: pid and uid on unix. */
void fmt_peer(int fd, char *out, size_t len);
/*
 * Frees @path for a unix socket bind unless a process listens there:
 * 0, -EEXIST (not a socket), -EADDRINUSE (in use; @why names the owner).
 */
int vs_unix_claim(const char *path, char *why, size_t whylen);
/* A listening socket (fd) or -errno; @why may hold a sentence for the log. */
int listen_on(const struct vs_sockspec *s, const struct vs_perms *pm,
	      const char *what, char *bound, size_t boundlen, ino_t *ino,
	      char *why, size_t whylen);
/* Removes a unix socket we bound, unless somebody replaced it since. */
void unlink_own(const char *path, ino_t ino);
/* Lets the send queue toward a unix peer hold @want bytes (raise only). */
void unix_sndbuf(int fd, size_t want);

#endif
