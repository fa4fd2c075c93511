/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtserd.h - daemon internals.
 *
 * Threading: the daemon is one thread running one io_uring loop, so there
 * are no locks.  "Owner" below names which object's code may change a field
 * and, for buffers, who may touch the memory while an SQE is in flight: a
 * buffer lent to the kernel (an SQE pointing at it) belongs to the kernel
 * until its CQE has been reaped.
 */
#ifndef VIRTSERD_H
#define VIRTSERD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/time_types.h>

#include <liburing.h>

#include "config.h"
#include "ring.h"
#include "telnet.h"
#include "udata.h"

struct vs_port;
struct vs_client;

/* ---- uring.c (ring, object table), loop.c (dispatch), log.c ------------ */

struct vs_loop {
	struct io_uring ring;		/* owner: loop */
	unsigned pending_sqes;		/* SQEs prepared but not submitted */
	uint64_t cqes;			/* stats: completions reaped */
	uint64_t wakeups;		/* stats: returns from io_uring_enter */
};

extern struct vs_loop vs_loop;

int vs_loop_init(void);
void vs_loop_exit(void);
/* Never NULL: submits the queue and retries when it is full. */
struct io_uring_sqe *vs_sqe(enum vs_op op, uint32_t slot, uint32_t gen);
void vs_cancel_fd(int fd);
void vs_cancel_ud(uint64_t ud);
int vs_loop_run(bool (*done)(void));

/* Object table behind the user_data slot. */
uint32_t vs_slot_alloc(void *obj, uint32_t *gen);
void *vs_slot_get(uint32_t slot, uint32_t gen);
/* SQEs of this object whose CQE has not been dispatched: free it only at 0. */
uint32_t vs_slot_inflight(uint32_t slot);
/* vs_slot_get() for a CQE: its object, whose in-flight count goes down. */
void *vs_slot_complete(uint32_t slot, uint32_t gen);
void vs_slot_free(uint32_t slot);

__attribute__((format(printf, 2, 3)))
void vs_log(int level, const char *fmt, ...);
extern int vs_verbose;

/*
 * Completion handlers: the dispatcher calls .ok for res >= 0 and .err for
 * res < 0, so failure handling never hides inside the relay fast path.
 * A port's handlers only change its state and mark it dirty
 * (vs_port_dirty); the loop kicks each dirty port once per batch of
 * completions, and that kick is also where closed objects with nothing
 * in flight are freed.  So no handler runs the kick or frees an object.
 */
typedef void (*vs_cqe_fn)(void *obj, int res);
struct vs_op_handler {
	vs_cqe_fn ok, err;
};

/* ---- port.c, vm.c, client.c, ep.c (internals: port.h) -------------------- */

enum vs_vm_state {
	VM_DOWN,		/* no socket; a timer may be pending */
	VM_CONNECTING,		/* CONNECT in flight */
	VM_LISTENING,		/* ACCEPT in flight on vm_lfd */
	VM_UP,			/* relaying */
	VM_CLOSING,		/* waiting for our ops on vm_fd to finish */
};

enum vs_cl_kind {
	CL_SOCK,		/* accepted or connected stream socket */
	CL_CTL,			/* control-socket attach (a stream socket) */
	CL_FILE,		/* file endpoint (write only, rotated) */
	CL_LOG,			/* <log>: like CL_FILE, next to another endpoint */
	CL_PTY,			/* pty master */
	CL_PIPE,		/* path.in / path.out */
	CL_UDP,			/* connected datagram socket */
	CL_STDIO,
	CL_DEV,			/* host tty */
};

/*
 * One user-side peer of a port.  All fields: owner is the port's code,
 * single-threaded.  txbuf/rxbuf are lent to the kernel while wr_busy/rd_busy.
 */
