// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_e2e.c - virtserd between QEMU and the user, with a real guest:
 * bytes guest -> QEMU -> virtserd -> unix endpoint and back, a consumer
 * far slower than the guest (nothing lost, the daemon's memory bounded),
 * and 100 clients attaching and detaching while data flows.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "vt_util.h"
#include "e2e.h"

FIXTURE(d) {
	struct vt_port p;
	int fd;
};

FIXTURE_SETUP(d)
{
	char node[PATH_MAX];

	ASSERT_EQ(0, vt_daemon_port(&self->p));
	ASSERT_EQ(0, vt_wait_port_ready(self->p.id, node, sizeof(node), 10000));
	self->fd = open(node, O_RDWR);
	ASSERT_LE(0, self->fd);
	/* virtserd holds QEMU's end of the chardev from the start. */
	ASSERT_EQ(0, vt_wait_host(self->fd, true, 10000));
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", self->p.id));
}

FIXTURE_TEARDOWN(d)
{
	close(self->fd);
	vt_host(NULL, 0, "reset %u", self->p.id);
}

TEST_F_TIMEOUT(d, guest_to_endpoint_32MiB, 600)
{
	const unsigned long long n = 32ull << 20;
	char mine[65], theirs[65];

	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %llu", self->p.id, n));
	ASSERT_EQ(0, e2e_write(self->fd, n, 11, mine));
	ASSERT_EQ(0, e2e_host_hash(self->p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
}

TEST_F_TIMEOUT(d, endpoint_to_guest_32MiB, 600)
{
	const unsigned long long n = 32ull << 20;
	char mine[65], theirs[65];

	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %llu 12", self->p.id, n));
	ASSERT_EQ(0, e2e_read(self->fd, n, mine));
	ASSERT_EQ(0, e2e_host_hash(self->p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
}

/*
 * The user reads 4 KiB every 2 ms while the guest writes 16 MiB as fast as
 * it can.  The daemon must push back (stop reading QEMU, which throttles
 * the guest) instead of buffering: everything arrives, and the daemon's
 * peak memory grows by far less than what went through it.
 */
TEST_F_TIMEOUT(d, slow_consumer_loses_nothing_memory_bounded, 600)
{
	const unsigned long long n = 16ull << 20;
	char mine[65], theirs[65], reply[128];
	long rss0, hwm0, rss1, hwm1;

	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "daemon_mem"));
	ASSERT_EQ(2, sscanf(reply, "%ld %ld", &rss0, &hwm0));
	ASSERT_EQ(0, vt_host(NULL, 0, "slow %u %llu 4096 2", self->p.id, n));
	ASSERT_EQ(0, e2e_write(self->fd, n, 13, mine));
	ASSERT_EQ(0, e2e_host_hash(self->p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "daemon_mem"));
	ASSERT_EQ(2, sscanf(reply, "%ld %ld", &rss1, &hwm1));
	TH_LOG("virtserd peak memory %ld KiB -> %ld KiB for %llu MiB through a slow reader",
	       hwm0, hwm1, n >> 20);
	/* A quarter of the data would mean it buffered instead of pushing back. */
	EXPECT_LT(hwm1 - hwm0, (long)(n >> 10) / 4);
}

TEST_F_TIMEOUT(d, hundred_clients_come_and_go_while_data_flows, 600)
{
	const unsigned long long n = 8ull << 20;
	char mine[65], theirs[65], reply[128];
	unsigned int done = 0, ok = 0, left = 1;

	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %llu", self->p.id, n));
	ASSERT_EQ(0, vt_host(NULL, 0, "churn %u 100", self->p.id));
	ASSERT_EQ(0, e2e_write(self->fd, n, 14, mine));
	ASSERT_EQ(0, e2e_host_hash(self->p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
	for (int i = 0; i < 600 && left; i++) {
		ASSERT_EQ(0, vt_host(reply, sizeof(reply), "churned %u", self->p.id));
		ASSERT_EQ(3, sscanf(reply, "%u %u %u", &done, &ok, &left));
		if (left)
			usleep(100000);
	}
	EXPECT_EQ(100, done);
	EXPECT_EQ(100, ok);
	/* And the port still works both ways afterwards. */
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u 65536 15", self->p.id));
	ASSERT_EQ(0, e2e_read(self->fd, 65536, mine));
	ASSERT_EQ(0, e2e_host_hash(self->p.id, 65536, theirs));
	EXPECT_STREQ(mine, theirs);
}

TEST_HARNESS_MAIN
