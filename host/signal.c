// SPDX-License-Identifier: GPL-2.0
/*
 * signal.c - signals through a signalfd read on the ring, so there is no
 * async-signal context: SIGHUP reloads, SIGUSR2 reopens the log files,
 * SIGTERM and SIGINT drain every port and end the loop.  Calls reload.c,
 * ctl.c, port.c, notify.c, uring.c, log.c.
 */
#include "virtserd.h"
#include "lvirt.h"
#include "notify.h"
#include "qmp.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

static bool shutting_down;

/* The signalfd reader; owner: signal.c.  si is lent to the kernel while busy. */
static struct {
	uint32_t slot, gen;
	int fd;
	struct signalfd_siginfo si;
} sig = { .fd = -1 };

static void sig_arm(void)
{
	struct io_uring_sqe *sqe = vs_sqe(VS_OP_SIGNAL, sig.slot, sig.gen);

	io_uring_prep_read(sqe, sig.fd, &sig.si, sizeof(sig.si), (uint64_t)-1);
}

static void shutdown_all(void)
{
	if (shutting_down)
		return;
	shutting_down = true;
	vs_log(LOG_NOTICE, "shutting down");
	vs_notify("STOPPING=1");
	vs_ctl_close();
	vs_lv_shutdown();
	vs_qmp_shutdown();
	for (struct vs_port *p = vs_ports, *n; p; p = n) {
		n = p->next;
		vs_port_stop(p, STOP_TIMEOUT_MS);
	}
}

void sig_ok(void *obj, int res)
{
	if (res == (int)sizeof(sig.si)) {
		switch (sig.si.ssi_signo) {
		case SIGHUP:
			vs_reload();
			break;
		case SIGUSR2:
			vs_ports_reopen_logs();
			break;
		case SIGTERM:
		case SIGINT:
			shutdown_all();
			return;
		}
	}
	if (!shutting_down)
		sig_arm();
}

void sig_err(void *obj, int res)
{
	if (res == -ECANCELED || shutting_down)
		return;
	vs_log(LOG_ERR, "signalfd read: %s", strerror(-res));
	sig_arm();
}

bool vs_shutting_down(void)
{
	return shutting_down;
}

/* Before anything else: the signals are blocked and read from an fd. */
int vs_signal_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig.fd = signalfd(-1, &set, SFD_CLOEXEC);
	return sig.fd < 0 ? -errno : 0;
}

/* Once the ring exists: the first read goes in. */
void vs_signal_arm(void)
{
	sig.slot = vs_slot_alloc(&sig, &sig.gen);
	sig_arm();
}

void vs_signal_close(void)
{
	if (sig.fd >= 0)
		close(sig.fd);
	sig.fd = -1;
}
