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
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
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
	EXPECT_EQ(0, vt_port_works(&p, STATE_MS));
}

FIXTURE(unb) {
	struct vt_port a, b;
	struct drv d;
	int fd[2];
	int running;		/* stream threads not joined (a failed test) */
	bool unbound;
};

FIXTURE_SETUP(unb)
{
	self->fd[0] = self->fd[1] = -1;
	self->running = 0;
	self->unbound = false;
}

FIXTURE_TEARDOWN(unb)
{
	char path[PATH_MAX];

	/* Threads still in a call cannot be joined: end the program instead. */
	if (self->running)
		_exit(1);
	if (self->fd[0] >= 0)
		close(self->fd[0]);
	if (self->fd[1] >= 0)
		close(self->fd[1]);
	vt_host(NULL, 0, "reset %u", self->a.id);
	vt_host(NULL, 0, "reset %u", self->b.id);
	if (self->unbound) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/bind", self->d.driver);
		write_sysfs(path, self->d.vdev);
	}
}

/*
 * One side of the traffic unbind_device_under_traffic cuts: a thread that
 * writes, reads or polls its fd until a call fails, and records how.
 */
struct stream {
	pthread_t thread;
	int fd;
	int kind;		/* 'w', 'r' or 'p' */
	unsigned long long bytes;
	ssize_t last;		/* the call that ended the loop */
	int err;
	short hup;		/* the poller: revents that ended it */
	volatile int done;
};

static void *stream_run(void *arg)
{
	struct stream *st = arg;
	static char wbuf[65536];
	char rbuf[65536];
	struct pollfd pfd;

	for (;;) {
		if (st->kind == 'w') {
			st->last = write(st->fd, wbuf, sizeof(wbuf));
		} else if (st->kind == 'r') {
			st->last = read(st->fd, rbuf, sizeof(rbuf));
		} else {
			int ready;

			pfd = (struct pollfd){ .fd = st->fd, .events = POLLIN };
			ready = poll(&pfd, 1, 100);
			if (ready == 0)
				continue;
			if (ready < 0) {
				st->last = -1;
				break;
			}
			/* Hung up with nothing to read: the end this thread waits for. */
			if (!(pfd.revents & POLLIN)) {
				st->last = 0;
				st->hup = pfd.revents;
				break;
			}
			st->last = read(st->fd, rbuf, sizeof(rbuf));
		}
		if (st->last <= 0)
			break;
		st->bytes += (unsigned long long)st->last;
	}
	st->err = st->last < 0 ? errno : 0;
	st->done = 1;
	return NULL;
}

/* The first two generic ports the host half holds. */
static int two_ports(struct vt_port *a, struct vt_port *b)
{
	struct vt_port all[32];
	int i, n = vt_ports(all, 32), found = 0;

	for (i = 0; i < n && found < 2; i++) {
		if (all[i].console || all[i].daemon)
			continue;
		*(found++ ? b : a) = all[i];
	}
	return found == 2 ? 0 : -1;
}

/*
 * Unbind while one port streams out (the host sinks), another streams in
 * (the host sources) and a third thread polls and reads that port too:
 * every call in flight must end (no hang, no crash), the ports' fds then
 * fail with ENODEV, and after rebinding the ports work again.
 */
