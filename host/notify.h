/* SPDX-License-Identifier: GPL-2.0 */
/*
 * notify.h - tell a service manager how the daemon is doing, through the
 * datagram socket systemd names in $NOTIFY_SOCKET (Type=notify).
 */
#ifndef VS_NOTIFY_H
#define VS_NOTIFY_H

/*
 * Send @state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...", one
 * or more lines) if $NOTIFY_SOCKET is set; otherwise do nothing.  Never
 * blocks and never fails the caller: a manager that is not listening
 * does not stop the daemon.  Returns 1 if sent, 0 if there is no manager,
 * -errno if sending failed.
 */
int vs_notify(const char *state);

#endif
