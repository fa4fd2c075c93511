// SPDX-License-Identifier: GPL-2.0
/*
 * vmhost - host half of the virtio-serial VM tests.
 *
 * Starts QEMU with one virtio-serial-pci device whose ports sit on unix
 * socket chardevs, then serves the guest's side channel (see vt_proto.h):
 * it copies the guest's TAP output to stdout and carries out the guest's
 * commands on the host ends of the ports and on QMP.  At the end it checks
 * the guest kernel log for splats and prints "N passed, M failed".
 *
 * Single-threaded: one poll() loop owns every fd and every piece of state,
 * except that a "paced" input job runs in a thread of its own and owns its
 * port's fd until the loop joins it (see cmd_paced()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <pthread.h>

#include "sha256.h"
#include "paced.h"
#include "stream.h"
#include "vt_proto.h"
#include "vt_io.h"

#define MAX_PORTS	32
#define JOB_CHUNK	VT_SOURCE_CHUNK

enum job { JOB_NONE, JOB_SOURCE, JOB_SINK, JOB_ECHO };

struct port {
	bool present;		/* declared to QEMU (at boot or hot-plugged) */
	bool console;		/* virtconsole rather than virtserialport */
	char name[128];
	char path[PATH_MAX];	/* the chardev's unix socket */
	bool via_daemon;	/* virtserd holds the chardev; we are its user */
	bool hold;		/* via_daemon with <guest closed='hold'/> */
	bool drain_next;	/* QEMU restarted: the next connect first reads
				 * what virtserd held from the dead QEMU */
	char user_path[PATH_MAX];	/* virtserd's unix endpoint for the port */
	int fd;			/* our end (chardev or endpoint), -1 if closed */

	/* sink: read at most slow_chunk bytes every slow_ms (0: full speed) */
	size_t slow_chunk;
	unsigned int slow_ms;
	uint64_t next_read;	/* monotonic ms of the next slow read */

	/* clients to attach to and detach from the endpoint, one per turn */
	unsigned int churn_left, churn_done, churn_ok;

	/* Background job: stream data to, or hash data from, the port. */
	enum job job;
	bool job_done;
	uint64_t left;		/* bytes the job still has to move */
	uint64_t moved;		/* bytes it moved so far */
	struct vt_stream st;	/* source: the data generator */
	struct sha256 sha;	/* what was sent or received so far */
	uint8_t chunk[JOB_CHUNK];
	size_t chunk_len, chunk_off;	/* source: generated but unsent bytes */
	char err[128];		/* first I/O error of the job */
};

/* The one command the guest is waiting for an answer to, if it is slow. */
enum wait_kind { W_NONE, W_RECV, W_EXPECT, W_READABLE, W_JOB };
struct pending {
	enum wait_kind kind;
	unsigned long seq;
	int port;
	uint64_t deadline;	/* monotonic ms */
	uint8_t *buf;		/* recv/expect: bytes read so far */
	size_t have, want, cap;
	uint8_t pat[256];	/* expect: the bytes to look for */
	size_t patlen;
};

/*
 * A command the guest armed with "after MS CMD...": the loop runs it when
 * it is due, whatever the guest is doing then (frozen, say), and keeps
 * its answer for "afterstatus" instead of sending it.
 */
#define MAX_AFTER	16
struct after {
	uint64_t armed_at, due, ran_at;	/* monotonic ms */
	bool ran;
	bool ok;
	char cmd[256];
	char result[512];
};

static struct port ports[MAX_PORTS];
static struct pending pend;
static struct after afters[MAX_AFTER];
static unsigned int n_afters;
static struct after *capture;	/* the delayed command being run */
static const char *workdir;
static int ctl_fd = -1, qmp_fd = -1;
/* Read by the fatal-signal handler, which kills and reaps them. */
static volatile pid_t qemu_pid = -1;
static int qemu_status = -1;
static FILE *tap_log;
static unsigned int n_pass, n_fail, n_skip;
static bool guest_done;
static int guest_status = -1;
static uint64_t end_grace;
static const char *daemon_bin;	/* virtserd, when some ports go through it */
static volatile pid_t daemon_pid = -1;	/* -1 once reaped */
static volatile pid_t watch_pid = -1;	/* "virtserctl watch" (dwatch), -1 if none */
static char **qemu_argv;
static bool restart_pending;	/* the guest asked for QEMU to be killed */
static void plan_cut(void);
static pid_t spawn(char *const argv[], const char *logname);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Every process vmhost starts ends with it, however vmhost ends: each
 * child leads its own process group (so QEMU's or virtserd's helpers go
 * too) and has PR_SET_PDEATHSIG set, which covers vmhost being SIGKILLed;
 * exit() and the fatal signals come here.  Only async-signal-safe calls.
 */
static void end_child(volatile pid_t *pid)
{
	pid_t p = *pid;

	if (p <= 0)
		return;
	kill(-p, SIGKILL);
	kill(p, SIGKILL);
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}

static void end_children(void)
{
	end_child(&qemu_pid);
	end_child(&watch_pid);
	end_child(&daemon_pid);
}

static void fatal_signal(int sig)
{
	end_children();
	/* SA_RESETHAND restored the default: die of the same signal. */
	raise(sig);
}

static void guard_children(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV,
				    SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_handler = fatal_signal, .sa_flags = SA_RESETHAND };
	pid_t parent = getppid();
	unsigned int i;

	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(end_children);
	/* Our caller (run.sh) dying takes us, and so our children, down too. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent)
		raise(SIGTERM);
}

/* Why a run could not start: QEMU's own words, when it already exited. */
static void qemu_died_note(void)
{
	char path[PATH_MAX], line[512];
	int st, n = 0, tries;
	FILE *f;

	if (qemu_pid <= 0 || !workdir)
		return;
	/* Its sockets may close a moment before it is gone. */
	for (tries = 0; waitpid(qemu_pid, &st, WNOHANG) != qemu_pid; tries++) {
		if (tries == 50)
			return;
		usleep(20000);
	}
	qemu_pid = -1;
	fprintf(stderr, "vmhost: QEMU exited at start (%s %d); its log:\n",
		WIFSIGNALED(st) ? "signal" : "status",
		WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	snprintf(path, sizeof(path), "%s/qemu.log", workdir);
	f = fopen(path, "r");
	while (f && n++ < 20 && fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	if (f)
		fclose(f);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vmhost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	qemu_died_note();
	exit(2);	/* end_children() runs at exit */
}

static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# vmhost: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* QEMU creates its server sockets shortly after it starts. */
static int connect_retry(const char *path, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		int fd = vt_connect_unix(path);

		if (fd >= 0 || now_ms() > end)
			return fd;
		usleep(20000);
	}
}

static void hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";

	while (n--) {
		*out++ = d[*p >> 4];
		*out++ = d[*p++ & 15];
	}
	*out = 0;
}

static size_t hex_decode(uint8_t *out, size_t max, const char *hex)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < max) {
		unsigned int v;

		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* QMP                                                                  */

static char qmp_buf[65536];
static size_t qmp_len;
static char qmp_ret[8192];	/* the "return" line of the last command */

/* Read one line from QMP; events are logged and skipped by the caller. */
static int qmp_line(char *out, size_t len, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		char *nl = memchr(qmp_buf, '\n', qmp_len);
		struct pollfd pfd = { .fd = qmp_fd, .events = POLLIN };
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - qmp_buf);

			snprintf(out, len, "%.*s", (int)n, qmp_buf);
			memmove(qmp_buf, nl + 1, qmp_len - n - 1);
			qmp_len -= n + 1;
			return 0;
		}
		if (now_ms() > end || poll(&pfd, 1, 100) < 0)
			return -1;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		r = read(qmp_fd, qmp_buf + qmp_len, sizeof(qmp_buf) - qmp_len - 1);
		if (r <= 0)
			return -1;
		qmp_len += (size_t)r;
	}
}

/* Run one QMP command; returns 0 on "return", -1 (error text in err). */
static int qmp(char *err, size_t errlen, const char *fmt, ...)
{
	char cmd[2048], line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	cmd[n++] = '\n';
	if (vt_write_all(qmp_fd, cmd, (size_t)n))
		goto broken;
	for (;;) {
		if (qmp_line(line, sizeof(line), 20000))
			goto broken;
		if (strstr(line, "\"return\"")) {
			snprintf(qmp_ret, sizeof(qmp_ret), "%s", line);
			return 0;
		}
		if (strstr(line, "\"error\"")) {
			snprintf(err, errlen, "%.*s", (int)errlen - 1, line);
			return -1;
		}
		/* an event ("DEVICE_DELETED", "VSERPORT_CHANGE"): not ours */
	}
broken:
	snprintf(err, errlen, "QMP connection lost");
	return -1;
}

static void qmp_open(const char *path)
{
	char line[4096], err[256];

	qmp_fd = connect_retry(path, 20000);
	if (qmp_fd < 0)
		die("connect %s: %s", path, strerror(errno));
	if (qmp_line(line, sizeof(line), 20000) || !strstr(line, "QMP"))
		die("no QMP greeting");
	if (qmp(err, sizeof(err), "{\"execute\":\"qmp_capabilities\"}"))
		die("qmp_capabilities: %s", err);
}

/* ------------------------------------------------------------------ */
/* Answers to the guest                                                 */

static void reply(unsigned long seq, bool ok, const char *fmt, ...)
{
	static char line[VT_LINE_MAX + 64];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), VT_TAG "%lu %s ", seq, ok ? "OK" : "ERR");
	if (capture) {
		/* a delayed command: the guest got its "OK" when it armed it */
		capture->ok = ok;
		va_start(ap, fmt);
		vsnprintf(capture->result, sizeof(capture->result), fmt, ap);
		va_end(ap);
		return;
	}
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (vt_write_all(ctl_fd, line, (size_t)n))
		die("side channel write failed: %s", strerror(errno));
}

