/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtdev_uapi.h - the scripting interface of vtdev.ko, the programmable
 * virtio console device of the test rig.
 *
 * Every open() of /dev/vtdev is one device-to-be.  VTDEV_CREATE registers a
 * virtio device with ID 3 (console) built from struct vtdev_create; the
 * console driver in the guest (virtio_console or virtser.ko) binds to it.
 * The other ioctls act on that device; close() unregisters it.  Shared by
 * the module and the guest test programs, so only <linux/types.h> types.
 * Documentation/testing.rst says what the device does with each byte.
 */
#ifndef VTDEV_UAPI_H
#define VTDEV_UAPI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Ports the device really has queues for (QEMU's virtio-serial has 31). */
#define VTDEV_MAX_PORTS		64
#define VTDEV_NAME_MAX		64
/* Bytes written with VTDEV_PORT_WRITE (or echoed) that may wait per port. */
#define VTDEV_FIFO_SIZE		(1024U * 1024)
/* Longest raw control message VTDEV_CTRL_SEND takes. */
#define VTDEV_CTRL_MAX		(128U * 1024)

/* vtdev_create.flags */
#define VTDEV_CF_LEGACY		_BITUL(0)	/* do not offer VIRTIO_F_VERSION_1 */

struct vtdev_create {
	__u64 features;		/* console feature bits offered (bits 0..23) */
	__u32 max_nr_ports;	/* config space value, any u32 */
	__u32 nr_ports;		/* ports with queues; 0: min(max_nr_ports, MAX) */
	__u16 cols, rows;	/* config space */
	__u32 queue_size;	/* 0: 128 */
	__u32 flags;		/* VTDEV_CF_* */
	__u32 index;		/* out: the virtio device index (/dev/vport<index>p<id>) */
};

/* vtdev_port_cfg.flags */
#define VTDEV_PF_CONSOLE	_BITUL(0)	/* send CONSOLE_PORT after PORT_READY */
#define VTDEV_PF_HOST_OPEN	_BITUL(1)	/* host end open from the start */
#define VTDEV_PF_NO_NAME	_BITUL(2)	/* never send PORT_NAME */

struct vtdev_port_cfg {
	__u32 id;
	__u32 flags;
	char name[VTDEV_NAME_MAX];	/* NUL-terminated */
};

struct vtdev_open {
	__u32 id;
	__u32 open;		/* host end: 1 open, 0 closed (sends PORT_OPEN) */
};

struct vtdev_resize {
	__u32 id;
	__u16 cols, rows;
};

/* vtdev_config.set */
#define VTDEV_SET_COLS		_BITUL(0)
#define VTDEV_SET_ROWS		_BITUL(1)
#define VTDEV_SET_MAX_PORTS	_BITUL(2)

struct vtdev_config {
	__u32 set;		/* which fields to change; then a config interrupt */
	__u32 max_nr_ports;
	__u16 cols, rows;
};

/* vtdev_ctrl.flags */
#define VTDEV_CTL_REWRITE	_BITUL(0)	/* rewrite the buffer after used */

struct vtdev_ctrl {
	__u64 data;		/* user pointer to the message bytes */
	__u32 len;		/* bytes, 0..VTDEV_CTRL_MAX */
	__u32 used_len;		/* reported in the used ring; 0: bytes written */
	__u32 flags;		/* VTDEV_CTL_* */
	__u32 rewrite_len;	/* REWRITE: bytes of rewrite_data */
	__u64 rewrite_data;	/* REWRITE: user pointer, written over the start */
	__u32 rewrite_us;	/* REWRITE: keep flipping for this long (<= 100000) */
	__u32 pad;
};

/* vtdev_mode.mode: what the host end does with what the guest transmits */
#define VTDEV_MODE_SINK		0	/* count, checksum, give back at once */
#define VTDEV_MODE_ECHO		1	/* ... and queue it for the guest to read */
#define VTDEV_MODE_STALL	2	/* never take transmit buffers */
/*
 * VTDEV_MODE_FAST: as SINK, but the word sum below into tx_wsum instead of
 * FNV-1a into tx_sum; setting this mode restarts tx_wsum at 0.
 */
#define VTDEV_MODE_FAST		3

/*
 * The word sum of VTDEV_MODE_FAST, cheap enough to run at memory speed:
 * the bytes since the mode was set, b0 b1 ..., read as little-endian
 * 64-bit words w0 = b0 | b1 << 8 | ... | b7 << 56, w1, ...; tx_wsum is the
 * sum of (2k + 1) * wk modulo 2^64, a last partial word counted with its
 * missing bytes as zeros.  The weights make it depend on where each word
 * lies in the stream, so a reordered or lost buffer changes it.
 */

/*
 * The pattern of VTDEV_SRC_PATTERN: VTDEV_PATTERN_SIZE bytes, the
 * xorshift64* stream of the seed as little-endian words, sent over and
 * over.  Not a multiple of any buffer or page size, so a lost, doubled or
 * swapped buffer shows in the bytes read.
 */
#define VTDEV_PATTERN_SIZE	((1U << 20) + 8)

struct vtdev_mode {
	__u32 id;
	__u32 mode;
};

/* vtdev_source.flags */
#define VTDEV_SRC_PATTERN	_BITUL(0)	/* copy from the pattern, no rx_sum */

