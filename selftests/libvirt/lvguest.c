// SPDX-License-Identifier: GPL-2.0
/*
 * lvguest - the guest half of `make libvirt-check`.
 *
 *   lvguest LABEL DEVICE   serve one port (a virtio channel, hvc0, ttyS1)
 *   lvguest --power        power off when the ACPI power button is pressed
 *
 * The host half (selftests/libvirt/lvhost.py) talks to this program through
 * virtserd's endpoint for the port, so every byte crosses libvirt's QEMU and
 * virtserd.  The protocol is line based, one command at a time, host first:
 *
 *   (on start)      guest: "READY LABEL RELEASE DRIVER BOOT_ID"
 *   "LINKS"         guest: "LINKS NAME=NODE:SYSFSNAME ..." for every entry
 *                   of /dev/virtio-ports (udev's links)
 *   "PUT N"+N bytes guest: "PUT N SHA256" of the N bytes it read
 *   "GET N SEED"    guest: "GET N SHA256" then N bytes of the rig's seeded
 *                   stream (selftests/lib/stream.h)
 *   "START NAME"    guest: "START NAME" once /run/lvguest-start-NAME
 *                   exists: the init opens the data channel only then, so
 *                   the host sees the port closed by the guest first
 *
 * A tty (hvc0, ttyS1) is put in raw mode before READY, so the line
 * discipline neither echoes nor translates what the host sends; the host
 * sends nothing before READY.  Diagnostics go to stderr, which the init
 * points at ttyS0, the kernel log file on the host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/input.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "sha256.h"
#include "stream.h"
#include "vt_io.h"

#define LINE_MAX_LEN	256
#define MAX_XFER	(64u << 20)	/* larger requests are refused */
#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789"	/* of START's file */

static const char *label = "?";

/* Bytes read from the port but not consumed yet (a line, or payload). */
static char inbuf[65536];
static size_t in_len;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lvguest %s: ", label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * A virtio port reads 0 while no host end is connected (virtserd away,
 * QEMU restarting its chardev): wait and read again rather than give up.
 */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n == 0)
			usleep(100 * 1000);
	}
}

static int reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reply(int fd, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	return vt_write_all(fd, line, (size_t)n);
}

/* One line without its '\n' into line; the rest stays in inbuf. */
static int read_line(int fd, char *line, size_t len)
{
	for (;;) {
		char *nl = memchr(inbuf, '\n', in_len);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - inbuf);

			if (l >= len)
				return -1;
			memcpy(line, inbuf, l);
			line[l] = '\0';
			in_len -= l + 1;
			memmove(inbuf, nl + 1, in_len);
			return 0;
		}
		if (in_len >= LINE_MAX_LEN)
			return -1;
		n = read_some(fd, inbuf + in_len, sizeof(inbuf) - in_len);
		if (n < 0)
			return -1;
		in_len += (size_t)n;
	}
}

static int do_put(int fd, uint64_t n)
{
	struct sha256 sha;
	char hex[65];
	uint64_t left = n;

	sha256_init(&sha);
	while (left) {
		size_t take;

		if (!in_len) {
			ssize_t r = read_some(fd, inbuf, sizeof(inbuf));

			if (r < 0)
				return -1;
			in_len = (size_t)r;
		}
		take = in_len < left ? in_len : (size_t)left;
		sha256_update(&sha, inbuf, take);
		in_len -= take;
		memmove(inbuf, inbuf + take, in_len);
		left -= take;
	}
	sha256_final_hex(&sha, hex);
	return reply(fd, "PUT %" PRIu64 " %s", n, hex);
}

static int do_get(int fd, uint64_t n, uint64_t seed)
{
	struct sha256 sha;
	char hex[65];
	void *buf = malloc(n ? n : 1);
	int ret;

	if (!buf)
		return reply(fd, "ERR no memory for %" PRIu64 " bytes", n);
	vt_stream_image(buf, n, seed);
	sha256_init(&sha);
	sha256_update(&sha, buf, n);
	sha256_final_hex(&sha, hex);
	ret = reply(fd, "GET %" PRIu64 " %s", n, hex);
	if (!ret)
		ret = vt_write_all(fd, buf, n);
	free(buf);
	return ret;
}

static int do_start(int fd, const char *name)
{
	char path[LINE_MAX_LEN + 32];
	int f;

	snprintf(path, sizeof(path), "/run/lvguest-start-%s", name);
	f = open(path, O_WRONLY | O_CREAT, 0644);
	if (f < 0)
		return reply(fd, "ERR %s: %s", path, strerror(errno));
	close(f);
	return reply(fd, "START %s", name);
}

