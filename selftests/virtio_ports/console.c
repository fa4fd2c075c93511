// SPDX-License-Identifier: GPL-2.0
/*
 * console.c - port 0 as a virtconsole is the guest's /dev/hvcN: a getty on
 * it gives the host a login prompt, and commands typed there run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vt_console.h"
#include "vt_guest.h"
#include "vt_util.h"

/* The hvc index the console port got, from its debugfs vtermno and sysfs. */
TEST(console_port_is_hvc)
{
	char node[PATH_MAX], path[PATH_MAX], buf[2048], *v;
	struct vt_port c;
	struct stat st;

	ASSERT_EQ(0, vt_console_port(&c));
	ASSERT_EQ(0, vt_port_node(c.id, node, sizeof(node)));
	snprintf(path, sizeof(path), "/sys/kernel/debug/virtio-ports/%s",
		 node + strlen("/dev/"));
	ASSERT_LT(0, vt_read_file(path, buf, sizeof(buf)));
	v = strstr(buf, "is_console: ");
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, strncmp(v + strlen("is_console: "), "yes", 3));
	v = strstr(buf, "console_vtermno: ");
	ASSERT_NE(NULL, v);
	EXPECT_NE(0, atoi(v + strlen("console_vtermno: ")));
	ASSERT_EQ(0, stat("/dev/hvc0", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, stat("/sys/class/tty/hvc0", &st));
}

/* No state: a fixture only so the login test can have its own timeout. */
FIXTURE(con) {
	int unused;
};
FIXTURE_SETUP(con) {}
FIXTURE_TEARDOWN(con) {}

TEST_F_TIMEOUT(con, console_getty_login, 90)
{
	char reply[65536];
	struct vt_port c;
	pid_t pid = -1;

	ASSERT_EQ(0, vt_console_port(&c));
	vt_host(NULL, 0, "reset %u", c.id);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "connect %u", c.id));
	EXPECT_EQ(0, vt_getty_login(c.id, &pid, reply, sizeof(reply))) {
		TH_LOG("%s", reply);
	}
	/* The echo of the command line shows $((6*7)); only running it gives 42. */
	EXPECT_EQ(0, vt_host_send(c.id, "echo vt-$((6*7))-ok\n"));
	EXPECT_EQ(0, vt_host_expect(c.id, 30000, "vt-42-ok", reply, sizeof(reply))) {
		TH_LOG("command output did not come back: %s", reply);
	}
	vt_getty_stop(&pid);
	vt_host(NULL, 0, "reset %u", c.id);
}

TEST_HARNESS_MAIN
