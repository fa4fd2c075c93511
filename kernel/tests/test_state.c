// SPDX-License-Identifier: GPL-2.0
/*
 * test_state.c - hand-written sequences through the port-table model
 * (port_model.c), which applies the module's own rules from kernel/proto/:
 * the defect scenarios of issue 11 and the rules the stateful fuzzer
 * (fuzz_state.c) checks, so they are tested without clang too.  The last
 * group breaks each invariant in a model by hand to show pm_check() sees
 * it.
 */
#include <string.h>

#include "tests/tap.h"
#include "kernel/tests/port_model.h"

static void name(struct pm_model *m, uint32_t id, const char *s)
{
	uint8_t buf[VS_CTRL_HDR_LEN + 32];
	size_t n = strlen(s);

	vs_ctrl_encode(buf, id, VS_CTRL_PORT_NAME, 0);
	memcpy(buf + VS_CTRL_HDR_LEN, s, n + 1);	/* with QEMU's NUL */
	pm_ctrl(m, buf, VS_CTRL_HDR_LEN + n + 1);
}

static void resize(struct pm_model *m, uint32_t id, uint16_t cols,
		   uint16_t rows)
{
	uint8_t buf[VS_CTRL_HDR_LEN + VS_CTRL_RESIZE_LEN];

	vs_ctrl_encode(buf, id, VS_CTRL_RESIZE, 0);
	buf[8] = cols & 0xff;
	buf[9] = cols >> 8;
	buf[10] = rows & 0xff;
	buf[11] = rows >> 8;
	pm_ctrl(m, buf, sizeof(buf));
}

static int ok(const struct pm_model *m, const char *what)
{
	const char *bad = pm_check(m);

	if (bad)
		tap_diag("%s: %s", what, bad);
	return !bad;
}

static void console_for_open_port(void)
{
	struct pm_model m;

	pm_init(&m, 4, false);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_ADD, 1, 0);
	tap_check(pm_open(&m, 1) == 0, "open a new port");
	pm_ctrl_msg(&m, 1, VS_CTRL_CONSOLE_PORT, 1, 0);
	tap_check(!m.port[1].console && m.port[1].vport_open &&
		  m.console_refused == 1 && ok(&m, "console"),
		  "CONSOLE_PORT for an open port is refused and counted");
	pm_rx_used(&m, 1, 100);
	tap_check(pm_read(&m, 1, 4096) == 100 && m.port[1].rx_bytes == 0 &&
		  ok(&m, "read"), "the open port keeps its one reader");
	pm_close(&m, 1);
	pm_ctrl_msg(&m, 1, VS_CTRL_CONSOLE_PORT, 1, 0);
	tap_check(m.port[1].console && ok(&m, "console after close"),
		  "CONSOLE_PORT once the port is closed makes a console");
	tap_check(pm_open(&m, 1) == -ENXIO && !m.port[1].vport_open,
		  "a console port cannot be opened as a vport (-ENXIO)");
	pm_ctrl_msg(&m, 2, VS_CTRL_PORT_ADD, 1, 0);
	tap_check(pm_open(&m, 2) == 0 && pm_open(&m, 2) == -EBUSY,
		  "a second open of a generic port is -EBUSY");
}

static void add_existing_id(void)
{
	struct pm_model m;

	pm_init(&m, 4, false);
	pm_ctrl_msg(&m, 3, VS_CTRL_PORT_ADD, 1, 0);
	name(&m, 3, "org.test.one");
	pm_ctrl_msg(&m, 3, VS_CTRL_PORT_OPEN, 1, 0);
	pm_open(&m, 3);
	pm_rx_used(&m, 3, 10);
	pm_ctrl_msg(&m, 3, VS_CTRL_PORT_ADD, 1, 0);
	tap_check(m.port[3].adds == 1 && m.ready_sent[3] == 2 &&
		  m.port[3].vport_open && m.port[3].rx_bytes == 10 &&
		  m.port[3].host_connected && ok(&m, "re-add"),
		  "PORT_ADD for an existing id re-sends PORT_READY, same port");
	name(&m, 3, "org.test.two");
	tap_check(m.port[3].names == 1 && ok(&m, "rename"),
		  "a second PORT_NAME in one life is ignored");
	pm_ctrl_msg(&m, 3, VS_CTRL_PORT_ADD, 1, 4);
	tap_check(m.port[3].adds == 1 && m.rejected == 0,
		  "PORT_ADD with 4 trailing bytes is accepted, same port");
}

