// SPDX-License-Identifier: GPL-2.0
/*
 * unload.c - taking the driver away while ports are open: unloading the
 * module (where it is one) and unbinding the device.  Neither may crash or
 * hang; open fds must then fail with ENODEV and close cleanly; and the
 * driver must come back with working ports.  Runs last: it tears down
 * every port.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vt_guest.h"
#include "vt_util.h"

#define STATE_MS 15000

struct drv {
	char vdev[32];		/* "virtioN": the device under test */
	char driver[64];	/* its driver's name on the virtio bus */
	char module[64];	/* the driver's module, "" when built in */
};

static int find_driver(struct drv *d, const struct vt_port *p)
{
	char node[PATH_MAX], path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	if (vt_port_node(p->id, node, sizeof(node)))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/device", node + 5);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	snprintf(d->vdev, sizeof(d->vdev), "%s", strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/driver", d->vdev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	snprintf(d->driver, sizeof(d->driver), "%s", strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/module", d->driver);
	n = readlink(path, link, sizeof(link) - 1);
	d->module[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(d->module, sizeof(d->module), "%s", strrchr(link, '/') + 1);
	}
	return 0;
}

static int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* After the driver is back: the port works end to end again. */
static int port_works(const struct vt_port *p)
{
	char node[PATH_MAX], buf[8];
	int fd, ok = -1;

	if (vt_wait_port_ready(p->id, node, sizeof(node), STATE_MS))
		return -1;
	fd = open(node, O_RDWR);
	if (fd < 0)
		return -1;
	vt_host(NULL, 0, "reset %u", p->id);
	if (!vt_host(NULL, 0, "connect %u", p->id) && !vt_wait_host(fd, true, STATE_MS) &&
	    !vt_host(NULL, 0, "send %u 6f6b", p->id) && read(fd, buf, sizeof(buf)) == 2 &&
	    !memcmp(buf, "ok", 2))
		ok = 0;
	close(fd);
	vt_host(NULL, 0, "reset %u", p->id);
	return ok;
}

TEST(unbind_device_with_port_open)
{
	char path[PATH_MAX], node[PATH_MAX], buf[8];
	struct vt_port p;
	struct drv d;
	int fd;

	ASSERT_EQ(0, vt_first_port(&p));
	ASSERT_EQ(0, find_driver(&d, &p));
	ASSERT_EQ(0, vt_port_node(p.id, node, sizeof(node)));
	fd = open(node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", p.id));
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
	ASSERT_EQ(0, vt_wait_host(fd, true, STATE_MS));

	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/unbind", d.driver);
	ASSERT_EQ(0, write_sysfs(path, d.vdev)) {
		TH_LOG("unbind %s from %s: %s", d.vdev, d.driver, strerror(errno));
	}
	EXPECT_EQ(POLLHUP, vt_poll(fd, POLLIN | POLLOUT | POLLRDNORM, 1000));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, vt_wait_path(node, true, STATE_MS));

	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/bind", d.driver);
	ASSERT_EQ(0, write_sysfs(path, d.vdev)) {
		TH_LOG("bind %s to %s: %s", d.vdev, d.driver, strerror(errno));
	}
	EXPECT_EQ(0, port_works(&p));
}

TEST(unload_module_with_port_open)
{
	char node[PATH_MAX], ko[PATH_MAX];
	struct vt_port p;
	struct drv d;
	int fd, r, kfd;

	ASSERT_EQ(0, vt_first_port(&p));
	ASSERT_EQ(0, find_driver(&d, &p));
	if (!d.module[0])
		SKIP(return, "%s is built into the kernel", d.driver);
	ASSERT_EQ(0, vt_port_node(p.id, node, sizeof(node)));
	fd = open(node, O_RDWR);
	ASSERT_LE(0, fd);

	/* Either the module refuses while a port is open, or it goes cleanly. */
	r = (int)syscall(SYS_delete_module, d.module, O_NONBLOCK);
	if (r) {
		EXPECT_TRUE(errno == EBUSY || errno == EAGAIN) {
			TH_LOG("delete_module with a port open: %s", strerror(errno));
		}
		EXPECT_EQ(0, close(fd));
		ASSERT_EQ(0, syscall(SYS_delete_module, d.module, O_NONBLOCK)) {
			TH_LOG("delete_module after close: %s", strerror(errno));
		}
	} else {
		char buf[4];

		EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(0, close(fd));
	}
	EXPECT_EQ(0, vt_wait_path(node, true, STATE_MS));

	snprintf(ko, sizeof(ko), "/lib/vt/%s.ko", d.module);
	kfd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(0, syscall(SYS_finit_module, kfd, "", 0)) {
		TH_LOG("reload %s: %s", ko, strerror(errno));
	}
	close(kfd);
	EXPECT_EQ(0, port_works(&p));
}

TEST_HARNESS_MAIN
