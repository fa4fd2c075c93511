// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug.c - ports added and removed at run time (QMP device_add and
 * device_del of a virtserialport), including removal under a process that
 * is blocked in read() and write() on the port.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "vt_guest.h"
#include "vt_util.h"

#define STATE_MS	10000
#define BLOCK_MS	300

struct plugged {
	unsigned int id;
	char name[64];
	char node[PATH_MAX];
	char link[2][PATH_MAX];	/* /dev/virtio-ports/NAME, /dev/virtio-port/NAME */
};

/* device_add a port and wait until the guest has set it up. */
static int plug(struct plugged *p, unsigned int id)
{
	char reply[1024];

	p->id = id;
	snprintf(p->name, sizeof(p->name), "org.virtser.hot.%u", id);
	snprintf(p->link[0], sizeof(p->link[0]), "/dev/virtio-ports/%s", p->name);
	snprintf(p->link[1], sizeof(p->link[1]), "/dev/virtio-port/%s", p->name);
	if (vt_host(reply, sizeof(reply), "hotplug_add %u %s", id, p->name)) {
		fprintf(stderr, "# hotplug_add: %s\n", reply);
		return -1;
	}
	return vt_wait_port_ready(id, p->node, sizeof(p->node), STATE_MS);
}

static int unplug(struct plugged *p)
{
	char reply[1024];

	if (vt_host(reply, sizeof(reply), "hotplug_del %u", p->id)) {
		fprintf(stderr, "# hotplug_del: %s\n", reply);
		return -1;
	}
	return 0;
}

/* No state: a fixture only so tests can have their own timeout. */
FIXTURE(hp) {
	int unused;
};
FIXTURE_SETUP(hp) {}
FIXTURE_TEARDOWN(hp) {}

TEST(hotplug_add_creates_node_sysfs_and_links)
{
	struct plugged p;
	char path[PATH_MAX], val[128], want[80];
	int i;

	ASSERT_EQ(0, plug(&p, 5));
	snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name",
		 p.node + strlen("/dev/"));
	ASSERT_EQ(0, vt_wait_path(path, false, STATE_MS));
	ASSERT_LT(0, vt_read_file(path, val, sizeof(val)));
	snprintf(want, sizeof(want), "%s\n", p.name);
	EXPECT_STREQ(want, val);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, vt_wait_path(p.link[i], false, STATE_MS)) {
			TH_LOG("no udev link %s", p.link[i]);
		}
	EXPECT_EQ(0, unplug(&p));
	EXPECT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
}

/* What every open fd of a removed port must show. */
static void check_gone(struct __test_metadata *_metadata, struct plugged *p, int fd,
		       sigset_t *set)
{
	char buf[8];
	int i;

	EXPECT_EQ(0, vt_sigio_wait(set, STATE_MS));
	EXPECT_EQ(POLLHUP, vt_poll(fd, POLLIN | POLLOUT | POLLRDNORM, 1000));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ENODEV, errno);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, vt_wait_path(p->link[i], true, STATE_MS)) {
			TH_LOG("udev link %s still there", p->link[i]);
		}
	EXPECT_EQ(0, vt_wait_path(p->node, true, STATE_MS));
	EXPECT_EQ(0, close(fd));
}

/*
 * The port disappears under a reader blocked for data: read returns
 * ENODEV, poll says POLLHUP alone, SIGIO is sent, the links go, and the fd
 * still closes cleanly.
 */
TEST(hotplug_del_under_blocked_reader)
{
	struct plugged p;
	struct vt_call rd;
	char buf[64];
	sigset_t set;
	int fd;

	ASSERT_EQ(0, plug(&p, 6));
	fd = open(p.node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
	ASSERT_EQ(0, vt_wait_host(fd, true, STATE_MS));
	ASSERT_EQ(0, vt_sigio_arm(fd, &set));
	vt_call_start(&rd, fd, false, buf, sizeof(buf));
	usleep(BLOCK_MS * 1000);
	ASSERT_EQ(0, rd.done);

	ASSERT_EQ(0, unplug(&p));
	ASSERT_EQ(0, vt_call_join(&rd, STATE_MS)) {
		TH_LOG("blocked read did not return after unplug");
	}
	EXPECT_EQ(-1, rd.ret);
	EXPECT_EQ(ENODEV, rd.err);
	check_gone(_metadata, &p, fd, &set);
}

/* The same for a writer blocked because no host is connected. */
TEST(hotplug_del_under_blocked_writer)
{
	struct plugged p;
	struct vt_call wr;
	sigset_t set;
	int fd;

	ASSERT_EQ(0, plug(&p, 8));
	fd = open(p.node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_sigio_arm(fd, &set));
	vt_call_start(&wr, fd, true, "lost", 4);
	usleep(BLOCK_MS * 1000);
	ASSERT_EQ(0, wr.done);

	ASSERT_EQ(0, unplug(&p));
	ASSERT_EQ(0, vt_call_join(&wr, STATE_MS)) {
		TH_LOG("blocked write did not return after unplug");
	}
	EXPECT_EQ(-1, wr.ret);
	EXPECT_EQ(ENODEV, wr.err);
	check_gone(_metadata, &p, fd, &set);
}

/*
 * A writer blocked on a full queue, host connected but not reading.  On
 * device_del QEMU first hands the discarded transmit buffers back and only
 * then sends PORT_REMOVE, so the in-tree driver may let the blocked write
 * through into a queue that is about to vanish: the write must return
 * (ENODEV, or success in that window), never hang, and the port then
 * behaves as removed.
 */
TEST_F_TIMEOUT(hp, hotplug_del_under_writer_on_full_queue, 120)
{
	static char more[4096];
	struct vt_call wr;
	struct plugged p;
	struct sha256 sha;
	sigset_t set;
	int fd;

	ASSERT_EQ(0, plug(&p, 9));
	fd = open(p.node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
	ASSERT_EQ(0, vt_wait_host(fd, true, STATE_MS));
	sha256_init(&sha);
	ASSERT_LT(0, vt_fill(fd, &sha));
	ASSERT_EQ(0, vt_sigio_arm(fd, &set));
	vt_call_start(&wr, fd, true, more, sizeof(more));
	usleep(BLOCK_MS * 1000);
	ASSERT_EQ(0, wr.done);

	ASSERT_EQ(0, unplug(&p));
	ASSERT_EQ(0, vt_call_join(&wr, STATE_MS)) {
		TH_LOG("blocked write did not return after unplug");
	}
	if (wr.ret < 0) {
		EXPECT_EQ(ENODEV, wr.err);
	} else {
		EXPECT_EQ((ssize_t)sizeof(more), wr.ret);
	}
	check_gone(_metadata, &p, fd, &set);
}

/* The same id comes back after removal and works like new. */
TEST(hotplug_readd_same_id_works)
{
	char buf[16] = { 0 };
	struct plugged p;
	int fd, round;

	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, plug(&p, 7));
		fd = open(p.node, O_RDWR);
		ASSERT_LE(0, fd) {
			TH_LOG("round %d: open %s: %s", round, p.node, strerror(errno));
		}
		ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
		ASSERT_EQ(0, vt_wait_host(fd, true, STATE_MS));
		ASSERT_EQ(0, vt_host(NULL, 0, "send %u 616761696e", p.id));	/* "again" */
		ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, "again", 5));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, unplug(&p));
		ASSERT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
	}
}

TEST_HARNESS_MAIN
