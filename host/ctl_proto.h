/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl_proto.h - the control socket's line protocol, version 1, shared by
 * the daemon's side (ctl.c) and the client (virtserctl.c); virtserctl(1)
 * documents it for other clients.
 *
 * The client sends one command line; the daemon answers and closes, except
 * after "attach", when the connection becomes a client of the port.  A
 * failure is a line starting with VS_CTL_ERR; attach, reload and watch
 * answer VS_CTL_OK first; list, status and version answer with their text.
 *
 *   list [json]                one line per port / a JSON document
 *   status PORT [json]         one port in detail
 *   attach PORT [ro|rw|force]  become a client of the port
 *   reload                     reread the configuration
 *   watch                      OK, then "port ID guest STATE MS" lines: the
 *                              guest state of every port with QMP now and at
 *                              each change (STATE open|closed|unknown, MS the
 *                              wall-clock ms of the last change, 0 if none)
 *   version                    "virtserd VERSION protocol 1"
 */
#ifndef VS_CTL_PROTO_H
#define VS_CTL_PROTO_H

#define VS_CTL_PROTOCOL		1
/* The longest command line the daemon takes, newline included. */
#define VS_CTL_LINE_MAX		512

#define VS_CTL_LIST		"list"
#define VS_CTL_STATUS		"status"
#define VS_CTL_ATTACH		"attach"
#define VS_CTL_RELOAD		"reload"
#define VS_CTL_VERSION		"version"
#define VS_CTL_WATCH		"watch"
/* The last word of list and status asks for JSON. */
#define VS_CTL_JSON		"json"

/* attach modes: watch, write unless someone does, take write access. */
#define VS_CTL_MODE_RO		"ro"
#define VS_CTL_MODE_RW		"rw"
#define VS_CTL_MODE_FORCE	"force"

#define VS_CTL_OK		"OK"
#define VS_CTL_ERR		"ERR"

#endif
