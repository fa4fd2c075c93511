// SPDX-License-Identifier: GPL-2.0
/*
 * vtdev.ko - a programmable virtio console device inside the guest kernel.
 *
 * Test only (never installed).  Each device is a virtio device with ID 3
 * on vtdev's own root device, with its own virtio_config_ops: find_vqs
 * makes split rings with vring_create_virtqueue(), and the device side of
 * those rings is played here, by a work item that reads the rings the
 * driver wrote.  VIRTIO_F_ACCESS_PLATFORM is never offered, so the virtio
 * core does not use the DMA API: ring addresses and descriptor addresses
 * are guest physical addresses, which on x86-64 all lie in the direct map
 * (phys_to_virt()).  We read the split ring directly rather than through
 * vringh because vringh's kernel flavour takes descriptor addresses as
 * kernel pointers, and because the hostile cases need to write used
 * entries no well-behaved helper would write.  Neither EVENT_IDX nor
 * INDIRECT_DESC is offered, so the ring protocol is the plain one: the
 * driver always kicks, and we honour VRING_AVAIL_F_NO_INTERRUPT.
 *
 * Transmit rings (the driver's output and control output) are served
 * inside the kick, as QEMU serves them inside the vCPU's notify exit: the
 * in-tree driver spins with interrupts off until a console or control
 * buffer comes back, which a device running later on the same CPU would
 * never do.  Receive rings are filled by a work item.  Interrupts are
 * delivered the way a PCI transport delivers them, from hard interrupt
 * context: an irq_work per queue calls vring_interrupt().
 *
 * Test programs drive it through /dev/vtdev (vtdev_uapi.h); what the
 * device does with each byte is described in Documentation/testing.rst.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/irq_work.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "vtdev_uapi.h"
#include "vtdev_compat.h"

#define VTDEV_QSIZE		128
#define VTDEV_CTRL_HDR		8
#define FNV_OFFSET		0xcbf29ce484222325ULL
#define FNV_PRIME		0x100000001b3ULL
#define VTDEV_CONSOLE_FEATURES	((1ULL << VIRTIO_CONSOLE_F_SIZE) |	\
				 (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) |	\
				 (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE))

static struct device *vtdev_root;

/* One segment of a descriptor chain, as the device sees it. */
struct vtdev_seg {
	u8 *p;
	u32 len;
	bool write;
};

/*
 * The device side of one virtqueue.  Everything but @irq is protected by
 * vtdev.lock and touched only by the worker and by find_vqs/del_vqs.
 */
struct vtdev_vq {
	struct vtdev *dev;
	struct virtqueue *vq;		/* NULL when the driver has no ring here */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vtdev_seg *segs;		/* one chain, up to @num segments */
	unsigned int num;
	u16 last_avail;			/* next avail slot the device takes */
	u16 used_idx;			/* next used slot the device fills */
	bool kick_irq;			/* used entries added since the last irq */
	u32 extra_len;			/* hostile: add to the next used len */
	bool bogus_id;			/* hostile: next used id is @bogus */
	u32 bogus;
	u32 reorder;			/* hostile: pairs to complete swapped */
	u64 swapped;			/* ... and how many were */
	bool held;			/* transmit: a used entry held back */
	u16 held_head;
	u32 kick_delay_us;		/* hostile: the next kick spins this long */
	struct irq_work irq;		/* calls vring_interrupt() in hardirq */
};

/* A host-to-guest control message waiting for a control receive buffer. */
struct vtdev_msg {
	struct list_head node;		/* on vtdev.ctrl_out, under vtdev.lock */
	u32 len;
	u32 used_len;			/* 0: the bytes written */
	u32 rewrite_len;
	u32 rewrite_us;
	u8 *rewrite;			/* kmalloc'd, owned by the message */
	u8 data[];
};

/* The host end of one port.  Protected by vtdev.lock. */
struct vtdev_port {
	bool exists;
	bool console;
	bool no_name;
	bool host_open;
	u32 guest_ready;
	u32 guest_open;
	u32 mode;
	char name[VTDEV_NAME_MAX];
	u64 tx_bytes, tx_sum, tx_bufs;
	u64 rx_bytes, rx_sum, rx_bufs;
	/* VTDEV_MODE_FAST: the word sum of the bytes since the mode was set. */
	u64 tx_wsum;			/* over the complete words */
	u64 tx_wpart;			/* the partial word so far */
	u64 tx_woff;			/* bytes summed */
	/* Bytes for the guest: first the FIFO, then the seeded stream. */
	u8 *fifo;			/* VTDEV_FIFO_SIZE, vmalloc'd on demand */
	u32 fifo_head, fifo_len;
	u64 src_left;
	u64 src_state;
	u64 src_word;			/* current stream value ... */
	u32 src_word_left;		/* ... and its bytes not sent yet */
	/* VTDEV_SRC_PATTERN: the stream is copied from @pattern instead. */
	bool src_pat;
	u8 *pattern;			/* VTDEV_PATTERN_SIZE, vmalloc'd on demand */
	u64 pat_seed;			/* what @pattern was made from */
	u32 pat_off;			/* where the next byte comes from */
};

struct vtdev {
	struct virtio_device vdev;
	/*
	 * Everything below but the cfg_lock part.  A spinlock, because
	 * transmit rings are served inside the driver's kick, which may come
	 * with interrupts off (see vtdev_notify()).
	 */
	spinlock_t lock;
	struct work_struct work;	/* the device side of the other rings */
	struct workqueue_struct *wq;
	struct irq_work cfg_irq;	/* config change interrupt */
	u64 offered;			/* feature bits offered */
	u32 nr_ports;			/* ports with queues */
	u32 nvqs_max;			/* queues the device has */
	u32 qsize;
	u8 status;			/* under cfg_lock too: read by irq work */
	u32 device_ready;		/* DEVICE_READY messages, ever */
	bool ready;			/* DEVICE_READY 1 since the last reset */
	u32 ctrl_in, ctrl_bad, errors;
	u32 kicks_delayed;		/* delayed kicks that started */
	u64 ctrl_delivered;
	struct vtdev_vq *vqs;		/* nvqs_max of them */
	u32 nvqs;			/* set up by the driver */
	bool fail_find_vqs;		/* hostile: the next find_vqs fails ... */
	u32 fail_after;			/* ... after making this many queues */
	/* hostile, for the next DEVICE_READY 1: a short message among ... */
	bool ready_bad;
	/* ... the PORT_ADDs, and port @ready_omit - 1 removed, unannounced */
	u32 ready_omit;
	struct list_head ctrl_out;	/* struct vtdev_msg, in order */
	u32 ctrl_pending;
	struct vtdev_port ports[VTDEV_MAX_PORTS];

	spinlock_t cfg_lock;		/* @cfg, @cfg_gen, emergency counters */
	struct virtio_console_config cfg;
	u32 cfg_gen;
	u64 emerg_bytes, emerg_sum;
};

static struct vtdev *to_vtdev(struct virtio_device *vdev)
{
	return container_of(vdev, struct vtdev, vdev);
}

static u64 fnv1a(u64 h, const u8 *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	return h;
}

/*
 * A little-endian word at any alignment; memcpy() rather than
 * vtdev_le64(), whose header moved between 6.1 and 6.12.  It
 * compiles to one load.
 */
static u64 vtdev_le64(const u8 *b)
{
	__le64 v;

	memcpy(&v, b, sizeof(v));
	return le64_to_cpu(v);
}

