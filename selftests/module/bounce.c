// SPDX-License-Identifier: GPL-2.0
/*
 * bounce.c - virtser.ko's writes when every transfer goes through a bounce
 * buffer (swiotlb), as under SEV or TDX.  Runs in a boot of its own:
 * `make vmtest-bounce` (run.sh --bounce SLABS gives the device
 * iommu_platform=on and the guest swiotlb=SLABS,force).  In any other
 * boot, and on the in-tree driver (which has no zero-copy), the tests
 * skip.
 *
 * The pool is small on purpose: the receive buffers of the control queue,
 * the console and the port under test take part of it, and what is left
 * is less than the transmit data a port may have in flight (4 MiB), so a
 * host that stops reading runs the pool out before the port is full.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "stream.h"
#include "vt_console.h"
#include "vt_guest.h"
#include "vt_util.h"

#define ZC_PARAM	"/sys/module/virtser/parameters/tx_zerocopy"
#define SWIOTLB_DIR	"/sys/kernel/debug/swiotlb"
/* What virtser.ko lets a port have in flight (VS_TX_INFLIGHT_MAX). */
#define INFLIGHT_MAX	(4ll << 20)
#define ZC_WRITE	(1 << 20)
#define ZC_TOTAL	(8 << 20)
#define FILL_CHUNK	32768
/* Twice INFLIGHT_MAX: a fill that gets this far never stopped. */
#define FILL_MAX	(8ll << 20)
#define STATE_MS	10000
/* VIRTIO_F_ACCESS_PLATFORM: the guest maps buffers with the DMA API. */
#define F_ACCESS_PLATFORM 33
#define F_RING_PACKED	34

static bool is_virtser(void)
{
	struct stat st;

	return stat("/sys/module/virtser", &st) == 0;
}

/* The console device negotiated feature @bit. */
static bool device_has(unsigned int bit)
{
	char path[PATH_MAX], val[128];
	struct dirent *de;
	bool yes = false;
	DIR *d = opendir("/sys/bus/virtio/devices");

	if (!d)
		return false;
	while (!yes && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device",
			 de->d_name);
		if (vt_read_file(path, val, sizeof(val)) < 0 ||
		    strtoul(val, NULL, 0) != 3)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features",
			 de->d_name);
		/* One '0' or '1' per feature bit, bit 0 first. */
		yes = vt_read_file(path, val, sizeof(val)) >= 0 &&
		      strlen(val) > bit && val[bit] == '1';
	}
	closedir(d);
	return yes;
}

/* ACCESS_PLATFORM (iommu_platform=on): the guest maps buffers. */
static bool device_maps_buffers(void)
{
	return device_has(F_ACCESS_PLATFORM);
}

static bool cmdline_has(const char *word)
{
	char cmdline[4096];

	return vt_read_file("/proc/cmdline", cmdline, sizeof(cmdline)) >= 0 &&
	       strstr(cmdline, word);
}

static bool bounce_forced(void)
{
	return cmdline_has("swiotlb=") && cmdline_has(",force");
}

/* Slots of the bounce pool in use, of *total; -1 if debugfs lacks them. */
static long pool_used(long *total)
{
	char v[64];

	if (vt_read_file(SWIOTLB_DIR "/io_tlb_nslabs", v, sizeof(v)) < 0)
		return -1;
	*total = atol(v);
	if (vt_read_file(SWIOTLB_DIR "/io_tlb_used", v, sizeof(v)) < 0)
		return -1;
	return atol(v);
}

/* Why the tests cannot run in this boot, or NULL. */
static const char *cannot_run(void)
{
	if (!is_virtser())
		return "driver under test is not virtser";
	if (!bounce_forced() || !device_maps_buffers())
		return "no forced bounce buffering (run.sh --bounce)";
	return NULL;
}

static int zc_param(const char *v)
{
	return vt_write_file(ZC_PARAM, v) ? -1 : 0;
}

FIXTURE(bounce) {
	struct vt_port p;
	char node[PATH_MAX];
	char saved;	/* tx_zerocopy before the test: 'Y' or 'N' */
	int fd;
};

