// SPDX-License-Identifier: GPL-2.0
/*
 * virtserd - serve QEMU virtio-serial chardev sockets through libvirt-style
 * endpoints.  main.c: options, signals (through a signalfd read on the
 * ring, so there is no async-signal context), reload and shutdown.
 */
#include "virtserd.h"
#include "notify.h"
#include "peerq.h"
#include "qmp.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#define DEFAULT_CONFIG	SYSCONFDIR "/virtserd.xml"
#define STOP_TIMEOUT_MS	5000

static const char *config_path = DEFAULT_CONFIG;
static bool shutting_down;

/* The signalfd reader; owner: main.c.  si is lent to the kernel while busy. */
static struct {
	uint32_t slot, gen;
	int fd;
	struct signalfd_siginfo si;
} sig = { .fd = -1 };

const char *vs_reload(void)
{
	static char err[600];
	struct vs_config *cfg;
	unsigned kept = 0, added = 0, removed = 0;

	vs_notify("RELOADING=1");
	cfg = vs_config_load(config_path, err, sizeof(err));
	if (!cfg) {
		vs_log(LOG_ERR, "reload: %s (keeping the running configuration)", err);
		vs_notify("READY=1\nSTATUS=reload refused; the running configuration stays");
		return err;
	}
	/* Ports whose configuration did not change are not touched at all. */
	for (struct vs_port *p = vs_ports, *next; p; p = next) {
		bool keep = false;

		next = p->next;
		if (p->stopping)
			continue;
		for (size_t i = 0; i < cfg->nvms && !keep; i++)
			for (size_t j = 0; j < cfg->vms[i].nports && !keep; j++) {
				char id[160];

				snprintf(id, sizeof(id), "%s/%s", cfg->vms[i].name,
					 cfg->vms[i].ports[j].name);
				keep = !strcmp(id, p->id) &&
				       vs_port_cfg_equal(p->cfg, &cfg->vms[i].ports[j]);
			}
		if (!keep) {
			vs_port_stop(p, STOP_TIMEOUT_MS);
			removed++;
		} else {
			kept++;
		}
	}
	for (size_t i = 0; i < cfg->nvms; i++)
		for (size_t j = 0; j < cfg->vms[i].nports; j++) {
			char id[160];

			snprintf(id, sizeof(id), "%s/%s", cfg->vms[i].name,
				 cfg->vms[i].ports[j].name);
			if (!vs_port_find(id)) {
				vs_port_new(cfg->vms[i].name, &cfg->vms[i].ports[j]);
				added++;
			}
		}
	vs_qmp_apply(cfg);
	vs_log(LOG_NOTICE, "reloaded %s: %u kept, %u added, %u removed or changed",
	       config_path, kept, added, removed);
	vs_notify("READY=1\nSTATUS=reloaded");
	vs_config_free(cfg);
	return NULL;
}

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
	vs_qmp_shutdown();
	for (struct vs_port *p = vs_ports, *n; p; p = n) {
		n = p->next;
		vs_port_stop(p, STOP_TIMEOUT_MS);
	}
}

static void sig_ok(void *obj, int res)
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

static void sig_err(void *obj, int res)
{
	if (res == -ECANCELED || shutting_down)
		return;
	vs_log(LOG_ERR, "signalfd read: %s", strerror(-res));
	sig_arm();
}

const struct vs_op_handler vs_main_handlers[VS_OP__COUNT] = {
	[VS_OP_SIGNAL] = { sig_ok, sig_err },
};

static bool all_done(void)
{
	return shutting_down && !vs_ports;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virtserd [-c FILE] [-v] [-t]\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"  -t, --test          check the configuration, print it in canonical form, exit\n"
		"  -v, --verbose       debug messages\n"
		"  -V, --version\n", DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct vs_config *cfg;
	char err[600];
	bool test = false;
	sigset_t set;
	int c, ret, lock_fd;

	while ((c = getopt_long(argc, argv, "c:tvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 't': test = true; break;
		case 'v': vs_verbose = 1; break;
		case 'V': printf("virtserd %s\n", VIRTSERD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	cfg = vs_config_load(config_path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "virtserd: %s\n", err);
		return 1;
	}
	if (test) {
		char *s = vs_config_format(cfg);

		fputs(s ? s : "", stdout);
		free(s);
		vs_config_free(cfg);
		return s ? 0 : 1;
	}
	signal(SIGPIPE, SIG_IGN);	/* a vanished peer is an EPIPE, not a death */
	{
		/* Each port needs two to four fds: use what we are allowed. */
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig.fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sig.fd < 0) {
		perror("virtserd: signalfd");
		vs_config_free(cfg);
		return 1;
	}
	ret = vs_loop_init();
	if (ret < 0) {
		vs_config_free(cfg);
		return 1;
	}
	/* Before anything is created: a second daemon must touch nothing. */
	lock_fd = vs_ctl_lock(cfg->control_path, err, sizeof(err));
	if (lock_fd < 0) {
		vs_log(LOG_ERR, "%s", err);
		vs_config_free(cfg);
		vs_loop_exit();
		return 1;
	}
	sig.slot = vs_slot_alloc(&sig, &sig.gen);
	sig_arm();
	ret = vs_ctl_open(cfg);
	if (ret < 0) {
		vs_log(LOG_ERR, "cannot open the control socket %s: %s", cfg->control_path,
		       strerror(-ret));
		vs_config_free(cfg);
		vs_loop_exit();
		return 1;
	}
	for (size_t i = 0; i < cfg->nvms; i++)
		for (size_t j = 0; j < cfg->vms[i].nports; j++)
			vs_port_new(cfg->vms[i].name, &cfg->vms[i].ports[j]);
	vs_qmp_apply(cfg);
	vs_log(LOG_NOTICE, "started: %s", config_path);
	/*
	 * Ready means the control socket answers and every port's listeners
	 * are bound (vs_port_new() binds them before returning), so a unit
	 * ordered After= this one can connect at once.
	 */
	vs_notify("READY=1\nSTATUS=serving");
	vs_config_free(cfg);
	ret = vs_loop_run(all_done);
	vs_ctl_close();
	vs_qmp_exit();
	vs_peerq_exit();
	vs_loop_exit();
	close(sig.fd);
	close(lock_fd);		/* last: every socket of ours is gone by now */
	return ret < 0 ? 1 : 0;
}
