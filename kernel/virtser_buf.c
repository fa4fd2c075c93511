// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers handed to the device, and their return.
 *
 * Receive buffers are one page each.  They are posted only once a port is
 * first opened (or becomes a console), not when it is added: a port that
 * is never opened costs no receive memory.  Transmit buffers are built from
 * pages described by a scatterlist, so a 256 KiB write is one virtqueue
 * entry (one indirect descriptor) that never depends on a high-order
 * allocation.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "virtser_internal.h"

static struct vs_buf *vs_buf_alloc_sg(unsigned int nents, gfp_t gfp)
{
	struct vs_buf *buf;

	buf = kzalloc(struct_size(buf, sg, nents), gfp);
	if (!buf)
		return NULL;
	INIT_LIST_HEAD(&buf->list);
	sg_init_table(buf->sg, nents);
	return buf;
}

/**
 * vs_buf_alloc_data() - allocate a single-segment kernel buffer
 * @size: capacity in bytes
 * @gfp: allocation flags
 *
 * Context: any, according to @gfp.
 * Return: the buffer, or NULL.
 */
struct vs_buf *vs_buf_alloc_data(size_t size, gfp_t gfp)
{
	struct vs_buf *buf = vs_buf_alloc_sg(1, gfp);

	if (!buf)
		return NULL;
	buf->data = kmalloc(size, gfp);
	if (!buf->data) {
		kfree(buf);
		return NULL;
	}
	buf->size = size;
	sg_set_buf(buf->sg, buf->data, size);
	return buf;
}

/**
 * vs_buf_alloc_rx() - allocate one page-sized receive buffer
 * @gfp: allocation flags
 *
 * Context: any, according to @gfp.
 * Return: the buffer, or NULL.
 */
struct vs_buf *vs_buf_alloc_rx(gfp_t gfp)
{
	return vs_buf_alloc_data(PAGE_SIZE, gfp);
}

/*
 * Transmit segments are taken up to PAGE_ALLOC_COSTLY_ORDER (32 KiB) when
 * the page allocator has such a block at hand, without reclaim, compaction
 * or a warning, and are order-0 pages otherwise: no write ever depends on
 * a high-order allocation succeeding.  The larger segments matter to the
 * host: QEMU passes each descriptor of a virtio-serial buffer to its
 * chardev as a separate write(), so a 256 KiB buffer of order-0 pages
 * costs it 64 system calls, and one of 32 KiB segments 8.
 */
#define VS_TX_SEG_ORDER		PAGE_ALLOC_COSTLY_ORDER
#define VS_TX_SEG_GFP		((GFP_KERNEL | __GFP_COMP | __GFP_NOWARN | \
				  __GFP_NORETRY) & ~__GFP_DIRECT_RECLAIM)

static struct page *vs_tx_seg_alloc(size_t want, unsigned int *order)
{
	struct page *page;

	*order = 0;
	if (want > PAGE_SIZE) {
		*order = min_t(unsigned int, VS_TX_SEG_ORDER,
			       ilog2(want >> PAGE_SHIFT));
		page = alloc_pages(VS_TX_SEG_GFP, *order);
		if (page)
			return page;
		*order = 0;
	}
	return alloc_page(GFP_KERNEL);
}

/**
 * vs_buf_alloc_tx() - allocate a page-backed transmit buffer
 * @len: bytes needed, at most VS_TX_MAX_PAGES pages
 *
 * The scatterlist covers exactly @len bytes in segments of one to eight
 * pages (see VS_TX_SEG_ORDER), or in one kmalloc'd segment below a page;
 * vs_buf_fill_tx() shortens it when fewer bytes could be copied in.
 *
 * Context: process; may sleep.
 * Return: the buffer, or NULL.
 */
struct vs_buf *vs_buf_alloc_tx(size_t len)
{
	unsigned int n = DIV_ROUND_UP(len, PAGE_SIZE), order;
	struct vs_buf *buf;
	struct page *page;
	size_t done = 0, seg;