static void used_after_remove(void)
{
	struct pm_model m;

	pm_init(&m, 4, false);
	pm_ctrl_msg(&m, 2, VS_CTRL_PORT_ADD, 1, 0);
	pm_ctrl_msg(&m, 2, VS_CTRL_PORT_OPEN, 1, 0);
	pm_open(&m, 2);
	pm_rx_used(&m, 2, 300);
	pm_write(&m, 2);
	pm_write(&m, 2);
	pm_ctrl_msg(&m, 2, VS_CTRL_PORT_REMOVE, 0, 0);
	tap_check(!m.port[2].present && m.stale_file[2] &&
		  m.vq[2].rx_posted == PM_RING - 1 && m.vq[2].tx_posted == 2 &&
		  ok(&m, "remove"),
		  "PORT_REMOVE of an open port: no port buffers, ring keeps its own");
	pm_rx_used(&m, 2, 4096);
	pm_rx_used(&m, 2, 9999);
	pm_tx_used(&m, 2);
	tap_check(m.orphans_drained == 3 && m.port[2].rx_bytes == 0 &&
		  m.port[2].rxq_n == 0 && ok(&m, "used after remove"),
		  "used completions after PORT_REMOVE go to the orphan drain");
	tap_check(pm_read(&m, 2, 100) == 0 && pm_write(&m, 2) == -ENODEV,
		  "the stale file reads nothing and cannot write");
	pm_ctrl_msg(&m, 2, VS_CTRL_PORT_ADD, 1, 0);
	pm_tx_used(&m, 2);	/* the earlier life's last buffer */
	tap_check(m.port[2].tx_inflight == 0 && m.vq[2].tx_posted == 0 &&
		  ok(&m, "re-add"),
		  "a new port at the id absorbs the earlier life's tx buffer");
	pm_rx_used(&m, 2, 50);
	tap_check(m.port[2].rxq_n == 0 && m.rx_dropped >= 1 && ok(&m, "unread"),
		  "data for the new port nobody opened is dropped");
	pm_close(&m, 2);
	tap_check(!m.stale_file[2] && ok(&m, "close stale"),
		  "closing the stale file leaves the new port alone");
}

static void rx_accounting(void)
{
	struct pm_model m;

	pm_init(&m, 2, false);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_ADD, 1, 0);
	pm_open(&m, 1);
	pm_rx_used(&m, 1, 0);
	pm_rx_used(&m, 1, PM_BUF_SIZE + 5);
	pm_rx_used(&m, 1, 7);
	tap_check(m.port[1].rxq_n == 2 &&
		  m.port[1].rx_bytes == PM_BUF_SIZE + 7 && ok(&m, "fill"),
		  "an empty buffer is re-posted, an overlong one clamped");
	tap_check(pm_read(&m, 1, 100) == 100 &&
		  pm_read(&m, 1, 1 << 20) == PM_BUF_SIZE - 100 + 7 &&
		  m.port[1].rx_bytes == 0 && ok(&m, "read"),
		  "reads take exactly what was queued, no underflow");
	tap_check(pm_read(&m, 1, 10) == 0 && m.vq[1].rx_posted == PM_RING,
		  "an empty queue reads 0 and every buffer is back");
	pm_rx_used(&m, 1, 20);
	pm_close(&m, 1);
	tap_check(m.port[1].rx_bytes == 0 && m.vq[1].rx_posted == PM_RING &&
		  ok(&m, "close"), "close drops unread data and re-posts it");

	pm_init(&m, 2, true);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_ADD, 1, 0);
	pm_open(&m, 1);
	pm_rx_used(&m, 1, 20);
	pm_close(&m, 1);
	pm_rx_used(&m, 1, 30);
	tap_check(m.port[1].rx_bytes == 50 && ok(&m, "keep_unread"),
		  "keep_unread keeps data for a closed port");
}

