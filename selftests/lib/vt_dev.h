/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_dev.h - guest-side helpers for vtdev.ko, the programmable virtio
 * console device (selftests/vtdev/vtdev_uapi.h has the interface).
 */
#ifndef VT_DEV_H
#define VT_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vtdev/vtdev_uapi.h"

struct vt_dev {
	int fd;				/* /dev/vtdev, -1 once destroyed */
	struct vtdev_create c;		/* what it was created with; .index */
};

/* A device as QEMU's default virtio-serial-pci (31 ports, SIZE, MULTIPORT). */
void vt_dev_defaults(struct vtdev_create *c);
/* Open /dev/vtdev and register the device; 0 or -errno. */
int vt_dev_create(struct vt_dev *d, const struct vtdev_create *c);
/* Unregister (the driver's remove runs inside); 0 or -errno. */
int vt_dev_destroy(struct vt_dev *d);
int vt_dev_ioctl(struct vt_dev *d, unsigned long cmd, void *arg);

int vt_dev_add_port(struct vt_dev *d, unsigned int id, unsigned int flags,
		    const char *name);
int vt_dev_state(struct vt_dev *d, struct vtdev_state *s);
int vt_dev_stats(struct vt_dev *d, unsigned int id, struct vtdev_stats *st);
/* Queue a raw control message (see struct vtdev_ctrl). */
int vt_dev_ctrl(struct vt_dev *d, const void *msg, uint32_t len, uint32_t used_len);
/* A control header: id, event, value (little endian, as VERSION_1 says). */
void vt_dev_hdr(uint8_t out[8], uint32_t id, uint16_t event, uint16_t value);
int vt_dev_hostile(struct vt_dev *d, uint32_t op, uint32_t q, uint32_t arg);
int vt_dev_mode(struct vt_dev *d, unsigned int id, unsigned int mode);

/* "/dev/vport<index>p<id>" */
void vt_dev_node(const struct vt_dev *d, unsigned int id, char *path, size_t len);
/*
 * Wait until port id is ready to open: the node exists and, when the
 * device names it, the sysfs name attribute does.  0 or -1 on timeout.
 */
int vt_dev_wait_port(const struct vt_dev *d, unsigned int id, bool named, int ms);
/* Wait until the device has handed all its control messages over. */
int vt_dev_wait_ctrl_idle(struct vt_dev *d, int ms);
/* Wait until port id's tx_bytes reach want; -1 on timeout. */
int vt_dev_wait_tx(struct vt_dev *d, unsigned int id, uint64_t want, int ms);

/* FNV-1a 64, as the device computes tx_sum and rx_sum. */
#define VT_FNV_OFFSET	0xcbf29ce484222325ull
uint64_t vt_fnv1a(uint64_t h, const void *p, size_t n);
/* The word sum of VTDEV_MODE_FAST over n bytes from the mode's start. */
uint64_t vt_wsum(const void *p, size_t n);
/* The VTDEV_PATTERN_SIZE bytes of VTDEV_SRC_PATTERN for a nonzero seed. */
void vt_dev_pattern(uint8_t *pat, uint64_t seed);

/*
 * The guest kernel log since vt_klog_start(): vt_klog_scan() reads what
 * was added, prints warning-level lines (priority <= 4) with "# klog: ",
 * and returns how many looked like a kernel splat (WARNING:, BUG:, Oops,
 * ...).  *warned is set to how many warning-level lines contained needle
 * (NULL: any).
 */
int vt_klog_start(void);
int vt_klog_scan(int fd, const char *needle, int *warned);

#endif