	if (!n || n > VS_TX_MAX_PAGES)
		return NULL;
	/*
	 * Less than a page is one kmalloc'd segment: with init_on_alloc (on
	 * in Debian's kernels) a page would be cleared in full for a few
	 * bytes, which shows in the round-trip time of small messages.
	 */
	if (len < PAGE_SIZE)
		return vs_buf_alloc_data(len, GFP_KERNEL);
	buf = vs_buf_alloc_sg(n, GFP_KERNEL);
	if (!buf)
		return NULL;
	buf->pages = kcalloc(n, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages)
		goto fail;
	while (done < len) {
		page = vs_tx_seg_alloc(len - done, &order);
		if (!page)
			goto fail;
		seg = min_t(size_t, len - done, PAGE_SIZE << order);
		buf->pages[buf->nr_pages] = page;
		sg_set_page(&buf->sg[buf->nr_pages], page, seg, 0);
		buf->nr_pages++;
		done += seg;
	}
	sg_mark_end(&buf->sg[buf->nr_pages - 1]);
	buf->size = len;
	return buf;
fail:
	vs_buf_free(buf);
	return NULL;
}

/**
 * vs_buf_fill_tx() - copy user data into a transmit buffer
 * @buf: buffer from vs_buf_alloc_tx()
 * @from: source iterator, advanced by the bytes copied
 *
 * On a partial copy (a fault part way) the scatterlist is shortened to the
 * bytes actually copied.
 *
 * Context: process; may fault.
 * Return: bytes copied (0 if nothing could be copied).
 */
size_t vs_buf_fill_tx(struct vs_buf *buf, struct iov_iter *from)
{
	size_t done = 0, want, got;
	unsigned int i;

	if (buf->data) {	/* a small write: one kmalloc'd segment */
		got = copy_from_iter(buf->data, buf->size, from);
		buf->sg[0].length = got;
		buf->nr_sg = got ? 1 : 0;
		buf->len = got;
		return got;
	}
	for (i = 0; i < buf->nr_pages; i++) {
		want = buf->sg[i].length;
		got = copy_page_from_iter(buf->pages[i], 0, want, from);
		done += got;
		if (got < want) {
			unsigned int used = got ? i + 1 : i;

			if (got)
				buf->sg[i].length = got;
			if (used)
				sg_mark_end(&buf->sg[used - 1]);
			buf->nr_sg = used;
			buf->len = done;
			return done;
		}
	}
	buf->nr_sg = buf->nr_pages;
	buf->len = done;
	return done;
}

/**
 * vs_zc_alloc() - start a zero-copy write
 * @port: the port written to; referenced until the last vs_zc_put()
 *
 * Context: process.
 * Return: the write's state holding the writer's reference, or NULL.
 */
struct vs_zc *vs_zc_alloc(struct vs_port *port)
{
	struct vs_zc *zc = kzalloc(sizeof(*zc), GFP_KERNEL);

	if (!zc)
		return NULL;
	refcount_set(&zc->ref, 1);
	kref_get(&port->kref);
	zc->port = port;
	return zc;
}

/**
 * vs_zc_put() - drop a reference to a zero-copy write
 * @zc: the write
 *
 * Context: any.
 */
void vs_zc_put(struct vs_zc *zc)
{
	if (refcount_dec_and_test(&zc->ref)) {
		vs_port_put(zc->port);
		kfree(zc);
	}
}

/*
 * One buffer of @zc is back, @sent bytes of it consumed (its length if the
 * device used it, 0 if it was dropped).  Drops the buffer's reference.
 */
static void vs_zc_buf_done(struct vs_zc *zc, size_t sent)
{
	atomic_long_add(sent, &zc->sent);
	if (atomic_dec_and_test(&zc->pending))
		wake_up(&zc->port->waitqueue);	/* the writer sleeps killable */
	vs_zc_put(zc);
}

/**
 * vs_buf_alloc_user() - a transmit buffer made of the writer's own pages
 * @from: user-backed source iterator, advanced by the bytes taken
 * @max_pages: most pages (and descriptors) the buffer may have
 * @max_seg: longest descriptor the DMA layer can map (vs_dev.max_seg)
 * @got: bytes taken, or a negative error
 *
 * Takes a reference on each page (iov_iter_get_pages2()); physically
 * adjacent pages share one descriptor of at most @max_seg bytes.  vs_buf_free() drops the
 * references.  The caller attaches the buffer to its &struct vs_zc.
 *
 * Context: process; may fault pages in.
 * Return: the buffer, or NULL with *@got set to the error.
 */
