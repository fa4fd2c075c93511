// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_restart.c - second boot, after the host SIGKILLed QEMU while data
 * flowed through virtserd: the daemon kept running and reconnected to the
 * new QEMU on its own, so the port works end to end again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>

#include "kselftest_harness.h"
#include "vt_util.h"
#include "e2e.h"

TEST(virtserd_reconnected_after_qemu_restart)
{
	const unsigned long long n = 4ull << 20;
	char node[PATH_MAX], mine[65], theirs[65];
	struct vt_port p;
	int fd;

	ASSERT_EQ(0, vt_daemon_port(&p));
	ASSERT_EQ(0, vt_wait_port_ready(p.id, node, sizeof(node), 10000));
	fd = open(node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_wait_host(fd, true, 30000)) {
		TH_LOG("virtserd did not reconnect to the new QEMU");
	}
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
	ASSERT_EQ(0, vt_host(NULL, 0, "sink %u %llu", p.id, n));
	ASSERT_EQ(0, e2e_write(fd, n, 21, mine));
	ASSERT_EQ(0, e2e_host_hash(p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %llu 22", p.id, n));
	ASSERT_EQ(0, e2e_read(fd, n, mine));
	ASSERT_EQ(0, e2e_host_hash(p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
	close(fd);
}

TEST_HARNESS_MAIN