static struct port *port_arg(unsigned long seq, const char *arg, int *id)
{
	char *end;
	long v = strtol(arg ? arg : "", &end, 10);

	if (!arg || *end || v < 0 || v >= MAX_PORTS || !ports[v].present) {
		reply(seq, false, "no such port '%s'", arg ? arg : "");
		return NULL;
	}
	*id = (int)v;
	return &ports[v];
}

static void paced_stop(int id);

static void port_close(struct port *p)
{
	paced_stop((int)(p - ports));
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->job = JOB_NONE;
}

/*
 * After QEMU was killed, virtserd keeps what the dead guest wrote (in its
 * buffer, and what it took from the dead socket) for its next reader.  A
 * real user would read that first; so does the first connect after a
 * restart, until the endpoint has been quiet for a second (at most 20 s),
 * so the next boot's tests see only their own data.  Returns the bytes read.
 */
static uint64_t drain_held(int fd)
{
	uint64_t end = now_ms() + 20000, quiet = now_ms() + 1000, got = 0;
	static uint8_t buf[65536];
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t r;

	while (now_ms() < end && now_ms() < quiet) {
		if (poll(&pf, 1, 100) <= 0 || !(pf.revents & POLLIN))
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		got += (uint64_t)r;
		quiet = now_ms() + 1000;
	}
	return got;
}

/*
 * QEMU throws away whatever is still unread in the socket when we hang up,
 * so never close while our send queue holds data.
 */
static int drain_outq(int fd, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	int q;

	while (ioctl(fd, SIOCOUTQ, &q) == 0 && q > 0) {
		if (now_ms() > end)
			return -1;
		usleep(2000);
	}
	return 0;
}

static void finish_pending(bool ok, const char *fmt, ...)
{
	char text[VT_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply(pend.seq, ok, "%s", text);
	free(pend.buf);
	memset(&pend, 0, sizeof(pend));
}

static void job_result(struct port *p)
{
	char hex[65];

	if (p->err[0]) {
		finish_pending(false, "%s", p->err);
		return;
	}
	sha256_final_hex(&p->sha, hex);
	finish_pending(true, "%s %llu", hex, (unsigned long long)p->moved);
	p->job = JOB_NONE;
}

static void job_start(struct port *p, enum job job, uint64_t bytes, uint64_t seed)
{
	p->job = job;
	p->job_done = false;
	p->left = bytes;
	p->moved = 0;
	p->chunk_len = p->chunk_off = 0;
	p->err[0] = 0;
	p->slow_chunk = 0;
	p->slow_ms = 0;
	sha256_init(&p->sha);
	vt_stream_seed(&p->st, seed);
}

/* VmRSS and VmHWM of virtserd, in KiB. */
static int daemon_mem(long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	*rss = *hwm = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", rss);
		sscanf(line, "VmHWM: %ld", hwm);
	}
	fclose(f);
	return *rss < 0 ? -1 : 0;
}

static void cmd_ports(unsigned long seq)
{
	char out[4096];
	size_t n = 0;
	int i;

	out[0] = 0;
	for (i = 0; i < MAX_PORTS; i++)
		if (ports[i].present)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%d:%s:%s",
					      n ? " " : "", i,
					      ports[i].console ? "console" :
					      ports[i].via_daemon ? "daemon" : "port",
					      ports[i].name);
	reply(seq, true, "%s", out);
}

/*
 * Whether QEMU could deliver a control message to the guest right now.
 * QEMU drops a control message (PORT_ADD too) when the guest's control
 * receiveq has no ring: send_control_msg() in hw/char/virtio-serial-bus.c
 * checks virtio_queue_ready(), i.e. a non-zero avail ring address.  The
 * ring is there from the driver's find_vqs until the next device reset,
 * so not while the device is frozen.  With multiport the control receiveq
 * is queue 2.  Returns 1 (ring set up), 0 (no ring) or -1 (cannot tell,
 * e.g. a QEMU without x-query-virtio-queue-status).
 */
static int ctrlq_ready(void)
{
	static const char key[] = "\"vring-avail\":";
	char err[1024];
	const char *v;

	if (qmp(err, sizeof(err),
		"{\"execute\":\"x-query-virtio-queue-status\",\"arguments\":"
		"{\"path\":\"/machine/peripheral/vser0/virtio-backend\",\"queue\":2}}"))
		return -1;
	v = strstr(qmp_ret, key);
	if (!v)
		return -1;
	return strtoull(v + strlen(key), NULL, 10) != 0;
}

static const char *ctrlq_word(int before, int after)
{
	if (before < 0 || after < 0)
		return "unknown";
	if (before != after)
		return "changed";
	return before ? "up" : "down";
}

static void cmd_hotplug_add(unsigned long seq, int id, const char *name)
{
	struct port *p = &ports[id];
	char err[1024];
	int before, after;

	snprintf(p->path, sizeof(p->path), "%s/port%d.sock", workdir, id);
	unlink(p->path);
	if (qmp(err, sizeof(err),
		"{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"c%d\","
		"\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\","
		"\"data\":{\"path\":\"%s\"}},\"server\":true,\"wait\":false}}}}",
		id, p->path)) {
		reply(seq, false, "chardev-add: %s", err);
		return;
	}
	/* device_add runs under QEMU's big lock: no guest access in between */
	before = ctrlq_ready();
	if (qmp(err, sizeof(err),
		"{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtserialport\","
		"\"bus\":\"vser0.0\",\"nr\":%d,\"chardev\":\"c%d\",\"name\":\"%s\","
		"\"id\":\"p%d\"}}", id, id, name, id)) {
		reply(seq, false, "device_add: %s", err);
		return;
	}
	after = ctrlq_ready();
	p->present = true;
	p->console = false;
	p->fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	reply(seq, true, "ctrlq=%s", ctrlq_word(before, after));
}

static void cmd_hotplug_del(unsigned long seq, int id)
{
	struct port *p = &ports[id];
	char err[1024];
	int tries, before, after;

	/* As in cmd_hotplug_add(): did the guest see the PORT_REMOVE? */
	before = ctrlq_ready();
	if (qmp(err, sizeof(err),
		"{\"execute\":\"device_del\",\"arguments\":{\"id\":\"p%d\"}}", id)) {
		reply(seq, false, "device_del: %s", err);
		return;
	}
	after = ctrlq_ready();
	port_close(p);
	p->present = false;
	/* The chardev is busy until QEMU has finalised the port device. */
	for (tries = 0; tries < 100; tries++) {
		if (!qmp(err, sizeof(err),
			 "{\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"c%d\"}}", id))
			break;
		usleep(50000);
	}
	if (tries == 100) {
		reply(seq, false, "chardev-remove: %s", err);
		return;
	}
	unlink(p->path);
	reply(seq, true, "ctrlq=%s", ctrlq_word(before, after));
}

/* Whether QOM still has /machine/peripheral/vser0 (-1: cannot tell). */
static int vser_present(void)
{
	char err[1024];

	if (!qmp(err, sizeof(err), "{\"execute\":\"qom-list\",\"arguments\":"
		 "{\"path\":\"/machine/peripheral/vser0\"}}"))
		return 1;
	return strstr(err, "QMP connection lost") ? -1 : 0;
}

/*
 * devdel 0|1: device_del of the whole virtio-serial-pci device, wait until
 * the guest released it and QEMU finalised it (its ports go with it; their
 * chardevs stay), and with 1 device_add it back with the same ports on the
 * same chardevs.  The host ends of the ports are closed first, as for
 * "reset": their jobs end with the device.
 */
static void cmd_devdel(unsigned long seq, bool readd)
{
	char err[1024];
	int i, r = 1, tries;

	if (qmp(err, sizeof(err), "{\"execute\":\"device_del\",\"arguments\":"
		"{\"id\":\"vser0\"}}")) {
		reply(seq, false, "device_del: %s", err);
		return;
	}
	/* ACPI hot-unplug: the guest ejects the slot, then QEMU frees it. */
	for (tries = 0; tries < 600 && (r = vser_present()) == 1; tries++)
		usleep(50000);
	if (r) {
		reply(seq, false, "vser0 still there 30 s after device_del (%d)", r);
		return;
	}
	for (i = 0; i < MAX_PORTS; i++) {
		if (ports[i].present)
			port_close(&ports[i]);
	}
	if (!readd) {
		reply(seq, true, "deleted");
		return;
	}
	if (qmp(err, sizeof(err), "{\"execute\":\"device_add\",\"arguments\":"
		"{\"driver\":\"virtio-serial-pci\",\"id\":\"vser0\"}}")) {
		reply(seq, false, "device_add vser0: %s", err);
		return;
	}
	for (i = 0; i < MAX_PORTS; i++) {
		if (!ports[i].present)
			continue;
		/* The chardev is busy until QEMU has finalised the old port. */
		for (tries = 0; tries < 100; tries++) {
			r = qmp(err, sizeof(err), "{\"execute\":\"device_add\",\"arguments\":"
				"{\"driver\":\"%s\",\"bus\":\"vser0.0\",\"nr\":%d,"
				"\"chardev\":\"c%d\",\"name\":\"%s\",\"id\":\"p%d\"}}",
				ports[i].console ? "virtconsole" : "virtserialport", i, i,
				ports[i].name, i);
			if (!r || !strstr(err, "in use"))
				break;
			usleep(50000);
		}
		if (r) {
			reply(seq, false, "device_add p%d: %s", i, err);
			return;
		}
	}
	reply(seq, true, "readded");
}