struct vs_buf *vs_buf_alloc_user(struct iov_iter *from, unsigned int max_pages,
				 size_t max_seg, ssize_t *got)
{
	unsigned int i, nsg = 0;
	struct vs_buf *buf;
	size_t start, left;
	ssize_t n;

	buf = vs_buf_alloc_sg(max_pages, GFP_KERNEL);
	if (buf)
		buf->pages = kcalloc(max_pages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf || !buf->pages) {
		vs_buf_free(buf);
		*got = -ENOMEM;
		return NULL;
	}
	n = iov_iter_get_pages2(from, buf->pages, (size_t)max_pages * PAGE_SIZE,
				max_pages, &start);
	if (n <= 0) {
		vs_buf_free(buf);
		*got = n ? n : -EFAULT;
		return NULL;
	}
	buf->nr_pages = DIV_ROUND_UP(start + n, PAGE_SIZE);
	left = n;
	for (i = 0; i < buf->nr_pages; i++) {
		size_t off = i ? 0 : start;
		size_t seg = min_t(size_t, left, PAGE_SIZE - off);
		struct scatterlist *prev = nsg ? &buf->sg[nsg - 1] : NULL;

		if (prev && prev->length + seg <= max_seg &&
		    page_to_pfn(buf->pages[i]) ==
			    page_to_pfn(buf->pages[i - 1]) + 1)
			prev->length += seg;
		else
			sg_set_page(&buf->sg[nsg++], buf->pages[i], seg, off);
		left -= seg;
	}
	sg_mark_end(&buf->sg[nsg - 1]);
	buf->nr_sg = nsg;
	buf->size = n;
	buf->len = n;
	*got = n;
	return buf;
}

/**
 * vs_buf_free() - free a buffer the caller owns
 * @buf: buffer, or NULL
 *
 * Context: any (no sleeping calls).
 */
void vs_buf_free(struct vs_buf *buf)
{
	unsigned int i;

	if (!buf)
		return;
	if (buf->zc) {
		vs_zc_buf_done(buf->zc, 0);
		buf->zc = NULL;
	}
	for (i = 0; i < buf->nr_pages; i++)
		put_page(buf->pages[i]);	/* a whole segment, any order */
	kfree(buf->pages);
	kfree(buf->data);
	kfree(buf);
}

/**
 * vs_buf_free_used() - free a transmit buffer the device used
 * @buf: buffer back from virtqueue_get_buf()
 *
 * Like vs_buf_free(), but a zero-copy write is told the bytes went out.
 *
 * Context: any.
 */
void vs_buf_free_used(struct vs_buf *buf)
{
	if (buf->zc) {
		vs_zc_buf_done(buf->zc, buf->len);
		buf->zc = NULL;
	}
	vs_buf_free(buf);
}

/* Called with port->inbuf_lock held; returns whether a kick is needed. */
static bool vs_port_post_rx_locked(struct vs_port *port, struct vs_buf *buf)
{
	buf->len = 0;
	buf->offset = 0;
	if (port->in_vq &&
	    !virtqueue_add_inbuf(port->in_vq, buf->sg, 1, buf, GFP_ATOMIC))
		return true;	/* the virtqueue owns @buf now */
	vs_buf_free(buf);
	return false;
}

/*
 * Receive interrupts on, as a port starts receiving: the port that had
 * this id before (hot-unplugged with unread data) may have left them off
 * on the shared virtqueue.  Buffers already used are collected now.
 */
static void vs_port_rx_rearm(struct vs_port *port)
{
	unsigned long flags;
	bool more;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	more = port->in_vq && list_empty(&port->rxq) &&
	       !virtqueue_enable_cb(port->in_vq);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	if (more)
		vs_port_rx_intr(port);
}

/**
 * vs_port_fill_rx() - post receive buffers until the virtqueue is full
 * @port: the port
 * @gfp: allocation flags
 *
 * Context: process (with GFP_KERNEL).
 * Return: 0 if at least one buffer is posted, else a negative error.
 */
