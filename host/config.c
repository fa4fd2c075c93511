// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - virtserd.xml: libxml2 -> struct vs_config -> canonical XML.
 *
 * Two spellings are accepted for the user side of a port, so that a
 * <channel> or <console> copied from a libvirt domain works unchanged:
 * libvirt's (<source mode= path= host= service=>, <protocol type=>) and the
 * 2007 RFC's (<listen addr= port=>, <connect>, <sendto>, <bind>, <nowait/>,
 * <nodelay/>).  The formatter always writes libvirt's spelling with every
 * default made explicit, which is what the golden tests compare.
 */
#include "config.h"
#include "qmp_proto.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

struct pctx {
	const char *file;
	char *err;
	size_t errlen;
	bool failed;
};

static const char *const ep_names[VS_EP__COUNT] = {
	[VS_EP_NULL] = "null", [VS_EP_PTY] = "pty", [VS_EP_FILE] = "file",
	[VS_EP_PIPE] = "pipe", [VS_EP_UNIX] = "unix", [VS_EP_TCP] = "tcp",
	[VS_EP_UDP] = "udp", [VS_EP_STDIO] = "stdio", [VS_EP_DEV] = "dev",
};

const char *vs_ep_type_name(enum vs_ep_type t)
{
	return (unsigned)t < VS_EP__COUNT ? ep_names[t] : "?";
}

const char *vs_port_kind_name(enum vs_port_kind k)
{
	switch (k) {
	case VS_KIND_CHANNEL: return "channel";
	case VS_KIND_CONSOLE: return "console";
	case VS_KIND_SERIAL: return "serial";
	}
	return "?";
}

/* Only the first error is kept: later ones are usually consequences. */
__attribute__((format(printf, 3, 4)))
static void perr(struct pctx *c, const xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (c->failed)
		return;
	c->failed = true;
	off = snprintf(c->err, c->errlen, "%s:%ld: %s: ", c->file,
		       n ? xmlGetLineNo(n) : 0L, n ? (const char *)n->name : "xml");
	if (off < 0 || (size_t)off >= c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + off, c->errlen - off, fmt, ap);
	va_end(ap);
}

static char *xstrdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d) {
		fputs("virtserd: out of memory\n", stderr);
		abort();
	}
	return d;
}

/* Returns a malloc'ed copy of the attribute, or NULL if absent. */
static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *r;

	if (!v)
		return NULL;
	r = xstrdup((const char *)v);
	xmlFree(v);
	return r;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/*
 * Every attribute of @n must be in @allowed (NULL terminated): a typo such
 * as "sevice" must not silently fall back to a default.
 */
static bool check_attrs(struct pctx *c, const xmlNode *n, const char *const *allowed)
{
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		bool ok = false;

		for (const char *const *p = allowed; *p; p++)
			if (!strcmp(*p, (const char *)a->name))
				ok = true;
		if (!ok) {
			perr(c, n, "unknown attribute '%s'", (const char *)a->name);
			return false;
		}
	}
	return true;
}

static bool parse_bool(struct pctx *c, const xmlNode *n, const char *name,
		       bool *out)
{
	char *v = attr(n, name);
	bool ok = true;

	if (!v)
		return true;
	if (!strcmp(v, "yes") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "off"))
		*out = false;
	else {
		perr(c, n, "%s='%s' is not one of yes, no, on, off", name, v);
		ok = false;
	}
	free(v);
	return ok;
}

/* Sizes take an optional K, M or G suffix (powers of 1024). */
static bool parse_u64(struct pctx *c, const xmlNode *n, const char *name,
		      uint64_t max, uint64_t *out)
{
	char *v = attr(n, name), *end;
	unsigned long long x;
	bool ok = false;

	if (!v)
		return true;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (end == v || v[0] == '-' || errno)
		goto bad;
	switch (*end) {
	case 'K': case 'k': x <<= 10; end++; break;
	case 'M': case 'm': x <<= 20; end++; break;
	case 'G': case 'g': x <<= 30; end++; break;
	default: break;
	}
	if (*end)
		goto bad;
	if (x > max) {
		perr(c, n, "%s='%s' is larger than %llu", name, v,
		     (unsigned long long)max);
		free(v);
		return false;
	}
	*out = x;
	ok = true;
bad:
	if (!ok && !c->failed)
		perr(c, n, "%s='%s' is not a number", name, v);
	free(v);
	return ok;
}

static bool parse_mode_attr(struct pctx *c, const xmlNode *n, const char *name,
			    mode_t *out)
{
	char *v = attr(n, name), *end;
	unsigned long x;

	if (!v)
		return true;
	errno = 0;
	x = strtoul(v, &end, 8);
	if (end == v || *end || errno || x > 07777 || v[0] == '-') {
		perr(c, n, "%s='%s' is not an octal file mode", name, v);
		free(v);
		return false;
	}
	*out = (mode_t)x;
	free(v);
	return true;
}

static bool parse_mode(struct pctx *c, const xmlNode *n, enum vs_mode *out)
{
	char *v = attr(n, "mode");
	bool ok = true;

	if (!v)
		return true;
	if (!strcmp(v, "bind"))
		*out = VS_MODE_BIND;
	else if (!strcmp(v, "connect"))
		*out = VS_MODE_CONNECT;
	else {
		perr(c, n, "mode='%s' is not bind or connect", v);
		ok = false;
	}
	free(v);
	return ok;
}

/*
 * Names go into paths (%v, %p in templates; a libvirt domain or its
 * channels supply them): "." and ".." would step out of a directory.
 */
bool vs_config_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-:", *s))
			return false;
	return true;
}

/*
 * Paths are taken literally: a relative one would resolve against the
 * daemon's working directory, which is / under systemd.
 */
static bool check_path(struct pctx *c, const xmlNode *n, const char *name,
		       const char *v, bool is_socket)
{
	if (!v)
		return true;
	if (v[0] != '/') {
		perr(c, n, "%s='%s' is relative; give an absolute path", name, v);
		return false;
	}
	if (is_socket && strlen(v) >= VS_SUN_PATH_MAX) {
		perr(c, n, "%s='%s' is %zu bytes; a unix socket path holds at most %u",
		     name, v, strlen(v), VS_SUN_PATH_MAX - 1);
		return false;
	}
	return true;
}

/* 1-65535 or a name from /etc/services; -1 otherwise. */
static int service_port(const char *v)
{
	struct servent *se;
	char *end;
	long x;

	if (!v || !*v)
		return -1;
	if (isdigit((unsigned char)v[0])) {
		errno = 0;
		x = strtol(v, &end, 10);
		if (*end || errno || x < 1 || x > 65535)
			return -1;
		return (int)x;
	}
	se = getservbyname(v, NULL);
	return se ? ntohs((uint16_t)se->s_port) : -1;
}

static bool check_service(struct pctx *c, const xmlNode *n, const char *name,
			  const char *v)
{
	if (!v || service_port(v) > 0)
		return true;
	if (!strcmp(v, "0"))
		perr(c, n, "%s='0' would bind a port the kernel picks; give one in 1-65535",
		     name);
	else if (isdigit((unsigned char)v[0]))
		perr(c, n, "%s='%s' is not a port number in 1-65535", name, v);
	else
		perr(c, n, "%s='%s' is neither a port number (1-65535) nor a service "
		     "name from /etc/services", name, v);
	return false;
}

/*
 * Syntax only; whether a name resolves is vs_config_resolve()'s business.
 * What looks like an IPv4 or IPv6 literal must be one ('1.2.3.4.5' would
 * otherwise go to DNS and fail at run time, forever).
 */
static bool check_host(struct pctx *c, const xmlNode *n, const char *name,
		       const char *v)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (!v)
		return true;
	if (!*v) {
		perr(c, n, "%s='' is empty; leave it out for the default", name);
		return false;
	}
	if (strchr(v, ':')) {
		if (inet_pton(AF_INET6, v, buf) == 1)
			return true;
		perr(c, n, "%s='%s' is not an IPv6 address", name, v);
		return false;
	}
	if (strspn(v, "0123456789.") == strlen(v)) {
		if (inet_pton(AF_INET, v, buf) == 1)
			return true;
		perr(c, n, "%s='%s' is not an IPv4 address", name, v);
		return false;
	}
	for (const char *q = v; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '.') {
			perr(c, n, "%s='%s' is not a host name or address", name, v);
			return false;
		}
	return true;
}

static bool check_sock(struct pctx *c, const xmlNode *n, const struct vs_sockspec *s,
		       const char *hostattr, const char *svcattr)
{
	if (s->is_unix)
		return check_path(c, n, "path", s->path, true);
	return check_host(c, n, hostattr, s->host) && check_service(c, n, svcattr, s->service);
}

static void sock_free(struct vs_sockspec *s)
{
	free(s->path);
	free(s->host);
	free(s->service);
	memset(s, 0, sizeof(*s));
}