/* after MS CMD...: arm CMD; answers its number for "afterstatus" */
static void cmd_after(unsigned long seq, char *rest)
{
	static const char *const waiting[] = {
		"recv", "readable", "expect", "wait", "after", NULL,
	};
	char *end, *cmd;
	unsigned long ms = strtoul(rest, &end, 10);
	size_t len;
	int i;

	cmd = end + strspn(end, " ");
	len = strcspn(cmd, " ");
	if (end == rest || !*cmd || strlen(cmd) >= sizeof(afters[0].cmd)) {
		reply(seq, false, "usage: after MS COMMAND [ARGS...]");
		return;
	}
	/* Nobody would wait for the answer of these. */
	for (i = 0; waiting[i]; i++) {
		if (len == strlen(waiting[i]) && !strncmp(cmd, waiting[i], len)) {
			reply(seq, false, "'%s' cannot be delayed", waiting[i]);
			return;
		}
	}
	if (n_afters == MAX_AFTER) {
		reply(seq, false, "at most %d delayed commands", MAX_AFTER);
		return;
	}
	memset(&afters[n_afters], 0, sizeof(afters[0]));
	afters[n_afters].armed_at = now_ms();
	afters[n_afters].due = afters[n_afters].armed_at + ms;
	snprintf(afters[n_afters].cmd, sizeof(afters[0].cmd), "%s", cmd);
	n_afters++;
	reply(seq, true, "%u", n_afters);
}

static void cmd_afterstatus(unsigned long seq, const char *arg)
{
	unsigned long n = strtoul(arg ? arg : "", NULL, 10);
	struct after *a;

	if (!n || n > n_afters) {
		reply(seq, false, "no delayed command '%s'", arg ? arg : "");
		return;
	}
	a = &afters[n - 1];
	if (!a->ran)
		reply(seq, true, "pending");
	else
		reply(seq, true, "done +%llu %s %s",
		      (unsigned long long)(a->ran_at - a->armed_at),
		      a->ok ? "ok" : "err", a->result);
}

/* ------------------------------------------------------------------ */
/* Paced input: small writes at a steady rate, like typing or a paste  */

/*
 * "paced PORT MS MODE SEED [TICK_US]" writes 16 to 64 bytes every TICK_US
 * (PACED_TICK_US if not given) for MS milliseconds, in a thread of its own:
 * the poll loop's millisecond timeouts cannot hold a half-millisecond
 * rhythm.  MODE "bin" sends any
 * byte value (for a raw reader), "text" lines of [a-z0-9] ending in '\n'
 * (for a shell in canonical mode; the last line is completed).  While it
 * runs the thread owns the port's fd: it also reads and counts whatever
 * the guest sends back (the echo of a tty), so that output never backs
 * up into the guest.  "pacedstatus PORT" answers "running SENT" or
 * "done SHA SENT ECHOED LATE TAIL": the SHA-256 and length of what was
 * written, the bytes read back, how many ticks found the socket full, and
 * the last PACED_TAIL bytes written (hex), for a stall to be located.
 */
#define PACED_TICK_US	500
#define PACED_TAIL	128

struct paced {
	bool started;		/* a thread exists and must be joined */
	pthread_t thread;
	int fd;			/* the port's fd, owned by the thread meanwhile */
	struct vt_paced_gen gen;	/* the stream (selftests/lib/paced.h) */
	uint64_t ms;
	unsigned int tick_us;	/* between two writes, 100 us to 1 s */
	volatile bool stop;	/* set by the loop to end the thread early */
	volatile bool done;	/* set by the thread as it ends */
	volatile uint64_t sent;
	uint64_t echoed, late;
	struct sha256 sha;
	uint8_t tail[PACED_TAIL];	/* the last bytes written, a ring */
	char err[128];
};
static struct paced paced[MAX_PORTS];

/* Write all of buf, waiting for room; false if the port failed or stop. */
static bool paced_write(struct paced *pc, const uint8_t *buf, size_t n)
{
	struct pollfd pf = { .fd = pc->fd, .events = POLLOUT };
	bool waited = false;

	while (n) {
		ssize_t r = write(pc->fd, buf, n);

		if (r > 0) {
			buf += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(pc->err, sizeof(pc->err), "write: %s after %llu bytes",
				 strerror(errno), (unsigned long long)pc->sent);
			return false;
		}
		if (!waited)
			pc->late++;
		waited = true;
		if (pc->stop)
			return false;
		poll(&pf, 1, 100);
	}
	return true;
}

static void paced_drain(struct paced *pc)
{
	uint8_t buf[4096];
	ssize_t r;

	while ((r = read(pc->fd, buf, sizeof(buf))) > 0)
		pc->echoed += (uint64_t)r;
}

