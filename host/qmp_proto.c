// SPDX-License-Identifier: GPL-2.0
/*
 * qmp_proto.c - QMP stream splitting, message parsing and commands (see
 * qmp_proto.h).
 *
 * The parser validates a whole message first (strict JSON, bounded depth)
 * and then looks values up by key in the validated text, so the lookups
 * never meet malformed input.  Strings are decoded only when they are
 * wanted, into caller buffers; one that does not fit, holds a NUL or a
 * non-ASCII escape counts as absent: none of the names virtserd compares
 * can contain those.
 */
#include "qmp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- splitter ---------------------------------------------------------- */

int vs_qmp_split_init(struct vs_qmp_split *s)
{
	memset(s, 0, sizeof(*s));
	/*
	 * Zeroed: io_uring fills it behind valgrind's back, and valgrind
	 * would take the bytes for uninitialised (it does not model io_uring).
	 */
	s->buf = calloc(1, VS_QMP_MSG_MAX);
	return s->buf ? 0 : -ENOMEM;
}

void vs_qmp_split_free(struct vs_qmp_split *s)
{
	free(s->buf);
	s->buf = NULL;
}

void vs_qmp_split_reset(struct vs_qmp_split *s)
{
	char *b = s->buf;

	memset(s, 0, sizeof(*s));
	s->buf = b;
}

size_t vs_qmp_split_space(struct vs_qmp_split *s, char **ptr)
{
	/* Drop what was handed out: only the current object is kept. */
	if (s->start) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->scan -= s->start;
		s->start = 0;
	}
	/*
	 * Full inside one object: it is over-long.  Its bytes go, and its
	 * end is found by scanning what follows without keeping it.
	 */
	if (s->len == VS_QMP_MSG_MAX) {
		s->skipping = true;
		s->len = s->scan = 0;
	}
	*ptr = s->buf + s->len;
	return VS_QMP_MSG_MAX - s->len;
}

void vs_qmp_split_commit(struct vs_qmp_split *s, size_t n)
{
	s->len += n;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum vs_qmp_next vs_qmp_split_next(struct vs_qmp_split *s, const char **msg, size_t *len)
{
	while (s->scan < s->len) {
		char c = s->buf[s->scan++];

		if (s->depth == 0) {
			/* Between objects: whitespace, or the start of the next. */
			if (c == '{') {
				s->depth = 1;
				s->start = s->scan - 1;
				if (s->junk) {
					s->junk = false;
					return VS_QMP_JUNK;
				}
				continue;
			}
			s->start = s->scan;
			if (!is_ws(c))
				s->junk = true;
			continue;
		}
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"') {
			s->in_str = true;
		} else if (c == '{' || c == '[') {
			/* Only counted here; the parser enforces the depth limit. */
			if (s->depth < (1u << 30))
				s->depth++;
		} else if (c == '}' || c == ']') {
			if (--s->depth == 0) {
				size_t b = s->start;

				s->start = s->scan;
				if (s->skipping) {
					s->skipping = false;
					return VS_QMP_TOOLONG;
				}
				*msg = s->buf + b;
				*len = s->scan - b;
				return VS_QMP_MSG;
			}
		}
	}
	/*
	 * Between objects nothing is held: whitespace and junk need no room.
	 * Junk is reported when the next object starts, so once however the
	 * reads were cut.
	 */
	if (s->depth == 0)
		s->start = s->scan;
	return VS_QMP_NEED;
}

/* ---- JSON -------------------------------------------------------------- */

struct jp {
	const char *p, *end;
};

