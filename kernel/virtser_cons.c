// SPDX-License-Identifier: GPL-2.0
/*
 * Console ports as /dev/hvcN through the hvc layer.
 *
 * The hvc core calls back with a terminal number (vtermno) only, so console
 * ports sit on a module-wide list searched by vtermno.  The list and each
 * port's hvc pointer are RCU-protected: the callbacks run in atomic
 * context, and hvc_poll() calls back into vs_get_chars(), so a spinlock
 * around either would self-deadlock.  Removal unpublishes, waits for a
 * grace period, and only then calls hvc_remove().
 *
 * Output is back-pressured, never dropped here, and never waits for the
 * host to consume it (the in-tree put_chars spins until the host returns
 * the buffer).  When the ring is full we wait for room at most
 * VS_CONS_SPIN_US and then return 0: hvc keeps the chunk and tries again
 * when the host returns a buffer (the transmit interrupt is armed and
 * kicks hvc) or on its own poll while output is pending.  Later calls
 * return 0 at once until the host returns a buffer, so a stalled host
 * costs one such wait, not one per chunk, and cannot hang a CPU that is
 * printing.  A tty writer then blocks, as on a serial line with flow
 * control; printk through hvc's console discards what put_chars did not
 * take, as it does for every hvc backend.
 * During a panic, with VIRTIO_CONSOLE_F_EMERG_WRITE, output goes through
 * the emerg_wr config field instead, which needs no interrupts and no ring.
 * "During a panic" is latched by a panic notifier, not read from
 * oops_in_progress alone: panic() drops oops_in_progress again
 * (bust_spinlocks(0)) before its last flush of the log buffer, and what was
 * still pending then would take the ring path, whose completions may never
 * come on a dying machine.
 *
 * The hvc header is private to the kernel tree; see kernel/README.md for
 * how the build obtains the copy matching the target kernel.
 */
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/panic.h>
#include <linux/panic_notifier.h>
#include <linux/printk.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <uapi/linux/virtio_console.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

/* Longest wait for ring space in put_chars, in microseconds. */
#define VS_CONS_SPIN_US	10000

static DEFINE_MUTEX(vs_cons_mutex);	/* serialises list updates */
static LIST_HEAD(vs_cons_list);		/* RCU; vs_port.cons_list */
static DEFINE_IDA(vs_vterm_ida);	/* vtermnos, from 1 like 6.2+ */

/* Set when panic() runs its notifiers; never cleared.  Lockless flag. */
static bool vs_panicking;

static int vs_cons_panic_notify(struct notifier_block *nb, unsigned long event,
				void *msg)
{
	WRITE_ONCE(vs_panicking, true);
	return NOTIFY_DONE;
}

static struct notifier_block vs_cons_panic_nb = {
	.notifier_call = vs_cons_panic_notify,
};

/**
 * vs_cons_module_init() - start watching for a panic
 *
 * Context: module init, process context.
 */
void vs_cons_module_init(void)
{
	atomic_notifier_chain_register(&panic_notifier_list, &vs_cons_panic_nb);
}

/**
 * vs_cons_module_exit() - undo vs_cons_module_init()
 *
 * Context: module exit, process context.
 */
void vs_cons_module_exit(void)
{
	atomic_notifier_chain_unregister(&panic_notifier_list, &vs_cons_panic_nb);
}

/* Caller holds rcu_read_lock(). */
static struct vs_port *vs_cons_find(u32 vtermno)
{
	struct vs_port *port;

	list_for_each_entry_rcu(port, &vs_cons_list, cons_list)
		if (port->vtermno == vtermno)
			return port;
	return NULL;
}

static void vs_cons_emerg(struct vs_port *port, const u8 *buf, size_t count)
{
	size_t i;
	u32 c;

	for (i = 0; i < count; i++) {
		c = buf[i];
		virtio_cwrite(port->vsdev->vdev, struct virtio_console_config,
			      emerg_wr, &c);
	}
}