/*
 * The word sum of VTDEV_MODE_FAST (vtdev_uapi.h): about one load, one
 * multiply and one add per 8 bytes, so that the sink runs near memory
 * speed.  Buffers need not be whole words: a word begun in one is
 * finished in the next, a byte at a time (at most 7 bytes per buffer).
 */
static void vtdev_wsum(struct vtdev_port *p, const u8 *b, u32 n)
{
	u64 sum = p->tx_wsum, part = p->tx_wpart, off = p->tx_woff, w;

	while (n && (off & 7)) {
		part |= (u64)*b++ << (8 * (off & 7));
		off++;
		n--;
		if (!(off & 7)) {
			sum += (2 * (off / 8 - 1) + 1) * part;
			part = 0;
		}
	}
	/* Here off is a multiple of 8: w is the weight of the next word. */
	w = 2 * (off / 8) + 1;
	off += n & ~7U;
	for (; n >= 32; n -= 32, b += 32, w += 8)
		sum += w * vtdev_le64(b) +
		       (w + 2) * vtdev_le64(b + 8) +
		       (w + 4) * vtdev_le64(b + 16) +
		       (w + 6) * vtdev_le64(b + 24);
	for (; n >= 8; n -= 8, b += 8, w += 2)
		sum += w * vtdev_le64(b);
	while (n--) {
		part |= (u64)*b++ << (8 * (off & 7));
		off++;
	}
	p->tx_wsum = sum;
	p->tx_wpart = part;
	p->tx_woff = off;
}

/* The word sum so far, a partial last word padded with zeros. */
static u64 vtdev_wsum_now(const struct vtdev_port *p)
{
	if (!(p->tx_woff & 7))
		return p->tx_wsum;
	return p->tx_wsum + (2 * (p->tx_woff / 8) + 1) * p->tx_wpart;
}

