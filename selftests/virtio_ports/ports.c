// SPDX-License-Identifier: GPL-2.0
/*
 * ports.c - the file semantics of a virtio-serial port, as the in-tree
 * virtio_console driver defines them and applications rely on them:
 * discovery (nodes, sysfs, debugfs, udev links), open, read, write, poll,
 * O_ASYNC and lseek.  Each test drives the host end of the port through the
 * host half (vt_host()) and checks what the guest's system calls see.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "stream.h"
#include "vt_guest.h"
#include "vt_util.h"

#define HOST(...)	ASSERT_EQ(0, vt_host(NULL, 0, __VA_ARGS__))
#define STATE_MS	10000	/* how long a host state change may take */
#define BLOCK_MS	300	/* how long a call must stay blocked to count */

FIXTURE(port) {
	struct vt_port p;
	char node[PATH_MAX];
	int fd;
};

FIXTURE_SETUP(port)
{
	self->fd = -1;
	ASSERT_EQ(0, vt_first_port(&self->p));
	ASSERT_EQ(0, vt_port_node(self->p.id, self->node, sizeof(self->node)));
	/* Whatever the previous test did, the host end starts closed. */
	HOST("reset %u", self->p.id);
}

FIXTURE_TEARDOWN(port)
{
	if (self->fd >= 0)
		close(self->fd);
	vt_host(NULL, 0, "reset %u", self->p.id);
}

static int port_open(struct __test_metadata *_metadata, FIXTURE_DATA(port) *self,
		     int flags)
{
	self->fd = open(self->node, O_RDWR | O_CLOEXEC | flags);
	if (self->fd < 0)
		TH_LOG("open %s: %s", self->node, strerror(errno));
	return self->fd;
}

/* Connect the host end and wait until the guest has seen PORT_OPEN 1. */
#define CONNECT() do { \
	HOST("connect %u", self->p.id); \
	ASSERT_EQ(0, vt_wait_host(self->fd, true, STATE_MS)); \
} while (0)

#define DISCONNECT() do { \
	HOST("disconnect %u", self->p.id); \
	ASSERT_EQ(0, vt_wait_host(self->fd, false, STATE_MS)); \
} while (0)

/* ------------------------------------------------------------------ */
/* discovery                                                            */

/* vportNpM: N is the virtio bus index of the device, M the port id. */
static int node_of(unsigned int id, char *name, size_t len, unsigned int *vdev)
{
	char path[PATH_MAX];
	unsigned int port;

	if (vt_port_node(id, path, sizeof(path)))
		return -1;
	snprintf(name, len, "%s", path + strlen("/dev/"));
	return sscanf(name, "vport%up%u", vdev, &port) == 2 ? 0 : -1;
}

TEST(discovery_nodes)
{
	struct vt_port ports[32];
	int i, n = vt_ports(ports, 32);

	ASSERT_GT(n, 1);
	for (i = 0; i < n; i++) {
		char name[64], path[PATH_MAX], link[PATH_MAX], want[64];
		unsigned int vdev;
		struct stat st;
		ssize_t l;

		ASSERT_EQ(0, node_of(ports[i].id, name, sizeof(name), &vdev)) {
			TH_LOG("port %u has no vport node", ports[i].id);
		}
		snprintf(path, sizeof(path), "/dev/%s", name);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		/* The minor is the port id: the in-tree layout. */
		EXPECT_EQ(ports[i].id, minor(st.st_rdev));
		/* The class device's parent is the virtio device it is numbered after. */
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/device", name);
		l = readlink(path, link, sizeof(link) - 1);
		ASSERT_GT(l, 0);
		link[l] = 0;
		snprintf(want, sizeof(want), "virtio%u", vdev);
		EXPECT_STREQ(want, strrchr(link, '/') + 1);
	}
}

TEST(discovery_sysfs_name)
{
	struct vt_port ports[32];
	int i, n = vt_ports(ports, 32);

	ASSERT_GT(n, 1);
	for (i = 0; i < n; i++) {
		char name[64], path[PATH_MAX], val[256], want[160];
		unsigned int vdev;

		ASSERT_EQ(0, node_of(ports[i].id, name, sizeof(name), &vdev));
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", name);
		ASSERT_GT(vt_read_file(path, val, sizeof(val)), 0);
		snprintf(want, sizeof(want), "%s\n", ports[i].name);
		EXPECT_STREQ(want, val);
	}
}

