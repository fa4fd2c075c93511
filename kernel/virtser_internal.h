/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structures shared by the files of virtser.ko.
 *
 * Lifetimes:
 *   struct vs_driver   the module (one, static in virtser_main.c)
 *   struct vs_dev      one bound virtio device; kref'd, because ports and
 *                      their open files may outlive the device
 *   struct vs_port     one port; kref'd, because open files, the port
 *                      table and in-flight virtqueue callbacks all use it
 *   struct vs_buf      one buffer handed to a virtqueue; owned either by
 *                      the virtqueue (between add and get) or by whoever
 *                      took it out, as noted at each handoff
 *
 * Lock order (outer first):
 *   vs_dev.ports_mutex or vs_port.read_mutex (never both) ->
 *   vs_dev.ports_lock -> vs_port.inbuf_lock / vs_port.outvq_lock ->
 *   vs_dev.c_ivq_lock / vs_dev.c_ovq_lock / vs_port.tx_cache.lock
 * read_mutex is held across copies to user memory, which may wait for a
 * page as long as the memory takes, so nothing that holds ports_mutex
 * (control work, unplug, freeze, removal) may wait for it.
 * No spinlock is held across a sleep, and no spinlock is held while
 * waiting for the device: control sends and writes sleep on waitqueues
 * with a timeout or a signal instead of spinning on the ring.
 *
 * Who may touch a virtqueue when (Documentation/design.rst): each queue
 * has one owner at a time, and every use of it, notify included, is under
 * the owner's lock with the queue pointer read under that lock:
 *   a port's receive queue   the port (inbuf_lock), from vs_port_add() or
 *                            restore until vs_rx_detach() (or, at a
 *                            freeze, vs_rx_freeze())
 *   a port's transmit queue  the port (outvq_lock), likewise until
 *                            vs_tx_detach()
 *   either, with no port     vs_dev (ports_lock), only while no port is at
 *                            that id in the table
 *   control receive queue    c_ivq_lock;  control transmit: c_ovq_lock
 *   every queue, after a reset, with all the above let go: freeze and
 *                            remove (ports_mutex), to free the buffers
 * A port leaves the table only after detaching, so two owners never
 * overlap, and removal frees a queue only after its owner let go, which
 * waits for whoever was still inside the lock.
 */
#ifndef VIRTSER_INTERNAL_H
#define VIRTSER_INTERNAL_H

#include <linux/cdev.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/virtio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "proto/virtser_proto.h"

struct hvc_struct;

/* Largest single transmit buffer: 64 order-0 pages, one indirect chain. */
#define VS_TX_MAX_PAGES		64
/* Bytes a port may have in flight to the host before writers wait. */
#define VS_TX_INFLIGHT_MAX	(4U << 20)
/* In flight below this, used transmit buffers wait for the next write. */
#define VS_TX_LAZY		(256U << 10)
/*
 * Largest transmit segment: PAGE_ALLOC_COSTLY_ORDER (32 KiB), see
 * vs_tx_seg_alloc() in virtser_buf.c.
 */
#define VS_TX_SEG_ORDER		PAGE_ALLOC_COSTLY_ORDER
/*
 * Bytes of used transmit pages a port keeps for its next writes (see
 * vs_tx_cache_put()): two of the largest buffers, so a writer that
 * waits for room and then writes again finds its pages there, while an
 * idle port pins at most 512 KiB (and none once its last file closes).
 */
#define VS_TX_CACHE_MAX		(2U * VS_TX_MAX_PAGES * PAGE_SIZE)
/* Blocking writes of at least this much user memory are not copied. */
#define VS_ZC_MIN		(256U << 10)
/* How long a control send waits for ring space before giving up. */
#define VS_CTRL_TIMEOUT		(5 * HZ)

