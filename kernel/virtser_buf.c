// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers: allocation, filling from user memory, and freeing.  Handing
 * them to the device is virtser_rx.c's and virtser_tx.c's business.
 *
 * Receive buffers are one page each.  Transmit buffers are built from
 * pages described by a scatterlist, so a 256 KiB write is one virtqueue
 * entry (one indirect descriptor) that never depends on a high-order
 * allocation.
 */
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "virtser_internal.h"

/* Source of vs_tx_cache.cookie; 0 (vs_buf.owner's "none") is never given. */
static atomic64_t vs_tx_cookies = ATOMIC64_INIT(0);

/**
 * vs_tx_cache_init() - set up a new port's transmit page cache
 * @cache: the cache, not yet visible to anyone
 *
 * Context: any.
 */
void vs_tx_cache_init(struct vs_tx_cache *cache)
{
	unsigned int o;

	spin_lock_init(&cache->lock);
	for (o = 0; o <= VS_TX_SEG_ORDER; o++)
		INIT_LIST_HEAD(&cache->pages[o]);
	cache->bytes = 0;
	cache->cookie = atomic64_inc_return(&vs_tx_cookies);
}

/*
 * A cached segment of exactly @order, or NULL; the caller owns it.  Only
 * the exact order: handing out smaller ones would build big writes from
 * many small segments (which cost QEMU one write() each), and those go
 * back into the cache, so after one phase of small writes or one
 * fragmented moment a port would stay on order-0 pages for good.
 */
static struct page *vs_tx_cache_take(struct vs_tx_cache *cache,
				     unsigned int order)
{
	struct page *page;
	unsigned long flags;

	spin_lock_irqsave(&cache->lock, flags);
	page = list_first_entry_or_null(&cache->pages[order], struct page, lru);
	if (page) {
		list_del(&page->lru);
		cache->bytes -= PAGE_SIZE << order;
	}
	spin_unlock_irqrestore(&cache->lock, flags);
	return page;
}

/**
 * vs_tx_cache_put() - free a used transmit buffer, keeping its pages
 * @cache: the cache of the port whose queue gave @buf back
 * @buf: buffer back from the device; the caller owned it, and it is gone
 *
 * Pages of a buffer allocated for @cache go to it up to VS_TX_CACHE_MAX
 * bytes, the rest to the page allocator.  A buffer of another cache (one
 * the port plugged at this id before left on the queue) holds that
 * port's data, and a reused page is overwritten only as far as the next
 * write reaches: it is freed.  Zero-copy and small buffers are freed as
 * by vs_buf_free_used().  The device gave the buffer back and the virtio
 * core unmapped it, so no one else looks at the pages kept.
 *
 * Context: any.
 */
void vs_tx_cache_put(struct vs_tx_cache *cache, struct vs_buf *buf)
{
	unsigned int i, order;
	unsigned long flags;
	struct page *page;
	size_t size;

	if (buf->zc || buf->data || buf->owner != cache->cookie) {
		vs_buf_free_used(buf);
		return;
	}
	spin_lock_irqsave(&cache->lock, flags);
	for (i = 0; i < buf->nr_pages; i++) {
		page = buf->pages[i];
		order = compound_order(page);
		size = PAGE_SIZE << order;
		if (order <= VS_TX_SEG_ORDER &&
		    cache->bytes + size <= VS_TX_CACHE_MAX) {
			list_add(&page->lru, &cache->pages[order]);
			cache->bytes += size;
			buf->pages[i] = NULL;	/* the cache's now */
		}
	}
	spin_unlock_irqrestore(&cache->lock, flags);
	for (i = 0; i < buf->nr_pages; i++)
		if (buf->pages[i])
			put_page(buf->pages[i]);
	buf->nr_pages = 0;
	vs_buf_free(buf);
}

/**
 * vs_tx_cache_bytes() - bytes a transmit page cache holds (sysfs)
 * @cache: the cache
 *
 * Context: any.
 * Return: the bytes, at most VS_TX_CACHE_MAX.
 */
size_t vs_tx_cache_bytes(struct vs_tx_cache *cache)
{
	unsigned long flags;
	size_t bytes;

	spin_lock_irqsave(&cache->lock, flags);
	bytes = cache->bytes;
	spin_unlock_irqrestore(&cache->lock, flags);
	return bytes;
}

