// SPDX-License-Identifier: GPL-2.0
/*
 * lvirt.c - <vm libvirt='URI' domain='NAME'>: the ports are the domain's.
 *
 * One libvirt connection per URI, opened with libvirt's C API on the
 * daemon's own loop (lvevent.c), follows every domain event of that
 * connection.  At start-up, at reload and at each lifecycle event of a
 * configured domain (started, stopped, defined, undefined, migrated,
 * ...) the domain's XML is fetched again (the live XML while it runs,
 * the inactive one otherwise), scanned (lvxml.c) and the vm's ports are
 * reconciled with it: a port whose configuration did not change keeps its
 * QEMU connection, buffers and clients (so data written while the domain
 * was down reaches the next QEMU), a changed one is restarted, one the
 * domain no longer has is drained and released, and everything goes when
 * the domain is undefined.  The guest's open/close state of each channel
 * comes from the live XML (<target state=>) and then from the QEMU
 * monitor's VSERPORT_CHANGE events libvirt passes through (libvirt-qemu).
 * When libvirtd goes away (its close callback, or keepalive) the ports
 * stay (QEMU keeps running without libvirtd) and the connection is opened
 * again after 1, 2, 4 ... 16 s; then every domain is fetched again.
 *
 * libvirt's calls here are synchronous RPCs on libvirtd's local socket:
 * the loop waits for them.  Keepalive (5 s, 3 probes) bounds how long a
 * libvirtd that stopped answering can stall it.
 *
 * Calls lvevent.c, port.c, qmp.c, log.c, config.c and lvxml.c.
 */
#include "virtserd.h"
#include "lvirt.h"
#include "lvxml.h"
#include "qmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#ifdef VS_HAVE_LIBVIRT

#include "lvevent.h"
#include "qmp_proto.h"

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#define LV_RETRY_MIN_MS		1000
#define LV_RETRY_MAX_MS		16000

/* One libvirt connection.  Owner of every field: this file, single-threaded. */
struct lvconn {
	struct lvconn *next;
	char *uri;
	virConnectPtr conn;		/* NULL while not connected */
	int life_id, mon_id;		/* event callback ids; -1: none */
	int timer;			/* libvirt timeout id: reopen; -1: none */
	unsigned retry_ms;
	bool dead;			/* libvirt said it closed: reopen at the timer */
	char last_err[200];		/* logged once per cause */
};

/* One <vm libvirt=...>.  Owner: this file. */
struct lvvm {
	struct lvvm *next;
	char *name, *domain;
	struct lvconn *c;
	struct vs_port_cfg *tmpls;	/* deep copies of the configuration's */
	size_t ntmpls;
	bool defined;			/* the domain was found at the last fetch */
	bool every;			/* made for a domain of a <domains> */
	bool gone;			/* every: released; freed by sweep() */
};

/* One <domains libvirt=...>.  Owner: this file. */
struct lvall {
	struct lvall *next;
	struct lvconn *c;
	struct vs_port_cfg *tmpls;
	size_t ntmpls;
};

static struct lvconn *conns;
static struct lvvm *vms;
static struct lvall *alls;
/* Every <vm>'s name in the configuration: no <domains> takes them. */
static char **names;
static size_t nnames;
static bool registered, shutting_down;

/* libvirt reports errors through this too; the caller logs what matters. */
static void lv_quiet(void *opaque, virErrorPtr e)
{
	if (vs_verbose && e && e->message)
		vs_log(LOG_DEBUG, "libvirt: %s", e->message);
}

static const char *lv_err(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown error";
}

/* ---- ports ----------------------------------------------------------- */

static bool port_of(const struct vs_port *p, const char *vm)
{
	size_t n = strlen(vm);

	return p->lv && !p->stopping && !strncmp(p->id, vm, n) && p->id[n] == '/';
}

