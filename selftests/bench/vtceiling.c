// SPDX-License-Identifier: GPL-2.0
/*
 * vtceiling.c - guest half of the "driver ceiling" section of `make bench`
 * (bench/ceiling.sh): the console driver against vtdev.ko, the in-guest
 * programmable device (selftests/vtdev/), so that QEMU's device model is
 * not what is measured.  Prints "# CEIL <key> <value> <unit>" lines:
 *
 *   g2h_<size>   guest-to-host MB/s: TOTAL written to the port in <size>
 *                write() calls, the device a sink (VTDEV_MODE_FAST)
 *   h2g_<size>   host-to-guest MB/s: TOTAL read with <size> read() calls,
 *                the device a source (VTDEV_SOURCE, VTDEV_SRC_PATTERN)
 *   zc_g2h_<size>      g2h again with virtser's tx_zerocopy=Y (only
 *                virtser.ko has it; it lends the pages of writes of
 *                256 KiB or more, so 4K and 64K take the copy path)
 *   <dir>_<size>_cpu   system CPU seconds of this process per GiB moved
 *   memcpy_<size>      MB/s of memcpy() in <size> pieces over TOTAL bytes
 *                in this guest: the limit no driver can pass
 *   rtt_median, rtt_p99   64-byte write and read back through ECHO, in us
 *
 * Sizes are 4K, 64K and 1024K; each figure is the median of ROUNDS
 * transfers.  TOTAL is 256 MiB unless the kernel command line says
 * vt.ceiling_mib=N (under TCG a smaller total keeps the run in minutes).
 *
 * What the device does per byte, the same for both drivers (vtdev.c):
 *  - guest to host: reads every byte once, 8 bytes at a time, for its
 *    word sum (one load, one multiply and one add per 8-byte word; see
 *    VTDEV_MODE_FAST in vtdev_uapi.h); no copy.  It runs in the driver's
 *    kick (vtdev_notify() serves transmit queues synchronously), so it is
 *    in the writer's system CPU and in the g2h throughput.
 *  - host to guest: writes every byte once, with memcpy() from a 1 MiB
 *    + 8 B pattern made from the seed before the first transfer
 *    (VTDEV_SRC_PATTERN); no checksum.  That runs in vtdev's ordered
 *    workqueue, not in this process.
 * So per byte the device does no more than a memcpy() costs, read-only
 * for g2h: what is left is the driver's copy plus its per-call and
 * per-buffer work, and vtdev's per-buffer ring work (the same for both).
 *
 * Every transfer is checked outside the clock: by byte count, g2h by the
 * device's word sum against the guest's, h2g by comparing every byte
 * read with the pattern.  A benchmark, not a test: no figure is judged.
 *
 * vt-plan: results=9 deadline=3600 (for selftests/vm/test-plan.sh)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vt_dev.h"
#include "vt_guest.h"
#include "vt_util.h"

#define ROUNDS		5
#define PORT		1
#define RTT_ROUNDS	2000
#define WAIT_MS		600000
#define SEED		0x5eed

static int failures;
static uint64_t total;		/* bytes per transfer */
static unsigned char *buf;	/* total bytes: written from, read into */
static uint64_t buf_wsum;	/* vt_wsum() of what buf holds */
static uint8_t *pattern;	/* VTDEV_PATTERN_SIZE: what h2g must read */

#define ZC_PARAM	"/sys/module/virtser/parameters/tx_zerocopy"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* System CPU of this process so far, us: read(), write() and the kicks. */
static uint64_t sys_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
}

/* skip: the reason, printed as a TAP SKIP (then ok does not count). */
static void result_skip(int ok, const char *what, const char *skip)
{
	static int n;

	if (skip) {
		printf("ok %d - %s # SKIP %s\n", ++n, what, skip);
		return;
	}
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	fflush(stdout);
	if (!ok)
		failures++;
}

