/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vt_util.h - small guest-side helpers shared by the test programs.
 */
#ifndef VT_UTIL_H
#define VT_UTIL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* poll() one fd for these events and return revents (0 on timeout). */
short vt_poll(int fd, short events, int ms);
/*
 * The next record of the kernel log open on @fd (/dev/kmsg, O_NONBLOCK)
 * into @rec, NUL-terminated; records overwritten meanwhile are skipped.
 * Its length, or 0 when none is left.
 */
ssize_t vt_kmsg_next(int fd, char *rec, size_t len);
/* /dev/kmsg for vt_kmsg_next(): from its oldest record, or (at_end) from now on. */
int vt_kmsg_open(bool at_end);

/*
 * Wait until the port's poll bits say the host end is (dis)connected:
 * POLLHUP clears when the host connects and is set when it leaves.  The
 * PORT_OPEN message reaches the guest asynchronously, after the host call
 * returned, so tests wait for the state instead of assuming it.
 */
int vt_wait_host(int fd, bool connected, int ms);

/* Wait until path exists (or, with gone, no longer exists). */
int vt_wait_path(const char *path, bool gone, int ms);

/*
 * Wait until port id is ready to open and return its node.  The node
 * appears before the driver is done with the port (the in-tree driver
 * answers open() with ENXIO in that window); the sysfs name attribute is
 * created last, once the host named the port, and is what udev waits for
 * too.  All the rig's ports are named.
 */
int vt_wait_port_ready(unsigned int id, char *node, size_t len, int ms);
/*
 * Have the host hot-plug port id named name and wait as vt_wait_port_ready()
 * does; or hot-unplug it.  0, or -1 with the host's answer on stderr.
 */
int vt_plug(unsigned int id, const char *name, char *node, size_t len, int ms);
int vt_unplug(unsigned int id);
/* One numeric value of the debugfs file of node ("/dev/vportNpM"), or -1. */
long long vt_debugfs_val(const char *node, const char *key);

struct vt_port;
/*
 * After a device or driver came back: the port is ready within ms, opens,
 * sees its host end connect, and moves two bytes each way.  0 or -1.
 */
int vt_port_works(const struct vt_port *p, int ms);

/*
 * Ask for SIGIO on fd (O_ASYNC, owner = this process), with SIGIO blocked
 * so it can be collected with vt_sigio_wait(); any already pending is
 * dropped.  Returns 0 or -1.
 */
int vt_sigio_arm(int fd, sigset_t *set);
/* 0 if a SIGIO arrives within ms, else -1. */
int vt_sigio_wait(sigset_t *set, int ms);
/*
 * 0 if a SIGIO arrives within ms with the siginfo the in-tree driver's
 * kill_fasync(..., SIGIO, POLL_OUT) gives for every event (host open or
 * close, data, unplug): si_code POLL_OUT, si_band POLLOUT | POLLWRNORM |
 * POLLWRBAND, si_fd fd.  vt_sigio_arm() asks for that siginfo (F_SETSIG).
 * Else -1, with what arrived (or did not) in why.
 */
int vt_sigio_expect(sigset_t *set, int fd, int ms, char *why, size_t len);

/* Read a small sysfs/debugfs file into buf, NUL-terminated; -1 on error. */
int vt_read_file(const char *path, char *buf, size_t len);
/* Write val to a sysfs/procfs file in one write(); 0 or -errno. */
int vt_write_file(const char *path, const char *val);

/*
 * A read() or write() running in its own thread, so a test can check that
 * the call really blocks and then make it return.
 */
struct vt_call {
	pthread_t thread;
	int fd;
	bool is_write;
	void *buf;
	size_t len;
	ssize_t ret;
	int err;
	volatile int done;
};
void vt_call_start(struct vt_call *c, int fd, bool is_write, void *buf, size_t len);
/* Join; returns -1 if the call did not finish within ms. */
int vt_call_join(struct vt_call *c, int ms);

/*
 * One anonymous page registered with userfaultfd (missing mode) whose
 * faults wait until the test resolves them, as a page of FUSE or NFS
 * may: a read() or write() given it as its buffer stays in the kernel's
 * copy until vt_upage_resolve().  Closing the userfaultfd (vt_upage_fini(),
 * or the program's exit) wakes such a call too; its copy then fails.
 */
struct vt_upage {
	int uffd;
	char *page;
	size_t size;
};
/* 0, or -errno (no userfaultfd in the kernel, or refused); fini either way. */
int vt_upage_init(struct vt_upage *u);
/* 0 once a thread is stuck in a fault on the page, -1 if none within ms. */
int vt_upage_wait_fault(struct vt_upage *u, int ms);
/* Fill the page with a copy of src (one page) and wake the faulting thread. */
int vt_upage_resolve(struct vt_upage *u, const void *src);
void vt_upage_fini(struct vt_upage *u);

/*
 * Fill the port's transmit path (host not reading) with non-blocking writes
 * until EAGAIN; returns the bytes written and adds them to sha.
 */
struct sha256;
long long vt_fill(int fd, struct sha256 *sha);

/*
 * Wait (at most ms) for the host's sink job on port id and compare what it
 * received with what the guest wrote: n bytes hashed into sha (finalised
 * here).  0 if the host got exactly those bytes; else -1 with why.
 */
int vt_sink_check(unsigned int id, struct sha256 *sha, unsigned long long n, int ms,
		  char *why, size_t len);

#endif
