/* SPDX-License-Identifier: GPL-2.0 */
/*
 * telnet.h - a pure telnet codec (RFC 854/855/856/857/858).
 *
 * No I/O: the daemon feeds it what a client sent and gets back the data
 * bytes meant for the guest plus any negotiation replies to send back.  We
 * offer ECHO (the guest echoes, so the client must not), SGA and BINARY in
 * both directions, refuse every other option, skip subnegotiations, and
 * report IAC BREAK to the caller.
 */
#ifndef VIRTSERD_TELNET_H
#define VIRTSERD_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TN_IAC	255
#define TN_DONT	254
#define TN_DO	253
#define TN_WONT	252
#define TN_WILL	251
#define TN_SB	250
#define TN_BRK	243
#define TN_SE	240
#define TN_OPT_BINARY	0
#define TN_OPT_ECHO	1
#define TN_OPT_SGA	3

/* Largest reply one decode call can produce per input byte. */
#define TN_REPLY_MAX	3

struct vs_telnet {
	uint8_t state;		/* parser state between calls */
	uint8_t verb;		/* WILL/WONT/DO/DONT being parsed */
	bool cr;		/* last data byte was CR (non-binary NUL strip) */
	uint8_t us[256 / 8];	/* options we have agreed to perform */
	uint8_t him[256 / 8];	/* options the client agreed to perform */
	unsigned long breaks;	/* IAC BREAK seen */
	unsigned long errors;	/* malformed sequences skipped */
};

void vs_telnet_init(struct vs_telnet *t);

/* Bytes to send first on a new connection; returns the length (<= 16). */
size_t vs_telnet_greeting(struct vs_telnet *t, uint8_t *out);

/*
 * Decode @n bytes from the client.  Data goes to @out (at most @n bytes);
 * replies go to @reply (at most TN_REPLY_MAX * @n bytes), length in
 * *@replylen.  Returns the number of data bytes.
 */
size_t vs_telnet_decode(struct vs_telnet *t, const uint8_t *in, size_t n,
			uint8_t *out, uint8_t *reply, size_t *replylen);

/*
 * Escape guest output: 0xFF becomes IAC IAC.  Consumes input while the
 * output fits; *@used gets the input consumed.  Returns bytes written.
 */
size_t vs_telnet_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
			size_t *used);

#endif