static bool parse_reconnect(struct pctx *c, const xmlNode *n, struct vs_sockspec *s)
{
	static const char *const ok[] = { "enabled", "timeout", "timeout-ms", NULL };
	uint64_t v;

	if (!check_attrs(c, n, ok) || !parse_bool(c, n, "enabled", &s->reconnect))
		return false;
	v = UINT64_MAX;
	if (!parse_u64(c, n, "timeout", 86400, &v))
		return false;
	if (v != UINT64_MAX)
		s->reconnect_ms = (unsigned)v * 1000;
	v = UINT64_MAX;
	if (!parse_u64(c, n, "timeout-ms", 86400000, &v))
		return false;
	if (v != UINT64_MAX)
		s->reconnect_ms = (unsigned)v;
	if (s->reconnect && s->reconnect_ms == 0) {
		perr(c, n, "timeout must be at least 1 ms when enabled='yes'");
		return false;
	}
	return true;
}

/* Children shared by <source>, <chardev>, <listen>, <connect>. */
static bool parse_sock_children(struct pctx *c, const xmlNode *n,
				struct vs_sockspec *s)
{
	for (const xmlNode *k = n->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(k, "reconnect")) {
			if (!parse_reconnect(c, k, s))
				return false;
		} else if (is_el(k, "nodelay")) {
			s->nodelay = true;
		} else if (is_el(k, "nowait")) {
			s->nowait = true;
		} else if (is_el(k, "seclabel")) {
			/* libvirt relabelling policy: meaningless here. */
		} else {
			perr(c, k, "unknown element inside <%s>", (const char *)n->name);
			return false;
		}
	}
	return true;
}

/* <source mode= path= host= service=> in libvirt's spelling. */
static bool parse_source_sock(struct pctx *c, const xmlNode *n,
			      struct vs_sockspec *s, bool want_unix)
{
	s->is_unix = want_unix;
	if (!parse_mode(c, n, &s->mode))
		return false;
	/* A daemon must not give up on its peer: retry unless told not to. */
	if (s->mode == VS_MODE_CONNECT) {
		s->reconnect = true;
		s->reconnect_ms = VS_DEFAULT_RECONNECT_MS;
	}
	if (want_unix) {
		s->path = attr(n, "path");
	} else {
		s->host = attr(n, "host");
		s->service = attr(n, "service");
	}
	if (!parse_bool(c, n, "nodelay", &s->nodelay))
		return false;
	if (!check_sock(c, n, s, "host", "service"))
		return false;
	return parse_sock_children(c, n, s);
}

/* <listen addr= port=> / <connect ...> / <sendto> / <bind> (the RFC). */
static bool parse_rfc_sock(struct pctx *c, const xmlNode *n,
			   struct vs_sockspec *s, enum vs_mode mode)
{
	static const char *const ok[] = { "addr", "port", NULL };

	if (!check_attrs(c, n, ok))
		return false;
	s->mode = mode;
	s->is_unix = false;
	s->reconnect = mode == VS_MODE_CONNECT;
	s->reconnect_ms = s->reconnect ? VS_DEFAULT_RECONNECT_MS : 0;
	s->host = attr(n, "addr");
	s->service = attr(n, "port");
	/* The RFC writes addr='' for "the default". */
	if (s->host && !*s->host) {
		free(s->host);
		s->host = NULL;
	}
	if (!check_sock(c, n, s, "addr", "port"))
		return false;
	return parse_sock_children(c, n, s);
}

static bool parse_chardev(struct pctx *c, const xmlNode *n, struct vs_sockspec *s)
{
	static const char *const ok[] = { "type", "mode", "path", "host",
					  "service", "nodelay", NULL };
	char *type = attr(n, "type");
	bool is_unix;

	if (!check_attrs(c, n, ok)) {
		free(type);
		return false;
	}
	if (!type || !strcmp(type, "unix"))
		is_unix = true;
	else if (!strcmp(type, "tcp"))
		is_unix = false;
	else {
		perr(c, n, "type='%s' is not unix or tcp", type);
		free(type);
		return false;
	}
	free(type);
	s->mode = VS_MODE_CONNECT;
	s->reconnect = true;
	s->reconnect_ms = VS_DEFAULT_RECONNECT_MS;
	if (!parse_source_sock(c, n, s, is_unix))
		return false;
	if (is_unix && (!s->path || !*s->path)) {
		perr(c, n, "unix chardev needs path=");
		return false;
	}
	if (!is_unix && (!s->service || !*s->service)) {
		perr(c, n, "tcp chardev needs service=");
		return false;
	}
	if (!is_unix && !s->host)
		s->host = xstrdup(s->mode == VS_MODE_BIND ? "127.0.0.1" : "localhost");
	if (s->mode == VS_MODE_BIND) {
		s->reconnect = false;
		s->reconnect_ms = 0;
	}
	return true;
}

static bool parse_source(struct pctx *c, const xmlNode *n, struct vs_port_cfg *p,
			 int *nsrc)
{
	struct vs_endpoint *e = &p->ep;
	bool tls = false;
	uint64_t v;

	/*
	 * libvirt's tls='yes' asks QEMU to terminate TLS.  Accepting it
	 * silently would serve the port in clear text to someone who asked
	 * for encryption, so only tls='no' passes.
	 */
	if (!parse_bool(c, n, "tls", &tls))
		return false;
	if (tls) {
		perr(c, n, "tls='yes' is not supported; serve the port on loopback "
		     "or a unix socket and put a TLS proxy in front");
		return false;
	}
	(*nsrc)++;
	switch (e->type) {
	case VS_EP_UNIX:
		if (*nsrc > 1)
			break;
		return parse_source_sock(c, n, &e->sock, true);
	case VS_EP_TCP:
		if (*nsrc > 1)
			break;
		if (e->sock.mode) {	/* an RFC <listen>/<connect> came first */
			perr(c, n, "the endpoint address is already set");
			return false;
		}
		return parse_source_sock(c, n, &e->sock, false);
	case VS_EP_UDP: {
		struct vs_sockspec tmp = { 0 };

		if (!parse_source_sock(c, n, &tmp, false)) {
			sock_free(&tmp);
			return false;
		}
		if (tmp.mode == VS_MODE_BIND && !e->udp_local.service) {
			e->udp_local = tmp;
		} else if (tmp.mode != VS_MODE_BIND && !e->sock.service) {
			tmp.mode = VS_MODE_CONNECT;
			e->sock = tmp;
		} else {
			sock_free(&tmp);
			perr(c, n, "udp takes one <source mode='bind'> and one <source mode='connect'>");
			return false;
		}
		return true;
	}
	case VS_EP_FILE:
		if (*nsrc > 1)
			break;
		free(e->path);
		e->path = attr(n, "path");
		if (!check_path(c, n, "path", e->path, false))
			return false;
		if (!parse_bool(c, n, "append", &e->append))
			return false;
		v = e->max_size;
		if (!parse_u64(c, n, "max-size", UINT64_MAX >> 1, &v))
			return false;
		e->max_size = v;
		v = e->backups;
		if (!parse_u64(c, n, "backups", 100, &v))
			return false;
		e->backups = (unsigned)v;
		return true;
	case VS_EP_PTY:
	case VS_EP_PIPE:
	case VS_EP_DEV:
		if (*nsrc > 1)
			break;
		free(e->path);
		e->path = attr(n, "path");
		return check_path(c, n, "path", e->path, false);
	case VS_EP_NULL:
	case VS_EP_STDIO:
		perr(c, n, "type '%s' takes no <source>", vs_ep_type_name(e->type));
		return false;
	case VS_EP__COUNT:
		break;
	}
	perr(c, n, "more than one <source> for type '%s'", vs_ep_type_name(e->type));
	return false;
}

static bool parse_log(struct pctx *c, const xmlNode *n, struct vs_log *l)
{
	static const char *const ok[] = { "file", "append", "max-size", "backups", NULL };
	uint64_t v;

	if (!check_attrs(c, n, ok))
		return false;
	free(l->file);
	l->file = attr(n, "file");
	if (!l->file || !*l->file) {
		perr(c, n, "needs file=");
		return false;
	}
	if (!check_path(c, n, "file", l->file, false))
		return false;
	if (!parse_bool(c, n, "append", &l->append))
		return false;
	v = l->max_size;
	if (!parse_u64(c, n, "max-size", UINT64_MAX >> 1, &v))
		return false;
	l->max_size = v;
	v = l->backups;
	if (!parse_u64(c, n, "backups", 100, &v))
		return false;
	l->backups = (unsigned)v;
	return true;
}

static bool parse_perms(struct pctx *c, const xmlNode *n, struct vs_perms *pm)
{
	static const char *const ok[] = { "mode", "owner", "group", NULL };

	if (!check_attrs(c, n, ok))
		return false;
	pm->set = true;
	if (!parse_mode_attr(c, n, "mode", &pm->mode))
		return false;
	free(pm->owner);
	free(pm->group);
	pm->owner = attr(n, "owner");
	pm->group = attr(n, "group");
	return true;
}

