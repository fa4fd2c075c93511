// SPDX-License-Identifier: GPL-2.0
/*
 * File operations of /dev/vportNpM.
 *
 * The user-visible rules are the in-tree driver's (see the table in
 * kernel/README.md); what differs is underneath:
 *  - a read returns all queued data up to the requested size, not at most
 *    one 4 KiB buffer;
 *  - a write is split into page-backed scatter-gather buffers of up to
 *    256 KiB, queued back to back with one kick, instead of one kmalloc'd
 *    buffer of at most 32 KiB per call;
 *  - read_iter/write_iter honour IOCB_NOWAIT as well as O_NONBLOCK, so
 *    readv/writev and io_uring work, and splice works in both directions.
 */
#include <linux/fs.h>
#include <linux/freezer.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>
#include <linux/uio.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

/* Upper bound on one write call, so a huge write cannot pin the CPU. */
#define VS_WRITE_MAX	(4U << 20)

static bool vs_has_data(struct vs_port *port)
{
	return READ_ONCE(port->rx_bytes) != 0;
}

/* The condition a blocked reader waits to become false. */
static bool vs_will_read_block(struct vs_port *port)
{
	if (READ_ONCE(port->unplugged))
		return false;
	return !vs_has_data(port) && READ_ONCE(port->host_connected);
}

/* The condition a blocked writer waits to become false. */
static bool vs_will_write_block(struct vs_port *port)
{
	if (READ_ONCE(port->unplugged))
		return false;
	if (!READ_ONCE(port->host_connected))
		return true;
	return !vs_tx_room(port);
}

static bool vs_nonblock(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) ||
	       (iocb->ki_flags & IOCB_NOWAIT);
}

/*
 * Copy queued data to @to (vs_rx_take()) as the port's only reader.
 * Returns the bytes copied, -EFAULT, or 0 when another reader took the
 * data that woke us: the caller waits again, it is not end of file.
 */
static ssize_t vs_fill_readbuf(struct vs_port *port, struct iov_iter *to,
			       bool nowait)
{
	bool arrived;
	ssize_t ret;

	/* IOCB_NOWAIT (io_uring, RWF_NOWAIT) must not sleep on a reader. */
	if (!nowait)
		mutex_lock(&port->read_mutex);
	else if (!mutex_trylock(&port->read_mutex))
		return -EAGAIN;
	ret = vs_rx_take(port, to, &arrived);
	mutex_unlock(&port->read_mutex);
	if (arrived)
		vs_port_data_arrived(port);
	return ret;
}

static ssize_t vs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct vs_port *port = iocb->ki_filp->private_data;
	ssize_t ret;

	for (;;) {
		if (READ_ONCE(port->unplugged))
			return -ENODEV;
		if (!vs_has_data(port)) {
			/* No host: end of file now, as in-tree, even when blocking. */
			if (!READ_ONCE(port->host_connected))
				return 0;
			if (vs_nonblock(iocb))
				return -EAGAIN;
			ret = wait_event_freezable(port->waitqueue,
						   !vs_will_read_block(port));
			if (ret < 0)
				return ret;
		}
		if (READ_ONCE(port->unplugged))
			return -ENODEV;
		/* Data that raced with a host close is still delivered first. */
		if (!vs_has_data(port) && !READ_ONCE(port->host_connected))
			return 0;
		ret = vs_fill_readbuf(port, to, iocb->ki_flags & IOCB_NOWAIT);
		/* Empty: another reader took it (see vs_fill_readbuf()). */
		if (ret || !iov_iter_count(to))
			return ret;
		if (signal_pending(current))
			return -ERESTARTSYS;
		cond_resched();
	}
}

static int vs_wait_writable(struct vs_port *port, bool nonblock)
{
	int ret;

	if (vs_will_write_block(port)) {
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_freezable(port->waitqueue,
					   !vs_will_write_block(port));
		if (ret < 0)
			return ret;
	}
	if (READ_ONCE(port->unplugged))
		return -ENODEV;
	return 0;
}

/* Queue one buffer; on success the virtqueue owns it. */
static int vs_queue_tx(struct vs_port *port, struct vs_buf *buf)
{
	int err = vs_tx_queue(port, buf, 0);

	/*
	 * A broken ring (virtio_break_device() as the device goes away) is
	 * the device being removed, not an I/O error.
	 */
	return err == -EIO ? -ENODEV : err;
}

