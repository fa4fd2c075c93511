// SPDX-License-Identifier: GPL-2.0
/*
 * vtbench.c - guest half of `make bench`: measures one driver and prints
 * "# BENCH <key> <value>" lines that bench/guest.sh puts side by side.
 *
 *   g2h_<size>   guest-to-host MB/s, 64 MiB written in <size> writes
 *   h2g_<size>   host-to-guest MB/s, 64 MiB read with <size> reads
 *   g2h_<size>_cpu, h2g_<size>_cpu   guest system CPU seconds of the
 *                benchmark process per GiB moved: what the driver costs
 *                the guest, whatever bounds the throughput
 *   rtt_median, rtt_p99   64-byte round trip through the host, in us
 *   mem_unopened, mem_open   guest memory per port, KiB
 *
 * A benchmark, not a test: it checks that data arrived intact (SHA-256),
 * but no figure is judged here.
 *
 * vt-plan: results=8 deadline=3600 (for selftests/vm/test-plan.sh)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "stream.h"
#include "vt_guest.h"
#include "vt_util.h"
#include "vt_io.h"

#define TOTAL		(64ull << 20)
#define STREAM_ROUNDS	5
#define H2G_SEED	7
#define RTT_ROUNDS	2000
#define MEM_PORTS	16
#define MEM_FIRST	10

static int failures;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void result(int ok, const char *what)
{
	static int n;

	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	fflush(stdout);
	if (!ok)
		failures++;
}

/*
 * System CPU time this process used so far, in microseconds: the time
 * spent in read() and write(), in the driver, including any spinning it
 * does while waiting for the host.
 */
static uint64_t sys_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
}