/**
 * struct vs_buf - one buffer posted to a virtqueue
 * @list: link in vs_port.rxq (receive) while the port owns it; off the
 *	list while a reader copies from it
 * @data: kernel mapping of a single receive or control buffer, or NULL
 *	for transmit buffers built from pages
 * @size: capacity of @data or total length of @pages
 * @len: valid bytes (receive: as clamped by vs_used_len())
 * @offset: bytes already consumed by readers
 * @nr_pages: number of segments in @pages and @sg (transmit only)
 * @nr_sg: entries of @sg holding data (transmit only)
 * @pages: segments of a transmit buffer: order-0 pages or compound
 *	pages of up to PAGE_ALLOC_COSTLY_ORDER, or for a zero-copy write
 *	the writer's pages (one page reference each)
 * @zc: the zero-copy write whose pages these are, or NULL
 * @owner: vs_tx_cache.cookie of the cache a copied transmit buffer was
 *	allocated for (0 otherwise): only that cache takes its pages back,
 *	never the cache of the next port to own the queue
 * @sg: scatterlist describing the buffer to the virtqueue
 *
 * Receive buffers are one page; transmit buffers are up to VS_TX_MAX_PAGES
 * pages in segments of up to 32 KiB, taken only when free without
 * reclaim, so that large writes never need high-order allocations.
 */
struct vs_buf {
	struct list_head list;
	void *data;
	size_t size;
	size_t len;
	size_t offset;
	unsigned int nr_pages;
	unsigned int nr_sg;
	struct page **pages;
	struct vs_zc *zc;
	u64 owner;
	struct scatterlist sg[];
};

/**
 * struct vs_zc - a zero-copy write waiting for the device
 * @ref: the writer holds one reference and each of its queued buffers one;
 *	the last put frees it
 * @pending: queued buffers the device has not returned yet
 * @sent: bytes of the buffers the device used (it consumes in order, so
 *	they are the first @sent bytes of the write)
 * @port: referenced until @ref drops to zero; the writer sleeps on its
 *	waitqueue
 *
 * The buffers' data are the writer's own pages, so the writer returns
 * only when @pending is zero, or when the port is unplugged or the writer
 * is killed; the buffers keep their page references until the device or
 * a reset returns them.
 */
struct vs_zc {
	refcount_t ref;
	atomic_t pending;
	atomic_long_t sent;
	struct vs_port *port;
};

/**
 * struct vs_tx_cache - a port's used transmit pages (virtser_buf.c)
 * @lock: irq-safe spinlock, innermost: the transmit reclaim puts pages
 *	here under vs_port.outvq_lock.  Protects @pages and @bytes.
 * @pages: one list per order up to VS_TX_SEG_ORDER, linked through
 *	page->lru; vs_buf_alloc_tx() takes from them before the page
 *	allocator.  The pages hold this port's earlier data: only buffers
 *	allocated for this cache (@cookie) come back to it, so no page
 *	carries one port's data to another
 * @bytes: bytes on @pages, at most VS_TX_CACHE_MAX
 * @cookie: set once at creation, unique for the module's lifetime (so a
 *	port freed and another allocated at its address do not match);
 *	read without a lock
 *
 * Emptied when the port lets go of its transmit queue (unplug, freeze,
 * removal) and when a file of the port is closed.
 */
struct vs_tx_cache {
	spinlock_t lock;		/* irq-safe; see above */
	struct list_head pages[VS_TX_SEG_ORDER + 1];
	size_t bytes;
	u64 cookie;
};

