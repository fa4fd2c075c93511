/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmp_proto.h - the QEMU Machine Protocol, as much of it as virtserd
 * needs: a splitter that cuts the byte stream from a QMP socket into JSON
 * objects, a parser that picks out what the daemon acts on, and the few
 * commands it sends.  No I/O, no ports, no loop: qmp.c drives it, and the
 * unit test and the fuzzer call it directly.
 *
 * Nothing QEMU sends is trusted: every length is bounded, a malformed
 * message is reported and skipped, and the splitter recovers at the next
 * object whatever came before.
 */
#ifndef VIRTSERD_QMP_PROTO_H
#define VIRTSERD_QMP_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The largest message kept.  QEMU's largest answer to us is query-chardev,
 * about 100 bytes per chardev; events are far smaller.
 */
#define VS_QMP_MSG_MAX		(256u * 1024)
/* Nesting deeper than this is refused (QMP's answers to us nest 3 deep). */
#define VS_QMP_DEPTH_MAX	32
/* Longest event name, device id, chardev label or error text kept. */
#define VS_QMP_STR_MAX		128

/*
 * The splitter.  Top level is a sequence of JSON objects; QEMU ends each
 * with a newline, but nothing here depends on it (or on where reads end).
 * Owner: its caller; buf is lent to the kernel between vs_qmp_split_space()
 * and vs_qmp_split_commit().
 */
struct vs_qmp_split {
	char *buf;		/* VS_QMP_MSG_MAX bytes, malloc'ed */
	size_t len;		/* bytes held */
	size_t start;		/* where the current object began */
	size_t scan;		/* bytes of buf already scanned */
	unsigned depth;		/* open { and [ of the current object */
	bool in_str, esc;
	bool skipping;		/* over-long: dropping the rest of this object */
	bool junk;		/* skipping bytes outside any object */
};

enum vs_qmp_next {
	VS_QMP_NEED,		/* no complete object: read more */
	VS_QMP_MSG,		/* msg and len: one whole object */
	VS_QMP_TOOLONG,		/* an object longer than VS_QMP_MSG_MAX was dropped */
	VS_QMP_JUNK,		/* bytes outside an object were dropped (told at the next) */
};

/* 0 or -ENOMEM. */
int vs_qmp_split_init(struct vs_qmp_split *s);
void vs_qmp_split_free(struct vs_qmp_split *s);
/* Forget everything held (a new connection). */
void vs_qmp_split_reset(struct vs_qmp_split *s);
/* Where the next read may go, and how much; never 0. */
size_t vs_qmp_split_space(struct vs_qmp_split *s, char **ptr);
/* @n bytes were read into the space given by vs_qmp_split_space(). */
void vs_qmp_split_commit(struct vs_qmp_split *s, size_t n);
/*
 * The next event of the stream.  *msg stays valid until the next
 * vs_qmp_split_space() or _reset().
 */
enum vs_qmp_next vs_qmp_split_next(struct vs_qmp_split *s, const char **msg, size_t *len);

enum vs_qmp_kind {
	VS_QMP_OTHER,		/* valid JSON object, none of the below */
	VS_QMP_GREETING,	/* {"QMP": {...}} */
	VS_QMP_RETURN,		/* {"return": ..., "id": N} */
	VS_QMP_ERROR,		/* {"error": {"class":..., "desc":...}, "id": N} */
	VS_QMP_EVENT,		/* {"event": NAME, "data": {...}, "timestamp": ...} */
};

/* One parsed message; pointers point into the message text. */
struct vs_qmp_msg {
	enum vs_qmp_kind kind;
	long long id;		/* our command id; -1 if absent or not a small integer */
	char event[VS_QMP_STR_MAX];	/* EVENT: its name */
	char data_id[VS_QMP_STR_MAX];	/* EVENT: data.id, "" if absent */
	int data_open;		/* EVENT: data.open 1/0, -1 if absent or not a bool */
	char error[VS_QMP_STR_MAX];	/* ERROR: desc (or class), truncated */
	const char *ret;	/* RETURN: the value's text */
	size_t ret_len;
};

/* 0, or -EINVAL: not one well-formed JSON object (or nested too deep). */
int vs_qmp_parse(const char *msg, size_t len, struct vs_qmp_msg *m);

/* RETURN whose value is a string (qom-get of a str property). */
bool vs_qmp_ret_string(const struct vs_qmp_msg *m, char *out, size_t cap);

/*
 * RETURN of query-chardev: an array of {"label", "filename",
 * "frontend-open"}.  Start with it->pos = NULL; each call gives the next
 * element with a label and a boolean frontend-open, skipping others.
 */
struct vs_qmp_iter {
	const char *pos, *end;
};
bool vs_qmp_chardev_next(const struct vs_qmp_msg *m, struct vs_qmp_iter *it,
			 char *label, size_t cap, bool *open);

/*
 * Commands, each one line with its id.  Return the length written, or 0
 * if @cap is too small (or @dev contains a byte a QEMU id never has).
 */
size_t vs_qmp_cmd_capabilities(char *buf, size_t cap, unsigned id);
size_t vs_qmp_cmd_query_chardev(char *buf, size_t cap, unsigned id);
/* qom-get of the chardev property of /machine/peripheral/@dev. */
size_t vs_qmp_cmd_dev_chardev(char *buf, size_t cap, unsigned id, const char *dev);

/* What QEMU accepts as a device id: a letter, then [A-Za-z0-9._-]; 1-127. */
bool vs_qmp_valid_id(const char *s);

#endif
