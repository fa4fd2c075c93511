// SPDX-License-Identifier: GPL-2.0
/*
 * virtser_ext.c - guest half of the tests for what virtser.ko does beyond
 * the in-tree driver: multi-buffer reads, large scatter-gather writes,
 * readv/writev, splice in both directions, sysfs statistics and the
 * keep_unread parameter.  Written for the selftests/ VM rig (kselftest
 * harness plus the vt_* side channel); every test skips when the driver
 * under test is not virtser, because the in-tree driver behaves
 * differently on purpose.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "stream.h"
#include "vt_guest.h"
#include "vt_util.h"

#define HOST(...)	ASSERT_EQ(0, vt_host(NULL, 0, __VA_ARGS__))
#define STATE_MS	10000
#define PARAM		"/sys/module/virtser/parameters/keep_unread"

/*
 * In the 6.1 harness a SKIP() in FIXTURE_SETUP does not stop the test body,
 * so every body checks again.
 */
#define NEED_VIRTSER() do { \
	if (!is_virtser()) \
		SKIP(return, "driver under test is not virtser"); \
} while (0)

FIXTURE(ext) {
	struct vt_port p;
	char node[PATH_MAX];
	char sys[PATH_MAX];
	int fd;
	bool param_set;		/* keep_unread changed: teardown restores 0 */
};

static bool is_virtser(void)
{
	struct stat st;

	return stat("/sys/module/virtser", &st) == 0;
}

/* Value of a per-port statistic, or -1. */
static long long stat_of(FIXTURE_DATA(ext) *self, const char *name)
{
	char path[PATH_MAX + 64], buf[64];

	snprintf(path, sizeof(path), "%s/virtser/%s", self->sys, name);
	if (vt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return atoll(buf);
}

/* Wait until a statistic reaches at least @want. */
static bool stat_wait(FIXTURE_DATA(ext) *self, const char *name,
		      long long want, int ms)
{
	uint64_t end = vt_now_ms() + ms;

	do {
		if (stat_of(self, name) >= want)
			return true;
		usleep(10000);
	} while (vt_now_ms() < end);
	return false;
}

/* Send @n bytes of a known pattern from the host, in 16 KiB commands. */
static int host_send(unsigned int id, size_t n, unsigned char seed)
{
	static char hex[2 * 16384 + 1];
	unsigned char chunk[16384];
	size_t done = 0, k, i;

	while (done < n) {
		k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		for (i = 0; i < k; i++)
			chunk[i] = (unsigned char)(seed + done + i);
		vt_hex(hex, chunk, k);
		if (vt_host(NULL, 0, "send %u %s", id, hex))
			return -1;
		done += k;
	}
	return 0;
}

static bool pattern_ok(const unsigned char *b, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != (unsigned char)(seed + i))
			return false;
	return true;
}

FIXTURE_SETUP(ext)
{
	char dev[64];

	self->fd = -1;
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	ASSERT_EQ(0, vt_first_port(&self->p));
	ASSERT_EQ(0, vt_port_node(self->p.id, self->node, sizeof(self->node)));
	snprintf(dev, sizeof(dev), "%s", strrchr(self->node, '/') + 1);
	snprintf(self->sys, sizeof(self->sys), "/sys/class/virtio-ports/%s", dev);
	HOST("reset %u", self->p.id);
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	HOST("connect %u", self->p.id);
	ASSERT_EQ(0, vt_wait_host(self->fd, true, STATE_MS));
}

FIXTURE_TEARDOWN(ext)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Even when an assertion ended the test: later tests assume the default. */
	if (self->param_set) {
		int pf = open(PARAM, O_WRONLY);

		if (pf < 0 || write(pf, "0", 1) != 1)
			TH_LOG("could not restore %s to 0", PARAM);
		if (pf >= 0)
			close(pf);
	}
	if (is_virtser())
		vt_host(NULL, 0, "reset %u", self->p.id);
}

/* The host's sink on the fixture's port got exactly the bytes hashed in sha. */
#define HOST_GOT(sha, n) do { \
	char why_[256]; \
	EXPECT_EQ(0, vt_sink_check(self->p.id, (sha), (n), 60000, why_, sizeof(why_))) { \
		TH_LOG("%s", why_); \
	} \
} while (0)

/* In-tree read() returns at most one 4 KiB buffer per call. */
TEST_F(ext, read_returns_all_queued_data)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	static unsigned char buf[65536];
	const size_t n = 3 * 4096 + 100;
	ssize_t r;

	NEED_VIRTSER();
	ASSERT_EQ(0, host_send(self->p.id, n, 7));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", n, STATE_MS));
	r = read(self->fd, buf, sizeof(buf));
	ASSERT_EQ((ssize_t)n, r);
	ASSERT_TRUE(pattern_ok(buf, n, 7));
	ASSERT_EQ(0, stat_of(self, "rx_bytes"));
}