/**
 * struct vs_port - one virtio-serial port
 *
 * Set once before the port is published, then constant:
 * @kref: the port table, each open file and each running vq callback
 *	hold a reference; vs_port_release() frees the port
 * @vsdev: the device; a reference is held until the port is freed, but
 *	the virtio device behind it may be gone (see @unplugged)
 * @id: port id
 * @devt: char device number
 *
 * Protected by vs_dev.ports_mutex (sleeping paths: control work, unplug):
 * @cdev: NULL once unplugged
 * @dev: class device, NULL once unplugged
 * @debugfs: debugfs file, NULL once unplugged
 * @name: port name from PORT_NAME, NULL until named; freed with the port
 * @rx_allocated: receive buffers have been posted for this port
 * @name_check: answered a PORT_ADD of the resume announcement; the next
 *	PORT_NAME may say the id was replaced while frozen (virtser_ctrl.c)
 *
 * @inbuf_lock: spinlock for the receive side (virtser_rx.c); irq-safe
 *	because the rx virtqueue callback takes it.  Protects:
 * @in_vq: receive virtqueue, NULL once detached (unplugged, frozen,
 *	removed); used, notify included, only under @inbuf_lock
 * @rxq: filled buffers taken from @in_vq, oldest first; a buffer on this
 *	list belongs to the port.  Buffers are appended under @inbuf_lock
 *	only; they are removed under @inbuf_lock by the port's only reader
 *	or by detach.  The reader is a holder of @read_mutex for generic
 *	ports: it takes the head buffer off the list to copy from it to
 *	user space without the spinlock, owns it meanwhile, and puts back
 *	what it did not read at the head (or frees it once @unplugged);
 *	for console ports it is hvc's get_chars (hvc serialises it; console
 *	ports cannot be opened, so there is no other reader), which copies
 *	under the spinlock and leaves the buffer on the list.  A freeze
 *	keeps it (vs_rx_freeze()): what was unread, and then what the
 *	device had filled, stays queued across restore, at most one ring
 *	of buffers
 * @rx_bytes: sum of unread bytes on @rxq and in the buffer a reader has
 *	taken off it
 * @guest_connected: a file is open (always true for consoles); written
 *	under @inbuf_lock, read locklessly in wait conditions
 * @bytes_received: bytes the device reported, before clamping
 * @bytes_discarded: bytes dropped without being read
 * @rx_overflow_warned: a too-long used length was already reported
 * @rx_spare: empty receive buffers the device could not be given
 *	(a full swiotlb bounce pool: DMA mapping failed); the port's, posted
 *	again by the next interrupt or read, or by @rx_retry
 * @rx_nspare: buffers on @rx_spare
 * @rx_map_failed: failed attempts to post a receive buffer for want of
 *	a DMA mapping, retries included (sysfs)
 * @rx_retry: posts @rx_spare again while it is not empty; armed under
 *	@inbuf_lock, cancelled (synchronously) once @in_vq is cleared
 * @rx_retry_delay: @rx_retry's next delay in jiffies, doubled after
 *	each failed retry up to a second, back to the minimum on success
 *
 * @outvq_lock: spinlock for the transmit side (virtser_tx.c); irq-safe
 *	because the tx callback and hvc put_chars (from any context) take
 *	it.  Protects:
 * @out_vq: transmit virtqueue, NULL once detached (unplugged, frozen,
 *	removed); used, notify included, only under @outvq_lock
 * @outvq_full: the last add found no room (debugfs only)
 * @tx_inflight: bytes handed to the device and not yet returned
 * @bytes_sent: bytes handed to the device
 * @cons_stalled: console output gave up waiting for the host and hands
 *	chunks back to hvc; cleared when the host returns a buffer.  Kept
 *	under @outvq_lock, not @inbuf_lock, because put_chars may run from
 *	a printk issued while @inbuf_lock is held.
 * @tx_nomap: a buffer could not be DMA-mapped (a full swiotlb bounce
 *	pool) while buffers were in flight on the queue: no room until
 *	the device returns one, which gives its bounce space back
 * @tx_map_failed: buffers that could not be DMA-mapped (sysfs)
 *
 * @tx_cache: used transmit pages for the port's next writes; its own
 *	lock, taken inside @outvq_lock by the reclaim
 *
 * @read_mutex: serialises readers (see @rxq), so that reads stay in
 *	order; held across the copy to user memory, so only readers, open
 *	and release take it, never a path holding ports_mutex.
 *
 * Written from control work without a lock, read locklessly
 * (READ_ONCE/WRITE_ONCE) by wait conditions and poll:
 * @host_connected: the host has the port open
 * @unplugged: the port was removed; I/O on open files returns -ENODEV
 *
 * Other:
 * @waitqueue: readers, writers and poll sleep here
 * @async_queue: fasync list (fasync_helper locks it internally)
 * @hvc: hvc console, NULL if not a console; set and cleared under
 *	vs_dev.ports_mutex and the global console list lock
 * @is_console: the port is a console: written under ports_mutex *and*
 *	@inbuf_lock, so that open() (which checks it under @inbuf_lock) and
 *	vs_cons_init() (which checks @guest_connected under it) exclude each
 *	other; read under either lock or with READ_ONCE
 * @vtermno: hvc terminal number (0 if not a console)
 * @cons_list: link in the global console list (console list lock)
 * @cols: last console width from the host (written under ports_mutex,
 *	read locklessly with READ_ONCE by hvc's notifier_add)
 * @rows: last console height from the host (as @cols)
 */
struct vs_port {
	struct kref kref;
	struct vs_dev *vsdev;
	u32 id;
	dev_t devt;