FIXTURE_SETUP(bounce)
{
	char v[8];

	self->fd = -1;
	self->saved = 0;
	/* The harness runs the test body after a SKIP here: it checks again. */
	if (cannot_run())
		SKIP(return, "%s", cannot_run());
	/* run.sh --packed says vt.packed=1: the rings must be packed then. */
	if (cmdline_has("vt.packed=1"))
		ASSERT_TRUE(device_has(F_RING_PACKED));
	ASSERT_EQ(0, vt_read_file(ZC_PARAM, v, sizeof(v)) < 0);
	self->saved = v[0];
	ASSERT_EQ(0, zc_param("1"));
	ASSERT_EQ(0, vt_first_port(&self->p));
	ASSERT_EQ(0, vt_port_node(self->p.id, self->node, sizeof(self->node)));
	ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", self->p.id));
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", self->p.id));
	ASSERT_EQ(0, vt_wait_host(self->fd, true, STATE_MS));
}

FIXTURE_TEARDOWN(bounce)
{
	if (self->fd >= 0) {
		close(self->fd);
		vt_host(NULL, 0, "reset %u", self->p.id);
	}
	if (self->saved)
		zc_param(self->saved == 'Y' || self->saved == '1' ? "1" : "0");
}

/*
 * Memory for zero-copy writes, 2 MiB aligned and asking for transparent
 * huge pages: physically contiguous pages merge into one descriptor, which
 * must still not be longer than swiotlb can map at once (256 KiB).
 */
static unsigned char *zc_buffer(size_t len)
{
	size_t align = 2 << 20;
	unsigned char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (unsigned char *)(((unsigned long)p + align - 1) & ~(align - 1));
	madvise(a, len, MADV_HUGEPAGE);	/* a hint: fine if unsupported */
	return a;
}

/* Write all of buf[0..len) with blocking write()s; 0 or the failing errno. */
static int write_all(int fd, const unsigned char *buf, size_t len, size_t *done)
{
	*done = 0;
	while (*done < len) {
		size_t n = len - *done > ZC_WRITE ? ZC_WRITE : len - *done;
		ssize_t w = write(fd, buf + *done, n);

		if (w <= 0)
			return w ? errno : EIO;
		*done += (size_t)w;
	}
	return 0;
}

/*
 * Non-blocking writes of @chunk bytes from @data until the device takes no
 * more (EAGAIN, and poll() gives no POLLOUT for 500 ms) or @max bytes went
 * in.  *filled counts what went in; returns 0 or the errno that ended it.
 */
static int fill_port(int fd, const unsigned char *data, long long max,
		     size_t chunk, long long *filled)
{
	int fl = fcntl(fd, F_GETFL), err = 0;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return errno;
	while (*filled < max) {
		ssize_t n = write(fd, data + *filled, chunk);

		if (n < 0 && errno == EAGAIN) {
			/* Stays full: the device takes nothing more. */
			if (!(vt_poll(fd, POLLOUT, 500) & POLLOUT))
				break;
			continue;
		}
		if (n <= 0) {
			err = n ? errno : EIO;
			break;
		}
		*filled += n;
	}
	if (fcntl(fd, F_SETFL, fl) && !err)
		err = errno;
	return err;
}

/*
 * 1 MiB zero-copy writes (8 MiB in all) to a host that reads: every byte
 * arrives, in order, whatever the bounce pool made of the segments.
 */
TEST_F_TIMEOUT(bounce, zero_copy_writes_arrive_intact, 300)
{
	if (cannot_run())
		SKIP(return, "%s", cannot_run());
	unsigned char *buf = zc_buffer(ZC_TOTAL);
	char mine[65], theirs[65], reply[256];
	unsigned long long got;
	struct vt_stream st;
	struct sha256 sha;
	size_t done;
	int err;

	ASSERT_NE(NULL, buf);
	vt_stream_seed(&st, 11);
	vt_stream_fill(&st, buf, ZC_TOTAL);
	sha256_init(&sha);
	sha256_update(&sha, buf, ZC_TOTAL);
	sha256_final_hex(&sha, mine);
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %d", self->p.id, ZC_TOTAL));
	err = write_all(self->fd, buf, ZC_TOTAL, &done);
	EXPECT_EQ(0, err) {
		TH_LOG("write() after %zu bytes: %s", done, strerror(err));
	}
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000", self->p.id)) {
		TH_LOG("host: %s", reply);
	}
	ASSERT_EQ(2, sscanf(reply, "%64s %llu", theirs, &got));
	EXPECT_EQ(ZC_TOTAL, got);
	EXPECT_STREQ(mine, theirs);
}

