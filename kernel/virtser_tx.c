// SPDX-License-Identifier: GPL-2.0
/*
 * The transmit virtqueue of a port: queue, kick, reclaim, arm, zero-copy
 * settle, detach.
 *
 * Discipline: while a port owns its transmit queue (from vs_port_add() or
 * restore until vs_tx_detach()), every use of the queue, including the
 * notify, happens under the port's outvq_lock, with @out_vq read under
 * it.  So detach, which clears @out_vq under the lock, waits for every
 * path still using the queue, and removal can free the queue after it.
 * write() and hvc's put_chars both queue through vs_tx_queue().
 *
 * Finished buffers are normally reclaimed by the next write, so a stream
 * of small writes takes no interrupt at all (the in-tree driver polls
 * instead).  An interrupt is armed only when more than VS_TX_LAZY bytes
 * are in flight, so a writer that stops does not leave megabytes of used
 * pages behind, when a console waits for space, or when a writer or
 * poller is about to sleep for room.
 */
#include "virtser_internal.h"

/*
 * outvq_lock held.
 *
 * Why tx_inflight is clamped: a buffer back from the queue need not be
 * one this port counted.  vs_tx_detach() leaves what is still in flight
 * on the queue, and a port plugged again at the same id (vs_port_add())
 * takes the queue over with tx_inflight at 0, so the previous port's
 * buffers come back to an owner that never added their length.  Without
 * the clamp the size_t would wrap to near SIZE_MAX, and vs_tx_room_locked()
 * would then see the in-flight limit reached for good: every write would
 * block forever.  With it the count may, until the previous port's
 * buffers are all back, be short by at most what that port left in flight
 * (itself at most VS_TX_INFLIGHT_MAX); that only lets the new port queue
 * that much more for a while, and the ring still bounds what is in
 * flight.  A restore (vs_tx_attach()) starts from a reset ring, so there
 * the count is exact.
 */
static void vs_tx_reclaim_locked(struct vs_port *port)
{
	struct vs_buf *buf;
	unsigned int len;

	while (port->out_vq && (buf = virtqueue_get_buf(port->out_vq, &len))) {
		/*
		 * Back from the device (and unmapped): ours; its pages go
		 * to the cache if it was allocated for this port and a file
		 * is open.  A port nobody has open keeps no pages: release
		 * clears guest_connected, reclaims under this lock (so a
		 * reclaim that still saw it set has finished) and only then
		 * empties the cache.
		 */
		port->tx_inflight -= min(port->tx_inflight, buf->len);
		port->outvq_full = false;
		port->cons_stalled = false;
		port->tx_nomap = false;	/* its bounce space is free again */
		if (READ_ONCE(port->guest_connected))
			vs_tx_cache_put(&port->tx_cache, buf);
		else
			vs_buf_free_used(buf);
	}
}

/*
 * Ask for a transmit interrupt once about three quarters of the buffers in
 * flight are used (virtqueue_enable_cb_delayed() with event-index
 * support), reclaiming whatever came back while callbacks were off.
 * outvq_lock held.
 *
 * No loop here may depend on the device: on 6.1 enable_cb_delayed()
 * ignores a broken ring and keeps reporting the used entries that
 * virtqueue_get_buf() refuses to return (after virtio_break_device() at
 * removal, or a bogus used entry).  So a broken ring ends it, and so does
 * a pass that reclaimed nothing; every other pass frees a buffer the
 * driver added, so there are at most as many passes as the ring has
 * entries.  Stopping early leaves callbacks enabled; waiters recheck on
 * their next wake-up, and removal wakes them.
 */
static void vs_tx_arm_locked(struct vs_port *port)
{
	unsigned int before;

	while (port->out_vq && !virtqueue_is_broken(port->out_vq) &&
	       !virtqueue_enable_cb_delayed(port->out_vq)) {
		before = port->out_vq->num_free;
		vs_tx_reclaim_locked(port);
		if (!port->out_vq || port->out_vq->num_free == before)
			break;
	}
}

/* outvq_lock held: arm only when it is needed (see the file comment). */
static void vs_tx_arm_if_needed(struct vs_port *port)
{
	if (port->tx_inflight > VS_TX_LAZY || port->cons_stalled ||
	    port->tx_nomap)
		vs_tx_arm_locked(port);
}

