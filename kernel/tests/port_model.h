/* SPDX-License-Identifier: GPL-2.0 */
/*
 * port_model.h - a model of virtser.ko's port table, driven through the
 * module's own rules in kernel/proto/ (vs_ctrl_parse, vs_ctrl_decide,
 * vs_used_len, vs_port_claim, vs_rx_keep).
 *
 * What the module does with kernel objects (cdevs, hvc, sysfs) is reduced
 * to the state a user of the port can observe; what it decides is never
 * re-implemented here but asked of proto/.  After every step
 * pm_check() looks for a broken invariant.  Used by fuzz_state.c
 * (libFuzzer) and test_state.c (hand-written sequences, TAP).
 */
#ifndef VIRTSER_PORT_MODEL_H
#define VIRTSER_PORT_MODEL_H

#include <stdint.h>

#include "kernel/proto/virtser_proto.h"

/* Ids the model tracks; messages may name any id up to VS_MAX_PORTS. */
#define PM_PORTS	8
/* Receive buffers a port's receive virtqueue holds (a page each). */
#define PM_RING		4
#define PM_BUF_SIZE	4096U

/* A port's life, from PORT_ADD to PORT_REMOVE. */
struct pm_port {
	bool present;		/* in the port table */
	bool unplugged;		/* a removed port that a file still holds */
	bool console;		/* is_console */
	bool vport_open;	/* open as /dev/vportNpM */
	bool guest_connected;	/* the module's flag: vport_open || console */
	bool host_connected;
	bool rx_allocated;	/* receive buffers posted on first reader */
	unsigned int names;	/* names set in this life */
	unsigned int adds;	/* ports created in this life (ADD_PORT) */
	unsigned int rxq_len[2 * PM_RING];	/* unread buffers, bytes each */
	unsigned int rxq_off;	/* bytes already read from rxq_len[0] */
	unsigned int rxq_n;
	uint32_t rx_bytes;	/* the module's unread-byte count */
	unsigned int tx_inflight;	/* buffers the port sent, not returned */
	uint16_t cols, rows;
};

/*
 * A port id's virtqueues outlive the ports that use them: buffers posted
 * by one life are returned to the next owner (a later port at the id, or
 * the device's orphan drain).
 */
struct pm_vq {
	unsigned int rx_posted;	/* receive buffers the device holds */
	unsigned int tx_posted;	/* transmit buffers the device holds */
};

struct pm_model {
	uint32_t max_nr_ports;
	bool keep_unread;
	struct pm_port port[PM_PORTS];
	struct pm_vq vq[PM_PORTS];
	/* What the module sent the device, per id, in this port life. */
	unsigned int ready_sent[PM_PORTS];
	unsigned int ready_for_absent;	/* PORT_READY 1 for no port: a bug */
	unsigned int underflows;	/* unread count would have wrapped */
	bool stale_file[PM_PORTS];	/* a file of a removed port still open */
	unsigned int console_refused;
	unsigned int orphans_drained;
	unsigned int rx_dropped;	/* buffers re-posted unread */
	unsigned int rejected;		/* messages vs_ctrl_parse refused */
};

void pm_init(struct pm_model *m, uint32_t max_nr_ports, bool keep_unread);

/* The device sends a control message (any bytes). */
void pm_ctrl(struct pm_model *m, const uint8_t *buf, uint32_t len);
/* Same, built from fields; @extra bytes of zero padding after them. */
void pm_ctrl_msg(struct pm_model *m, uint32_t id, uint16_t event,
		 uint16_t value, uint32_t extra);
/* The device returns a receive / transmit buffer with a used length. */
void pm_rx_used(struct pm_model *m, uint32_t id, uint32_t used);
void pm_tx_used(struct pm_model *m, uint32_t id);

/* The guest: open(), close(), read() of /dev/vportNpM; write(). */
int pm_open(struct pm_model *m, uint32_t id);
void pm_close(struct pm_model *m, uint32_t id);
uint32_t pm_read(struct pm_model *m, uint32_t id, uint32_t count);
int pm_write(struct pm_model *m, uint32_t id);

/* NULL, or the invariant that does not hold, for the failure message. */
const char *pm_check(const struct pm_model *m);

#endif /* VIRTSER_PORT_MODEL_H */