static void result(int ok, const char *what)
{
	result_skip(ok, what, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

static uint64_t total_from_cmdline(void)
{
	char cmd[4096];
	const char *p;
	unsigned long mib;

	if (vt_read_file("/proc/cmdline", cmd, sizeof(cmd)) < 0)
		return 256ull << 20;
	p = strstr(cmd, "vt.ceiling_mib=");
	if (!p || sscanf(p, "vt.ceiling_mib=%lu", &mib) != 1 || !mib)
		return 256ull << 20;
	return (uint64_t)mib << 20;
}

/* One console port 0 and port 1, both open on the host side, as QEMU's. */
static int setup(struct vt_dev *d)
{
	struct vtdev_create c;
	struct vtdev_state s;
	uint64_t end;

	vt_dev_defaults(&c);
	if (vt_dev_create(d, &c))
		return -1;
	if (vt_dev_add_port(d, 0, VTDEV_PF_CONSOLE | VTDEV_PF_HOST_OPEN, "org.vtdev.console") ||
	    vt_dev_add_port(d, PORT, VTDEV_PF_HOST_OPEN, "org.vtdev.ceiling") ||
	    vt_dev_wait_port(d, PORT, true, 15000))
		return -1;
	end = vt_now_ms() + 15000;
	do {
		if (vt_dev_state(d, &s))
			return -1;
	} while (!s.driver[0] && vt_now_ms() < end && !usleep(10000));
	printf("# driver %s, %llu MiB per transfer, %d transfers per figure\n",
	       s.driver, (unsigned long long)(total >> 20), ROUNDS);
	return 0;
}

static int open_port(struct vt_dev *d, int flags)
{
	char node[64];

	vt_dev_node(d, PORT, node, sizeof(node));
	return open(node, flags | O_CLOEXEC);
}

/* Wait until the device has taken want bytes from the guest; 0 or -1. */
static int wait_tx(struct vt_dev *d, uint64_t want, struct vtdev_stats *st)
{
	uint64_t end = vt_now_ms() + WAIT_MS;

	for (;;) {
		if (vt_dev_stats(d, PORT, st))
			return -1;
		if (st->tx_bytes >= want)
			return 0;
		if (vt_now_ms() > end)
			return -1;
		usleep(100);
	}
}

/*
 * One transfer of total bytes in size calls.  The clock runs from the
 * first call (h2g: from giving the device its bytes) until the device has
 * taken the last byte (g2h) or the guest has read it (h2g).
 */
/* Every byte of buf is the pattern's, in order from its start; 0 or -1. */
static int check_pattern(void)
{
	uint64_t off, n;

	for (off = 0; off < total; off += n) {
		n = total - off < VTDEV_PATTERN_SIZE ? total - off : VTDEV_PATTERN_SIZE;
		if (memcmp(buf + off, pattern, (size_t)n)) {
			printf("# h2g: the bytes at %llu..%llu are not the pattern's\n",
			       (unsigned long long)off, (unsigned long long)(off + n));
			return -1;
		}
	}
	return 0;
}

static int transfer(struct vt_dev *d, size_t size, bool g2h, double *mbs, double *cpu)
{
	struct vtdev_stats before, after;
	struct vtdev_source src = {
		.id = PORT, .bytes = total, .seed = SEED, .flags = VTDEV_SRC_PATTERN,
	};
	uint64_t done = 0, t0, c0, t1;
	int fd, ok = 1;

	fd = open_port(d, g2h ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -1;
	/* FAST restarts the word sum: it covers this transfer alone. */
	if (vt_dev_mode(d, PORT, VTDEV_MODE_FAST) || vt_dev_stats(d, PORT, &before)) {
		close(fd);
		return -1;
	}
	if (!g2h)
		memset(buf, 0, total);	/* a stale copy must not pass */
	c0 = sys_us();
	t0 = now_ns();
	if (!g2h && vt_dev_ioctl(d, VTDEV_SOURCE, &src))
		ok = 0;
	while (ok && done < total) {
		size_t n = total - done < size ? (size_t)(total - done) : size;
		ssize_t r = g2h ? write(fd, buf + done, n) : read(fd, buf + done, n);

		if (r <= 0) {
			printf("# %s: %s\n", g2h ? "write" : "read",
			       r ? strerror(errno) : "end of file");
			ok = 0;
			break;
		}
		done += (uint64_t)r;
	}
	if (ok && g2h)
		ok = !wait_tx(d, before.tx_bytes + total, &after);
	t1 = now_ns();
	*cpu = (double)(sys_us() - c0) / 1e6 * (double)(1ull << 30) / (double)total;
	*mbs = (double)total * 1e3 / (double)(t1 - t0);
	if (ok && !g2h)
		ok = !vt_dev_stats(d, PORT, &after) &&
		     after.rx_bytes == before.rx_bytes + total;
	if (ok && g2h)
		ok = after.tx_bytes == before.tx_bytes + total;
	if (ok && g2h && after.tx_wsum != buf_wsum) {
		printf("# g2h word sum: the device has %016llx, the guest %016llx\n",
		       (unsigned long long)after.tx_wsum, (unsigned long long)buf_wsum);
		ok = 0;
	}
	if (ok && !g2h)
		ok = !check_pattern();
	close(fd);
	return ok ? 0 : -1;
}

static int stream(struct vt_dev *d, size_t size, bool g2h, const char *prefix)
{
	double mbs[ROUNDS], cpu[ROUNDS];
	char key[32];
	int i, ok = 1;

	snprintf(key, sizeof(key), "%s%s_%zuK", prefix, g2h ? "g2h" : "h2g", size >> 10);
	for (i = 0; ok && i < ROUNDS; i++)
		ok = !transfer(d, size, g2h, &mbs[i], &cpu[i]);
	if (ok) {
		printf("# %s rounds (MB/s):", key);
		for (i = 0; i < ROUNDS; i++)
			printf(" %.1f", mbs[i]);
		printf("\n# CEIL %s %.1f MB/s\n", key, median(mbs, ROUNDS));
		printf("# CEIL %s_cpu %.3f s/GiB\n", key, median(cpu, ROUNDS));
	}
	return ok;
}

/* Write "Y" or "N" to tx_zerocopy; 0 or -1. */
static int set_zerocopy(bool on)
{
	int fd = open(ZC_PARAM, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, on ? "Y" : "N", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* g2h with virtser's zero-copy opt-in, then the default again. */
static void zerocopy(struct vt_dev *d, const size_t *sizes, int nsizes)
{
	int i, ok = 1;

	if (access(ZC_PARAM, F_OK)) {
		result_skip(1, "zerocopy", "no tx_zerocopy parameter (the in-tree driver)");
		return;
	}
	/* The h2g transfers read into buf since: what it holds now is sent. */
	buf_wsum = vt_wsum(buf, total);
	if (set_zerocopy(true)) {
		printf("# cannot turn tx_zerocopy on: %s\n", strerror(errno));
		ok = 0;
	}
	for (i = 0; ok && i < nsizes; i++)
		ok = stream(d, sizes[i], true, "zc_");
	if (set_zerocopy(false))
		ok = 0;
	result(ok, "zerocopy");
}

/*
 * The limit: memcpy() of total bytes in size pieces from the big buffer
 * into one size-sized buffer, as a driver copies a caller's buffer into
 * its own ones (or the other way round).
 */
static void memcpy_bw(const size_t *sizes, int nsizes)
{
	double mbs[ROUNDS];
	int s, i;

	for (s = 0; s < nsizes; s++) {
		unsigned char *dst = malloc(sizes[s]);
		volatile unsigned char sink = 0;

		if (!dst)
			break;
		for (i = 0; i < ROUNDS; i++) {
			uint64_t t0 = now_ns(), off;

			for (off = 0; off < total; off += sizes[s]) {
				memcpy(dst, buf + off, sizes[s]);
				/* keep the copy from being optimized away */
				sink ^= dst[sizes[s] - 1];
			}
			mbs[i] = (double)total * 1e3 / (double)(now_ns() - t0);
		}
		(void)sink;
		printf("# CEIL memcpy_%zuK %.1f MB/s\n", sizes[s] >> 10, median(mbs, ROUNDS));
		free(dst);
	}
	result(s == nsizes, "memcpy");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 64 bytes out and the same 64 back, through the device's ECHO mode. */
static void rtt(struct vt_dev *d)
{
	static uint64_t ns[RTT_ROUNDS];
	unsigned char out[64], in[64];
	int fd = open_port(d, O_RDWR), i, ok = fd >= 0;

	memset(out, 'r', sizeof(out));
	ok = ok && !vt_dev_mode(d, PORT, VTDEV_MODE_ECHO);
	for (i = 0; ok && i < RTT_ROUNDS; i++) {
		uint64_t t0 = now_ns();
		size_t got = 0;

		ok = write(fd, out, sizeof(out)) == (ssize_t)sizeof(out);
		while (ok && got < sizeof(in)) {
			ssize_t r = read(fd, in + got, sizeof(in) - got);

			ok = r > 0;
			got += r > 0 ? (size_t)r : 0;
		}
		ns[i] = now_ns() - t0;
		ok = ok && !memcmp(in, out, sizeof(in));
	}
	if (ok) {
		qsort(ns, RTT_ROUNDS, sizeof(ns[0]), cmp_u64);
		printf("# CEIL rtt_median %.1f us\n", (double)ns[RTT_ROUNDS / 2] / 1e3);
		printf("# CEIL rtt_p99 %.1f us\n", (double)ns[RTT_ROUNDS * 99 / 100] / 1e3);
	}
	vt_dev_mode(d, PORT, VTDEV_MODE_SINK);
	if (fd >= 0)
		close(fd);
	result(ok, "rtt 64 B");
}

int main(void)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20 };
	const int nsizes = sizeof(sizes) / sizeof(sizes[0]);
	struct vt_dev d = { .fd = -1 };
	uint64_t j;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..9\n");
	total = total_from_cmdline();
	buf = malloc(total);
	pattern = malloc(VTDEV_PATTERN_SIZE);
	if (!buf || !pattern || setup(&d)) {
		printf("# no device or no memory: %s\n", strerror(errno));
		for (i = 0; i < 9; i++)
			result(0, "setup");
		vt_dev_destroy(&d);
		return 1;
	}
	/* Touch every page before any clock starts. */
	memset(buf, 0x5a, total);
	for (j = 0; j < total; j++)
		buf[j] = (unsigned char)(j * 131 + (j >> 12));
	buf_wsum = vt_wsum(buf, total);
	vt_dev_pattern(pattern, SEED);
	for (i = 0; i < 2 * nsizes; i++) {
		bool g2h = i < nsizes;
		char what[32];

		snprintf(what, sizeof(what), "%s %zuK", g2h ? "g2h" : "h2g",
			 sizes[i % nsizes] >> 10);
		result(stream(&d, sizes[i % nsizes], g2h, ""), what);
	}
	memcpy_bw(sizes, nsizes);
	rtt(&d);
	zerocopy(&d, sizes, nsizes);
	if (vt_dev_destroy(&d))
		printf("# vtdev destroy failed\n");
	return failures ? 1 : 0;
}