static bool parse_ep_type(struct pctx *c, const xmlNode *n, struct vs_endpoint *e)
{
	char *t = attr(n, "type");
	bool ok = false;

	if (!t) {
		/* The RFC made pty the default; so do we. */
		e->type = VS_EP_PTY;
		return true;
	}
	for (int i = 0; i < VS_EP__COUNT; i++)
		if (!strcmp(t, ep_names[i])) {
			e->type = i;
			ok = true;
		}
	if (!strcmp(t, "telnet")) {	/* the RFC's spelling */
		e->type = VS_EP_TCP;
		e->telnet = true;
		ok = true;
	}
	if (!strcmp(t, "host")) {	/* the RFC's host serial port, port='N' */
		e->type = VS_EP_DEV;
		ok = true;
	}
	if (!ok && !strcmp(t, "vc"))
		perr(c, n, "type 'vc' is a display console (QEMU's graphical virtual "
		     "console); virtserd has no display: use type 'pty'");
	else if (!ok)
		perr(c, n, "unsupported type '%s'", t);
	free(t);
	return ok;
}

/* Cross-field checks, done once the element is complete. */
static bool validate_port(struct pctx *c, const xmlNode *n, struct vs_port_cfg *p,
			  bool tmpl)
{
	struct vs_endpoint *e = &p->ep;

	if (!p->chardev.mode && !tmpl) {
		perr(c, n, "missing <chardev> (QEMU's socket for this port)");
		return false;
	}
	switch (e->type) {
	case VS_EP_UNIX:
		if (!e->sock.path || !*e->sock.path) {
			perr(c, n, "type 'unix' needs <source path=''/>");
			return false;
		}
		break;
	case VS_EP_TCP:
		if (!e->sock.service || !*e->sock.service) {
			perr(c, n, "type 'tcp' needs a service (port)");
			return false;
		}
		if (!e->sock.host)
			e->sock.host = xstrdup(e->sock.mode == VS_MODE_CONNECT ?
					       "localhost" : "127.0.0.1");
		break;
	case VS_EP_UDP:
		if (!e->sock.service || !*e->sock.service) {
			perr(c, n, "type 'udp' needs a remote address (<source mode='connect'> or <sendto>)");
			return false;
		}
		if (!e->sock.host)
			e->sock.host = xstrdup("localhost");
		if (e->udp_local.mode && !e->udp_local.host)
			e->udp_local.host = xstrdup("127.0.0.1");
		break;
	case VS_EP_FILE:
	case VS_EP_PIPE:
	case VS_EP_DEV:
		if (!e->path || !*e->path) {
			perr(c, n, "type '%s' needs <source path=''/>", vs_ep_type_name(e->type));
			return false;
		}
		break;
	default:
		break;
	}
	if (e->type == VS_EP_UNIX || e->type == VS_EP_TCP) {
		if (!e->sock.mode)
			e->sock.mode = VS_MODE_BIND;
		if (e->sock.mode == VS_MODE_BIND && e->sock.reconnect) {
			perr(c, n, "<reconnect> is only valid with mode='connect'");
			return false;
		}
		if (e->sock.mode == VS_MODE_CONNECT && !e->sock.reconnect_ms)
			e->sock.reconnect_ms = VS_DEFAULT_RECONNECT_MS;
	}
	if (e->telnet && e->type != VS_EP_TCP) {
		perr(c, n, "<protocol type='telnet'/> needs type 'tcp'");
		return false;
	}
	if (e->perms.set && e->type != VS_EP_UNIX && e->type != VS_EP_PTY) {
		perr(c, n, "<perms> applies to unix and pty only");
		return false;
	}
	if (e->perms.set && e->type == VS_EP_UNIX && e->sock.mode != VS_MODE_BIND) {
		perr(c, n, "<perms> needs mode='bind'");
		return false;
	}
	if ((p->name || !tmpl) && !vs_config_valid_name(p->name)) {
		perr(c, n, "port name '%s' must be 1-64 of [A-Za-z0-9._:-], not . or ..", p->name);
		return false;
	}
	if (p->buffer_size < 4096) {
		perr(c, n, "buffer size %zu is below the minimum of 4096", p->buffer_size);
		return false;
	}
	if (p->replay > p->buffer_size) {
		perr(c, n, "replay %zu is larger than the buffer (%zu)", p->replay,
		     p->buffer_size);
		return false;
	}
	return true;
}

/*
 * A template's paths are expanded per port (vs_lv_expand): %v is the vm's
 * name, %p the port's, %% a '%'.  A default for a kind serves every port of
 * that kind, so whatever it binds or opens must name the port, or the
 * second port of the kind would collide with the first.
 */
static bool check_tmpl_path(struct pctx *c, const xmlNode *n, const char *what,
			    const char *v, bool per_port)
{
	bool has_p = false;

	if (!v)
		return true;
	for (const char *s = v; *s; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s == 'p')
			has_p = true;
		else if (*s != 'v' && *s != '%') {
			perr(c, n, "%s '%s': only %%v (vm), %%p (port) and %%%% may follow "
			     "a '%%'", what, v);
			return false;
		}
	}
	if (per_port && !has_p) {
		perr(c, n, "%s '%s' of a default for every %s of the domain must contain "
		     "%%p (the port's name), or its ports would share it", what, v,
		     (const char *)n->name);
		return false;
	}
	return true;
}

static bool check_tmpl(struct pctx *c, const xmlNode *n, const struct vs_port_cfg *p)
{
	const struct vs_endpoint *e = &p->ep;
	bool dflt = !p->name;

	if (dflt && (e->type == VS_EP_UDP || e->type == VS_EP_STDIO || e->type == VS_EP_DEV ||
		     (e->type == VS_EP_TCP && e->sock.mode == VS_MODE_BIND))) {
		perr(c, n, "type '%s'%s cannot be a default for every %s of the domain: "
		     "give it per port, with name=", vs_ep_type_name(e->type),
		     e->type == VS_EP_TCP ? " in mode 'bind'" : "", (const char *)n->name);
		return false;
	}
	return check_tmpl_path(c, n, "path", e->path, dflt) &&
	       check_tmpl_path(c, n, "path", e->sock.path,
			       dflt && e->sock.mode == VS_MODE_BIND) &&
	       check_tmpl_path(c, n, "file", p->log.file, dflt);
}

/*
 * The RFC's attribute forms on the port element itself: port='N' on
 * type 'host' (/dev/ttySN), path= on file and pipe, and pty= on pty, which
 * is where the RFC reports the pty it allocated: an output, so it is
 * accepted and ignored (virtserctl status shows the pty we allocate).
 */
static bool parse_rfc_attrs(struct pctx *c, const xmlNode *n, struct vs_endpoint *e)
{
	char *t = attr(n, "type"), *port = attr(n, "port"), *path = attr(n, "path");
	char *pty = attr(n, "pty");
	bool host = t && !strcmp(t, "host"), ok = false;

	if (port && !host) {
		perr(c, n, "port= is only valid with type 'host' (a host serial port)");
	} else if (host && !port) {
		perr(c, n, "type 'host' needs port='N' (the host serial port /dev/ttySN)");
	} else if (path && e->type != VS_EP_FILE && e->type != VS_EP_PIPE) {
		perr(c, n, "path= is only valid with type 'file' or 'pipe'");
	} else if (pty && e->type != VS_EP_PTY) {
		perr(c, n, "pty= is only valid with type 'pty'");
	} else if (port && (strspn(port, "0123456789") != strlen(port) || !*port ||
			    strlen(port) > 3 || atoi(port) > 255)) {
		perr(c, n, "port='%s' is not a serial port number (0-255)", port);
	} else if (!check_path(c, n, "path", path, false)) {
		/* reported */
	} else {
		if (port) {
			char dev[32];

			snprintf(dev, sizeof(dev), "/dev/ttyS%d", atoi(port));
			e->path = xstrdup(dev);
		} else if (path) {
			e->path = path;
			path = NULL;
		}
		ok = true;
	}
	free(t);
	free(port);
	free(path);
	free(pty);
	return ok;
}