/* The vm's ports become @ports (@n of them): keep, restart, add, release. */
static void reconcile(struct lvvm *v, const struct vs_port_cfg *ports, size_t n)
{
	unsigned kept = 0, added = 0, removed = 0;

	for (struct vs_port *p = vs_ports, *next; p; p = next) {
		bool keep = false;

		next = p->next;
		if (!port_of(p, v->name))
			continue;
		for (size_t i = 0; i < n && !keep; i++)
			keep = !strcmp(ports[i].name, p->cfg->name) &&
			       vs_port_cfg_equal(p->cfg, &ports[i]);
		if (keep) {
			kept++;
		} else {
			vs_port_stop(p, STOP_TIMEOUT_MS);
			removed++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char id[160];
		struct vs_port *p;

		snprintf(id, sizeof(id), "%s/%s", v->name, ports[i].name);
		if (vs_port_find(id))
			continue;
		p = vs_port_new(v->name, &ports[i]);
		p->lv = true;
		added++;
	}
	if (added || removed)
		vs_log(LOG_NOTICE, "%s: domain '%s': %u ports kept, %u added, %u released",
		       v->name, v->domain, kept, added, removed);
}

static void release(struct lvvm *v, const char *why)
{
	if (v->defined || why)
		vs_log(LOG_NOTICE, "%s: domain '%s' %s: its ports are released", v->name,
		       v->domain, why ? why : "is not defined");
	v->defined = false;
	reconcile(v, NULL, 0);
	vs_guest_ext_set(v->name, NULL, 0);
	/* A <domains>' vm lives as long as its domain; callers may be iterating. */
	if (v->every)
		v->gone = true;
}

static enum vs_guest guest_of(enum vs_lv_state s)
{
	return s == VS_LV_STATE_CONNECTED ? VS_GUEST_OPEN :
	       s == VS_LV_STATE_DISCONNECTED ? VS_GUEST_CLOSED : VS_GUEST_UNKNOWN;
}

/* Fetch the domain again and make its ports what it says. */
static void refresh(struct lvvm *v)
{
	struct vs_port_cfg *ports = NULL;
	struct vs_lv_dom *dom;
	virDomainPtr d;
	char err[600];
	char *xml;
	long n;
	int active;

	if (shutting_down || v->gone)
		return;
	if (!v->c->conn) {
		vs_guest_ext_link(v->name, false);
		return;
	}
	d = virDomainLookupByName(v->c->conn, v->domain);
	if (!d) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN)
			release(v, v->defined ? "was undefined (or has stopped, if transient)" :
				NULL);
		else
			vs_log(LOG_ERR, "%s: looking up domain '%s' on %s: %s", v->name,
			       v->domain, v->c->uri, lv_err());
		return;
	}
	active = virDomainIsActive(d);
	/* A running domain's sockets, aliases and states are in its live XML. */
	xml = virDomainGetXMLDesc(d, active == 1 ? 0 : VIR_DOMAIN_XML_INACTIVE);
	virDomainFree(d);
	if (!xml) {
		vs_log(LOG_ERR, "%s: domain '%s': its XML: %s", v->name, v->domain, lv_err());
		return;
	}
	dom = vs_lv_scan(xml, strlen(xml), err, sizeof(err));
	free(xml);
	if (!dom) {
		vs_log(LOG_ERR, "%s: domain '%s': %s", v->name, v->domain, err);
		return;
	}
	if (dom->skipped && vs_verbose)
		vs_log(LOG_DEBUG, "%s: domain '%s' has devices virtserd does not back:\n%s",
		       v->name, v->domain, dom->skipped);
	{
		struct vs_vm_cfg vc = { .name = v->name, .tmpls = v->tmpls, .ntmpls = v->ntmpls };

		n = vs_lv_ports(&vc, dom, &ports, err, sizeof(err));
	}
	if (n < 0) {
		vs_log(LOG_ERR, "%s: domain '%s': %s (its ports are left as they were)",
		       v->name, v->domain, err);
		vs_lv_dom_free(dom);
		return;
	}
	if (!v->defined)
		vs_log(LOG_NOTICE, "%s: domain '%s' (%s): %ld of its %zu ports backed", v->name,
		       v->domain, dom->active ? "running" : "not running", n, dom->ndevs);
	v->defined = true;
	reconcile(v, ports, (size_t)n);
	vs_guest_ext_set(v->name, ports, (size_t)n);
	vs_guest_ext_link(v->name, dom->active);
	if (dom->active)
		for (long i = 0; i < n; i++) {
			const struct vs_lv_dev *dv = NULL;

			for (size_t j = 0; j < dom->ndevs && !dv; j++)
				if (!strcmp(dom->devs[j].name, ports[i].name))
					dv = &dom->devs[j];
			if (dv && dv->alias && dv->state != VS_LV_STATE_NONE)
				vs_guest_ext_state(v->name, dv->alias, guest_of(dv->state));
		}
	vs_lv_ports_free(ports, (size_t)n);
	vs_lv_dom_free(dom);
}