/*
 * The host stops reading and non-blocking copied writes run the bounce
 * pool out: they must end in EAGAIN (poll() then waits for room), not
 * ENOMEM.  Then a blocking 1 MiB zero-copy write, whose buffers cannot be
 * mapped now, must wait and go through the copy path instead of failing;
 * once the host reads, everything arrives intact.
 */
TEST_F_TIMEOUT(bounce, writes_wait_when_the_pool_is_exhausted, 300)
{
	if (cannot_run())
		SKIP(return, "%s", cannot_run());
	/* Fill data, then the zero-copy write's 1 MiB, back to back. */
	unsigned char *data = zc_buffer(FILL_MAX + ZC_WRITE), *zc;
	char mine[65], theirs[65], reply[256], attr[PATH_MAX], v[32];
	long res[2] = { -1, 0 };
	long long filled = 0;
	unsigned long long got;
	long used, slots = 0;
	int err, p[2], status;
	struct vt_stream st;
	struct sha256 sha;
	pid_t pid;

	ASSERT_NE(NULL, data);
	vt_stream_seed(&st, 12);
	vt_stream_fill(&st, data, FILL_MAX + ZC_WRITE);
	err = fill_port(self->fd, data, FILL_MAX, FILL_CHUNK, &filled);
	used = pool_used(&slots);
	TH_LOG("filled %lld bytes; bounce pool %ld of %ld slots used%s", filled,
	       used, slots, err ? ", then write() failed" : "");
	EXPECT_EQ(0, err) {
		TH_LOG("non-blocking write() with the pool exhausted: %s",
		       strerror(err));
	}
	/* Else the port's own limit stopped it, and the pool was never short. */
	ASSERT_GT(INFLIGHT_MAX, filled) {
		TH_LOG("the pool is too large for this test: use a smaller --bounce");
	}
	snprintf(attr, sizeof(attr), "/sys/class/virtio-ports/%s/virtser/tx_map_failed",
		 strrchr(self->node, '/') + 1);
	if (vt_read_file(attr, v, sizeof(v)) >= 0) {
		TH_LOG("tx_map_failed: %ld", atol(v));
		ASSERT_LT(0, atol(v));	/* the pool did run out */
	}

	zc = data + filled;
	sha256_init(&sha);
	sha256_update(&sha, data, (size_t)filled + ZC_WRITE);
	sha256_final_hex(&sha, mine);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t done;

		close(p[0]);
		res[1] = write_all(self->fd, zc, ZC_WRITE, &done);
		res[0] = (long)done;
		_exit(write(p[1], res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	/* Give the writer time to fail, if it is going to; then read. */
	if (vt_poll(p[0], POLLIN, 1000) & POLLIN)
		TH_LOG("the zero-copy write returned before the host read anything");
	EXPECT_EQ(0, vt_host(NULL, 0, "sink %u %lld", self->p.id,
			     filled + ZC_WRITE));
	if (vt_poll(p[0], POLLIN, 120000) & POLLIN) {
		EXPECT_EQ(sizeof(res), read(p[0], res, sizeof(res)));
	} else {
		kill(pid, SIGKILL);
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	EXPECT_EQ(0, res[1]) {
		TH_LOG("zero-copy write with the pool exhausted: %s after %ld bytes",
		       strerror((int)res[1]), res[0]);
	}
	EXPECT_EQ(ZC_WRITE, res[0]);
	if (res[0] == ZC_WRITE) {
		ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000",
				     self->p.id)) {
			TH_LOG("host: %s", reply);
		}
		ASSERT_EQ(2, sscanf(reply, "%64s %llu", theirs, &got));
		EXPECT_EQ(filled + ZC_WRITE, (long long)got);
		EXPECT_STREQ(mine, theirs);
	}
}

/*
 * Opens another generic port of the host half's, not @not1 or @not2, and
 * connects the host to it: 0 with *@fd, *@id and @node set, or -1.
 */
static int open_other_port(unsigned int not1, unsigned int not2, unsigned int *id,
			   char *node, size_t len, int *fd)
{
	struct vt_port ports[16];
	int n = vt_ports(ports, 16), i;

	for (i = 0; i < n; i++) {
		if (ports[i].console || ports[i].daemon ||
		    ports[i].id == not1 || ports[i].id == not2)
			continue;
		if (vt_port_node(ports[i].id, node, len))
			return -1;
		vt_host(NULL, 0, "reset %u", ports[i].id);
		*fd = open(node, O_RDWR | O_CLOEXEC);
		if (*fd < 0)
			return -1;
		*id = ports[i].id;
		if (vt_host(NULL, 0, "connect %u", *id) ||
		    vt_wait_host(*fd, true, STATE_MS)) {
			close(*fd);
			return -1;
		}
		return 0;
	}
	return -1;
}

/*
 * Copied writes of the stream @seed (into @data, FILL_MAX bytes) until
 * the bounce pool is exhausted, the host reading neither port: big writes
 * on @fd take the long runs of slots; after its first mapping failure a
 * port waits for a completion, so one-byte writes on @fd2 then take every
 * slot left.  Fails the test if a write fails or the pool never ran out.
 */
static void exhaust_pool(struct __test_metadata *_metadata, int fd, int fd2,
			 unsigned char *data, uint64_t seed, long long *filled,
			 long long *filled2)
{
	long used, slots = 0;
	struct vt_stream st;
	int err;

	vt_stream_seed(&st, seed);
	vt_stream_fill(&st, data, FILL_MAX);
	*filled = *filled2 = 0;
	ASSERT_EQ(0, zc_param("0"));	/* copied writes: one slot for a small one */
	err = fill_port(fd, data, FILL_MAX, FILL_CHUNK, filled);
	if (!err)
		err = fill_port(fd2, data, FILL_MAX, 1, filled2);
	used = pool_used(&slots);
	TH_LOG("filled %lld + %lld bytes; bounce pool %ld of %ld slots used", *filled,
	       *filled2, used, slots);
	ASSERT_EQ(0, err) {
		TH_LOG("non-blocking write() with the pool exhausted: %s", strerror(err));
	}
	/* Else the port's own limit stopped it, and the pool was never short. */
	ASSERT_GT(INFLIGHT_MAX, *filled) {
		TH_LOG("the pool is too large for this test: use a smaller --bounce");
	}
}

/*
 * Console output while another port holds the whole bounce pool: hvc's
 * chunk cannot be mapped, and the console has nothing in flight whose
 * completion would make room.  The chunk must wait (put_chars returns 0,
 * hvc retries) and reach the host once the pool has room again, not be
 * dropped.
 */
TEST_F_TIMEOUT(bounce, console_output_waits_for_the_pool, 300)
{
	if (cannot_run())
		SKIP(return, "%s", cannot_run());
	unsigned char *data = zc_buffer(FILL_MAX);
	char reply[8192], marker[64], node2[PATH_MAX];
	long long filled = 0, filled2 = 0;
	struct vt_port c;
	unsigned int id2;
	int hvc, fd2;

	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, vt_console_port(&c));
	/* A second generic port for the slots the first one's big writes left. */
	ASSERT_EQ(0, open_other_port(self->p.id, self->p.id, &id2, node2,
				     sizeof(node2), &fd2));
	vt_host(NULL, 0, "reset %u", c.id);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "connect %u", c.id));
	exhaust_pool(_metadata, self->fd, fd2, data, 13, &filled, &filled2);
	snprintf(marker, sizeof(marker), "vt-bounce-console-%d-ok\n", getpid());
	hvc = open("/dev/hvc0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, hvc);
	EXPECT_EQ((ssize_t)strlen(marker), write(hvc, marker, strlen(marker)));
	close(hvc);
	/* Let hvc try while the pool is full; then make room. */
	usleep(500000);
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %lld", self->p.id, filled));
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %lld", id2, filled2));
	marker[strlen(marker) - 1] = '\0';
	EXPECT_EQ(0, vt_host_expect(c.id, 30000, marker, reply, sizeof(reply))) {
		TH_LOG("console output written while the pool was full never "
		       "arrived; the host saw: %.200s", reply);
	}
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000", self->p.id)) {
		TH_LOG("host: %s", reply);
	}
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000", id2)) {
		TH_LOG("host: %s", reply);
	}
	close(fd2);
	vt_host(NULL, 0, "reset %u", id2);
	vt_host(NULL, 0, "reset %u", c.id);
}