struct vtdev_source {
	__u32 id;
	__u32 flags;		/* VTDEV_SRC_*; read when the stream restarts */
	__u64 bytes;		/* more bytes of the seeded stream to send */
	__u64 seed;		/* restarts the stream when nothing is pending */
};

struct vtdev_write {
	__u32 id;
	__u32 len;		/* in: bytes at data; out: bytes queued */
	__u64 data;
};

struct vtdev_stats {
	__u32 id;		/* in */
	__u32 exists;		/* PORT_ADD sent and no PORT_REMOVE since */
	__u32 guest_ready;	/* last PORT_READY value from the guest */
	__u32 guest_open;	/* last PORT_OPEN value from the guest */
	__u32 host_open;
	__u32 mode;
	__u64 tx_bytes;		/* bytes the guest transmitted on the port */
	__u64 tx_sum;		/* FNV-1a 64 over them, in order (not in FAST) */
	__u64 tx_bufs;
	__u64 rx_bytes;		/* bytes the device put in the guest's buffers */
	__u64 rx_sum;		/* FNV-1a 64 over them, in order (not pattern) */
	__u64 rx_bufs;
	__u64 rx_pending;	/* queued or still to generate */
	__u64 tx_swapped;	/* VTDEV_H_REORDER: pairs completed swapped */
	__u64 rx_swapped;
	__u64 tx_wsum;		/* VTDEV_MODE_FAST: word sum since the mode was set */
};

struct vtdev_state {
	__u32 status;		/* device status byte the driver set */
	__u32 device_ready;	/* DEVICE_READY messages received */
	__u64 features;		/* negotiated */
	__u32 nvqs;		/* queues the driver set up */
	__u32 ctrl_in;		/* control messages the guest sent */
	__u32 ctrl_bad;		/* ... that were short or of an unknown event */
	__u32 ctrl_pending;	/* host-to-guest messages waiting for a buffer */
	__u64 ctrl_out;		/* host-to-guest messages delivered */
	__u64 emerg_bytes;	/* bytes written to config emerg_wr */
	__u64 emerg_sum;	/* FNV-1a 64 over them */
	__u32 errors;		/* ring errors the device saw (bad index, chain) */
	__u32 kicks_delayed;	/* VTDEV_H_KICK_DELAY kicks that started spinning */
	char driver[32];	/* name of the bound driver, "" if none */
};

/* vtdev_hostile.op */
#define VTDEV_H_USED_LEN	1	/* next used entry on queue q: len += arg */
#define VTDEV_H_USED_ID		2	/* next used entry on queue q: id = arg */
#define VTDEV_H_BREAK		3	/* virtio_break_device() now */
#define VTDEV_H_REORDER		4	/* complete the next arg pairs on q swapped */
#define VTDEV_H_FAIL_FIND_VQS	5	/* next find_vqs: make arg queues, then -ENOMEM */
#define VTDEV_H_KICK_DELAY	6	/* next kick of queue q: spin arg us (<= 2000000) first */
/*
 * The next DEVICE_READY 1 (the one a restore sends): READY_BAD puts a
 * 4-byte control message after the first PORT_ADD it answers with;
 * READY_OMIT removes port arg without a PORT_REMOVE and leaves it out of
 * the announcement, as a port unplugged while the guest was frozen.
 */
#define VTDEV_H_READY_BAD	7
#define VTDEV_H_READY_OMIT	8	/* arg: port id */

struct vtdev_hostile {
	__u32 op;
	__u32 q;		/* virtqueue index */
	__u32 arg;
	__u32 pad;
};

/* The index of port id's queues, as the virtio specification lays them. */
static inline __u32 vtdev_rxq(__u32 id)
{
	return id ? 2 * id + 2 : 0;
}

static inline __u32 vtdev_txq(__u32 id)
{
	return vtdev_rxq(id) + 1;
}

#define VTDEV_CTRL_RXQ	2
#define VTDEV_CTRL_TXQ	3

#define VTDEV_IOC		0xb7
#define VTDEV_CREATE		_IOWR(VTDEV_IOC, 0, struct vtdev_create)
#define VTDEV_PORT_ADD		_IOW(VTDEV_IOC, 1, struct vtdev_port_cfg)
#define VTDEV_PORT_REMOVE	_IOW(VTDEV_IOC, 2, __u32)
#define VTDEV_HOST_OPEN		_IOW(VTDEV_IOC, 3, struct vtdev_open)
#define VTDEV_RESIZE		_IOW(VTDEV_IOC, 4, struct vtdev_resize)
#define VTDEV_SET_CONFIG	_IOW(VTDEV_IOC, 5, struct vtdev_config)
#define VTDEV_CTRL_SEND		_IOW(VTDEV_IOC, 6, struct vtdev_ctrl)
#define VTDEV_PORT_MODE		_IOW(VTDEV_IOC, 7, struct vtdev_mode)
#define VTDEV_SOURCE		_IOW(VTDEV_IOC, 8, struct vtdev_source)
#define VTDEV_PORT_WRITE	_IOWR(VTDEV_IOC, 9, struct vtdev_write)
#define VTDEV_PORT_STATS	_IOWR(VTDEV_IOC, 10, struct vtdev_stats)
#define VTDEV_STATE		_IOR(VTDEV_IOC, 11, struct vtdev_state)
#define VTDEV_HOSTILE		_IOW(VTDEV_IOC, 12, struct vtdev_hostile)
#define VTDEV_DESTROY		_IO(VTDEV_IOC, 13)

#endif /* VTDEV_UAPI_H */
