// SPDX-License-Identifier: GPL-2.0
/*
 * Pure validation of what a virtio console device sends.
 *
 * The in-tree driver casts its receive buffers to the wire structure and
 * acts on them in the same switch, without checking the length first.  Here
 * parsing is a separate step that either fills a struct vs_ctrl_msg whose
 * every field is known to be in range, or returns an error; the caller only
 * acts on the former.  Error codes:
 *
 *   -EINVAL      shorter than the header, or a malformed payload
 *   -EMSGSIZE    a port name longer than VS_NAME_MAX
 *
 * Bytes after the fixed part of the other events are accepted and
 * reported in vs_ctrl_msg.extra.
 *   -ERANGE      port id at or above max_nr_ports
 *   -EOPNOTSUPP  an event the host must not send (unknown or guest-only)
 */
#include "virtser_proto.h"

static u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | (p[1] << 8));
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) |
	       ((u32)p[3] << 24);
}

static void put_le16(u8 *p, u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put_le32(u8 *p, u32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

/*
 * Length of the UTF-8 sequence starting at s (at most len bytes), or 0 if it
 * is not a valid, shortest-form encoding of a scalar value.
 */
static u32 utf8_seq_len(const u8 *s, u32 len)
{
	u32 need, cp, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (need > len)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

/**
 * vs_name_valid() - check a port name before it becomes a sysfs value
 * @name: the name bytes, not NUL-terminated
 * @len: number of bytes in @name
 *
 * The name ends up in sysfs and, through udev, in a /dev/virtio-ports/
 * symlink, so it must be non-empty, bounded, valid UTF-8 and free of
 * control characters (a newline would forge a second line in sysfs) and
 * of '/' (udev would create directories).
 *
 * Context: any.
 * Return: true if the name is acceptable.
 */
bool vs_name_valid(const u8 *name, u32 len)
{
	u32 i = 0, n;

	if (len == 0 || len > VS_NAME_MAX)
		return false;
	while (i < len) {
		if (name[i] < 0x20 || name[i] == 0x7f || name[i] == '/')
			return false;
		n = utf8_seq_len(name + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/**
 * vs_ctrl_parse() - validate one control message from the device
 * @buf: the bytes the device wrote
 * @len: used length, already checked with vs_used_len()
 * @max_nr_ports: number of port ids the device announced
 * @msg: filled on success; untouched fields are zero
 *
 * PORT_NAME carries the name after the header.  QEMU appends a NUL that the
 * specification does not ask for; anything from the first NUL on is
 * ignored, so both forms are accepted.  RESIZE carries cols, then rows.
 *
 * Context: any; no side effects.
 * Return: 0, or a negative error code listed at the top of this file.
 */
int vs_ctrl_parse(const void *buf, u32 len, u32 max_nr_ports,
		  struct vs_ctrl_msg *msg)
{
	const u8 *p = buf;
	u32 payload, i;

	*msg = (struct vs_ctrl_msg){ 0 };
	if (len < VS_CTRL_HDR_LEN)
		return -EINVAL;
	msg->id = get_le32(p);
	msg->event = get_le16(p + 4);
	msg->value = get_le16(p + 6);
	payload = len - VS_CTRL_HDR_LEN;

	switch (msg->event) {
	case VS_CTRL_PORT_ADD:
	case VS_CTRL_PORT_REMOVE:
	case VS_CTRL_CONSOLE_PORT:
	case VS_CTRL_PORT_OPEN:
		msg->extra = payload;
		break;
	case VS_CTRL_RESIZE:
		if (payload < VS_CTRL_RESIZE_LEN)
			return -EINVAL;
		msg->extra = payload - VS_CTRL_RESIZE_LEN;
		msg->cols = get_le16(p + VS_CTRL_HDR_LEN);
		msg->rows = get_le16(p + VS_CTRL_HDR_LEN + 2);
		break;
	case VS_CTRL_PORT_NAME:
		for (i = 0; i < payload; i++)
			if (!p[VS_CTRL_HDR_LEN + i])
				break;
		if (i > VS_NAME_MAX)
			return -EMSGSIZE;
		if (!vs_name_valid(p + VS_CTRL_HDR_LEN, i))
			return -EINVAL;
		msg->name = (const char *)p + VS_CTRL_HDR_LEN;
		msg->name_len = i;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (msg->id >= max_nr_ports)
		return -ERANGE;
	return 0;
}

/**
 * vs_ctrl_decide() - map a valid message and the port's state to an action
 * @msg: a message accepted by vs_ctrl_parse()
 * @port: the driver's view of the port @msg->id
 *
 * The decisions follow the in-tree driver, so QEMU sees the same replies:
 * a PORT_ADD for an existing port is answered with PORT_READY again, a
 * second name or CONSOLE_PORT is ignored, and messages for ports that do
 * not exist are dropped.  Unlike in-tree, CONSOLE_PORT for a port that is
 * open as a generic port is refused: hvc and read() would both consume
 * its receive queue.
 *
 * Context: any; no side effects.
 * Return: the action to take.
 */
enum vs_ctrl_action vs_ctrl_decide(const struct vs_ctrl_msg *msg,
				   const struct vs_port_view *port)
{
	if (msg->event == VS_CTRL_PORT_ADD)
		return port->exists ? VS_ACT_RESEND_READY : VS_ACT_ADD_PORT;
	if (!port->exists)
		return VS_ACT_IGNORE;

	switch (msg->event) {
	case VS_CTRL_PORT_REMOVE:
		return VS_ACT_REMOVE_PORT;
	case VS_CTRL_CONSOLE_PORT:
		if (!msg->value || port->is_console)
			return VS_ACT_IGNORE;
		return port->open ? VS_ACT_REFUSE_CONSOLE : VS_ACT_MAKE_CONSOLE;
	case VS_CTRL_RESIZE:
		return port->is_console ? VS_ACT_RESIZE : VS_ACT_IGNORE;
	case VS_CTRL_PORT_OPEN:
		return VS_ACT_HOST_OPEN;
	case VS_CTRL_PORT_NAME:
		return port->has_name ? VS_ACT_IGNORE : VS_ACT_SET_NAME;
	default:
		return VS_ACT_IGNORE;
	}
}

/**
 * vs_port_claim() - may @who become the reader of a port's receive queue?
 * @who: open() of the generic device, or a CONSOLE_PORT being acted on
 * @is_console: the port is an hvc console
 * @guest_connected: the port already has its reader (an open file or hvc)
 * @unplugged: the port is being or has been removed
 *
 * A port has at most one reader: hvc and read() would both take buffers
 * off its receive queue, the unread byte count would underflow and
 * buffers would be re-posted twice.  The caller asks under the lock that
 * protects @guest_connected and sets it in the same critical section.
 *
 * Context: any; no side effects.
 * Return: 0 to go ahead, -ENXIO if the port is a console (open it as
 * /dev/hvcN) or gone, -EBUSY if it already has its reader.
 */
int vs_port_claim(enum vs_reader who, bool is_console, bool guest_connected,
		  bool unplugged)
{
	if (unplugged || (who == VS_READER_VPORT && is_console))
		return -ENXIO;
	if (guest_connected)
		return -EBUSY;
	return 0;
}

/**
 * vs_rx_keep() - keep a filled receive buffer for the reader?
 * @len: used length, already clamped by vs_used_len()
 * @guest_connected: the port has a reader (open file or hvc)
 * @keep_unread: the keep_unread module parameter
 *
 * An empty buffer carries nothing; data for a port nobody reads is dropped
 * (and counted) as in-tree does, unless keep_unread asks to keep it.
 *
 * Context: any; no side effects.
 * Return: true to queue it for the reader, false to re-post it at once.
 */
bool vs_rx_keep(u32 len, bool guest_connected, bool keep_unread)
{
	return len && (guest_connected || keep_unread);
}

/**
 * vs_ctrl_encode() - build a guest-to-host control message
 * @out: receives the 8-byte little-endian header
 * @id: port id, or VS_CTRL_BAD_ID
 * @event: DEVICE_READY, PORT_READY or PORT_OPEN
 * @value: event value
 *
 * Context: any.
 */
void vs_ctrl_encode(u8 out[VS_CTRL_HDR_LEN], u32 id, u16 event, u16 value)
{
	put_le32(out, id);
	put_le16(out + 4, event);
	put_le16(out + 6, value);
}

/**
 * vs_used_len() - check a used length reported by the device
 * @used: length from virtqueue_get_buf()
 * @capacity: size of the buffer that was posted
 * @len: set to the usable length
 *
 * A device that claims to have written more than the buffer holds is
 * broken or hostile; the in-tree driver clamps silently, we clamp and
 * report it so the caller can warn once.
 *
 * Context: any.
 * Return: 0, or -EMSGSIZE if @used was clamped.
 */
int vs_used_len(u32 used, u32 capacity, u32 *len)
{
	if (used > capacity) {
		*len = capacity;
		return -EMSGSIZE;
	}
	*len = used;
	return 0;
}

/**
 * vs_config_max_ports() - validate max_nr_ports from config space
 * @multiport: VIRTIO_CONSOLE_F_MULTIPORT was negotiated
 * @raw: the config-space value (ignored without @multiport)
 * @nr_ports: set to the number of port ids to support
 *
 * Context: any.
 * Return: 0, or -EINVAL if the value is 0 or above VS_MAX_PORTS.
 */
int vs_config_max_ports(bool multiport, u32 raw, u32 *nr_ports)
{
	if (!multiport) {
		*nr_ports = 1;
		return 0;
	}
	if (!raw || raw > VS_MAX_PORTS)
		return -EINVAL;
	*nr_ports = raw;
	return 0;
}
