// SPDX-License-Identifier: GPL-2.0
/*
 * vt_console.c - console-port helpers shared by the console tests.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vt_console.h"

/* Commands carry text as hex; a line of the channel holds VT_LINE_MAX. */
static char *hex_of(const char *text)
{
	size_t n = strlen(text);
	char *hex = malloc(2 * n + 1);

	if (hex)
		vt_hex(hex, text, n);
	return hex;
}

int vt_host_expect(unsigned int id, unsigned int ms, const char *text,
		   char *reply, size_t len)
{
	char *hex = hex_of(text);
	int ret;

	if (!hex)
		return -1;
	ret = vt_host(reply, len, "expect %u %u %s", id, ms, hex);
	free(hex);
	return ret;
}

int vt_host_send(unsigned int id, const char *text)
{
	char *hex = hex_of(text);
	int ret;

	if (!hex)
		return -1;
	ret = vt_host(NULL, 0, "send %u %s", id, hex);
	free(hex);
	return ret;
}

int vt_getty_login(unsigned int id, pid_t *pid, char *why, size_t len)
{
	char reply[65536];

	*pid = fork();
	if (*pid < 0) {
		snprintf(why, len, "fork: %m");
		return -1;
	}
	if (*pid == 0) {
		setsid();
		execl("/bin/getty", "getty", "-L", "115200", "hvc0", "vt100", NULL);
		_exit(127);
	}
	if (vt_host_expect(id, 30000, "login: ", reply, sizeof(reply))) {
		snprintf(why, len, "no login prompt: %s", reply);
		return -1;
	}
	if (vt_host_send(id, "root\n")) {
		snprintf(why, len, "could not send the user name");
		return -1;
	}
	/* login flushes typed-ahead input: wait for the shell's prompt. */
	if (vt_host_expect(id, 30000, "# ", reply, sizeof(reply))) {
		snprintf(why, len, "no shell prompt: %s", reply);
		return -1;
	}
	return 0;
}

void vt_getty_stop(pid_t *pid)
{
	int st;

	if (*pid <= 0)
		return;
	kill(-*pid, SIGKILL);
	kill(*pid, SIGKILL);
	waitpid(*pid, &st, 0);
	*pid = -1;
}