int vs_port_fill_rx(struct vs_port *port, gfp_t gfp)
{
	struct virtqueue *kick_vq = NULL;
	struct vs_buf *buf;
	unsigned long flags;
	bool posted = false;
	int err = 0;

	for (;;) {
		buf = vs_buf_alloc_rx(gfp);
		if (!buf) {
			err = -ENOMEM;
			break;
		}
		spin_lock_irqsave(&port->inbuf_lock, flags);
		if (!port->in_vq) {
			err = -ENODEV;
		} else {
			err = virtqueue_add_inbuf(port->in_vq, buf->sg, 1, buf,
						  GFP_ATOMIC);
			if (!err) {
				posted = true;	/* the virtqueue owns @buf */
				buf = NULL;
				if (virtqueue_kick_prepare(port->in_vq))
					kick_vq = port->in_vq;
			}
		}
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		if (buf) {
			vs_buf_free(buf);
			break;
		}
	}
	if (kick_vq)
		virtqueue_notify(kick_vq);
	if (posted)
		vs_port_rx_rearm(port);
	if (posted || err == -ENOSPC)
		return 0;
	return err;
}

/*
 * Move filled buffers from the receive virtqueue to @port->rxq, without
 * telling anyone.  Data for a port nobody has open is dropped and counted,
 * as the in-tree driver does, unless the keep_unread parameter asks to
 * keep it; then the buffers are simply not re-posted, so the host runs out
 * of room and stops sending (the memory kept is bounded by the ring size).
 * Returns whether data arrived.
 */
static bool vs_port_rx_collect(struct vs_port *port)
{
	struct vs_buf *buf;
	unsigned long flags;
	bool kick = false, got = false, warn = false;
	unsigned int used, bad = 0;
	u32 len;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	while (port->in_vq &&
	       (buf = virtqueue_get_buf(port->in_vq, &used))) {
		/* The port owns @buf now. */
		port->bytes_received += used;
		if (vs_used_len(used, buf->size, &len) &&
		    !port->rx_overflow_warned) {
			port->rx_overflow_warned = true;
			warn = true;
			bad = used;
		}
		if (!len || (!port->guest_connected && !vs_keep_unread)) {
			port->bytes_discarded += len;
			kick |= vs_port_post_rx_locked(port, buf);
			continue;
		}
		buf->len = len;
		buf->offset = 0;
		list_add_tail(&buf->list, &port->rxq);
		port->rx_bytes += len;
		got = true;
	}
	/*
	 * While unread data is queued a reader will come back for more, so
	 * the buffers the device fills meanwhile need no interrupt each (one
	 * per 4 KiB otherwise).  vs_port_repost_rx() turns interrupts back on
	 * when a reader empties the queue.  Console ports are read by hvc in
	 * atomic context and keep them.
	 */
	if (port->in_vq && !list_empty(&port->rxq) && !READ_ONCE(port->is_console))
		virtqueue_disable_cb(port->in_vq);
	if (kick && !virtqueue_kick_prepare(port->in_vq))
		kick = false;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	/*
	 * Never print with inbuf_lock held: on a console port printk may
	 * come straight back into this port's put_chars.
	 */
	if (warn)
		dev_warn(&port->vsdev->vdev->dev,
			 "port %u: device used %u bytes of a %lu-byte buffer\n",
			 port->id, bad, PAGE_SIZE);
	if (kick)
		virtqueue_notify(port->in_vq);
	return got;
}

/**
 * vs_port_rx_intr() - take filled buffers from the receive virtqueue
 * @port: the port (the caller holds a reference)
 *
 * Filled buffers move to @port->rxq (see vs_port_rx_collect()); readers,
 * pollers, SIGIO owners and, for a console, hvc are told.
 *
 * Context: any (virtqueue callback), but never from hvc's get_chars or
 * put_chars: hvc calls those with its port lock held, and telling hvc
 * takes that lock again (see vs_port_repost_rx_quiet()).
 */
void vs_port_rx_intr(struct vs_port *port)
{
	if (!vs_port_rx_collect(port))
		return;
	wake_up_interruptible(&port->waitqueue);
	if (READ_ONCE(port->is_console))
		vs_cons_rx(port);
	vs_port_signal(port);
}

/*
 * Re-post @done and, if the unread queue is empty, turn receive
 * interrupts back on.  Returns true when the device filled buffers while
 * they were off: the caller must collect those itself, as no interrupt
 * will come for them.
 */
