// SPDX-License-Identifier: GPL-2.0
/*
 * fakeqmp - a QMP monitor for the integration tests (qmp.sh): serves one
 * client at a time on a unix socket, greets it, answers qmp_capabilities,
 * qom-get of /machine/peripheral/DEV "chardev" and query-chardev from its
 * device table, and does what lines on a control FIFO say:
 *
 *   event DEV open|closed   set the state and send VSERPORT_CHANGE
 *   state DEV open|closed   set the state silently (seen by query-chardev)
 *   raw TEXT                send TEXT and a newline as they are
 *   long N                  send one JSON object of N bytes
 *   drop                    hang up on the client (it may come back)
 *   quit                    exit
 *
 *   fakeqmp -l PATH -f FIFO [-d DEV:LABEL:open|closed]... [-w FILE] [-T SEC]
 *
 * -w: accept nobody until FILE exists, as QEMU does while another client
 * holds its monitor (a connection waits in the listen queue, ungreeted).
 *
 * It prints "connected N", "command NAME" and "dropped" lines on stdout
 * (flushed) so that a test can wait for them, and always exits within
 * -T seconds (default 60; exit 3).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct dev {
	char name[64], label[64];
	bool open;
};

static struct dev devs[16];
static int ndevs, cfd = -1, connects;

static void sendall(const char *s, size_t n)
{
	while (cfd >= 0 && n) {
		ssize_t w = send(cfd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void say(const char *s)
{
	sendall(s, strlen(s));
}

static struct dev *find(const char *name)
{
	for (int i = 0; i < ndevs; i++)
		if (!strcmp(devs[i].name, name))
			return &devs[i];
	return NULL;
}

/* The value of "id" in a command, as text ("" if none). */
static void cmd_id(const char *line, char *out, size_t cap)
{
	const char *p = strstr(line, "\"id\":");
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += 5;
	while (*p == ' ')
		p++;
	while (n + 1 < cap && ((*p >= '0' && *p <= '9') || *p == '"'))
		out[n++] = *p++;
	out[n] = '\0';
}

static void command(const char *line)
{
	char id[32], buf[4096];
	int n = 0;

	cmd_id(line, id, sizeof(id));
	if (strstr(line, "\"qmp_capabilities\"")) {
		printf("command qmp_capabilities\n");
		snprintf(buf, sizeof(buf), "{\"return\": {}, \"id\": %s}\r\n", id);
	} else if (strstr(line, "\"qom-get\"")) {
		const char *p = strstr(line, "/machine/peripheral/");
		char name[64] = "";
		struct dev *d;

		if (p)
			sscanf(p + 20, "%63[A-Za-z0-9._-]", name);
		d = find(name);
		printf("command qom-get %s\n", name);
		if (d)
			snprintf(buf, sizeof(buf), "{\"return\": \"%s\", \"id\": %s}\r\n", d->label, id);
		else
			snprintf(buf, sizeof(buf), "{\"id\": %s, \"error\": {\"class\": "
				 "\"DeviceNotFound\", \"desc\": \"Device '/machine/peripheral/%s' "
				 "not found\"}}\r\n", id, name);
	} else if (strstr(line, "\"query-chardev\"")) {
		printf("command query-chardev\n");
		n = snprintf(buf, sizeof(buf), "{\"return\": [{\"frontend-open\": true, "
			     "\"filename\": \"unix:/x,server=on\", \"label\": \"compat_monitor0\"}");
		for (int i = 0; i < ndevs; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", {\"frontend-open\": %s, "
				      "\"filename\": \"disconnected:unix:/c\", \"label\": \"%s\"}",
				      devs[i].open ? "true" : "false", devs[i].label);
		snprintf(buf + n, sizeof(buf) - (size_t)n, "], \"id\": %s}\r\n", id);
	} else {
		printf("command other\n");
		snprintf(buf, sizeof(buf), "{\"id\": %s, \"error\": {\"class\": \"CommandNotFound\", "
			 "\"desc\": \"unknown\"}}\r\n", id);
	}
	fflush(stdout);
	say(buf);
}

