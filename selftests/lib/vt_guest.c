// SPDX-License-Identifier: GPL-2.0
/* vt_guest.c - guest half of the side channel (see vt_proto.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vt_guest.h"
#include "vt_io.h"

#define VT_CHANNEL "/dev/ttyS1"

static int chan = -1;
static unsigned int seq;

static int channel(void)
{
	struct termios t;

	if (chan >= 0)
		return chan;
	chan = open(VT_CHANNEL, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (chan < 0) {
		fprintf(stderr, "vt: open %s: %m\n", VT_CHANNEL);
		return -1;
	}
	if (tcgetattr(chan, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(chan, TCSANOW, &t);
	}
	return chan;
}

/* Read one line (without the newline) into buf; -1 on error. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = 0;
	return 0;
}

int vt_host(char *reply, size_t len, const char *fmt, ...)
{
	static char line[VT_LINE_MAX];
	char tag[32];
	va_list ap;
	int fd = channel(), n;
	size_t taglen;

	if (fd < 0)
		return -1;
	/* TAP lines and commands share the line: keep whole lines whole. */
	fflush(stdout);
	fflush(stderr);
	n = snprintf(line, sizeof(line), VT_TAG "%u ", ++seq);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	if (vt_write_all(fd, line, (size_t)n))
		return -1;

	snprintf(tag, sizeof(tag), VT_TAG "%u ", seq);
	taglen = strlen(tag);
	do {
		if (read_line(fd, line, sizeof(line)))
			return -1;
	} while (strncmp(line, tag, taglen));	/* skip stale answers */

	if (!strncmp(line + taglen, "OK", 2)) {
		if (reply)
			snprintf(reply, len, "%s", line[taglen + 2] ? line + taglen + 3 : "");
		return 0;
	}
	if (reply)
		snprintf(reply, len, "%s", line + taglen + (line[taglen + 3] ? 4 : 3));
	return -1;
}

void vt_hex(char *out, const void *data, size_t n)
{
	static const char d[] = "0123456789abcdef";
	const unsigned char *p = data;

	while (n--) {
		*out++ = d[*p >> 4];
		*out++ = d[*p++ & 15];
	}
	*out = 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vt_unhex(void *out, size_t max, const char *hex)
{
	unsigned char *p = out;
	size_t n = 0;

	while (hex[0] && hex[1] && n < max) {
		int hi = nibble(hex[0]), lo = nibble(hex[1]);

		if (hi < 0 || lo < 0)
			break;
		p[n++] = (unsigned char)(hi << 4 | lo);
		hex += 2;
	}
	return (int)n;
}

int vt_ports(struct vt_port *ports, int max)
{
	char reply[4096], *tok, *save;
	int n = 0;

	if (vt_host(reply, sizeof(reply), "ports"))
		return -1;
	for (tok = strtok_r(reply, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save)) {
		char kind[32];

		if (sscanf(tok, "%u:%31[^:]:%127s", &ports[n].id, kind, ports[n].name) != 3)
			continue;
		ports[n].console = !strcmp(kind, "console");
		ports[n].daemon = !strcmp(kind, "daemon");
		n++;
	}
	return n;
}

int vt_port_node(unsigned int id, char *path, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		unsigned int dev, port;

		if (sscanf(e->d_name, "vport%up%u", &dev, &port) == 2 && port == id) {
			snprintf(path, len, "/dev/%s", e->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

static int is_generic(const struct vt_port *p)
{
	return !p->console && !p->daemon;
}

static int is_daemon(const struct vt_port *p)
{
	return p->daemon;
}

static int is_console(const struct vt_port *p)
{
	return p->console;
}

static int first_of(struct vt_port *p, int (*match)(const struct vt_port *))
{
	struct vt_port all[32];
	int i, n = vt_ports(all, 32);

	for (i = 0; i < n; i++) {
		if (match(&all[i])) {
			*p = all[i];
			return 0;
		}
	}
	return -1;
}

int vt_first_port(struct vt_port *p)
{
	return first_of(p, is_generic);
}

int vt_daemon_port(struct vt_port *p)
{
	return first_of(p, is_daemon);
}

int vt_console_port(struct vt_port *p)
{
	return first_of(p, is_console);
}

uint64_t vt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
