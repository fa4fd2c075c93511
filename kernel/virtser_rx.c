// SPDX-License-Identifier: GPL-2.0
/*
 * The receive virtqueue of a port: fill, interrupt, take, re-post,
 * discard, detach, and keeping the filled buffers across a freeze.
 *
 * Discipline: while a port owns its receive queue (from vs_port_add() or
 * restore until vs_rx_detach(), or vs_rx_freeze() at a freeze), every use
 * of the queue, including the notify, happens under the port's inbuf_lock,
 * with @in_vq read under it.
 * So a path that finds @in_vq set may use it until it drops the lock, and
 * detach, which clears it under the lock, waits for every such path.
 * Nothing here tells anyone that data arrived: the functions that move
 * buffers to @rxq return whether they did, and their caller notifies
 * (vs_port_data_arrived()), except hvc's get_chars, which must not.
 *
 * Receive buffers are one page each.  They are posted only once a port is
 * first opened (or becomes a console), not when it is added: a port that
 * is never opened costs no receive memory.
 *
 * A buffer the device gives back is posted again at once; when that fails
 * because it cannot be DMA-mapped (a full swiotlb bounce pool, as under
 * SEV or TDX while writes hold the pool), the port keeps it on @rx_spare
 * and tries again at the next interrupt or read, and from @rx_retry every
 * RX_RETRY_DELAY meanwhile: freeing it, as before, shrank the ring for
 * good, and once every buffer had failed once the port received nothing
 * more until it was closed and opened again.
 */
#include <linux/uio.h>

#include "virtser_internal.h"

/* inbuf_lock held; kicks at once if the device wants it. */
static void vs_rx_kick_locked(struct vs_port *port)
{
	if (port->in_vq && virtqueue_kick_prepare(port->in_vq))
		virtqueue_notify(port->in_vq);
}

#define RX_RETRY_MIN	(HZ / 20)
#define RX_RETRY_MAX	HZ

/*
 * inbuf_lock held.  Gives @buf to the device: 0; or, when it cannot be
 * DMA-mapped now, keeps it on @rx_spare and arms @rx_retry: -EAGAIN; or
 * frees it (the queue is gone or broken): another negative error.
 */
static int vs_rx_post_locked(struct vs_port *port, struct vs_buf *buf)
{
	int err = -ENODEV;

	buf->len = 0;
	buf->offset = 0;
	if (port->in_vq)
		err = virtqueue_add_inbuf(port->in_vq, buf->sg, 1, buf, GFP_ATOMIC);
	if (!err)
		return 0;	/* the virtqueue owns @buf now */
	if (port->in_vq && vs_add_unmapped(port->in_vq, err)) {
		list_add_tail(&buf->list, &port->rx_spare);	/* the port's */
		port->rx_nspare++;
		port->rx_map_failed++;
		schedule_delayed_work(&port->rx_retry, port->rx_retry_delay);
		return -EAGAIN;
	}
	vs_buf_free(buf);
	return err;
}

/*
 * inbuf_lock held; posts what it can of @rx_spare and returns whether any
 * went to the device.  The first that cannot be mapped goes back on the
 * list (vs_rx_post_locked()), and the rest wait with it.
 */
static bool vs_rx_post_spares_locked(struct vs_port *port)
{
	unsigned int n = port->rx_nspare;
	struct vs_buf *buf;
	bool kick = false;

	while (n-- && port->in_vq) {
		buf = list_first_entry(&port->rx_spare, struct vs_buf, list);
		list_del_init(&buf->list);	/* ours until posted */
		port->rx_nspare--;
		if (vs_rx_post_locked(port, buf))
			break;
		kick = true;
	}
	return kick;
}

static void vs_rx_retry_work(struct work_struct *work)
{
	struct vs_port *port = container_of(to_delayed_work(work),
					    struct vs_port, rx_retry);
	unsigned long flags;

	/*
	 * Receive interrupts are on unless unread data waits on @rxq (see
	 * vs_rx_intr()), whose reader re-posts, so a kick is all it takes.
	 */
	spin_lock_irqsave(&port->inbuf_lock, flags);
	if (port->rx_nspare) {
		/* Spares left over re-arm it: wait longer the next time. */
		port->rx_retry_delay = min(port->rx_retry_delay * 2,
					   (unsigned long)RX_RETRY_MAX);
		if (vs_rx_post_spares_locked(port))
			vs_rx_kick_locked(port);
		if (!port->rx_nspare)
			port->rx_retry_delay = RX_RETRY_MIN;
	}
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
}

