// SPDX-License-Identifier: GPL-2.0
/*
 * test_proto.c - table-driven tests of kernel/proto against crafted control
 * messages: short, oversized, out-of-range, malformed and repeated ones.
 */
#include <string.h>

#include "tests/tap.h"
#include "kernel/proto/virtser_proto.h"

#define MAXP 31

struct parse_case {
	const char *what;
	u8 bytes[300];
	u32 len;
	int want;
	u32 id;
	u16 event;
};

#define HDR(id, ev, val) \
	(id) & 0xff, ((id) >> 8) & 0xff, ((id) >> 16) & 0xff, (id) >> 24, \
	(ev) & 0xff, (ev) >> 8, (val) & 0xff, (val) >> 8

#define OK(w, l, i, ev, ...) \
	{ .what = (w), .len = (l), .id = (i), .event = (ev), \
	  .bytes = { __VA_ARGS__ } }
#define BAD(w, l, err, ...) \
	{ .what = (w), .len = (l), .want = (err), .bytes = { __VA_ARGS__ } }

static const struct parse_case parse_cases[] = {
	BAD("empty buffer", 0, -EINVAL, 0),
	BAD("7-byte header", 7, -EINVAL, HDR(1, 1, 1)),
	OK("PORT_ADD", 8, 1, VS_CTRL_PORT_ADD, HDR(1, 1, 1)),
	OK("PORT_ADD id 30 (last)", 8, 30, 1, HDR(30, 1, 1)),
	BAD("PORT_ADD id 31 out of range", 8, -ERANGE, HDR(31, 1, 1)),
	BAD("PORT_ADD id 0xffffffff", 8, -ERANGE, HDR(0xffffffffU, 1, 1)),
	OK("PORT_ADD with trailing byte", 9, 1, VS_CTRL_PORT_ADD, HDR(1, 1, 1), 0),
	OK("PORT_REMOVE", 8, 2, VS_CTRL_PORT_REMOVE, HDR(2, 2, 1)),
	OK("PORT_OPEN 0", 8, 3, VS_CTRL_PORT_OPEN, HDR(3, 6, 0)),
	OK("PORT_OPEN oversized", 12, 3, VS_CTRL_PORT_OPEN, HDR(3, 6, 1), 1, 2, 3, 4),
	OK("CONSOLE_PORT", 8, 0, VS_CTRL_CONSOLE_PORT, HDR(0, 4, 1)),
	OK("RESIZE", 12, 0, VS_CTRL_RESIZE, HDR(0, 5, 0), 80, 0, 25, 0),
	BAD("RESIZE short payload", 11, -EINVAL, HDR(0, 5, 0), 80, 0, 25),
	BAD("RESIZE no payload", 8, -EINVAL, HDR(0, 5, 0)),
	OK("RESIZE oversized", 13, 0, VS_CTRL_RESIZE, HDR(0, 5, 0), 80, 0, 25, 0, 0),
	BAD("DEVICE_READY from host", 8, -EOPNOTSUPP, HDR(0, 0, 1)),
	BAD("PORT_READY from host", 8, -EOPNOTSUPP, HDR(1, 3, 1)),
	BAD("unknown event 8", 8, -EOPNOTSUPP, HDR(1, 8, 1)),
	BAD("unknown event 0xffff", 8, -EOPNOTSUPP, HDR(1, 0xffff, 1)),
	OK("PORT_NAME with NUL (QEMU)", 11, 1, 7, HDR(1, 7, 1), 'a', 'b', 0),
	OK("PORT_NAME without NUL (spec)", 10, 1, 7, HDR(1, 7, 1), 'a', 'b'),
	BAD("PORT_NAME empty", 8, -EINVAL, HDR(1, 7, 1)),
	BAD("PORT_NAME only NUL", 9, -EINVAL, HDR(1, 7, 1), 0),
	BAD("PORT_NAME newline", 11, -EINVAL, HDR(1, 7, 1), 'a', '\n', 'b'),
	BAD("PORT_NAME slash", 11, -EINVAL, HDR(1, 7, 1), 'a', '/', 'b'),
	OK("PORT_NAME UTF-8 e-acute", 10, 1, 7, HDR(1, 7, 1), 0xc3, 0xa9),
	OK("PORT_NAME 4-byte UTF-8", 12, 1, 7, HDR(1, 7, 1), 0xf0, 0x9f, 0x98, 0x80),
	BAD("PORT_NAME truncated UTF-8", 10, -EINVAL, HDR(1, 7, 1), 'a', 0xc3),
	BAD("PORT_NAME overlong UTF-8", 10, -EINVAL, HDR(1, 7, 1), 0xc0, 0xaf),
	BAD("PORT_NAME 3-byte overlong", 11, -EINVAL, HDR(1, 7, 1), 0xe0, 0x80, 0xaf),
	BAD("PORT_NAME surrogate", 11, -EINVAL, HDR(1, 7, 1), 0xed, 0xa0, 0x80),
	BAD("PORT_NAME above U+10FFFF", 12, -EINVAL, HDR(1, 7, 1), 0xf4, 0x90, 0x80, 0x80),
	BAD("PORT_NAME bad continuation", 11, -EINVAL, HDR(1, 7, 1), 0xe2, 0x28, 0xa1),
	BAD("PORT_NAME id out of range", 9, -ERANGE, HDR(40, 7, 1), 'a'),
};

