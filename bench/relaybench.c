// SPDX-License-Identifier: GPL-2.0
/*
 * relaybench - traffic generator and meter for bench/relay-bench.sh.
 *
 *   relaybench src   PATH BYTES BLOCK   listen on PATH, send BYTES in BLOCK writes
 *   relaybench sink  PATH BYTES         connect to PATH, read BYTES, print MB/s
 *   relaybench echo  PATH               listen on PATH, echo everything back
 *   relaybench rtt   PATH COUNT SIZE    connect, COUNT round trips of SIZE bytes,
 *                                       print median and p99 in microseconds
 *   relaybench many  DIR N ACTIVE       listen on DIR/q0..q{N-1}.sock, accept all;
 *                                       every 100 ms send 64 bytes on the first
 *                                       ACTIVE connections; runs until killed
 *
 * Deliberately simple blocking code: it is the yardstick, not the subject.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sock_listen(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 128)) {
		perror(path);
		exit(1);
	}
	return fd;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	double end = now() + 10;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (!connect(fd, (struct sockaddr *)&un, sizeof(un)))
			return fd;
		close(fd);
		if (now() > end) {
			perror(path);
			exit(1);
		}
		usleep(10000);
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(1);
		p += w;
		n -= (size_t)w;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];

	if (argc >= 5 && !strcmp(argv[1], "src")) {
		long long left = atoll(argv[3]);
		size_t bs = (size_t)atol(argv[4]);
		int l = sock_listen(argv[2]), fd = accept(l, NULL, NULL);

		memset(buf, 'x', sizeof(buf));
		while (left > 0) {
			size_t n = left < (long long)bs ? (size_t)left : bs;

			write_all(fd, buf, n);
			left -= (long long)n;
		}
		/* Wait for the reader to finish, so the relay sees no early EOF. */
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "sink")) {
		long long want = atoll(argv[3]), got = 0;
		int fd = sock_connect(argv[2]);
		double t0 = 0;

		while (got < want) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r <= 0)
				break;
			if (!got)
				t0 = now();
			got += r;
		}
		printf("%.1f\n", got / (now() - t0) / 1e6);
		return got == want ? 0 : 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "echo")) {
		int l = sock_listen(argv[2]), fd = accept(l, NULL, NULL);
		ssize_t r;

		while ((r = read(fd, buf, sizeof(buf))) > 0)
			write_all(fd, buf, (size_t)r);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "rtt")) {
		int count = atoi(argv[3]), fd = sock_connect(argv[2]);
		size_t sz = (size_t)atol(argv[4]);
		double *lat = calloc((size_t)count, sizeof(*lat));

		for (int i = -100; i < count; i++) {	/* 100 warm-up trips */
			double t0 = now();
			size_t got = 0;

			write_all(fd, buf, sz);
			while (got < sz) {
				ssize_t r = read(fd, buf + got, sz - got);

				if (r <= 0)
					return 1;
				got += (size_t)r;
			}
			if (i >= 0)
				lat[i] = (now() - t0) * 1e6;
		}
		qsort(lat, (size_t)count, sizeof(*lat), cmp);
		printf("%.1f %.1f\n", lat[count / 2], lat[count * 99 / 100]);
		free(lat);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "many")) {
		int n = atoi(argv[3]), active = atoi(argv[4]);
		int *l = calloc((size_t)n, sizeof(int)), *c = calloc((size_t)n, sizeof(int));
		char path[256];
		int accepted = 0;

		for (int i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/q%d.sock", argv[2], i);
			l[i] = sock_listen(path);
			c[i] = -1;
		}
		while (accepted < n) {
			for (int i = 0; i < n; i++) {
				struct pollfd pf = { .fd = l[i], .events = POLLIN };

				if (c[i] < 0 && poll(&pf, 1, 0) == 1) {
					c[i] = accept(l[i], NULL, NULL);
					accepted++;
				}
			}
			usleep(1000);
		}
		fprintf(stderr, "many: %d connected\n", n);
		for (;;) {
			for (int i = 0; i < active; i++)
				write_all(c[i], buf, 64);
			usleep(100000);
		}
	}
	fprintf(stderr, "usage: see the comment at the top of relaybench.c\n");
	return 2;
}