static int open_port(const struct vt_port *p)
{
	char node[PATH_MAX];
	int fd;

	if (vt_port_node(p->id, node, sizeof(node)))
		return -1;
	fd = open(node, O_RDWR);
	if (fd < 0)
		return -1;
	vt_host(NULL, 0, "reset %u", p->id);
	if (vt_host(NULL, 0, "connect %u", p->id) || vt_wait_host(fd, true, 10000)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The streams' data lives in buffers filled and hashed before any clock
 * starts, so a timed loop is nothing but read() or write() calls: under
 * TCG, hashing in the guest runs at about the speed of the port and would
 * otherwise be what is measured.  g2h sends @out; h2g reads into @in and
 * compares it with @want, the image of the host's seeded stream.
 */
static struct {
	unsigned char *out, *in, *want;
	char out_sha[65], want_sha[65];
} sb;

static int stream_setup(void)
{
	struct vt_stream st;
	struct sha256 sha;

	sb.out = malloc(TOTAL);
	sb.in = malloc(TOTAL);
	sb.want = malloc(TOTAL);
	if (!sb.out || !sb.in || !sb.want)
		return -1;
	vt_stream_seed(&st, 11);
	vt_stream_fill(&st, sb.out, TOTAL);
	sha256_init(&sha);
	sha256_update(&sha, sb.out, TOTAL);
	sha256_final_hex(&sha, sb.out_sha);
	vt_stream_image(sb.want, TOTAL, H2G_SEED);
	sha256_init(&sha);
	sha256_update(&sha, sb.want, TOTAL);
	sha256_final_hex(&sha, sb.want_sha);
	return 0;
}

/*
 * One 64 MiB transfer through port @p in @size system calls.  Returns 0
 * and the throughput and system CPU per GiB if the data arrived intact:
 * the host's SHA-256 of what it received (g2h) or sent (h2g) must match,
 * and in h2g every byte read must be the expected one.
 */
static int stream_once(const struct vt_port *p, size_t size, bool to_host,
		       double *mbs, double *cpu)
{
	unsigned char *buf = to_host ? sb.out : sb.in;
	unsigned long long done = 0, n = 0;
	char reply[256], theirs[65];
	uint64_t t0, c0;
	int fd = open_port(p), ok;

	if (fd < 0)
		return -1;
	if (!to_host)
		memset(sb.in, 0, TOTAL);	/* a stale copy must not pass */
	if (to_host)
		vt_host(NULL, 0, "sink %u %llu", p->id, TOTAL);
	else
		vt_host(NULL, 0, "source %u %llu %d", p->id, TOTAL, H2G_SEED);
	t0 = now_us();
	c0 = sys_us();
	while (done < TOTAL) {
		size_t want = TOTAL - done < size ? (size_t)(TOTAL - done) : size;
		ssize_t r;

		if (to_host)
			r = vt_write_all(fd, buf + done, want) ? -1 : (ssize_t)want;
		else
			r = read(fd, buf + done, want);
		if (r <= 0)
			break;
		done += (unsigned long long)r;
	}
	ok = done == TOTAL && !vt_host(reply, sizeof(reply), "wait %u 600000", p->id);
	if (ok) {
		*mbs = (double)TOTAL / (double)(now_us() - t0);
		*cpu = (double)(sys_us() - c0) / 1e6 * (double)(1ull << 30) / (double)TOTAL;
		ok = sscanf(reply, "%64s %llu", theirs, &n) == 2 && n == TOTAL &&
		     !strcmp(theirs, to_host ? sb.out_sha : sb.want_sha) &&
		     (to_host || !memcmp(sb.in, sb.want, TOTAL));
	}
	close(fd);
	vt_host(NULL, 0, "reset %u", p->id);
	return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * STREAM_ROUNDS transfers of one kind; the medians are reported, and every
 * round is printed, because one 64 MiB transfer takes well under a second
 * and a single one is at the mercy of whatever else the host runs.
 */
static void stream(const struct vt_port *p, size_t size, bool to_host)
{
	double mbs[STREAM_ROUNDS], cpu[STREAM_ROUNDS];
	char key[64];
	int i, ok = sb.out != NULL;

	snprintf(key, sizeof(key), "%s_%zuK", to_host ? "g2h" : "h2g", size >> 10);
	for (i = 0; ok && i < STREAM_ROUNDS; i++)
		ok = !stream_once(p, size, to_host, &mbs[i], &cpu[i]);
	if (ok) {
		printf("# %s rounds (MB/s):", key);
		for (i = 0; i < STREAM_ROUNDS; i++)
			printf(" %.1f", mbs[i]);
		printf("\n");
		qsort(mbs, STREAM_ROUNDS, sizeof(mbs[0]), cmp_double);
		qsort(cpu, STREAM_ROUNDS, sizeof(cpu[0]), cmp_double);
		printf("# BENCH %s %.1f MB/s\n", key, mbs[STREAM_ROUNDS / 2]);
		printf("# BENCH %s_cpu %.2f s/GiB\n", key, cpu[STREAM_ROUNDS / 2]);
	}
	result(ok, key);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void rtt(const struct vt_port *p)
{
	static uint64_t us[RTT_ROUNDS];
	unsigned char out[64], in[64];
	char reply[256];
	int fd = open_port(p), i, ok = 1;

	if (fd < 0) {
		result(0, "rtt");
		return;
	}
	memset(out, 'r', sizeof(out));
	vt_host(NULL, 0, "echo %u %d", p->id, RTT_ROUNDS * 64);
	for (i = 0; i < RTT_ROUNDS && ok; i++) {
		uint64_t t0 = now_us();
		size_t got = 0;

		ok = !vt_write_all(fd, out, sizeof(out));
		while (ok && got < sizeof(in)) {
			ssize_t r = read(fd, in + got, sizeof(in) - got);

			ok = r > 0;
			got += r > 0 ? (size_t)r : 0;
		}
		us[i] = now_us() - t0;
	}
	ok = ok && !vt_host(reply, sizeof(reply), "wait %u 60000", p->id);
	if (ok) {
		qsort(us, RTT_ROUNDS, sizeof(us[0]), cmp_u64);
		printf("# BENCH rtt_median %llu us\n", (unsigned long long)us[RTT_ROUNDS / 2]);
		printf("# BENCH rtt_p99 %llu us\n",
		       (unsigned long long)us[RTT_ROUNDS * 99 / 100]);
	}
	result(ok, "rtt 64 B");
	close(fd);
	vt_host(NULL, 0, "reset %u", p->id);
}

/* Memory the kernel holds, in KiB: what is neither free nor page cache. */
static long long used_kib(void)
{
	long long total = 0, freek = 0, buffers = 0, cached = 0;
	char line[256];
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
	usleep(200000);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "MemTotal: %lld", &total);
		sscanf(line, "MemFree: %lld", &freek);
		sscanf(line, "Buffers: %lld", &buffers);
		sscanf(line, "Cached: %lld", &cached);
	}
	fclose(f);
	return total - freek - buffers - cached;
}

static void memory(void)
{
	char node[PATH_MAX];
	int fds[MEM_PORTS], i, ok = 1;
	long long base, plugged, opened;

	base = used_kib();
	for (i = 0; i < MEM_PORTS && ok; i++) {
		char name[64];

		snprintf(name, sizeof(name), "org.virtser.bench.%d", MEM_FIRST + i);
		ok = !vt_host(NULL, 0, "hotplug_add %d %s", MEM_FIRST + i, name) &&
		     !vt_wait_port_ready(MEM_FIRST + i, node, sizeof(node), 10000);
	}
	plugged = used_kib();
	for (i = 0; i < MEM_PORTS; i++) {
		fds[i] = -1;
		if (ok && !vt_port_node(MEM_FIRST + i, node, sizeof(node)))
			fds[i] = open(node, O_RDWR);
		ok = ok && fds[i] >= 0;
	}
	opened = used_kib();
	if (ok) {
		printf("# BENCH mem_unopened %lld KiB\n", (plugged - base) / MEM_PORTS);
		printf("# BENCH mem_open %lld KiB\n", (opened - plugged) / MEM_PORTS);
	}
	result(ok, "memory per port");
	for (i = 0; i < MEM_PORTS; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		vt_host(NULL, 0, "hotplug_del %d", MEM_FIRST + i);
	}
}

int main(void)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20 };
	struct vt_port p;
	unsigned int i;

	printf("TAP version 13\n");
	if (vt_first_port(&p)) {
		printf("not ok 1 - no port to measure\n1..1\n");
		return 1;
	}
	memory();
	if (stream_setup())
		printf("# no memory for the stream buffers\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		stream(&p, sizes[i], true);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		stream(&p, sizes[i], false);
	rtt(&p);
	printf("1..%d\n", 8);
	return failures ? 1 : 0;
}