static void *paced_thread(void *arg)
{
	struct paced *pc = arg;
	uint64_t end = now_ms() + pc->ms;
	struct timespec next, now;
	uint8_t buf[VT_PACED_MAX];

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!pc->stop) {
		bool last = now_ms() >= end;
		size_t n;

		/* The last chunk of text ends a line (vt_paced_chunk). */
		if (last && !pc->gen.text)
			break;
		n = vt_paced_chunk(&pc->gen, buf, last);
		sha256_update(&pc->sha, buf, n);
		if (!paced_write(pc, buf, n))
			break;
		for (size_t i = 0; i < n; i++)
			pc->tail[(pc->sent + i) % PACED_TAIL] = buf[i];
		pc->sent += n;
		paced_drain(pc);
		if (last)
			break;
		next.tv_nsec += (long)pc->tick_us * 1000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		/* Behind (the socket was full): keep the rhythm, no burst. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	pc->done = true;
	return NULL;
}

/* Join the port's paced thread if there is one; the fd is the loop's again. */
static void paced_stop(int id)
{
	struct paced *pc = &paced[id];

	if (!pc->started)
		return;
	pc->stop = true;
	pthread_join(pc->thread, NULL);
	pc->started = false;
}

static void cmd_paced(unsigned long seq, int id, char **args)
{
	struct paced *pc = &paced[id];
	struct port *p = &ports[id];

	unsigned long tick = args[4] ? strtoul(args[4], NULL, 10) : PACED_TICK_US;

	if (p->fd < 0 || p->job != JOB_NONE || !args[1] || !args[2] || !args[3] ||
	    (strcmp(args[2], "bin") && strcmp(args[2], "text")) ||
	    tick < 100 || tick > 1000000) {
		reply(seq, false,
		      "usage: paced PORT MS bin|text SEED [TICK_US 100-1000000] (connected, no job)");
		return;
	}
	paced_stop(id);
	memset(pc, 0, sizeof(*pc));
	pc->fd = p->fd;
	pc->ms = strtoull(args[1], NULL, 10);
	pc->tick_us = (unsigned int)tick;
	vt_paced_seed(&pc->gen, strtoull(args[3], NULL, 10), !strcmp(args[2], "text"));
	sha256_init(&pc->sha);
	if (pthread_create(&pc->thread, NULL, paced_thread, pc)) {
		reply(seq, false, "pthread_create failed");
		return;
	}
	pc->started = true;
	reply(seq, true, "");
}

static void cmd_pacedstatus(unsigned long seq, int id)
{
	struct paced *pc = &paced[id];
	char hex[65], tail[2 * PACED_TAIL + 1];
	uint8_t t[PACED_TAIL];
	size_t i, n;

	if (!pc->started) {
		reply(seq, false, "no paced input on port %d", id);
		return;
	}
	if (!pc->done) {
		reply(seq, true, "running %llu", (unsigned long long)pc->sent);
		return;
	}
	paced_stop(id);
	if (pc->err[0]) {
		reply(seq, false, "%s", pc->err);
		return;
	}
	sha256_final_hex(&pc->sha, hex);
	note("paced input on port %d: %llu bytes sent, %llu read back, %llu ticks late",
	     id, (unsigned long long)pc->sent, (unsigned long long)pc->echoed,
	     (unsigned long long)pc->late);
	n = pc->sent < PACED_TAIL ? (size_t)pc->sent : PACED_TAIL;
	for (i = 0; i < n; i++)
		t[i] = pc->tail[(pc->sent - n + i) % PACED_TAIL];
	hex_encode(tail, t, n);
	reply(seq, true, "done %s %llu %llu %llu %s", hex, (unsigned long long)pc->sent,
	      (unsigned long long)pc->echoed, (unsigned long long)pc->late, n ? tail : "-");
}

/*
 * The side channel's commands (vt_proto.h documents them).  Each handler
 * gets its arguments split at spaces; the table says which of them
 * dispatch() checks first, so the handlers hold only what they do.
 */
enum cmd_port {
	CMD_ANY,	/* no port argument */
	CMD_PORT,	/* args[0] names a port of this run */
	CMD_CONNECTED,	/* ... whose host end is connected */
};

#define CMD_ARGS	5

struct command {
	const char *name;
	enum cmd_port port;
	int nargs;		/* arguments that must follow the port */
	const char *usage;	/* the answer when they do not */
	void (*run)(unsigned long seq, struct port *p, int id, char **args);
};

static void do_ports(unsigned long seq, struct port *p, int id, char **args)
{
	cmd_ports(seq);
}

static void do_connect(unsigned long seq, struct port *p, int id, char **args)
{
	const char *path = p->via_daemon ? p->user_path : p->path;

	if (p->fd >= 0) {
		reply(seq, false, "port %d already connected", id);
		return;
	}
	p->fd = connect_retry(path, 5000);
	if (p->fd < 0) {
		reply(seq, false, "connect %s: %s", path, strerror(errno));
		return;
	}
	fcntl(p->fd, F_SETFL, O_NONBLOCK);
	if (p->drain_next) {
		p->drain_next = false;
		note("read %llu bytes virtserd held from the QEMU that was killed",
		     (unsigned long long)drain_held(p->fd));
	}
	reply(seq, true, "");
}

static void do_disconnect(unsigned long seq, struct port *p, int id, char **args)
{
	if (p->fd < 0) {
		reply(seq, false, "port %d not connected", id);
		return;
	}
	if (drain_outq(p->fd, 30000)) {
		reply(seq, false, "QEMU did not drain port %d", id);
		return;
	}
	port_close(p);
	reply(seq, true, "");
}

/* Start a test from a known state: host end closed, no job. */
static void do_reset(unsigned long seq, struct port *p, int id, char **args)
{
	port_close(p);
	reply(seq, true, "");
}

static void do_send(unsigned long seq, struct port *p, int id, char **args)
{
	uint8_t buf[VT_LINE_MAX / 2];
	size_t n = hex_decode(buf, sizeof(buf), args[1] ? args[1] : "");

	if (p->fd < 0 || vt_write_all(p->fd, buf, n)) {
		reply(seq, false, "send on port %d failed", id);
		return;
	}
	reply(seq, true, "%zu", n);
}

/* The answer comes from the loop, when the wait ends. */
static void pend_start(unsigned long seq, int id, enum wait_kind kind, const char *ms)
{
	pend.kind = kind;
	pend.seq = seq;
	pend.port = id;
	pend.deadline = now_ms() + strtoul(ms, NULL, 10);
}

static void do_recv(unsigned long seq, struct port *p, int id, char **args)
{
	size_t want = strtoul(args[1], NULL, 10);

	if (!want || want > VT_LINE_MAX / 2 - 16) {
		reply(seq, false, "recv size out of range");
		return;
	}
	pend.want = want;
	pend.cap = want;
	pend.buf = malloc(pend.cap);
	pend_start(seq, id, W_RECV, args[2]);
}

static void do_readable(unsigned long seq, struct port *p, int id, char **args)
{
	pend_start(seq, id, W_READABLE, args[1]);
}

static void do_expect(unsigned long seq, struct port *p, int id, char **args)
{
	pend.patlen = hex_decode(pend.pat, sizeof(pend.pat), args[2]);
	pend.cap = VT_LINE_MAX / 2 - 16;
	pend.buf = malloc(pend.cap);
	pend_start(seq, id, W_EXPECT, args[1]);
}

/* Send back every byte that arrives, until N bytes went round. */
static void do_echo(unsigned long seq, struct port *p, int id, char **args)
{
	job_start(p, JOB_ECHO, strtoull(args[1], NULL, 10), 0);
	reply(seq, true, "");
}

static void do_source(unsigned long seq, struct port *p, int id, char **args)
{
	job_start(p, JOB_SOURCE, strtoull(args[1], NULL, 10), strtoull(args[2], NULL, 10));
	reply(seq, true, "");
}

static void do_sink(unsigned long seq, struct port *p, int id, char **args)
{
	job_start(p, JOB_SINK, strtoull(args[1], NULL, 10), 0);
	reply(seq, true, "");
}

static void do_wait(unsigned long seq, struct port *p, int id, char **args)
{
	if (p->job == JOB_NONE || !args[1]) {
		reply(seq, false, "no job on port %d", id);
		return;
	}
	pend_start(seq, id, W_JOB, args[1]);
	if (p->job_done)
		job_result(p);
}

/*
 * jobend PORT [N]: end a source or sink that was started with more bytes
 * than the guest means to move.  A source stops after the chunk it
 * generated (and hashed) already, and answers the total it will have
 * sent; a sink ends once it read N bytes in all.  "wait" then answers as
 * for a job that was started with that total.
 */
static void do_jobend(unsigned long seq, struct port *p, int id, char **args)
{
	uint64_t n;

	if (p->job == JOB_SOURCE) {
		p->left = p->chunk_len - p->chunk_off;
		n = p->moved + p->left;
	} else if (p->job == JOB_SINK && args[1]) {
		n = strtoull(args[1], NULL, 10);
		if (n < p->moved) {
			reply(seq, false, "port %d: the sink read %llu bytes already", id,
			      (unsigned long long)p->moved);
			return;
		}
		p->left = n - p->moved;
	} else {
		reply(seq, false, "usage: jobend PORT [N] (a source, or a sink with N)");
		return;
	}
	if (!p->left)
		p->job_done = true;
	reply(seq, true, "%llu", (unsigned long long)n);
}

/* slow PORT N CHUNK MS: a sink that reads CHUNK bytes every MS */
static void do_slow(unsigned long seq, struct port *p, int id, char **args)
{
	job_start(p, JOB_SINK, strtoull(args[1], NULL, 10), 0);
	p->slow_chunk = strtoul(args[2], NULL, 10);
	p->slow_ms = (unsigned int)strtoul(args[3], NULL, 10);
	p->next_read = now_ms();
	reply(seq, true, "");
}

/* churn PORT N: N more clients attach to the endpoint and leave */
static void do_churn(unsigned long seq, struct port *p, int id, char **args)
{
	if (!p->via_daemon) {
		reply(seq, false, "usage: churn PORT N (a port behind virtserd)");
		return;
	}
	p->churn_left = (unsigned int)strtoul(args[1], NULL, 10);
	p->churn_done = p->churn_ok = 0;
	reply(seq, true, "");
}

static void do_churned(unsigned long seq, struct port *p, int id, char **args)
{
	reply(seq, true, "%u %u %u", p->churn_done, p->churn_ok, p->churn_left);
}

static void do_daemon_mem(unsigned long seq, struct port *p, int id, char **args)
{
	long rss, hwm;

	if (daemon_pid < 0 || daemon_mem(&rss, &hwm)) {
		reply(seq, false, "no virtserd running");
		return;
	}
	reply(seq, true, "%ld %ld", rss, hwm);
}

/* virtserctl, which the build puts next to virtserd. */
static void virtserctl_path(char *out, size_t len)
{
	const char *slash = strrchr(daemon_bin, '/');

	snprintf(out, len, "%.*svirtserctl", slash ? (int)(slash - daemon_bin + 1) : 0,
		 daemon_bin);
}

/*
 * dstatus PORT: "GUEST BUFFERED_TO_VM BYTES_TO_VM" from virtserctl -j
 * status, the way an operator asks (a short blocking call: the CLI
 * answers at once or fails).
 */
static void do_dstatus(unsigned long seq, struct port *p, int id, char **args)
{
	char ctl[PATH_MAX], cli[PATH_MAX], cmd[3 * PATH_MAX], out[8192], g[16] = "";
	unsigned long long buffered = 0, tovm = 0;
	const char *v;
	size_t n = 0;
	FILE *f;

	if (!p->via_daemon || daemon_pid < 0) {
		reply(seq, false, "usage: dstatus PORT (a port behind a running virtserd)");
		return;
	}
	snprintf(ctl, sizeof(ctl), "%s/virtserd.ctl", workdir);
	virtserctl_path(cli, sizeof(cli));
	snprintf(cmd, sizeof(cmd), "timeout 10 '%s' -s '%s' -j status vt/p%d", cli, ctl, id);
	f = popen(cmd, "r");
	if (f) {
		n = fread(out, 1, sizeof(out) - 1, f);
		pclose(f);
	}
	out[n] = '\0';
	v = strstr(out, "\"guest\":\"");
	if (!v || sscanf(v + 9, "%15[a-z]", g) != 1) {
		reply(seq, false, "no guest state in: %.200s", out);
		return;
	}
	v = strstr(out, "\"buffered_to_vm\":");
	if (v)
		sscanf(v + 17, "%llu", &buffered);
	v = strstr(out, "\"bytes_to_vm\":");
	if (v)
		sscanf(v + 14, "%llu", &tovm);
	reply(seq, true, "%s %llu %llu", g, buffered, tovm);
}

/* dwatch: "virtserctl watch" into DIR/dwatch.log until the daemon stops. */
static void do_dwatch(unsigned long seq, struct port *p, int id, char **args)
{
	static char cli[PATH_MAX], ctl[PATH_MAX];
	char log[PATH_MAX];

	if (daemon_pid < 0) {
		reply(seq, false, "no virtserd running");
		return;
	}
	end_child(&watch_pid);
	snprintf(ctl, sizeof(ctl), "%s/virtserd.ctl", workdir);
	virtserctl_path(cli, sizeof(cli));
	watch_pid = spawn((char *const[]){ cli, "-s", ctl, "watch", NULL }, "dwatch.log");
	/* Answer once it watches, so that the guest's next change is seen. */
	snprintf(log, sizeof(log), "%s/dwatch.log", workdir);
	for (int i = 0; i < 500; i++) {
		char first[64] = "";
		FILE *f = fopen(log, "r");

		if (f) {
			if (!fgets(first, sizeof(first), f))
				first[0] = '\0';
			fclose(f);
		}
		if (!strncmp(first, "OK watching", 11)) {
			reply(seq, true, "");
			return;
		}
		usleep(10000);
	}
	reply(seq, false, "virtserctl watch did not start (see dwatch.log)");
}

/* dwatched PORT: the states the watch stream gave for the port, in order. */
static void do_dwatched(unsigned long seq, struct port *p, int id, char **args)
{
	char path[PATH_MAX], line[512], want[32], out[1024];
	size_t n = 0, wl;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dwatch.log", workdir);
	snprintf(want, sizeof(want), "port vt/p%d guest ", id);
	wl = strlen(want);
	f = fopen(path, "r");
	if (!f) {
		reply(seq, false, "no watch stream (dwatch first)");
		return;
	}
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char st[16];

		if (strncmp(line, want, wl) || sscanf(line + wl, "%15[a-z]", st) != 1)
			continue;
		/* Keep the newest: drop the oldest word when full. */
		while (n + strlen(st) + 2 > sizeof(out) && n) {
			char *sp = strchr(out, ' ');
			size_t cut = sp ? (size_t)(sp - out) + 1 : n;

			memmove(out, out + cut, n - cut + 1);
			n -= cut;
		}
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? " " : "", st);
	}
	fclose(f);
	reply(seq, true, "%s", out);
}

/* The guest dies with it: the host restarts QEMU for phase 2. */
static void do_kill_qemu(unsigned long seq, struct port *p, int id, char **args)
{
	reply(seq, true, "");
	restart_pending = true;
	plan_cut();
	note("killing QEMU with SIGKILL mid-stream, as the guest asked");
	kill(qemu_pid, SIGKILL);
}