static bool vtdev_multiport(struct vtdev *dev)
{
	return virtio_has_feature(&dev->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

/* ------------------------------------------------------------------ */
/* Ring access (the device side)                                        */

/* A guest physical range as a pointer, or NULL if it is not RAM. */
static u8 *vtdev_phys(u64 addr, u32 len)
{
	if (!len)
		return NULL;
	if (addr + len < addr || !pfn_valid(PHYS_PFN(addr)) ||
	    !pfn_valid(PHYS_PFN(addr + len - 1)))
		return NULL;
	return phys_to_virt(addr);
}

/*
 * Take the next available chain of @q into q->segs.  Returns the number
 * of segments, 0 if nothing is available, -EIO if the ring is corrupt
 * (then the queue is left alone from now on, as a device would set
 * NEEDS_RESET).
 */
static int vtdev_pop(struct vtdev_vq *q, u16 *head)
{
	struct virtio_device *vdev = &q->dev->vdev;
	u16 avail = virtio16_to_cpu(vdev, READ_ONCE(q->avail->idx));
	unsigned int i, n;
	u16 flags;

	if (avail == q->last_avail)
		return 0;
	if ((u16)(avail - q->last_avail) > q->num)
		goto bad;
	/* Read the ring entry only after seeing the index that covers it. */
	virtio_rmb(true);
	*head = virtio16_to_cpu(vdev, q->avail->ring[q->last_avail % q->num]);
	i = *head;
	for (n = 0; n < q->num; n++) {
		struct vring_desc *d;

		if (i >= q->num)
			goto bad;
		d = &q->desc[i];
		flags = virtio16_to_cpu(vdev, d->flags);
		if (flags & VRING_DESC_F_INDIRECT)
			goto bad;
		q->segs[n].len = virtio32_to_cpu(vdev, d->len);
		q->segs[n].write = flags & VRING_DESC_F_WRITE;
		q->segs[n].p = vtdev_phys(virtio64_to_cpu(vdev, d->addr),
					  q->segs[n].len);
		if (q->segs[n].len && !q->segs[n].p)
			goto bad;
		if (!(flags & VRING_DESC_F_NEXT)) {
			q->last_avail++;
			return n + 1;
		}
		i = virtio16_to_cpu(vdev, d->next);
	}
bad:
	q->dev->errors++;
	q->num = 0;	/* vtdev_queue_ok() is false from now on */
	return -EIO;
}

/* Give a chain back; the hostile one-shots of the queue apply here. */
static void vtdev_push(struct vtdev_vq *q, u16 head, u32 len)
{
	struct virtio_device *vdev = &q->dev->vdev;
	struct vring_used_elem *e = &q->used->ring[q->used_idx % q->num];
	u32 id = head;

	if (q->bogus_id) {
		id = q->bogus;
		q->bogus_id = false;
	}
	len += q->extra_len;
	q->extra_len = 0;
	e->id = cpu_to_virtio32(vdev, id);
	e->len = cpu_to_virtio32(vdev, len);
	q->used_idx++;
	/* The entry must be visible before the index that publishes it. */
	virtio_wmb(true);
	WRITE_ONCE(q->used->idx, cpu_to_virtio16(vdev, q->used_idx));
	q->kick_irq = true;
}

static void vtdev_maybe_irq(struct vtdev_vq *q)
{
	if (!q->kick_irq)
		return;
	q->kick_irq = false;
	/* Publish the used index before reading whether the driver wants it. */
	virtio_mb(true);
	if (!(virtio16_to_cpu(&q->dev->vdev, READ_ONCE(q->avail->flags)) &
	      VRING_AVAIL_F_NO_INTERRUPT))
		irq_work_queue(&q->irq);
}

static void vtdev_vq_irq(struct irq_work *w)
{
	struct vtdev_vq *q = container_of(w, struct vtdev_vq, irq);

	/* q->vq is only cleared after irq_work_sync() in del_vqs. */
	vring_interrupt(0, q->vq);
}

static void vtdev_cfg_irq(struct irq_work *w)
{
	struct vtdev *dev = container_of(w, struct vtdev, cfg_irq);

	virtio_config_changed(&dev->vdev);
}

static struct vtdev_vq *vtdev_queue_ok(struct vtdev *dev, u32 idx)
{
	struct vtdev_vq *q;

	if (idx >= dev->nvqs_max)
		return NULL;
	q = &dev->vqs[idx];
	return q->vq && q->num ? q : NULL;
}

/* ------------------------------------------------------------------ */
/* Control messages                                                     */

static struct vtdev_msg *vtdev_msg_alloc(u32 len, gfp_t gfp)
{
	struct vtdev_msg *m = kvzalloc(struct_size(m, data, len), gfp);

	if (m)
		m->len = len;
	return m;
}

static void vtdev_msg_free(struct vtdev_msg *m)
{
	kfree(m->rewrite);
	kvfree(m);
}

static void vtdev_queue_msg(struct vtdev *dev, struct vtdev_msg *m)
{
	list_add_tail(&m->node, &dev->ctrl_out);
	dev->ctrl_pending++;
}

/* Queue a well-formed control message (multiport only).  dev->lock held. */
static void vtdev_ctrl(struct vtdev *dev, u32 id, u16 event, u16 value,
		       const void *extra, u32 extra_len)
{
	struct virtio_console_control c;
	struct vtdev_msg *m;

	if (!vtdev_multiport(dev))
		return;
	m = vtdev_msg_alloc(sizeof(c) + extra_len, GFP_ATOMIC);
	if (!m) {
		dev->errors++;
		return;
	}
	c.id = cpu_to_virtio32(&dev->vdev, id);
	c.event = cpu_to_virtio16(&dev->vdev, event);
	c.value = cpu_to_virtio16(&dev->vdev, value);
	memcpy(m->data, &c, sizeof(c));
	if (extra_len)
		memcpy(m->data + sizeof(c), extra, extra_len);
	vtdev_queue_msg(dev, m);
}

/* Half a control header, which no driver can take.  dev->lock held. */
static void vtdev_ctrl_short(struct vtdev *dev)
{
	struct vtdev_msg *m = vtdev_msg_alloc(4, GFP_ATOMIC);

	if (!m) {
		dev->errors++;
		return;
	}
	memset(m->data, 0, 4);
	vtdev_queue_msg(dev, m);
}

/* What QEMU sends once the guest said a port is ready. */
static void vtdev_port_ready(struct vtdev *dev, u32 id)
{
	struct vtdev_port *p = &dev->ports[id];

	if (p->console)
		vtdev_ctrl(dev, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
	if (p->name[0] && !p->no_name)
		vtdev_ctrl(dev, id, VIRTIO_CONSOLE_PORT_NAME, 0, p->name,
			   strlen(p->name) + 1);
	if (p->host_open)
		vtdev_ctrl(dev, id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
}

/* A control message from the guest. */
static void vtdev_ctrl_in(struct vtdev *dev, const u8 *buf, u32 len)
{
	struct virtio_console_control c;
	u32 id;
	u16 value;

	dev->ctrl_in++;
	if (len < sizeof(c)) {
		dev->ctrl_bad++;
		return;
	}
	memcpy(&c, buf, sizeof(c));
	id = virtio32_to_cpu(&dev->vdev, c.id);
	value = virtio16_to_cpu(&dev->vdev, c.value);
	switch (virtio16_to_cpu(&dev->vdev, c.event)) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		dev->device_ready++;
		dev->ready = value == 1;
		if (value != 1)
			break;
		for (id = 0; id < dev->nr_ports; id++) {
			if (!dev->ports[id].exists)
				continue;
			/* Gone while the guest could not hear PORT_REMOVE. */
			if (dev->ready_omit == id + 1) {
				dev->ports[id].exists = false;
				continue;
			}
			vtdev_ctrl(dev, id, VIRTIO_CONSOLE_PORT_ADD, 1,
				   NULL, 0);
			if (dev->ready_bad)
				vtdev_ctrl_short(dev);
			dev->ready_bad = false;
		}
		dev->ready_bad = false;
		dev->ready_omit = 0;
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (id >= dev->nr_ports) {
			dev->ctrl_bad++;
			break;
		}
		dev->ports[id].guest_ready = value;
		if (value == 1 && dev->ports[id].exists)
			vtdev_port_ready(dev, id);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (id >= dev->nr_ports) {
			dev->ctrl_bad++;
			break;
		}
		dev->ports[id].guest_open = value;
		break;
	default:
		dev->ctrl_bad++;
	}
}

/* Copy @len bytes into the writable segments of a chain; bytes copied. */
static u32 vtdev_copy_in(struct vtdev_vq *q, int nseg, const u8 *src,
			 u32 len)
{
	u32 done = 0, n;
	int i;

	for (i = 0; i < nseg && done < len; i++) {
		if (!q->segs[i].write)
			continue;
		n = min(len - done, q->segs[i].len);
		memcpy(q->segs[i].p, src + done, n);
		done += n;
	}
	return done;
}

static void vtdev_rewrite(struct vtdev_vq *q, int nseg, struct vtdev_msg *m)
{
	u64 end = ktime_get_ns() + (u64)m->rewrite_us * NSEC_PER_USEC;
	u32 n = min(m->rewrite_len, m->len);
	bool flip = true;

	/*
	 * The buffer belongs to the driver now.  Flip its head between what
	 * we sent and the rewrite, so a driver that reads it twice can see
	 * two different messages.
	 */
	do {
		vtdev_copy_in(q, nseg, flip ? m->rewrite : m->data, n);
		flip = !flip;
		udelay(1);
	} while (ktime_get_ns() < end);
	vtdev_copy_in(q, nseg, m->rewrite, n);
}

/* Control messages from the guest.  dev->lock held. */
static void vtdev_do_ctrl_tx(struct vtdev *dev)
{
	struct vtdev_vq *q;
	u8 buf[64];
	int nseg, i;
	u16 head;
	u32 got, n;

	q = vtdev_queue_ok(dev, VTDEV_CTRL_TXQ);
	while (q && (nseg = vtdev_pop(q, &head)) > 0) {
		for (got = 0, i = 0; i < nseg; i++) {
			if (q->segs[i].write)
				continue;
			n = min_t(u32, sizeof(buf) - got, q->segs[i].len);
			memcpy(buf + got, q->segs[i].p, n);
			got += n;
		}
		vtdev_ctrl_in(dev, buf, got);
		vtdev_push(q, head, 0);
	}
	if (q)
		vtdev_maybe_irq(q);
}

/*
 * Control messages to the guest.  dev->lock held; delivered messages go
 * on @done, to be freed without the lock (they may be vmalloc'd).
 */
static void vtdev_do_ctrl_rx(struct vtdev *dev, struct list_head *done)
{
	struct vtdev_vq *q;
	struct vtdev_msg *m;
	int nseg;
	u16 head;
	u32 got;

	q = vtdev_queue_ok(dev, VTDEV_CTRL_RXQ);
	while (q && !list_empty(&dev->ctrl_out) &&
	       (nseg = vtdev_pop(q, &head)) > 0) {
		m = list_first_entry(&dev->ctrl_out, struct vtdev_msg, node);
		list_del(&m->node);
		dev->ctrl_pending--;
		got = vtdev_copy_in(q, nseg, m->data, m->len);
		vtdev_push(q, head, m->used_len ? m->used_len : got);
		dev->ctrl_delivered++;
		if (m->rewrite) {
			vtdev_maybe_irq(q);
			vtdev_rewrite(q, nseg, m);
		}
		list_add_tail(&m->node, done);
	}
	if (q)
		vtdev_maybe_irq(q);
}

/* ------------------------------------------------------------------ */
/* Port data                                                            */

static u64 vtdev_stream_next(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* The pattern of VTDEV_SRC_PATTERN from @seed (vtdev_uapi.h). */
static void vtdev_make_pattern(u8 *pat, u64 seed)
{
	__le64 w;
	u32 i;

	for (i = 0; i < VTDEV_PATTERN_SIZE; i += 8) {
		w = cpu_to_le64(vtdev_stream_next(&seed));
		memcpy(pat + i, &w, sizeof(w));
	}
}

/*
 * Produce up to @len bytes for the guest into @dst and add them to
 * rx_sum, but for pattern bytes: those are only copied.  Bytes produced.
 */
static u32 vtdev_produce(struct vtdev_port *p, u8 *dst, u32 len)
{
	u32 done = 0, n;

	while (done < len && p->fifo_len) {
		n = min3(len - done, p->fifo_len,
			 VTDEV_FIFO_SIZE - p->fifo_head);
		memcpy(dst + done, p->fifo + p->fifo_head, n);
		p->fifo_head = (p->fifo_head + n) % VTDEV_FIFO_SIZE;
		p->fifo_len -= n;
		done += n;
	}
	if (p->src_pat) {
		p->rx_sum = fnv1a(p->rx_sum, dst, done);
		while (done < len && p->src_left) {
			n = min_t(u64, min(len - done,
					   VTDEV_PATTERN_SIZE - p->pat_off),
				  p->src_left);
			memcpy(dst + done, p->pattern + p->pat_off, n);
			p->pat_off = (p->pat_off + n) % VTDEV_PATTERN_SIZE;
			p->src_left -= n;
			done += n;
		}
		return done;
	}
	while (done < len && p->src_left) {
		if (!p->src_word_left) {
			p->src_word = vtdev_stream_next(&p->src_state);
			p->src_word_left = 8;
		}
		dst[done++] = (u8)(p->src_word >> (8 * (8 - p->src_word_left)));
		p->src_word_left--;
		p->src_left--;
	}
	p->rx_sum = fnv1a(p->rx_sum, dst, done);
	return done;
}

/* The FIFO is allocated by the ioctls that need it (vtdev_fifo_prepare()). */
static bool vtdev_fifo_put(struct vtdev_port *p, const u8 *src, u32 len)
{
	u32 tail, n;

	if (!p->fifo)
		return false;
	if (len > VTDEV_FIFO_SIZE - p->fifo_len)
		return false;
	while (len) {
		tail = (p->fifo_head + p->fifo_len) % VTDEV_FIFO_SIZE;
		n = min(len, VTDEV_FIFO_SIZE - tail);
		memcpy(p->fifo + tail, src, n);
		p->fifo_len += n;
		src += n;
		len -= n;
	}
	return true;
}

static void vtdev_do_tx(struct vtdev *dev, u32 id)
{
	struct vtdev_port *p = &dev->ports[id];
	struct vtdev_vq *q = vtdev_queue_ok(dev, vtdev_txq(id));
	u32 total;
	int nseg, i;
	u16 head;

	if (!q || p->mode == VTDEV_MODE_STALL)
		return;
	while ((nseg = vtdev_pop(q, &head)) > 0) {
		for (total = 0, i = 0; i < nseg; i++)
			total += q->segs[i].write ? 0 : q->segs[i].len;
		if (p->mode == VTDEV_MODE_ECHO &&
		    total > VTDEV_FIFO_SIZE - p->fifo_len) {
			q->last_avail--;	/* the reader is behind: wait */
			break;
		}
		for (i = 0; i < nseg; i++) {
			if (q->segs[i].write)
				continue;
			if (p->mode == VTDEV_MODE_FAST)
				vtdev_wsum(p, q->segs[i].p, q->segs[i].len);
			else
				p->tx_sum = fnv1a(p->tx_sum, q->segs[i].p,
						  q->segs[i].len);
			if (p->mode == VTDEV_MODE_ECHO &&
			    !vtdev_fifo_put(p, q->segs[i].p, q->segs[i].len))
				dev->errors++;
		}
		p->tx_bytes += total;
		p->tx_bufs++;
		/* Out of order: hold one back, give it after the next. */
		if (q->reorder && !q->held) {
			q->held = true;
			q->held_head = head;
			continue;
		}
		vtdev_push(q, head, 0);
		if (q->held) {
			q->held = false;
			q->reorder--;
			q->swapped++;
			vtdev_push(q, q->held_head, 0);
		}
	}
	if (q->held) {		/* nothing came after it in this batch */
		q->held = false;
		vtdev_push(q, q->held_head, 0);
	}
	vtdev_maybe_irq(q);
}

/* Fill one receive chain and give it back. */
static void vtdev_rx_one(struct vtdev_port *p, struct vtdev_vq *q,
			 const struct vtdev_seg *segs, int nseg, u16 head)
{
	u32 total = 0, n;
	int i;

	for (i = 0; i < nseg; i++) {
		if (!segs[i].write)
			continue;
		n = vtdev_produce(p, segs[i].p, segs[i].len);
		total += n;
		if (n < segs[i].len)
			break;
	}
	p->rx_bytes += total;
	p->rx_bufs++;
	vtdev_push(q, head, total);
}

static void vtdev_do_rx(struct vtdev *dev, u32 id)
{
	struct vtdev_port *p = &dev->ports[id];
	struct vtdev_vq *q = vtdev_queue_ok(dev, vtdev_rxq(id));
	struct vtdev_seg first[4];
	int nseg, nfirst;
	u16 head, head1;

	if (!q)
		return;
	/* Like a chardev: nothing flows to the guest while the host is away. */
	while ((p->host_open || !vtdev_multiport(dev)) &&
	       (p->fifo_len || p->src_left) &&
	       (nseg = vtdev_pop(q, &head)) > 0) {
		/*
		 * Out of order: take two chains, fill and complete the second
		 * first.  The stream stays in used-ring order, which is the
		 * order the driver must read it in.
		 */
		if (q->reorder && nseg <= ARRAY_SIZE(first)) {
			memcpy(first, q->segs, nseg * sizeof(first[0]));
			nfirst = nseg;
			head1 = head;
			nseg = vtdev_pop(q, &head);
			if (nseg > 0) {
				vtdev_rx_one(p, q, q->segs, nseg, head);
				q->reorder--;
				q->swapped++;
			}
			vtdev_rx_one(p, q, first, nfirst, head1);
			if (nseg < 0)
				break;
			continue;
		}
		vtdev_rx_one(p, q, q->segs, nseg, head);
	}
	vtdev_maybe_irq(q);
}

static void vtdev_work(struct work_struct *work)
{
	struct vtdev *dev = container_of(work, struct vtdev, work);
	struct vtdev_msg *m, *tmp;
	unsigned long flags;
	LIST_HEAD(done);
	u32 id, n;

	spin_lock_irqsave(&dev->lock, flags);
	if (dev->vqs && (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		n = vtdev_multiport(dev) ? dev->nr_ports : 1;
		vtdev_do_ctrl_tx(dev);
		vtdev_do_ctrl_rx(dev, &done);
		for (id = 0; id < n; id++) {
			vtdev_do_tx(dev, id);
			vtdev_do_rx(dev, id);
		}
		/* Echoed bytes may have made room for more transmit buffers. */
		for (id = 0; id < n; id++)
			if (dev->ports[id].mode == VTDEV_MODE_ECHO)
				vtdev_do_tx(dev, id);
	}
	spin_unlock_irqrestore(&dev->lock, flags);
	list_for_each_entry_safe(m, tmp, &done, node)
		vtdev_msg_free(m);
}

static void vtdev_kick(struct vtdev *dev)
{
	queue_work(dev->wq, &dev->work);
}

/* ------------------------------------------------------------------ */
/* virtio_config_ops                                                    */

static void vtdev_get(struct virtio_device *vdev, unsigned int offset,
		      void *buf, unsigned int len)
{
	struct vtdev *dev = to_vtdev(vdev);
	unsigned long flags;

	if (offset > sizeof(dev->cfg) || len > sizeof(dev->cfg) - offset) {
		memset(buf, 0xff, len);
		return;
	}
	spin_lock_irqsave(&dev->cfg_lock, flags);
	memcpy(buf, (u8 *)&dev->cfg + offset, len);
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
}

static void vtdev_set(struct virtio_device *vdev, unsigned int offset,
		      const void *buf, unsigned int len)
{
	struct vtdev *dev = to_vtdev(vdev);
	unsigned long flags;
	u32 v;

	/* Only emerg_wr is writable; its low byte is the character. */
	if (offset != offsetof(struct virtio_console_config, emerg_wr) ||
	    len != sizeof(v))
		return;
	memcpy(&v, buf, sizeof(v));
	spin_lock_irqsave(&dev->cfg_lock, flags);
	if (dev->offered & (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE)) {
		u8 c = (u8)virtio32_to_cpu(vdev, (__force __virtio32)v);

		dev->emerg_bytes++;
		dev->emerg_sum = fnv1a(dev->emerg_sum ? dev->emerg_sum :
				       FNV_OFFSET, &c, 1);
	}
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
}

static u32 vtdev_generation(struct virtio_device *vdev)
{
	struct vtdev *dev = to_vtdev(vdev);
	unsigned long flags;
	u32 gen;

	spin_lock_irqsave(&dev->cfg_lock, flags);
	gen = dev->cfg_gen;
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	return gen;
}

static u8 vtdev_get_status(struct virtio_device *vdev)
{
	struct vtdev *dev = to_vtdev(vdev);
	unsigned long flags;
	u8 s;

	spin_lock_irqsave(&dev->cfg_lock, flags);
	s = dev->status;
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	return s;
}

static void vtdev_set_status(struct virtio_device *vdev, u8 status)
{
	struct vtdev *dev = to_vtdev(vdev);
	unsigned long flags;

	spin_lock_irqsave(&dev->cfg_lock, flags);
	dev->status = status;
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		vtdev_kick(dev);
}

/* What a device reset forgets: guest-side state, not the host's ports. */
static void vtdev_reset(struct virtio_device *vdev)
{
	struct vtdev *dev = to_vtdev(vdev);
	struct vtdev_msg *m, *tmp;
	unsigned long flags;
	LIST_HEAD(drop);
	u32 i;

	spin_lock_irqsave(&dev->lock, flags);
	spin_lock(&dev->cfg_lock);
	dev->status = 0;
	spin_unlock(&dev->cfg_lock);
	list_splice_init(&dev->ctrl_out, &drop);
	dev->ctrl_pending = 0;
	dev->ready = false;
	for (i = 0; i < dev->nr_ports; i++) {
		dev->ports[i].guest_ready = 0;
		dev->ports[i].guest_open = 0;
	}
	for (i = 0; dev->vqs && i < dev->nvqs_max; i++) {
		dev->vqs[i].last_avail = 0;
		dev->vqs[i].used_idx = 0;
	}
	spin_unlock_irqrestore(&dev->lock, flags);
	list_for_each_entry_safe(m, tmp, &drop, node)
		vtdev_msg_free(m);
	/* The worker saw status 0 or ran before: either way it is done. */
	flush_work(&dev->work);
	for (i = 0; dev->vqs && i < dev->nvqs_max; i++)
		irq_work_sync(&dev->vqs[i].irq);
	irq_work_sync(&dev->cfg_irq);
}

/*
 * A kick.  Transmit queues (odd indices: 1 for port 0, 3 for control,
 * 2 * id + 3 for port id) are served here and now, in the driver's
 * context, whatever it holds; the rest is left to the work item.
 */
static bool vtdev_notify(struct virtqueue *vq)
{
	struct vtdev_vq *q = vq->priv;
	struct vtdev *dev = q->dev;
	unsigned long flags;
	u32 idx, delay;

	spin_lock_irqsave(&dev->lock, flags);
	delay = q->kick_delay_us;
	q->kick_delay_us = 0;
	if (delay)
		dev->kicks_delayed++;
	spin_unlock_irqrestore(&dev->lock, flags);
	if (delay) {
		/*
		 * A slow notify, as a vCPU exit that takes long.  Whatever
		 * the driver holds stays held; afterwards the queue is read
		 * again, as a transport's notify reads it: the driver must
		 * keep @vq alive until its notify returns.
		 */
		while (delay) {
			udelay(min(delay, 1000U));
			delay -= min(delay, 1000U);
		}
		q = vq->priv;
		dev = q->dev;
	}
	idx = q - dev->vqs;
	if (idx & 1) {
		spin_lock_irqsave(&dev->lock, flags);
		if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
			if (idx == VTDEV_CTRL_TXQ)
				vtdev_do_ctrl_tx(dev);
			else
				vtdev_do_tx(dev, idx == 1 ? 0 : (idx - 3) / 2);
		}
		spin_unlock_irqrestore(&dev->lock, flags);
	}
	vtdev_kick(dev);
	return true;
}

static void vtdev_del_vqs(struct virtio_device *vdev)
{
	struct vtdev *dev = to_vtdev(vdev);
	struct virtqueue *vq, *n;
	struct vtdev_vq *q;
	unsigned long flags;

	list_for_each_entry_safe(vq, n, &vdev->vqs, list) {
		q = vq->priv;
		spin_lock_irqsave(&dev->lock, flags);
		q->num = 0;
		spin_unlock_irqrestore(&dev->lock, flags);
		irq_work_sync(&q->irq);
		spin_lock_irqsave(&dev->lock, flags);
		q->vq = NULL;
		kfree(q->segs);
		q->segs = NULL;
		dev->nvqs--;
		spin_unlock_irqrestore(&dev->lock, flags);
		vring_del_virtqueue(vq);
	}
}

int vtdev_find_vqs_common(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[],
			  const struct vtdev_vq_req *req)
{
	struct vtdev *dev = to_vtdev(vdev);
	struct vtdev_seg *segs;
	struct virtqueue *vq;
	unsigned long flags;
	struct vtdev_vq *q;
	unsigned int i, made = 0, fail_at = UINT_MAX;
	int err = 0;

	spin_lock_irqsave(&dev->lock, flags);
	if (dev->fail_find_vqs)
		fail_at = dev->fail_after;
	dev->fail_find_vqs = false;
	spin_unlock_irqrestore(&dev->lock, flags);
	for (i = 0; i < nvqs; i++) {
		vqs[i] = NULL;
		if (!req[i].name)
			continue;
		/*
		 * Hostile: out of memory part way, as a transport fails.  The
		 * queues made so far are deleted below, but the driver's
		 * array still holds their pointers, as with virtio_pci.
		 */
		if (made == fail_at) {
			err = -ENOMEM;
			break;
		}
		/* A queue the device does not have, as a PCI device says. */
		if (i >= dev->nvqs_max) {
			err = -ENOENT;
			break;
		}
		q = &dev->vqs[i];
		vq = vring_create_virtqueue(i, dev->qsize, SMP_CACHE_BYTES,
					    vdev, true, true, req[i].ctx,
					    vtdev_notify, req[i].callback,
					    req[i].name);
		if (!vq) {
			err = -ENOMEM;
			break;
		}
		vq->priv = q;
		segs = kcalloc(virtqueue_get_vring_size(vq), sizeof(*segs),
			       GFP_KERNEL);
		spin_lock_irqsave(&dev->lock, flags);
		q->segs = segs;
		if (q->segs) {
			q->vq = vq;
			q->desc = phys_to_virt(virtqueue_get_desc_addr(vq));
			q->avail = phys_to_virt(virtqueue_get_avail_addr(vq));
			q->used = phys_to_virt(virtqueue_get_used_addr(vq));
			q->num = virtqueue_get_vring_size(vq);
			q->last_avail = 0;
			q->used_idx = 0;
			q->extra_len = 0;
			q->bogus_id = false;
			q->reorder = 0;
			q->held = false;
			dev->nvqs++;
		}
		spin_unlock_irqrestore(&dev->lock, flags);
		if (!segs) {
			vring_del_virtqueue(vq);
			err = -ENOMEM;
			break;
		}
		vqs[i] = vq;
		made++;
	}
	if (err)
		vtdev_del_vqs(vdev);
	return err;
}

static void vtdev_synchronize_cbs(struct virtio_device *vdev)
{
	struct vtdev *dev = to_vtdev(vdev);
	u32 i;

	for (i = 0; i < dev->nvqs_max; i++)
		irq_work_sync(&dev->vqs[i].irq);
}

static u64 vtdev_get_features(struct virtio_device *vdev)
{
	return to_vtdev(vdev)->offered;
}

static int vtdev_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	if (vdev->features & ~to_vtdev(vdev)->offered)
		return -EINVAL;
	return 0;
}

static const char *vtdev_bus_name(struct virtio_device *vdev)
{
	return "vtdev";
}

static const struct virtio_config_ops vtdev_config_ops = {
	.get			= vtdev_get,
	.set			= vtdev_set,
	.generation		= vtdev_generation,
	.get_status		= vtdev_get_status,
	.set_status		= vtdev_set_status,
	.reset			= vtdev_reset,
	.find_vqs		= vtdev_find_vqs,
	.del_vqs		= vtdev_del_vqs,
	.synchronize_cbs	= vtdev_synchronize_cbs,
	.get_features		= vtdev_get_features,
	.finalize_features	= vtdev_finalize_features,
	.bus_name		= vtdev_bus_name,
};

/*
 * System sleep as a PCI transport does it: the device's suspend and
 * resume are the driver's freeze and restore.  The virtio bus has no PM
 * callbacks of its own, so without these a suspend would pass the
 * device by.
 */
#ifdef CONFIG_PM_SLEEP
static int vtdev_pm_freeze(struct device *d)
{
	return virtio_device_freeze(dev_to_virtio(d));
}

static int vtdev_pm_restore(struct device *d)
{
	return virtio_device_restore(dev_to_virtio(d));
}
#endif

static const struct dev_pm_ops vtdev_pm_ops = {
	SET_SYSTEM_SLEEP_PM_OPS(vtdev_pm_freeze, vtdev_pm_restore)
};

static const struct device_type vtdev_type = {
	.name	= "vtdev",
	.pm	= &vtdev_pm_ops,
};

/* ------------------------------------------------------------------ */
/* /dev/vtdev                                                           */

static void vtdev_release(struct device *d)
{
	struct vtdev *dev = to_vtdev(dev_to_virtio(d));
	struct vtdev_msg *m, *tmp;
	u32 i;

	list_for_each_entry_safe(m, tmp, &dev->ctrl_out, node)
		vtdev_msg_free(m);
	for (i = 0; i < VTDEV_MAX_PORTS; i++) {
		vfree(dev->ports[i].fifo);
		vfree(dev->ports[i].pattern);
	}
	if (dev->wq)
		destroy_workqueue(dev->wq);
	kfree(dev->vqs);
	kfree(dev);
}

static int vtdev_create(struct file *file, struct vtdev_create __user *arg)
{
	struct vtdev_create c;
	struct vtdev *dev;
	u32 i;
	int err;

	if (file->private_data)
		return -EBUSY;
	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if ((c.features & ~VTDEV_CONSOLE_FEATURES) ||
	    c.nr_ports > VTDEV_MAX_PORTS || c.queue_size > 32768 ||
	    (c.queue_size & (c.queue_size - 1)) ||
	    (c.flags & ~VTDEV_CF_LEGACY))
		return -EINVAL;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	spin_lock_init(&dev->lock);
	spin_lock_init(&dev->cfg_lock);
	INIT_LIST_HEAD(&dev->ctrl_out);
	INIT_WORK(&dev->work, vtdev_work);
	init_irq_work(&dev->cfg_irq, vtdev_cfg_irq);
	dev->offered = c.features;
	if (!(c.flags & VTDEV_CF_LEGACY))
		dev->offered |= 1ULL << VIRTIO_F_VERSION_1;
	dev->nr_ports = c.nr_ports ? c.nr_ports :
			min_t(u32, c.max_nr_ports, VTDEV_MAX_PORTS);
	if (!dev->nr_ports)
		dev->nr_ports = 1;
	dev->nvqs_max = c.features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) ?
			2 * (dev->nr_ports + 1) : 2;
	dev->qsize = c.queue_size ? c.queue_size : VTDEV_QSIZE;
	dev->vqs = kcalloc(dev->nvqs_max, sizeof(*dev->vqs), GFP_KERNEL);
	dev->wq = alloc_ordered_workqueue("vtdev", 0);
	if (!dev->vqs || !dev->wq) {
		if (dev->wq)
			destroy_workqueue(dev->wq);
		kfree(dev->vqs);
		kfree(dev);
		return -ENOMEM;
	}
	for (i = 0; i < dev->nvqs_max; i++) {
		dev->vqs[i].dev = dev;
		init_irq_work(&dev->vqs[i].irq, vtdev_vq_irq);
	}
	for (i = 0; i < VTDEV_MAX_PORTS; i++) {
		dev->ports[i].tx_sum = FNV_OFFSET;
		dev->ports[i].rx_sum = FNV_OFFSET;
	}
	/* Without multiport there is port 0 and nothing to negotiate. */
	dev->ports[0].exists = !(c.features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT));
	dev->cfg.cols = cpu_to_virtio16(&dev->vdev, c.cols);
	dev->cfg.rows = cpu_to_virtio16(&dev->vdev, c.rows);
	dev->cfg.max_nr_ports = cpu_to_virtio32(&dev->vdev, c.max_nr_ports);

	dev->vdev.id.device = VIRTIO_ID_CONSOLE;
	dev->vdev.id.vendor = 0x1af4;
	dev->vdev.config = &vtdev_config_ops;
	dev->vdev.dev.parent = vtdev_root;
	dev->vdev.dev.type = &vtdev_type;
	dev->vdev.dev.release = vtdev_release;
	/* Before registering: the driver may probe inside the call. */
	file->private_data = dev;
	err = register_virtio_device(&dev->vdev);
	if (err) {
		file->private_data = NULL;
		put_device(&dev->vdev.dev);
		return err;
	}
	/* The file's reference, dropped in vtdev_destroy(). */
	get_device(&dev->vdev.dev);
	c.index = dev->vdev.index;
	return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
}

static void vtdev_destroy(struct file *file)
{
	struct vtdev *dev = file->private_data;

	if (!dev)
		return;
	file->private_data = NULL;
	unregister_virtio_device(&dev->vdev);
	put_device(&dev->vdev.dev);
}

/*
 * The virtio_console_config fields are __virtio types; the device writes
 * them in the byte order it negotiated, which for cols/rows set before
 * negotiation is the order it offered.
 */
static void vtdev_set_cfg(struct vtdev *dev, const struct vtdev_config *c)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->cfg_lock, flags);
	if (c->set & VTDEV_SET_COLS)
		dev->cfg.cols = cpu_to_virtio16(&dev->vdev, c->cols);
	if (c->set & VTDEV_SET_ROWS)
		dev->cfg.rows = cpu_to_virtio16(&dev->vdev, c->rows);
	if (c->set & VTDEV_SET_MAX_PORTS)
		dev->cfg.max_nr_ports = cpu_to_virtio32(&dev->vdev,
							c->max_nr_ports);
	dev->cfg_gen++;
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		irq_work_queue(&dev->cfg_irq);
}