static bool __vs_port_repost_rx(struct vs_port *port, struct list_head *done)
{
	struct vs_buf *buf, *tmp;
	struct virtqueue *vq;
	unsigned long flags;
	bool kick = false, more = false;

	if (list_empty(done))
		return false;
	spin_lock_irqsave(&port->inbuf_lock, flags);
	list_for_each_entry_safe(buf, tmp, done, list) {
		list_del_init(&buf->list);
		kick |= vs_port_post_rx_locked(port, buf);
	}
	vq = port->in_vq;
	if (kick && !virtqueue_kick_prepare(vq))
		kick = false;
	/*
	 * The queue is empty: interrupts back on (see vs_port_rx_collect()).
	 * Buffers the device filled while they were off are collected now.
	 */
	if (vq && list_empty(&port->rxq))
		more = !virtqueue_enable_cb(vq);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	if (kick)
		virtqueue_notify(vq);
	return more;
}

/**
 * vs_port_repost_rx() - give consumed receive buffers back to the device
 * @port: the port
 * @done: list of buffers the caller owns; emptied
 *
 * Context: any but hvc's callbacks (see vs_port_repost_rx_quiet()).
 */
void vs_port_repost_rx(struct vs_port *port, struct list_head *done)
{
	if (__vs_port_repost_rx(port, done))
		vs_port_rx_intr(port);
}

/**
 * vs_port_repost_rx_quiet() - vs_port_repost_rx() for hvc's get_chars
 * @port: a console port
 * @done: list of buffers the caller owns; emptied
 *
 * hvc calls get_chars with its port lock held, and vs_cons_rx() (through
 * hvc_poll()) takes that lock: so buffers found filled when interrupts go
 * back on are only moved to @port->rxq here, nobody is told.  hvc's read
 * loop calls get_chars again until it returns 0, and whenever it stops
 * early it asks for another poll, so what is collected here is read.
 *
 * Context: any; no call back into hvc.
 * Return: whether data was collected.
 */
bool vs_port_repost_rx_quiet(struct vs_port *port, struct list_head *done)
{
	return __vs_port_repost_rx(port, done) && vs_port_rx_collect(port);
}

/**
 * vs_port_discard_rx() - drop all unread data and re-post the buffers
 * @port: the port; for generic ports the caller holds @port->read_mutex
 *
 * Context: any.
 */
void vs_port_discard_rx(struct vs_port *port)
{
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->bytes_discarded += port->rx_bytes;
	port->rx_bytes = 0;
	list_splice_init(&port->rxq, &done);	/* we own them now */
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	vs_port_repost_rx(port, &done);
}

/* Called with @port->outvq_lock held. */
static void vs_port_reclaim_tx_locked(struct vs_port *port)
{
	struct vs_buf *buf;
	unsigned int len;

	while (port->out_vq && (buf = virtqueue_get_buf(port->out_vq, &len))) {
		/* Back from the device: ours to free. */
		port->tx_inflight -= min(port->tx_inflight, buf->len);
		port->outvq_full = false;
		port->cons_stalled = false;
		vs_buf_free_used(buf);
	}
}

/*
 * Ask for a transmit interrupt once about three quarters of the buffers in
 * flight are used (virtqueue_enable_cb_delayed() with event-index
 * support), reclaiming whatever came back while callbacks were off.
 * Called with @port->outvq_lock held, interrupts off.
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
static void vs_port_tx_arm_locked(struct vs_port *port)
{
	unsigned int before;

	while (port->out_vq && !virtqueue_is_broken(port->out_vq) &&
	       !virtqueue_enable_cb_delayed(port->out_vq)) {
		before = port->out_vq->num_free;
		vs_port_reclaim_tx_locked(port);
		if (!port->out_vq || port->out_vq->num_free == before)
			break;
	}
}

/**
 * vs_port_reclaim_tx() - free transmit buffers the device has consumed
 * @port: the port
 *
 * Context: any.
 */
void vs_port_reclaim_tx(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_port_reclaim_tx_locked(port);
	spin_unlock_irqrestore(&port->outvq_lock, flags);
}

/**
 * vs_port_tx_room() - reclaim, and tell whether a transmit buffer fits
 * @port: the port
 *
 * When it does not, the transmit interrupt is armed before returning, so
 * a writer or poller that goes to sleep on this answer is woken when the
 * device hands space back.
 *
 * Context: any.
 * Return: true if a buffer can be queued now.
 */
bool vs_port_tx_room(struct vs_port *port)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&port->outvq_lock, flags);
	vs_port_reclaim_tx_locked(port);
	room = port->out_vq && port->out_vq->num_free &&
	       port->tx_inflight < VS_TX_INFLIGHT_MAX;
	if (!room) {
		vs_port_tx_arm_locked(port);
		room = port->out_vq && port->out_vq->num_free &&
		       port->tx_inflight < VS_TX_INFLIGHT_MAX;
	}
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	return room;
}