/* The new port's id is not a port of this run yet: no CMD_PORT. */
static void do_hotplug_add(unsigned long seq, struct port *p, int id, char **args)
{
	char *end;
	long v = strtol(args[0], &end, 10);

	if (*end || v <= 0 || v >= MAX_PORTS || ports[v].present) {
		reply(seq, false, "usage: hotplug_add NEWPORT NAME");
		return;
	}
	cmd_hotplug_add(seq, (int)v, args[1]);
}

static void do_hotplug_del(unsigned long seq, struct port *p, int id, char **args)
{
	cmd_hotplug_del(seq, id);
}

static void do_devdel(unsigned long seq, struct port *p, int id, char **args)
{
	if (strcmp(args[0], "0") && strcmp(args[0], "1")) {
		reply(seq, false, "usage: devdel 0|1");
		return;
	}
	cmd_devdel(seq, !strcmp(args[0], "1"));
}

static void do_paced(unsigned long seq, struct port *p, int id, char **args)
{
	cmd_paced(seq, id, args);
}

static void do_pacedstatus(unsigned long seq, struct port *p, int id, char **args)
{
	cmd_pacedstatus(seq, id);
}

static void do_afterstatus(unsigned long seq, struct port *p, int id, char **args)
{
	cmd_afterstatus(seq, args[0]);
}

static const struct command commands[] = {
	{ "ports",	 CMD_ANY,	0, "ports",				do_ports },
	{ "connect",	 CMD_PORT,	0, "connect PORT",			do_connect },
	{ "disconnect",	 CMD_PORT,	0, "disconnect PORT",			do_disconnect },
	{ "reset",	 CMD_PORT,	0, "reset PORT",			do_reset },
	{ "send",	 CMD_PORT,	0, "send PORT HEX",			do_send },
	{ "recv",	 CMD_CONNECTED,	2, "recv PORT N MS (connected)",	do_recv },
	{ "readable",	 CMD_CONNECTED,	1, "readable PORT MS (connected)",	do_readable },
	{ "expect",	 CMD_CONNECTED,	2, "expect PORT MS HEX (connected)",	do_expect },
	{ "echo",	 CMD_CONNECTED,	1, "echo PORT N (connected)",		do_echo },
	{ "source",	 CMD_CONNECTED,	2, "source PORT N SEED (connected)",	do_source },
	{ "sink",	 CMD_CONNECTED,	1, "sink PORT N (connected)",		do_sink },
	{ "wait",	 CMD_PORT,	0, "wait PORT MS",			do_wait },
	{ "slow",	 CMD_CONNECTED,	3, "slow PORT N CHUNK MS (connected)",	do_slow },
	{ "churn",	 CMD_PORT,	1, "churn PORT N (a port behind virtserd)", do_churn },
	{ "churned",	 CMD_PORT,	0, "churned PORT",			do_churned },
	{ "daemon_mem",	 CMD_ANY,	0, "daemon_mem",			do_daemon_mem },
	{ "dstatus",	 CMD_PORT,	0, "dstatus PORT (behind virtserd)",	do_dstatus },
	{ "dwatch",	 CMD_ANY,	0, "dwatch",				do_dwatch },
	{ "dwatched",	 CMD_PORT,	0, "dwatched PORT",			do_dwatched },
	{ "kill_qemu",	 CMD_ANY,	0, "kill_qemu",				do_kill_qemu },
	{ "hotplug_add", CMD_ANY,	2, "hotplug_add NEWPORT NAME",		do_hotplug_add },
	{ "hotplug_del", CMD_PORT,	0, "hotplug_del PORT",			do_hotplug_del },
	{ "paced",	 CMD_PORT,	0, "paced PORT MS bin|text SEED [TICK_US]", do_paced },
	{ "pacedstatus", CMD_PORT,	0, "pacedstatus PORT",			do_pacedstatus },
	{ "afterstatus", CMD_ANY,	0, "afterstatus N",			do_afterstatus },
	{ "jobend",	 CMD_PORT,	0, "jobend PORT [N]",			do_jobend },
	{ "devdel",	 CMD_ANY,	1, "devdel 0|1 (1: add it back)",	do_devdel },
};

static void run_command(unsigned long seq, char *text)
{
	char *save, *tok, *args[CMD_ARGS] = { 0 };
	const struct command *c = NULL;
	struct port *p = NULL;
	int id = -1, i, need;

	tok = strtok_r(text, " ", &save);
	if (!tok) {
		reply(seq, false, "empty command");
		return;
	}
	/* "after MS COMMAND..." keeps the rest of the line whole. */
	if (!strcmp(tok, "after")) {
		cmd_after(seq, save);
		return;
	}
	for (i = 0; i < CMD_ARGS; i++)
		args[i] = strtok_r(NULL, " ", &save);
	for (i = 0; i < (int)(sizeof(commands) / sizeof(commands[0])); i++) {
		if (!strcmp(tok, commands[i].name)) {
			c = &commands[i];
			break;
		}
	}
	if (!c) {
		reply(seq, false, "unknown command '%s'", tok);
		return;
	}
	if (c->port != CMD_ANY && !(p = port_arg(seq, args[0], &id)))
		return;
	/* The port, when there is one, is args[0]; the rest follow it. */
	need = c->nargs + (c->port != CMD_ANY);
	for (i = 0; i < need; i++) {
		if (!args[i])
			break;
	}
	if (i < need || (c->port == CMD_CONNECTED && p->fd < 0)) {
		reply(seq, false, "usage: %s", c->usage);
		return;
	}
	c->run(seq, p, id, args);
}

static void command(char *line)
{
	unsigned long seq;
	char *rest;

	seq = strtoul(line + strlen(VT_TAG), &rest, 10);
	if (pend.kind != W_NONE) {
		/* The guest waits for each answer, so this cannot happen. */
		reply(seq, false, "busy");
		return;
	}
	run_command(seq, rest);
}

/*
 * Run the delayed commands that are due; their answers go to afters[] and
 * to our output.  Returns the ms until the next one is due (or max).
 */
static int run_afters(uint64_t now, int max)
{
	char text[sizeof(afters[0].cmd)];
	unsigned int i;

	for (i = 0; i < n_afters; i++) {
		struct after *a = &afters[i];

		if (a->ran)
			continue;
		if (now < a->due) {
			if (a->due - now < (uint64_t)max)
				max = (int)(a->due - now);
			continue;
		}
		snprintf(text, sizeof(text), "%s", a->cmd);
		snprintf(a->result, sizeof(a->result), "no answer");
		capture = a;
		run_command(0, text);
		capture = NULL;
		a->ran = true;
		a->ran_at = now_ms();
		note("after #%u: '%s' ran at +%llu ms: %s %s", i + 1, a->cmd,
		     (unsigned long long)(a->ran_at - a->armed_at),
		     a->ok ? "OK" : "ERR", a->result);
	}
	return max;
}

/* ------------------------------------------------------------------ */
/* Port I/O driven by poll()                                            */

static void port_readable(int id)
{
	struct port *p = &ports[id];
	uint8_t buf[JOB_CHUNK];
	bool for_pend = pend.kind != W_NONE && pend.kind != W_JOB && pend.port == id;
	size_t room = sizeof(buf);
	ssize_t r;

	/* Take no more than the waiting command asked for: the rest stays queued. */
	if (for_pend && pend.kind == W_RECV)
		room = pend.want - pend.have;
	else if ((p->job == JOB_SINK || p->job == JOB_ECHO) && !p->job_done && p->left < room)
		room = (size_t)p->left;
	if (!for_pend && p->slow_chunk && room > p->slow_chunk)
		room = p->slow_chunk;
	if (!room)
		return;
	r = read(p->fd, buf, room);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		if ((p->job == JOB_SINK || p->job == JOB_ECHO) && !p->job_done) {
			snprintf(p->err, sizeof(p->err), "port %d: %s after %llu bytes", id,
				 r ? strerror(errno) : "EOF",
				 (unsigned long long)p->moved);
			p->job_done = true;
		}
		if (for_pend)
			finish_pending(false, "port %d closed by QEMU", id);
		port_close(p);
		return;
	}
	if (for_pend) {
		size_t take = (size_t)r;

		if (pend.kind == W_READABLE) {
			pend.have += take;
			return;
		}
		if (take > pend.cap - pend.have)
			take = pend.cap - pend.have;
		memcpy(pend.buf + pend.have, buf, take);
		pend.have += take;
		if (pend.kind == W_RECV && pend.have == pend.want) {
			char *hex = malloc(2 * pend.have + 1);

			hex_encode(hex, pend.buf, pend.have);
			finish_pending(true, "%s", hex);
			free(hex);
		} else if (pend.kind == W_EXPECT &&
			   memmem(pend.buf, pend.have, pend.pat, pend.patlen)) {
			char *hex = malloc(2 * pend.have + 1);

			hex_encode(hex, pend.buf, pend.have);
			finish_pending(true, "%s", hex);
			free(hex);
		}
		return;
	}
	if (p->slow_chunk)
		p->next_read = now_ms() + p->slow_ms;
	/* a sink or echo job */
	if (p->job == JOB_ECHO && vt_write_all(p->fd, buf, (size_t)r)) {
		snprintf(p->err, sizeof(p->err), "port %d: echo write: %s", id, strerror(errno));
		p->job_done = true;
		if (pend.kind == W_JOB && pend.port == id)
			job_result(p);
		return;
	}
	sha256_update(&p->sha, buf, (size_t)r);
	p->moved += (uint64_t)r;
	p->left -= (uint64_t)r;
	if (!p->left) {
		p->job_done = true;
		if (pend.kind == W_JOB && pend.port == id)
			job_result(p);
	}
}

