// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - the daemon's messages, on stderr (journald under systemd adds
 * the time and the unit).
 */
#include "virtserd.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

int vs_verbose;

void vs_log(int level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	va_list ap;

	if (level >= LOG_DEBUG && !vs_verbose)
		return;
	fprintf(stderr, "virtserd: %s: ", level <= LOG_DEBUG && tag[level] ? tag[level] : "log");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