/* The debugfs file is parsed by existing tools: keys, order and format matter. */
TEST(discovery_debugfs)
{
	static const char *const keys[] = {
		"name", "guest_connected", "host_connected", "outvq_full",
		"bytes_sent", "bytes_received", "bytes_discarded", "is_console",
		"console_vtermno",
	};
	struct vt_port ports[32];
	int i, n = vt_ports(ports, 32);

	ASSERT_GT(n, 1);
	for (i = 0; i < n; i++) {
		char name[64], path[PATH_MAX], buf[2048], *line, *save;
		unsigned int vdev, k = 0;

		ASSERT_EQ(0, node_of(ports[i].id, name, sizeof(name), &vdev));
		snprintf(path, sizeof(path), "/sys/kernel/debug/virtio-ports/%s", name);
		ASSERT_GT(vt_read_file(path, buf, sizeof(buf)), 0) {
			TH_LOG("cannot read %s", path);
		}
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save), k++) {
			char key[64], val[160];

			ASSERT_LT(k, 9);
			ASSERT_EQ(2, sscanf(line, "%63[^:]: %159s", key, val)) {
				TH_LOG("bad line '%s' in %s", line, path);
			}
			EXPECT_STREQ(keys[k], key);
			if (!strcmp(key, "name"))
				EXPECT_STREQ(ports[i].name, val);
			if (!strcmp(key, "is_console"))
				EXPECT_STREQ(ports[i].console ? "yes" : "no", val);
			if (!strcmp(key, "guest_connected") && !ports[i].console)
				EXPECT_STREQ("0", val);
		}
		EXPECT_EQ(9, k);
	}
}

#define DBG(key)	vt_debugfs_val(self->node, key)

