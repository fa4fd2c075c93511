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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
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
	char reply[160];
	struct sha256 sha;
	long long filled;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	sha256_init(&sha);
	filled = vt_fill(self->fd, &sha);
	ASSERT_GT(filled, 0);
	/* Connected, nothing to read, no room to write: nothing is ready. */
	EXPECT_EQ(0, vt_poll(self->fd, ALL, 500));
	HOST("sink %u %lld", self->p.id, filled);
	EXPECT_EQ(POLLOUT, vt_poll(self->fd, POLLOUT, STATE_MS));
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "wait %u 60000", self->p.id));
}

/* ------------------------------------------------------------------ */
/* O_ASYNC                                                              */

TEST_F(port, sigio_on_host_connect)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("connect %u", self->p.id);
	EXPECT_EQ(0, vt_sigio_wait(&set, STATE_MS));
}

TEST_F(port, sigio_on_host_disconnect)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("disconnect %u", self->p.id);
	EXPECT_EQ(0, vt_sigio_wait(&set, STATE_MS));
}

TEST_F(port, sigio_on_data)
{
	sigset_t set;

	ASSERT_LE(0, port_open(_metadata, self, 0));
	CONNECT();
	ASSERT_EQ(0, vt_sigio_arm(self->fd, &set));
	HOST("send %u 21", self->p.id);
	EXPECT_EQ(0, vt_sigio_wait(&set, STATE_MS));
}

TEST_HARNESS_MAIN
