// SPDX-License-Identifier: GPL-2.0
/*
 * virtserctl - talk to virtserd's control socket.  Plain blocking I/O and
 * poll(2): one connection at a time does not need a ring.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "ctl_proto.h"

static struct termios saved_tio;
static bool tio_saved;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virtserctl [-s SOCKET] [-j] COMMAND\n"
		"commands:\n"
		"  list                    all ports: state of both sides, bytes, clients, drops\n"
		"  status PORT             one port (PORT is vm/name)\n"
		"  attach [-r|-f] [-e C] PORT\n"
		"                          interactive console; -r read-only, -f take over\n"
		"                          write access; escape character C (default ^])\n"
		"  watch                   the guest's open/closed state of each port with\n"
		"                          QMP, then every change, until interrupted\n"
		"  reload                  reread the configuration (like SIGHUP)\n"
		"  version\n"
		"options:\n"
		"  -s, --socket PATH       control socket (default $VIRTSERD_CONTROL or %s)\n"
		"  -j, --json              JSON output for list and status\n", VS_DEFAULT_CONTROL);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(un.sun_path)) {
		fprintf(stderr, "virtserctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		fprintf(stderr, "virtserctl: cannot connect to %s: %s (is virtserd running?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send one command line, copy the reply to stdout; exit 1 on "ERR". */
static int simple(const char *path, const char *cmd)
{
	char buf[65536];
	bool first = true, err = false;
	ssize_t n;
	int fd = ctl_connect(path);

	if (fd < 0)
		return 1;
	/*
	 * A refused peer gets its answer before the daemon reads anything,
	 * so a failed write is not the end: read the reason first.
	 */
	if (write_all(fd, cmd, strlen(cmd)) && errno != EPIPE && errno != ECONNRESET) {
		perror("virtserctl: write");
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && (size_t)n >= strlen(VS_CTL_ERR) &&
		    !memcmp(buf, VS_CTL_ERR, strlen(VS_CTL_ERR)))
			err = true;
		first = false;
		if (write_all(err ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t)n))
			break;
	}
	close(fd);
	if (first) {
		fprintf(stderr, "virtserctl: no reply from virtserd\n");
		return 1;
	}
	return err ? 1 : 0;
}

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static int attach(const char *path, const char *port, const char *mode, int esc)
{
	char cmd[VS_CTL_LINE_MAX], line[256], buf[16384];
	size_t ll = 0;
	int fd = ctl_connect(path);
	bool in_open = true;

	if (fd < 0)
		return 1;
	if ((size_t)snprintf(cmd, sizeof(cmd), VS_CTL_ATTACH " %s %s\n", port, mode) >= sizeof(cmd)) {
		fprintf(stderr, "virtserctl: port name too long\n");
		close(fd);
		return 1;
	}
	if (write_all(fd, cmd, strlen(cmd))) {
		close(fd);
		return 1;
	}
	/* Byte by byte, so that guest output after the reply stays unread. */
	while (ll < sizeof(line) - 1) {
		ssize_t n = read(fd, line + ll, 1);

		if (n <= 0)
			break;
		if (line[ll++] == '\n')
			break;
	}
	line[ll] = '\0';
	if (strncmp(line, VS_CTL_OK, strlen(VS_CTL_OK))) {
		fprintf(stderr, "virtserctl: %s", ll ? line : "no reply from virtserd\n");
		close(fd);
		return 1;
	}
	if (isatty(STDIN_FILENO)) {
		struct termios t;

		if (!tcgetattr(STDIN_FILENO, &saved_tio)) {
			tio_saved = true;
			atexit(restore_tty);
			t = saved_tio;
			cfmakeraw(&t);
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		}
		line[strcspn(line, "\r\n")] = '\0';
		fprintf(stderr, "[attached to %s %s (escape: ^%c)]\r\n", port, line + 3,
			esc + '@');
	}
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		ssize_t n;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (write_all(STDOUT_FILENO, buf, (size_t)n))
				break;
		}
		if (pf[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				/* End of input: let the daemon see EOF, keep reading. */
				shutdown(fd, SHUT_WR);
				in_open = false;
				continue;
			}
			if (tio_saved) {
				char *e = memchr(buf, esc, (size_t)n);

				if (e) {
					if (e > buf)
						write_all(fd, buf, (size_t)(e - buf));
					break;
				}
			}
			if (write_all(fd, buf, (size_t)n))
				break;
		}
	}
	close(fd);
	if (tio_saved)
		fprintf(stderr, "\r\n[detached]\r\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = getenv("VIRTSERD_CONTROL");
	bool json = false;
	char cmd[VS_CTL_LINE_MAX];
	int c;

	if (!path || !*path)
		path = VS_DEFAULT_CONTROL;
	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *verb = argv[optind++];

	if (!strcmp(verb, VS_CTL_WATCH)) {
		if (optind != argc) {
			usage(stderr);
			return 2;
		}
		return simple(path, VS_CTL_WATCH "\n");
	}
	if (!strcmp(verb, VS_CTL_LIST) || !strcmp(verb, VS_CTL_RELOAD) ||
	    !strcmp(verb, VS_CTL_VERSION)) {
		if (optind != argc) {
			usage(stderr);
			return 2;
		}
		snprintf(cmd, sizeof(cmd), "%s%s\n", verb, json ? " " VS_CTL_JSON : "");
		return simple(path, cmd);
	}
	if (!strcmp(verb, VS_CTL_STATUS)) {
		if (optind + 1 != argc) {
			usage(stderr);
			return 2;
		}
		if ((size_t)snprintf(cmd, sizeof(cmd), VS_CTL_STATUS " %s%s\n", argv[optind],
				     json ? " " VS_CTL_JSON : "") >= sizeof(cmd)) {
			fprintf(stderr, "virtserctl: port name too long\n");
			return 2;
		}
		return simple(path, cmd);
	}
	if (!strcmp(verb, VS_CTL_ATTACH)) {
		const char *mode = VS_CTL_MODE_RW, *port = NULL;
		int esc = 0x1d;	/* ^] as in telnet */

		for (; optind < argc; optind++) {
			const char *a = argv[optind];

			if (!strcmp(a, "-r")) {
				mode = VS_CTL_MODE_RO;
			} else if (!strcmp(a, "-f")) {
				mode = VS_CTL_MODE_FORCE;
			} else if (!strcmp(a, "-e") && optind + 1 < argc) {
				a = argv[++optind];
				esc = a[0] == '^' && a[1] ? a[1] & 0x1f : (unsigned char)a[0];
			} else if (a[0] != '-' && !port) {
				port = a;
			} else {
				usage(stderr);
				return 2;
			}
		}
		if (!port) {
			usage(stderr);
			return 2;
		}
		return attach(path, port, mode, esc);
	}
	fprintf(stderr, "virtserctl: unknown command '%s'\n", verb);
	usage(stderr);
	return 2;
}
