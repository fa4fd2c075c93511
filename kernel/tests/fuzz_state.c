// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_state.c - stateful libFuzzer target: the input is a sequence of
 * control messages, used completions and guest file operations, applied
 * to the port-table model (port_model.c) through the module's rules in
 * kernel/proto/, with the model's invariants checked after every step.
 *
 * Input: one byte of setup (max_nr_ports 1..8, keep_unread), then steps,
 * each an opcode byte and its arguments (see the switch).  Port id bytes
 * map to ids 0..9 (two past the model's table, so out-of-range ids are
 * common) or to the edge values 0x8000 and 0xffffffff.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/tests/port_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t next(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t next_id(struct input *in)
{
	uint8_t b = next(in);

	if (b == 0xff)
		return 0xffffffffU;
	if (b == 0xfe)
		return VS_MAX_PORTS;
	return b % (PM_PORTS + 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t buf[VS_CTRL_HDR_LEN + VS_NAME_MAX + 2];
	struct pm_model m;
	const char *bad;
	unsigned int step = 0, i, n;
	uint8_t setup, op;
	uint32_t id;

	if (size > 8192)
		return 0;
	setup = next(&in);
	pm_init(&m, 1 + (setup & 7), setup & 8);
	while (in.left) {
		op = next(&in);
		switch (op % 10) {
		case 0:		/* raw control message, any bytes */
			n = next(&in);
			for (i = 0; i < n; i++)
				buf[i] = next(&in);
			pm_ctrl(&m, buf, n);
			break;
		case 1:		/* well-formed header, padded */
			id = next_id(&in);
			n = next(&in);
			pm_ctrl_msg(&m, id, n < 0xf0 ? n % 9 : 0xff00 | n,
				    next(&in) % 3, next(&in) % 5);
			break;
		case 2:		/* PORT_NAME, name bytes from the input */
			id = next_id(&in);
			n = next(&in);
			vs_ctrl_encode(buf, id, VS_CTRL_PORT_NAME, 0);
			for (i = 0; i < n && i < VS_NAME_MAX + 1; i++)
				buf[VS_CTRL_HDR_LEN + i] = next(&in) % 4 ?
					'a' + i % 26 : next(&in);
			pm_ctrl(&m, buf, VS_CTRL_HDR_LEN + i);
			break;
		case 3:		/* receive buffer used, any used length */
			id = next_id(&in);
			n = next(&in);
			pm_rx_used(&m, id, n < 0xf0 ? n * 17 : PM_BUF_SIZE + n);
			break;
		case 4:
			pm_tx_used(&m, next_id(&in));
			break;
		case 5:
			pm_open(&m, next_id(&in));
			break;
		case 6:
			pm_close(&m, next_id(&in));
			break;
		case 7:
			id = next_id(&in);
			pm_read(&m, id, next(&in) * 32U);
			break;
		case 8:
			pm_write(&m, next_id(&in));
			break;
		case 9:		/* RESIZE with any size */
			id = next_id(&in);
			vs_ctrl_encode(buf, id, VS_CTRL_RESIZE, 0);
			for (i = 0; i < VS_CTRL_RESIZE_LEN; i++)
				buf[VS_CTRL_HDR_LEN + i] = next(&in);
			pm_ctrl(&m, buf, VS_CTRL_HDR_LEN + VS_CTRL_RESIZE_LEN);
			break;
		}
		bad = pm_check(&m);
		if (bad) {
			fprintf(stderr, "fuzz_state: step %u (op %u): %s\n",
				step, op % 10, bad);
			abort();
		}
		step++;
	}
	return 0;
}