static void test_parse_table(void)
{
	const struct parse_case *c;
	struct vs_ctrl_msg m;
	size_t i;
	int r;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = &parse_cases[i];
		r = vs_ctrl_parse(c->bytes, c->len, MAXP, &m);
		if (r || c->want)
			tap_check(r == c->want, "parse %s: %d (want %d)",
				  c->what, r, c->want);
		else
			tap_check(m.id == c->id && m.event == c->event,
				  "parse %s: id %u event %u", c->what,
				  m.id, m.event);
	}
}

static void test_parse_fields(void)
{
	static const u8 resize[] = { HDR(0, 5, 0), 0x50, 0x00, 0x19, 0x00 };
	static const u8 name[] = { HDR(5, 7, 1), 'o', 'r', 'g', '.', 'x', 0, 'j' };
	u8 big[8 + VS_NAME_MAX + 2];
	struct vs_ctrl_msg m = { 0 };

	tap_check(!vs_ctrl_parse(resize, sizeof(resize), MAXP, &m) &&
		  m.cols == 80 && m.rows == 25,
		  "RESIZE payload is cols then rows (%u x %u)", m.cols, m.rows);
	tap_check(!vs_ctrl_parse(name, sizeof(name), MAXP, &m) &&
		  m.name_len == 5 && !memcmp(m.name, "org.x", 5) && m.id == 5,
		  "PORT_NAME stops at the first NUL");

	memset(big, 'n', sizeof(big));
	vs_ctrl_encode(big, 1, VS_CTRL_PORT_NAME, 1);
	tap_check(!vs_ctrl_parse(big, 8 + VS_NAME_MAX, MAXP, &m) &&
		  m.name_len == VS_NAME_MAX, "PORT_NAME of VS_NAME_MAX bytes");
	tap_check(vs_ctrl_parse(big, 8 + VS_NAME_MAX + 1, MAXP, &m) == -EMSGSIZE,
		  "PORT_NAME one byte too long is oversized");
	big[8 + VS_NAME_MAX] = 0;
	tap_check(!vs_ctrl_parse(big, sizeof(big), MAXP, &m) &&
		  m.name_len == VS_NAME_MAX,
		  "PORT_NAME of VS_NAME_MAX bytes plus NUL and junk");
	tap_check(vs_ctrl_parse(big, 8, 0, &m) == -EINVAL,
		  "empty PORT_NAME rejected before the id check");
	vs_ctrl_encode(big, 0, VS_CTRL_PORT_ADD, 1);
	tap_check(vs_ctrl_parse(big, 8, 0, &m) == -ERANGE,
		  "max_nr_ports 0 admits no id");
}

/*
 * Trailing bytes after a fixed-size message are accepted, as in-tree
 * does (another VMM may pad), and reported in @extra so the driver can
 * count them; the fields still come from the fixed part only.
 */
static void test_parse_trailing(void)
{
	static const u8 add[] = { HDR(2, 1, 1), 0xaa, 0xbb, 0xcc };
	static const u8 cons[] = { HDR(0, 4, 1), 0 };
	static const u8 resize[] = { HDR(0, 5, 0), 80, 0, 25, 0, 0xff, 0xff };
	static const u8 plain[] = { HDR(2, 2, 1) };
	struct vs_ctrl_msg m = { 0 };

	tap_check(!vs_ctrl_parse(add, sizeof(add), MAXP, &m) && m.id == 2 &&
		  m.event == VS_CTRL_PORT_ADD && m.value == 1 && m.extra == 3,
		  "PORT_ADD with 3 trailing bytes: accepted, extra %u", m.extra);
	tap_check(!vs_ctrl_parse(cons, sizeof(cons), MAXP, &m) &&
		  m.event == VS_CTRL_CONSOLE_PORT && m.extra == 1,
		  "CONSOLE_PORT with a trailing byte: accepted, extra %u", m.extra);
	tap_check(!vs_ctrl_parse(resize, sizeof(resize), MAXP, &m) &&
		  m.cols == 80 && m.rows == 25 && m.extra == 2,
		  "RESIZE with 2 trailing bytes: %u x %u, extra %u", m.cols,
		  m.rows, m.extra);
	tap_check(!vs_ctrl_parse(plain, sizeof(plain), MAXP, &m) && !m.extra,
		  "PORT_REMOVE without trailing bytes: extra 0");
}