struct vs_client {
	struct vs_port *port;		/* back pointer; the port outlives us */
	struct vs_client *next;		/* in port->clients */
	uint32_t slot, gen;		/* user_data identity */
	enum vs_cl_kind kind;
	int rfd, wfd;			/* -1: that direction does not exist */
	bool readonly;			/* spy: never feeds the VM */
	bool blocking;			/* its position holds back VM reads */
	bool closing;			/* teardown started */
	bool connecting;		/* CL_SOCK connect mode, CONNECT in flight */
	bool rd_busy, wr_busy;		/* an SQE owns the buffer (freeing: vs_slot_inflight) */
	bool rd_direct;			/* read lent port->down space */
	bool wr_direct;			/* write lent port->up space */
	bool feeding;			/* this read feeds port->down */
	bool telnet;
	bool dgram;			/* UDP: keep writes within one datagram */
	bool reopen;			/* CL_FILE/CL_LOG: SIGUSR2 seen, reopen when idle */
	struct vs_telnet tn;
	uint64_t pos;			/* next byte of port->up to send */
	size_t wr_len;			/* bytes lent for the current write */
	uint8_t *txbuf;			/* copies for spies, telnet, control text */
	size_t txcap, txoff, txlen;
	uint8_t *rxbuf;			/* telnet/spy input before decoding */
	size_t rxcap;
	uint64_t file_size;		/* CL_FILE/CL_LOG: for rotation */
	char *path;			/* CL_FILE/CL_LOG: path to reopen */
	uint64_t max_size;
	unsigned backups;
	uint64_t bytes_in, bytes_out;	/* stats */
	uint64_t drops;			/* spy overruns */
	char peer[64];			/* for status output */
	struct sockaddr_storage addr;	/* connect mode: kept for the SQE */
	socklen_t addrlen;
};

/*
 * A port: QEMU's chardev socket on one side, the configured endpoint on the
 * other.  "up" carries guest output (VM -> users), "down" user input
 * (users -> VM).  Owner of every field: this port's code.
 */
struct vs_port {
	struct vs_port *next;		/* in the global list */
	struct vs_port_cfg *cfg;	/* deep copy, owned */
	char id[160];			/* "vm/port" */
	uint32_t slot, gen;		/* user_data identity; vs_slot_inflight() counts its SQEs */
	bool started;			/* false while an old port of this id drains */
	bool stopping;			/* reload/shutdown: draining */
	bool dirty;			/* on vs_dirty_ports: the loop kicks it */
	bool lv;			/* made by lvirt.c from a libvirt domain: not reload's */
	struct vs_port *dirty_next;	/* owner: loop.c's dirty list */
	uint64_t stop_deadline_ms;

	/* VM side */
	enum vs_vm_state vm_state;
	int vm_fd, vm_lfd;
	bool vm_rd_busy, vm_wr_busy, vm_timer_busy, vm_acc_busy;
	bool vm_poll_busy;		/* POLL_ADD for a hang-up while throttled */
	bool vm_rd_drop;		/* read into the scratch (console overflow) */
	/*
	 * What a QEMU connection still held in the kernel when it hung up
	 * while "up" was full: heap, owned by the port, moved into "up" as
	 * space frees and freed then.  Newer QEMU data is not read before it
	 * is gone, so order is kept.  Bounded by that socket's receive queue.
	 */
	uint8_t *spill;
	size_t spill_len, spill_off;
	size_t vm_wr_len;
	struct __kernel_timespec vm_ts;	/* kept alive for the TIMEOUT SQE */
	struct sockaddr_storage vm_addr;
	socklen_t vm_addrlen;

	/* buffers */
	struct vs_ring up;		/* guest output; consumed = min(blocking pos) */
	struct vs_ring down;		/* user input; consumed = down_acked */
	uint64_t down_pos;		/* next byte QEMU gets */
	/*
	 * Every byte before down_acked is known to have been read by a QEMU;
	 * those from there to down_pos were written into QEMU's socket and
	 * may still be queued in it.  Producers refill "down" only behind
	 * down_acked, so the ring still holds every byte a QEMU may not have
	 * read, and when a QEMU goes away without reading them down_pos moves
	 * back to down_acked and the next QEMU gets them (vm_settle).
	 */
	uint64_t down_acked;
	uint64_t down_conn;		/* down_pos when this connection came up */
	uint64_t down_sent_max;		/* highest down_pos ever: beyond is first sent */
	uint32_t vm_peer_ino;		/* unix: QEMU's socket inode, 0 if unknown */
	bool vm_blind;			/* unread bytes cannot be measured: not kept */
	bool vm_reset;			/* ECONNRESET seen: QEMU closed with bytes unread */
	bool vm_ack_timer;		/* the VM timer is the unread-bytes poll */
	unsigned vm_ack_ms;		/* its period; backs off while nothing moves */
	bool down_busy;			/* a producer read into down is in flight */