static int do_links(int fd)
{
	char out[3000] = "LINKS";
	size_t used = strlen(out);
	DIR *d = opendir("/dev/virtio-ports");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[512], target[256], sys[512], name[256] = "";
		ssize_t l;
		char *node;
		FILE *f;
		int n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/virtio-ports/%s", e->d_name);
		l = readlink(path, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = '\0';
		node = strrchr(target, '/');
		node = node ? node + 1 : target;
		snprintf(sys, sizeof(sys), "/sys/class/virtio-ports/%s/name", node);
		f = fopen(sys, "r");
		if (f) {
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = '\0';
			fclose(f);
		}
		n = snprintf(out + used, sizeof(out) - used, " %s=%s:%s", e->d_name, node,
			     name[0] ? name : "-");
		if (n < 0 || (size_t)n >= sizeof(out) - used)
			break;
		used += (size_t)n;
	}
	if (d)
		closedir(d);
	return reply(fd, "%s", out);
}

static int make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		return -1;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(HUPCL | CRTSCTS);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t))
		return -1;
	/* What arrived before raw mode (a UART's probe noise) is not ours. */
	return tcflush(fd, TCIFLUSH);
}

static void read_word(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "-");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int serve(const char *dev)
{
	char line[LINE_MAX_LEN], boot[64], drv[256] = "none";
	const char *drvname;
	struct utsname u;
	ssize_t l;
	int fd, i;

	/* udev may still be making the link; the init waited, this is a bound. */
	for (i = 0; (fd = open(dev, O_RDWR | O_NOCTTY)) < 0; i++) {
		if (i == 300) {
			say("open %s: %s", dev, strerror(errno));
			return 1;
		}
		usleep(100 * 1000);
	}
	if (isatty(fd) && make_raw(fd)) {
		say("raw mode on %s: %s", dev, strerror(errno));
		return 1;
	}
	uname(&u);
	read_word("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	l = readlink("/sys/bus/virtio/devices/virtio0/driver", drv, sizeof(drv) - 1);
	if (l > 0)
		drv[l] = '\0';
	drvname = strrchr(drv, '/') ? strrchr(drv, '/') + 1 : drv;
	if (reply(fd, "READY %s %s %s %s", label, u.release, drvname, boot)) {
		say("write READY: %s", strerror(errno));
		return 1;
	}
	say("serving %s", dev);
	for (;;) {
		uint64_t n, seed;
		int r;

		if (read_line(fd, line, sizeof(line))) {
			say("read: %s", errno ? strerror(errno) : "line too long");
			return 1;
		}
		if (!strcmp(line, "LINKS"))
			r = do_links(fd);
		else if (sscanf(line, "PUT %" SCNu64, &n) == 1 && n <= MAX_XFER)
			r = do_put(fd, n);
		else if (sscanf(line, "GET %" SCNu64 " %" SCNu64, &n, &seed) == 2 && n <= MAX_XFER)
			r = do_get(fd, n, seed);
		else if (!strncmp(line, "START ", 6) && line[6] &&
			 strspn(line + 6, NAME_CHARS) == strlen(line + 6))
			r = do_start(fd, line + 6);
		else
			r = reply(fd, "ERR unknown command '%.64s'", line);
		if (r) {
			say("'%.32s': %s", line, strerror(errno));
			return 1;
		}
	}
}

/*
 * virsh shutdown presses the ACPI power button: button.ko turns it into
 * KEY_POWER on an input device, evdev.ko gives it a node.
 */
static int power(void)
{
	struct pollfd pfd[16];
	unsigned int n = 0;
	DIR *d;
	struct dirent *e;

	for (int i = 0; i < 300 && !n; i++) {
		d = opendir("/dev/input");
		while (d && (e = readdir(d)) && n < 16) {
			char path[300];

			if (strncmp(e->d_name, "event", 5))
				continue;
			snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
			pfd[n].fd = open(path, O_RDONLY);
			pfd[n].events = POLLIN;
			if (pfd[n].fd >= 0)
				n++;
		}
		if (d)
			closedir(d);
		if (!n)
			usleep(100 * 1000);
	}
	if (!n) {
		say("no input device: virsh shutdown will not work");
		return 1;
	}
	say("waiting for the power button on %u input device(s)", n);
	for (;;) {
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			return 1;
		for (unsigned int i = 0; i < n; i++) {
			struct input_event ev;

			if (!(pfd[i].revents & POLLIN))
				continue;
			if (read(pfd[i].fd, &ev, sizeof(ev)) != sizeof(ev))
				continue;
			if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1) {
				say("power button: powering off");
				sync();
				reboot(RB_POWER_OFF);
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--power")) {
		label = "power";
		return power();
	}
	if (argc != 3) {
		fprintf(stderr, "usage: lvguest LABEL DEVICE | lvguest --power\n");
		return 2;
	}
	label = argv[1];
	return serve(argv[2]);
}