static void jws(struct jp *j)
{
	while (j->p < j->end && is_ws(*j->p))
		j->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A string at j->p (the opening quote).  With @out, decoded into it;
 * *usable says whether it fit and held only printable ASCII and no NUL.
 */
static bool jstring(struct jp *j, char *out, size_t cap, bool *usable)
{
	size_t n = 0;
	bool ok = true;

	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		unsigned v;

		if (c == '"') {
			if (out) {
				if (n < cap)
					out[n] = '\0';
				else
					ok = false;
			}
			if (usable)
				*usable = ok;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			if (c >= 0x80)
				ok = false;
			if (out && n < cap)
				out[n++] = (char)c;
			else
				ok = false;
			continue;
		}
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': case '\\': case '/':
			v = c;
			break;
		case 'b': v = '\b'; break;
		case 'f': v = '\f'; break;
		case 'n': v = '\n'; break;
		case 'r': v = '\r'; break;
		case 't': v = '\t'; break;
		case 'u':
			if (j->end - j->p < 4)
				return false;
			v = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(j->p[i]);

				if (h < 0)
					return false;
				v = v << 4 | (unsigned)h;
			}
			j->p += 4;
			break;
		default:
			return false;
		}
		if (v == 0 || v >= 0x80)
			ok = false;
		else if (out && n < cap)
			out[n++] = (char)v;
		else
			ok = false;
	}
	return false;
}

static bool jdigits(struct jp *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool jnumber(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jdigits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jdigits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jdigits(j))
			return false;
	}
	return true;
}

static bool jword(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return false;
	j->p += n;
	return true;
}

/* Validates and skips one value at j->p (no leading whitespace). */
static bool jvalue(struct jp *j, unsigned depth)
{
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';
		bool obj = close == '}';

		if (depth >= VS_QMP_DEPTH_MAX)
			return false;
		j->p++;
		jws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return true;
		}
		for (;;) {
			if (obj) {
				if (!jstring(j, NULL, 0, NULL))
					return false;
				jws(j);
				if (j->p >= j->end || *j->p != ':')
					return false;
				j->p++;
				jws(j);
			}
			if (!jvalue(j, depth + 1))
				return false;
			jws(j);
			if (j->p >= j->end)
				return false;
			if (*j->p == close) {
				j->p++;
				return true;
			}
			if (*j->p != ',')
				return false;
			j->p++;
			jws(j);
		}
	}
	case '"':
		return jstring(j, NULL, 0, NULL);
	case 't':
		return jword(j, "true");
	case 'f':
		return jword(j, "false");
	case 'n':
		return jword(j, "null");
	default:
		return jnumber(j);
	}
}

/*
 * In the validated object at @obj, the value of @key: *val points at it
 * (no leading whitespace), *vend just past it.
 */
static bool jget(const char *obj, const char *end, const char *key, const char **val,
		 const char **vend)
{
	struct jp j = { obj, end };
	char k[VS_QMP_STR_MAX];

	if (j.p >= j.end || *j.p != '{')
		return false;
	j.p++;
	for (;;) {
		bool usable, match;

		jws(&j);
		if (j.p >= j.end || *j.p != '"')
			return false;
		if (!jstring(&j, k, sizeof(k), &usable))
			return false;
		match = usable && !strcmp(k, key);
		jws(&j);
		if (j.p >= j.end || *j.p != ':')
			return false;
		j.p++;
		jws(&j);
		*val = j.p;
		if (!jvalue(&j, 1))
			return false;
		if (match) {
			*vend = j.p;
			return true;
		}
		jws(&j);
		if (j.p >= j.end || *j.p != ',')
			return false;
		j.p++;
	}
}

static bool jget_string(const char *obj, const char *end, const char *key, char *out,
			size_t cap)
{
	const char *v, *ve;
	struct jp j;
	bool usable;

	if (!jget(obj, end, key, &v, &ve))
		return false;
	j.p = v;
	j.end = ve;
	return jstring(&j, out, cap, &usable) && usable;
}

/* 1 true, 0 false, -1 absent or not a boolean. */
static int jget_bool(const char *obj, const char *end, const char *key)
{
	const char *v, *ve;

	if (!jget(obj, end, key, &v, &ve))
		return -1;
	if (ve - v == 4 && !memcmp(v, "true", 4))
		return 1;
	if (ve - v == 5 && !memcmp(v, "false", 5))
		return 0;
	return -1;
}