/* Wait until a debugfs value is @want (the control queue is asynchronous). */
static bool debugfs_wait(const char *node, const char *key, long long want, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;

	while (vt_debugfs_val(node, key) != want) {
		if (vt_now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/* guest_connected follows open/close, host_connected the host's end. */
TEST_F(port, debugfs_connected_follow_both_ends)
{
	EXPECT_EQ(0, DBG("guest_connected"));
	EXPECT_TRUE(debugfs_wait(self->node, "host_connected", 0, STATE_MS));
	ASSERT_LE(0, port_open(_metadata, self, 0));
	EXPECT_EQ(1, DBG("guest_connected"));
	EXPECT_EQ(0, DBG("host_connected"));
	CONNECT();
	EXPECT_TRUE(debugfs_wait(self->node, "host_connected", 1, STATE_MS));
	DISCONNECT();
	EXPECT_TRUE(debugfs_wait(self->node, "host_connected", 0, STATE_MS));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, DBG("guest_connected"));
}

/*
 * bytes_sent, bytes_received and bytes_discarded move by exactly what a
 * transfer moved: counted once the host has it all, once the guest read
 * it all, and at close for what nobody read (in-tree counts that as
 * received as well).
 */
TEST_F(port, debugfs_byte_counts_are_exact)
{
	static char out[10000], in[3000], hex[2 * sizeof(in) + 1];
	long long sent, rcvd, disc;
	struct vt_stream st;
	struct sha256 sha;
	size_t got = 0;
	char why[256];

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	sent = DBG("bytes_sent");
	rcvd = DBG("bytes_received");
	disc = DBG("bytes_discarded");
	ASSERT_LE(0, sent);
	ASSERT_LE(0, rcvd);
	ASSERT_LE(0, disc);

	vt_stream_seed(&st, 10000);
	vt_stream_fill(&st, out, sizeof(out));
	sha256_init(&sha);
	sha256_update(&sha, out, sizeof(out));
	HOST("sink %u %zu", self->p.id, sizeof(out));
	ASSERT_EQ((ssize_t)sizeof(out), write(self->fd, out, sizeof(out)));
	ASSERT_EQ(0, vt_sink_check(self->p.id, &sha, sizeof(out), 60000, why, sizeof(why))) {
		TH_LOG("%s", why);
	}
	EXPECT_EQ(sent + (long long)sizeof(out), DBG("bytes_sent"));

	vt_stream_fill(&st, in, sizeof(in));
	vt_hex(hex, in, sizeof(in));
	HOST("send %u %s", self->p.id, hex);
	while (got < sizeof(in)) {
		static char buf[sizeof(in)];
		ssize_t r;

		ASSERT_TRUE(vt_poll(self->fd, POLLIN, STATE_MS) & POLLIN);
		r = read(self->fd, buf + got, sizeof(buf) - got);
		ASSERT_LT(0, r);
		got += (size_t)r;
		if (got == sizeof(in))
			EXPECT_EQ(0, memcmp(buf, in, sizeof(in)));
	}
	EXPECT_EQ(rcvd + (long long)sizeof(in), DBG("bytes_received"));
	EXPECT_EQ(disc, DBG("bytes_discarded"));

	HOST("send %u 0123456789", self->p.id);	/* 5 bytes nobody reads */
	ASSERT_TRUE(vt_poll(self->fd, POLLIN, STATE_MS) & POLLIN);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(disc + 5, DBG("bytes_discarded"));
	EXPECT_EQ(rcvd + (long long)sizeof(in) + 5, DBG("bytes_received"));
	EXPECT_EQ(sent + (long long)sizeof(out), DBG("bytes_sent"));
}

TEST(discovery_udev_links)
{
	static const char *const dirs[] = { "/dev/virtio-ports", "/dev/virtio-port" };
	struct vt_port ports[32];
	int i, d, n = vt_ports(ports, 32);

	ASSERT_GT(n, 1);
	for (i = 0; i < n; i++) {
		char name[64], want[80];
		unsigned int vdev;

		ASSERT_EQ(0, node_of(ports[i].id, name, sizeof(name), &vdev));
		snprintf(want, sizeof(want), "../%s", name);
		for (d = 0; d < 2; d++) {
			char path[PATH_MAX], link[PATH_MAX];
			ssize_t l;

			snprintf(path, sizeof(path), "%s/%s", dirs[d], ports[i].name);
			ASSERT_EQ(0, vt_wait_path(path, false, STATE_MS)) {
				TH_LOG("no udev link %s", path);
			}
			l = readlink(path, link, sizeof(link) - 1);
			ASSERT_GT(l, 0);
			link[l] = 0;
			EXPECT_STREQ(want, link);
		}
	}
}

/* ------------------------------------------------------------------ */
/* open                                                                 */

TEST_F(port, open_twice_is_ebusy)
{
	int fd2;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	fd2 = open(self->node, O_RDWR);
	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(EBUSY, errno);
	if (fd2 >= 0)
		close(fd2);
}

TEST_F(port, reopen_after_close)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_LE(0, port_open(_metadata, self, 0));
}

TEST(open_console_port_is_enxio)
{
	struct vt_port ports[32];
	char node[PATH_MAX];
	int i, fd, n = vt_ports(ports, 32);

	for (i = 0; i < n && !ports[i].console; i++)
		;
	ASSERT_LT(i, n);
	ASSERT_EQ(0, vt_port_node(ports[i].id, node, sizeof(node)));
	fd = open(node, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENXIO, errno);
	if (fd >= 0)
		close(fd);
}

TEST_F(port, lseek_is_espipe)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);
}

/* ------------------------------------------------------------------ */
/* read                                                                 */

/*
 * With no host, even a blocking read returns 0 at once: applications read
 * 0 as "the other side is not there" and must poll for POLLHUP to clear.
 */