/* In-tree write() takes at most 32 KiB per call. */
TEST_F(ext, write_takes_256KiB_in_one_call)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	const size_t n = 256 * 1024;
	unsigned char *buf = malloc(n);
	long long before = stat_of(self, "bytes_sent");
	struct vt_stream st;
	struct sha256 sha;

	NEED_VIRTSER();
	ASSERT_NE(NULL, buf);
	/* Distinct bytes, so a page sent twice or out of order shows. */
	vt_stream_seed(&st, 256);
	vt_stream_fill(&st, buf, n);
	sha256_init(&sha);
	sha256_update(&sha, buf, n);
	HOST("sink %u %zu", self->p.id, n);
	ASSERT_EQ((ssize_t)n, write(self->fd, buf, n));
	HOST_GOT(&sha, n);
	/* Counted once the host has it all, not when queued: exactly n. */
	ASSERT_EQ(before + (long long)n, stat_of(self, "bytes_sent"));
	free(buf);
}

/*
 * Pages of consumed writes are kept for the next writes, up to two
 * 256 KiB buffers' worth, none of it beyond the port's file.  2 MiB in
 * 64 KiB writes, all at the host, then one byte, whose write reclaims
 * what the device gave back: at least one 64 KiB buffer (the first ones
 * went back before the host could see the last) and at most 512 KiB
 * must be cached, and the close must free it all.  A second 2 MiB, on
 * reused pages, must arrive intact.
 */
TEST_F(ext, tx_pages_reused_bounded_and_freed_at_close)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	const size_t chunk = 64 * 1024, n = 2 * 1024 * 1024;
	unsigned char *buf = malloc(n);
	struct vt_stream st;
	struct sha256 sha;
	long long cached;
	size_t off;
	int round;

	NEED_VIRTSER();
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, stat_of(self, "tx_cached"));	/* a fresh open */
	vt_stream_seed(&st, 4242);
	for (round = 0; round < 2; round++) {
		vt_stream_fill(&st, buf, n);
		sha256_init(&sha);
		sha256_update(&sha, buf, n);
		HOST("sink %u %zu", self->p.id, n);
		for (off = 0; off < n; off += chunk)
			ASSERT_EQ((ssize_t)chunk, write(self->fd, buf + off, chunk));
		HOST_GOT(&sha, n);
	}
	sha256_init(&sha);
	sha256_update(&sha, buf, 1);
	HOST("sink %u 1", self->p.id);
	ASSERT_EQ(1, write(self->fd, buf, 1));
	HOST_GOT(&sha, 1);
	cached = stat_of(self, "tx_cached");
	EXPECT_LE((long long)chunk, cached);
	EXPECT_GE(512LL * 1024, cached);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, stat_of(self, "tx_cached"));
	free(buf);
}

TEST_F(ext, readv_and_writev)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	unsigned char a[1000], b[3000], c[500];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct sha256 sha;
	int i;

	NEED_VIRTSER();
	ASSERT_EQ(0, host_send(self->p.id, 4200, 3));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", 4200, STATE_MS));
	ASSERT_EQ(4200, readv(self->fd, iov, 3));
	ASSERT_TRUE(pattern_ok(a, sizeof(a), 3));
	ASSERT_TRUE(pattern_ok(b, sizeof(b), (unsigned char)(3 + 1000)));
	ASSERT_TRUE(pattern_ok(c, 200, (unsigned char)(3 + 4000)));

	/* c's tail was not read into: make it known too. */
	memset(c + 200, 0xc3, sizeof(c) - 200);
	sha256_init(&sha);
	for (i = 0; i < 3; i++)
		sha256_update(&sha, iov[i].iov_base, iov[i].iov_len);
	HOST("sink %u %d", self->p.id, 4500);
	ASSERT_EQ(4500, writev(self->fd, iov, 3));
	HOST_GOT(&sha, 4500);
}

/*
 * RWF_NOWAIT (the flag io_uring uses for its inline attempt): in-tree
 * refuses it with EOPNOTSUPP; virtser serves it without blocking.
 */
