/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtio console wire format: validation and encoding.
 *
 * Everything the device hands the driver (control messages, used lengths,
 * config-space values) goes through these functions before the driver acts
 * on it.  They have no side effects and keep no state, which is what lets
 * the same code run in the module, in unit tests and under libFuzzer.
 */
#ifndef VIRTSER_PROTO_H
#define VIRTSER_PROTO_H

#include "virtser_types.h"

/* Control events, numbered as in the virtio specification. */
enum vs_ctrl_event {
	VS_CTRL_DEVICE_READY	= 0,	/* guest to host */
	VS_CTRL_PORT_ADD	= 1,	/* host to guest */
	VS_CTRL_PORT_REMOVE	= 2,	/* host to guest */
	VS_CTRL_PORT_READY	= 3,	/* guest to host */
	VS_CTRL_CONSOLE_PORT	= 4,	/* host to guest */
	VS_CTRL_RESIZE		= 5,	/* host to guest */
	VS_CTRL_PORT_OPEN	= 6,	/* both ways */
	VS_CTRL_PORT_NAME	= 7,	/* host to guest */
};

/* Size of the id/event/value header in front of every control message. */
#define VS_CTRL_HDR_LEN		8
/* Size of the RESIZE payload: le16 cols, then le16 rows. */
#define VS_CTRL_RESIZE_LEN	4
/* Id used in messages that are not about one port (DEVICE_READY). */
#define VS_CTRL_BAD_ID		0xffffffffU
/* Largest max_nr_ports the driver accepts from config space. */
#define VS_MAX_PORTS		0x8000U
/* Longest port name accepted, in bytes, without the terminating NUL. */
#define VS_NAME_MAX		255U

/**
 * struct vs_ctrl_msg - a validated host-to-guest control message
 * @id: port id, always below the max_nr_ports the message was checked against
 * @event: one of the host-to-guest &enum vs_ctrl_event values
 * @value: the header's value field
 * @cols: RESIZE only: terminal columns
 * @rows: RESIZE only: terminal rows
 * @name: PORT_NAME only: points into the parsed buffer, not NUL-terminated
 * @name_len: PORT_NAME only: length of @name, 1..VS_NAME_MAX
 * @extra: bytes after the fixed part of PORT_ADD, PORT_REMOVE,
 *	CONSOLE_PORT, PORT_OPEN or RESIZE, ignored (in-tree ignores them
 *	too; a VMM may pad), for the caller to count
 */
struct vs_ctrl_msg {
	u32 id;
	u16 event;
	u16 value;
	u16 cols;
	u16 rows;
	const char *name;
	u32 name_len;
	u32 extra;
};

int vs_ctrl_parse(const void *buf, u32 len, u32 max_nr_ports,
		  struct vs_ctrl_msg *msg);
void vs_ctrl_encode(u8 out[VS_CTRL_HDR_LEN], u32 id, u16 event, u16 value);
int vs_used_len(u32 used, u32 capacity, u32 *len);
int vs_config_max_ports(bool multiport, u32 raw, u32 *nr_ports);
bool vs_name_valid(const u8 *name, u32 len);

/*
 * What the driver should do with a valid message, given what it already
 * knows about the port.  Repeated messages (a second PORT_ADD, NAME or
 * CONSOLE_PORT) and messages for ports that do not exist are decided here,
 * so the policy is tested without a device.
 */
enum vs_ctrl_action {
	VS_ACT_IGNORE,		/* drop the message, nothing to do */
	VS_ACT_ADD_PORT,	/* create the port */
	VS_ACT_RESEND_READY,	/* port exists: tell the host again */
	VS_ACT_REMOVE_PORT,	/* hot-unplug the port */
	VS_ACT_MAKE_CONSOLE,	/* turn the port into an hvc console */
	VS_ACT_REFUSE_CONSOLE,	/* CONSOLE_PORT for an open port: count it */
	VS_ACT_RESIZE,		/* console size changed */
	VS_ACT_HOST_OPEN,	/* host connected or disconnected */
	VS_ACT_SET_NAME,	/* first name for the port */
};

/**
 * struct vs_port_view - what vs_ctrl_decide() needs to know about a port
 * @exists: a port with the message's id is present
 * @is_console: the port is already an hvc console
 * @has_name: the port already has a name
 * @open: the port is open as a generic port (/dev/vportNpM)
 */
struct vs_port_view {
	bool exists;
	bool is_console;
	bool has_name;
	bool open;
};

enum vs_ctrl_action vs_ctrl_decide(const struct vs_ctrl_msg *msg,
				   const struct vs_port_view *port);

/* Who wants to become the one reader of a port's receive queue. */
enum vs_reader {
	VS_READER_VPORT,	/* open() of /dev/vportNpM */
	VS_READER_CONSOLE,	/* CONSOLE_PORT: hvc's get_chars */
};

int vs_port_claim(enum vs_reader who, bool is_console, bool guest_connected,
		  bool unplugged);
bool vs_rx_keep(u32 len, bool guest_connected, bool keep_unread);

/* Virtqueue index of a port's receive and transmit queues. */
static inline u32 vs_port_rx_vq(u32 id)
{
	return id ? 2 * id + 2 : 0;
}

static inline u32 vs_port_tx_vq(u32 id)
{
	return vs_port_rx_vq(id) + 1;
}

#endif /* VIRTSER_PROTO_H */
