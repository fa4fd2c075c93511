/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvxml.h - a libvirt domain's XML turned into the ports virtserd backs,
 * and those ports made from a <vm libvirt=...>'s templates (lvxml.c).
 *
 * Plain data like config.h: no libvirt, no sockets, so the unit tests and
 * the fuzzer feed it XML samples.  The XML comes from libvirtd, which is
 * not trusted more than a file: every value is checked before use.
 */
#ifndef VIRTSERD_LVXML_H
#define VIRTSERD_LVXML_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The guest's state of a channel as the live XML has it (<target state=>). */
enum vs_lv_state {
	VS_LV_STATE_NONE,	/* not given (inactive XML, consoles, serials) */
	VS_LV_STATE_DISCONNECTED,
	VS_LV_STATE_CONNECTED,
};

/* One channel, console or serial of the domain that virtserd can back. */
struct vs_lv_dev {
	enum vs_port_kind kind;
	char *name;		/* the port's name: <target name=>, else the alias */
	char *alias;		/* <alias name=>: QEMU's device id; NULL if inactive */
	char *target_name;	/* channels */
	struct vs_sockspec chardev;	/* QEMU's socket, from virtserd's side */
	enum vs_lv_state state;
	int line;
};

struct vs_lv_dom {
	char *name;
	char *uuid;
	bool active;		/* <domain id=> present: the XML is a live one */
	struct vs_lv_dev *devs;
	size_t ndevs;
	/* What was passed over and why, one line each, for the log. */
	char *skipped;
};

/*
 * Scan @xml (@len bytes, from virDomainGetXMLDesc).  NULL and a message in
 * @err if it is not a domain; devices that cannot be backed (a pty, a
 * guestfwd, a telnet source, a socket without a path yet) are not errors:
 * they are left out and named in ->skipped.
 */
struct vs_lv_dom *vs_lv_scan(const char *xml, size_t len, char *err, size_t errlen);
void vs_lv_dom_free(struct vs_lv_dom *d);

/*
 * The ports of @vm for @dom: each device gets the template of its name, or
 * else the default of its kind, with %v and %p expanded; a device with
 * neither is not backed.  Returns the number of ports, in *@out (an
 * array even for 0: vs_lv_ports_free(*@out, n) whenever n >= 0), or -1 and
 * a message in @err (then *@out is not set).
 */
long vs_lv_ports(const struct vs_vm_cfg *vm, const struct vs_lv_dom *dom,
		 struct vs_port_cfg **out, char *err, size_t errlen);
void vs_lv_ports_free(struct vs_port_cfg *ports, size_t n);

/* @tmpl with %v -> @vm, %p -> @port, %% -> %; NULL if it is not valid. */
char *vs_lv_expand(const char *tmpl, const char *vm, const char *port);

#endif