/**
 * vs_tx_cache_drop() - give every cached page back to the page allocator
 * @cache: the cache
 *
 * Context: any.
 */
void vs_tx_cache_drop(struct vs_tx_cache *cache)
{
	struct page *page, *next;
	unsigned long flags;
	LIST_HEAD(pages);
	unsigned int o;

	spin_lock_irqsave(&cache->lock, flags);
	for (o = 0; o <= VS_TX_SEG_ORDER; o++)
		list_splice_init(&cache->pages[o], &pages);
	cache->bytes = 0;
	spin_unlock_irqrestore(&cache->lock, flags);
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		put_page(page);		/* a whole segment, any order */
	}
}

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
 * Transmit segments are taken up to VS_TX_SEG_ORDER (32 KiB) when the
 * page allocator has such a block at hand, without reclaim, compaction
 * or a warning, and are order-0 pages otherwise: no write ever depends on
 * a high-order allocation succeeding.  The larger segments matter to the
 * host: QEMU passes each descriptor of a virtio-serial buffer to its
 * chardev as a separate write(), so a 256 KiB buffer of order-0 pages
 * costs it 64 system calls, and one of 32 KiB segments 8.
 *
 * The port's cache of used pages (struct vs_tx_cache) comes first: a
 * fresh page costs a clearing (init_on_alloc, on in Debian's kernels)
 * and its freeing later, which traced at over half of a 64 KiB write.
 */
#define VS_TX_SEG_GFP		((GFP_KERNEL | __GFP_COMP | __GFP_NOWARN | \
				  __GFP_NORETRY) & ~__GFP_DIRECT_RECLAIM)

static struct page *vs_tx_seg_alloc(struct vs_tx_cache *cache, size_t want,
				    unsigned int *order)
{
	struct page *page;

	*order = 0;
	if (want > PAGE_SIZE)
		*order = min_t(unsigned int, VS_TX_SEG_ORDER,
			       ilog2(want >> PAGE_SHIFT));
	page = vs_tx_cache_take(cache, *order);
	if (page)
		return page;
	if (*order) {
		page = alloc_pages(VS_TX_SEG_GFP, *order);
		if (page)
			return page;
		*order = 0;
		page = vs_tx_cache_take(cache, 0);
		if (page)
			return page;
	}
	return alloc_page(GFP_KERNEL);
}

/**
 * vs_buf_alloc_tx() - allocate a page-backed transmit buffer
 * @cache: the writing port's cache: its pages are taken first
 * @len: bytes needed, at most VS_TX_MAX_PAGES pages
 *
 * The scatterlist covers exactly @len bytes in segments of one to eight
 * pages (see VS_TX_SEG_ORDER), or in one kmalloc'd segment below a page;
 * vs_buf_fill_tx() shortens it when fewer bytes could be copied in.
 *
 * Context: process; may sleep.
 * Return: the buffer, or NULL.
 */
struct vs_buf *vs_buf_alloc_tx(struct vs_tx_cache *cache, size_t len)
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
	buf->owner = cache->cookie;
	while (done < len) {
		page = vs_tx_seg_alloc(cache, len - done, &order);
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

/**
 * vs_add_unmapped() - did a virtqueue add fail for want of a DMA mapping?
 * @vq: the queue
 * @err: what virtqueue_add_inbuf() or virtqueue_add_outbuf() returned
 *
 * Under swiotlb (SEV, TDX, swiotlb=force) a full bounce pool makes the
 * mapping fail: the split ring then says -ENOMEM, the packed ring -EIO,
 * which on a broken queue means only that.  A transient failure: it
 * passes once the device returns buffers and their bounce space.
 *
 * Context: any.
 */
bool vs_add_unmapped(struct virtqueue *vq, int err)
{
	return err == -ENOMEM || (err == -EIO && !virtqueue_is_broken(vq));
}

/**
 * vs_buf_drain_used() - free what the device returned on a queue no port owns
 * @vq: the queue
 *
 * Used by the owner of a port's queues between ports (vs_dev, under
 * ports_lock): the buffers were the previous port's.
 *
 * Context: any.
 */
void vs_buf_drain_used(struct virtqueue *vq)
{
	struct vs_buf *buf;
	unsigned int len;

	while ((buf = virtqueue_get_buf(vq, &len)))
		vs_buf_free_used(buf);
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