/* inbuf_lock held, @in_vq just cleared: the spares go to @drop. */
static void vs_rx_drop_spares_locked(struct vs_port *port, struct list_head *drop)
{
	list_splice_tail_init(&port->rx_spare, drop);
	port->rx_nspare = 0;
}

/**
 * vs_rx_init() - the receive side of a new port
 * @port: the port, not yet visible to anyone
 *
 * Context: any.
 */
void vs_rx_init(struct vs_port *port)
{
	INIT_LIST_HEAD(&port->rxq);
	INIT_LIST_HEAD(&port->rx_spare);
	INIT_DELAYED_WORK(&port->rx_retry, vs_rx_retry_work);
	port->rx_retry_delay = RX_RETRY_MIN;
}

/*
 * inbuf_lock held; @buf came back from the device with @used bytes and
 * the port owns it.  Queues it on @rxq for the reader and returns true,
 * or returns false when it carries nothing to keep (the caller gives it
 * back or frees it).  A too-long used length is clamped; the first one
 * is left in *@bad for the caller to report after unlocking.
 */
static bool vs_rx_used_locked(struct vs_port *port, struct vs_buf *buf,
			      unsigned int used, unsigned int *bad)
{
	u32 len;

	port->bytes_received += used;
	if (vs_used_len(used, buf->size, &len) && !port->rx_overflow_warned) {
		port->rx_overflow_warned = true;
		*bad = used;
	}
	if (!vs_rx_keep(len, port->guest_connected, vs_keep_unread)) {
		port->bytes_discarded += len;
		return false;
	}
	buf->len = len;
	buf->offset = 0;
	list_add_tail(&buf->list, &port->rxq);
	port->rx_bytes += len;
	return true;
}

/* Never print with inbuf_lock held: see vs_rx_intr(). */
static void vs_rx_warn_len(struct vs_port *port, unsigned int bad)
{
	if (bad)
		dev_warn(&port->vsdev->vdev->dev,
			 "port %u: device used %u bytes of a %lu-byte buffer\n",
			 port->id, bad, PAGE_SIZE);
}

/**
 * vs_rx_intr() - move filled buffers from the receive queue to @rxq
 * @port: the port (the caller holds a reference)
 *
 * Data for a port nobody has open is dropped and counted, as the in-tree
 * driver does, unless the keep_unread parameter asks to keep it; then the
 * buffers are simply not re-posted, so the host runs out of room and stops
 * sending (the memory kept is bounded by the ring size).
 *
 * Context: any; takes inbuf_lock.  Tells nobody.
 * Return: whether data arrived; the caller then notifies.
 */
bool vs_rx_intr(struct vs_port *port)
{
	struct vs_buf *buf;
	unsigned long flags;
	bool kick = false, got = false;
	unsigned int used, bad = 0;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	while (port->in_vq &&
	       (buf = virtqueue_get_buf(port->in_vq, &used))) {
		/* The port owns @buf now. */
		if (vs_rx_used_locked(port, buf, used, &bad))
			got = true;
		else
			kick |= !vs_rx_post_locked(port, buf);
	}
	/* A buffer came back: it may have given back its bounce space. */
	if (port->rx_nspare)
		kick |= vs_rx_post_spares_locked(port);
	/*
	 * While unread data is queued a reader will come back for more, so
	 * the buffers the device fills meanwhile need no interrupt each (one
	 * per 4 KiB otherwise).  vs_rx_take() turns interrupts back on when
	 * a reader empties the queue.  Console ports are read by hvc in
	 * atomic context and keep them.
	 */
	if (port->in_vq && !list_empty(&port->rxq) && !READ_ONCE(port->is_console))
		virtqueue_disable_cb(port->in_vq);
	if (kick)
		vs_rx_kick_locked(port);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	/*
	 * Never print with inbuf_lock held: on a console port printk may
	 * come straight back into this port's put_chars.
	 */
	vs_rx_warn_len(port, bad);
	return got;
}

/*
 * Re-post @done and, if the unread queue is empty, turn receive
 * interrupts back on.  Returns true when the device filled buffers while
 * they were off: no interrupt will come for those.
 */
static bool vs_rx_repost(struct vs_port *port, struct list_head *done)
{
	struct vs_buf *buf, *tmp;
	unsigned long flags;
	bool kick = false, more = false;

	if (list_empty(done))
		return false;
	spin_lock_irqsave(&port->inbuf_lock, flags);
	if (port->rx_nspare)
		kick |= vs_rx_post_spares_locked(port);
	list_for_each_entry_safe(buf, tmp, done, list) {
		list_del_init(&buf->list);
		kick |= !vs_rx_post_locked(port, buf);
	}
	if (kick)
		vs_rx_kick_locked(port);
	/* The queue is empty: interrupts back on (see vs_rx_intr()). */
	if (port->in_vq && list_empty(&port->rxq))
		more = !virtqueue_enable_cb(port->in_vq);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	return more;
}