static void control(char *line)
{
	char a[64], b[64];

	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "raw ", 4)) {
		say(line + 4);
		say("\n");
	} else if (!strncmp(line, "long ", 5)) {
		size_t n = strtoul(line + 5, NULL, 10);
		char *m = malloc(n + 1);

		if (!m || n < 16)
			exit(2);
		memcpy(m, "{\"return\": \"", 12);
		memset(m + 12, 'x', n - 14);
		memcpy(m + n - 2, "\"}", 2);
		sendall(m, n);
		say("\r\n");
		free(m);
	} else if (!strcmp(line, "drop")) {
		if (cfd >= 0)
			close(cfd);
		cfd = -1;
		printf("dropped\n");
		fflush(stdout);
	} else if (!strcmp(line, "quit")) {
		exit(0);
	} else if (sscanf(line, "event %63s %63s", a, b) == 2 ||
		   sscanf(line, "state %63s %63s", a, b) == 2) {
		struct dev *d = find(a);
		char buf[512];

		if (d)
			d->open = !strcmp(b, "open");
		if (line[0] == 'e') {
			snprintf(buf, sizeof(buf), "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				 "\"event\": \"VSERPORT_CHANGE\", \"data\": {\"open\": %s, \"id\": \"%s\"}}\r\n",
				 !strcmp(b, "open") ? "true" : "false", a);
			say(buf);
		}
	}
}

int main(int argc, char **argv)
{
	const char *path = NULL, *fifo = NULL, *waitf = NULL;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char in[8192], ctl[8192];
	size_t inlen = 0, ctllen = 0;
	int lfd, ffd, c, secs = 60;
	time_t end;

	while ((c = getopt(argc, argv, "l:f:d:w:T:")) != -1) {
		switch (c) {
		case 'w': waitf = optarg; break;
		case 'l': path = optarg; break;
		case 'f': fifo = optarg; break;
		case 'T': secs = atoi(optarg); break;
		case 'd': {
			char st[16] = "";

			if (ndevs == 16 || sscanf(optarg, "%63[^:]:%63[^:]:%15s", devs[ndevs].name,
						  devs[ndevs].label, st) < 2)
				return 2;
			devs[ndevs++].open = !strcmp(st, "open");
			break;
		}
		default:
			return 2;
		}
	}
	if (!path || !fifo || strlen(path) >= sizeof(un.sun_path))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	end = time(NULL) + secs;
	strcpy(un.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) || listen(lfd, 4))
		return 1;
	ffd = open(fifo, O_RDWR | O_CLOEXEC);	/* RDWR: no EOF when a writer leaves */
	if (ffd < 0)
		return 1;
	while (time(NULL) < end) {
		struct pollfd pf[3] = {
			{ .fd = cfd < 0 && (!waitf || !access(waitf, F_OK)) ? lfd : -1,
			  .events = POLLIN },
			{ .fd = cfd, .events = POLLIN },
			{ .fd = ffd, .events = POLLIN },
		};
		char *nl;
		ssize_t r;

		if (poll(pf, 3, 200) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0) {
				inlen = 0;
				printf("connected %d\n", ++connects);
				fflush(stdout);
				say("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
				    "\"major\": 10}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n");
			}
		}
		if (cfd >= 0 && pf[1].revents) {
			r = recv(cfd, in + inlen, sizeof(in) - 1 - inlen, 0);
			if (r <= 0) {
				close(cfd);
				cfd = -1;
				printf("client left\n");
				fflush(stdout);
			} else {
				inlen += (size_t)r;
				in[inlen] = '\0';
				while ((nl = memchr(in, '\n', inlen))) {
					*nl = '\0';
					command(in);
					inlen -= (size_t)(nl + 1 - in);
					memmove(in, nl + 1, inlen);
				}
				if (inlen == sizeof(in) - 1)
					inlen = 0;
			}
		}
		if (pf[2].revents & POLLIN) {
			r = read(ffd, ctl + ctllen, sizeof(ctl) - 1 - ctllen);
			if (r > 0) {
				ctllen += (size_t)r;
				while ((nl = memchr(ctl, '\n', ctllen))) {
					*nl = '\0';
					control(ctl);
					ctllen -= (size_t)(nl + 1 - ctl);
					memmove(ctl, nl + 1, ctllen);
				}
			}
		}
	}
	return 3;
}