static VS_HVC_RET vs_put_chars(u32 vtermno, const VS_HVC_CHAR *buf,
			       VS_HVC_COUNT count)
{
	struct vs_port *port;
	struct vs_buf *b;
	unsigned int waited = 0;
	VS_HVC_RET ret = count;
	int err;

	if (count <= 0)
		return 0;
	rcu_read_lock();
	port = vs_cons_find(vtermno);
	if (!port) {
		ret = -EPIPE;
		goto out;
	}
	if (unlikely(oops_in_progress || READ_ONCE(vs_panicking)) && port->vsdev->emerg) {
		vs_cons_emerg(port, (const u8 *)buf, count);
		goto out;
	}
	b = vs_buf_alloc_data(count, GFP_ATOMIC);
	if (!b) {
		ret = 0;
		goto out;
	}
	memcpy(b->data, buf, count);
	b->len = count;
	b->nr_sg = 1;
	/*
	 * A full ring: wait for room up to VS_CONS_SPIN_US, unless the
	 * console is already stalled, in which case vs_tx_queue() hands the
	 * chunk back at once until the host returns a buffer (its interrupt
	 * kicks hvc again).
	 */
	for (;;) {
		err = vs_tx_queue(port, b, VS_TX_KICK | VS_TX_CONSOLE |
				  (waited >= VS_CONS_SPIN_US ? VS_TX_LAST : 0));
		if (err != -ENOSPC)
			break;
		udelay(5);
		waited += 5;
	}
	if (err) {
		vs_buf_free(b);
		/*
		 * A full ring, no ring while frozen, or a chunk that cannot
		 * be DMA-mapped now (a bounce pool held by other ports, with
		 * nothing of ours in flight to make room): 0 makes hvc keep
		 * the chunk and retry on its poll.  A broken ring takes
		 * nothing ever again: the chunk is dropped so that writers do
		 * not block forever.
		 */
		ret = err == -EAGAIN || err == -ENODEV || err == -ENOMEM ? 0 : count;
	}
	/* Otherwise the device owns @b; vs_tx_reclaim() frees it. */
out:
	rcu_read_unlock();
	return ret;
}

static VS_HVC_RET vs_get_chars(u32 vtermno, VS_HVC_CHAR *buf,
			       VS_HVC_COUNT count)
{
	struct kvec kv = { .iov_base = buf, .iov_len = count };
	struct vs_port *port;
	struct iov_iter to;
	bool arrived;
	ssize_t done;

	if (count <= 0)
		return 0;
	rcu_read_lock();
	port = vs_cons_find(vtermno);
	if (!port) {
		rcu_read_unlock();
		return -EPIPE;
	}
	iov_iter_kvec(&to, ITER_DEST, &kv, 1, count);
	/*
	 * hvc holds its port lock around this call, which makes us the
	 * console's only reader, and nothing here may call back into hvc
	 * (hvc_poll() would take that lock again): what the re-post finds
	 * already filled (@arrived) waits on rxq for the next call, which
	 * hvc's read loop makes.
	 */
	done = vs_rx_take(port, &to, &arrived);
	rcu_read_unlock();
	return done > 0 ? done : 0;
}

static void vs_apply_size(struct hvc_struct *hp, struct vs_port *port)
{
	struct winsize ws = { .ws_row = READ_ONCE(port->rows),
			      .ws_col = READ_ONCE(port->cols) };

	if (!ws.ws_row && !ws.ws_col)
		return;
	hvc_resize(hp, ws);
}

static int vs_notifier_add(struct hvc_struct *hp, int data)
{
	struct vs_port *port;

	/* We kick hvc from the rx callback; khvcd need not poll us. */
	hp->irq_requested = 1;
	rcu_read_lock();
	port = vs_cons_find(hp->vtermno);
	if (port)
		vs_apply_size(hp, port);
	rcu_read_unlock();
	return 0;
}

static void vs_notifier_del(struct hvc_struct *hp, int data)
{
	hp->irq_requested = 0;
}

static const struct hv_ops vs_hv_ops = {
	.get_chars	= vs_get_chars,
	.put_chars	= vs_put_chars,
	.notifier_add	= vs_notifier_add,
	.notifier_del	= vs_notifier_del,
	.notifier_hangup = vs_notifier_del,
};

/**
 * vs_cons_init() - make a port an hvc console
 * @port: the port (not yet a console)
 *
 * Does not send PORT_OPEN: the caller does, as the specification asks.
 * A port already open as /dev/vportNpM is refused (-EBUSY): hvc and read()
 * would both consume its receive queue.  On failure the port is left as
 * it was, so it can still be opened.
 *
 * Context: process, ports_mutex held.
 * Return: 0 or a negative error.
 */