static bool parse_port(struct pctx *c, const xmlNode *n, struct vs_port_cfg *p,
		       size_t default_buffer, unsigned index, bool tmpl)
{
	struct vs_endpoint *e = &p->ep;
	int nsrc = 0;
	uint64_t v;

	p->line = (int)xmlGetLineNo(n);
	p->kind = is_el(n, "console") ? VS_KIND_CONSOLE :
		  is_el(n, "serial") ? VS_KIND_SERIAL : VS_KIND_CHANNEL;
	p->buffer_size = default_buffer;
	p->replay = VS_DEFAULT_REPLAY;
	p->max_clients = VS_DEFAULT_CLIENTS;
	e->max_size = VS_DEFAULT_MAX_SIZE;
	e->backups = VS_DEFAULT_BACKUPS;
	p->log.max_size = VS_DEFAULT_MAX_SIZE;
	p->log.backups = VS_DEFAULT_BACKUPS;
	p->log.append = true;
	e->append = true;

	{
		static const char *const ok[] = { "type", "name", "tty", "port", "path",
						  "pty", NULL };

		if (!check_attrs(c, n, ok))
			return false;
	}
	if (!parse_ep_type(c, n, e) || !parse_rfc_attrs(c, n, e))
		return false;
	p->name = attr(n, "name");

	for (const xmlNode *k = n->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (tmpl && (is_el(k, "chardev") || is_el(k, "target") || is_el(k, "alias"))) {
			perr(c, k, "comes from the libvirt domain in a <vm libvirt=...>: "
			     "name the port with name= instead");
			return false;
		}
		if (is_el(k, "source")) {
			static const char *const ok[] = { "mode", "path", "host", "service",
				"append", "max-size", "backups", "nodelay", "tls", NULL };

			if (!check_attrs(c, k, ok) || !parse_source(c, k, p, &nsrc))
				return false;
		} else if (is_el(k, "protocol")) {
			char *t = attr(k, "type");

			if (t && !strcmp(t, "telnet"))
				e->telnet = true;
			else if (!t || strcmp(t, "raw")) {
				perr(c, k, "type='%s' is not raw or telnet", t ? t : "");
				free(t);
				return false;
			}
			free(t);
		} else if (is_el(k, "listen") || is_el(k, "connect")) {
			if (e->type != VS_EP_TCP) {
				perr(c, k, "only valid for type 'tcp' or 'telnet'");
				return false;
			}
			if (e->sock.mode) {
				perr(c, k, "the endpoint address is already set");
				return false;
			}
			if (!parse_rfc_sock(c, k, &e->sock, is_el(k, "listen") ?
					    VS_MODE_BIND : VS_MODE_CONNECT))
				return false;
		} else if (is_el(k, "sendto") || is_el(k, "bind")) {
			struct vs_sockspec *s = is_el(k, "sendto") ? &e->sock : &e->udp_local;

			if (e->type != VS_EP_UDP) {
				perr(c, k, "only valid for type 'udp'");
				return false;
			}
			if (s->mode) {
				perr(c, k, "given twice");
				return false;
			}
			if (!parse_rfc_sock(c, k, s, is_el(k, "sendto") ?
					    VS_MODE_CONNECT : VS_MODE_BIND))
				return false;
		} else if (is_el(k, "chardev")) {
			if (p->chardev.mode) {
				perr(c, k, "given twice");
				return false;
			}
			if (!parse_chardev(c, k, &p->chardev))
				return false;
		} else if (is_el(k, "log")) {
			if (!parse_log(c, k, &p->log))
				return false;
		} else if (is_el(k, "perms")) {
			if (!parse_perms(c, k, &e->perms))
				return false;
		} else if (is_el(k, "buffer")) {
			static const char *const ok[] = { "size", NULL };

			v = p->buffer_size;
			if (!check_attrs(c, k, ok) || !parse_u64(c, k, "size", 1u << 30, &v))
				return false;
			p->buffer_size = v;
		} else if (is_el(k, "clients")) {
			static const char *const ok[] = { "max", "replay", NULL };

			if (!check_attrs(c, k, ok))
				return false;
			v = p->max_clients;
			if (!parse_u64(c, k, "max", 1024, &v))
				return false;
			if (v == 0) {
				perr(c, k, "max must be at least 1");
				return false;
			}
			p->max_clients = (unsigned)v;
			v = p->replay;
			if (!parse_u64(c, k, "replay", 1u << 30, &v))
				return false;
			p->replay = v;
		} else if (is_el(k, "target")) {
			free(p->target_type);
			free(p->target_name);
			p->target_type = attr(k, "type");
			p->target_name = attr(k, "name");
			if (p->target_type && !strcmp(p->target_type, "guestfwd")) {
				perr(c, k, "type='guestfwd' is QEMU's user-network forward "
				     "to a chardev, not a virtio-serial port");
				return false;
			}
		} else if (is_el(k, "alias")) {
			free(p->alias);
			p->alias = attr(k, "name");
		} else if (is_el(k, "guest")) {
			static const char *const ok[] = { "closed", NULL };
			char *t;

			if (!check_attrs(c, k, ok))
				return false;
			t = attr(k, "closed");
			if (t && !strcmp(t, "hold")) {
				p->guest_hold = true;
			} else if (!t || strcmp(t, "pass")) {
				perr(c, k, "closed='%s' is not hold or pass", t ? t : "");
				free(t);
				return false;
			} else {
				p->guest_hold = false;
			}
			free(t);
		} else if (is_el(k, "address")) {
			/* libvirt's guest-side bus address: not ours to use. */
		} else {
			perr(c, k, "unknown element inside <%s>", (const char *)n->name);
			return false;
		}
	}
	if (tmpl)
		return validate_port(c, n, p, true) && check_tmpl(c, n, p);
	if (!p->name)
		p->name = xstrdup(p->alias ? p->alias : p->target_name);
	if (!p->name) {
		/*
		 * libvirt's own alias: <serial> and <console> carry only
		 * <target port='N'/>, and libvirt calls the Nth of each kind
		 * in the domain serialN, consoleN, channelN.
		 */
		char nm[32];

		snprintf(nm, sizeof(nm), "%s%u", (const char *)n->name, index);
		p->name = xstrdup(nm);
	}
	return validate_port(c, n, p, false);
}

/* ---- what ports may not share ------------------------------------------ */

enum res_ns {
	RES_FS,		/* a path: sockets, files, FIFOs, pty links, ttys */
	RES_TCP,	/* a TCP port we listen on */
	RES_UDP,	/* a UDP port we bind */
	RES_QEMU_TCP,	/* a QEMU chardev we connect to over TCP */
};

struct res {
	enum res_ns ns;
	const char *path, *suffix;	/* RES_FS: path + suffix (a pipe's .in/.out) */
	const char *host, *service;
	int port;
	bool shared;	/* a unix socket we connect to: others may too */
	bool chardev;
	const char *el;		/* how the element is written, for messages */
	const char *role;	/* what it is to its port */
};

static struct res *res_add(struct res *r, size_t *n, enum res_ns ns, const char *el,
			   const char *role)
{
	struct res *x = &r[(*n)++];

	memset(x, 0, sizeof(*x));
	x->ns = ns;
	x->el = el;
	x->role = role;
	x->suffix = "";
	return x;
}

static void res_sock(struct res *r, size_t *n, const struct vs_sockspec *s, bool chardev)
{
	struct res *x;

	if (s->is_unix) {
		x = res_add(r, n, RES_FS, chardev ? "chardev" : "source",
			    chardev ? "the <chardev> path" : "the <source> path");
		x->path = s->path;
		x->shared = !chardev && s->mode == VS_MODE_CONNECT;
		x->chardev = chardev;
		return;
	}
	if (s->mode == VS_MODE_CONNECT && !chardev)
		return;		/* many ports may dial one collector */
	x = res_add(r, n, s->mode == VS_MODE_BIND ? RES_TCP : RES_QEMU_TCP,
		    chardev ? "chardev" : "source",
		    chardev ? "the <chardev> address" : "the <source> port");
	x->host = s->host;
	x->service = s->service;
	x->port = service_port(s->service);
	x->chardev = chardev;
}

static void res_path(struct res *r, size_t *n, const char *path, const char *suffix,
		     const char *el, const char *role)
{
	struct res *x = res_add(r, n, RES_FS, el, role);

	x->path = path;
	x->suffix = suffix;
}

static const char *res_self(const struct res *x, char *buf, size_t len)
{
	if (x->ns != RES_FS)
		snprintf(buf, len, "<%s host='%s' service='%s'>", x->el, x->host ? x->host : "",
			 x->service);
	else if (*x->suffix)
		snprintf(buf, len, "<%s path='%s'> (its FIFO %s%s)", x->el, x->path, x->path,
			 x->suffix);
	else
		snprintf(buf, len, "<%s %s='%s'>", x->el, strcmp(x->el, "log") ? "path" : "file",
			 x->path);
	return buf;
}

/* Byte @i of path + suffix. */
static char res_at(const struct res *x, size_t i, size_t plen)
{
	return i < plen ? x->path[i] : x->suffix[i - plen];
}

static bool same_path(const struct res *a, const struct res *b)
{
	size_t la = strlen(a->path), lb = strlen(b->path);
	size_t n = la + strlen(a->suffix);

	if (n != lb + strlen(b->suffix))
		return false;
	for (size_t i = 0; i < n; i++)
		if (res_at(a, i, la) != res_at(b, i, lb))
			return false;
	return true;
}

