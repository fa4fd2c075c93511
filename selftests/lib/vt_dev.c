// SPDX-License-Identifier: GPL-2.0
/*
 * vt_dev.c - guest-side helpers for vtdev.ko (see vt_dev.h).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_dev.h"
#include "vt_guest.h"
#include "vt_util.h"

void vt_dev_defaults(struct vtdev_create *c)
{
	memset(c, 0, sizeof(*c));
	c->features = (1u << 0) | (1u << 1);	/* SIZE, MULTIPORT */
	c->max_nr_ports = 31;
	c->nr_ports = 0;				/* queues for all of them */
	c->cols = 80;
	c->rows = 25;
}

int vt_dev_create(struct vt_dev *d, const struct vtdev_create *c)
{
	d->c = *c;
	d->fd = open("/dev/vtdev", O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	if (ioctl(d->fd, VTDEV_CREATE, &d->c)) {
		int err = -errno;

		close(d->fd);
		d->fd = -1;
		return err;
	}
	return 0;
}

int vt_dev_destroy(struct vt_dev *d)
{
	int err = 0;

	if (d->fd < 0)
		return 0;
	if (ioctl(d->fd, VTDEV_DESTROY))
		err = -errno;
	close(d->fd);
	d->fd = -1;
	return err;
}

int vt_dev_ioctl(struct vt_dev *d, unsigned long cmd, void *arg)
{
	return ioctl(d->fd, cmd, arg) ? -errno : 0;
}

int vt_dev_add_port(struct vt_dev *d, unsigned int id, unsigned int flags,
		    const char *name)
{
	struct vtdev_port_cfg pc = { .id = id, .flags = flags };

	if (name)
		snprintf(pc.name, sizeof(pc.name), "%s", name);
	return vt_dev_ioctl(d, VTDEV_PORT_ADD, &pc);
}

int vt_dev_state(struct vt_dev *d, struct vtdev_state *s)
{
	return vt_dev_ioctl(d, VTDEV_STATE, s);
}

int vt_dev_stats(struct vt_dev *d, unsigned int id, struct vtdev_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return vt_dev_ioctl(d, VTDEV_PORT_STATS, st);
}

int vt_dev_ctrl(struct vt_dev *d, const void *msg, uint32_t len, uint32_t used_len)
{
	struct vtdev_ctrl c = {
		.data = (uintptr_t)msg, .len = len, .used_len = used_len,
	};

	return vt_dev_ioctl(d, VTDEV_CTRL_SEND, &c);
}

void vt_dev_hdr(uint8_t out[8], uint32_t id, uint16_t event, uint16_t value)
{
	int i;

	for (i = 0; i < 4; i++)
		out[i] = (uint8_t)(id >> (8 * i));
	out[4] = (uint8_t)event;
	out[5] = (uint8_t)(event >> 8);
	out[6] = (uint8_t)value;
	out[7] = (uint8_t)(value >> 8);
}

int vt_dev_hostile(struct vt_dev *d, uint32_t op, uint32_t q, uint32_t arg)
{
	struct vtdev_hostile h = { .op = op, .q = q, .arg = arg };

	return vt_dev_ioctl(d, VTDEV_HOSTILE, &h);
}

int vt_dev_mode(struct vt_dev *d, unsigned int id, unsigned int mode)
{
	struct vtdev_mode m = { .id = id, .mode = mode };

	return vt_dev_ioctl(d, VTDEV_PORT_MODE, &m);
}

void vt_dev_node(const struct vt_dev *d, unsigned int id, char *path, size_t len)
{
	snprintf(path, len, "/dev/vport%up%u", d->c.index, id);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int vt_dev_wait_port(const struct vt_dev *d, unsigned int id, bool named, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;
	char node[64], attr[PATH_MAX];

	vt_dev_node(d, id, node, sizeof(node));
	snprintf(attr, sizeof(attr), "/sys/class/virtio-ports/vport%up%u/name",
		 d->c.index, id);
	while (!exists(node) || (named && !exists(attr))) {
		if (vt_now_ms() > end)
			return -1;
		usleep(10000);
	}
	return 0;
}

int vt_dev_wait_ctrl_idle(struct vt_dev *d, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;
	struct vtdev_state s;

	for (;;) {
		if (vt_dev_state(d, &s))
			return -1;
		if (!s.ctrl_pending)
			return 0;
		if (vt_now_ms() > end)
			return -1;
		usleep(5000);
	}
}

int vt_dev_wait_tx(struct vt_dev *d, unsigned int id, uint64_t want, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;
	struct vtdev_stats st;

	for (;;) {
		if (vt_dev_stats(d, id, &st))
			return -1;
		if (st.tx_bytes >= want)
			return 0;
		if (vt_now_ms() > end)
			return -1;
		usleep(5000);
	}
}

uint64_t vt_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Written from the definition in vtdev_uapi.h, not from vtdev.c. */
uint64_t vt_wsum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t sum = 0, k = 1, w;
	size_t i, j;

	for (i = 0; i + 8 <= n; i += 8, k += 2) {
		memcpy(&w, b + i, sizeof(w));
		sum += k * le64toh(w);
	}
	for (w = 0, j = 0; i + j < n; j++)
		w |= (uint64_t)b[i + j] << (8 * j);
	return sum + k * w;
}

void vt_dev_pattern(uint8_t *pat, uint64_t seed)
{
	uint64_t x = seed, w;
	size_t i, j;

	for (i = 0; i < VTDEV_PATTERN_SIZE; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w = x * 0x2545f4914f6cdd1dull;
		for (j = 0; j < 8; j++)
			pat[i + j] = (uint8_t)(w >> (8 * j));
	}
}

int vt_klog_start(void)
{
	return vt_kmsg_open(true);
}

static const char *const splat_words[] = {
	"WARNING:", "BUG:", "Oops", "sleeping function called",
	"blocked for more than", "general protection fault", "Kernel panic",
	"UBSAN:", "KASAN:", "list_del corruption", "refcount_t:", "stack-protector",
	NULL,
};

int vt_klog_scan(int fd, const char *needle, int *warned)
{
	char rec[8192];
	int splats = 0, i;

	*warned = 0;
	while (vt_kmsg_next(fd, rec, sizeof(rec))) {
		char *msg, *nl;
		int prio;

		prio = atoi(rec) & 7;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		for (i = 0; splat_words[i]; i++)
			if (strstr(msg, splat_words[i]))
				break;
		if (splat_words[i])
			splats++;
		if (prio <= 4 || splat_words[i]) {
			printf("# klog: <%d> %.200s\n", prio, msg);
			if (prio <= 4 && (!needle || strstr(msg, needle)))
				(*warned)++;
		}
	}
	fflush(stdout);
	return splats;
}
