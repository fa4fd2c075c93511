// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_proto.c - libFuzzer target for the control-message parser.  The
 * first byte picks max_nr_ports so the id range check is exercised too; a
 * parsed message must satisfy every invariant the driver relies on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernel/proto/virtser_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_port_view view = { 0 };
	struct vs_ctrl_msg m;
	u32 maxp, len;

	if (size < 1 || size > 4096 + 1)
		return 0;
	maxp = data[0] ? data[0] : VS_MAX_PORTS;
	if (vs_ctrl_parse(data + 1, size - 1, maxp, &m))
		return 0;
	if (m.id >= maxp)
		abort();
	if (m.event == VS_CTRL_PORT_NAME) {
		if (!m.name || m.name_len == 0 || m.name_len > VS_NAME_MAX ||
		    (const uint8_t *)m.name + m.name_len > data + size ||
		    !vs_name_valid((const u8 *)m.name, m.name_len))
			abort();
	}
	view.exists = data[size - 1] & 1;
	view.is_console = data[size - 1] & 2;
	view.has_name = data[size - 1] & 4;
	(void)vs_ctrl_decide(&m, &view);
	(void)vs_used_len((u32)size, 4096, &len);
	return 0;
}
