// SPDX-License-Identifier: GPL-2.0
/* vt_util.c - guest-side helpers shared by the test programs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "sha256.h"
#include "vt_guest.h"
#include "vt_util.h"

/* Even a late check gets a moment for a node udev is still creating. */
#define STATE_WAIT_FLOOR_MS 100

int vt_kmsg_open(bool at_end)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && at_end)
		lseek(fd, 0, SEEK_END);
	return fd;
}

ssize_t vt_kmsg_next(int fd, char *rec, size_t len)
{
	ssize_t n;

	do
		n = read(fd, rec, len - 1);
	while (n < 0 && errno == EPIPE);	/* overwritten records: read on */
	if (n <= 0)
		return 0;
	rec[n] = 0;
	return n;
}

short vt_poll(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	return r > 0 ? p.revents : 0;
}

int vt_wait_host(int fd, bool connected, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;

	for (;;) {
		short ev = vt_poll(fd, POLLIN | POLLOUT | POLLRDNORM, 0);
		bool up = !(ev & POLLHUP);

		if (up == connected)
			return 0;
		if (vt_now_ms() > end)
			return -1;
		/* A disconnected port polls ready at once: sleep, don't spin. */
		usleep(10000);
	}
}

int vt_wait_path(const char *path, bool gone, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;
	struct stat st;

	for (;;) {
		bool exists = lstat(path, &st) == 0;

		if (exists != gone)
			return 0;
		if (vt_now_ms() > end)
			return -1;
		usleep(20000);
	}
}

int vt_wait_port_ready(unsigned int id, char *node, size_t len, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;
	char attr[PATH_MAX];

	while (vt_port_node(id, node, len)) {
		if (vt_now_ms() > end)
			return -1;
		usleep(20000);
	}
	snprintf(attr, sizeof(attr), "/sys/class/virtio-ports/%s/name", node + strlen("/dev/"));
	if (vt_wait_path(attr, false, (int)(end - vt_now_ms())))
		return -1;
	return vt_wait_path(node, false, STATE_WAIT_FLOOR_MS + (int)(end > vt_now_ms() ? end - vt_now_ms() : 0));
}

int vt_plug(unsigned int id, const char *name, char *node, size_t len, int ms)
{
	char reply[1024];

	if (vt_host(reply, sizeof(reply), "hotplug_add %u %s", id, name)) {
		fprintf(stderr, "# hotplug_add %u %s: %s\n", id, name, reply);
		return -1;
	}
	return vt_wait_port_ready(id, node, len, ms);
}

int vt_unplug(unsigned int id)
{
	char reply[1024];

	if (vt_host(reply, sizeof(reply), "hotplug_del %u", id)) {
		fprintf(stderr, "# hotplug_del %u: %s\n", id, reply);
		return -1;
	}
	return 0;
}

long long vt_debugfs_val(const char *node, const char *key)
{
	char path[PATH_MAX], buf[2048], *line, *save;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "/sys/kernel/debug/virtio-ports/%s", node + strlen("/dev/"));
	if (vt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			return atoll(line + klen + 1);
	return -1;
}

int vt_sigio_wait(sigset_t *set, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	siginfo_t si;

	return sigtimedwait(set, &si, &ts) == SIGIO ? 0 : -1;
}

int vt_sigio_expect(sigset_t *set, int fd, int ms, char *why, size_t len)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	const long band = POLLOUT | POLLWRNORM | POLLWRBAND;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (sigtimedwait(set, &si, &ts) != SIGIO) {
		snprintf(why, len, "no SIGIO within %d ms", ms);
		return -1;
	}
	if (si.si_code != POLL_OUT || si.si_band != band || si.si_fd != fd) {
		snprintf(why, len, "SIGIO with si_code %d si_band %#lx si_fd %d; want %d %#lx %d",
			 si.si_code, (long)si.si_band, si.si_fd, POLL_OUT, band, fd);
		return -1;
	}
	return 0;
}

int vt_sigio_arm(int fd, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGIO);
	/* F_SETSIG, even to SIGIO itself, makes the kernel fill in siginfo. */
	if (sigprocmask(SIG_BLOCK, set, NULL) || fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETSIG, SIGIO) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC))
		return -1;
	while (!vt_sigio_wait(set, 0))
		;
	return 0;
}

int vt_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static void *call_thread(void *arg)
{
	struct vt_call *c = arg;

	if (c->is_write)
		c->ret = write(c->fd, c->buf, c->len);
	else
		c->ret = read(c->fd, c->buf, c->len);
	c->err = c->ret < 0 ? errno : 0;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void vt_call_start(struct vt_call *c, int fd, bool is_write, void *buf, size_t len)
{
	c->fd = fd;
	c->is_write = is_write;
	c->buf = buf;
	c->len = len;
	c->ret = 0;
	c->err = 0;
	c->done = 0;
	pthread_create(&c->thread, NULL, call_thread, c);
}

int vt_call_join(struct vt_call *c, int ms)
{
	uint64_t end = vt_now_ms() + (uint64_t)ms;

	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		if (vt_now_ms() > end)
			return -1;
		usleep(5000);
	}
	pthread_join(c->thread, NULL);
	return 0;
}