/* outvq_lock held. */
static bool vs_tx_room_locked(struct vs_port *port)
{
	return port->out_vq && port->out_vq->num_free && !port->tx_nomap &&
	       port->tx_inflight < VS_TX_INFLIGHT_MAX;
}

/*
 * outvq_lock held.  virtqueue_add_outbuf() failed with -ENOMEM: it maps
 * buffers with the DMA API once the device has ACCESS_PLATFORM, and under
 * swiotlb (SEV, TDX, swiotlb=force) the bounce pool can be full.  While
 * buffers are in flight on the queue their return frees bounce space, so
 * this is a full ring: no room until one is back (-ENOSPC, callers wait
 * or back-pressure as for a full ring).  With nothing in flight, waiting
 * for the device cannot help: -ENOMEM, the caller tries a smaller buffer.
 */
static int vs_tx_map_failed_locked(struct vs_port *port)
{
	port->tx_map_failed++;
	if (port->out_vq->num_free == virtqueue_get_vring_size(port->out_vq))
		return -ENOMEM;
	port->tx_nomap = true;
	return -ENOSPC;
}

/* outvq_lock held. */
static void vs_tx_kick_locked(struct vs_port *port)
{
	if (port->out_vq && virtqueue_kick_prepare(port->out_vq))
		virtqueue_notify(port->out_vq);
}

/**
 * vs_tx_queue() - hand one buffer to the device
 * @port: the port
 * @buf: the buffer; on success the virtqueue owns it
 * @flags: VS_TX_KICK: kick now (else the caller calls vs_tx_kick() after
 *	its last buffer); VS_TX_CONSOLE: hvc's put_chars, see below;
 *	VS_TX_LAST: with VS_TX_CONSOLE, the caller's last try
 *
 * What the device consumed is reclaimed first.  A buffer that cannot be
 * DMA-mapped while others are in flight counts as a full ring (see
 * vs_tx_map_failed_locked()).  For a console, a full ring on the last
 * try, or while the console is already stalled, marks it stalled and arms
 * the interrupt (vs_tx_intr() clears it), and fails with -EAGAIN:
 * put_chars then returns 0 at once, and hvc keeps the chunk.
 *
 * Context: any.
 * Return: 0; -ENODEV (no queue, unplugged); -ENOSPC (ring, in-flight
 * limit or bounce pool full); -EAGAIN (console stalled); -ENOMEM (a
 * mapping failed with nothing in flight); -EIO (broken ring).
 */
int vs_tx_queue(struct vs_port *port, struct vs_buf *buf, unsigned int flags)
{
	unsigned long lflags;
	int err;

	spin_lock_irqsave(&port->outvq_lock, lflags);
	vs_tx_reclaim_locked(port);
	if (!port->out_vq || READ_ONCE(port->unplugged)) {
		err = -ENODEV;
	} else if (port->tx_inflight >= VS_TX_INFLIGHT_MAX) {
		err = -ENOSPC;
	} else {
		err = virtqueue_add_outbuf(port->out_vq, buf->sg, buf->nr_sg,
					   buf, GFP_ATOMIC);
		if (!err) {
			port->tx_inflight += buf->len;
			port->bytes_sent += buf->len;
			if (flags & VS_TX_KICK)
				vs_tx_kick_locked(port);
		} else if (vs_add_unmapped(port->out_vq, err)) {
			err = vs_tx_map_failed_locked(port);
		}
		port->outvq_full = err == -ENOSPC || !port->out_vq->num_free;
	}
	if (err == -ENOSPC && (flags & VS_TX_CONSOLE) &&
	    (port->cons_stalled || (flags & VS_TX_LAST))) {
		port->cons_stalled = true;
		err = -EAGAIN;
	}
	if (!err || err == -EAGAIN)
		vs_tx_arm_if_needed(port);
	spin_unlock_irqrestore(&port->outvq_lock, lflags);
	return err;
}

/**
 * vs_tx_kick() - tell the device about buffers queued without VS_TX_KICK
 * @port: the port
 *
 * Context: any.
 */
void vs_tx_kick(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_tx_kick_locked(port);
	spin_unlock_irqrestore(&port->outvq_lock, flags);
}

