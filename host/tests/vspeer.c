// SPDX-License-Identifier: GPL-2.0
/*
 * vspeer - the other end of a stream for the integration tests: stands in
 * for QEMU's chardev socket or for a user.  Sends a file, records what it
 * receives, can read slowly, and always exits within -T seconds.
 *
 *   vspeer (-l PATH | -c PATH | -L PORT | -C PORT) [-s FILE] [-o FILE]
 *          [-n BYTES] [-d USEC] [-b SIZE] [-T SEC] [-e] [-q] [-z [-Z FILE]]
 *   vspeer -H FILE [-T SEC]
 *
 * -H holds a loopback TCP port for a test that listens on it more than
 * once (the daemon dials it in connect mode): it binds port 0 with
 * SO_REUSEPORT and never listens, writes the port it got to FILE and
 * sleeps.  While it is bound no other program can take the port (and no
 * connect() is given it as a source port), but -L, which also sets
 * SO_REUSEPORT, can listen on it; between two -L runs the daemon's
 * connects are refused, as with nobody there.
 *
 * -z stands in for a QEMU that stops reading and is then killed: it reads
 * exactly -n bytes (never more, so the rest stays queued in its socket),
 * then reads nothing until it is killed or -T runs out (exit 3).  -Z
 * keeps FILE holding how many bytes its socket has queued unread (SIOCINQ)
 * meanwhile, rewritten every 20 ms: over TCP those are bytes its kernel
 * acknowledged that the sender cannot see.  SIGTERM while stalled writes
 * the figure a last time and exits, so FILE holds what was queued when
 * the socket was closed.
 *
 * Exit: 0 when -n bytes arrived (or, without -n, at EOF), 3 on timeout.
 * Prints "sent=N recv=N" on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term;

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mk(bool is_unix, const char *where, bool listen_, double deadline)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr *sa;
	socklen_t len;
	int fd, one = 1;

	if (is_unix) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", where);
		sa = (struct sockaddr *)&un;
		len = sizeof(un);
	} else {
		in.sin_port = htons((unsigned short)atoi(where));
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *)&in;
		len = sizeof(in);
	}
	for (;;) {
		fd = socket(is_unix ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (listen_) {
			int c;

			if (is_unix)
				unlink(where);
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (!is_unix)
				setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
			if (bind(fd, sa, len) || listen(fd, 1))
				return -1;
			struct pollfd pf = { .fd = fd, .events = POLLIN };

			if (poll(&pf, 1, (int)((deadline - now()) * 1000)) <= 0)
				return -1;
			c = accept(fd, NULL, NULL);
			close(fd);
			return c;
		}
		if (!connect(fd, sa, len))
			return fd;
		close(fd);
		if (now() > deadline)
			return -1;
		usleep(20000);
	}
}

static int hold(const char *file, double T)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	FILE *f;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&in, sizeof(in)) ||
	    getsockname(fd, (struct sockaddr *)&in, &len)) {
		perror("vspeer: hold");
		return 2;
	}
	f = fopen(file, "w");
	if (!f || fprintf(f, "%u\n", ntohs(in.sin_port)) < 0 || fclose(f)) {
		perror(file);
		return 2;
	}
	usleep((useconds_t)(T * 1e6));
	return 0;
}

int main(int argc, char **argv)
{
	const char *where = NULL, *sendf = NULL, *outf = NULL;
	bool is_unix = true, listen_ = false, eof_after = false, quiet = false;
	bool stall = false;
	long long want = -1, sent = 0, recvd = 0;
	unsigned delay = 0;
	size_t bs = 65536;
	double deadline, T = 20;
	int c, fd, in = -1, out = -1;
	static char buf[1 << 20], sbuf[65536];
	ssize_t slen = 0, soff = 0;
	bool send_done;

	const char *holdf = NULL, *inqf = NULL;

	while ((c = getopt(argc, argv, "l:c:L:C:s:o:n:d:b:T:eqzZ:H:")) != -1) {
		switch (c) {
		case 'H': holdf = optarg; break;
		case 'l': where = optarg; listen_ = true; break;
		case 'c': where = optarg; break;
		case 'L': where = optarg; listen_ = true; is_unix = false; break;
		case 'C': where = optarg; is_unix = false; break;
		case 's': sendf = optarg; break;
		case 'o': outf = optarg; break;
		case 'n': want = atoll(optarg); break;
		case 'd': delay = (unsigned)atoi(optarg); break;
		case 'b': bs = (size_t)atol(optarg); break;
		case 'T': T = atof(optarg); break;
		case 'e': eof_after = true; break;
		case 'q': quiet = true; break;
		case 'z': stall = true; break;
		case 'Z': inqf = optarg; break;
		default: return 2;
		}
	}
	if (holdf)
		return hold(holdf, T);
	if (!where || !bs || bs > sizeof(buf) || (stall && want < 0))
		return 2;
	if (stall && inqf) {
		/* No SA_RESTART: the stall's poll() returns at once. */
		struct sigaction sa = { .sa_handler = on_term };

		sigaction(SIGTERM, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	deadline = now() + T;
	if (sendf && (in = open(sendf, O_RDONLY)) < 0) {
		perror(sendf);
		return 2;
	}
	if (outf && (out = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		perror(outf);
		return 2;
	}
	fd = mk(is_unix, where, listen_, deadline);
	if (fd < 0) {
		fprintf(stderr, "vspeer: %s: %s\n", where, strerror(errno));
		return 3;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	send_done = in < 0;
	if (send_done && eof_after)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now()) * 1000);

		if (want >= 0 && recvd >= want && send_done) {
			if (!stall)
				break;
			/* Keep the socket open with its queue unread. */
			while ((ms = (int)((deadline - now()) * 1000)) > 0) {
				int inq = 0;
				FILE *f;

				char tmp[4096];

				/* Renamed into place, so a reader never sees it half written. */
				snprintf(tmp, sizeof(tmp), "%s.new", inqf ? inqf : "");
				if (inqf && !ioctl(fd, FIONREAD, &inq) && (f = fopen(tmp, "w"))) {
					fprintf(f, "%d\n", inq);
					if (!fclose(f))
						rename(tmp, inqf);
				}
				if (term) {
					fprintf(stderr, "vspeer: SIGTERM recv=%lld queued=%d\n",
						recvd, inq);
					return 3;	/* the exit closes the socket */
				}
				poll(NULL, 0, inqf && ms > 20 ? 20 : ms);
			}
			fprintf(stderr, "vspeer: stalled until timeout recv=%lld\n", recvd);
			return 3;
		}
		if (ms <= 0) {
			fprintf(stderr, "vspeer: timeout sent=%lld recv=%lld\n", sent, recvd);
			return 3;
		}
		if (!send_done)
			pf.events |= POLLOUT;
		if (poll(&pf, 1, ms) < 0)
			continue;
		if (pf.revents & POLLOUT) {
			if (soff == slen) {
				slen = read(in, sbuf, sizeof(sbuf));
				soff = 0;
				if (slen <= 0) {
					send_done = true;
					slen = 0;
					if (eof_after)
						shutdown(fd, SHUT_WR);
				}
			}
			if (soff < slen) {
				ssize_t w = write(fd, sbuf + soff, (size_t)(slen - soff));

				if (w > 0) {
					soff += w;
					sent += w;
				}
			}
		}
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t want_now = bs;
			ssize_t r;

			if (stall && (long long)want_now > want - recvd)
				want_now = (size_t)(want - recvd);
			r = read(fd, buf, want_now);

			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				if (want < 0 || recvd >= want)
					break;
				fprintf(stderr, "vspeer: EOF early sent=%lld recv=%lld\n", sent, recvd);
				return 4;
			}
			if (r > 0) {
				recvd += r;
				if (out >= 0 && write(out, buf, (size_t)r) != r)
					return 2;
				if (delay)
					usleep(delay);
			}
		}
	}
	if (!quiet)
		fprintf(stderr, "sent=%lld recv=%lld\n", sent, recvd);
	close(fd);
	return 0;
}
