// SPDX-License-Identifier: GPL-2.0
/*
 * lvxml.c - which of a libvirt domain's devices virtserd can back, and the
 * ports a <vm libvirt=...> makes of them.
 *
 * In the domain's XML <source> is QEMU's socket: mode='bind' means QEMU
 * listens (virtserd connects to it), mode='connect' means QEMU connects
 * (virtserd listens).  A <console> whose target is not virtio is
 * libvirt's second view of serial0, not a device, and is left out.
 */
#include "lvxml.h"

#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static char *xdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort();
	return d;
}

static char *prop(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *r;

	if (!v)
		return NULL;
	r = xdup((const char *)v);
	xmlFree(v);
	return r;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *k = n->children; k; k = k->next)
		if (is_el(k, name))
			return k;
	return NULL;
}

/* The text of <name> and <uuid>: short, plain. */
static char *text_of(const xmlNode *n, const char *name)
{
	const xmlNode *k = child(n, name);
	xmlChar *v;
	char *r;

	if (!k)
		return NULL;
	v = xmlNodeGetContent(k);
	if (!v)
		return NULL;
	r = xdup((const char *)v);
	xmlFree(v);
	return r;
}

__attribute__((format(printf, 2, 3)))
static void skip(struct vs_lv_dom *d, const char *fmt, ...)
{
	size_t old = d->skipped ? strlen(d->skipped) : 0;
	char line[400];
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	s = realloc(d->skipped, old + strlen(line) + 2);
	if (!s)
		abort();
	memcpy(s + old, line, strlen(line));
	s[old + strlen(line)] = '\n';
	s[old + strlen(line) + 1] = '\0';
	d->skipped = s;
}

static void dev_free(struct vs_lv_dev *v)
{
	free(v->name);
	free(v->alias);
	free(v->target_name);
	free(v->chardev.path);
	free(v->chardev.host);
	free(v->chardev.service);
}

void vs_lv_dom_free(struct vs_lv_dom *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ndevs; i++)
		dev_free(&d->devs[i]);
	free(d->devs);
	free(d->name);
	free(d->uuid);
	free(d->skipped);
	free(d);
}

/*
 * QEMU's socket for @n (a channel, console or serial of type unix or tcp)
 * into @s, from virtserd's side.  False, with the reason in @why, if it
 * cannot be backed.
 */
static bool scan_source(const xmlNode *n, const char *type, struct vs_sockspec *s,
			const char **why)
{
	const xmlNode *src = child(n, "source");
	const xmlNode *proto = child(n, "protocol");
	char *mode, *pt;
	bool ok = true;

	if (!src) {
		*why = "no <source>";
		return false;
	}
	mode = prop(src, "mode");
	/* libvirt's default for a unix or tcp source is connect (QEMU the client). */
	s->mode = mode && !strcmp(mode, "bind") ? VS_MODE_CONNECT : VS_MODE_BIND;
	if (mode && strcmp(mode, "bind") && strcmp(mode, "connect")) {
		*why = "<source mode=> is neither bind nor connect";
		ok = false;
	}
	free(mode);
	if (!ok)
		return false;
	if (!strcmp(type, "unix")) {
		s->is_unix = true;
		s->path = prop(src, "path");
		if (!s->path || s->path[0] != '/') {
			*why = "no absolute <source path=> (libvirt picks one when it starts the domain)";
			return false;
		}
		if (strlen(s->path) >= VS_SUN_PATH_MAX) {
			*why = "<source path=> is too long for a unix socket";
			return false;
		}
	} else {
		pt = proto ? prop(proto, "type") : NULL;
		if (pt && strcmp(pt, "raw")) {
			*why = "its protocol is not raw (virtserd would see the protocol's bytes)";
			ok = false;
		}
		free(pt);
		if (!ok)
			return false;
		s->host = prop(src, "host");
		s->service = prop(src, "service");
		if (!s->service || !*s->service) {
			*why = "no <source service=>";
			return false;
		}
		if (!s->host || !*s->host) {
			free(s->host);
			s->host = xdup(s->mode == VS_MODE_CONNECT ? "localhost" : "127.0.0.1");
		}
	}
	if (s->mode == VS_MODE_CONNECT) {
		/* QEMU listens: find the next one after a restart. */
		s->reconnect = true;
		s->reconnect_ms = VS_DEFAULT_RECONNECT_MS;
	}
	return true;
}

