// SPDX-License-Identifier: GPL-2.0
/*
 * ufault.c - a read() or write() whose user buffer faults and stays
 * faulted, as a buffer on FUSE or NFS or one registered with userfaultfd
 * does, must not hold up the device's control processing: while the call
 * is stuck in the fault, the host removes that port and another one and
 * plugs a third, and the guest must see all of it and move data on the new
 * port.  Only then is the fault resolved; the stuck call must return with
 * the bytes the port had given it (or ENODEV), none lost.
 *
 * The buffer is one anonymous page registered with userfaultfd in missing
 * mode; the test is its fault handler and resolves the fault (UFFDIO_COPY)
 * only at the end, or when the program exits (closing the userfaultfd
 * wakes the faulting thread, whose copy then fails).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "vt_guest.h"
#include "vt_util.h"

#define STATE_MS	15000
#define MSG_LEN		64

struct plugged {
	unsigned int id;
	char name[64];
	char node[PATH_MAX];
};

/* device_add a port and wait until the guest has set it up. */
static int plug(struct plugged *p, unsigned int id)
{
	p->id = id;
	snprintf(p->name, sizeof(p->name), "org.virtser.ufault.%u", id);
	return vt_plug(id, p->name, p->node, sizeof(p->node), STATE_MS);
}

static int unplug(struct plugged *p)
{
	return vt_unplug(p->id);
}

static bool is_virtser(void)
{
	struct stat sb;

	return stat("/sys/module/virtser", &sb) == 0;
}

/* The fd of a port that is open with its host end connected, or -1. */
static int open_connected(struct plugged *p)
{
	int fd = open(p->node, O_RDWR);

	if (fd < 0)
		return -1;
	if (vt_host(NULL, 0, "connect %u", p->id) ||
	    vt_wait_host(fd, true, STATE_MS)) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE(uf) {
	struct vt_upage u;
	struct plugged p[3];	/* stuck, another one removed, the one added */
	bool plugged[3];
	struct vt_call call;
	bool started;
	char *src;		/* what resolves the fault */
};

FIXTURE_SETUP(uf)
{
	int err;

	memset(self->plugged, 0, sizeof(self->plugged));
	self->started = false;
	self->u.uffd = -1;
	self->u.page = MAP_FAILED;
	err = vt_upage_init(&self->u);
	if (err)
		SKIP(return, "userfaultfd: %s", strerror(-err));
	self->src = calloc(1, self->u.size);
	ASSERT_NE(NULL, self->src);
}

FIXTURE_TEARDOWN(uf)
{
	int i;

	/* Never leave the call stuck: resolve the fault, then join it. */
	if (self->started) {
		vt_upage_resolve(&self->u, self->src);
		if (vt_call_join(&self->call, STATE_MS))
			_exit(1);	/* exiting closes the userfaultfd */
	}
	for (i = 0; i < 3; i++)
		if (self->plugged[i])
			unplug(&self->p[i]);
	vt_upage_fini(&self->u);
	free(self->src);
}

/*
 * With the call stuck in the fault: the stuck port and another one are
 * removed and a third is plugged; the guest must see the removals and the
 * addition within STATE_MS each and move data on the new port.  The call
 * must still be stuck then (the test really held it).
 */
static void control_goes_on(struct __test_metadata *_metadata, FIXTURE_DATA(uf) *self,
			    const char *what)
{
	char buf[16] = { 0 };
	int fd;

	ASSERT_EQ(0, unplug(&self->p[0]));
	self->plugged[0] = false;
	ASSERT_EQ(0, unplug(&self->p[1]));
	self->plugged[1] = false;
	ASSERT_EQ(0, vt_wait_path(self->p[1].node, true, STATE_MS)) {
		TH_LOG("port %u's removal was not processed within %d ms while a %s of port %u was stuck in a fault",
		       self->p[1].id, STATE_MS, what, self->p[0].id);
	}
	ASSERT_EQ(0, vt_wait_path(self->p[0].node, true, STATE_MS)) {
		TH_LOG("port %u (the stuck %s's) was not removed within %d ms",
		       self->p[0].id, what, STATE_MS);
	}
	ASSERT_EQ(0, plug(&self->p[2], self->p[0].id + 2)) {
		TH_LOG("port %u's addition was not processed while a %s was stuck",
		       self->p[0].id + 2, what);
	}
	self->plugged[2] = true;
	fd = open_connected(&self->p[2]);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, vt_host(NULL, 0, "send %u 616c697665", self->p[2].id));	/* "alive" */
	EXPECT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "alive", 5));
	EXPECT_EQ(1, write(fd, "k", 1));
	EXPECT_EQ(0, vt_host(NULL, 0, "expect %u %d 6b", self->p[2].id, STATE_MS));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, self->call.done) {
		TH_LOG("the %s returned before its fault was resolved", what);
	}
}

/*
 * The reader holds the data the port gave it: after the fault is
 * resolved the read returns the half of the message it asked for, in
 * order.  The other half was still the port's when it went.
 */
