// SPDX-License-Identifier: GPL-2.0
/* test-ring: the multi-reader ring and the rotation helpers. */
#include "host/ring.h"
#include "host/rotate.h"
#include "tests/tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void ring_tests(void)
{
	struct vs_ring r;
	uint8_t *w;
	const uint8_t *rd;
	size_t n;
	uint64_t slow = 0;
	int ok = 1;

	tap_check(vs_ring_init(&r, 16) == 0, "ring init");
	n = vs_ring_reserve(&r, 0, &w);
	tap_check(n == 16 && vs_ring_oldest(&r) == 0, "empty ring lends all space");
	memcpy(w, "0123456789", 10);
	vs_ring_commit(&r, 10);
	tap_check(vs_ring_room(&r, 0) == 6, "room counts unconsumed bytes");
	n = vs_ring_reserve(&r, 4, &w);
	tap_check(n == 6, "space up to the end of memory first (contiguous)");
	tap_check(vs_ring_oldest(&r) == 0, "a loan of 6 at head 10 keeps everything intact");
	memcpy(w, "abcdef", 6);
	vs_ring_commit(&r, 6);
	n = vs_ring_reserve(&r, 4, &w);
	tap_check(n == 4 && w == r.buf, "then wraps to the start, bounded by consumed");
	tap_check(vs_ring_oldest(&r) == 4, "the loan makes the overwritten bytes old");
	memcpy(w, "WXYZ", 4);
	vs_ring_commit(&r, 4);
	n = vs_ring_reserve(&r, 4, &w);
	tap_check(n == 0, "full ring lends nothing (backpressure)");
	vs_ring_unreserve(&r);
	n = vs_ring_span(&r, 4, &rd);
	tap_check(n == 12 && !memcmp(rd, "456789abcdef", 12), "span stops at the end of memory");
	n = vs_ring_span(&r, 16, &rd);
	tap_check(n == 4 && !memcmp(rd, "WXYZ", 4), "span continues after the wrap");
	tap_check(vs_ring_span(&r, 20, &rd) == 0, "nothing past head");
	tap_check(slow < vs_ring_oldest(&r), "a reader at 0 is detected as overrun");

	/* Long random-ish stream through a small ring with two readers. */
	{
		struct vs_ring q;
		uint64_t a = 0, b = 0, prod = 0;
		uint8_t buf[64];

		vs_ring_init(&q, 37);
		for (int step = 0; step < 20000; step++) {
			uint64_t cons = a < b ? a : b;

			n = vs_ring_reserve(&q, cons, &w);
			n = n > (size_t)(step % 7 + 1) ? (size_t)(step % 7 + 1) : n;
			for (size_t i = 0; i < n; i++)
				w[i] = (uint8_t)(prod + i);
			vs_ring_commit(&q, n);
			prod += n;
			/* Reader a drains fast, reader b slowly. */
			while ((n = vs_ring_span(&q, a, &rd)) > 0) {
				for (size_t i = 0; i < n; i++)
					ok &= rd[i] == (uint8_t)(a + i);
				a += n;
			}
			if (step % 3 == 0 && (n = vs_ring_span(&q, b, &rd)) > 0) {
				n = n > 5 ? 5 : n;
				memcpy(buf, rd, n);
				for (size_t i = 0; i < n; i++)
					ok &= buf[i] == (uint8_t)(b + i);
				b += n;
			}
		}
		tap_check(ok && prod > 10000, "20000 steps: every byte read in order by both readers");
		vs_ring_free(&q);
	}
	{
		struct vs_ring q;
		uint8_t data[100];

		vs_ring_init(&q, 64);
		for (int i = 0; i < 100; i++)
			data[i] = (uint8_t)i;
		vs_ring_put(&q, data, 50);
		n = vs_ring_span(&q, 0, &rd);
		vs_ring_put(&q, data + 50, 30);	/* caller is allowed: consumed 16+ */
		tap_check(q.head == 80 && vs_ring_oldest(&q) == 16, "put wraps and ages old bytes");
		n = vs_ring_span(&q, 64, &rd);
		tap_check(n == 16 && rd[0] == 64, "put wrote across the wrap");
		vs_ring_free(&q);
	}
	vs_ring_free(&r);
}

/* Is page @i of the ring's mapping resident (touched and not trimmed)? */
static int resident(const struct vs_ring *r, size_t i)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char v = 0;

	if (mincore(r->buf + i * pg, pg, &v))
		return -1;
	return v & 1;
}

