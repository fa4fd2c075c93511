// SPDX-License-Identifier: GPL-2.0
/*
 * virtserd - serve QEMU virtio-serial chardev sockets through libvirt-style
 * endpoints.  main.c: options, start-up, the loop, and the order things
 * end in (signal.c: signals and shutdown; reload.c: reload).
 */
#include "virtserd.h"
#include "lvirt.h"
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
#include <syslog.h>
#include <unistd.h>

static bool all_done(void)
{
	return vs_shutting_down() && !vs_ports && vs_lv_settled() && vs_ctl_settled();
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
	int c, ret, lock_fd;

	while ((c = getopt_long(argc, argv, "c:tvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': vs_config_path = optarg; break;
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
	cfg = vs_config_load(vs_config_path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "virtserd: %s\n", err);
		return 1;
	}
	if (!vs_lv_supported(cfg, err, sizeof(err))) {
		fprintf(stderr, "virtserd: %s\n", err);
		vs_config_free(cfg);
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
	ret = vs_signal_open();
	if (ret < 0) {
		fprintf(stderr, "virtserd: signalfd: %s\n", strerror(-ret));
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
	vs_signal_arm();
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
	vs_lv_apply(cfg);
	vs_qmp_apply(cfg);
	vs_log(LOG_NOTICE, "started: %s", vs_config_path);
	/*
	 * Ready means the control socket answers and every port's listeners
	 * are bound (vs_port_new() binds them before returning), so a unit
	 * ordered After= this one can connect at once.
	 */
	vs_notify("READY=1\nSTATUS=serving");
	vs_config_free(cfg);
	ret = vs_loop_run(all_done);
	vs_ctl_close();
	vs_lv_exit();
	vs_qmp_exit();
	vs_peerq_exit();
	vs_loop_exit();
	vs_signal_close();
	close(lock_fd);		/* last: every socket of ours is gone by now */
	return ret < 0 ? 1 : 0;
}