/*
 * Zero-copy write (tx_zerocopy=Y, off by default): the writer's own pages
 * become the transmit buffers (one page reference each) and the writer
 * sleeps, killable and freezable but not interruptible, until the device
 * has returned them: the pages are the data, so the call cannot return
 * while the device may still read them.  A handled signal therefore does
 * not end the wait (a copied write, the default, returns once queued, as
 * in-tree does).
 *
 * Returns the bytes of the buffers the device returned as used; the
 * iterator is wound back over the rest.  That is not what the host took:
 * QEMU returns every transmit buffer as used, with length 0, also when
 * it discarded the data at host close or unplug.  Buffers dropped
 * unconsumed by a reset (suspend) are queued again.  -ENOSPC when not even
 * the first buffer fitted (ring, in-flight limit or bounce pool full),
 * -EFAULT when its pages could not be taken, -ENOMEM when memory or a DMA
 * mapping failed with nothing in flight: the caller copies instead.  A
 * later buffer that does not fit ends the write short.
 */
static ssize_t vs_write_zc(struct vs_port *port, struct iov_iter *from)
{
	unsigned int max_pages = port->vsdev->tx_max_pages;
	size_t queued;
	struct vs_zc *zc;
	struct vs_buf *buf;
	ssize_t ret, got;
	long sent;

again:
	ret = vs_wait_writable(port, false);
	if (ret)
		return ret;
	zc = vs_zc_alloc(port);
	if (!zc)
		return -ENOMEM;
	queued = 0;
	while (iov_iter_count(from) && queued < VS_WRITE_MAX) {
		if (queued && !vs_tx_room(port))
			break;	/* later buffers do not wait */
		buf = vs_buf_alloc_user(from, max_pages, port->vsdev->max_seg,
					&got);
		if (!buf) {
			ret = got;
			break;
		}
		/* Before the device can see it: it may use it at once. */
		refcount_inc(&zc->ref);
		atomic_inc(&zc->pending);
		buf->zc = zc;
		ret = vs_queue_tx(port, buf);
		if (ret) {
			iov_iter_revert(from, got);
			vs_buf_free(buf);	/* drops its zc reference */
			break;
		}
		queued += got;
	}
	if (!queued) {
		vs_zc_put(zc);
		return ret;
	}
	vs_tx_kick(port);
	ret = wait_event_state(port->waitqueue, vs_tx_zc_settled(port, zc),
			       (TASK_KILLABLE | TASK_FREEZABLE));
	sent = atomic_long_read(&zc->sent);
	vs_zc_put(zc);
	if (ret)
		return ret;	/* killed: nobody reads the answer */
	iov_iter_revert(from, queued - min_t(size_t, sent, queued));
	if (sent)
		return sent;
	if (READ_ONCE(port->unplugged))
		return -ENODEV;
	goto again;
}

static ssize_t vs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vs_port *port = iocb->ki_filp->private_data;
	unsigned int max_pages = port->vsdev->tx_max_pages;
	bool nonblock = vs_nonblock(iocb);
	size_t total = 0, len, got;
	struct vs_buf *buf;
	ssize_t ret = 0;

	if (!iov_iter_count(from))
		return 0;
	/*
	 * Zero-copy only for one large user segment: a writev of many small
	 * pieces would become as many small buffers.  Memory the page tables
	 * cannot lend (VM_PFNMAP mappings, say) is copied instead.
	 */
	if (READ_ONCE(vs_tx_zerocopy) && !nonblock && max_pages > 1 &&
	    port->vsdev->max_seg >= PAGE_SIZE &&
	    user_backed_iter(from) &&
	    iov_iter_single_seg_count(from) >= VS_ZC_MIN) {
		ret = vs_write_zc(port, from);
		/*
		 * Nothing lent: copy instead.  Under swiotlb a full bounce
		 * pool is -ENOSPC while buffers are in flight (the copy
		 * then waits for room as for a full ring) and -ENOMEM when
		 * none are (it tries smaller buffers).
		 */
		if (ret != -ENOSPC && ret != -EFAULT && ret != -ENOMEM)
			return ret;
	}
	while (iov_iter_count(from) && total < VS_WRITE_MAX) {
		/* Only the first buffer may wait; later ones are a bonus. */
		ret = vs_wait_writable(port, nonblock || total);
		if (ret)
			break;
		len = min_t(size_t, iov_iter_count(from),
			    max_pages * PAGE_SIZE);
		buf = vs_buf_alloc_tx(&port->tx_cache, len);
		if (!buf) {
			ret = -ENOMEM;
			break;
		}
		got = vs_buf_fill_tx(buf, from);
		if (!got) {
			vs_buf_free(buf);
			ret = -EFAULT;
			break;
		}
		ret = vs_queue_tx(port, buf);
		if (ret) {
			iov_iter_revert(from, got);
			vs_buf_free(buf);
			/*
			 * No room although the ring had a free slot: another
			 * writer took it, or the indirect table could not be
			 * allocated and the buffer needs one descriptor per
			 * page.  Wait again with a smaller buffer, down to a
			 * single page, which always fits a free slot.
			 */
			if (ret == -ENOSPC && !total && !nonblock) {
				max_pages = max(max_pages / 2, 1U);
				continue;
			}
			/*
			 * Not mappable, with nothing in flight to wait for
			 * (vs_tx_queue()): a smaller buffer needs less of
			 * the bounce pool.
			 */
			if (ret == -ENOMEM && !total && max_pages > 1) {
				max_pages /= 2;
				continue;
			}
			if (ret == -ENOSPC && nonblock && !total)
				ret = -EAGAIN;
			break;
		}
		total += got;
		if (got < len)
			break;
	}
	if (total)
		vs_tx_kick(port);
	return total ? total : ret;
}