/**
 * vs_port_tx_arm_if_needed() - arm the transmit interrupt if it is needed
 * @port: the port
 *
 * Called with @port->outvq_lock held after queuing transmit buffers or
 * when a console stalls.  Finished buffers are normally reclaimed by the
 * next write, so a stream of small writes takes no interrupt at all (the
 * in-tree driver polls instead).  An interrupt is armed only when more
 * than VS_TX_LAZY bytes are in flight, so a writer that stops does not
 * leave megabytes of used pages behind, or when a console waits for space.
 *
 * Context: any.
 */
void vs_port_tx_arm_if_needed(struct vs_port *port)
{
	if (port->tx_inflight > VS_TX_LAZY || port->cons_stalled)
		vs_port_tx_arm_locked(port);
}

/**
 * vs_port_tx_intr() - transmit virtqueue callback body
 * @port: the port (the caller holds a reference)
 *
 * Frees what the device consumed and wakes writers and pollers.  The
 * callback stays off unless more than VS_TX_LAZY bytes are still in
 * flight or a console is stalled: a sleeper re-arms it through
 * vs_port_tx_room() when it finds no room.
 *
 * Context: any (virtqueue callback).
 */
void vs_port_tx_intr(struct vs_port *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->outvq_lock, flags);
	if (port->out_vq) {
		virtqueue_disable_cb(port->out_vq);
		vs_port_reclaim_tx_locked(port);
		vs_port_tx_arm_if_needed(port);
	}
	spin_unlock_irqrestore(&port->outvq_lock, flags);
	wake_up(&port->waitqueue);	/* zero-copy writers sleep killable */
}

/**
 * vs_zc_settled() - wait condition of a zero-copy writer
 * @port: the port
 * @zc: the write
 *
 * Reclaims what the device used and, while buffers of @zc are still out,
 * arms the transmit interrupt; vs_port_tx_intr() wakes the writer, which
 * comes back here.
 *
 * Context: any (called between prepare_to_wait and schedule).
 * Return: true once every buffer of @zc is back or the port is gone.
 */
bool vs_zc_settled(struct vs_port *port, struct vs_zc *zc)
{
	unsigned long flags;

	if (atomic_read(&zc->pending) && !READ_ONCE(port->unplugged)) {
		spin_lock_irqsave(&port->outvq_lock, flags);
		vs_port_reclaim_tx_locked(port);
		if (atomic_read(&zc->pending))
			vs_port_tx_arm_locked(port);
		spin_unlock_irqrestore(&port->outvq_lock, flags);
	}
	return !atomic_read(&zc->pending) || READ_ONCE(port->unplugged);
}

/**
 * vs_port_detach_bufs() - forget the port's virtqueues
 * @port: the port
 *
 * After this the port no longer touches its virtqueues.  Buffers still
 * posted to them stay with the virtqueues and are freed by
 * vs_vq_free_all() when the device is reset; unread data on @port->rxq
 * is dropped and counted.
 *
 * Context: process; the caller holds @port->read_mutex for generic ports.
 */
void vs_port_detach_bufs(struct vs_port *port)
{
	struct vs_buf *buf, *tmp;
	unsigned long flags;
	LIST_HEAD(done);

	vs_port_reclaim_tx(port);
	spin_lock_irqsave(&port->outvq_lock, flags);
	port->out_vq = NULL;
	spin_unlock_irqrestore(&port->outvq_lock, flags);

	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->in_vq = NULL;
	port->bytes_discarded += port->rx_bytes;
	port->rx_bytes = 0;
	list_splice_init(&port->rxq, &done);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	list_for_each_entry_safe(buf, tmp, &done, list)
		vs_buf_free(buf);
}

/**
 * vs_vq_free_all() - free every buffer a virtqueue still holds
 * @vq: a virtqueue of a device that has been reset
 *
 * Context: process, after virtio_reset_device().
 */
void vs_vq_free_all(struct virtqueue *vq)
{
	struct vs_buf *buf;
	unsigned int len;

	while ((buf = virtqueue_get_buf(vq, &len)))
		vs_buf_free_used(buf);
	while ((buf = virtqueue_detach_unused_buf(vq)))
		vs_buf_free(buf);
}
