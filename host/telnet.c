// SPDX-License-Identifier: GPL-2.0
#include "telnet.h"

#include <string.h>

enum { S_DATA, S_IAC, S_OPT, S_SB, S_SB_IAC };

static bool bit(const uint8_t *set, uint8_t o)
{
	return set[o / 8] & (1u << (o % 8));
}

static void setbit(uint8_t *set, uint8_t o, bool on)
{
	if (on)
		set[o / 8] |= (uint8_t)(1u << (o % 8));
	else
		set[o / 8] &= (uint8_t)~(1u << (o % 8));
}

static bool we_support(uint8_t o)
{
	return o == TN_OPT_ECHO || o == TN_OPT_SGA || o == TN_OPT_BINARY;
}

static bool he_may(uint8_t o)
{
	/* A client that echoes would double every character. */
	return o == TN_OPT_SGA || o == TN_OPT_BINARY;
}

void vs_telnet_init(struct vs_telnet *t)
{
	memset(t, 0, sizeof(*t));
}

size_t vs_telnet_greeting(struct vs_telnet *t, uint8_t *out)
{
	static const uint8_t g[] = {
		TN_IAC, TN_WILL, TN_OPT_ECHO, TN_IAC, TN_WILL, TN_OPT_SGA,
		TN_IAC, TN_DO, TN_OPT_SGA, TN_IAC, TN_WILL, TN_OPT_BINARY,
		TN_IAC, TN_DO, TN_OPT_BINARY,
	};

	/*
	 * Count the offers as agreed: if the client refuses, its DONT/WONT
	 * clears them, and a later DO/WILL matching an offer gets no reply,
	 * which is what stops negotiation loops (RFC 854 "don't ack acks").
	 */
	setbit(t->us, TN_OPT_ECHO, true);
	setbit(t->us, TN_OPT_SGA, true);
	setbit(t->us, TN_OPT_BINARY, true);
	setbit(t->him, TN_OPT_SGA, true);
	setbit(t->him, TN_OPT_BINARY, true);
	memcpy(out, g, sizeof(g));
	return sizeof(g);
}

static size_t negotiate(struct vs_telnet *t, uint8_t verb, uint8_t o, uint8_t *r)
{
	uint8_t ans = 0;

	switch (verb) {
	case TN_DO:
		if (we_support(o)) {
			if (!bit(t->us, o))
				ans = TN_WILL;
			setbit(t->us, o, true);
		} else {
			ans = TN_WONT;
		}
		break;
	case TN_DONT:
		if (bit(t->us, o))
			ans = TN_WONT;
		setbit(t->us, o, false);
		break;
	case TN_WILL:
		if (he_may(o)) {
			if (!bit(t->him, o))
				ans = TN_DO;
			setbit(t->him, o, true);
		} else {
			ans = TN_DONT;
		}
		break;
	case TN_WONT:
		if (bit(t->him, o))
			ans = TN_DONT;
		setbit(t->him, o, false);
		break;
	}
	if (!ans)
		return 0;
	r[0] = TN_IAC;
	r[1] = ans;
	r[2] = o;
	return 3;
}

size_t vs_telnet_decode(struct vs_telnet *t, const uint8_t *in, size_t n,
			uint8_t *out, uint8_t *reply, size_t *replylen)
{
	size_t o = 0, r = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		switch (t->state) {
		case S_DATA:
			if (c == TN_IAC) {
				t->state = S_IAC;
				break;
			}
			/* NVT: CR NUL means a bare CR unless BINARY was agreed. */
			if (c == 0 && t->cr && !bit(t->him, TN_OPT_BINARY)) {
				t->cr = false;
				break;
			}
			t->cr = c == '\r';
			out[o++] = c;
			break;
		case S_IAC:
			t->state = S_DATA;
			switch (c) {
			case TN_IAC:
				out[o++] = TN_IAC;
				t->cr = false;
				break;
			case TN_WILL: case TN_WONT: case TN_DO: case TN_DONT:
				t->verb = c;
				t->state = S_OPT;
				break;
			case TN_SB:
				t->state = S_SB;
				break;
			case TN_BRK:
				t->breaks++;
				break;
			default:
				/* NOP, DM, IP, AO, AYT, EC, EL, GA, SE: no effect. */
				break;
			}
			break;
		case S_OPT:
			r += negotiate(t, t->verb, c, reply + r);
			t->state = S_DATA;
			break;
		case S_SB:
			if (c == TN_IAC)
				t->state = S_SB_IAC;
			break;
		case S_SB_IAC:
			if (c == TN_SE)
				t->state = S_DATA;
			else if (c == TN_IAC)
				t->state = S_SB;
			else {
				/* Unterminated SB: resync on the command. */
				t->errors++;
				t->state = S_IAC;
				i--;
			}
			break;
		}
	}
	*replylen = r;
	return o;
}

size_t vs_telnet_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
			size_t *used)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == TN_IAC) {
			if (o + 2 > cap)
				break;
			out[o++] = TN_IAC;
			out[o++] = TN_IAC;
		} else {
			if (o + 1 > cap)
				break;
			out[o++] = in[i];
		}
	}
	*used = i;
	return o;
}
