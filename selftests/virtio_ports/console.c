// SPDX-License-Identifier: GPL-2.0
/*
 * console.c - port 0 as a virtconsole is the guest's /dev/hvcN: a getty on
 * it gives the host a login prompt, and commands typed there run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vt_guest.h"
#include "vt_util.h"

static int console_port(struct vt_port *out)
{
	struct vt_port ports[32];
	int i, n = vt_ports(ports, 32);

	for (i = 0; i < n; i++) {
		if (ports[i].console) {
			*out = ports[i];
			return 0;
		}
	}
	return -1;
}

/* The hvc index the console port got, from its debugfs vtermno and sysfs. */
TEST(console_port_is_hvc)
{
	char node[PATH_MAX], path[PATH_MAX], buf[2048], *v;
	struct vt_port c;
	struct stat st;

	ASSERT_EQ(0, console_port(&c));
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

static void hexstr(char *out, const char *s)
{
	vt_hex(out, s, strlen(s));
}

TEST_F_TIMEOUT(con, console_getty_login, 90)
{
	char hex[1024], reply[65536];
	struct vt_port c;
	pid_t pid;
	int st;

	ASSERT_EQ(0, console_port(&c));
	vt_host(NULL, 0, "reset %u", c.id);
	ASSERT_EQ(0, vt_host(reply, sizeof(reply), "connect %u", c.id));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		setsid();
		execl("/bin/getty", "getty", "-L", "115200", "hvc0", "vt100", NULL);
		_exit(127);
	}
	hexstr(hex, "login: ");
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "expect %u 30000 %s", c.id, hex)) {
		TH_LOG("no login prompt: %s", reply);
	}
	hexstr(hex, "root\n");
	EXPECT_EQ(0, vt_host(NULL, 0, "send %u %s", c.id, hex));
	/* login flushes typed-ahead input: wait for the shell's prompt. */
	hexstr(hex, "# ");
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "expect %u 30000 %s", c.id, hex)) {
		TH_LOG("no shell prompt: %s", reply);
	}
	/* The echo of the command line shows $((6*7)); only running it gives 42. */
	hexstr(hex, "echo vt-$((6*7))-ok\n");
	EXPECT_EQ(0, vt_host(NULL, 0, "send %u %s", c.id, hex));
	hexstr(hex, "vt-42-ok");
	EXPECT_EQ(0, vt_host(reply, sizeof(reply), "expect %u 30000 %s", c.id, hex)) {
		TH_LOG("command output did not come back: %s", reply);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	vt_host(NULL, 0, "reset %u", c.id);
}

TEST_HARNESS_MAIN
