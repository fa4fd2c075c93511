// SPDX-License-Identifier: GPL-2.0
/* test-telnet: the codec against hand-written byte sequences. */
#include "host/telnet.h"
#include "tests/tap.h"

#include <string.h>


static int dec(struct vs_telnet *t, const uint8_t *in, size_t n, const uint8_t *want,
	       size_t wn, const uint8_t *wrep, size_t wrn)
{
	uint8_t out[64], rep[192];
	size_t rn, on = vs_telnet_decode(t, in, n, out, rep, &rn);

	return on == wn && (!wn || !memcmp(out, want, wn)) && rn == wrn &&
	       (!wrn || !memcmp(rep, wrep, wrn));
}


int main(void)
{
	struct vs_telnet t;
	uint8_t g[16], out[64], rep[192];
	size_t n, used, rn;

	vs_telnet_init(&t);
	n = vs_telnet_greeting(&t, g);
	tap_check(n == 15 && g[0] == TN_IAC && g[1] == TN_WILL && g[2] == TN_OPT_ECHO,
		  "greeting offers WILL ECHO first");

	tap_check(dec(&t, (const uint8_t *)"abc", 3, (const uint8_t *)"abc", 3, NULL, 0),
		  "plain data passes through");

	vs_telnet_init(&t);
	n = vs_telnet_greeting(&t, g);
	{
		const uint8_t in[] = { 'x', TN_IAC, TN_IAC, 'y' }, w[] = { 'x', 0xff, 'y' };

		tap_check(dec(&t, in, 4, w, 3, NULL, 0), "IAC IAC decodes to one 0xff");
	}
	{
		/* Client agrees to what we offered: no reply (no ack loops). */
		const uint8_t in[] = { TN_IAC, TN_DO, TN_OPT_ECHO, TN_IAC, TN_DO, TN_OPT_SGA,
				       TN_IAC, TN_WILL, TN_OPT_BINARY };

		tap_check(dec(&t, in, sizeof(in), NULL, 0, NULL, 0), "acks of our offers get no reply");
	}
	{
		const uint8_t in[] = { TN_IAC, TN_DO, 24 /* TTYPE */ }, r[] = { TN_IAC, TN_WONT, 24 };

		tap_check(dec(&t, in, 3, NULL, 0, r, 3), "DO unknown option -> WONT");
	}
	{
		const uint8_t in[] = { TN_IAC, TN_WILL, TN_OPT_ECHO }, r[] = { TN_IAC, TN_DONT, TN_OPT_ECHO };

		tap_check(dec(&t, in, 3, NULL, 0, r, 3), "client WILL ECHO is refused (DONT)");
	}
	{
		const uint8_t in[] = { TN_IAC, TN_WILL, 31 /* NAWS */ }, r[] = { TN_IAC, TN_DONT, 31 };

		tap_check(dec(&t, in, 3, NULL, 0, r, 3), "WILL unknown option -> DONT");
	}
	{
		const uint8_t in[] = { TN_IAC, TN_DONT, TN_OPT_ECHO }, r[] = { TN_IAC, TN_WONT, TN_OPT_ECHO };

		tap_check(dec(&t, in, 3, NULL, 0, r, 3), "DONT ECHO after our WILL -> WONT");
		tap_check(dec(&t, in, 3, NULL, 0, NULL, 0), "second DONT ECHO gets no reply");
	}
	{
		const uint8_t in[] = { TN_IAC, TN_DO, TN_OPT_ECHO }, r[] = { TN_IAC, TN_WILL, TN_OPT_ECHO };

		tap_check(dec(&t, in, 3, NULL, 0, r, 3), "DO ECHO again after DONT -> WILL");
	}
	{
		const uint8_t in[] = { 'a', TN_IAC, TN_BRK, 'b' }, w[] = { 'a', 'b' };
		unsigned long before = t.breaks;

		tap_check(dec(&t, in, 4, w, 2, NULL, 0) && t.breaks == before + 1,
			  "IAC BREAK is counted and removed from the data");
	}
	{
		const uint8_t in[] = { 'a', TN_IAC, TN_SB, 24, 0, 'v', 't', TN_IAC, TN_IAC, TN_IAC, TN_SE, 'b' },
			      w[] = { 'a', 'b' };

		tap_check(dec(&t, in, sizeof(in), w, 2, NULL, 0), "subnegotiation is skipped, IAC IAC inside too");
	}
	{
		/* A sequence split across reads at every position. */
		const uint8_t in[] = { 'q', TN_IAC, TN_DO, 24, TN_IAC, TN_IAC, 'z' };
		uint8_t all[16], allrep[32];
		size_t on = 0, rtot = 0;

		for (size_t i = 0; i < sizeof(in); i++) {
			on += vs_telnet_decode(&t, &in[i], 1, all + on, allrep + rtot, &rn);
			rtot += rn;
		}
		tap_check(on == 3 && all[0] == 'q' && all[1] == 0xff && all[2] == 'z' &&
			  rtot == 3 && allrep[1] == TN_WONT, "byte-at-a-time split decodes the same");
	}
	{
		vs_telnet_init(&t); /* no BINARY agreed: CR NUL -> CR */
		const uint8_t in[] = { 'a', '\r', 0, 'b', '\r', '\n' }, w[] = { 'a', '\r', 'b', '\r', '\n' };

		tap_check(dec(&t, in, sizeof(in), w, sizeof(w), NULL, 0), "CR NUL -> CR without BINARY");
		vs_telnet_greeting(&t, g);
		const uint8_t w2[] = { 'a', '\r', 0, 'b', '\r', '\n' };

		tap_check(dec(&t, in, sizeof(in), w2, sizeof(w2), NULL, 0), "CR NUL kept with BINARY");
	}
	{
		const uint8_t in[] = { 'a', TN_IAC, TN_SB, 1, 2, TN_IAC, 'x', 'c' }, w[] = { 'a', 'c' };
		unsigned long e = t.errors;

		tap_check(dec(&t, in, sizeof(in), w, 2, NULL, 0) && t.errors == e + 1,
			  "malformed SB end resyncs and is counted");
	}
	{
		const uint8_t in[] = { 1, 0xff, 2, 0xff, 0xff };

		n = vs_telnet_encode(in, 5, out, sizeof(out), &used);
		tap_check(n == 8 && used == 5 && out[1] == 0xff && out[2] == 0xff && out[7] == 0xff,
			  "encode doubles every 0xff");
		n = vs_telnet_encode(in, 5, out, 2, &used);
		tap_check(n == 1 && used == 1, "encode never splits an IAC pair at the end of space");
		n = vs_telnet_encode(in, 5, out, 3, &used);
		tap_check(n == 3 && used == 2, "encode stops with the pair complete");
	}
	{
		/* Round trip: encode arbitrary bytes, decode, get them back. */
		uint8_t src[256], enc[512], back[512];
		size_t en;

		for (int i = 0; i < 256; i++)
			src[i] = (uint8_t)i;
		vs_telnet_init(&t);
		vs_telnet_greeting(&t, g);
		en = vs_telnet_encode(src, 256, enc, sizeof(enc), &used);
		n = vs_telnet_decode(&t, enc, en, back, rep, &rn);
		tap_check(n == 256 && !memcmp(src, back, 256) && rn == 0,
			  "all 256 byte values survive encode+decode");
	}
	{
		/*
		 * Hostile input: random bytes (rich in IAC) in random-sized
		 * reads.  Output must never exceed input, replies never exceed
		 * TN_REPLY_MAX per byte, and ASan/valgrind must stay quiet.
		 */
		uint8_t in[512], o2[512], r2[512 * TN_REPLY_MAX];
		unsigned seed = 12345;
		int ok = 1;

		vs_telnet_init(&t);
		for (int round = 0; round < 20000; round++) {
			size_t len = (seed = seed * 1103515245 + 12345) % sizeof(in), dn;

			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245 + 12345;
				in[i] = (seed >> 16) % 3 ? (uint8_t)(seed >> 8) : TN_IAC;
			}
			dn = vs_telnet_decode(&t, in, len, o2, r2, &rn);
			ok &= dn <= len && rn <= TN_REPLY_MAX * len;
		}
		tap_check(ok, "20000 random reads: output and replies stay within bounds");
	}
	return tap_done();
}