TEST_F_TIMEOUT(uf, ufault_reader_does_not_hold_up_unplug, 180)
{
	char msg[MSG_LEN], hex[2 * MSG_LEN + 1], buf[8];
	int fd, i;

	for (i = 0; i < MSG_LEN; i++)
		msg[i] = (char)('A' + i % 26);
	vt_hex(hex, msg, MSG_LEN);
	ASSERT_EQ(0, plug(&self->p[0], 12));
	self->plugged[0] = true;
	ASSERT_EQ(0, plug(&self->p[1], 13));
	self->plugged[1] = true;
	fd = open_connected(&self->p[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "send %u %s", self->p[0].id, hex));
	ASSERT_EQ(POLLIN, vt_poll(fd, POLLIN, STATE_MS) & POLLIN);

	vt_call_start(&self->call, fd, false, self->u.page, MSG_LEN / 2);
	self->started = true;
	ASSERT_EQ(0, vt_upage_wait_fault(&self->u, STATE_MS)) {
		TH_LOG("the read did not fault on its buffer");
	}
	control_goes_on(_metadata, self, "reader");

	ASSERT_EQ(0, vt_upage_resolve(&self->u, self->src));
	ASSERT_EQ(0, vt_call_join(&self->call, STATE_MS)) {
		TH_LOG("the read did not return once its fault was resolved");
	}
	self->started = false;
	if (!is_virtser() && self->call.ret < 0) {
		EXPECT_EQ(ENODEV, self->call.err);
	} else {
		/* The bytes were the reader's before the port went. */
		EXPECT_EQ(MSG_LEN / 2, self->call.ret) {
			TH_LOG("read returned %zd (%s)", self->call.ret,
			       strerror(self->call.err));
		}
		EXPECT_EQ(0, memcmp(self->u.page, msg, MSG_LEN / 2));
	}
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, close(fd));
}

/*
 * A writer copies from user memory before it takes any lock; this pins
 * that.  Its write returns all MSG_LEN bytes or ENODEV.
 */
TEST_F_TIMEOUT(uf, ufault_writer_does_not_hold_up_unplug, 180)
{
	int fd;

	memset(self->src, 'w', self->u.size);
	ASSERT_EQ(0, plug(&self->p[0], 15));
	self->plugged[0] = true;
	ASSERT_EQ(0, plug(&self->p[1], 16));
	self->plugged[1] = true;
	fd = open_connected(&self->p[0]);
	ASSERT_LE(0, fd);

	vt_call_start(&self->call, fd, true, self->u.page, MSG_LEN);
	self->started = true;
	ASSERT_EQ(0, vt_upage_wait_fault(&self->u, STATE_MS)) {
		TH_LOG("the write did not fault on its buffer");
	}
	control_goes_on(_metadata, self, "writer");

	ASSERT_EQ(0, vt_upage_resolve(&self->u, self->src));
	ASSERT_EQ(0, vt_call_join(&self->call, STATE_MS)) {
		TH_LOG("the write did not return once its fault was resolved");
	}
	self->started = false;
	if (self->call.ret < 0) {
		EXPECT_EQ(ENODEV, self->call.err);
	} else {
		EXPECT_EQ(MSG_LEN, self->call.ret);
	}
	EXPECT_EQ(0, close(fd));
}

/*
 * A copy that fails part way (a userfaultfd page in SIGBUS mode faults at
 * once and for good) returns what it copied, and the rest of the message
 * stays queued, in order, for the next read; a read that copies nothing
 * fails with EFAULT and loses nothing either.  The in-tree driver fails
 * the partial read with EFAULT too and consumes nothing of it (its
 * fill_readbuf() gives up on any short copy_to_user()): also nothing lost.
 */
TEST(ufault_short_copy_keeps_the_rest)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS };
	struct uffdio_register reg = { 0 };
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	char msg[MSG_LEN], hex[2 * MSG_LEN + 1], rest[MSG_LEN];
	struct plugged p;
	int uffd, fd, i, skip;
	char *map;
	ssize_t r;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		SKIP(return, "UFFD_FEATURE_SIGBUS: %s", strerror(errno));
	}
	/* A normal page, then one that faults: the copy stops at the border. */
	map = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 0, psz);
	reg.range.start = (uintptr_t)map + psz;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	for (i = 0; i < MSG_LEN; i++)
		msg[i] = (char)('a' + i % 26);
	vt_hex(hex, msg, MSG_LEN);
	ASSERT_EQ(0, plug(&p, 18));
	fd = open_connected(&p);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "send %u %s", p.id, hex));
	ASSERT_EQ(POLLIN, vt_poll(fd, POLLIN, STATE_MS) & POLLIN);

	EXPECT_EQ(-1, read(fd, map + psz, MSG_LEN));
	EXPECT_EQ(EFAULT, errno);
	r = read(fd, map + psz - 16, MSG_LEN);
	if (r < 0 && errno == EFAULT && !is_virtser()) {
		skip = 0;
	} else {
		EXPECT_EQ(16, r) {
			TH_LOG("partial read returned %zd (%s)", r, strerror(errno));
		}
		EXPECT_EQ(0, memcmp(map + psz - 16, msg, 16));
		skip = 16;
	}
	EXPECT_EQ(POLLIN, vt_poll(fd, POLLIN, 0) & POLLIN);
	EXPECT_EQ(MSG_LEN - skip, read(fd, rest, sizeof(rest)));
	EXPECT_EQ(0, memcmp(rest, msg + skip, MSG_LEN - skip));

	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, unplug(&p));
	EXPECT_EQ(0, vt_wait_path(p.node, true, STATE_MS));
	munmap(map, 2 * psz);
	close(uffd);
}

TEST_HARNESS_MAIN