#define RX_TOTAL	(2 << 20)	/* four rings' worth of 4 KiB buffers */
#define RX_SEED		14

/*
 * Reads into @sha until @want bytes in all (*got counts them) or nothing
 * comes for @idle_ms; 0, or the errno of a failed read.
 */
static int read_for(int fd, struct sha256 *sha, long long want, long long *got,
		    int idle_ms)
{
	static unsigned char buf[65536];

	while (*got < want) {
		ssize_t r;

		if (!(vt_poll(fd, POLLIN, idle_ms) & POLLIN))
			return 0;
		r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			return r ? errno : EIO;
		sha256_update(sha, buf, (size_t)r);
		*got += r;
	}
	return 0;
}

/*
 * Host-to-guest data while writes hold the whole bounce pool: the receive
 * buffers the reader empties cannot be mapped to go back to the device.
 * The port must keep them and post them once the pool has room.  Freeing
 * them, as virtser.ko did, shrank the ring for good: once a ring's worth
 * had been read with the pool full, nothing more ever arrived.
 */
TEST_F_TIMEOUT(bounce, receive_waits_for_the_pool, 300)
{
	if (cannot_run())
		SKIP(return, "%s", cannot_run());
	unsigned char *data = zc_buffer(FILL_MAX);
	char mine[65], theirs[65], reply[256], node2[PATH_MAX], node3[PATH_MAX];
	char attr[PATH_MAX], v[32];
	long long filled, filled2, got = 0;
	unsigned long long n;
	unsigned int id2, id3;
	struct sha256 sha;
	int fd2, fd3;

	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, open_other_port(self->p.id, self->p.id, &id2, node2,
				     sizeof(node2), &fd2));
	/* The port that receives, opened (its ring posted) before the fill. */
	ASSERT_EQ(0, open_other_port(self->p.id, id2, &id3, node3, sizeof(node3),
				     &fd3));
	/*
	 * The host fills the ring first: the buffers it used give their
	 * slots back when they are collected, and the fill takes those too.
	 */
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %d %d", id3, RX_TOTAL, RX_SEED));
	usleep(1000000);
	exhaust_pool(_metadata, self->fd, fd2, data, 15, &filled, &filled2);
	/* What the ring holds arrives; its buffers find no slot to go back. */
	sha256_init(&sha);
	EXPECT_EQ(0, read_for(fd3, &sha, RX_TOTAL, &got, 2000));
	TH_LOG("read %lld of %d bytes with the pool full", got, RX_TOTAL);
	snprintf(attr, sizeof(attr), "/sys/class/virtio-ports/%s/virtser/rx_map_failed",
		 strrchr(node3, '/') + 1);
	if (vt_read_file(attr, v, sizeof(v)) >= 0) {
		TH_LOG("rx_map_failed: %ld", atol(v));
		EXPECT_LT(0, atol(v));	/* the pool did run out for receive */
	}

	/* Room again: the rest must come. */
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %lld", self->p.id, filled));
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %lld", id2, filled2));
	EXPECT_EQ(0, read_for(fd3, &sha, RX_TOTAL, &got, 20000));
	EXPECT_EQ(RX_TOTAL, got) {
		TH_LOG("after the pool had room again only %lld of %d bytes "
		       "arrived: the ring lost the buffers it could not re-post",
		       got, RX_TOTAL);
	}
	if (got == RX_TOTAL) {
		sha256_final_hex(&sha, mine);
		ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 60000", id3)) {
			TH_LOG("host: %s", reply);
		}
		ASSERT_EQ(2, sscanf(reply, "%64s %llu", theirs, &n));
		EXPECT_EQ(RX_TOTAL, n);
		EXPECT_STREQ(mine, theirs);
	}
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000", self->p.id));
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 120000", id2));
	close(fd3);
	close(fd2);
	vt_host(NULL, 0, "reset %u", id3);
	vt_host(NULL, 0, "reset %u", id2);
}

TEST_HARNESS_MAIN