static void tmpls_free(struct vs_port_cfg *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_port_cfg_clear(&t[i]);
	free(t);
}

static struct vs_port_cfg *tmpls_dup(const struct vs_port_cfg *t, size_t n)
{
	struct vs_port_cfg *d = calloc(n ? n : 1, sizeof(*d));

	if (!d)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct vs_port_cfg *one = vs_port_cfg_dup(&t[i]);

		d[i] = *one;
		free(one);	/* its contents are the array's now */
	}
	return d;
}

static void vm_free(struct lvvm *v)
{
	tmpls_free(v->tmpls, v->ntmpls);
	free(v->name);
	free(v->domain);
	free(v);
}

/* Frees the <domains>' vms that were released. */
static void sweep(void)
{
	for (struct lvvm **pp = &vms, *v; (v = *pp);) {
		if (!v->gone) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		vs_guest_ext_drop(v->name);
		vm_free(v);
	}
}

static struct lvall *all_of(const struct lvconn *c)
{
	for (struct lvall *a = alls; a; a = a->next)
		if (a->c == c)
			return a;
	return NULL;
}

/* Whether domain @dom of @c is some <vm>'s, by name or by domain=. */
static bool taken(const struct lvconn *c, const char *dom)
{
	for (size_t i = 0; i < nnames; i++)
		if (!strcmp(names[i], dom))
			return true;
	for (struct lvvm *v = vms; v; v = v->next)
		if (!v->gone && ((v->c == c && !strcmp(v->domain, dom)) || !strcmp(v->name, dom)))
			return true;
	return false;
}

/* Domain @dom of @c, if a <domains> follows @c and no <vm> has it: a vm. */
static void every_add(struct lvconn *c, const char *dom)
{
	struct lvall *a = all_of(c);
	struct lvvm *v;

	if (!a || taken(c, dom))
		return;
	if (!vs_config_valid_name(dom)) {
		vs_log(LOG_WARNING, "libvirt %s: domain '%s' is not followed: a vm's name is "
		       "1-64 of [A-Za-z0-9._:-], not . or ..", c->uri, dom);
		return;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = strdup(dom)) || !(v->domain = strdup(dom)))
		abort();
	v->c = c;
	v->every = true;
	v->tmpls = tmpls_dup(a->tmpls, a->ntmpls);
	v->ntmpls = a->ntmpls;
	v->next = vms;
	vms = v;
	refresh(v);
}

/* Every domain of @c, for its <domains> (at connect and at reload). */
static void every_scan(struct lvconn *c)
{
	virDomainPtr *doms = NULL;
	int n;

	if (!c->conn || !all_of(c))
		return;
	n = virConnectListAllDomains(c->conn, &doms, 0);
	if (n < 0) {
		vs_log(LOG_ERR, "libvirt %s: listing the domains: %s", c->uri, lv_err());
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = virDomainGetName(doms[i]);

		if (nm)
			every_add(c, nm);
		virDomainFree(doms[i]);
	}
	free(doms);
}

/* ---- events ---------------------------------------------------------- */