long long vt_fill(int fd, struct sha256 *sha)
{
	static char buf[32768];
	long long total = 0;
	int fl = fcntl(fd, F_GETFL);
	unsigned int i;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	/* Bounded: the host socket plus a full vring is a few MiB at most. */
	for (i = 0; total < (256ll << 20); i++) {
		ssize_t n;

		memset(buf, 'a' + (int)(i % 26), sizeof(buf));
		n = write(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN) {
			/* The device may still be consuming: make sure it stays full. */
			if (!(vt_poll(fd, POLLOUT, 200) & POLLOUT))
				break;
			continue;
		}
		if (n <= 0) {
			total = -1;
			break;
		}
		sha256_update(sha, buf, (size_t)n);
		total += n;
	}
	fcntl(fd, F_SETFL, fl);
	return total;
}

int vt_sink_check(unsigned int id, struct sha256 *sha, unsigned long long n, int ms,
		  char *why, size_t len)
{
	char reply[256], theirs[65], ours[65];
	unsigned long long got;

	sha256_final_hex(sha, ours);
	if (vt_host(reply, sizeof(reply), "wait %u %d", id, ms)) {
		snprintf(why, len, "host: %s", reply);
		return -1;
	}
	if (sscanf(reply, "%64s %llu", theirs, &got) != 2) {
		snprintf(why, len, "host answered '%s'", reply);
		return -1;
	}
	if (got != n || strcmp(theirs, ours)) {
		snprintf(why, len, "host got %llu bytes, SHA-256 %s; the guest wrote %llu, %s",
			 got, theirs, n, ours);
		return -1;
	}
	return 0;
}

int vt_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t r;
	int err;

	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val));
	err = r < 0 ? errno : EIO;
	close(fd);
	return r == (ssize_t)strlen(val) ? 0 : -err;
}

int vt_port_works(const struct vt_port *p, int ms)
{
	char node[PATH_MAX], buf[8];
	int fd, ok = -1;

	if (vt_wait_port_ready(p->id, node, sizeof(node), ms))
		return -1;
	fd = open(node, O_RDWR);
	if (fd < 0)
		return -1;
	vt_host(NULL, 0, "reset %u", p->id);
	if (!vt_host(NULL, 0, "connect %u", p->id) && !vt_wait_host(fd, true, ms) &&
	    !vt_host(NULL, 0, "send %u 6f6b", p->id) && read(fd, buf, sizeof(buf)) == 2 &&
	    !memcmp(buf, "ok", 2) && write(fd, "ok", 2) == 2 &&
	    !vt_host(NULL, 0, "expect %u %d 6f6b", p->id, ms))
		ok = 0;
	close(fd);
	vt_host(NULL, 0, "reset %u", p->id);
	return ok;
}

int vt_upage_init(struct vt_upage *u)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };

	u->size = (size_t)sysconf(_SC_PAGESIZE);
	u->page = MAP_FAILED;
	u->uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->uffd < 0)
		return -errno;
	if (ioctl(u->uffd, UFFDIO_API, &api))
		return -errno;
	u->page = mmap(NULL, u->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->page == MAP_FAILED)
		return -errno;
	reg.range.start = (uintptr_t)u->page;
	reg.range.len = u->size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

int vt_upage_wait_fault(struct vt_upage *u, int ms)
{
	struct uffd_msg msg;

	if (!(vt_poll(u->uffd, POLLIN, ms) & POLLIN))
		return -1;
	if (read(u->uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		return -1;
	if (msg.event != UFFD_EVENT_PAGEFAULT ||
	    msg.arg.pagefault.address < (uintptr_t)u->page ||
	    msg.arg.pagefault.address >= (uintptr_t)u->page + u->size)
		return -1;
	return 0;
}

int vt_upage_resolve(struct vt_upage *u, const void *src)
{
	struct uffdio_copy copy = {
		.dst = (uintptr_t)u->page,
		.src = (uintptr_t)src,
		.len = u->size,
	};

	/* EEXIST: already resolved (a teardown after the test did). */
	if (ioctl(u->uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
		return -1;
	return 0;
}

void vt_upage_fini(struct vt_upage *u)
{
	if (u->page != MAP_FAILED)
		munmap(u->page, u->size);
	if (u->uffd >= 0)
		close(u->uffd);
	u->page = MAP_FAILED;
	u->uffd = -1;
}
