// SPDX-License-Identifier: GPL-2.0
/*
 * integrity.c - 64 MiB in each direction with write sizes from 1 byte to
 * 64 KiB; what arrives must hash the same as what was sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "stream.h"
#include "vt_guest.h"
#include "vt_util.h"

#define TOTAL		(64ull << 20)
#define SEED		20261122ull
#define CHUNK		65536

FIXTURE(bulk) {
	struct vt_port p;
	char node[PATH_MAX];
	int fd;
};

FIXTURE_SETUP(bulk)
{
	ASSERT_EQ(0, vt_first_port(&self->p));
	ASSERT_EQ(0, vt_port_node(self->p.id, self->node, sizeof(self->node)));
	ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", self->p.id));
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", self->p.id));
	ASSERT_EQ(0, vt_wait_host(self->fd, true, 10000));
}

FIXTURE_TEARDOWN(bulk)
{
	close(self->fd);
	vt_host(NULL, 0, "reset %u", self->p.id);
}

TEST_F_TIMEOUT(bulk, guest_to_host_64MiB, 900)
{
	static unsigned char buf[CHUNK];
	char mine[65], theirs[65], reply[256];
	unsigned long long sent = 0, got;
	struct vt_stream st;
	struct sha256 sha;
	uint64_t t0 = vt_now_ms();

	vt_stream_seed(&st, SEED);
	sha256_init(&sha);
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %llu", self->p.id, TOTAL));
	while (sent < TOTAL) {
		size_t n = vt_stream_chunk(&st, CHUNK), off = 0;

		if (n > TOTAL - sent)
			n = (size_t)(TOTAL - sent);
		vt_stream_fill(&st, buf, n);
		sha256_update(&sha, buf, n);
		while (off < n) {
			ssize_t w = write(self->fd, buf + off, n - off);

			ASSERT_LT(0, w) {
				TH_LOG("write after %llu bytes: %s", sent, strerror(errno));
			}
			off += (size_t)w;
		}
		sent += n;
	}
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 600000", self->p.id)) {
		TH_LOG("host: %s", reply);
	}
	sha256_final_hex(&sha, mine);
	ASSERT_EQ(2, sscanf(reply, "%64s %llu", theirs, &got));
	EXPECT_EQ(TOTAL, got);
	EXPECT_STREQ(mine, theirs);
	TH_LOG("%llu bytes in %llu ms", sent, (unsigned long long)(vt_now_ms() - t0));
}

TEST_F_TIMEOUT(bulk, host_to_guest_64MiB, 900)
{
	static unsigned char buf[CHUNK];
	char mine[65], theirs[65], reply[256];
	unsigned long long got = 0, n;
	struct vt_stream sizes;
	struct sha256 sha;
	uint64_t t0 = vt_now_ms();

	sha256_init(&sha);
	vt_stream_seed(&sizes, SEED + 1);
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %llu %llu", self->p.id, TOTAL, SEED));
	while (got < TOTAL) {
		/* Read sizes vary too, so every buffer boundary case is hit. */
		size_t want = vt_stream_chunk(&sizes, CHUNK);
		ssize_t r = read(self->fd, buf, want);

		ASSERT_LT(0, r) {
			TH_LOG("read after %llu bytes: %s", got,
			       r ? strerror(errno) : "EOF");
		}
		sha256_update(&sha, buf, (size_t)r);
		got += (unsigned long long)r;
	}
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 600000", self->p.id)) {
		TH_LOG("host: %s", reply);
	}
	sha256_final_hex(&sha, mine);
	ASSERT_EQ(2, sscanf(reply, "%64s %llu", theirs, &n));
	EXPECT_EQ(TOTAL, n);
	EXPECT_STREQ(mine, theirs);
	TH_LOG("%llu bytes in %llu ms", got, (unsigned long long)(vt_now_ms() - t0));
}

TEST_HARNESS_MAIN