/**
 * vs_tx_reclaim() - free transmit buffers the device has consumed
 * @port: the port
 *
 * Context: any.
 */
void vs_tx_reclaim(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_tx_reclaim_locked(port);
	spin_unlock_irqrestore(&port->outvq_lock, flags);
}

/**
 * vs_tx_room() - reclaim, and tell whether a transmit buffer fits
 * @port: the port
 *
 * When it does not, the transmit interrupt is armed before returning, so
 * a writer or poller that goes to sleep on this answer is woken when the
 * device hands space back.
 *
 * Context: any.
 * Return: true if a buffer can be queued now.
 */
bool vs_tx_room(struct vs_port *port)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_tx_reclaim_locked(port);
	room = vs_tx_room_locked(port);
	if (!room) {
		vs_tx_arm_locked(port);
		room = vs_tx_room_locked(port);
	}
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	return room;
}

/**
 * vs_tx_intr() - transmit virtqueue callback body
 * @port: the port (the caller holds a reference)
 *
 * Frees what the device consumed and wakes writers and pollers.  The
 * callback stays off unless more than VS_TX_LAZY bytes are still in
 * flight or a console is stalled: a sleeper re-arms it through
 * vs_tx_room() when it finds no room.  A console's hvc is the caller's
 * to kick.
 *
 * Context: any (virtqueue callback).
 */
void vs_tx_intr(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	if (port->out_vq) {
		virtqueue_disable_cb(port->out_vq);
		vs_tx_reclaim_locked(port);
		vs_tx_arm_if_needed(port);
	}
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	wake_up(&port->waitqueue);	/* zero-copy writers sleep killable */
}

/**
 * vs_tx_zc_settled() - wait condition of a zero-copy writer
 * @port: the port
 * @zc: the write
 *
 * Reclaims what the device used and, while buffers of @zc are still out,
 * arms the transmit interrupt; vs_tx_intr() wakes the writer, which
 * comes back here.
 *
 * Context: any (called between prepare_to_wait and schedule).
 * Return: true once every buffer of @zc is back or the port is gone.
 */
bool vs_tx_zc_settled(struct vs_port *port, struct vs_zc *zc)
{
	unsigned long flags;

	if (atomic_read(&zc->pending) && !READ_ONCE(port->unplugged)) {
		spin_lock_irqsave(&port->outvq_lock, flags);
		vs_tx_reclaim_locked(port);
		if (atomic_read(&zc->pending))
			vs_tx_arm_locked(port);
		spin_unlock_irqrestore(&port->outvq_lock, flags);
	}
	return !atomic_read(&zc->pending) || READ_ONCE(port->unplugged);
}

/**
 * vs_tx_attach() - give the port its transmit queue (restore)
 * @port: the port, which has none
 * @vq: the queue; whatever was in flight was dropped by the reset
 *
 * Context: any.
 */
void vs_tx_attach(struct vs_port *port, struct virtqueue *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	port->out_vq = vq;
	port->tx_inflight = 0;
	port->tx_nomap = false;
	spin_unlock_irqrestore(&port->outvq_lock, flags);
}

/**
 * vs_tx_detach() - the port lets go of its transmit queue
 * @port: the port
 *
 * Reclaims what is back, then forgets the queue and frees the port's
 * cached pages (unplug, freeze and removal all come here).  Taking outvq_lock waits
 * for every path still using it (a notify included), and none uses it
 * afterwards; buffers still in flight stay with the queue for its next
 * owner (see vs_rx_detach()).
 *
 * Context: any.
 */
void vs_tx_detach(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_tx_reclaim_locked(port);
	port->out_vq = NULL;
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	/* Nothing comes back to the cache without the queue. */
	vs_tx_cache_drop(&port->tx_cache);
}

/**
 * vs_tx_stats() - the transmit half of vs_port_stats
 * @port: the port
 * @st: its transmit fields are filled in
 *
 * Context: any.
 */
void vs_tx_stats(struct vs_port *port, struct vs_port_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	st->outvq_full = port->outvq_full;
	st->bytes_sent = port->bytes_sent;
	st->tx_inflight = port->tx_inflight;
	st->tx_map_failed = port->tx_map_failed;
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	st->tx_cached = vs_tx_cache_bytes(&port->tx_cache);
}
