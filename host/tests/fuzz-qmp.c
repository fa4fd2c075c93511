// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-qmp.c - libFuzzer target for the QMP splitter and parser.
 *
 * The first byte chooses the read size; the stream is split in reads of
 * that size and in one read, and both must find the same messages (the
 * splitter keeps its state between reads).  Every message is parsed, and
 * what the parser returns must lie within the bounds qmp_proto.h promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/qmp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t run(struct vs_qmp_split *s, const uint8_t *in, size_t n, size_t step)
{
	uint64_t h = 1469598103934665603ull;
	size_t off = 0;

	vs_qmp_split_reset(s);
	while (off < n) {
		char *dst;
		size_t room = vs_qmp_split_space(s, &dst), k = n - off;
		enum vs_qmp_next r;
		const char *m;
		size_t ml;

		if (k > step)
			k = step;
		if (k > room)
			k = room;
		memcpy(dst, in + off, k);
		vs_qmp_split_commit(s, k);
		off += k;
		while ((r = vs_qmp_split_next(s, &m, &ml)) != VS_QMP_NEED) {
			struct vs_qmp_msg q;

			h = (h ^ (uint64_t)r) * 1099511628211ull;
			if (r != VS_QMP_MSG)
				continue;
			if (ml == 0 || ml > VS_QMP_MSG_MAX || m[0] != '{')
				abort();
			h = (h ^ ml) * 1099511628211ull;
			if (vs_qmp_parse(m, ml, &q) == 0) {
				struct vs_qmp_iter it = { 0 };
				char l[VS_QMP_STR_MAX];
				bool open;
				unsigned k2 = 0;

				if (strlen(q.event) >= sizeof(q.event) ||
				    strlen(q.data_id) >= sizeof(q.data_id) ||
				    q.data_open < -1 || q.data_open > 1)
					abort();
				if (q.ret && (q.ret < m || q.ret + q.ret_len > m + ml))
					abort();
				(void)vs_qmp_ret_string(&q, l, sizeof(l));
				while (vs_qmp_chardev_next(&q, &it, l, sizeof(l), &open))
					if (++k2 > ml || strlen(l) >= sizeof(l))
						abort();
			}
		}
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vs_qmp_split s;
	size_t step;

	if (!s.buf && vs_qmp_split_init(&s))
		abort();
	if (size < 1)
		return 0;
	step = data[0] ? data[0] : 1;
	if (run(&s, data + 1, size - 1, step) != run(&s, data + 1, size - 1, size))
		abort();
	return 0;
}