static void ranges_and_resize(void)
{
	struct pm_model m;

	pm_init(&m, 4, false);
	pm_ctrl_msg(&m, 4, VS_CTRL_PORT_ADD, 1, 0);
	pm_ctrl_msg(&m, 0xffffffffU, VS_CTRL_PORT_ADD, 1, 0);
	pm_ctrl_msg(&m, 1, 8, 1, 0);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_READY, 1, 0);
	tap_check(m.rejected == 4 && !m.port[4].present && ok(&m, "range"),
		  "ids past max_nr_ports and unknown events are rejected");
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_REMOVE, 0, 0);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_OPEN, 1, 0);
	name(&m, 1, "ghost");
	tap_check(!m.port[1].present && ok(&m, "absent"),
		  "messages for an absent port are dropped");
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_ADD, 1, 0);
	resize(&m, 1, 80, 25);
	tap_check(!m.port[1].cols && ok(&m, "resize generic"),
		  "RESIZE of a generic port is ignored");
	pm_ctrl_msg(&m, 1, VS_CTRL_CONSOLE_PORT, 1, 0);
	resize(&m, 1, 132, 43);
	tap_check(m.port[1].cols == 132 && m.port[1].rows == 43 &&
		  ok(&m, "resize console"), "RESIZE of a console applies");
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_REMOVE, 0, 0);
	pm_ctrl_msg(&m, 1, VS_CTRL_PORT_ADD, 1, 0);
	name(&m, 1, "again");
	tap_check(m.port[1].names == 1 && !m.port[1].console &&
		  ok(&m, "new life"), "a new life at the id starts unnamed, generic");
}

/* Each invariant, broken by hand: pm_check() must name it. */
static void base(struct pm_model *m)
{
	pm_init(m, 4, false);
	pm_ctrl_msg(m, 1, VS_CTRL_PORT_ADD, 1, 0);
	pm_open(m, 1);
	pm_rx_used(m, 1, 10);
}

static void expect_bad(struct pm_model *m, const char *what)
{
	const char *bad = pm_check(m);

	tap_check(bad != NULL, "pm_check sees: %s (%s)", what,
		  bad ? bad : "missed");
}

static void broken_models(void)
{
	struct pm_model m;

	base(&m);
	tap_check(pm_check(&m) == NULL, "the base model is sound");
	base(&m);
	m.port[1].console = true;
	expect_bad(&m, "console and open");
	base(&m);
	m.port[1].present = false;
	m.ready_sent[1] = 0;
	expect_bad(&m, "removed id with buffers");
	base(&m);
	m.port[1].adds = 2;
	expect_bad(&m, "two ports at one id");
	base(&m);
	m.ready_sent[2] = 1;
	expect_bad(&m, "ready for no port");
	base(&m);
	m.port[1].names = 2;
	expect_bad(&m, "named twice");
	base(&m);
	m.port[1].rx_bytes -= 11;
	expect_bad(&m, "rx_bytes wrapped");
	base(&m);
	m.underflows = 1;
	expect_bad(&m, "underflow seen");
	base(&m);
	m.port[1].cols = 80;
	expect_bad(&m, "generic port resized");
	base(&m);
	m.vq[1].rx_posted = PM_RING + 1;
	expect_bad(&m, "ring overfilled");
	base(&m);
	m.port[1].guest_connected = false;
	m.port[1].vport_open = false;
	expect_bad(&m, "data for nobody");
}

int main(void)
{
	console_for_open_port();
	add_existing_id();
	used_after_remove();
	rx_accounting();
	ranges_and_resize();
	broken_models();
	return tap_done();
}