	struct cdev *cdev;
	struct device *dev;
	struct dentry *debugfs;
	char *name;
	bool rx_allocated;
	bool name_check;

	spinlock_t inbuf_lock;		/* irq-safe; see above */
	struct virtqueue *in_vq;
	struct list_head rxq;
	size_t rx_bytes;
	bool guest_connected;
	unsigned long bytes_received;
	unsigned long bytes_discarded;
	bool rx_overflow_warned;
	struct list_head rx_spare;
	unsigned int rx_nspare;
	unsigned long rx_map_failed;
	struct delayed_work rx_retry;
	unsigned long rx_retry_delay;

	spinlock_t outvq_lock;		/* irq-safe; see above */
	struct virtqueue *out_vq;
	bool outvq_full;
	size_t tx_inflight;
	unsigned long bytes_sent;
	bool cons_stalled;
	bool tx_nomap;
	unsigned long tx_map_failed;
	struct vs_tx_cache tx_cache;

	struct mutex read_mutex;	/* serialises readers */

	bool host_connected;
	bool unplugged;

	wait_queue_head_t waitqueue;
	struct fasync_struct *async_queue;

	struct hvc_struct __rcu *hvc;
	bool is_console;
	u32 vtermno;
	struct list_head cons_list;
	u16 cols;
	u16 rows;
};

/**
 * struct vs_dev - one virtio console device
 *
 * Constant after probe (until remove):
 * @vdev: the virtio device
 * @kref: held by the device binding and by every port
 * @multiport: VIRTIO_CONSOLE_F_MULTIPORT negotiated
 * @emerg: VIRTIO_CONSOLE_F_EMERG_WRITE negotiated
 * @max_nr_ports: number of port ids, validated by vs_config_max_ports()
 * @devt_base: first char device number of the region (minor = port id)
 * @nvqs: number of virtqueues
 * @tx_max_pages: pages per transmit buffer: VS_TX_MAX_PAGES with indirect
 *	descriptors (one descriptor per buffer), else 1 so a buffer never
 *	needs more descriptors than a ring can free up
 * @max_seg: longest single descriptor the DMA layer can map
 *	(virtio_max_dma_size(): 256 KiB under swiotlb); zero-copy buffers
 *	merge adjacent pages only up to it
 *
 * @vqs: all virtqueues, or all NULL while there are none (frozen, after
 *	a failed restore, removed); entries written under @ports_mutex by
 *	probe, freeze, restore and remove, read under it by vs_port_add().
 *	Ports copy their own two under their locks; the control queues are
 *	below.
 * @ports_mutex: serialises port creation, unplug, naming and console
 *	setup (all from control work, probe, remove and PM)
 * @ports_lock: irq-safe; protects @ports, the id-indexed port table that
 *	vq callbacks and open() look ports up in, and owns the queues of
 *	every id that has no port (drained by the callbacks under it)
 * @ports: port pointers indexed by id; each holds a port reference
 * @c_ivq_lock: protects @c_ivq; every use of the queue, notify included
 * @c_ivq: control receive queue, NULL when there is none, frozen or
 *	after a failed restore
 * @c_ovq_lock: protects @c_ovq, as @c_ivq_lock
 * @c_ovq: control transmit queue, NULL as @c_ivq
 * @c_ovq_wait: control senders waiting for ring space
 * @ctrl_work: parses control messages (process context)
 * @config_work: handles config changes (non-multiport resize)
 * @list: link in the module's device list (vs_driver lock)
 * @ready: callbacks may queue work; cleared first on remove/freeze
 *	(ports_lock)
 * @ctrl_trailing: control messages that had bytes after their fixed
 *	part (accepted; written by ctrl_work only, WRITE_ONCE)
 * @console_refused: CONSOLE_PORT messages refused because the port was
 *	open as a generic port (ports_mutex, WRITE_ONCE)
 *
 * Resume reconciliation (see virtser_ctrl.c), between restore's
 * DEVICE_READY and the drain after the device returned it:
 * @ready_buf: that DEVICE_READY message while the device owns it, else
 *	NULL (c_ovq_lock; compared, never dereferenced, by reclaim)
 * @ready_used: the device returned @ready_buf (c_ovq_lock)
 * @reconciling: the window is open (ports_mutex)
 * @announced: ids announced (PORT_ADD) in the window, max_nr_ports bits,
 *	NULL without multiport (ports_mutex)
 * @ctrl_room: control receive buffers the device had when DEVICE_READY
 *	was sent (ports_mutex; read from the queue under c_ivq_lock)
 * @ctrl_taken: control buffers taken in the window (ports_mutex)
 * @ctrl_lost: a control message in the window was invalid or overran its
 *	buffer, so the announcement may be incomplete (ports_mutex)
 * @reconcile_skipped: windows closed without removing anything because
 *	the announcement could have been incomplete (ports_mutex, WRITE_ONCE)
 */
