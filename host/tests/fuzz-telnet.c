// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-telnet.c - libFuzzer target for the telnet codec.
 *
 * Decoding: the first byte chooses how the rest is split into reads; the
 * data bytes and replies must not depend on where the reads were split
 * (the codec keeps its state between calls), and must stay within the
 * sizes telnet.h promises.
 *
 * Encoding: whatever the guest sends, escaped and then decoded by a client
 * that has agreed to BINARY, comes back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/telnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t decode_split(const uint8_t *in, size_t n, size_t step, uint8_t *out,
			   uint8_t *reply, size_t *replylen, struct vs_telnet *t)
{
	size_t got = 0, off = 0, rl;

	*replylen = 0;
	vs_telnet_init(t);
	while (off < n) {
		size_t k = step ? (n - off < step ? n - off : step) : n - off;
		size_t d = vs_telnet_decode(t, in + off, k, out + got, reply + *replylen, &rl);

		if (d > k || rl > TN_REPLY_MAX * k)
			abort();
		got += d;
		*replylen += rl;
		off += k;
	}
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out1[8192], out2[8192], rep1[3 * 8192], rep2[3 * 8192];
	static uint8_t enc[2 * 8192], dec[2 * 8192], rep3[3 * 2 * 8192];
	struct vs_telnet t1, t2, tc;
	size_t n1, n2, r1, r2, used, e, d, rl;
	uint8_t binary[6] = { TN_IAC, TN_DO, TN_OPT_BINARY, TN_IAC, TN_WILL, TN_OPT_BINARY };
	uint8_t scratch[sizeof(binary)], srep[3 * sizeof(binary)];

	if (size < 1 || size > 8192)
		return 0;
	n1 = decode_split(data + 1, size - 1, 0, out1, rep1, &r1, &t1);
	n2 = decode_split(data + 1, size - 1, (size_t)data[0] % 17 + 1, out2, rep2, &r2, &t2);
	if (n1 != n2 || memcmp(out1, out2, n1) || r1 != r2 || memcmp(rep1, rep2, r1) ||
	    t1.breaks != t2.breaks) {
		fprintf(stderr, "decoding depends on how the input was split (%zu/%zu data, %zu/%zu reply)\n",
			n1, n2, r1, r2);
		abort();
	}

	/* Round trip of guest output through a BINARY client. */
	e = vs_telnet_encode(data, size, enc, sizeof(enc), &used);
	if (used != size || e > 2 * size)
		abort();
	vs_telnet_init(&tc);
	(void)vs_telnet_decode(&tc, binary, sizeof(binary), scratch, srep, &rl);
	d = vs_telnet_decode(&tc, enc, e, dec, rep3, &rl);
	if (d != size || memcmp(dec, data, size)) {
		fprintf(stderr, "encode/decode round trip lost bytes: %zu in, %zu back\n", size, d);
		abort();
	}
	return 0;
}