static void scan_dev(struct vs_lv_dom *d, const xmlNode *n, unsigned index)
{
	const char *el = (const char *)n->name;
	const xmlNode *target = child(n, "target"), *al = child(n, "alias");
	struct vs_lv_dev v = { 0 };
	char *type = prop(n, "type"), *ttype = NULL, *tstate = NULL;
	const char *why = NULL;
	char dflt[32];

	v.line = (int)xmlGetLineNo(n);
	v.kind = is_el(n, "console") ? VS_KIND_CONSOLE :
		 is_el(n, "serial") ? VS_KIND_SERIAL : VS_KIND_CHANNEL;
	if (target) {
		ttype = prop(target, "type");
		v.target_name = prop(target, "name");
		tstate = prop(target, "state");
	}
	v.alias = al ? prop(al, "name") : NULL;
	if (v.kind == VS_KIND_CHANNEL && (!ttype || strcmp(ttype, "virtio")))
		why = "not a virtio channel";
	else if (v.kind == VS_KIND_CONSOLE && (!ttype || strcmp(ttype, "virtio")))
		why = NULL;	/* serial0 seen again: not a device, not worth a line */
	else if (!type || (strcmp(type, "unix") && strcmp(type, "tcp")))
		why = "its type is not unix or tcp";
	else
		scan_source(n, type, &v.chardev, &why);
	if (v.kind == VS_KIND_CONSOLE && (!ttype || strcmp(ttype, "virtio")))
		goto out;
	if (v.kind == VS_KIND_CHANNEL && v.target_name)
		v.name = xdup(v.target_name);
	else if (v.alias)
		v.name = xdup(v.alias);
	else {
		/* libvirt's own alias for the Nth of the kind: inactive XML has none. */
		snprintf(dflt, sizeof(dflt), "%s%u", el, index);
		v.name = xdup(dflt);
	}
	if (!why && !vs_config_valid_name(v.name))
		why = "its name is not 1-64 of [A-Za-z0-9._:-], or is . or ..";
	if (why) {
		skip(d, "%s '%s' (line %d): %s", el, v.name, v.line, why);
		goto out;
	}
	for (size_t i = 0; i < d->ndevs; i++)
		if (!strcmp(d->devs[i].name, v.name)) {
			skip(d, "%s '%s' (line %d): a second port of that name", el, v.name,
			     v.line);
			goto out;
		}
	if (v.kind == VS_KIND_CHANNEL && tstate)
		v.state = !strcmp(tstate, "connected") ? VS_LV_STATE_CONNECTED :
			  !strcmp(tstate, "disconnected") ? VS_LV_STATE_DISCONNECTED :
			  VS_LV_STATE_NONE;
	{
		struct vs_lv_dev *nd = realloc(d->devs, (d->ndevs + 1) * sizeof(*nd));

		if (!nd)
			abort();
		d->devs = nd;
		d->devs[d->ndevs++] = v;
		memset(&v, 0, sizeof(v));	/* moved */
	}
out:
	dev_free(&v);
	free(type);
	free(ttype);
	free(tstate);
}

static void xml_quiet(void *data, const xmlError *e)
{
	char *first = data;

	if (!*first && e && e->message)
		snprintf(first, 200, "%s", e->message);
}

static void xml_quiet_cb(void *data, xmlErrorPtr e)
{
	xml_quiet(data, e);
}

struct vs_lv_dom *vs_lv_scan(const char *xml, size_t len, char *err, size_t errlen)
{
	char first[200] = "";
	struct vs_lv_dom *d;
	const xmlNode *root, *devs;
	unsigned nchan = 0, ncon = 0, nser = 0;
	xmlDoc *doc;
	char *id;

	if (len > 16u << 20 || len > (size_t)INT_MAX) {
		snprintf(err, errlen, "domain XML of %zu bytes is too large", len);
		return NULL;
	}
	xmlSetStructuredErrorFunc(first, xml_quiet_cb);
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc) {
		snprintf(err, errlen, "domain XML: %s", *first ? first : "not XML");
		return NULL;
	}
	if (doc->intSubset || doc->extSubset) {
		/* libvirt never writes one; its entities would expand without bound. */
		snprintf(err, errlen, "domain XML: a <!DOCTYPE> is not allowed");
		xmlFreeDoc(doc);
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_el(root, "domain")) {
		snprintf(err, errlen, "domain XML: the root element is not <domain>");
		xmlFreeDoc(doc);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->name = text_of(root, "name");
	d->uuid = text_of(root, "uuid");
	id = prop(root, "id");
	d->active = id && strcmp(id, "-1");
	free(id);
	if (!d->name || !*d->name) {
		snprintf(err, errlen, "domain XML: no <name>");
		vs_lv_dom_free(d);
		xmlFreeDoc(doc);
		return NULL;
	}
	devs = child(root, "devices");
	for (const xmlNode *k = devs ? devs->children : NULL; k; k = k->next) {
		if (is_el(k, "channel"))
			scan_dev(d, k, nchan++);
		else if (is_el(k, "console"))
			scan_dev(d, k, ncon++);
		else if (is_el(k, "serial"))
			scan_dev(d, k, nser++);
	}
	xmlFreeDoc(doc);
	return d;
}