static __poll_t vs_poll(struct file *filp, poll_table *wait)
{
	struct vs_port *port = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &port->waitqueue, wait);
	if (READ_ONCE(port->unplugged))
		return EPOLLHUP;
	if (!vs_will_read_block(port))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!vs_will_write_block(port))
		mask |= EPOLLOUT;
	if (!READ_ONCE(port->host_connected))
		mask |= EPOLLHUP;
	return mask;
}

static int vs_open(struct inode *inode, struct file *filp)
{
	bool arrived = false;
	struct vs_port *port;
	unsigned long flags;
	int err;

	port = vs_port_get_by_devt(inode->i_rdev);
	if (!port)
		return -ENXIO;
	spin_lock_irqsave(&port->inbuf_lock, flags);
	/*
	 * Console ports are used through /dev/hvcN.  Checked under
	 * inbuf_lock, as vs_cons_init() checks guest_connected.
	 */
	err = vs_port_claim(VS_READER_VPORT, port->is_console,
			    port->guest_connected, port->unplugged);
	if (err) {
		spin_unlock_irqrestore(&port->inbuf_lock, flags);
		goto put;
	}
	port->guest_connected = true;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);

	/* First open: now the port is worth its receive buffers. */
	mutex_lock(&port->read_mutex);
	if (!port->rx_allocated) {
		err = vs_rx_fill(port, GFP_KERNEL, &arrived);
		if (!err)
			port->rx_allocated = true;
	}
	mutex_unlock(&port->read_mutex);
	if (arrived)
		vs_port_data_arrived(port);

	vs_tx_reclaim(port);
	nonseekable_open(inode, filp);
	/* read_iter/write_iter honour IOCB_NOWAIT: io_uring may use it. */
	filp->f_mode |= FMODE_NOWAIT;
	filp->private_data = port;	/* the file's reference */
	vs_ctrl_send(port->vsdev, port->id, VS_CTRL_PORT_OPEN, 1);
	return 0;
put:
	vs_port_put(port);
	return err;
}

static int vs_release(struct inode *inode, struct file *filp)
{
	struct vs_port *port = filp->private_data;
	unsigned long flags;
	bool arrived;

	if (!READ_ONCE(port->unplugged))
		vs_ctrl_send(port->vsdev, port->id, VS_CTRL_PORT_OPEN, 0);
	spin_lock_irqsave(&port->inbuf_lock, flags);
	port->guest_connected = false;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);

	/*
	 * In-tree behaviour by default: unread data is dropped (and counted
	 * in bytes_discarded) so the next open starts fresh.
	 */
	if (!vs_keep_unread) {
		mutex_lock(&port->read_mutex);
		/* Never arrived: with no file open, vs_rx_intr() drops data. */
		vs_rx_discard(port, &arrived);
		mutex_unlock(&port->read_mutex);
	}
	vs_tx_reclaim(port);
	/* An idle port keeps no pages (a reopen refills the cache). */
	vs_tx_cache_drop(&port->tx_cache);
	vs_port_put(port);
	return 0;
}

static int vs_fasync(int fd, struct file *filp, int mode)
{
	struct vs_port *port = filp->private_data;

	return fasync_helper(fd, filp, mode, &port->async_queue);
}

const struct file_operations vs_fops = {
	.owner		= THIS_MODULE,
	.open		= vs_open,
	.release	= vs_release,
	.read_iter	= vs_read_iter,
	.write_iter	= vs_write_iter,
	.splice_read	= VIRTSER_SPLICE_READ,
	.splice_write	= iter_file_splice_write,
	.poll		= vs_poll,
	.fasync		= vs_fasync,
	.llseek		= VIRTSER_NO_LLSEEK,
};