static const char *life_name(int ev)
{
	switch (ev) {
	case VIR_DOMAIN_EVENT_DEFINED: return "defined";
	case VIR_DOMAIN_EVENT_UNDEFINED: return "undefined";
	case VIR_DOMAIN_EVENT_STARTED: return "started";
	case VIR_DOMAIN_EVENT_SUSPENDED: return "suspended";
	case VIR_DOMAIN_EVENT_RESUMED: return "resumed";
	case VIR_DOMAIN_EVENT_STOPPED: return "stopped";
	case VIR_DOMAIN_EVENT_SHUTDOWN: return "shut down";
	case VIR_DOMAIN_EVENT_PMSUSPENDED: return "pm-suspended";
	case VIR_DOMAIN_EVENT_CRASHED: return "crashed";
	default: return "changed";
	}
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	struct lvconn *c = opaque;
	const char *name = virDomainGetName(dom);
	bool mine = false;

	if (!name)
		return 0;
	for (struct lvvm *v = vms; v; v = v->next) {
		if (v->gone || v->c != c || strcmp(v->domain, name))
			continue;
		mine = true;
		vs_log(LOG_INFO, "%s: domain '%s' %s (detail %d)", v->name, name,
		       life_name(event), detail);
		/*
		 * Suspend and resume change no socket; everything else may
		 * (a migration in ends with STARTED, one out with STOPPED).
		 */
		if (event != VIR_DOMAIN_EVENT_SUSPENDED && event != VIR_DOMAIN_EVENT_RESUMED)
			refresh(v);
	}
	/* A domain new to a connection a <domains> follows. */
	if (!mine && event != VIR_DOMAIN_EVENT_UNDEFINED) {
		vs_log(LOG_INFO, "libvirt %s: domain '%s' %s", c->uri, name, life_name(event));
		every_add(c, name);
	}
	sweep();
	return 0;
}

/* QEMU's VSERPORT_CHANGE, passed through: {"open": bool, "id": "channel0"}. */
static void on_monitor(virConnectPtr conn, virDomainPtr dom, const char *event,
		       long long seconds, unsigned int micros, const char *details,
		       void *opaque)
{
	struct lvconn *c = opaque;
	const char *name = virDomainGetName(dom);
	struct vs_qmp_msg m;
	char *msg;
	int len;

	if (!name || !details || strcmp(event, "VSERPORT_CHANGE"))
		return;
	len = asprintf(&msg, "{\"event\": \"VSERPORT_CHANGE\", \"data\": %s}", details);
	if (len < 0)
		return;
	if (vs_qmp_parse(msg, (size_t)len, &m) || m.kind != VS_QMP_EVENT || !m.data_id[0] ||
	    m.data_open < 0) {
		vs_log(LOG_WARNING, "domain '%s': VSERPORT_CHANGE without id and open: %.200s",
		       name, details);
		free(msg);
		return;
	}
	free(msg);
	for (struct lvvm *v = vms; v; v = v->next)
		if (v->c == c && !strcmp(v->domain, name))
			vs_guest_ext_state(v->name, m.data_id,
					   m.data_open ? VS_GUEST_OPEN : VS_GUEST_CLOSED);
}

/* ---- the connection -------------------------------------------------- */

static void conn_arm(struct lvconn *c, int ms)
{
	if (c->timer >= 0)
		virEventUpdateTimeout(c->timer, ms);
}

/* libvirt's close callback: do the closing from our timer, not in here. */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct lvconn *c = opaque;

	c->dead = true;
	vs_log(LOG_WARNING, "libvirt %s: connection closed (reason %d); the ports stay, "
	       "reconnecting", c->uri, reason);
	conn_arm(c, 0);
}

static void conn_close(struct lvconn *c)
{
	if (!c->conn)
		return;
	if (c->life_id >= 0)
		virConnectDomainEventDeregisterAny(c->conn, c->life_id);
	if (c->mon_id >= 0)
		virConnectDomainQemuMonitorEventDeregister(c->conn, c->mon_id);
	virConnectUnregisterCloseCallback(c->conn, on_close);
	virConnectClose(c->conn);
	c->conn = NULL;
	c->life_id = c->mon_id = -1;
	for (struct lvvm *v = vms; v; v = v->next)
		if (v->c == c)
			vs_guest_ext_link(v->name, false);
}