static int vtdev_ctrl_send(struct vtdev *dev, const struct vtdev_ctrl *c)
{
	unsigned long flags;
	struct vtdev_msg *m;

	if (c->len > VTDEV_CTRL_MAX || c->rewrite_us > 100000 ||
	    (c->flags & ~VTDEV_CTL_REWRITE) || c->rewrite_len > c->len)
		return -EINVAL;
	m = vtdev_msg_alloc(c->len, GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->used_len = c->used_len;
	if (copy_from_user(m->data, u64_to_user_ptr(c->data), c->len))
		goto fault;
	if (c->flags & VTDEV_CTL_REWRITE) {
		m->rewrite = memdup_user(u64_to_user_ptr(c->rewrite_data),
					 c->rewrite_len);
		if (IS_ERR(m->rewrite)) {
			m->rewrite = NULL;
			goto fault;
		}
		m->rewrite_len = c->rewrite_len;
		m->rewrite_us = c->rewrite_us;
	}
	spin_lock_irqsave(&dev->lock, flags);
	vtdev_queue_msg(dev, m);
	spin_unlock_irqrestore(&dev->lock, flags);
	return 0;
fault:
	vtdev_msg_free(m);
	return -EFAULT;
}

static void vtdev_get_state(struct vtdev *dev, struct vtdev_state *s)
{
	const struct device_driver *drv;
	unsigned long flags;

	memset(s, 0, sizeof(*s));
	s->status = vtdev_get_status(&dev->vdev);
	s->device_ready = dev->device_ready;
	s->features = dev->vdev.features;
	s->nvqs = dev->nvqs;
	s->ctrl_in = dev->ctrl_in;
	s->ctrl_bad = dev->ctrl_bad;
	s->ctrl_pending = dev->ctrl_pending;
	s->ctrl_out = dev->ctrl_delivered;
	s->errors = dev->errors;
	s->kicks_delayed = dev->kicks_delayed;
	spin_lock_irqsave(&dev->cfg_lock, flags);
	s->emerg_bytes = dev->emerg_bytes;
	s->emerg_sum = dev->emerg_sum;
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	/*
	 * Not under device_lock(): a driver stuck in remove() holds it, and
	 * this must answer then.  The driver struct lives as long as its
	 * module, which the test does not unload while asking.
	 */
	drv = READ_ONCE(dev->vdev.dev.driver);
	if (drv)
		strscpy(s->driver, drv->name, sizeof(s->driver));
}

static void vtdev_get_stats(struct vtdev *dev, struct vtdev_stats *s)
{
	struct vtdev_port *p = &dev->ports[s->id];

	s->exists = p->exists;
	s->guest_ready = p->guest_ready;
	s->guest_open = p->guest_open;
	s->host_open = p->host_open;
	s->mode = p->mode;
	s->tx_bytes = p->tx_bytes;
	s->tx_sum = p->tx_sum;
	s->tx_bufs = p->tx_bufs;
	s->rx_bytes = p->rx_bytes;
	s->rx_sum = p->rx_sum;
	s->rx_bufs = p->rx_bufs;
	s->rx_pending = p->fifo_len + p->src_left;
	s->tx_wsum = vtdev_wsum_now(p);
	if (vtdev_txq(s->id) < dev->nvqs_max) {
		s->tx_swapped = dev->vqs[vtdev_txq(s->id)].swapped;
		s->rx_swapped = dev->vqs[vtdev_rxq(s->id)].swapped;
	}
}

static long vtdev_port_ioctl(struct vtdev *dev, unsigned int cmd,
			     void __user *arg)
{
	union {
		struct vtdev_port_cfg pc;
		struct vtdev_open o;
		struct vtdev_resize r;
		struct vtdev_mode m;
		struct vtdev_source s;
		struct vtdev_write w;
		struct vtdev_stats st;
		u32 id;
	} u;
	struct vtdev_port *p;
	unsigned long flags;
	u8 *buf = NULL, *fifo = NULL, *pat = NULL;
	long ret = 0;
	u64 seed;

	if (copy_from_user(&u, arg, _IOC_SIZE(cmd)))
		return -EFAULT;
	/* Every one of these structs starts with the port id. */
	if (u.id >= dev->nr_ports)
		return -EINVAL;
	if (cmd == VTDEV_PORT_WRITE) {
		if (u.w.len > VTDEV_FIFO_SIZE)
			return -EINVAL;
		buf = vmemdup_user(u64_to_user_ptr(u.w.data), u.w.len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	}
	if (cmd == VTDEV_SOURCE) {
		if (u.s.flags & ~VTDEV_SRC_PATTERN)
			return -EINVAL;
		seed = u.s.seed ? u.s.seed : 0x9e3779b97f4a7c15ULL;
	}
	/*
	 * A pattern is made here, out of the lock, unless the port has the
	 * one of this seed already (the benchmark asks for it again and
	 * again, with the clock running).
	 */
	if (cmd == VTDEV_SOURCE && (u.s.flags & VTDEV_SRC_PATTERN)) {
		spin_lock_irqsave(&dev->lock, flags);
		p = &dev->ports[u.id];
		ret = !p->pattern || p->pat_seed != seed;
		spin_unlock_irqrestore(&dev->lock, flags);
		if (ret) {
			ret = 0;
			pat = vmalloc(VTDEV_PATTERN_SIZE);
			if (!pat) {
				kvfree(buf);
				return -ENOMEM;
			}
			vtdev_make_pattern(pat, seed);
		}
	}
	/* Transmit is served in atomic context: allocate the FIFO here. */
	if ((cmd == VTDEV_PORT_WRITE ||
	     (cmd == VTDEV_PORT_MODE && u.m.mode == VTDEV_MODE_ECHO)) &&
	    !READ_ONCE(dev->ports[u.id].fifo)) {
		fifo = vmalloc(VTDEV_FIFO_SIZE);
		if (!fifo) {
			kvfree(buf);
			return -ENOMEM;
		}
	}
	spin_lock_irqsave(&dev->lock, flags);
	p = &dev->ports[u.id];
	if (fifo && !p->fifo) {
		p->fifo = fifo;
		fifo = NULL;
	}
	switch (cmd) {
	case VTDEV_PORT_ADD:
		if (p->exists) {
			ret = -EEXIST;
			break;
		}
		p->exists = true;
		p->console = u.pc.flags & VTDEV_PF_CONSOLE;
		p->host_open = u.pc.flags & VTDEV_PF_HOST_OPEN;
		p->no_name = u.pc.flags & VTDEV_PF_NO_NAME;
		memcpy(p->name, u.pc.name, sizeof(p->name));
		p->name[sizeof(p->name) - 1] = '\0';
		/* Before DEVICE_READY the port goes out with the others. */
		if (dev->ready)
			vtdev_ctrl(dev, u.id, VIRTIO_CONSOLE_PORT_ADD, 1, NULL,
				   0);
		break;
	case VTDEV_PORT_REMOVE:
		if (!p->exists) {
			ret = -ENOENT;
			break;
		}
		p->exists = false;
		p->guest_ready = 0;
		p->guest_open = 0;
		p->fifo_len = 0;
		p->src_left = 0;
		vtdev_ctrl(dev, u.id, VIRTIO_CONSOLE_PORT_REMOVE, 1, NULL, 0);
		break;
	case VTDEV_HOST_OPEN:
		p->host_open = !!u.o.open;
		if (p->exists && p->guest_ready)
			vtdev_ctrl(dev, u.id, VIRTIO_CONSOLE_PORT_OPEN,
				   p->host_open, NULL, 0);
		break;
	case VTDEV_RESIZE: {
		__virtio16 sz[2] = {
			cpu_to_virtio16(&dev->vdev, u.r.cols),
			cpu_to_virtio16(&dev->vdev, u.r.rows),
		};

		if (vtdev_multiport(dev)) {
			vtdev_ctrl(dev, u.id, VIRTIO_CONSOLE_RESIZE, 0, sz,
				   sizeof(sz));
		} else {
			struct vtdev_config c = {
				.set = VTDEV_SET_COLS | VTDEV_SET_ROWS,
				.cols = u.r.cols, .rows = u.r.rows,
			};

			vtdev_set_cfg(dev, &c);
		}
		break;
	}
	case VTDEV_PORT_MODE:
		if (u.m.mode > VTDEV_MODE_FAST) {
			ret = -EINVAL;
			break;
		}
		p->mode = u.m.mode;
		if (p->mode == VTDEV_MODE_FAST) {
			p->tx_wsum = 0;
			p->tx_wpart = 0;
			p->tx_woff = 0;
		}
		break;
	case VTDEV_SOURCE:
		if (!p->src_left && !p->src_word_left) {
			p->src_state = seed;
			p->src_pat = u.s.flags & VTDEV_SRC_PATTERN;
			p->pat_off = 0;
			if (p->src_pat && pat) {
				swap(p->pattern, pat);
				p->pat_seed = seed;
			}
			/* Another caller's pattern came in between. */
			if (p->src_pat && p->pat_seed != seed) {
				p->src_pat = false;
				ret = -EBUSY;
				break;
			}
		} else if (!!(u.s.flags & VTDEV_SRC_PATTERN) != p->src_pat) {
			ret = -EBUSY;	/* one stream at a time */
			break;
		}
		p->src_left += u.s.bytes;
		break;
	case VTDEV_PORT_WRITE:
		if (!vtdev_fifo_put(p, buf, u.w.len))
			ret = -ENOSPC;
		break;
	case VTDEV_PORT_STATS:
		vtdev_get_stats(dev, &u.st);
		break;
	}
	spin_unlock_irqrestore(&dev->lock, flags);
	vfree(pat);
	vfree(fifo);
	kvfree(buf);
	if (!ret && cmd == VTDEV_PORT_STATS &&
	    copy_to_user(arg, &u.st, sizeof(u.st)))
		ret = -EFAULT;
	vtdev_kick(dev);
	return ret;
}

static long vtdev_ioctl(struct file *file, unsigned int cmd,
			unsigned long uarg)
{
	struct vtdev *dev = file->private_data;
	void __user *arg = (void __user *)uarg;
	union {
		struct vtdev_config c;
		struct vtdev_ctrl ctl;
		struct vtdev_hostile h;
		struct vtdev_state s;
	} u;
	unsigned long flags;
	struct vtdev_vq *q;
	long ret = 0;

	if (cmd == VTDEV_CREATE)
		return vtdev_create(file, arg);
	if (!dev)
		return -ENODEV;
	switch (cmd) {
	case VTDEV_PORT_ADD:
	case VTDEV_PORT_REMOVE:
	case VTDEV_HOST_OPEN:
	case VTDEV_RESIZE:
	case VTDEV_PORT_MODE:
	case VTDEV_SOURCE:
	case VTDEV_PORT_WRITE:
	case VTDEV_PORT_STATS:
		return vtdev_port_ioctl(dev, cmd, arg);
	case VTDEV_SET_CONFIG:
		if (copy_from_user(&u.c, arg, sizeof(u.c)))
			return -EFAULT;
		vtdev_set_cfg(dev, &u.c);
		return 0;
	case VTDEV_CTRL_SEND:
		if (copy_from_user(&u.ctl, arg, sizeof(u.ctl)))
			return -EFAULT;
		ret = vtdev_ctrl_send(dev, &u.ctl);
		vtdev_kick(dev);
		return ret;
	case VTDEV_STATE:
		spin_lock_irqsave(&dev->lock, flags);
		vtdev_get_state(dev, &u.s);
		spin_unlock_irqrestore(&dev->lock, flags);
		return copy_to_user(arg, &u.s, sizeof(u.s)) ? -EFAULT : 0;
	case VTDEV_HOSTILE:
		if (copy_from_user(&u.h, arg, sizeof(u.h)))
			return -EFAULT;
		if (u.h.op == VTDEV_H_BREAK) {
			virtio_break_device(&dev->vdev);
			return 0;
		}
		if (u.h.op == VTDEV_H_FAIL_FIND_VQS) {
			spin_lock_irqsave(&dev->lock, flags);
			dev->fail_find_vqs = true;
			dev->fail_after = u.h.arg;
			spin_unlock_irqrestore(&dev->lock, flags);
			return 0;
		}
		if (u.h.op == VTDEV_H_READY_BAD ||
		    u.h.op == VTDEV_H_READY_OMIT) {
			if (u.h.op == VTDEV_H_READY_OMIT &&
			    u.h.arg >= dev->nr_ports)
				return -EINVAL;
			spin_lock_irqsave(&dev->lock, flags);
			if (u.h.op == VTDEV_H_READY_BAD)
				dev->ready_bad = true;
			else
				dev->ready_omit = u.h.arg + 1;
			spin_unlock_irqrestore(&dev->lock, flags);
			return 0;
		}
		if (u.h.q >= dev->nvqs_max)
			return -EINVAL;
		spin_lock_irqsave(&dev->lock, flags);
		q = &dev->vqs[u.h.q];
		if (u.h.op == VTDEV_H_USED_LEN) {
			q->extra_len = u.h.arg;
		} else if (u.h.op == VTDEV_H_USED_ID) {
			q->bogus_id = true;
			q->bogus = u.h.arg;
		} else if (u.h.op == VTDEV_H_REORDER) {
			q->reorder = u.h.arg;
		} else if (u.h.op == VTDEV_H_KICK_DELAY) {
			q->kick_delay_us = min(u.h.arg, 2000000U);
		} else {
			ret = -EINVAL;
		}
		spin_unlock_irqrestore(&dev->lock, flags);
		vtdev_kick(dev);
		return ret;
	case VTDEV_DESTROY:
		vtdev_destroy(file);
		return 0;
	}
	return -ENOTTY;
}

/* misc_open() left the miscdevice there; each open starts with no device. */
static int vtdev_file_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return nonseekable_open(inode, file);
}

static int vtdev_file_release(struct inode *inode, struct file *file)
{
	vtdev_destroy(file);
	return 0;
}

static const struct file_operations vtdev_fops = {
	.owner		= THIS_MODULE,
	.open		= vtdev_file_open,
	.unlocked_ioctl	= vtdev_ioctl,
	.release	= vtdev_file_release,
};

static struct miscdevice vtdev_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vtdev",
	.fops	= &vtdev_fops,
	.mode	= 0600,
};

static int __init vtdev_init(void)
{
	int err;

	vtdev_root = root_device_register("vtdev");
	if (IS_ERR(vtdev_root))
		return PTR_ERR(vtdev_root);
	err = misc_register(&vtdev_misc);
	if (err)
		root_device_unregister(vtdev_root);
	return err;
}

static void __exit vtdev_exit(void)
{
	misc_deregister(&vtdev_misc);
	root_device_unregister(vtdev_root);
}

module_init(vtdev_init);
module_exit(vtdev_exit);
MODULE_DESCRIPTION("Programmable virtio console device for tests");
MODULE_LICENSE("GPL");