struct vs_dev {
	struct virtio_device *vdev;
	struct kref kref;
	bool multiport;
	bool emerg;
	u32 max_nr_ports;
	dev_t devt_base;
	unsigned int nvqs;
	unsigned int tx_max_pages;
	size_t max_seg;

	struct virtqueue **vqs;
	struct mutex ports_mutex;	/* port add/unplug/naming */
	spinlock_t ports_lock;		/* @ports table, @ready */
	struct vs_port **ports;

	spinlock_t c_ivq_lock;		/* @c_ivq */
	struct virtqueue *c_ivq;
	spinlock_t c_ovq_lock;		/* @c_ovq */
	struct virtqueue *c_ovq;
	wait_queue_head_t c_ovq_wait;

	struct work_struct ctrl_work;
	struct work_struct config_work;
	struct list_head list;
	bool ready;
	unsigned long ctrl_trailing;
	unsigned long console_refused;

	struct vs_buf *ready_buf;
	bool ready_used;
	bool reconciling;
	unsigned long *announced;
	unsigned int ctrl_room;
	unsigned int ctrl_taken;
	bool ctrl_lost;
	unsigned long reconcile_skipped;
};

/**
 * struct vs_port_stats - snapshot of a port's state for sysfs and debugfs
 * @guest_connected: a file is open (or the port is a console)
 * @outvq_full: the last transmit add found the ring full
 * @bytes_sent: bytes handed to the device
 * @bytes_received: bytes the device reported, before clamping
 * @bytes_discarded: bytes dropped without being read
 * @tx_inflight: bytes handed to the device and not yet returned
 * @tx_map_failed: transmit buffers that could not be DMA-mapped
 * @rx_map_failed: receive posts that failed for want of a DMA mapping
 * @tx_cached: bytes of used transmit pages kept for the next writes
 * @rx_bytes: bytes received and not yet read
 */
struct vs_port_stats {
	bool guest_connected;
	bool outvq_full;
	unsigned long bytes_sent;
	unsigned long bytes_received;
	unsigned long bytes_discarded;
	size_t tx_inflight;
	unsigned long tx_map_failed;
	unsigned long rx_map_failed;
	size_t tx_cached;
	size_t rx_bytes;
};

/*
 * Who calls whom: a file only calls files below it in this list, never
 * one above (scripts/callgraph.sh --functions checks it on the objects):
 *   virtser_main.c, virtser_dev.c, virtser_fops.c, virtser_ctrl.c,
 *   virtser_hotplug.c, virtser_cons.c, virtser_debugfs.c,
 *   virtser_rx.c, virtser_tx.c, virtser_buf.c, virtser_port.c
 * (main's vs_class() is the one exception: a leaf that calls nothing.)
 */

/* virtser_main.c */
struct class *vs_class(void);
extern struct dentry *vs_debugfs_root;
extern bool vs_keep_unread;
extern bool vs_tx_zerocopy;

/* virtser_port.c: lifetimes and lookup */
void vs_dev_put(struct vs_dev *vsdev);
void vs_port_put(struct vs_port *port);
struct vs_port *vs_port_get(struct vs_dev *vsdev, u32 id);
struct vs_port *vs_port_get_by_devt(dev_t devt);
void vs_dev_register(struct vs_dev *vsdev);
void vs_dev_unregister(struct vs_dev *vsdev);