int vs_qmp_parse(const char *msg, size_t len, struct vs_qmp_msg *m)
{
	struct jp j = { msg, msg + len };
	const char *end = msg + len, *v, *ve;

	memset(m, 0, sizeof(*m));
	m->id = -1;
	m->data_open = -1;
	jws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -EINVAL;
	msg = j.p;
	if (!jvalue(&j, 0))
		return -EINVAL;
	jws(&j);
	if (j.p != j.end)
		return -EINVAL;
	end = j.p;

	if (jget(msg, end, "id", &v, &ve) && ve - v <= 9 && *v >= '0' && *v <= '9') {
		long long id = 0;
		const char *q = v;

		while (q < ve && *q >= '0' && *q <= '9')
			id = id * 10 + (*q++ - '0');
		if (q == ve)
			m->id = id;
	}
	if (jget(msg, end, "QMP", &v, &ve) && *v == '{') {
		m->kind = VS_QMP_GREETING;
	} else if (jget(msg, end, "return", &v, &ve)) {
		m->kind = VS_QMP_RETURN;
		m->ret = v;
		m->ret_len = (size_t)(ve - v);
	} else if (jget(msg, end, "error", &v, &ve) && *v == '{') {
		m->kind = VS_QMP_ERROR;
		if (!jget_string(v, ve, "desc", m->error, sizeof(m->error)) &&
		    !jget_string(v, ve, "class", m->error, sizeof(m->error)))
			snprintf(m->error, sizeof(m->error), "(no description)");
	} else if (jget_string(msg, end, "event", m->event, sizeof(m->event))) {
		m->kind = VS_QMP_EVENT;
		if (jget(msg, end, "data", &v, &ve) && *v == '{') {
			if (!jget_string(v, ve, "id", m->data_id, sizeof(m->data_id)))
				m->data_id[0] = '\0';
			m->data_open = jget_bool(v, ve, "open");
		}
	} else {
		m->event[0] = '\0';
	}
	return 0;
}

bool vs_qmp_ret_string(const struct vs_qmp_msg *m, char *out, size_t cap)
{
	struct jp j;
	bool usable;

	if (m->kind != VS_QMP_RETURN || !m->ret_len || *m->ret != '"')
		return false;
	j.p = m->ret;
	j.end = m->ret + m->ret_len;
	return jstring(&j, out, cap, &usable) && usable;
}

bool vs_qmp_chardev_next(const struct vs_qmp_msg *m, struct vs_qmp_iter *it,
			 char *label, size_t cap, bool *open)
{
	struct jp j;

	if (m->kind != VS_QMP_RETURN || !m->ret_len || *m->ret != '[')
		return false;
	if (!it->pos) {
		it->pos = m->ret + 1;
		it->end = m->ret + m->ret_len;
	}
	j.p = it->pos;
	j.end = it->end;
	for (;;) {
		const char *el;
		int o;

		jws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			jws(&j);
		}
		if (j.p >= j.end || *j.p == ']') {
			it->pos = j.end;
			return false;
		}
		el = j.p;
		if (!jvalue(&j, 1)) {
			it->pos = j.end;
			return false;
		}
		it->pos = j.p;
		if (*el != '{')
			continue;
		o = jget_bool(el, j.p, "frontend-open");
		if (o < 0 || !jget_string(el, j.p, "label", label, cap))
			continue;
		*open = o;
		return true;
	}
}

/* ---- commands ---------------------------------------------------------- */

bool vs_qmp_valid_id(const char *s)
{
	size_t n = 0;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n < VS_QMP_STR_MAX;
}

static size_t fit(int n, size_t cap)
{
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t vs_qmp_cmd_capabilities(char *buf, size_t cap, unsigned id)
{
	return fit(snprintf(buf, cap, "{\"execute\":\"qmp_capabilities\",\"id\":%u}\n", id), cap);
}

size_t vs_qmp_cmd_query_chardev(char *buf, size_t cap, unsigned id)
{
	return fit(snprintf(buf, cap, "{\"execute\":\"query-chardev\",\"id\":%u}\n", id), cap);
}

size_t vs_qmp_cmd_dev_chardev(char *buf, size_t cap, unsigned id, const char *dev)
{
	/* A valid id needs no JSON escaping. */
	if (!vs_qmp_valid_id(dev))
		return 0;
	return fit(snprintf(buf, cap, "{\"execute\":\"qom-get\",\"arguments\":"
			    "{\"path\":\"/machine/peripheral/%s\",\"property\":\"chardev\"},"
			    "\"id\":%u}\n", dev, id), cap);
}