/* Everything of the host a port takes for itself; at most 5 entries. */
static size_t port_res(const struct vs_port_cfg *p, struct res *r)
{
	const struct vs_endpoint *e = &p->ep;
	size_t n = 0;

	res_sock(r, &n, &p->chardev, true);
	switch (e->type) {
	case VS_EP_UNIX:
	case VS_EP_TCP:
		res_sock(r, &n, &e->sock, false);
		break;
	case VS_EP_UDP:
		if (e->udp_local.mode) {
			struct res *x = res_add(r, &n, RES_UDP, "source", "the <source> port");

			x->host = e->udp_local.host;
			x->service = e->udp_local.service;
			x->port = service_port(e->udp_local.service);
		}
		break;
	case VS_EP_PIPE:
		res_path(r, &n, e->path, ".in", "source", "the <source> FIFO");
		res_path(r, &n, e->path, ".out", "source", "the <source> FIFO");
		break;
	case VS_EP_FILE:
	case VS_EP_DEV:
	case VS_EP_PTY:
		if (e->path)
			res_path(r, &n, e->path, "", "source", "the <source> path");
		break;
	default:
		break;
	}
	if (p->log.file)
		res_path(r, &n, p->log.file, "", "log", "the <log> file");
	return n;
}

static bool is_any_host(const char *h)
{
	return !h || !strcmp(h, "0.0.0.0") || !strcmp(h, "::");
}

static bool res_clash(const struct res *a, const struct res *b)
{
	if (a->ns != b->ns)
		return false;
	switch (a->ns) {
	case RES_FS:
		return same_path(a, b) && !(a->shared && b->shared);
	case RES_TCP:
	case RES_UDP:
		return a->port == b->port &&
		       (is_any_host(a->host) || is_any_host(b->host) || !strcmp(a->host, b->host));
	case RES_QEMU_TCP:
		return a->port == b->port && !strcmp(a->host, b->host);
	}
	return false;
}

/*
 * Two ports on one QEMU socket, two listeners on one path or TCP port,
 * two writers of one file: each works at best for one of them at run
 * time, so the configuration is refused.  An endpoint on a chardev's path
 * is the copied-libvirt-channel mistake: in a libvirt domain <source> is
 * QEMU's socket, here it is the user side.
 */
static bool check_unique(struct pctx *c, const xmlNode *n, const struct vs_config *cfg,
			 const char *vmname, const struct vs_port_cfg *p)
{
	struct res mine[5], other[5];
	size_t nm = port_res(p, mine), no;
	char self[PATH_MAX + 64];
	bool ok = true;

	for (size_t i = 0; i < nm && ok; i++)
		for (size_t j = 0; j < i && ok; j++)
			if (res_clash(&mine[i], &mine[j])) {
				perr(c, n, "%s is also %s of %s/%s%s",
				     res_self(&mine[i], self, sizeof(self)), mine[j].role,
				     vmname, p->name, mine[i].chardev != mine[j].chardev ?
				     ": in virtserd.xml <source> is the user side and <chardev> "
				     "QEMU's socket (see LIBVIRT in virtserd.xml(5))" : "");
				ok = false;
			}
	for (size_t v = 0; v < cfg->nvms && ok; v++)
		for (size_t k = 0; k < cfg->vms[v].nports && ok; k++) {
			const struct vs_port_cfg *q = &cfg->vms[v].ports[k];

			if (q == p)
				break;
			no = port_res(q, other);
			for (size_t i = 0; i < nm && ok; i++)
				for (size_t j = 0; j < no && ok; j++)
					if (res_clash(&mine[i], &other[j])) {
						perr(c, n, "%s is also %s of %s/%s (line %d)",
						     res_self(&mine[i], self, sizeof(self)),
						     other[j].role, cfg->vms[v].name,
						     q->name, q->line);
						ok = false;
					}
		}
	return ok;
}

/* The control socket and its lock against every port's paths. */
static bool check_control(struct pctx *c, const xmlNode *n, const struct vs_config *cfg)
{
	struct res r[5];
	bool ok = true;

	for (size_t v = 0; v < cfg->nvms && ok; v++)
		for (size_t k = 0; k < cfg->vms[v].nports && ok; k++) {
			const struct vs_port_cfg *q = &cfg->vms[v].ports[k];
			size_t nr = port_res(q, r);

			for (size_t i = 0; i < nr && ok; i++) {

				struct res ctl = { .path = cfg->control_path, .suffix = "" };
				struct res lock = { .path = cfg->control_path, .suffix = ".lock" };

				if (r[i].ns == RES_FS && (same_path(&r[i], &ctl) ||
							  same_path(&r[i], &lock))) {
					perr(c, n, "the control socket %s (or its .lock) is also %s "
					     "of %s/%s (line %d)", cfg->control_path, r[i].role,
					     cfg->vms[v].name, q->name, q->line);
					ok = false;
				}
			}
		}
	return ok;
}

const char *vs_port_device_id(const struct vs_port_cfg *p)
{
	return p->alias ? p->alias : p->name;
}

/*
 * What QMP needs of the last port of @vm: a device id QEMU accepts, not
 * shared with another port of the VM; the hold policy only where QMP can
 * tell the state (a <serial> is not a virtio-serial port).
 */
static bool check_guest(struct pctx *c, const xmlNode *n, const struct vs_vm_cfg *vm,
			const struct vs_port_cfg *p, const xmlNode *qmp)
{
	const char *dev = vs_port_device_id(p);

	if (p->guest_hold && !qmp) {
		perr(c, n, "<guest closed='hold'/> needs a <qmp path=.../> in vm '%s' to "
		     "learn the guest's state", vm->name);
		return false;
	}
	if (!qmp || p->kind == VS_KIND_SERIAL) {
		if (p->guest_hold) {
			perr(c, n, "<guest closed='hold'/>: QEMU reports the guest's state only "
			     "for virtio-serial ports, not for a <serial>");
			return false;
		}
		return true;
	}
	if (!vs_qmp_valid_id(dev)) {
		perr(c, n, "device id '%s' (QMP names the port by its -device id=) is not "
		     "one QEMU accepts: a letter, then letters, digits, '.', '_' or '-'; "
		     "give <alias name='...'/>", dev);
		return false;
	}
	for (size_t i = 0; i + 1 < vm->nports; i++)
		if (vm->ports[i].kind != VS_KIND_SERIAL &&
		    !strcmp(vs_port_device_id(&vm->ports[i]), dev)) {
			perr(c, n, "device id '%s' is also the one of port '%s' (line %d)", dev,
			     vm->ports[i].name, vm->ports[i].line);
			return false;
		}
	return true;
}

/*
 * A monitor serves one client at a time, so the QMP socket is nobody
 * else's: not a port's socket, not another VM's monitor.
 */
static bool check_qmp_path(struct pctx *c, const xmlNode *n, const struct vs_config *cfg,
			   const struct vs_vm_cfg *vm)
{
	for (size_t v = 0; v < cfg->nvms; v++) {
		const struct vs_vm_cfg *o = &cfg->vms[v];

		if (o != vm && o->qmp_path && !strcmp(o->qmp_path, vm->qmp_path)) {
			perr(c, n, "path='%s' is also the <qmp> of vm '%s': a QMP monitor "
			     "serves one client; give each VM its own -qmp socket",
			     vm->qmp_path, o->name);
			return false;
		}
		for (size_t k = 0; k < o->nports; k++) {
			const struct vs_port_cfg *p = &o->ports[k];
			const char *what = NULL;

			if (p->chardev.is_unix && !strcmp(p->chardev.path, vm->qmp_path))
				what = "<chardev>";
			else if (p->ep.sock.is_unix && p->ep.sock.path &&
				 !strcmp(p->ep.sock.path, vm->qmp_path))
				what = "<source>";
			if (what) {
				perr(c, n, "path='%s' is also the %s path of %s/%s: QMP needs a "
				     "monitor socket of its own (-qmp unix:PATH,server=on,wait=off)",
				     vm->qmp_path, what, o->name, p->name);
				return false;
			}
		}
	}
	return true;
}

/*
 * <vm libvirt='URI'>: its children are templates (a default per kind, an
 * override per port name) that the domain's ports are backed with.
 */
/* Whether template path @v names the vm (%v). */
static bool names_vm(const char *v)
{
	for (; v && *v; v++)
		if (*v == '%' && *++v == 'v')
			return true;
		else if (!*v)
			break;
	return false;
}

/*
 * In <domains> one template serves every domain of the connection: what it
 * binds or creates must name the domain (%v), or two domains' ports would
 * share a socket or append to one log, one tenant's output in another's
 * file; and a fixed TCP port can be bound by one domain only.
 */
static bool check_every_tmpl(struct pctx *c, const xmlNode *n, const struct vs_port_cfg *p)
{
	const struct vs_endpoint *e = &p->ep;
	const char *bad = NULL;

	if (e->type == VS_EP_TCP && e->sock.mode == VS_MODE_BIND) {
		perr(c, n, "a tcp listener cannot be in <domains>: every domain would bind "
		     "the same port; give it in a <vm> of its own");
		return false;
	}
	if (e->path && !names_vm(e->path))
		bad = e->path;
	else if (e->sock.path && e->sock.mode == VS_MODE_BIND && !names_vm(e->sock.path))
		bad = e->sock.path;
	else if (p->log.file && !names_vm(p->log.file))
		bad = p->log.file;
	if (bad) {
		perr(c, n, "'%s' in <domains> must contain %%v (the domain's name), or every "
		     "domain's port would share it", bad);
		return false;
	}
	return true;
}