static bool conn_open(struct lvconn *c)
{
	c->conn = virConnectOpen(c->uri);
	if (!c->conn) {
		const char *m = lv_err();

		if (strcmp(m, c->last_err))
			vs_log(LOG_ERR, "libvirt %s: %s; retrying", c->uri, m);
		snprintf(c->last_err, sizeof(c->last_err), "%s", m);
		return false;
	}
	c->last_err[0] = '\0';
	c->dead = false;
	c->retry_ms = LV_RETRY_MIN_MS;
	if (virConnectSetKeepAlive(c->conn, 5, 3) < 0)
		vs_log(LOG_INFO, "libvirt %s: no keepalive: %s", c->uri, lv_err());
	if (virConnectRegisterCloseCallback(c->conn, on_close, c, NULL) < 0)
		vs_log(LOG_WARNING, "libvirt %s: no close callback (%s): a libvirtd restart "
		       "shows only when a call fails", c->uri, lv_err());
	c->life_id = virConnectDomainEventRegisterAny(c->conn, NULL,
						      VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
						      c, NULL);
	if (c->life_id < 0)
		vs_log(LOG_ERR, "libvirt %s: no lifecycle events (%s): domains are read "
		       "now and at reload only", c->uri, lv_err());
	c->mon_id = virConnectDomainQemuMonitorEventRegister(c->conn, NULL, "VSERPORT_CHANGE",
							     on_monitor, c, NULL, 0);
	if (c->mon_id < 0)
		vs_log(LOG_INFO, "libvirt %s: no QEMU monitor events (%s): guest states come "
		       "from the domain's XML at its events only", c->uri, lv_err());
	vs_log(LOG_NOTICE, "libvirt %s: connected", c->uri);
	return true;
}

static void conn_timer(int id, void *opaque)
{
	struct lvconn *c = opaque;

	conn_arm(c, -1);
	if (shutting_down)
		return;
	if (c->dead)
		conn_close(c);
	if (!c->conn && !conn_open(c)) {
		conn_arm(c, (int)c->retry_ms);
		c->retry_ms = c->retry_ms * 2 > LV_RETRY_MAX_MS ? LV_RETRY_MAX_MS : c->retry_ms * 2;
		return;
	}
	for (struct lvvm *v = vms; v; v = v->next)
		if (v->c == c)
			refresh(v);
	every_scan(c);
	sweep();
}

static struct lvconn *conn_get(const char *uri)
{
	struct lvconn *c;

	for (c = conns; c; c = c->next)
		if (!strcmp(c->uri, uri))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->uri = strdup(uri)))
		abort();
	c->life_id = c->mon_id = -1;
	c->retry_ms = LV_RETRY_MIN_MS;
	c->timer = virEventAddTimeout(-1, conn_timer, c, NULL);
	c->next = conns;
	conns = c;
	if (!conn_open(c))
		conn_arm(c, (int)c->retry_ms);
	return c;
}

static void conn_put_unused(void)
{
	for (struct lvconn **pp = &conns, *c; (c = *pp);) {
		bool used = false;

		for (struct lvvm *v = vms; v && !used; v = v->next)
			used = v->c == c;
		used = used || all_of(c);
		if (used) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		conn_close(c);
		if (c->timer >= 0)
			virEventRemoveTimeout(c->timer);
		free(c->uri);
		free(c);
	}
}

/* ---- configuration --------------------------------------------------- */

static void vm_set_tmpls(struct lvvm *v, const struct vs_port_cfg *t, size_t n)
{
	tmpls_free(v->tmpls, v->ntmpls);
	v->tmpls = tmpls_dup(t, n);
	v->ntmpls = n;
}

bool vs_lv_supported(const struct vs_config *cfg, char *err, size_t errlen)
{
	return true;
}

