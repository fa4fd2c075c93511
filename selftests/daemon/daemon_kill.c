// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_kill.c - the last program of the first boot: stream into the
 * virtserd port and, mid-stream, have the host SIGKILL QEMU.  The guest
 * dies with it; the host checks that virtserd survived and boots QEMU
 * again, where daemon_restart checks that virtserd reconnected.
 *
 * The host's reader stalls after its first 4 KiB, so by the time QEMU is
 * killed virtserd's buffer is full and it has no read in flight on QEMU's
 * socket: it must notice the hang-up anyway (and keep what the socket
 * still held), or it never reconnects.  The guest writes until nothing
 * moves for 3 s, which means the whole chain is throttled.
 *
 * vt-plan: results=0 deadline=600 (for selftests/vm/test-plan.sh): it
 * reports nothing when all goes well, the host does (virtserd survived).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
	fd = open(node, O_RDWR | O_NONBLOCK);
	if (fd < 0 || vt_host(NULL, 0, "connect %u", p.id) ||
	    vt_host(NULL, 0, "slow %u %llu 4096 3600000", p.id, 1ull << 40)) {
		printf("not ok 1 - cannot start the stream\n");
		return 1;
	}
	memset(buf, 'k', sizeof(buf));
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w > 0) {
			sent += w;
			continue;
		}
		if (w < 0 && errno == EAGAIN && poll(&pf, 1, 3000) == 1)
			continue;
		break;
	}
	printf("# %lld bytes sent, the host reader stalled; asking the host to kill QEMU now\n",
	       sent);
	fflush(stdout);
	vt_host(NULL, 0, "kill_qemu");
	for (;;)	/* keep the stream going until the machine is gone */
		if (write(fd, buf, sizeof(buf)) < 0)
			pause();
}