/**
 * vs_rx_fill() - post receive buffers until the virtqueue is full
 * @port: the port
 * @gfp: allocation flags
 * @arrived: set if buffers used before (the port that had this id before
 *	may have left interrupts off on the shared queue) were collected
 *
 * A port holds about one ring of receive buffers: buffers still on @rxq
 * (kept across a freeze, or unread) or @rx_spare count against the ring,
 * and are re-posted as they are read.  Posting a full ring beside them
 * let each freeze/restore of a port nobody read add one more ring of the
 * host's data to the guest's memory.  (Not exactly one: what the device
 * fills while this runs, and what a reader holds, is not counted.)  A
 * buffer that cannot be DMA-mapped now waits on @rx_spare, as at re-post.
 *
 * Context: process (with GFP_KERNEL).
 * Return: 0 if at least one buffer is posted or kept for the device, or
 * none is wanted, else a negative error.
 */
int vs_rx_fill(struct vs_port *port, gfp_t gfp, bool *arrived)
{
	struct vs_buf *buf;
	unsigned long flags;
	bool posted = false, kept = false, more = false;
	unsigned int room = 0;
	int err = 0;

	*arrived = false;
	spin_lock_irqsave(&port->inbuf_lock, flags);
	if (port->in_vq) {
		room = virtqueue_get_vring_size(port->in_vq);
		room -= min(room, port->rx_nspare);
		list_for_each_entry(buf, &port->rxq, list)
			if (room && !--room)
				break;
	} else {
		err = -ENODEV;
	}
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	if (err)
		return err;
	if (!room)
		return 0;
	while (room--) {
		buf = vs_buf_alloc_rx(gfp);
		if (!buf) {
			err = -ENOMEM;
			break;
		}
		/* The device's or, if it cannot be mapped now, @rx_spare's. */
		spin_lock_irqsave(&port->inbuf_lock, flags);
		err = vs_rx_post_locked(port, buf);
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		if (err && err != -EAGAIN)
			break;
		posted |= !err;
		kept |= err == -EAGAIN;
	}
	if (posted || kept) {
		spin_lock_irqsave(&port->inbuf_lock, flags);
		vs_rx_kick_locked(port);
		/* Receive interrupts on, as the port starts receiving. */
		more = port->in_vq && list_empty(&port->rxq) &&
		       !virtqueue_enable_cb(port->in_vq);
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
	}
	if (more)
		*arrived = vs_rx_intr(port);
	if (posted || kept || err == -ENOSPC)
		return 0;
	return err;
}

/*
 * inbuf_lock held.  The reader gives back @buf, which it took off @rxq to
 * copy from and did not finish: to the head of @rxq, where the next read
 * goes on from its offset, or, once the port is unplugged (the detach ran
 * while the reader copied), to nobody: its unread bytes are discarded.
 */
static void vs_rx_give_back_locked(struct vs_port *port, struct vs_buf *buf)
{
	size_t left = buf->len - buf->offset;

	if (READ_ONCE(port->unplugged)) {
		port->bytes_discarded += left;
		port->rx_bytes -= left;
		vs_buf_free(buf);
		return;
	}
	list_add(&buf->list, &port->rxq);	/* the port owns it again */
}

/* The most one vs_rx_take() copies, as VS_WRITE_MAX bounds a write. */
#define VS_RX_TAKE_MAX	(4U << 20)