void vs_lv_apply(const struct vs_config *cfg)
{
	if (!registered) {
		virSetErrorFunc(NULL, lv_quiet);
		vs_lvev_register();
		registered = true;
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	names = calloc(cfg->nvms ? cfg->nvms : 1, sizeof(*names));
	if (!names)
		abort();
	for (size_t i = 0; i < cfg->nvms; i++)
		if (!(names[i] = strdup(cfg->vms[i].name)))
			abort();
	nnames = cfg->nvms;
	/* vms gone, or now on another connection or domain: release them. */
	for (struct lvvm **pp = &vms, *v; (v = *pp);) {
		const struct vs_vm_cfg *keep = NULL;

		if (v->every) {		/* the <domains> part below sees to them */
			pp = &v->next;
			continue;
		}
		for (size_t i = 0; i < cfg->nvms && !keep; i++)
			if (cfg->vms[i].libvirt_uri && !strcmp(cfg->vms[i].name, v->name) &&
			    !strcmp(cfg->vms[i].libvirt_uri, v->c->uri) &&
			    !strcmp(cfg->vms[i].domain, v->domain))
				keep = &cfg->vms[i];
		if (keep) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		reconcile(v, NULL, 0);
		vs_guest_ext_drop(v->name);
		vm_free(v);
	}
	for (size_t i = 0; i < cfg->nvms; i++) {
		const struct vs_vm_cfg *vc = &cfg->vms[i];
		struct lvvm *v;

		if (!vc->libvirt_uri)
			continue;
		for (v = vms; v && (v->every || strcmp(v->name, vc->name)); v = v->next)
			;
		/* A <domains>' vm of that name gives way to the <vm>. */
		for (struct lvvm *o = vms; o; o = o->next)
			if (o->every && !o->gone && !strcmp(o->name, vc->name)) {
				reconcile(o, NULL, 0);
				o->gone = true;
			}
		sweep();
		if (!v) {
			v = calloc(1, sizeof(*v));
			if (!v || !(v->name = strdup(vc->name)) || !(v->domain = strdup(vc->domain)))
				abort();
			v->c = conn_get(vc->libvirt_uri);
			v->next = vms;
			vms = v;
		}
		vm_set_tmpls(v, vc->tmpls, vc->ntmpls);
		refresh(v);
	}
	/* <domains>: what is left of each connection's domains is theirs. */
	while (alls) {
		struct lvall *a = alls;

		alls = a->next;
		tmpls_free(a->tmpls, a->ntmpls);
		free(a);
	}
	for (size_t i = 0; i < cfg->nevery; i++) {
		struct lvall *a = calloc(1, sizeof(*a));

		if (!a)
			abort();
		a->c = conn_get(cfg->every[i].libvirt_uri);
		a->tmpls = tmpls_dup(cfg->every[i].tmpls, cfg->every[i].ntmpls);
		a->ntmpls = cfg->every[i].ntmpls;
		a->next = alls;
		alls = a;
	}
	for (struct lvvm *v = vms; v; v = v->next) {
		struct lvall *a;
		bool named = false;

		if (!v->every || v->gone)
			continue;
		for (size_t i = 0; i < nnames; i++)
			named = named || !strcmp(names[i], v->name);
		a = all_of(v->c);
		if (!a || named) {
			reconcile(v, NULL, 0);
			v->gone = true;
			continue;
		}
		vm_set_tmpls(v, a->tmpls, a->ntmpls);
		refresh(v);
	}
	for (struct lvall *a = alls; a; a = a->next)
		every_scan(a->c);
	sweep();
	conn_put_unused();
}

void vs_lv_shutdown(void)
{
	shutting_down = true;
	while (vms) {
		struct lvvm *v = vms;

		vms = v->next;
		vs_guest_ext_drop(v->name);
		vm_free(v);
	}
	while (alls) {
		struct lvall *a = alls;

		alls = a->next;
		tmpls_free(a->tmpls, a->ntmpls);
		free(a);
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	names = NULL;
	nnames = 0;
	conn_put_unused();
}

bool vs_lv_settled(void)
{
	return !registered || vs_lvev_settled();
}

void vs_lv_exit(void)
{
	vs_lv_shutdown();
	if (registered)
		vs_lvev_exit();
}

#else /* !VS_HAVE_LIBVIRT */

bool vs_lv_supported(const struct vs_config *cfg, char *err, size_t errlen)
{
	if (cfg->nevery) {
		snprintf(err, errlen, "<domains libvirt='%s'>: this virtserd was built without "
			 "libvirt (install libvirt-dev and run configure again)",
			 cfg->every[0].libvirt_uri);
		return false;
	}
	for (size_t i = 0; i < cfg->nvms; i++)
		if (cfg->vms[i].libvirt_uri) {
			snprintf(err, errlen, "vm '%s': libvirt='%s': this virtserd was built "
				 "without libvirt (install libvirt-dev and run configure again)",
				 cfg->vms[i].name, cfg->vms[i].libvirt_uri);
			return false;
		}
	return true;
}

void vs_lv_apply(const struct vs_config *cfg)
{
}

void vs_lv_shutdown(void)
{
}

bool vs_lv_settled(void)
{
	return true;
}

void vs_lv_exit(void)
{
}

#endif