int vs_cons_init(struct vs_port *port)
{
	struct hvc_struct *hp;
	unsigned long flags;
	bool arrived;
	int vtermno, err;

	vtermno = ida_alloc_min(&vs_vterm_ida, 1, GFP_KERNEL);
	if (vtermno < 0)
		return vtermno;
	port->vtermno = vtermno;

	/*
	 * Consoles always accept input.  Under inbuf_lock, against open():
	 * either the port is open already and stays a generic port, or it
	 * is a console before open() can look.
	 */
	spin_lock_irqsave(&port->inbuf_lock, flags);
	err = vs_port_claim(VS_READER_CONSOLE, port->is_console,
			    port->guest_connected, port->unplugged);
	if (err) {
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		ida_free(&vs_vterm_ida, vtermno);
		port->vtermno = 0;
		return err;
	}
	port->guest_connected = true;
	WRITE_ONCE(port->is_console, true);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	/*
	 * Buffers for its input now.  Input found already there waits on
	 * rxq for the next receive interrupt: there is no hvc yet to tell.
	 */
	if (!port->rx_allocated && !vs_rx_fill(port, GFP_KERNEL, &arrived))
		port->rx_allocated = true;

	/* Published first: hvc_alloc() may print through us at once. */
	mutex_lock(&vs_cons_mutex);
	list_add_tail_rcu(&port->cons_list, &vs_cons_list);
	mutex_unlock(&vs_cons_mutex);

	hp = hvc_alloc(vtermno, 0, &vs_hv_ops, PAGE_SIZE);
	if (IS_ERR(hp)) {
		mutex_lock(&vs_cons_mutex);
		list_del_rcu(&port->cons_list);
		mutex_unlock(&vs_cons_mutex);
		synchronize_rcu();
		/* Not a console after all: the port can be opened again. */
		spin_lock_irqsave(&port->inbuf_lock, flags);
		WRITE_ONCE(port->is_console, false);
		port->guest_connected = false;
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		ida_free(&vs_vterm_ida, vtermno);
		port->vtermno = 0;
		return PTR_ERR(hp);
	}
	rcu_assign_pointer(port->hvc, hp);
	return 0;
}

/**
 * vs_cons_remove() - tear down a console port's hvc
 * @port: a console port
 *
 * Context: process, ports_mutex held.
 */
void vs_cons_remove(struct vs_port *port)
{
	struct hvc_struct *hp = rcu_dereference_protected(port->hvc, true);

	mutex_lock(&vs_cons_mutex);
	list_del_rcu(&port->cons_list);
	mutex_unlock(&vs_cons_mutex);
	RCU_INIT_POINTER(port->hvc, NULL);
	synchronize_rcu();	/* no callback still sees the port or @hp */
	if (hp)
		hvc_remove(hp);
	ida_free(&vs_vterm_ida, port->vtermno);
}

/**
 * vs_cons_resize() - record and apply a console size from the host
 * @port: the port
 * @cols: columns
 * @rows: rows
 *
 * Context: process, ports_mutex held.
 */
void vs_cons_resize(struct vs_port *port, u16 cols, u16 rows)
{
	struct hvc_struct *hp;

	WRITE_ONCE(port->cols, cols);
	WRITE_ONCE(port->rows, rows);
	rcu_read_lock();
	hp = rcu_dereference(port->hvc);
	if (hp)
		vs_apply_size(hp, port);
	rcu_read_unlock();
}

/**
 * vs_cons_rx() - console input arrived
 * @port: a console port
 *
 * Only wakes hvc's thread, which then reads the input through
 * vs_get_chars(); the input is never read from here with hvc_poll(), as
 * the in-tree driver does.  hvc publishes what it put into the tty flip
 * buffer (tty_flip_buffer_push()) after dropping its port lock, so two
 * contexts reading input at once (this interrupt and hvc's thread) can
 * publish a stale fill level of a buffer the other has already filled
 * and moved past: the tty layer then frees that buffer with the rest of
 * its bytes unread, and up to a buffer's worth of input vanishes from
 * the middle of the stream, in 16-byte steps (hvc reads 16 at a time).
 * console_flow's getty variant lost 32 to 224 bytes that way in about 1
 * run in 7 on both drivers; with one reader there is nobody to race.
 *
 * Context: any (rx virtqueue callback).
 */
void vs_cons_rx(struct vs_port *port)
{
	hvc_kick();
}

/**
 * vs_cons_tx_done() - console output space was freed
 * @port: a console port
 *
 * Lets hvc push output it held back while the ring was full.
 *
 * Context: any.
 */
void vs_cons_tx_done(struct vs_port *port)
{
	hvc_kick();
}