static bool parse_lv_vm(struct pctx *c, const xmlNode *n, struct vs_vm_cfg *vm,
			size_t default_buffer)
{
	for (const xmlNode *k = n->children; k; k = k->next) {
		struct vs_port_cfg *p;

		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(k, "qmp")) {
			perr(c, k, "not with libvirt=: the guest's state comes from libvirt, "
			     "which holds the domain's monitor");
			return false;
		}
		if (!is_el(k, "channel") && !is_el(k, "console") && !is_el(k, "serial")) {
			perr(c, k, "unknown element inside <vm> (expected channel, console or "
			     "serial)");
			return false;
		}
		p = realloc(vm->tmpls, (vm->ntmpls + 1) * sizeof(*p));
		if (!p)
			abort();
		vm->tmpls = p;
		p = &vm->tmpls[vm->ntmpls++];
		memset(p, 0, sizeof(*p));
		if (!parse_port(c, k, p, default_buffer, 0, true))
			return false;
		if (!vm->name && !check_every_tmpl(c, k, p))	/* <domains> */
			return false;
		if (p->guest_hold && p->kind == VS_KIND_SERIAL) {
			perr(c, k, "<guest closed='hold'/>: QEMU reports the guest's state only "
			     "for virtio-serial ports, not for a <serial>");
			return false;
		}
		for (size_t i = 0; i + 1 < vm->ntmpls; i++) {
			const struct vs_port_cfg *o = &vm->tmpls[i];

			if (o->kind == p->kind && !o->name && !p->name) {
				perr(c, k, "a second default for every %s (the first is on "
				     "line %d)", (const char *)k->name, o->line);
				return false;
			}
			if (o->name && p->name && !strcmp(o->name, p->name)) {
				perr(c, k, "port '%s' is given twice (the first is on line %d)",
				     p->name, o->line);
				return false;
			}
		}
	}
	return true;
}

static bool parse_vm(struct pctx *c, const xmlNode *n, struct vs_config *cfg,
		     struct vs_vm_cfg *vm, size_t default_buffer)
{
	static const char *const ok[] = { "name", "libvirt", "domain", NULL };
	const xmlNode *qmp = NULL;

	if (!check_attrs(c, n, ok))
		return false;
	vm->name = attr(n, "name");
	if (!vm->name || !vs_config_valid_name(vm->name)) {
		perr(c, n, "needs name= of 1-64 of [A-Za-z0-9._:-], not . or ..");
		return false;
	}
	vm->libvirt_uri = attr(n, "libvirt");
	vm->domain = attr(n, "domain");
	if (vm->domain && !vm->libvirt_uri) {
		perr(c, n, "domain= needs libvirt='URI' (the connection the domain is on)");
		return false;
	}
	if (vm->libvirt_uri) {
		if (!*vm->libvirt_uri || (vm->domain && !*vm->domain)) {
			perr(c, n, "libvirt= and domain= must not be empty");
			return false;
		}
		if (!vm->domain)
			vm->domain = xstrdup(vm->name);
		return parse_lv_vm(c, n, vm, default_buffer);
	}
	/* Read first: the ports' checks depend on it. */
	for (const xmlNode *k = n->children; k; k = k->next) {
		static const char *const qok[] = { "path", NULL };

		if (!is_el(k, "qmp"))
			continue;
		if (qmp) {
			perr(c, k, "given twice (the first is on line %ld)", xmlGetLineNo(qmp));
			return false;
		}
		qmp = k;
		if (!check_attrs(c, k, qok))
			return false;
		vm->qmp_path = attr(k, "path");
		if (!vm->qmp_path) {
			perr(c, k, "needs path= (QEMU's -qmp unix:PATH,server=on,wait=off)");
			return false;
		}
		if (!check_path(c, k, "path", vm->qmp_path, true))
			return false;
	}
	unsigned nchan = 0, ncon = 0, nser = 0;
	int serial_view = 0;	/* line of a <console><target type='serial'> */

	for (const xmlNode *k = n->children; k; k = k->next) {
		struct vs_port_cfg *p;
		unsigned idx;

		if (k->type != XML_ELEMENT_NODE || is_el(k, "qmp"))
			continue;
		if (!is_el(k, "channel") && !is_el(k, "console") && !is_el(k, "serial")) {
			perr(c, k, "unknown element inside <vm> (expected channel, console, serial "
			     "or qmp)");
			return false;
		}
		idx = is_el(k, "channel") ? nchan++ : is_el(k, "console") ? ncon++ : nser++;
		p = realloc(vm->ports, (vm->nports + 1) * sizeof(*p));
		if (!p)
			abort();
		vm->ports = p;
		p = &vm->ports[vm->nports++];
		memset(p, 0, sizeof(*p));
		if (!parse_port(c, k, p, default_buffer, idx, false))
			return false;
		/*
		 * In a libvirt domain the first <console> with <target
		 * type='serial'> is a second view of serial0, not a port of
		 * its own: serving both would put two daemons' worth of
		 * sockets on one device.
		 */
		if (p->kind == VS_KIND_CONSOLE && p->target_type &&
		    !strcmp(p->target_type, "serial")) {
			if (nser) {
				perr(c, k, "a <console> with <target type='serial'> is libvirt's "
				     "view of serial0; configure that port once, as <serial>");
				return false;
			}
			serial_view = p->line;
		}
		if (p->kind == VS_KIND_SERIAL && serial_view) {
			perr(c, k, "the <console> with <target type='serial'> on line %d is "
			     "libvirt's view of serial0; configure that port once, as <serial>",
			     serial_view);
			return false;
		}
		if (!check_guest(c, k, vm, p, qmp))
			return false;
		for (size_t i = 0; i + 1 < vm->nports; i++)
			if (!strcmp(vm->ports[i].name, p->name)) {
				perr(c, k, "duplicate port name '%s' in vm '%s'", p->name,
				     vm->name);
				return false;
			}
		if (!check_unique(c, k, cfg, vm->name, p))
			return false;
	}
	return !qmp || check_qmp_path(c, qmp, cfg, vm);
}

static bool parse_root(struct pctx *c, const xmlNode *root, struct vs_config *cfg)
{
	static const char *const ok[] = { NULL };
	const xmlNode *control = NULL;
	uint64_t v;

	if (!is_el(root, "virtserd")) {
		perr(c, root, "root element must be <virtserd>");
		return false;
	}
	if (!check_attrs(c, root, ok))
		return false;
	cfg->control_mode = 0600;
	cfg->default_buffer = VS_DEFAULT_BUFFER;
	/* <buffer> applies to all ports, so it is read before any <vm>. */
	for (const xmlNode *k = root->children; k; k = k->next)
		if (is_el(k, "buffer")) {
			static const char *const bok[] = { "size", NULL };

			v = cfg->default_buffer;
			if (!check_attrs(c, k, bok) || !parse_u64(c, k, "size", 1u << 30, &v))
				return false;
			if (v < 4096) {
				perr(c, k, "size %llu is below the minimum of 4096",
				     (unsigned long long)v);
				return false;
			}
			cfg->default_buffer = v;
		}
	for (const xmlNode *k = root->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE || is_el(k, "buffer"))
			continue;
		if (is_el(k, "control")) {
			static const char *const cok[] = { "path", "group", "mode", NULL };

			if (!check_attrs(c, k, cok))
				return false;
			free(cfg->control_path);
			free(cfg->control_group);
			cfg->control_path = attr(k, "path");
			cfg->control_group = attr(k, "group");
			control = k;
			if (!check_path(c, k, "path", cfg->control_path, true))
				return false;
			if (!parse_mode_attr(c, k, "mode", &cfg->control_mode))
				return false;
			if (cfg->control_mode & 0007) {
				perr(c, k, "mode %04o gives access to others; use group=",
				     (unsigned)cfg->control_mode);
				return false;
			}
		} else if (is_el(k, "vm")) {
			struct vs_vm_cfg *vm = realloc(cfg->vms, (cfg->nvms + 1) * sizeof(*vm));

			if (!vm)
				abort();
			cfg->vms = vm;
			vm = &cfg->vms[cfg->nvms++];
			memset(vm, 0, sizeof(*vm));
			if (!parse_vm(c, k, cfg, vm, cfg->default_buffer))
				return false;
			for (size_t i = 0; i + 1 < cfg->nvms; i++)
				if (!strcmp(cfg->vms[i].name, vm->name)) {
					perr(c, k, "duplicate vm name '%s'", vm->name);
					return false;
				}
		} else if (is_el(k, "domains")) {
			static const char *const dok[] = { "libvirt", NULL };
			struct vs_vm_cfg *vm = realloc(cfg->every, (cfg->nevery + 1) * sizeof(*vm));

			if (!vm)
				abort();
			cfg->every = vm;
			vm = &cfg->every[cfg->nevery++];
			memset(vm, 0, sizeof(*vm));
			if (!check_attrs(c, k, dok))
				return false;
			vm->libvirt_uri = attr(k, "libvirt");
			if (!vm->libvirt_uri || !*vm->libvirt_uri) {
				perr(c, k, "needs libvirt='URI' (the connection whose domains it follows)");
				return false;
			}
			for (size_t i = 0; i + 1 < cfg->nevery; i++)
				if (!strcmp(cfg->every[i].libvirt_uri, vm->libvirt_uri)) {
					perr(c, k, "a second <domains> for libvirt='%s'", vm->libvirt_uri);
					return false;
				}
			if (!parse_lv_vm(c, k, vm, cfg->default_buffer))
				return false;
		} else {
			perr(c, k, "unknown element inside <virtserd>");
			return false;
		}
	}
	if (!cfg->control_path)
		cfg->control_path = xstrdup(VS_DEFAULT_CONTROL);
	return check_control(c, control ? control : root, cfg);
}