TEST_F(port, read_without_host_returns_0)
{
	char buf[16];

	ASSERT_LE(0, port_open(_metadata, self, 0));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

TEST_F(port, read_blocks_until_data)
{
	struct vt_call c;
	char buf[64] = { 0 };

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	vt_call_start(&c, self->fd, false, buf, sizeof(buf));
	usleep(BLOCK_MS * 1000);
	EXPECT_EQ(0, c.done);
	HOST("send %u 70696e67", self->p.id);	/* "ping" */
	ASSERT_EQ(0, vt_call_join(&c, STATE_MS));
	ASSERT_EQ(4, c.ret);
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
}

TEST_F(port, read_nonblock_without_data_is_eagain)
{
	char buf[16];

	ASSERT_LE(0, port_open(_metadata, self, O_NONBLOCK));
	CONNECT();
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(port, blocked_read_returns_0_on_host_disconnect)
{
	struct vt_call c;
	char buf[16];

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	vt_call_start(&c, self->fd, false, buf, sizeof(buf));
	usleep(BLOCK_MS * 1000);
	EXPECT_EQ(0, c.done);
	HOST("disconnect %u", self->p.id);
	ASSERT_EQ(0, vt_call_join(&c, STATE_MS));
	EXPECT_EQ(0, c.ret);
}

/* Data that arrived before the host left is still delivered. */
TEST_F(port, buffered_data_survives_host_disconnect)
{
	char buf[16] = { 0 };

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	HOST("send %u 616263", self->p.id);	/* "abc" */
	ASSERT_TRUE(vt_poll(self->fd, POLLIN, STATE_MS) & POLLIN);
	DISCONNECT();
	ASSERT_EQ(3, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

/* ------------------------------------------------------------------ */
/* write                                                                */

TEST_F(port, write_zero_bytes_returns_0)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	EXPECT_EQ(0, write(self->fd, "", 0));
}

TEST_F(port, write_without_host_is_eagain_nonblocking)
{
	ASSERT_LE(0, port_open(_metadata, self, O_NONBLOCK));
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(port, write_blocks_until_host_connects)
{
	char reply[64];
	struct vt_call c;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	vt_call_start(&c, self->fd, true, "hello", 5);
	usleep(BLOCK_MS * 1000);
	EXPECT_EQ(0, c.done);
	HOST("connect %u", self->p.id);
	ASSERT_EQ(0, vt_call_join(&c, STATE_MS));
	ASSERT_EQ(5, c.ret);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "recv %u 5 %d", self->p.id, STATE_MS));
	EXPECT_STREQ("68656c6c6f", reply);	/* "hello" */
}

/*
 * With the host connected but not reading, writes fill the socket and the
 * vring: then a non-blocking write gets EAGAIN, a blocking one sleeps, poll
 * drops POLLOUT, and all of it comes back once the host drains.
 */
TEST_F_TIMEOUT(port, write_full_queue_blocks_then_drains, 120)
{
	char want[65], reply[160], got[65];
	static char more[4096];
	unsigned long long n;
	struct vt_call c;
	struct sha256 sha;
	long long filled;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	sha256_init(&sha);
	filled = vt_fill(self->fd, &sha);
	ASSERT_GT(filled, 0);
	TH_LOG("queue full after %lld bytes", filled);
	EXPECT_EQ(0, vt_poll(self->fd, POLLOUT, 0) & POLLOUT);

	fcntl(self->fd, F_SETFL, fcntl(self->fd, F_GETFL) | O_NONBLOCK);
	EXPECT_EQ(-1, write(self->fd, more, sizeof(more)));
	EXPECT_EQ(EAGAIN, errno);
	fcntl(self->fd, F_SETFL, fcntl(self->fd, F_GETFL) & ~O_NONBLOCK);

	memset(more, 'z', sizeof(more));
	vt_call_start(&c, self->fd, true, more, sizeof(more));
	usleep(BLOCK_MS * 1000);
	EXPECT_EQ(0, c.done);

	HOST("sink %u %lld", self->p.id, filled + (long long)sizeof(more));
	ASSERT_EQ(0, vt_call_join(&c, 60000));
	ASSERT_EQ((ssize_t)sizeof(more), c.ret);
	EXPECT_TRUE(vt_poll(self->fd, POLLOUT, STATE_MS) & POLLOUT);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 60000", self->p.id)) {
		TH_LOG("host: %s", reply);
	}
	/* The host hashed the fill followed by the blocked write, in order. */
	sha256_update(&sha, more, sizeof(more));
	sha256_final_hex(&sha, got);
	ASSERT_EQ(2, sscanf(reply, "%64s %llu", want, &n));
	EXPECT_EQ((unsigned long long)filled + sizeof(more), n);
	EXPECT_STREQ(got, want);
}

/* ------------------------------------------------------------------ */
/* poll                                                                 */

#define ALL	(POLLIN | POLLRDNORM | POLLOUT)

TEST_F(port, poll_host_disconnected)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLHUP, vt_poll(self->fd, ALL, 1000));
}