/**
 * vs_rx_take() - copy unread data out and give consumed buffers back
 * @port: the port; the caller is its only reader: it holds read_mutex
 *	(generic ports) or is hvc's get_chars, which hvc serialises per
 *	console (console ports cannot be opened)
 * @to: destination, advanced by the bytes copied
 * @arrived: set if the re-post found buffers filled while receive
 *	interrupts were off and moved them to @rxq; the caller notifies
 *	(hvc's get_chars does not: hvc reads until it gets 0)
 *
 * A copy to user memory may fault and wait as long as the memory takes
 * (FUSE, NFS, userfaultfd), so it is done with no lock that anyone else
 * waits for: the reader takes the head buffer off @rxq under inbuf_lock,
 * owns it during the copy, and then either hands it to the consumed batch
 * or gives back what is left (vs_rx_give_back_locked()).  Detach (unplug,
 * freeze) therefore never waits for a reader; other readers still wait on
 * read_mutex, so reads stay in order.  While the reader holds the buffer
 * its unread bytes stay in rx_bytes, and the offset moves only under
 * inbuf_lock.  A console's copy is to hvc's kernel buffer and is done
 * under inbuf_lock, with the buffer left on @rxq.  Consumed buffers go
 * back to the device, with one kick, each time a quarter of the ring's
 * worth is consumed, and the rest at the end: a read larger than the
 * ring used to give nothing back until it ended, so the device, its ring
 * empty, sat idle while the reader copied (128 buffers, 512 KiB, on
 * QEMU's and vtdev's rings).
 *
 * Context: process for generic ports (may fault); any for consoles.
 * Return: bytes copied, -EFAULT when the first copy faulted, 0 when the
 * queue was empty (with two readers, the other took the data that woke
 * this one: not end of file).
 */
ssize_t vs_rx_take(struct vs_port *port, struct iov_iter *to, bool *arrived)
{
	bool atomic = READ_ONCE(port->is_console);
	size_t done = 0, n, got;
	struct vs_buf *buf;
	unsigned long flags;
	unsigned int nconsumed = 0, batch = 0;
	bool faulted = false;
	LIST_HEAD(consumed);

	*arrived = false;
	while (iov_iter_count(to)) {
		spin_lock_irqsave(&port->inbuf_lock, flags);
		buf = list_first_entry_or_null(&port->rxq, struct vs_buf, list);
		if (!buf) {
			spin_unlock_irqrestore(&port->inbuf_lock, flags);
			break;
		}
		if (!batch && port->in_vq)
			batch = max(virtqueue_get_vring_size(port->in_vq) / 4, 1U);
		n = min(buf->len - buf->offset, iov_iter_count(to));
		if (atomic) {
			got = copy_to_iter(buf->data + buf->offset, n, to);
		} else {
			list_del_init(&buf->list);	/* the reader's now */
			spin_unlock_irqrestore(&port->inbuf_lock, flags);
			got = copy_to_iter(buf->data + buf->offset, n, to);
			spin_lock_irqsave(&port->inbuf_lock, flags);
		}
		buf->offset += got;
		port->rx_bytes -= got;
		if (buf->offset == buf->len) {
			list_move_tail(&buf->list, &consumed);	/* ours now */
			nconsumed++;
		} else if (!atomic) {
			vs_rx_give_back_locked(port, buf);
		}
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		done += got;
		if (got < n) {
			faulted = true;
			break;
		}
		/*
		 * Mid-read, the device gets its buffers back while this
		 * reader goes on copying.  Should @rxq have run dry, the
		 * re-post turns interrupts on, and what the device filled
		 * meanwhile is collected here and read by this same call.
		 * That could go on as long as the host sends, so one call
		 * takes at most VS_RX_TAKE_MAX, and a reader gives the CPU
		 * up between batches.  (*arrived may then wake others for
		 * data this call reads itself: harmless, and what it leaves
		 * at the cap is announced.)
		 */
		if (batch && nconsumed >= batch && iov_iter_count(to)) {
			nconsumed = 0;
			if (done >= VS_RX_TAKE_MAX)
				break;
			if (vs_rx_repost(port, &consumed) && vs_rx_intr(port))
				*arrived = true;
			if (!atomic)
				cond_resched();
		}
	}
	if (vs_rx_repost(port, &consumed) && vs_rx_intr(port))
		*arrived = true;
	if (!done && faulted)
		return -EFAULT;
	return done;
}

/**
 * vs_rx_discard() - drop all unread data and re-post the buffers
 * @port: the port; the caller holds read_mutex
 * @arrived: as for vs_rx_take()
 *
 * Context: any.
 */
void vs_rx_discard(struct vs_port *port, bool *arrived)
{
	unsigned long flags;
	LIST_HEAD(done);

	*arrived = false;
	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->bytes_discarded += port->rx_bytes;
	port->rx_bytes = 0;
	list_splice_init(&port->rxq, &done);	/* we own them now */
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	if (vs_rx_repost(port, &done))
		*arrived = vs_rx_intr(port);
}

/**
 * vs_rx_attach() - give the port its receive queue (restore)
 * @port: the port, which has none
 * @vq: the queue
 *
 * Context: any.
 */
void vs_rx_attach(struct vs_port *port, struct virtqueue *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->in_vq = vq;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
}