static void port_writable(int id)
{
	struct port *p = &ports[id];
	ssize_t r;

	/*
	 * The poll set was built before this turn's commands ran: a jobend
	 * just handled may have ended the source at a chunk boundary, and a
	 * write of the 0 bytes left would look like a failed write.
	 */
	if (p->job != JOB_SOURCE || p->job_done)
		return;
	if (p->chunk_off == p->chunk_len) {
		size_t n = vt_stream_chunk(&p->st, JOB_CHUNK);

		if (n > p->left)
			n = (size_t)p->left;
		vt_stream_fill(&p->st, p->chunk, n);
		sha256_update(&p->sha, p->chunk, n);
		p->chunk_len = n;
		p->chunk_off = 0;
	}
	r = write(p->fd, p->chunk + p->chunk_off, p->chunk_len - p->chunk_off);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		snprintf(p->err, sizeof(p->err), "port %d: write: %s after %llu bytes",
			 id, strerror(errno), (unsigned long long)p->moved);
		p->job_done = true;
		if (pend.kind == W_JOB && pend.port == id)
			job_result(p);
		return;
	}
	p->chunk_off += (size_t)r;
	p->moved += (uint64_t)r;
	p->left -= (uint64_t)r;
	if (!p->left) {
		p->job_done = true;
		if (pend.kind == W_JOB && pend.port == id)
			job_result(p);
	}
}

static void pending_timeout(void)
{
	char *hex;

	switch (pend.kind) {
	case W_READABLE:
		finish_pending(true, "%zu", pend.have);
		break;
	case W_EXPECT:
		hex = malloc(2 * pend.have + 1);
		hex_encode(hex, pend.buf, pend.have);
		finish_pending(false, "timeout; got %s", hex);
		free(hex);
		break;
	case W_JOB:
		finish_pending(false, "timeout: job on port %d moved %llu bytes, %llu left",
			       pend.port, (unsigned long long)ports[pend.port].moved,
			       (unsigned long long)ports[pend.port].left);
		break;
	default:
		finish_pending(false, "timeout after %zu of %zu bytes", pend.have, pend.want);
	}
}

/* ------------------------------------------------------------------ */
/* The guest's output                                                   */

static void tap_line(const char *line)
{
	bool skip = strstr(line, "# SKIP") || strstr(line, "# skip");

	printf("%s\n", line);
	fflush(stdout);
	if (tap_log)
		fprintf(tap_log, "%s\n", line);
	if (!strncmp(line, "ok ", 3)) {
		if (skip)
			n_skip++;
		else
			n_pass++;
	} else if (!strncmp(line, "not ok ", 7)) {
		if (skip)
			n_skip++;
		else
			n_fail++;
	}
}

/*
 * The run's plan: the programs the guest runs (--programs, "A B|C": C on
 * the boot after a QEMU restart) and what the build says each reports
 * (--plan, from selftests/vm/test-plan.sh).  The guest's init brackets
 * each program with "@@PROG NAME" and "@@EXIT NAME STATUS"; a program
 * that is missing, crashes, exits non-zero without a failing result,
 * reports a different number of results or outlives its deadline fails
 * the run with a line saying which.  So does one that never ran.
 */
#define MAX_PROGS	32
#define MAX_PLAN_TESTS	512
#define TEST_GRACE_S	60	/* past a test's own timeout, for the harness to report it */

struct prog {
	char name[64];
	int phase;		/* 1, or 2 on the boot after a restart */
	int want;		/* results planned; -1: not a test program of this build */
	unsigned int deadline_s;
	bool started, exited;
	bool cut;		/* it asked for QEMU to be killed: ends unfinished */
	int status;		/* the shell's $? */
	int plan;		/* its own "1..N", -1 if it printed none */
	unsigned int results, failed;
	uint64_t start_ms;	/* monotonic, at its @@PROG */
};

static struct prog progs[MAX_PROGS];
static unsigned int n_progs;
static bool have_plan;
static int phase = 1;
static struct prog *cur_prog;
static uint64_t prog_deadline;		/* monotonic ms */
static char cur_test[128];		/* the harness test running, "" between */
static unsigned int cur_test_to;	/* its own timeout, s */
static uint64_t test_start, test_deadline;
static uint64_t boot_start;		/* when vmhost began waiting for the guest */
static unsigned int plan_fails;
static struct {
	char prog[64], test[128];
	unsigned int timeout;
} plan_tests[MAX_PLAN_TESTS];
static unsigned int n_plan_tests;

static void plan_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "not ok - ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	plan_fails++;
	tap_line(line);
}

static void load_plan(const char *file, const char *programs)
{
	char line[512], kind[8], name[64], test[128], *list, *tok, *save;
	unsigned int a, b, i;
	FILE *f = fopen(file, "r");

	if (!f)
		die("--plan %s: %s", file, strerror(errno));
	list = strdup(programs);
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *bar = strchr(tok, '|');
		int ph = phase;

		if (bar) {	/* "A|B": A ends the first boot, B starts the second */
			*bar = 0;
			phase = 2;
		}
		for (i = 0; i < 2; i++) {
			const char *t = i ? (bar ? bar + 1 : "") : tok;

			if (!*t)
				continue;
			if (n_progs == MAX_PROGS)
				die("--programs: more than %d", MAX_PROGS);
			snprintf(progs[n_progs].name, sizeof(progs[0].name), "%s", t);
			progs[n_progs].phase = i ? 2 : ph;
			progs[n_progs].want = -1;
			progs[n_progs].plan = -1;
			n_progs++;
		}
	}
	free(list);
	phase = 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %63s %u %u", kind, name, &a, &b) == 4 &&
		    !strcmp(kind, "prog")) {
			for (i = 0; i < n_progs; i++) {
				if (!strcmp(progs[i].name, name)) {
					progs[i].want = (int)a;
					progs[i].deadline_s = b;
				}
			}
		} else if (sscanf(line, "%7s %63s %127s %u", kind, name, test, &a) == 4 &&
			   !strcmp(kind, "test") && n_plan_tests < MAX_PLAN_TESTS) {
			snprintf(plan_tests[n_plan_tests].prog, sizeof(plan_tests[0].prog), "%s", name);
			snprintf(plan_tests[n_plan_tests].test, sizeof(plan_tests[0].test), "%s", test);
			plan_tests[n_plan_tests++].timeout = a;
		}
	}
	fclose(f);
	have_plan = true;
}

/*
 * Where a run's time goes, in its log only ("# time:", which check.sh does
 * not echo): each program, each test of 5 s or more, and each boot up to
 * its first program (udev settling and the kmemleak scan included).
 */
