/* SPDX-License-Identifier: GPL-2.0 */
/*
 * e2e.h - shared by the guest halves of the virtserd end-to-end tests:
 * streaming through the port whose host end is virtserd, with the host
 * half at the daemon's unix endpoint, and checking SHA-256 on both ends.
 */
#ifndef VT_E2E_H
#define VT_E2E_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "stream.h"
#include "vt_guest.h"

#define E2E_CHUNK 65536

/* Write n bytes of vt_stream(seed) in random sizes; hash them into hex. */
static inline int e2e_write(int fd, unsigned long long n, unsigned long long seed,
			    char hex[65])
{
	static unsigned char buf[E2E_CHUNK];
	struct vt_stream st;
	struct sha256 sha;

	vt_stream_seed(&st, seed);
	sha256_init(&sha);
	while (n) {
		size_t k = vt_stream_chunk(&st, E2E_CHUNK), off = 0;

		if (k > n)
			k = (size_t)n;
		vt_stream_fill(&st, buf, k);
		sha256_update(&sha, buf, k);
		while (off < k) {
			ssize_t w = write(fd, buf + off, k - off);

			if (w <= 0) {
				fprintf(stderr, "# write: %s\n", w ? strerror(errno) : "0");
				return -1;
			}
			off += (size_t)w;
		}
		n -= k;
	}
	sha256_final_hex(&sha, hex);
	return 0;
}

/* Read exactly n bytes and hash them into hex. */
static inline int e2e_read(int fd, unsigned long long n, char hex[65])
{
	static unsigned char buf[E2E_CHUNK];
	struct sha256 sha;

	sha256_init(&sha);
	while (n) {
		ssize_t r = read(fd, buf, n < sizeof(buf) ? (size_t)n : sizeof(buf));

		if (r <= 0) {
			fprintf(stderr, "# read: %s, %llu bytes short\n",
				r ? strerror(errno) : "EOF", n);
			return -1;
		}
		sha256_update(&sha, buf, (size_t)r);
		n -= (unsigned long long)r;
	}
	sha256_final_hex(&sha, hex);
	return 0;
}

/* The host half's hash of its finished job on port id, into hex. */
static inline int e2e_host_hash(unsigned int id, unsigned long long want, char hex[65])
{
	char reply[256];
	unsigned long long n = 0;

	if (vt_host(reply, sizeof(reply), "wait %u 600000", id)) {
		fprintf(stderr, "# host: %s\n", reply);
		return -1;
	}
	if (sscanf(reply, "%64s %llu", hex, &n) != 2 || n != want) {
		fprintf(stderr, "# host moved %llu of %llu bytes\n", n, want);
		return -1;
	}
	return 0;
}

#endif
