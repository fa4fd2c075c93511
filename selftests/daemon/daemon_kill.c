// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_kill.c - the last program of the first boot: stream into the
 * virtserd port and, mid-stream, have the host SIGKILL QEMU.  The guest
 * dies with it; the host checks that virtserd survived and boots QEMU
 * again, where daemon_restart checks that virtserd reconnected.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_util.h"

int main(void)
{
	static unsigned char buf[65536];
	char node[PATH_MAX];
	struct vt_port p;
	long long sent = 0;
	int fd;

	if (vt_daemon_port(&p) || vt_wait_port_ready(p.id, node, sizeof(node), 10000)) {
		printf("not ok 1 - no virtserd port\n");
		return 1;
	}
	fd = open(node, O_RDWR);
	if (fd < 0 || vt_host(NULL, 0, "connect %u", p.id) ||
	    vt_host(NULL, 0, "sink %u %llu", p.id, 1ull << 40)) {
		printf("not ok 1 - cannot start the stream\n");
		return 1;
	}
	memset(buf, 'k', sizeof(buf));
	while (sent < (8ll << 20)) {
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w <= 0)
			break;
		sent += w;
	}
	printf("# %lld bytes sent; asking the host to kill QEMU now\n", sent);
	fflush(stdout);
	vt_host(NULL, 0, "kill_qemu");
	for (;;)	/* keep the stream going until the machine is gone */
		if (write(fd, buf, sizeof(buf)) < 0)
			pause();
}