/* libxml2 reports syntax errors through this; keep the first one. */
static void xml_error(void *data, const xmlError *e)
{
	struct pctx *c = data;
	char msg[256];
	size_t n;

	if (c->failed || !e)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "syntax error");
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	c->failed = true;
	snprintf(c->err, c->errlen, "%s:%d: xml: %s", c->file, e->line, msg);
}

static void xml_error_cb(void *data, xmlErrorPtr e)
{
	xml_error(data, e);
}

struct vs_config *vs_config_parse(const char *buf, size_t len,
				  const char *filename, char *err, size_t errlen)
{
	struct pctx c = { .file = filename, .err = err, .errlen = errlen };
	struct vs_config *cfg;
	xmlDoc *doc;

	if (errlen)
		err[0] = '\0';
	if (len > 64u << 20 || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "%s:0: xml: file too large", filename);
		return NULL;
	}
	xmlSetStructuredErrorFunc(&c, xml_error_cb);
	doc = xmlReadMemory(buf, (int)len, filename, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOCDATA);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc) {
		if (!c.failed)
			snprintf(err, errlen, "%s:0: xml: cannot parse", filename);
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		abort();
	if (doc->intSubset || doc->extSubset) {
		/* Entities defined there would expand without bound into the values. */
		perr(&c, NULL, "a <!DOCTYPE> is not allowed in a configuration");
	} else if (!xmlDocGetRootElement(doc)) {
		perr(&c, NULL, "empty document");
	} else if (!c.failed) {
		parse_root(&c, xmlDocGetRootElement(doc), cfg);
	}
	xmlFreeDoc(doc);
	if (c.failed) {
		vs_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int resolve_one(struct vs_sockspec *s, int socktype, int family)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_family = family }, *res;
	int ret;

	if (s->is_unix || !s->mode)
		return 0;
	hints.ai_flags = s->mode == VS_MODE_BIND ? AI_PASSIVE : 0;
	ret = getaddrinfo(s->host, s->service, &hints, &res);
	if (ret)
		return ret;
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static bool resolve_port(struct vs_port_cfg *p, const char *filename, char *err,
			 size_t errlen)
{
	struct vs_endpoint *e = &p->ep;
	struct vs_sockspec *bad = NULL;
	int ret;

	if ((ret = resolve_one(&p->chardev, SOCK_STREAM, AF_UNSPEC)))
		bad = &p->chardev;
	else if (e->type == VS_EP_TCP &&
		 (ret = resolve_one(&e->sock, SOCK_STREAM, AF_UNSPEC)))
		bad = &e->sock;
	else if (e->type == VS_EP_UDP &&
		 (ret = resolve_one(&e->sock, SOCK_DGRAM, AF_UNSPEC)))
		bad = &e->sock;
	/* The local address must be of the remote's family. */
	else if (e->type == VS_EP_UDP &&
		 (ret = resolve_one(&e->udp_local, SOCK_DGRAM,
				    e->sock.addr.ss_family)))
		bad = &e->udp_local;
	if (bad) {
		snprintf(err, errlen, "%s:%d: %s: %s host='%s' service='%s' does "
			 "not resolve: %s", filename, p->line,
			 vs_port_kind_name(p->kind),
			 bad == &p->chardev ? "<chardev>" : "<source>",
			 bad->host ? bad->host : "", bad->service,
			 ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return false;
	}
	return true;
}

/* Ports and templates alike: a template's endpoint is used as it is. */
bool vs_config_resolve(struct vs_config *cfg, const char *filename, char *err,
		       size_t errlen)
{
	for (size_t v = 0; v < cfg->nvms + cfg->nevery; v++) {
		struct vs_vm_cfg *vm = v < cfg->nvms ? &cfg->vms[v] : &cfg->every[v - cfg->nvms];

		for (size_t k = 0; k < vm->nports; k++)
			if (!resolve_port(&vm->ports[k], filename, err, errlen))
				return false;
		for (size_t k = 0; k < vm->ntmpls; k++)
			if (!resolve_port(&vm->tmpls[k], filename, err, errlen))
				return false;
	}
	return true;
}

struct vs_config *vs_config_load(const char *filename, char *err, size_t errlen)
{
	FILE *f = fopen(filename, "re");
	struct vs_config *cfg;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		snprintf(err, errlen, "%s:0: config: %s", filename, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len < (64u << 20) + 1);
	if (ferror(f)) {
		snprintf(err, errlen, "%s:0: config: read error", filename);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	cfg = vs_config_parse(buf, len, filename, err, errlen);
	free(buf);
	if (cfg && !vs_config_resolve(cfg, filename, err, errlen)) {
		vs_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static void port_free(struct vs_port_cfg *p)
{
	free(p->name);
	free(p->target_type);
	free(p->target_name);
	free(p->alias);
	sock_free(&p->chardev);
	free(p->ep.path);
	sock_free(&p->ep.sock);
	sock_free(&p->ep.udp_local);
	free(p->ep.perms.owner);
	free(p->ep.perms.group);
	free(p->log.file);
}

void vs_config_free(struct vs_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nvms; i++) {
		for (size_t j = 0; j < cfg->vms[i].nports; j++)
			port_free(&cfg->vms[i].ports[j]);
		free(cfg->vms[i].ports);
		for (size_t j = 0; j < cfg->vms[i].ntmpls; j++)
			port_free(&cfg->vms[i].tmpls[j]);
		free(cfg->vms[i].tmpls);
		free(cfg->vms[i].name);
		free(cfg->vms[i].qmp_path);
		free(cfg->vms[i].libvirt_uri);
		free(cfg->vms[i].domain);
	}
	free(cfg->vms);
	for (size_t i = 0; i < cfg->nevery; i++) {
		for (size_t j = 0; j < cfg->every[i].ntmpls; j++)
			port_free(&cfg->every[i].tmpls[j]);
		free(cfg->every[i].tmpls);
		free(cfg->every[i].libvirt_uri);
	}
	free(cfg->every);
	free(cfg->control_path);
	free(cfg->control_group);
	free(cfg);
}

/* ---- formatting -------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	if (!b->p) {
		/* b->p + b->len on NULL would be undefined even for len 0. */
		b->p = malloc(256);
		if (!b->p) {
			b->oom = true;
			return;
		}
		b->cap = 256;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		size_t ncap = (b->cap + n + 1) * 2;
		char *np = realloc(b->p, ncap);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

/* An attribute, escaped for single quotes; skipped when @v is NULL. */
static void sb_attr(struct sbuf *b, const char *name, const char *v)
{
	if (!v)
		return;
	sb_printf(b, " %s='", name);
	for (; *v; v++) {
		switch (*v) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '\'': sb_printf(b, "&apos;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		default: sb_printf(b, "%c", *v); break;
		}
	}
	sb_printf(b, "'");
}

static void fmt_reconnect(struct sbuf *b, const struct vs_sockspec *s, const char *ind)
{
	if (s->mode != VS_MODE_CONNECT)
		return;
	if (!s->reconnect) {
		sb_printf(b, "%s<reconnect enabled='no'/>\n", ind);
		return;
	}
	if (s->reconnect_ms % 1000)
		sb_printf(b, "%s<reconnect enabled='yes' timeout-ms='%u'/>\n", ind,
			  s->reconnect_ms);
	else
		sb_printf(b, "%s<reconnect enabled='yes' timeout='%u'/>\n", ind,
			  s->reconnect_ms / 1000);
}

static const char *mode_name(enum vs_mode m)
{
	return m == VS_MODE_BIND ? "bind" : m == VS_MODE_CONNECT ? "connect" : NULL;
}

static void fmt_sock(struct sbuf *b, const char *el, const char *type,
		     const struct vs_sockspec *s, const char *ind)
{
	bool kids = s->mode == VS_MODE_CONNECT || s->nowait;

	sb_printf(b, "%s<%s", ind, el);
	sb_attr(b, "type", type);
	sb_attr(b, "mode", mode_name(s->mode));
	sb_attr(b, "path", s->path);
	sb_attr(b, "host", s->host);
	sb_attr(b, "service", s->service);
	if (s->nodelay)
		sb_attr(b, "nodelay", "on");
	if (!kids) {
		sb_printf(b, "/>\n");
		return;
	}
	sb_printf(b, ">\n");
	char sub[32];

	snprintf(sub, sizeof(sub), "%s  ", ind);
	if (s->nowait)
		sb_printf(b, "%s<nowait/>\n", sub);
	fmt_reconnect(b, s, sub);
	sb_printf(b, "%s</%s>\n", ind, el);
}

static void fmt_port(struct sbuf *b, const struct vs_port_cfg *p)
{
	const char *el = p->kind == VS_KIND_CONSOLE ? "console" :
			 p->kind == VS_KIND_SERIAL ? "serial" : "channel";
	const struct vs_endpoint *e = &p->ep;
	const char *ind = "      ";

	sb_printf(b, "    <%s", el);
	sb_attr(b, "type", vs_ep_type_name(e->type));
	sb_attr(b, "name", p->name);
	sb_printf(b, ">\n");
	switch (e->type) {
	case VS_EP_UNIX:
		fmt_sock(b, "source", NULL, &e->sock, ind);
		break;
	case VS_EP_TCP:
		fmt_sock(b, "source", NULL, &e->sock, ind);
		sb_printf(b, "%s<protocol type='%s'/>\n", ind, e->telnet ? "telnet" : "raw");
		break;
	case VS_EP_UDP:
		if (e->udp_local.mode)
			fmt_sock(b, "source", NULL, &e->udp_local, ind);
		sb_printf(b, "%s<source mode='connect'", ind);
		sb_attr(b, "host", e->sock.host);
		sb_attr(b, "service", e->sock.service);
		sb_printf(b, "/>\n");
		break;
	case VS_EP_FILE:
		sb_printf(b, "%s<source", ind);
		sb_attr(b, "path", e->path);
		sb_printf(b, " append='%s' max-size='%llu' backups='%u'/>\n",
			  e->append ? "on" : "off", (unsigned long long)e->max_size,
			  e->backups);
		break;
	case VS_EP_PTY:
	case VS_EP_PIPE:
	case VS_EP_DEV:
		if (e->path) {
			sb_printf(b, "%s<source", ind);
			sb_attr(b, "path", e->path);
			sb_printf(b, "/>\n");
		}
		break;
	default:
		break;
	}
	if (e->perms.set) {
		sb_printf(b, "%s<perms", ind);
		if (e->perms.mode)
			sb_printf(b, " mode='%04o'", (unsigned)e->perms.mode);
		sb_attr(b, "owner", e->perms.owner);
		sb_attr(b, "group", e->perms.group);
		sb_printf(b, "/>\n");
	}
	if (p->chardev.mode)	/* a template's comes from the domain */
		fmt_sock(b, "chardev", p->chardev.is_unix ? "unix" : "tcp", &p->chardev, ind);
	if (p->log.file) {
		sb_printf(b, "%s<log", ind);
		sb_attr(b, "file", p->log.file);
		sb_printf(b, " append='%s' max-size='%llu' backups='%u'/>\n",
			  p->log.append ? "on" : "off",
			  (unsigned long long)p->log.max_size, p->log.backups);
	}
	sb_printf(b, "%s<buffer size='%zu'/>\n", ind, p->buffer_size);
	sb_printf(b, "%s<clients max='%u' replay='%zu'/>\n", ind, p->max_clients,
		  p->replay);
	if (p->target_type || p->target_name) {
		sb_printf(b, "%s<target", ind);
		sb_attr(b, "type", p->target_type);
		sb_attr(b, "name", p->target_name);
		sb_printf(b, "/>\n");
	}
	if (p->alias) {
		sb_printf(b, "%s<alias", ind);
		sb_attr(b, "name", p->alias);
		sb_printf(b, "/>\n");
	}
	if (p->guest_hold)
		sb_printf(b, "%s<guest closed='hold'/>\n", ind);
	sb_printf(b, "    </%s>\n", el);
}

char *vs_config_format(const struct vs_config *cfg)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "<virtserd>\n  <control");
	sb_attr(&b, "path", cfg->control_path);
	sb_attr(&b, "group", cfg->control_group);
	sb_printf(&b, " mode='%04o'/>\n", (unsigned)cfg->control_mode);
	sb_printf(&b, "  <buffer size='%zu'/>\n", cfg->default_buffer);
	for (size_t i = 0; i < cfg->nvms; i++) {
		sb_printf(&b, "  <vm");
		sb_attr(&b, "name", cfg->vms[i].name);
		sb_attr(&b, "libvirt", cfg->vms[i].libvirt_uri);
		sb_attr(&b, "domain", cfg->vms[i].domain);
		sb_printf(&b, ">\n");
		if (cfg->vms[i].qmp_path) {
			sb_printf(&b, "    <qmp");
			sb_attr(&b, "path", cfg->vms[i].qmp_path);
			sb_printf(&b, "/>\n");
		}
		for (size_t j = 0; j < cfg->vms[i].nports; j++)
			fmt_port(&b, &cfg->vms[i].ports[j]);
		for (size_t j = 0; j < cfg->vms[i].ntmpls; j++)
			fmt_port(&b, &cfg->vms[i].tmpls[j]);
		sb_printf(&b, "  </vm>\n");
	}
	for (size_t i = 0; i < cfg->nevery; i++) {
		sb_printf(&b, "  <domains");
		sb_attr(&b, "libvirt", cfg->every[i].libvirt_uri);
		sb_printf(&b, ">\n");
		for (size_t j = 0; j < cfg->every[i].ntmpls; j++)
			fmt_port(&b, &cfg->every[i].tmpls[j]);
		sb_printf(&b, "  </domains>\n");
	}
	sb_printf(&b, "</virtserd>\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static void sock_dup(struct vs_sockspec *d, const struct vs_sockspec *s)
{
	*d = *s;
	d->path = xstrdup(s->path);
	d->host = xstrdup(s->host);
	d->service = xstrdup(s->service);
}

struct vs_port_cfg *vs_port_cfg_dup(const struct vs_port_cfg *p)
{
	struct vs_port_cfg *d = malloc(sizeof(*d));

	if (!d)
		abort();
	*d = *p;
	d->name = xstrdup(p->name);
	d->target_type = xstrdup(p->target_type);
	d->target_name = xstrdup(p->target_name);
	d->alias = xstrdup(p->alias);
	sock_dup(&d->chardev, &p->chardev);
	d->ep.path = xstrdup(p->ep.path);
	sock_dup(&d->ep.sock, &p->ep.sock);
	sock_dup(&d->ep.udp_local, &p->ep.udp_local);
	d->ep.perms.owner = xstrdup(p->ep.perms.owner);
	d->ep.perms.group = xstrdup(p->ep.perms.group);
	d->log.file = xstrdup(p->log.file);
	return d;
}

void vs_port_cfg_clear(struct vs_port_cfg *p)
{
	port_free(p);
	memset(p, 0, sizeof(*p));
}

void vs_port_cfg_free(struct vs_port_cfg *p)
{
	if (!p)
		return;
	port_free(p);
	free(p);
}

/* ---- comparison (reload) ---------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool sock_eq(const struct vs_sockspec *a, const struct vs_sockspec *b)
{
	return a->mode == b->mode && a->is_unix == b->is_unix &&
	       str_eq(a->path, b->path) && str_eq(a->host, b->host) &&
	       str_eq(a->service, b->service) && a->nodelay == b->nodelay &&
	       a->nowait == b->nowait && a->reconnect == b->reconnect &&
	       a->reconnect_ms == b->reconnect_ms && a->addrlen == b->addrlen &&
	       !memcmp(&a->addr, &b->addr, a->addrlen);
}

bool vs_port_cfg_equal(const struct vs_port_cfg *a, const struct vs_port_cfg *b)
{
	const struct vs_endpoint *x = &a->ep, *y = &b->ep;

	return str_eq(a->name, b->name) && a->kind == b->kind &&
	       sock_eq(&a->chardev, &b->chardev) && x->type == y->type &&
	       str_eq(x->path, y->path) && x->append == y->append &&
	       x->max_size == y->max_size && x->backups == y->backups &&
	       x->telnet == y->telnet && sock_eq(&x->sock, &y->sock) &&
	       sock_eq(&x->udp_local, &y->udp_local) &&
	       x->perms.set == y->perms.set && x->perms.mode == y->perms.mode &&
	       str_eq(x->perms.owner, y->perms.owner) &&
	       str_eq(x->perms.group, y->perms.group) &&
	       str_eq(a->log.file, b->log.file) && a->log.append == b->log.append &&
	       a->log.max_size == b->log.max_size &&
	       a->log.backups == b->log.backups &&
	       a->buffer_size == b->buffer_size && a->replay == b->replay &&
	       a->max_clients == b->max_clients && a->guest_hold == b->guest_hold;
}