static void time_line(const char *prog, const char *test, uint64_t ms)
{
	printf("# time: %s%s%s %llu.%llu s\n", prog, test ? " " : "", test ? test : "",
	       (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
	fflush(stdout);
}

static void prog_start(const char *name)
{
	unsigned int i;

	cur_prog = NULL;
	cur_test[0] = 0;
	for (i = 0; i < n_progs; i++) {
		if (!progs[i].started && progs[i].phase == phase &&
		    !strcmp(progs[i].name, name)) {
			cur_prog = &progs[i];
			break;
		}
	}
	if (!cur_prog) {
		if (have_plan)
			plan_fail("%s: the guest ran it, but it is not in this run's list", name);
		return;
	}
	cur_prog->started = true;
	cur_prog->start_ms = now_ms();
	if (boot_start) {
		time_line(phase == 2 ? "boot (phase 2)" : "boot", NULL,
			  cur_prog->start_ms - boot_start);
		boot_start = 0;
	}
	prog_deadline = cur_prog->start_ms + (uint64_t)cur_prog->deadline_s * 1000;
}

static const char *exit_words(int st)
{
	static char w[64];

	if (st == 127)
		snprintf(w, sizeof(w), "status 127: no such program in the guest");
	else if (st > 128)
		snprintf(w, sizeof(w), "killed by signal %d", st - 128);
	else
		snprintf(w, sizeof(w), "status %d", st);
	return w;
}

static void prog_exit(const char *rest)
{
	char name[64];
	struct prog *p = cur_prog;
	int st;

	cur_prog = NULL;
	cur_test[0] = 0;
	if (sscanf(rest, "%63s %d", name, &st) != 2 || !p || strcmp(p->name, name))
		return;		/* not in the list: prog_start() said so */
	p->exited = true;
	p->status = st;
	time_line(p->name, NULL, now_ms() - p->start_ms);
	if (p->want < 0) {
		plan_fail("%s: not a test program of this build (%s)", p->name, exit_words(st));
		return;
	}
	if (p->results != (unsigned int)p->want)
		plan_fail("%s: %u results, the build planned %d (%s%s)", p->name, p->results,
			  p->want, exit_words(st),
			  p->plan >= 0 && p->plan != p->want ? "; its own plan differs too" : "");
	else if (st && !p->failed)
		plan_fail("%s: %s without a failing result", p->name, exit_words(st));
}

/* The running program asked for QEMU to be killed: it ends unfinished. */
static void plan_cut(void)
{
	if (cur_prog)
		cur_prog->cut = true;
}

/* A guest TAP line, counted for the program that printed it. */
static void guest_tap_line(const char *line)
{
	bool skip = strstr(line, "# SKIP") || strstr(line, "# skip");
	unsigned int i;
	int n;

	tap_line(line);
	if (!cur_prog)
		return;
	if (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7)) {
		uint64_t took = now_ms() - test_start;

		cur_prog->results++;
		if (line[0] == 'n' && !skip)
			cur_prog->failed++;
		/* A timeout too tight for a loaded TCG machine shows here first. */
		if (cur_test[0] && took > (uint64_t)cur_test_to * 500)
			note("%s: %s took %llu s of its %u s timeout", cur_prog->name, cur_test,
			     (unsigned long long)(took / 1000), cur_test_to);
		if (cur_test[0] && took >= 5000)
			time_line(cur_prog->name, cur_test, took);
		cur_test[0] = 0;
	} else if (sscanf(line, "1..%d", &n) == 1) {
		cur_prog->plan = n;
	} else if (!strncmp(line, "#  RUN ", 7) &&
		   sscanf(line + 7, "%127s", cur_test) == 1) {
		/* The harness starts a test: its own timeout, then ours. */
		cur_test_to = 30;
		for (i = 0; i < n_plan_tests; i++)
			if (!strcmp(plan_tests[i].prog, cur_prog->name) &&
			    !strcmp(plan_tests[i].test, cur_test))
				cur_test_to = plan_tests[i].timeout;
		test_start = now_ms();
		test_deadline = test_start + (uint64_t)(cur_test_to + TEST_GRACE_S) * 1000;
	}
}

/* What is running now, for a line about a hang. */
static const char *running_words(void)
{
	static char w[256];

	if (!cur_prog)
		return "between programs";
	if (cur_test[0])
		snprintf(w, sizeof(w), "in %s, test %s", cur_prog->name, cur_test);
	else
		snprintf(w, sizeof(w), "in %s, between tests", cur_prog->name);
	return w;
}

/* Returns true when a deadline passed: the run is over, QEMU must go. */
static bool plan_deadline(uint64_t now)
{
	if (!cur_prog)
		return false;
	if (cur_test[0] && now > test_deadline) {
		plan_fail("%s: test %s still running %u s past its own timeout of %u s: hung "
			  "(see console.log)", cur_prog->name, cur_test, TEST_GRACE_S, cur_test_to);
	} else if (now > prog_deadline) {
		plan_fail("%s: still running after its deadline of %u s (%s): hung",
			  cur_prog->name, cur_prog->deadline_s, running_words());
	} else {
		return false;
	}
	cur_prog->exited = true;	/* said once */
	cur_prog = NULL;
	return true;
}

/* At the end: what never ran or never finished. */
static void plan_check_end(void)
{
	unsigned int i, results = 0;

	if (!have_plan) {
		note("no --plan: the results of each program were not checked");
		return;
	}
	for (i = 0; i < n_progs; i++) {
		struct prog *p = &progs[i];

		results += p->results;
		if (p->cut)
			continue;
		if (!p->started)
			plan_fail("%s: never ran%s", p->name,
				  p->phase > phase ? " (QEMU was not restarted for it)" : "");
		else if (!p->exited)
			plan_fail("%s: did not finish (%s)", p->name,
				  cur_prog == p ? running_words() : "cut off");
	}
	note("plan: %u programs, %u results, %s", n_progs, results,
	     plan_fails ? "NOT as planned" : "as planned");
}

static char ctl_buf[2 * VT_LINE_MAX];
static size_t ctl_len;
static bool guest_spoke;	/* the guest's init wrote to the side channel */

static void ctl_readable(void)
{
	ssize_t r = read(ctl_fd, ctl_buf + ctl_len, sizeof(ctl_buf) - ctl_len - 1);
	char *start = ctl_buf, *nl;

	if (r <= 0) {
		close(ctl_fd);
		ctl_fd = -1;
		return;
	}
	guest_spoke = true;
	ctl_len += (size_t)r;
	while ((nl = memchr(start, '\n', ctl_len - (size_t)(start - ctl_buf)))) {
		*nl = 0;
		if (nl > start && nl[-1] == '\r')
			nl[-1] = 0;
		if (!strncmp(start, VT_TAG "END", strlen(VT_TAG "END"))) {
			guest_done = true;
			guest_status = atoi(start + strlen(VT_TAG "END"));
		} else if (!strncmp(start, VT_TAG "PROG ", strlen(VT_TAG "PROG "))) {
			prog_start(start + strlen(VT_TAG "PROG "));
		} else if (!strncmp(start, VT_TAG "EXIT ", strlen(VT_TAG "EXIT "))) {
			prog_exit(start + strlen(VT_TAG "EXIT "));
		} else if (!strncmp(start, VT_TAG, strlen(VT_TAG))) {
			command(start);
		} else {
			guest_tap_line(start);
		}
		start = nl + 1;
	}
	ctl_len -= (size_t)(start - ctl_buf);
	memmove(ctl_buf, start, ctl_len);
	if (ctl_len == sizeof(ctl_buf) - 1) {	/* a line longer than any we send */
		ctl_buf[ctl_len] = 0;
		guest_tap_line(ctl_buf);
		ctl_len = 0;
	}
}

/* ------------------------------------------------------------------ */
/* QEMU                                                                 */

/*
 * Run argv in the background with stdout and stderr in DIR/logname and
 * stdin on /dev/null; returns its pid.
 */
static pid_t spawn(char *const argv[], const char *logname)
{
	pid_t pid, parent = getpid();
	char log[PATH_MAX];
	int fd;

	snprintf(log, sizeof(log), "%s/%s", workdir, logname);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* See end_children(): it must not outlive us, even SIGKILLed. */
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* whichever of the two runs first */
	return pid;
}

static void start_qemu(char **argv)
{
	qemu_pid = spawn(argv, "qemu.log");
}

static bool qemu_exited(void)
{
	int st;

	if (qemu_pid > 0 && waitpid(qemu_pid, &st, WNOHANG) == qemu_pid) {
		qemu_status = st;
		qemu_pid = -1;
	}
	return qemu_pid < 0;
}

/*
 * Anything here in the guest's kernel log fails the run: these are the
 * kernel's own reports of a bug, whichever test provoked them.
 */
static const char *const splats[] = {
	"WARNING:", "BUG:", "Oops", "sleeping function called",
	"blocked for more than", "general protection fault",
	"Kernel panic", "kernel BUG", "UBSAN:", "KASAN:", "list_del corruption",
	"refcount_t:", "KFENCE:", "possible circular locking", "unreferenced object",
	"suspected memory leak", "inconsistent lock state", "soft lockup",
	/* debugfs refusing a port's file: a stale one (freed port?) is there */
	"already present!", NULL,
};

static int check_one_log(const char *name, int *bad)
{
	char path[PATH_MAX], line[4096];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; splats[i]; i++) {
			if (strstr(line, splats[i])) {
				if ((*bad)++ < 20)
					printf("# kernel: %s", line);
				break;
			}
		}
	}
	fclose(f);
	return 0;
}

/* The log of this boot, and of the boot before a restart if there was one. */
static int check_kernel_log(void)
{
	int bad = 0;

	if (check_one_log("console.log", &bad))
		return -1;
	check_one_log("console.1.log", &bad);
	return bad;
}

static void add_port(const char *spec)
{
	char kind[32], name[128], via[32] = "";
	int id;

	if (sscanf(spec, "%d:%31[^:]:%127[^:]:%31s", &id, kind, name, via) < 3 || id < 0 ||
	    id >= MAX_PORTS || (via[0] && strcmp(via, "daemon") && strcmp(via, "hold")))
		die("bad --port '%s' (want ID:console|port:NAME[:daemon|:hold])", spec);
	ports[id].present = true;
	ports[id].console = !strcmp(kind, "console");
	ports[id].via_daemon = via[0] != 0;
	ports[id].hold = !strcmp(via, "hold");
	ports[id].fd = -1;
	snprintf(ports[id].name, sizeof(ports[id].name), "%s", name);
	snprintf(ports[id].path, sizeof(ports[id].path), "%s/port%d.sock", workdir, id);
	snprintf(ports[id].user_path, sizeof(ports[id].user_path), "%s/user%d.sock",
		 workdir, id);
}

/*
 * Put virtserd between QEMU and us for the ports marked "daemon": it
 * connects to their chardevs (reconnecting when QEMU comes back) and serves
 * each on a unix socket, which is what our "connect" then opens.
 */
static void start_daemon(void)
{
	char conf[PATH_MAX], ctl[PATH_MAX];
	FILE *f;
	int i;

	snprintf(conf, sizeof(conf), "%s/virtserd.xml", workdir);
	snprintf(ctl, sizeof(ctl), "%s/virtserd.ctl", workdir);
	f = fopen(conf, "w");
	if (!f)
		die("%s: %s", conf, strerror(errno));
	/*
	 * QEMU's second monitor (run.sh: -qmp DIR/qmp-d.sock) is the daemon's:
	 * a monitor serves one client, and ours is DIR/qmp.sock.  The port's
	 * name pN is also its QEMU device id (run.sh: -device ...,id=pN).
	 */
	fprintf(f, "<virtserd>\n  <control path='%s' mode='0600'/>\n  <vm name='vt'>\n"
		"    <qmp path='%s/qmp-d.sock'/>\n", ctl, workdir);
	for (i = 0; i < MAX_PORTS; i++) {
		if (!ports[i].present || !ports[i].via_daemon)
			continue;
		fprintf(f,
			"    <channel type='unix' name='p%d'>\n"
			"      <source mode='bind' path='%s'/>\n"
			"      <target type='virtio' name='%s'/>\n"
			"      <chardev type='unix' path='%s'>\n"
			"        <reconnect enabled='yes' timeout-ms='100'/>\n"
			"      </chardev>\n"
			"      <clients max='128'/>\n%s"
			"    </channel>\n", i, ports[i].user_path, ports[i].name, ports[i].path,
			ports[i].hold ? "      <guest closed='hold'/>\n" : "");
	}
	fputs("  </vm>\n</virtserd>\n", f);
	fclose(f);

	daemon_pid = spawn((char *const[]){ (char *)daemon_bin, "-c", conf, NULL },
			   "virtserd.log");
	for (i = 0; i < 500 && access(ctl, F_OK); i++)
		usleep(20000);
	if (access(ctl, F_OK))
		die("virtserd did not start (see %s/virtserd.log)", workdir);
}

/* Reaps virtserd if it died, so its pid is never signalled after reuse. */
static bool daemon_alive(void)
{
	int st;

	if (daemon_pid > 0 && waitpid(daemon_pid, &st, WNOHANG) == daemon_pid)
		daemon_pid = -1;
	return daemon_pid > 0;
}