/* virtser_buf.c: allocation and freeing only */
struct vs_buf *vs_buf_alloc_rx(gfp_t gfp);
struct vs_buf *vs_buf_alloc_data(size_t size, gfp_t gfp);
struct vs_buf *vs_buf_alloc_tx(struct vs_tx_cache *cache, size_t len);
void vs_tx_cache_init(struct vs_tx_cache *cache);
void vs_tx_cache_put(struct vs_tx_cache *cache, struct vs_buf *buf);
void vs_tx_cache_drop(struct vs_tx_cache *cache);
size_t vs_tx_cache_bytes(struct vs_tx_cache *cache);
size_t vs_buf_fill_tx(struct vs_buf *buf, struct iov_iter *from);
struct vs_buf *vs_buf_alloc_user(struct iov_iter *from, unsigned int max_pages,
				 size_t max_seg, ssize_t *got);
void vs_buf_free(struct vs_buf *buf);
void vs_buf_free_used(struct vs_buf *buf);
bool vs_add_unmapped(struct virtqueue *vq, int err);
void vs_buf_drain_used(struct virtqueue *vq);
void vs_vq_free_all(struct virtqueue *vq);
struct vs_zc *vs_zc_alloc(struct vs_port *port);
void vs_zc_put(struct vs_zc *zc);

/* virtser_rx.c: the receive queue, under inbuf_lock */
void vs_rx_init(struct vs_port *port);
int vs_rx_fill(struct vs_port *port, gfp_t gfp, bool *arrived);
bool vs_rx_intr(struct vs_port *port);
ssize_t vs_rx_take(struct vs_port *port, struct iov_iter *to, bool *arrived);
void vs_rx_discard(struct vs_port *port, bool *arrived);
void vs_rx_attach(struct vs_port *port, struct virtqueue *vq);
bool vs_rx_unread(struct vs_port *port);
void vs_rx_freeze(struct vs_port *port);
void vs_rx_detach(struct vs_port *port);
void vs_rx_stats(struct vs_port *port, struct vs_port_stats *st);

/* virtser_tx.c: the transmit queue, under outvq_lock */
#define VS_TX_KICK	BIT(0)	/* kick at once */
#define VS_TX_CONSOLE	BIT(1)	/* hvc's put_chars: stall instead of waiting */
#define VS_TX_LAST	BIT(2)	/* with VS_TX_CONSOLE: the last try */
int vs_tx_queue(struct vs_port *port, struct vs_buf *buf, unsigned int flags);
void vs_tx_kick(struct vs_port *port);
void vs_tx_reclaim(struct vs_port *port);
bool vs_tx_room(struct vs_port *port);
void vs_tx_intr(struct vs_port *port);
bool vs_tx_zc_settled(struct vs_port *port, struct vs_zc *zc);
void vs_tx_attach(struct vs_port *port, struct virtqueue *vq);
void vs_tx_detach(struct vs_port *port);
void vs_tx_stats(struct vs_port *port, struct vs_port_stats *st);

/* virtser_ctrl.c */
int vs_ctrl_send(struct vs_dev *vsdev, u32 id, u16 event, u16 value);
int vs_ctrl_send_ready(struct vs_dev *vsdev, bool reconcile);
void vs_ctrl_forget_ready(struct vs_dev *vsdev);
void vs_ctrl_work(struct work_struct *work);
void vs_config_work(struct work_struct *work);
int vs_ctrl_fill(struct vs_dev *vsdev);
void vs_ctrl_reclaim(struct vs_dev *vsdev);

/* virtser_hotplug.c */
int vs_port_add(struct vs_dev *vsdev, u32 id);
void vs_port_unplug(struct vs_port *port);
void vs_port_set_name(struct vs_port *port, const char *name, u32 len);
void vs_port_host_open(struct vs_port *port, bool open);
void vs_port_signal(struct vs_port *port);
void vs_port_data_arrived(struct vs_port *port);
extern const struct attribute_group *vs_port_groups[];

/* virtser_fops.c */
extern const struct file_operations vs_fops;

/* virtser_cons.c */
void vs_cons_module_init(void);
void vs_cons_module_exit(void);
int vs_cons_init(struct vs_port *port);
void vs_cons_remove(struct vs_port *port);
void vs_cons_resize(struct vs_port *port, u16 cols, u16 rows);
void vs_cons_rx(struct vs_port *port);
void vs_cons_tx_done(struct vs_port *port);

/* virtser_debugfs.c */
void vs_debugfs_add(struct vs_port *port);
void vs_debugfs_remove(struct vs_port *port);

/* virtser_dev.c */
extern struct virtio_driver vs_virtio_driver;

#endif /* VIRTSER_INTERNAL_H */