/**
 * vs_rx_unread() - does unread data wait for the reader?
 * @port: the port
 *
 * Restore asks, to notify for the data vs_rx_freeze() kept: the reader
 * may have gone to sleep before the freeze with that data still on the
 * ring, where no interrupt will ever report it now.
 *
 * Context: any.
 */
bool vs_rx_unread(struct vs_port *port)
{
	unsigned long flags;
	bool unread;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	unread = !list_empty(&port->rxq);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	return unread;
}

/**
 * vs_rx_freeze() - keep what the device delivered, then let go of the queue
 * @port: the port
 *
 * Called at freeze after the reset, so the device writes no more and every
 * buffer it marked used is complete: those move to @rxq behind the unread
 * data already there (the current buffer's unconsumed part included), by
 * the rule vs_rx_intr() applies, and read(), poll and hvc's get_chars find
 * them after restore in the order the device gave them, ahead of what the
 * new queue brings.  Buffers only made available carry nothing; they stay
 * with the queue and the reset's owner frees them (vs_vq_free_all()).
 *
 * Only appends to @rxq, so it needs no read_mutex and does not wait for a
 * reader; like vs_rx_detach(), clearing @in_vq under the lock waits for
 * every path still using the queue.  The kept data is bounded by the ring
 * size: a buffer is on the ring or on @rxq, never both.  After restore,
 * vs_rx_fill() posts only what the new ring has room for beside them, and
 * the kept buffers go back to the device as they are read.  A port the
 * restore's
 * reconciliation removes takes its kept data with it (vs_rx_detach(),
 * counted as discarded).  A device broken before the freeze returns
 * nothing here (virtqueue_get_buf() refuses), and what it filled is freed
 * with the queue.
 *
 * Context: process, with the device reset; takes inbuf_lock.
 */
void vs_rx_freeze(struct vs_port *port)
{
	struct vs_buf *buf, *tmp;
	unsigned long flags;
	unsigned int used, bad = 0;
	LIST_HEAD(drop);

	spin_lock_irqsave(&port->inbuf_lock, flags);
	while (port->in_vq &&
	       (buf = virtqueue_get_buf(port->in_vq, &used))) {
		/* The port owns @buf now; a reset device takes none back. */
		if (!vs_rx_used_locked(port, buf, used, &bad))
			list_add_tail(&buf->list, &drop);
	}
	port->in_vq = NULL;
	vs_rx_drop_spares_locked(port, &drop);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	cancel_delayed_work_sync(&port->rx_retry);
	list_for_each_entry_safe(buf, tmp, &drop, list)
		vs_buf_free(buf);
	vs_rx_warn_len(port, bad);
}

/**
 * vs_rx_detach() - the port lets go of its receive queue
 * @port: the port; the caller holds ports_mutex (unplug) or has
 *	removed the console from hvc.  A reader may be inside vs_rx_take()
 *	with a buffer it took off @rxq: detach does not wait for it (its copy
 *	may wait for a page for ever); that buffer stays the reader's, and
 *	its bytes in rx_bytes, until the reader hands it on.
 *
 * Taking inbuf_lock waits for every path still using the queue, and none
 * uses it afterwards.  Buffers still posted stay with the queue: the next
 * owner (vs_dev's orphan drain, a port added at the same id, or the reset
 * at removal) gets them.  Unread data on @rxq is dropped and counted.  A
 * freeze uses vs_rx_freeze() instead, which keeps it.
 *
 * Context: process (it waits for @rx_retry to finish).
 */
void vs_rx_detach(struct vs_port *port)
{
	struct vs_buf *buf, *tmp;
	unsigned long flags;
	size_t dropped = 0;
	LIST_HEAD(done);

	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->in_vq = NULL;
	list_splice_init(&port->rxq, &done);
	list_for_each_entry(buf, &done, list)
		dropped += buf->len - buf->offset;
	port->bytes_discarded += dropped;
	port->rx_bytes -= dropped;
	vs_rx_drop_spares_locked(port, &done);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	/* With @in_vq clear nothing arms it again. */
	cancel_delayed_work_sync(&port->rx_retry);
	list_for_each_entry_safe(buf, tmp, &done, list)
		vs_buf_free(buf);
}

/**
 * vs_rx_stats() - the receive half of vs_port_stats
 * @port: the port
 * @st: its receive fields are filled in
 *
 * Context: any.
 */
void vs_rx_stats(struct vs_port *port, struct vs_port_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	st->guest_connected = port->guest_connected;
	st->bytes_received = port->bytes_received;
	st->bytes_discarded = port->bytes_discarded;
	st->rx_bytes = port->rx_bytes;
	st->rx_map_failed = port->rx_map_failed;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
}