static void stop_daemon(void)
{
	int st = -1, i;

	if (!daemon_bin)
		return;
	end_child(&watch_pid);
	if (!daemon_alive()) {
		tap_line("not ok - virtserd still running at the end");
		return;
	}
	kill(daemon_pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid)
			break;
		usleep(20000);
	}
	if (i == 500) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, &st, 0);
	}
	daemon_pid = -1;
	tap_line(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok - virtserd stopped cleanly on SIGTERM"
						    : "not ok - virtserd stopped cleanly on SIGTERM");
}

static void open_channels(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/ctl.sock", workdir);
	ctl_fd = connect_retry(path, 30000);
	if (ctl_fd < 0)
		die("connect %s: %s (see %s/qemu.log)", path, strerror(errno), workdir);
	snprintf(path, sizeof(path), "%s/qmp.sock", workdir);
	qmp_open(path);
}

/*
 * The guest asked for QEMU to be killed mid-stream.  virtserd must survive
 * that; QEMU then starts again (the guest boots into phase 2, which checks
 * that virtserd reconnected and carries data again).
 */
static void restart_qemu(void)
{
	static char append[4096];
	int i;

	restart_pending = false;
	tap_line(daemon_alive() ? "ok - virtserd survived QEMU killed mid-stream"
				: "not ok - virtserd survived QEMU killed mid-stream");
	if (ctl_fd >= 0)
		close(ctl_fd);
	close(qmp_fd);
	ctl_fd = qmp_fd = -1;
	ctl_len = qmp_len = 0;
	free(pend.buf);
	memset(&pend, 0, sizeof(pend));
	for (i = 0; i < MAX_PORTS; i++) {
		port_close(&ports[i]);
		ports[i].drain_next = ports[i].via_daemon;
	}
	n_afters = 0;	/* they were meant for the QEMU that is gone */
	phase = 2;
	boot_start = now_ms();	/* the second boot gets its own time line */
	cur_prog = NULL;
	cur_test[0] = 0;
	for (i = 0; qemu_argv[i]; i++) {
		if (!strcmp(qemu_argv[i], "-append") && qemu_argv[i + 1]) {
			snprintf(append, sizeof(append), "%s vt.phase=2", qemu_argv[i + 1]);
			qemu_argv[i + 1] = append;
			break;
		}
	}
	guest_done = false;
	end_grace = 0;
	{
		char a[PATH_MAX], b[PATH_MAX];

		snprintf(a, sizeof(a), "%s/console.log", workdir);
		snprintf(b, sizeof(b), "%s/console.1.log", workdir);
		rename(a, b);	/* QEMU truncates it; the first boot's log still counts */
	}
	start_qemu(qemu_argv);
	open_channels();
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmhost --dir DIR --port ID:console|port:NAME[:daemon]...\n"
		"              [--daemon VIRTSERD] [--timeout S]\n"
		"              [--plan FILE --programs \"PROG...[|PROG...]\"] -- QEMU-COMMAND...\n"
		"The QEMU command must use DIR/ctl.sock (side channel, server),\n"
		"DIR/qmp.sock (QMP, server), DIR/console.log (kernel log) and\n"
		"DIR/portID.sock for each port (server).  Ports marked daemon are\n"
		"served through virtserd, whose endpoint is DIR/userID.sock.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "daemon", required_argument, NULL, 'D' },
		{ "plan", required_argument, NULL, 'P' },
		{ "programs", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plan_file = NULL, *programs = NULL;
	char path[PATH_MAX];
	char *specs[MAX_PORTS];
	int nspecs = 0, timeout = 1800, c, i, splat;
	uint64_t deadline, boot_deadline;
	bool killed = false;	/* QEMU was sent SIGKILL: only reap it now */
	const char *bs = getenv("VT_BOOT_SECS");
	int boot_secs = bs ? atoi(bs) : 600;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			workdir = optarg;
			break;
		case 'p':
			if (nspecs < MAX_PORTS)
				specs[nspecs++] = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		case 'D':
			daemon_bin = optarg;
			break;
		case 'P':
			plan_file = optarg;
			break;
		case 'R':
			programs = optarg;
			break;
		default:
			usage();
		}
	}
	if (!workdir || optind >= argc || !plan_file != !programs)
		usage();
	for (i = 0; i < MAX_PORTS; i++)
		ports[i].fd = -1;
	for (i = 0; i < nspecs; i++)
		add_port(specs[i]);
	signal(SIGPIPE, SIG_IGN);
	guard_children();
	snprintf(path, sizeof(path), "%s/tap.log", workdir);
	tap_log = fopen(path, "w");
	if (plan_file)
		load_plan(plan_file, programs);

	qemu_argv = argv + optind;
	start_qemu(qemu_argv);
	for (i = 0; i < MAX_PORTS; i++)
		if (ports[i].via_daemon && !daemon_bin)
			die("port %d goes through virtserd: give --daemon", i);
	if (daemon_bin)
		start_daemon();
	open_channels();
	deadline = now_ms() + (uint64_t)timeout * 1000;
	/*
	 * A guest kernel that never reaches its init hung in early boot (seen
	 * with the debug kernel under TCG on a loaded host, while calibrating
	 * its timers): nothing of the code under test ran.  Say so and exit
	 * 75, so run.sh can boot it again, instead of waiting for --timeout.
	 */
	boot_start = now_ms();
	boot_deadline = boot_start + (uint64_t)boot_secs * 1000;

	for (;;) {
		struct pollfd pfd[MAX_PORTS + 1];
		int map[MAX_PORTS + 1], n = 0, wait = 200;
		uint64_t now = now_ms();

		if (qemu_exited()) {
			if (!restart_pending || now > deadline || killed)
				break;
			restart_qemu();
			continue;
		}

		if (!guest_spoke && boot_secs && now > boot_deadline) {
			note("the guest did not reach its init within %d s (see %s/console.log): "
			     "an early-boot hang; exiting 75 so that the boot can be retried",
			     boot_secs, workdir);
			kill(qemu_pid, SIGKILL);
			while (!qemu_exited())
				usleep(10000);
			stop_daemon();
			return 75;
		}
		/* Once QEMU is sent SIGKILL, wait for it: say why only once. */
		if (!killed && now > deadline) {
			note("timeout after %d s (%s): killing QEMU", timeout, running_words());
			kill(qemu_pid, SIGKILL);
			killed = true;
		}
		if (!killed && plan_deadline(now)) {
			note("killing QEMU: the guest is stuck");
			kill(qemu_pid, SIGKILL);
			killed = true;
		}
		if (guest_done && !end_grace)
			end_grace = now + 30000;
		if (!killed && end_grace && now > end_grace) {
			note("guest did not power off: killing QEMU");
			kill(qemu_pid, SIGKILL);
			killed = true;
		}
		if (killed) {
			usleep(10000);
			continue;
		}
		if (pend.kind != W_NONE && now >= pend.deadline)
			pending_timeout();
		wait = run_afters(now, wait);

		if (ctl_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = ctl_fd, .events = POLLIN };
			map[n++] = -1;
		}
		for (i = 0; i < MAX_PORTS; i++) {
			struct port *p = &ports[i];
			short ev = 0;

			/* One client in, one client out per turn, among the traffic. */
			if (p->churn_left) {
				int fd = vt_connect_unix(p->user_path);

				p->churn_left--;
				p->churn_done++;
				if (fd >= 0) {
					p->churn_ok++;
					close(fd);
				}
				wait = 5;
			}
			if (p->fd < 0)
				continue;
			if (p->slow_chunk && p->job == JOB_SINK && !p->job_done &&
			    now < p->next_read) {
				if (p->next_read - now < (uint64_t)wait)
					wait = (int)(p->next_read - now);
				continue;
			}
			if (((p->job == JOB_SINK || p->job == JOB_ECHO) && !p->job_done) ||
			    (pend.kind != W_NONE && pend.kind != W_JOB && pend.port == i))
				ev |= POLLIN;
			if (p->job == JOB_SOURCE && !p->job_done)
				ev |= POLLOUT;
			if (!ev)
				continue;
			pfd[n] = (struct pollfd){ .fd = p->fd, .events = ev };
			map[n++] = i;
		}
		if (pend.kind != W_NONE && pend.deadline - now < (uint64_t)wait)
			wait = (int)(pend.deadline - now) + 1;
		if (poll(pfd, (nfds_t)n, wait) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (map[i] < 0) {
				ctl_readable();
				continue;
			}
			if (ports[map[i]].fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				port_readable(map[i]);
			if (ports[map[i]].fd >= 0 && (pfd[i].revents & POLLOUT))
				port_writable(map[i]);
		}
	}

	/*
	 * The guest kernel died before its init ran (a panic in early boot:
	 * seen once under TCG on a loaded host, an int3 Oops in the timer
	 * softirq while the kernel patched its own code).  As with an
	 * early-boot hang, nothing of the code under test has run yet, so
	 * run.sh may boot it once more; a second failure fails the run.
	 */
	if (!guest_spoke && !killed && !restart_pending) {
		note("QEMU exited (status %d) before the guest reached its init (see "
		     "%s/console.log): an early-boot failure; exiting 75 so that the boot "
		     "can be retried", qemu_status, workdir);
		stop_daemon();
		return 75;
	}
	if (!guest_done) {
		note("QEMU exited before the guest finished (status %d); see %s/console.log",
		     qemu_status, workdir);
		tap_line("not ok - guest ran to completion");
	} else if (guest_status != 0) {
		note("guest test runner exited with status %d", guest_status);
	}
	plan_check_end();
	if (guest_done && guest_status != 0 && !n_fail)
		tap_line("not ok - guest test runner exited non-zero without a failing result");
	stop_daemon();
	splat = check_kernel_log();
	if (splat)
		tap_line(splat < 0 ? "not ok - guest kernel log readable"
				   : "not ok - guest kernel log free of WARNING/BUG/Oops/hung tasks");
	else
		tap_line("ok - guest kernel log free of WARNING/BUG/Oops/hung tasks");
	printf("%u passed, %u failed, %u skipped\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