char *vs_lv_expand(const char *tmpl, const char *vm, const char *port)
{
	size_t cap = strlen(tmpl) + 1, len = 0;
	char *out;

	for (const char *s = tmpl; *s; s++)
		if (*s == '%')
			cap += strlen(vm) + strlen(port);
	out = malloc(cap);
	if (!out)
		abort();
	for (const char *s = tmpl; *s; s++) {
		const char *ins;

		if (*s != '%') {
			out[len++] = *s;
			continue;
		}
		s++;
		ins = *s == 'v' ? vm : *s == 'p' ? port : *s == '%' ? "%" : NULL;
		if (!ins) {
			free(out);
			return NULL;
		}
		memcpy(out + len, ins, strlen(ins));
		len += strlen(ins);
	}
	out[len] = '\0';
	return out;
}

/* Replaces *@s by its expansion; false if it is not valid. */
static bool expand_in(char **s, const char *vm, const char *port)
{
	char *x;

	if (!*s)
		return true;
	x = vs_lv_expand(*s, vm, port);
	if (!x)
		return false;
	free(*s);
	*s = x;
	return true;
}

static const struct vs_port_cfg *tmpl_for(const struct vs_vm_cfg *vm,
					  const struct vs_lv_dev *v)
{
	const struct vs_port_cfg *dflt = NULL;

	for (size_t i = 0; i < vm->ntmpls; i++) {
		const struct vs_port_cfg *t = &vm->tmpls[i];

		if (t->name && !strcmp(t->name, v->name))
			return t->kind == v->kind ? t : NULL;
		if (!t->name && t->kind == v->kind)
			dflt = t;
	}
	return dflt;
}

/*
 * The port's chardev for a TCP source.  Numeric addresses only (and
 * "localhost"): this runs on the daemon's loop at every lifecycle event,
 * and a name in a domain's XML would make every port wait for DNS.
 */
static bool resolve(struct vs_sockspec *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST }, *res;
	const char *host = s->host;

	if (s->is_unix)
		return true;
	if (host && !strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (s->mode == VS_MODE_BIND)
		hints.ai_flags |= AI_PASSIVE;
	if (getaddrinfo(host, s->service, &hints, &res))
		return false;
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

void vs_lv_ports_free(struct vs_port_cfg *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_port_cfg_clear(&ports[i]);
	free(ports);
}

long vs_lv_ports(const struct vs_vm_cfg *vm, const struct vs_lv_dom *dom,
		 struct vs_port_cfg **out, char *err, size_t errlen)
{
	struct vs_port_cfg *ports = calloc(dom->ndevs ? dom->ndevs : 1, sizeof(*ports));
	size_t n = 0;

	if (!ports)
		abort();
	for (size_t i = 0; i < dom->ndevs; i++) {
		const struct vs_lv_dev *v = &dom->devs[i];
		const struct vs_port_cfg *t = tmpl_for(vm, v);
		struct vs_port_cfg *p, *dup;
		bool ok;

		if (!t)
			continue;
		dup = vs_port_cfg_dup(t);
		p = &ports[n++];
		*p = *dup;
		free(dup);	/* its contents are p's now */
		free(p->name);
		p->name = xdup(v->name);
		p->alias = xdup(v->alias);
		p->target_name = xdup(v->target_name);
		p->target_type = v->kind == VS_KIND_SERIAL ? NULL : xdup("virtio");
		p->chardev = v->chardev;
		p->chardev.path = xdup(v->chardev.path);
		p->chardev.host = xdup(v->chardev.host);
		p->chardev.service = xdup(v->chardev.service);
		p->line = v->line;
		ok = expand_in(&p->ep.path, vm->name, p->name) &&
		     expand_in(&p->ep.sock.path, vm->name, p->name) &&
		     expand_in(&p->log.file, vm->name, p->name);
		if (!ok) {
			snprintf(err, errlen, "vm '%s': port '%s': a path of its template "
				 "does not expand", vm->name, p->name);
			goto fail;
		}
		if (p->ep.sock.is_unix && p->ep.sock.path &&
		    strlen(p->ep.sock.path) >= VS_SUN_PATH_MAX) {
			snprintf(err, errlen, "vm '%s': port '%s': path '%s' is too long for "
				 "a unix socket", vm->name, p->name, p->ep.sock.path);
			goto fail;
		}
		if (!resolve(&p->chardev)) {
			snprintf(err, errlen, "vm '%s': port '%s': the domain's host='%s' "
				 "service='%s' is not a numeric address and port",
				 vm->name, p->name,
				 p->chardev.host, p->chardev.service);
			goto fail;
		}
	}
	*out = ports;
	return (long)n;
fail:
	vs_lv_ports_free(ports, n);
	return -1;
}