TEST_F_TIMEOUT(unb, unbind_device_under_traffic, 180)
{
	struct stream st[3] = { { .kind = 'w' }, { .kind = 'r' }, { .kind = 'p' } };
	char path[PATH_MAX], node[PATH_MAX];
	struct stat sb;
	bool ours = stat("/sys/module/virtser", &sb) == 0;
	uint64_t t0;
	int i;

	/*
	 * The in-tree driver oopsed here in a fresh-clone make check (6.1,
	 * Debian 6.1.192): a NULL dereference in fill_readbuf() from the
	 * poller's read(), the bug devdel.c pins (port_fops_read() uses
	 * port->inbuf with no lock while the other reader or the removal
	 * clears it).  It passed on earlier runs: a race, so a skip.
	 */
	if (!ours)
		SKIP(return, "in-tree bug: read() racing another read() or the removal oopses in fill_readbuf()");
	ASSERT_EQ(0, two_ports(&self->a, &self->b));
	ASSERT_EQ(0, find_driver(&self->d, &self->a));
	for (i = 0; i < 2; i++) {
		const struct vt_port *p = i ? &self->b : &self->a;

		ASSERT_EQ(0, vt_port_node(p->id, node, sizeof(node)));
		self->fd[i] = open(node, O_RDWR);
		ASSERT_LE(0, self->fd[i]);
		ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", p->id));
		ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p->id));
		ASSERT_EQ(0, vt_wait_host(self->fd[i], true, STATE_MS));
	}
	/* More than either stream can move before the unbind. */
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %llu", self->a.id, 1ull << 40));
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %llu 7", self->b.id, 1ull << 40));
	st[0].fd = self->fd[0];
	st[1].fd = st[2].fd = self->fd[1];
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&st[i].thread, NULL, stream_run, &st[i]));
	self->running = 3;
	/* Until both directions are moving data. */
	t0 = vt_now_ms();
	while ((!st[0].bytes || !(st[1].bytes + st[2].bytes)) && vt_now_ms() - t0 < STATE_MS)
		usleep(10000);
	ASSERT_NE(0, st[0].bytes);
	ASSERT_NE(0, st[1].bytes + st[2].bytes);

	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/unbind", self->d.driver);
	ASSERT_EQ(0, write_sysfs(path, self->d.vdev)) {
		TH_LOG("unbind %s from %s: %s", self->d.vdev, self->d.driver, strerror(errno));
	}
	self->unbound = true;
	t0 = vt_now_ms();
	while (!(st[0].done && st[1].done && st[2].done) && vt_now_ms() - t0 < STATE_MS)
		usleep(10000);
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(st[i].done) {
			TH_LOG("the %c thread still in its call %d ms after the unbind",
			       st[i].kind, STATE_MS);
		}
		if (!st[i].done)
			continue;
		pthread_join(st[i].thread, NULL);
		self->running--;
		TH_LOG("%c: %llu bytes, then %zd (%s)", st[i].kind, st[i].bytes, st[i].last,
		       st[i].last < 0 ? strerror(st[i].err) :
		       st[i].hup ? "poll: hung up" : "end of file");
		/*
		 * A port that is gone says so; a read may see end of file
		 * first.  A write the unbind cut returns 0 on the in-tree
		 * driver (its send found the device gone); virtser.ko says
		 * ENODEV, since 0 tells a writer's loop nothing.
		 */
		if (st[i].last < 0) {
			EXPECT_EQ(ENODEV, st[i].err);
		} else if (st[i].kind == 'w') {
			EXPECT_FALSE(ours);
		}
	}
	for (i = 0; i < 2; i++) {
		char c;

		EXPECT_EQ(-1, write(self->fd[i], "x", 1));
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(-1, read(self->fd[i], &c, 1));
		EXPECT_EQ(ENODEV, errno);
	}

	/*
	 * The host ends stop their jobs and close: what the source left in
	 * QEMU's socket goes with them, not to the rebound ports.
	 */
	ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", self->a.id));
	ASSERT_EQ(0, vt_host(NULL, 0, "reset %u", self->b.id));
	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/bind", self->d.driver);
	ASSERT_EQ(0, write_sysfs(path, self->d.vdev)) {
		TH_LOG("bind %s to %s: %s", self->d.vdev, self->d.driver, strerror(errno));
	}
	self->unbound = false;
	EXPECT_EQ(0, vt_port_works(&self->a, STATE_MS));
	EXPECT_EQ(0, vt_port_works(&self->b, STATE_MS));
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
	EXPECT_EQ(0, vt_port_works(&p, STATE_MS));
}

TEST_HARNESS_MAIN
