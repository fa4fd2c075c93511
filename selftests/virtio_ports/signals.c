// SPDX-License-Identifier: GPL-2.0
/*
 * signals.c - a blocking write() to a port whose host is connected but not
 * reading returns once its data is queued, and a signal the program
 * handles interrupts a wait for room: EINTR if nothing was queued, else a
 * short count.  A daemon's SIGTERM handler, a timeout via alarm(3) and
 * `systemctl stop` depend on it.  (Zero-copy writes, an opt-in of
 * virtser.ko, wait for the device in a killable sleep instead: see
 * selftests/module/virtser_stress.c, fixture zc.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sha256.h"
#include "vt_guest.h"
#include "vt_util.h"

#define WRITE_BYTES	(1 << 20)
/* Far more than any driver lets a port have in flight to the host. */
#define MAX_BYTES	(256ll << 20)

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

FIXTURE(sig) {
	struct vt_port p;
	int fd;
};

FIXTURE_SETUP(sig)
{
	char node[PATH_MAX];

	self->fd = -1;
	ASSERT_EQ(0, vt_first_port(&self->p));
	vt_host(NULL, 0, "reset %u", self->p.id);
	ASSERT_EQ(0, vt_wait_port_ready(self->p.id, node, sizeof(node), 10000));
	self->fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", self->p.id));
	ASSERT_EQ(0, vt_wait_host(self->fd, true, 10000));
}

FIXTURE_TEARDOWN(sig)
{
	alarm(0);
	if (self->fd >= 0)
		close(self->fd);
	/* QEMU drops what the host never read and returns the buffers. */
	vt_host(NULL, 0, "reset %u", self->p.id);
}

/*
 * 1 MiB writes until one fails or the alarm went off; the host reads
 * nothing, so the port fills and a write must wait, and SIGALRM (handled,
 * without SA_RESTART) must end that wait.  A driver whose write sleeps
 * until the host consumed the data, unmoved by handled signals, never
 * returns: the harness's timeout fails the test.
 */
TEST_F_TIMEOUT(sig, blocking_write_interrupted_by_handled_signal, 90)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	long long total = 0;
	int calls = 0, err = 0;
	struct sha256 sha;
	char why[256];
	char *buf;
	ssize_t r;

	buf = malloc(WRITE_BYTES);
	ASSERT_NE(NULL, buf);
	memset(buf, 'w', WRITE_BYTES);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	sha256_init(&sha);
	alarmed = 0;
	alarm(3);
	while (total < MAX_BYTES) {
		r = write(self->fd, buf, WRITE_BYTES);
		calls++;
		if (r < 0) {
			err = errno;
			break;
		}
		sha256_update(&sha, buf, (size_t)r);
		total += r;
		if (alarmed)
			break;
	}
	alarm(0);
	TH_LOG("%d write() calls queued %lld bytes; the last %s", calls, total,
	       r < 0 ? strerror(err) : "returned a count");
	EXPECT_TRUE(alarmed);
	EXPECT_GT(MAX_BYTES, total);
	/* Nothing else may end the loop early. */
	if (r < 0)
		EXPECT_EQ(EINTR, err);
	/* The first write queues what fits at once, as in-tree does. */
	EXPECT_LT(0, total);
	/*
	 * Every byte a write() counted reaches the host.  Taking them all
	 * before the teardown closes the host end also keeps QEMU from being
	 * left mid-element: when the host end closes while a partly written
	 * buffer waits for socket room, QEMU (7.2 and 10.0) can flush the rest
	 * into the closed chardev after its close handler ran, throttle the
	 * port with no watch left to lift it, and every later connection to
	 * the port then gets nothing (Documentation/testing.rst).
	 */
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %lld", self->p.id, total));
	EXPECT_EQ(0, vt_sink_check(self->p.id, &sha, (unsigned long long)total, 60000,
				   why, sizeof(why))) {
		TH_LOG("%s", why);
	}
	free(buf);
}

TEST_HARNESS_MAIN