	/* user side */
	int lfd;			/* unix/tcp bind listener */
	ino_t lfd_ino, vm_lfd_ino;	/* unix listeners' files: unlinked only if still ours */
	char user_addr[128];		/* what lfd (or the udp socket) is bound to */
	char vm_laddr[128];		/* what vm_lfd is bound to */
	int user_err;			/* last errno opening the endpoint, 0 once open */
	unsigned user_retry_ms;		/* next delay after a failed open (backs off) */
	bool acc_busy, user_timer_busy;
	struct __kernel_timespec user_ts;

	/* idle memory: a TIMEOUT SQE owns trim_ts while trim_busy */
	bool trim_busy;
	struct __kernel_timespec trim_ts;
	uint64_t trim_mark;		/* up.head + down.head when armed */
	struct vs_client *clients;
	struct vs_client *writer;	/* the read-write client, if any */
	bool hold;			/* no writer: keep output for the next */
	uint64_t hold_pos;
	int pty_slave;			/* kept open so the master never HUPs */
	char *pty_name;

	/* stats */
	uint64_t vm_in, vm_out;		/* bytes from / to QEMU */
	uint64_t drops;			/* console bytes dropped: buffer full */
	uint64_t ro_discarded;		/* spy keystrokes ignored */
	uint64_t vm_connects;
	uint64_t breaks;
	uint64_t trimmed;		/* bytes of ring pages given back */
	uint64_t resent_to_vm;		/* bytes written again after a QEMU left them unread */
	uint64_t lost_to_vm;		/* unread by QEMU, gone from the ring: not resent */
	uint64_t vm_unread_unknown;	/* hang-ups that left an unmeasured amount unread */
	int last_err;			/* last VM-side errno, for status */
};

extern struct vs_port *vs_ports;
/* Ports to kick after this batch of completions; owner: the loop. */
extern struct vs_port *vs_dirty_ports;

/* Handlers call this instead of kicking: the loop kicks once per batch. */
static inline void vs_port_dirty(struct vs_port *p)
{
	if (p->dirty)
		return;
	p->dirty = true;
	p->dirty_next = vs_dirty_ports;
	vs_dirty_ports = p;
}

struct vs_port *vs_port_new(const char *vm, const struct vs_port_cfg *cfg);
void vs_port_stop(struct vs_port *p, unsigned timeout_ms);
void vs_port_kick(struct vs_port *p);
void vs_ports_start_pending(void);
void vs_ports_reopen_logs(void);
struct vs_port *vs_port_find(const char *id);
void trim_fire(void *obj, int res);
/* Attach a control connection as a client: 0 or -errno. */
int vs_port_attach(struct vs_port *p, int fd, bool readonly, bool force,
		   const char *peer);
const char *vs_vm_state_name(enum vs_vm_state s);
/* Bytes a client lost, including those overwritten while its write is stuck. */
uint64_t vs_client_drops(const struct vs_client *c);
uint64_t vs_now_ms(void);

/* ---- ctl.c ------------------------------------------------------------- */

/* The single-instance lock: an fd to keep open, or -1 and a message. */
int vs_ctl_lock(const char *control_path, char *err, size_t errlen);
int vs_ctl_open(const struct vs_config *cfg);
void vs_ctl_close(void);
bool vs_ctl_settled(void);
void ctl_accept_ok(void *obj, int fd);
void ctl_accept_err(void *obj, int res);
void ctl_read_ok(void *obj, int res);
void ctl_read_err(void *obj, int res);
void ctl_write_ok(void *obj, int res);
void ctl_write_err(void *obj, int res);

/* ---- reload.c, signal.c ------------------------------------------------ */

#define DEFAULT_CONFIG	SYSCONFDIR "/virtserd.xml"
#define STOP_TIMEOUT_MS	5000	/* a removed port's drain, at reload and exit */

extern const char *vs_config_path;
/* Returns NULL on success or an error message (static storage). */
const char *vs_reload(void);
int vs_signal_open(void);
void vs_signal_arm(void);
void vs_signal_close(void);
bool vs_shutting_down(void);
void sig_ok(void *obj, int res);
void sig_err(void *obj, int res);

#endif
