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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>

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
	p->id = id;
	snprintf(p->name, sizeof(p->name), "org.virtser.hot.%u", id);
	snprintf(p->link[0], sizeof(p->link[0]), "/dev/virtio-ports/%s", p->name);
	snprintf(p->link[1], sizeof(p->link[1]), "/dev/virtio-port/%s", p->name);
	return vt_plug(id, p->name, p->node, sizeof(p->node), STATE_MS);
}

static int unplug(struct plugged *p)
{
	return vt_unplug(p->id);
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
	/* Braced: the harness's handler and bail are statements of their own. */
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vt_wait_path(p.link[i], false, STATE_MS)) {
			TH_LOG("no udev link %s", p.link[i]);
		}
	}
	EXPECT_EQ(0, unplug(&p));
	EXPECT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
}

/* What every open fd of a removed port must show. */
static void check_gone(struct __test_metadata *_metadata, struct plugged *p, int fd,
		       sigset_t *set)
{
	char buf[8], why[160];
	int i;


	EXPECT_EQ(0, vt_sigio_expect(set, fd, STATE_MS, why, sizeof(why))) {
		TH_LOG("%s", why);
	}
	EXPECT_EQ(POLLHUP, vt_poll(fd, POLLIN | POLLOUT | POLLRDNORM, 1000));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ENODEV, errno);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, vt_wait_path(p->link[i], true, STATE_MS)) {
			TH_LOG("udev link %s still there", p->link[i]);
		}
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

/* The port's debugfs file, for a hot-plugged port too. */
static void debugfs_path(const struct plugged *p, char *path, size_t len)
{
	snprintf(path, len, "/sys/kernel/debug/virtio-ports/%s", p->node + strlen("/dev/"));
}

static void check_debugfs(struct __test_metadata *_metadata, const struct plugged *p,
			  int guest_connected)
{
	char path[PATH_MAX], buf[2048], want[128];

	debugfs_path(p, path, sizeof(path));
	ASSERT_EQ(0, vt_wait_path(path, false, STATE_MS)) {
		TH_LOG("no %s", path);
	}
	ASSERT_LT(0, vt_read_file(path, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "name: %s\nguest_connected: %d\nhost_connected: 0\n",
		 p->name, guest_connected);
	EXPECT_EQ(0, strncmp(buf, want, strlen(want))) {
		TH_LOG("%s says:\n%s", path, buf);
	}
	EXPECT_NE(NULL, strstr(buf, "\nis_console: no\n"));
}

/*
 * A hot-plugged port has its debugfs file while it exists, and the file
 * goes with the port, whether the port was open at unplug or not; the
 * same id plugged again gets a file of its own (a stale one would make
 * debugfs log "already present!", which fails the run's kernel log check).
 */
TEST(hotplug_debugfs_file_follows_the_port)
{
	char path[PATH_MAX];
	struct plugged p;
	int fd, round;

	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, plug(&p, 10));
		check_debugfs(_metadata, &p, 0);
		fd = open(p.node, O_RDWR);
		ASSERT_LE(0, fd);
		check_debugfs(_metadata, &p, 1);
		if (round == 1) {
			close(fd);
			fd = -1;
		}
		debugfs_path(&p, path, sizeof(path));
		ASSERT_EQ(0, unplug(&p));
		ASSERT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
		EXPECT_EQ(0, vt_wait_path(path, true, STATE_MS)) {
			TH_LOG("round %d: %s still there after unplug", round, path);
		}
		if (fd >= 0) {
			EXPECT_EQ(0, close(fd));
			EXPECT_EQ(0, vt_wait_path(path, true, 0));
		}
	}
}

/*
 * Once the host names a port, the driver sends a "change" uevent, so
 * that udev makes the name's links even when the port was named after its
 * "add" was processed.  Seen here twice: the kernel's own uevent for the
 * vport, and udevd's processed event, which carries the name in DEVLINKS.
 */
static bool uevent_has(const char *props, size_t len, const char *kv)
{
	size_t off = 0;

	while (off < len) {
		if (!strcmp(props + off, kv))
			return true;
		off += strlen(props + off) + 1;
	}
	return false;
}

static const char *uevent_get(const char *props, size_t len, const char *key)
{
	size_t off = 0, klen = strlen(key);

	while (off < len) {
		if (!strncmp(props + off, key, klen) && props[off + klen] == '=')
			return props + off + klen + 1;
		off += strlen(props + off) + 1;
	}
	return NULL;
}

TEST(hotplug_named_port_sends_change_uevent)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 | 2 };
	bool kernel_change = false, udev_change = false;
	static char msg[16384];
	char devname[64], link[160];
	struct plugged p;
	uint64_t end;
	int s;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	ASSERT_LE(0, s);
	/* group 1: the kernel's uevents; group 2: udevd's, after its rules */
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, plug(&p, 11));
	snprintf(devname, sizeof(devname), "DEVNAME=%s", p.node + strlen("/dev/"));
	snprintf(link, sizeof(link), "/dev/virtio-ports/%s", p.name);
	end = vt_now_ms() + STATE_MS;
	while ((!kernel_change || !udev_change) && vt_now_ms() < end) {
		const char *props = msg, *links;
		ssize_t n;
		size_t len;

		if (!(vt_poll(s, POLLIN, 200) & POLLIN))
			continue;
		n = recv(s, msg, sizeof(msg) - 1, 0);
		ASSERT_LT(0, n);
		msg[n] = 0;
		len = (size_t)n;
		if (!memcmp(msg, "libudev", 8)) {
			unsigned int off;

			/* monitor header: prefix, magic, header size, properties offset */
			memcpy(&off, msg + 16, sizeof(off));
			if (off >= len)
				continue;
			props = msg + off;
			len -= off;
		} else {
			len = (size_t)n;
		}
		if (!uevent_has(props, len, "ACTION=change") ||
		    !uevent_has(props, len, "SUBSYSTEM=virtio-ports"))
			continue;
		/* The kernel's DEVNAME is "vportNpM", udevd's "/dev/vportNpM". */
		if (!uevent_has(props, len, devname) &&
		    !(uevent_get(props, len, "DEVNAME") &&
		      !strcmp(uevent_get(props, len, "DEVNAME"), p.node)))
			continue;
		if (props == msg) {
			kernel_change = true;
		} else {
			links = uevent_get(props, len, "DEVLINKS");
			EXPECT_NE(NULL, links);
			if (links && strstr(links, link))
				udev_change = true;
			else
				TH_LOG("udev change event without %s: DEVLINKS=%s", link,
				       links ? links : "(none)");
		}
	}
	close(s);
	EXPECT_TRUE(kernel_change) {
		TH_LOG("no kernel change uevent for %s within %d ms", p.node, STATE_MS);
	}
	EXPECT_TRUE(udev_change) {
		TH_LOG("no udev change event for %s carrying %s", p.node, link);
	}
	EXPECT_EQ(0, unplug(&p));
	EXPECT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
}

TEST_HARNESS_MAIN