TEST_F(port, poll_host_connected_idle)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	EXPECT_EQ(POLLOUT, vt_poll(self->fd, ALL, 1000));
}

TEST_F(port, poll_data_queued)
{
	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	HOST("send %u 71", self->p.id);
	ASSERT_TRUE(vt_poll(self->fd, POLLIN, STATE_MS) & POLLIN);
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT, vt_poll(self->fd, ALL, 1000));
}

TEST_F_TIMEOUT(port, poll_queue_full, 120)
{
	struct sha256 sha;
	long long filled;
	char why[256];

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	sha256_init(&sha);
	filled = vt_fill(self->fd, &sha);
	ASSERT_GT(filled, 0);
	/* Connected, nothing to read, no room to write: nothing is ready. */
	EXPECT_EQ(0, vt_poll(self->fd, ALL, 500));
	HOST("sink %u %lld", self->p.id, filled);
	EXPECT_EQ(POLLOUT, vt_poll(self->fd, POLLOUT, STATE_MS));
	/* And what filled the queue reached the host, in order. */
	EXPECT_EQ(0, vt_sink_check(self->p.id, &sha, (unsigned long long)filled, 60000,
				   why, sizeof(why))) {
		TH_LOG("%s", why);
	}
}

/* outvq_full says whether the transmit queue is full, as writes see it. */
TEST_F_TIMEOUT(port, debugfs_outvq_full_follows_the_queue, 120)
{
	struct sha256 sha;
	long long filled;
	char why[256];

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	EXPECT_EQ(0, DBG("outvq_full"));
	sha256_init(&sha);
	filled = vt_fill(self->fd, &sha);
	ASSERT_GT(filled, 0);
	EXPECT_EQ(1, DBG("outvq_full"));
	HOST("sink %u %lld", self->p.id, filled);
	ASSERT_EQ(POLLOUT, vt_poll(self->fd, POLLOUT, STATE_MS));
	EXPECT_EQ(0, DBG("outvq_full"));
	EXPECT_EQ(0, vt_sink_check(self->p.id, &sha, (unsigned long long)filled, 60000,
				   why, sizeof(why))) {
		TH_LOG("%s", why);
	}
}

/*
 * A write whose buffer faults part way.  Pinned from the in-tree driver
 * (6.1 and 6.12 alike): it copies at most 32 KiB per call, all or nothing,
 * so a fault inside that first chunk fails the whole write with EFAULT and
 * sends nothing, and a fault beyond it is never reached (a short write).
 * Either way the host gets exactly the bytes the call reports written.
 */
static char *faulting_buf(size_t len, size_t fault_at, uint64_t seed)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vt_stream st;

	if (p == MAP_FAILED)
		return NULL;
	vt_stream_seed(&st, seed);
	vt_stream_fill(&st, p, len);
	if (mprotect(p + fault_at, len - fault_at, PROT_NONE)) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* Nothing more than @sent bytes reached the host (the host reads for 1 s). */
static int host_got_nothing_more(unsigned int id)
{
	char reply[64];

	if (vt_host(reply, sizeof(reply), "readable %u 1000", id))
		return -1;
	return atoi(reply);
}

/*
 * A write whose buffer faults at 4 KiB of 8 KiB.  In-tree copies its first
 * 32 KiB all or nothing, so it fails with EFAULT and sends nothing.
 * virtser.ko returns the bytes it copied before the fault and sends exactly
 * those (write(2)'s usual partial-write rule, and what a program that
 * retries from the returned count needs: nothing it wrote is lost or sent
 * twice).  Either way the host must get exactly what the call reports.
 */
