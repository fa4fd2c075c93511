// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_qmp.c - the guest's open/close state as virtserd learns it from
 * QEMU's QMP (VSERPORT_CHANGE), with a real guest: each open and close of
 * the port shows in "virtserctl status" and in the "watch" stream; and the
 * hold policy: what the host writes while the guest has the port closed
 * stays in virtserd until the guest opens it, then arrives whole.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "vt_util.h"
#include "e2e.h"

#define HOLD_NAME	"org.virtser.daemon.5"

/* The daemon port named @name (run.sh: 4 plain, 5 with the hold policy). */
static int daemon_port_named(const char *name, struct vt_port *p)
{
	struct vt_port all[32];
	int n = vt_ports(all, 32);

	for (int i = 0; i < n; i++)
		if (all[i].daemon && !strcmp(all[i].name, name)) {
			*p = all[i];
			return 0;
		}
	return -1;
}

struct dstat {
	char guest[16];
	unsigned long long buffered, to_vm;
};

static int dstatus(unsigned int id, struct dstat *s)
{
	char reply[128];

	if (vt_host(reply, sizeof(reply), "dstatus %u", id))
		return -1;
	return sscanf(reply, "%15s %llu %llu", s->guest, &s->buffered, &s->to_vm) == 3 ? 0 : -1;
}

/*
 * Polls until the daemon reports @want; the bound only keeps a broken run
 * from hanging (QMP reports within a loop turn; under TCG that can be slow).
 */
static int wait_guest(unsigned int id, const char *want, struct dstat *s)
{
	for (int i = 0; i < 600; i++) {
		if (!dstatus(id, s) && !strcmp(s->guest, want))
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "# port %u: guest state '%s', want '%s'\n", id, s->guest, want);
	return -1;
}

/* The harness has timeouts only for fixture tests; nothing to set up. */
FIXTURE(q) {
	int unused;
};

FIXTURE_SETUP(q)
{
}

FIXTURE_TEARDOWN(q)
{
}

TEST_F_TIMEOUT(q, open_and_close_show_in_status_and_watch, 300)
{
	char node[PATH_MAX], seq[1024];
	struct vt_port p;
	struct dstat s = { 0 };
	const char *want = "closed open closed open closed open closed";
	size_t sl, wl = strlen(want);

	ASSERT_EQ(0, vt_daemon_port(&p));
	ASSERT_EQ(0, vt_wait_port_ready(p.id, node, sizeof(node), 10000));
	ASSERT_EQ(0, vt_host(NULL, 0, "dwatch"));
	/* Nobody in the guest has it open: QMP's query says closed. */
	ASSERT_EQ(0, wait_guest(p.id, "closed", &s));
	for (int i = 0; i < 3; i++) {
		int fd = open(node, O_RDWR);

		ASSERT_LE(0, fd);
		EXPECT_EQ(0, wait_guest(p.id, "open", &s));
		close(fd);
		EXPECT_EQ(0, wait_guest(p.id, "closed", &s));
	}
	/* The watch stream saw each change, in order (it may have begun earlier). */
	ASSERT_EQ(0, vt_host(seq, sizeof(seq), "dwatched %u", p.id));
	sl = strlen(seq);
	TH_LOG("watch stream for port %u: %s", p.id, seq);
	ASSERT_LE(wl, sl);
	EXPECT_STREQ(want, seq + sl - wl);
}

/*
 * The host writes 256 KiB while the guest has the port closed: virtserd
 * holds all of it (buffered_to_vm), writes none to QEMU, and when the
 * guest opens the port every byte arrives (SHA-256 on both ends).
 */
TEST_F_TIMEOUT(q, hold_keeps_host_data_until_the_guest_opens, 300)
{
	const unsigned long long n = 256ull << 10;
	char node[PATH_MAX], mine[65], theirs[65];
	struct vt_port p;
	struct dstat s = { 0 };
	int fd, i;

	ASSERT_EQ(0, daemon_port_named(HOLD_NAME, &p));
	ASSERT_EQ(0, vt_wait_port_ready(p.id, node, sizeof(node), 10000));
	ASSERT_EQ(0, wait_guest(p.id, "closed", &s));
	ASSERT_EQ(0, vt_host(NULL, 0, "connect %u", p.id));
	ASSERT_EQ(0, vt_host(NULL, 0, "source %u %llu 21", p.id, n));
	for (i = 0; i < 600; i++) {
		ASSERT_EQ(0, dstatus(p.id, &s));
		if (s.buffered == n)
			break;
		usleep(100000);
	}
	TH_LOG("closed: %llu bytes held in virtserd, %llu written to QEMU", s.buffered, s.to_vm);
	EXPECT_EQ(n, s.buffered);
	EXPECT_EQ(0, s.to_vm);
	EXPECT_STREQ("closed", s.guest);

	fd = open(node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, e2e_read(fd, n, mine));
	ASSERT_EQ(0, e2e_host_hash(p.id, n, theirs));
	EXPECT_STREQ(mine, theirs);
	ASSERT_EQ(0, dstatus(p.id, &s));
	EXPECT_STREQ("open", s.guest);
	EXPECT_EQ(n, s.to_vm);
	close(fd);
	vt_host(NULL, 0, "reset %u", p.id);
}

TEST_HARNESS_MAIN