static void test_encode(void)
{
	static const u8 want[] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0 };
	static const u8 want2[] = { 0x34, 0x12, 0, 0, 6, 0, 0, 0 };
	u8 out[VS_CTRL_HDR_LEN];

	vs_ctrl_encode(out, VS_CTRL_BAD_ID, VS_CTRL_DEVICE_READY, 1);
	tap_check(!memcmp(out, want, sizeof(out)), "encode DEVICE_READY 1");
	vs_ctrl_encode(out, 0x1234, VS_CTRL_PORT_OPEN, 0);
	tap_check(!memcmp(out, want2, sizeof(out)), "encode PORT_OPEN 0 is little-endian");
}

struct decide_case {
	const char *what;
	u16 event;
	u16 value;
	struct vs_port_view port;
	enum vs_ctrl_action want;
};

static const struct decide_case decide_cases[] = {
	{ "first PORT_ADD", VS_CTRL_PORT_ADD, 1, { .exists = false }, VS_ACT_ADD_PORT },
	{ "duplicate PORT_ADD", VS_CTRL_PORT_ADD, 1, { .exists = true }, VS_ACT_RESEND_READY },
	{ "PORT_REMOVE of absent port", VS_CTRL_PORT_REMOVE, 1, { .exists = false }, VS_ACT_IGNORE },
	{ "PORT_REMOVE", VS_CTRL_PORT_REMOVE, 1, { .exists = true }, VS_ACT_REMOVE_PORT },
	{ "CONSOLE_PORT", VS_CTRL_CONSOLE_PORT, 1, { .exists = true }, VS_ACT_MAKE_CONSOLE },
	{ "CONSOLE_PORT value 0", VS_CTRL_CONSOLE_PORT, 0, { .exists = true }, VS_ACT_IGNORE },
	{ "duplicate CONSOLE_PORT", VS_CTRL_CONSOLE_PORT, 1, { .exists = true, .is_console = true }, VS_ACT_IGNORE },
	{ "CONSOLE_PORT of absent port", VS_CTRL_CONSOLE_PORT, 1, { .exists = false }, VS_ACT_IGNORE },
	/* hvc and read() would both consume the receive queue */
	{ "CONSOLE_PORT of a port open as a vport", VS_CTRL_CONSOLE_PORT, 1,
	  { .exists = true, .open = true }, VS_ACT_REFUSE_CONSOLE },
	{ "RESIZE of console", VS_CTRL_RESIZE, 0, { .exists = true, .is_console = true }, VS_ACT_RESIZE },
	{ "RESIZE of generic port", VS_CTRL_RESIZE, 0, { .exists = true }, VS_ACT_IGNORE },
	{ "PORT_OPEN", VS_CTRL_PORT_OPEN, 1, { .exists = true }, VS_ACT_HOST_OPEN },
	{ "PORT_OPEN of absent port", VS_CTRL_PORT_OPEN, 1, { .exists = false }, VS_ACT_IGNORE },
	{ "first PORT_NAME", VS_CTRL_PORT_NAME, 1, { .exists = true }, VS_ACT_SET_NAME },
	{ "duplicate PORT_NAME", VS_CTRL_PORT_NAME, 1, { .exists = true, .has_name = true }, VS_ACT_IGNORE },
};

static void test_decide(void)
{
	const struct decide_case *c;
	struct vs_ctrl_msg m = { 0 };
	size_t i;

	for (i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		c = &decide_cases[i];
		m.event = c->event;
		m.value = c->value;
		tap_check(vs_ctrl_decide(&m, &c->port) == c->want,
			  "decide %s", c->what);
	}
}

static void test_limits(void)
{
	u32 n = 99;

	tap_check(!vs_used_len(4096, 4096, &n) && n == 4096, "used length == capacity");
	tap_check(vs_used_len(4097, 4096, &n) == -EMSGSIZE && n == 4096,
		  "used length above capacity is clamped and reported");
	tap_check(!vs_used_len(0, 4096, &n) && n == 0, "used length 0");
	tap_check(!vs_config_max_ports(false, 0, &n) && n == 1,
		  "no multiport: one port whatever config says");
	tap_check(vs_config_max_ports(true, 0, &n) == -EINVAL, "max_nr_ports 0 rejected");
	tap_check(!vs_config_max_ports(true, 0x8000, &n) && n == 0x8000,
		  "max_nr_ports 0x8000 accepted");
	tap_check(vs_config_max_ports(true, 0x8001, &n) == -EINVAL,
		  "max_nr_ports 0x8001 rejected");
	tap_check(vs_port_rx_vq(0) == 0 && vs_port_tx_vq(0) == 1 &&
		  vs_port_rx_vq(1) == 4 && vs_port_tx_vq(1) == 5 &&
		  vs_port_rx_vq(30) == 62, "port to virtqueue mapping");
}

int main(void)
{
	test_parse_table();
	test_parse_fields();
	test_parse_trailing();
	test_encode();
	test_decide();
	test_limits();
	return tap_done();
}