TEST_F(ext, rwf_nowait_read_and_write)
{
	unsigned char buf[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct sha256 sha;

	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	errno = 0;
	ASSERT_EQ(-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, host_send(self->p.id, 200, 4));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", 200, STATE_MS));
	ASSERT_EQ(200, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_TRUE(pattern_ok(buf, 200, 4));
	memset(buf + 200, 0x4e, sizeof(buf) - 200);
	sha256_init(&sha);
	sha256_update(&sha, buf, sizeof(buf));
	HOST("sink %u %d", self->p.id, 256);
	ASSERT_EQ(256, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	HOST_GOT(&sha, 256);
}

/* In-tree has no splice_read: splice from a vport fails with EINVAL. */
TEST_F(ext, splice_both_ways)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	unsigned char buf[2048];
	struct sha256 sha;
	int pfd[2];

	NEED_VIRTSER();
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, host_send(self->p.id, 2000, 11));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", 2000, STATE_MS));
	ASSERT_EQ(2000, splice(self->fd, NULL, pfd[1], NULL, 65536, 0));
	ASSERT_EQ(2000, read(pfd[0], buf, sizeof(buf)));
	ASSERT_TRUE(pattern_ok(buf, 2000, 11));

	sha256_init(&sha);
	sha256_update(&sha, buf, 2000);
	HOST("sink %u %d", self->p.id, 2000);
	ASSERT_EQ(2000, write(pfd[1], buf, 2000));
	ASSERT_EQ(2000, splice(pfd[0], NULL, self->fd, NULL, 2000, 0));
	HOST_GOT(&sha, 2000);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(ext, sysfs_stats)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	long long rx = stat_of(self, "bytes_received");
	unsigned char buf[100];

	NEED_VIRTSER();
	ASSERT_LE(0, rx);
	ASSERT_EQ(1, stat_of(self, "guest_connected"));
	ASSERT_EQ(1, stat_of(self, "host_connected"));
	ASSERT_EQ(0, host_send(self->p.id, 100, 1));
	ASSERT_TRUE(stat_wait(self, "bytes_received", rx + 100, STATE_MS));
	ASSERT_EQ(100, read(self->fd, buf, sizeof(buf)));
	HOST("reset %u", self->p.id);
	ASSERT_EQ(0, vt_wait_host(self->fd, false, STATE_MS));
	ASSERT_EQ(0, stat_of(self, "host_connected"));
}

/* Default: unread data is dropped at close and counted. */
TEST_F(ext, unread_data_discarded_and_counted)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	long long before = stat_of(self, "bytes_discarded");

	NEED_VIRTSER();
	ASSERT_EQ(0, host_send(self->p.id, 300, 5));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", 300, STATE_MS));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(before + 300, stat_of(self, "bytes_discarded"));
	ASSERT_EQ(0, stat_of(self, "rx_bytes"));
}

/* keep_unread=1: unread data survives a close for the next open. */
TEST_F(ext, keep_unread_keeps_data_for_next_open)
{
	if (!is_virtser())
		SKIP(return, "driver under test is not virtser");
	unsigned char buf[1000];
	int pf;

	NEED_VIRTSER();
	pf = open(PARAM, O_WRONLY);
	ASSERT_LE(0, pf);
	self->param_set = true;
	ASSERT_EQ(1, write(pf, "1", 1));
	ASSERT_EQ(0, host_send(self->p.id, 600, 9));
	ASSERT_TRUE(stat_wait(self, "rx_bytes", 600, STATE_MS));
	close(self->fd);
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(600, read(self->fd, buf, sizeof(buf)));
	ASSERT_TRUE(pattern_ok(buf, 600, 9));
	ASSERT_EQ(1, pwrite(pf, "0", 1, 0));
	close(pf);
}

/* One of two readers sharing a port's fd. */
struct reader {
	pthread_t thread;
	int fd;
	unsigned long long *total;	/* shared, updated atomically */
	ssize_t last;			/* the call that ended the loop */
	int err;
	unsigned long long at;		/* total when it ended */
};

static void *reader_run(void *arg)
{
	struct reader *rd = arg;
	char buf[4096];

	for (;;) {
		rd->last = read(rd->fd, buf, sizeof(buf));
		if (rd->last <= 0)
			break;
		__atomic_add_fetch(rd->total, (unsigned long long)rd->last, __ATOMIC_SEQ_CST);
	}
	rd->err = errno;
	rd->at = __atomic_load_n(rd->total, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Two blocking readers on one connected port: neither may be told end of
 * file or get an error while data is still coming.  Whoever loses the race
 * for the data that woke both waits again (the in-tree driver returns 0,
 * end of file, to the loser).
 */
TEST_F_TIMEOUT(ext, two_readers_never_see_a_false_end, 120)
{
	const unsigned long long n = 8ull << 20;
	unsigned long long total = 0;
	struct reader rd[2];
	uint64_t t0;
	int i;

	NEED_VIRTSER();
	for (i = 0; i < 2; i++) {
		rd[i] = (struct reader){ .fd = self->fd, .total = &total };
		ASSERT_EQ(0, pthread_create(&rd[i].thread, NULL, reader_run, &rd[i]));
	}
	HOST("source %u %llu 11", self->p.id, n);
	t0 = vt_now_ms();
	while (__atomic_load_n(&total, __ATOMIC_SEQ_CST) < n && vt_now_ms() - t0 < 60000)
		usleep(10000);
	/* The host closes: now end of file is right, and ends both threads. */
	HOST("reset %u", self->p.id);
	for (i = 0; i < 2; i++) {
		pthread_join(rd[i].thread, NULL);
		TH_LOG("reader %d ended with %zd (%s) after %llu of %llu bytes", i, rd[i].last,
		       rd[i].last < 0 ? strerror(rd[i].err) : "end of file", rd[i].at, n);
		EXPECT_EQ(n, rd[i].at);
		EXPECT_EQ(0, rd[i].last);
	}
	EXPECT_EQ(n, total);
}

TEST_HARNESS_MAIN