TEST_F(port, write_faulting_in_first_chunk_sends_what_it_says)
{
	const size_t len = 8192, fault_at = 4096;
	char *p = faulting_buf(len, fault_at, 8192);
	struct stat st;
	bool ours = stat("/sys/module/virtser", &st) == 0;
	ssize_t r;

	ASSERT_NE(NULL, p);
	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	errno = 0;
	r = write(self->fd, p, len);
	TH_LOG("write of %zu bytes faulting at %zu returned %zd (%s)", len, fault_at, r,
	       r < 0 ? strerror(errno) : "no error");
	if (ours) {
		EXPECT_EQ((ssize_t)fault_at, r);
	} else {
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EFAULT, errno);
	}
	ASSERT_GE((ssize_t)fault_at, r);
	if (r > 0) {
		/* What it did send must be what the call reports. */
		char want[2 * 4096 + 1], reply[2 * 4096 + 64];

		vt_hex(want, p, (size_t)r);
		ASSERT_EQ(0, vt_host(reply, sizeof(reply), "recv %u %zd %d", self->p.id, r,
				     STATE_MS));
		EXPECT_STREQ(want, reply);
	}
	EXPECT_EQ(0, host_got_nothing_more(self->p.id));
	munmap(p, len);
}

TEST_F(port, write_faulting_later_is_short_and_sends_what_it_says)
{
	static const struct { size_t len, fault_at; } cases[] = {
		{ 64 << 10, 48 << 10 },		/* beyond in-tree's 32 KiB chunk */
		{ 256 << 10, 64 << 10 },	/* a write large enough for zero-copy */
	};
	unsigned int i;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = faulting_buf(cases[i].len, cases[i].fault_at, i + 1);
		struct sha256 sha;
		char why[256];
		ssize_t r;

		ASSERT_NE(NULL, p);
		r = write(self->fd, p, cases[i].len);
		ASSERT_LT(0, r) {
			TH_LOG("write of %zu bytes faulting at %zu: %s", cases[i].len,
			       cases[i].fault_at, strerror(errno));
		}
		ASSERT_GE((ssize_t)cases[i].fault_at, r);
		TH_LOG("write of %zu bytes faulting at %zu returned %zd",
		       cases[i].len, cases[i].fault_at, r);
		sha256_init(&sha);
		sha256_update(&sha, p, (size_t)r);
		HOST("sink %u %zd", self->p.id, r);
		EXPECT_EQ(0, vt_sink_check(self->p.id, &sha, (unsigned long long)r, 60000,
					   why, sizeof(why))) {
			TH_LOG("%s", why);
		}
		EXPECT_EQ(0, host_got_nothing_more(self->p.id));
		munmap(p, cases[i].len);
	}
}

/*
 * A read into a buffer that faults at its first byte fails with EFAULT
 * and consumes nothing (both drivers): the same bytes are read next.
 */
TEST_F(port, read_into_faulting_buffer_is_efault_and_keeps_the_data)
{
	char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[16];
	ssize_t r;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	HOST("send %u 68656c6c6f", self->p.id);	/* "hello" */
	ASSERT_TRUE(vt_poll(self->fd, POLLIN, STATE_MS) & POLLIN);
	errno = 0;
	r = read(self->fd, p, 4096);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EFAULT, errno);
	r = read(self->fd, buf, sizeof(buf));
	EXPECT_EQ(5, r);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	munmap(p, 4096);
}

/* ------------------------------------------------------------------ */
/* O_ASYNC                                                              */

/* One SIGIO, with the siginfo in-tree gives every event (vt_sigio_expect). */
#define SIGIO_EXPECT(set) do { \
	char why_[160]; \
	EXPECT_EQ(0, vt_sigio_expect((set), self->fd, STATE_MS, why_, sizeof(why_))) { \
		TH_LOG("%s", why_); \
	} \
} while (0)

TEST_F(port, sigio_on_host_connect)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("connect %u", self->p.id);
	SIGIO_EXPECT(&set);
}

TEST_F(port, sigio_on_host_disconnect)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("disconnect %u", self->p.id);
	SIGIO_EXPECT(&set);
}

TEST_F(port, sigio_on_data)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("send %u 21", self->p.id);
	SIGIO_EXPECT(&set);
}

TEST_HARNESS_MAIN
