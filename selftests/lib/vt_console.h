/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_console.h - the console port seen from a guest test: text to and
 * from its host end, and a shell logged in on it through getty, as an
 * operator at the host would.
 */
#ifndef VT_CONSOLE_H
#define VT_CONSOLE_H

#include <stddef.h>
#include <sys/types.h>

#include "vt_guest.h"

/*
 * Ask the host half to wait up to ms for text to arrive on port id.
 * Returns 0 when it arrived; otherwise -1, with what did arrive in reply.
 */
int vt_host_expect(unsigned int id, unsigned int ms, const char *text,
		   char *reply, size_t len);
/* Send text to the guest through the host end of port id. */
int vt_host_send(unsigned int id, const char *text);

/*
 * Start getty on hvc0 and log root in from the host end of port id (which
 * the host half must hold): wait for the login prompt, answer it, wait for
 * the shell's prompt.  *pid is set as soon as getty runs, so the caller
 * can always vt_getty_stop() it, also when this fails.  Returns 0, or -1
 * with the step that failed and what the host saw in why.
 */
int vt_getty_login(unsigned int id, pid_t *pid, char *why, size_t len);
/* End getty and its session (the shell it started is in its group). */
void vt_getty_stop(pid_t *pid);

#endif