static void trim_tests(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t cap = 4 * pg + 100, n;	/* last page partly used */
	struct vs_ring r;
	const uint8_t *rd;
	uint8_t *w, *data = malloc(cap);

	for (size_t i = 0; i < cap; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	tap_check(vs_ring_init(&r, cap) == 0, "trim: ring init");
	tap_check(resident(&r, 0) == 0, "trim: untouched ring pages are not resident");
	vs_ring_put(&r, data, 3 * pg + 50);
	tap_check(vs_ring_stale(&r, 2 * pg + 10) == 2 * pg + 10, "trim: stale counts from 0");
	n = vs_ring_trim(&r, 2 * pg + 10);
	tap_check(n == 2 * pg, "trim: only whole pages below keep are released");
	tap_check(resident(&r, 0) == 0 && resident(&r, 1) == 0 && resident(&r, 2) == 1,
		  "trim: released pages leave RSS, the partial one stays");
	tap_check(vs_ring_oldest(&r) == 2 * pg + 10, "trim: oldest moves to keep");
	n = vs_ring_span(&r, 2 * pg + 10, &rd);
	tap_check(n == pg + 40 && !memcmp(rd, data + 2 * pg + 10, n),
		  "trim: bytes from keep on are intact");
	tap_check(vs_ring_stale(&r, 2 * pg + 10) == 0 && vs_ring_trim(&r, 2 * pg) == 0,
		  "trim: nothing older than oldest to trim again");

	/* Wrap: head in page 1 of the next lap, a loan at head. */
	vs_ring_put(&r, data, 2 * pg + 150);	/* head = cap + pg + 100 */
	n = vs_ring_reserve(&r, r.head, &w);
	tap_check(n == 3 * pg && w == r.buf + pg + 100, "trim: loan at head after the wrap");
	n = vs_ring_trim(&r, r.head);
	tap_check(n == pg && resident(&r, 0) == 0, "trim: this lap's bytes before head may go");
	tap_check(resident(&r, 1) == 1 && resident(&r, 2) == 1 && resident(&r, 3) == 1,
		  "trim: never releases the page at head or space lent there");
	vs_ring_unreserve(&r);
	vs_ring_put(&r, data, cap - 30);	/* head = 2 cap + pg + 70 */
	n = vs_ring_trim(&r, r.head - 20);
	/* [cap + pg + 100, head - 20) runs through the end of memory. */
	tap_check(n == 4 * pg, "trim: a span across the wrap releases both sides");
	tap_check(resident(&r, 1) == 1, "trim: the page holding head is kept");
	n = vs_ring_span(&r, r.head - 20, &rd);
	tap_check(n == 20 && !memcmp(rd, data + cap - 50, 20), "trim: the newest bytes survive");
	/* Refill after trimming: pages come back as needed, data is right. */
	for (int lap = 0; lap < 3; lap++) {
		while ((n = vs_ring_reserve(&r, r.head, &w)) > 0) {
			n = n > 1000 ? 1000 : n;
			for (size_t i = 0; i < n; i++)
				w[i] = (uint8_t)(r.head + i);
			vs_ring_commit(&r, n);
			if (r.head > 2 * cap * (size_t)(lap + 1))
				break;
		}
		vs_ring_trim(&r, r.head - 1);
	}
	n = vs_ring_span(&r, r.head - 1, &rd);
	tap_check(n == 1 && rd[0] == (uint8_t)(r.head - 1), "trim: ring keeps working after trims");
	vs_ring_free(&r);
	free(data);
}

static long fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long)st.st_size;
}

static void rotate_tests(void)
{
	char dir[] = "/tmp/virtserd-rot.XXXXXX", path[256], p1[300], p2[300], p3[300];
	uint64_t sz;
	int fd;

	tap_check(vs_rotate_room(0, 0, 100) == 100, "max 0 never rotates");
	tap_check(vs_rotate_room(90, 100, 100) == 10, "a write is split at the cap");
	tap_check(vs_rotate_room(100, 100, 5) == 0, "a full file asks for rotation");
	tap_check(vs_rotate_room(0, 100, 5) == 5, "small write fits");

	if (!mkdtemp(dir)) {
		tap_check(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	snprintf(p3, sizeof(p3), "%s.3", path);
	for (int gen = 1; gen <= 4; gen++) {
		fd = vs_open_log(path, 1, &sz);
		if (fd < 0)
			break;
		for (int i = 0; i < gen; i++)
			if (write(fd, "x", 1) != 1)
				break;
		close(fd);
		if (gen < 4)
			vs_rotate_files(path, 2);
	}
	/* Generations of size 1,2,3,4: live=4, .1=3, .2=2, 1 dropped. */
	tap_check(fsize(path) == 4 && fsize(p1) == 3 && fsize(p2) == 2 && fsize(p3) == -1,
		  "rotation keeps exactly N backups, newest first");
	tap_check(vs_rotate_files(path, 0) == 0 && fsize(path) == -1, "0 backups just removes");
	fd = vs_open_log(path, 1, &sz);
	tap_check(fd >= 0 && sz == 0, "reopen after rotation starts empty");
	if (fd >= 0) {
		tap_check(write(fd, "abc", 3) == 3, "write");
		close(fd);
	}
	fd = vs_open_log(path, 1, &sz);
	tap_check(fd >= 0 && sz == 3 && (fcntl(fd, F_GETFL) & O_APPEND), "append mode reports size and O_APPEND");
	if (fd >= 0)
		close(fd);
	{
		char link[300];

		snprintf(link, sizeof(link), "%s/lnk", dir);
		tap_check(symlink(path, link) == 0 && vs_open_log(link, 1, &sz) < 0,
			  "a symlinked log path is refused (O_NOFOLLOW)");
		unlink(link);
	}
	unlink(path);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
}

int main(void)
{
	ring_tests();
	trim_tests();
	rotate_tests();
	return tap_done();
}
