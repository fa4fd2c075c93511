/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - virtserd.xml parsed into plain data.
 *
 * The parser never opens sockets or files: it only turns XML into these
 * structs, so the same code serves start-up, SIGHUP reload and the unit
 * tests.  Errors are reported as "file:line: element: message" into a
 * caller-supplied buffer so that the daemon can route them to stderr or to
 * the control client that asked for a reload.
 */
#ifndef VIRTSERD_CONFIG_H
#define VIRTSERD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum vs_ep_type {
	VS_EP_NULL,
	VS_EP_PTY,
	VS_EP_FILE,
	VS_EP_PIPE,
	VS_EP_UNIX,
	VS_EP_TCP,
	VS_EP_UDP,
	VS_EP_STDIO,
	VS_EP_DEV,
	VS_EP__COUNT
};

/* Which side opens the connection, in libvirt's words. */
enum vs_mode {
	VS_MODE_NONE,
	VS_MODE_BIND,
	VS_MODE_CONNECT,
};

/* How QEMU treats the port when our socket is full (see README of host/). */
enum vs_port_kind {
	VS_KIND_CHANNEL,	/* virtserialport: QEMU throttles, we backpressure */
	VS_KIND_CONSOLE,	/* virtconsole: QEMU drops, so we always drain */
	VS_KIND_SERIAL,		/* <serial>: treated like a channel */
};

/*
 * A socket address as written in the file.  TCP and UDP addresses are
 * resolved once, when the file is loaded (vs_config_load, so -t, start and
 * every reload), into addr: a name that does not resolve is a
 * configuration error, not an endless retry, and the event loop never
 * blocks in getaddrinfo().
 */
struct vs_sockspec {
	enum vs_mode mode;
	bool is_unix;		/* path is set; otherwise host/service */
	char *path;
	char *host;
	char *service;
	bool nodelay;
	bool nowait;
	bool reconnect;		/* connect mode: retry after failure/EOF */
	unsigned reconnect_ms;
	struct sockaddr_storage addr;	/* !is_unix: the first address found */
	socklen_t addrlen;		/* 0: not resolved (vs_config_parse only) */
};

struct vs_perms {
	bool set;
	mode_t mode;		/* 0 = default for the endpoint type */
	char *owner;
	char *group;
};

struct vs_endpoint {
	enum vs_ep_type type;
	char *path;		/* pty link, file, pipe base, dev */
	bool append;		/* file */
	uint64_t max_size;	/* file rotation; 0 disables it */
	unsigned backups;	/* file rotation */
	bool telnet;		/* tcp only */
	struct vs_sockspec sock;	/* unix, tcp; udp: remote (sendto) */
	struct vs_sockspec udp_local;	/* udp: local (bind) */
	struct vs_perms perms;	/* unix bind socket, pty slave */
};

struct vs_log {
	char *file;		/* NULL: no log */
	bool append;
	uint64_t max_size;
	unsigned backups;
};

struct vs_port_cfg {
	char *name;		/* unique within the VM */
	enum vs_port_kind kind;
	char *target_type;	/* echoed back, unused */
	char *target_name;
	char *alias;
	struct vs_sockspec chardev;	/* QEMU's side */
	struct vs_endpoint ep;		/* the user side */
	struct vs_log log;
	size_t buffer_size;	/* per direction */
	size_t replay;		/* bytes replayed to a new client */
	unsigned max_clients;
	/*
	 * <guest closed='hold'/>: data for the guest stays in "down" until
	 * QMP says the guest has the port open (qmp.c); needs <qmp> in the vm.
	 */
	bool guest_hold;
	int line;		/* for messages at run time */
};

struct vs_vm_cfg {
	char *name;
	char *qmp_path;		/* <qmp path=>: a QMP monitor socket of this VM, or NULL */
	/*
	 * <vm libvirt='URI' domain='NAME'>: the ports are the domain's
	 * channels, consoles and serials (lvirt.c instantiates them with
	 * vs_lv_ports()), so ports is empty and tmpls says how to back them.
	 */
	char *libvirt_uri;	/* NULL: a plain <vm> with ports */
	char *domain;		/* the domain's name in libvirt (default: name) */
	struct vs_port_cfg *ports;
	size_t nports;
	/*
	 * Templates: name NULL is the default for its kind, a name overrides
	 * it for that port.  No <chardev>: that comes from the domain.
	 */
	struct vs_port_cfg *tmpls;
	size_t ntmpls;
};

struct vs_config {
	char *control_path;
	char *control_group;
	mode_t control_mode;
	size_t default_buffer;
	struct vs_vm_cfg *vms;
	size_t nvms;
	/*
	 * <domains libvirt='URI'>: every domain of that connection is a vm
	 * of its own name, with these templates (name and domain are NULL),
	 * unless a <vm> has that name.
	 */
	struct vs_vm_cfg *every;
	size_t nevery;
};

#define VS_DEFAULT_BUFFER	(1024u * 1024)
#define VS_DEFAULT_REPLAY	4096u
#define VS_DEFAULT_CLIENTS	8u
#define VS_DEFAULT_MAX_SIZE	(2u * 1024 * 1024)
#define VS_DEFAULT_BACKUPS	3u
#define VS_DEFAULT_RECONNECT_MS	1000u
#define VS_DEFAULT_CONTROL	"/run/virtserd/control"
#define VS_SUN_PATH_MAX		108	/* sizeof(sockaddr_un.sun_path) on Linux */

/*
 * Parse @buf (@len bytes) that came from @filename.  Returns NULL and writes
 * one line into @err on failure.
 */
struct vs_config *vs_config_parse(const char *buf, size_t len,
				  const char *filename, char *err, size_t errlen);
/* Parses and resolves (vs_config_resolve). */
struct vs_config *vs_config_load(const char *filename, char *err, size_t errlen);
/* Resolves every TCP/UDP host and service; false and a message if one fails. */
bool vs_config_resolve(struct vs_config *cfg, const char *filename, char *err,
		       size_t errlen);
void vs_config_free(struct vs_config *cfg);

/* Canonical XML (libvirt spelling); caller frees.  NULL on ENOMEM. */
char *vs_config_format(const struct vs_config *cfg);

const char *vs_ep_type_name(enum vs_ep_type t);
/*
 * The QEMU device id (-device ...,id=) QMP names the port by: its
 * <alias name=> if it has one, otherwise its name.
 */
const char *vs_port_device_id(const struct vs_port_cfg *p);
const char *vs_port_kind_name(enum vs_port_kind k);

/* Deep copy of one port (the daemon keeps ports across reloads). */
struct vs_port_cfg *vs_port_cfg_dup(const struct vs_port_cfg *p);
void vs_port_cfg_free(struct vs_port_cfg *p);
/* Frees what @p points to, not @p (an element of an array). */
void vs_port_cfg_clear(struct vs_port_cfg *p);
/* 1-64 of [A-Za-z0-9._:-], not "." or "..": a vm's or a port's name. */
bool vs_config_valid_name(const char *s);

/* Both compare the semantic content used at run time (for reload). */
bool vs_port_cfg_equal(const struct vs_port_cfg *a, const struct vs_port_cfg *b);

#endif
