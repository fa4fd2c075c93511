// SPDX-License-Identifier: GPL-2.0
/*
 * The control virtqueues.
 *
 * Receiving: the c_ivq callback only queues ctrl_work.  The work takes one
 * buffer at a time, checks it with vs_ctrl_parse(), copies what it needs,
 * gives the buffer straight back to the device and only then acts on the
 * message.  Re-posting before acting matters: acting on PORT_ADD sends
 * PORT_READY, to which QEMU answers with up to three more messages, and
 * QEMU silently drops control messages when it finds no free buffer.
 *
 * Both queues are used only under their locks (c_ivq_lock, c_ovq_lock),
 * notifies included, so removal, which clears the pointers under the same
 * locks, waits for a send or re-post still in progress.
 *
 * Sending: each message gets its own small buffer, which the c_ovq
 * callback frees when the device returns it.  The sender never waits for
 * the device to consume a message (the in-tree driver spins with a
 * spinlock held until it does); it waits only for ring space, on a
 * waitqueue, with a timeout, so a stalled host costs a warning rather than
 * a hung CPU.  Messages keep their order because the ring does.
 *
 * Resume reconciliation.  QEMU drops PORT_REMOVE (and every message) while
 * the guest is frozen, so a port removed then would survive resume, and a
 * port plugged later at its id would be answered by the stale port.
 * Restore therefore sends DEVICE_READY through vs_ctrl_send_ready(), which
 * opens a window.  QEMU handles each control message to the end before it
 * returns its buffer, and answers DEVICE_READY with a PORT_ADD for every
 * port it has: once the DEVICE_READY buffer is back, one more drain of the
 * receive queue sees the whole announcement.  ctrl_work then closes the
 * window: a port whose id was not announced is unplugged as a PORT_REMOVE
 * would.  A known port that was announced is asked for its state again
 * (PORT_READY); if the PORT_NAME that answers gives it another name, the
 * id was removed and plugged again while frozen (QEMU names a port only
 * once), so the old port goes and a new one takes the name.
 *
 * Nothing is removed when the announcement may be incomplete: QEMU drops a
 * message when it finds no receive buffer, which can only have happened if
 * the window took as many buffers as the device had when DEVICE_READY was
 * sent (@ctrl_room), and an invalid or overrun message may have been a
 * PORT_ADD.  The window then closes without removing anything (counted in
 * @reconcile_skipped and logged).  A device that never returns DEVICE_READY
 * keeps the window open, which only means that a PORT_ADD for a known port
 * lets the next PORT_NAME replace it (one message each); one that returns
 * it before announcing makes the guest unplug ports, which PORT_REMOVE
 * could do anyway.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <uapi/linux/virtio_console.h>

#include "virtser_internal.h"

/* Free control messages the device has consumed.  c_ovq_lock held. */
static void vs_ctrl_reclaim_locked(struct vs_dev *vsdev)
{
	struct vs_buf *buf;
	unsigned int len;

	while (vsdev->c_ovq && (buf = virtqueue_get_buf(vsdev->c_ovq, &len))) {
		if (buf == vsdev->ready_buf) {
			vsdev->ready_buf = NULL;
			vsdev->ready_used = true;
			/* The announcement is complete: close the window. */
			queue_work(system_freezable_wq, &vsdev->ctrl_work);
		}
		vs_buf_free(buf);	/* returned by the device: ours */
	}
}

/**
 * vs_ctrl_reclaim() - c_ovq callback body: free consumed messages
 * @vsdev: the device
 *
 * Context: any.
 */
void vs_ctrl_reclaim(struct vs_dev *vsdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
	vs_ctrl_reclaim_locked(vsdev);
	spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	wake_up(&vsdev->c_ovq_wait);
}

static bool vs_ctrl_room(struct vs_dev *vsdev)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
	vs_ctrl_reclaim_locked(vsdev);
	room = !vsdev->c_ovq || vsdev->c_ovq->num_free ||
	       virtqueue_is_broken(vsdev->c_ovq);
	spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	return room;
}

/* vs_ctrl_send(); @mark: this is the DEVICE_READY that opens the window */
static int vs_ctrl_queue(struct vs_dev *vsdev, u32 id, u16 event, u16 value,
			 bool mark)
{
	struct vs_buf *buf;
	unsigned long flags;
	int err;

	buf = vs_buf_alloc_data(VS_CTRL_HDR_LEN, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	vs_ctrl_encode(buf->data, id, event, value);
	buf->len = VS_CTRL_HDR_LEN;

	for (;;) {
		spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
		if (!vsdev->c_ovq || virtqueue_is_broken(vsdev->c_ovq)) {
			err = -ENODEV;
		} else {
			vs_ctrl_reclaim_locked(vsdev);
			err = virtqueue_add_outbuf(vsdev->c_ovq, buf->sg, 1, buf,
						   GFP_ATOMIC);
			/* Marked before the device can return it. */
			if (!err && mark) {
				vsdev->ready_buf = buf;
				vsdev->ready_used = false;
			}
			/*
			 * On success the device owns @buf until it is used.
			 * The notify too is under c_ovq_lock: removal clears
			 * @c_ovq under it before freeing the queue.
			 */
			if (!err && virtqueue_kick_prepare(vsdev->c_ovq))
				virtqueue_notify(vsdev->c_ovq);
		}
		spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
		if (err != -ENOSPC)
			break;
		if (!wait_event_timeout(vsdev->c_ovq_wait, vs_ctrl_room(vsdev),
					VS_CTRL_TIMEOUT)) {
			err = -ETIMEDOUT;
			break;
		}
	}
	if (err) {
		vs_buf_free(buf);
		if (err != -ENODEV)
			dev_warn_ratelimited(&vsdev->vdev->dev,
					     "control message %u for port %u not sent: %d\n",
					     event, id, err);
	}
	return err;
}

/**
 * vs_ctrl_send() - queue a control message to the device
 * @vsdev: the device
 * @id: port id or VS_CTRL_BAD_ID
 * @event: event code
 * @value: event value
 *
 * Context: process; may sleep (for ring space, at most VS_CTRL_TIMEOUT).
 * Return: 0 if queued, -ENODEV without a control queue (non-multiport,
 * frozen or removed device), -ETIMEDOUT or -ENOMEM.
 */
int vs_ctrl_send(struct vs_dev *vsdev, u32 id, u16 event, u16 value)
{
	return vs_ctrl_queue(vsdev, id, event, value, false);
}

/**
 * vs_ctrl_forget_ready() - close the reconciliation window unused
 * @vsdev: the device
 *
 * For freeze and remove, before the buffers are freed without reclaim.
 *
 * Context: process, ports_mutex held.
 */
void vs_ctrl_forget_ready(struct vs_dev *vsdev)
{
	unsigned long flags;

	lockdep_assert_held(&vsdev->ports_mutex);
	spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
	vsdev->ready_buf = NULL;
	vsdev->ready_used = false;
	spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	vsdev->reconciling = false;
}

/**
 * vs_ctrl_send_ready() - send DEVICE_READY, at restore opening the window
 * @vsdev: the device, with control receive buffers posted
 * @reconcile: reconcile the port table with the announcement that answers
 *
 * Context: process, ports_mutex held; may sleep as vs_ctrl_send().
 * Return: as vs_ctrl_send().
 */
int vs_ctrl_send_ready(struct vs_dev *vsdev, bool reconcile)
{
	struct virtqueue *vq;
	unsigned long flags;
	int err;

	lockdep_assert_held(&vsdev->ports_mutex);
	vs_ctrl_forget_ready(vsdev);
	reconcile = reconcile && vsdev->announced;
	if (reconcile) {
		bitmap_zero(vsdev->announced, vsdev->max_nr_ports);
		vsdev->ctrl_taken = 0;
		vsdev->ctrl_lost = false;
		/*
		 * A buffer ctrl_work takes from now on is counted once it
		 * sees the window open (it counts under ports_mutex, held
		 * here), including one it took just before; buffers re-posted
		 * later are not in @ctrl_room.  Both only make the check
		 * stricter.
		 */
		spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
		vq = vsdev->c_ivq;
		vsdev->ctrl_room = vq ? virtqueue_get_vring_size(vq) -
					vq->num_free : 0;
		spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
		vsdev->reconciling = true;
	}
	err = vs_ctrl_queue(vsdev, VS_CTRL_BAD_ID, VS_CTRL_DEVICE_READY, 1,
			    reconcile);
	if (err)
		vsdev->reconciling = false;
	return err;
}

/*
 * Close the window: unplug every port the device did not announce, if the
 * announcement is known to be complete.  ports_mutex held.
 */
static void vs_ctrl_reconcile(struct vs_dev *vsdev)
{
	struct vs_port *port;
	unsigned int gone = 0;
	u32 id;

	vsdev->reconciling = false;
	if (vsdev->ctrl_lost || vsdev->ctrl_taken >= vsdev->ctrl_room) {
		WRITE_ONCE(vsdev->reconcile_skipped,
			   vsdev->reconcile_skipped + 1);
		dev_warn(&vsdev->vdev->dev,
			 "resume: port announcement may be incomplete (%u of %u buffers used%s); keeping every port\n",
			 vsdev->ctrl_taken, vsdev->ctrl_room,
			 vsdev->ctrl_lost ? ", a message lost" : "");
		return;
	}
	for (id = 0; id < vsdev->max_nr_ports; id++) {
		if (test_bit(id, vsdev->announced))
			continue;
		port = vs_port_get(vsdev, id);
		if (!port)
			continue;
		vs_port_unplug(port);
		vs_port_put(port);
		gone++;
	}
	if (gone)
		dev_info(&vsdev->vdev->dev,
			 "resume: %u port(s) removed while suspended are gone\n",
			 gone);
}

/* ctrl_work may close the window: the device returned DEVICE_READY. */
static bool vs_ctrl_ready_back(struct vs_dev *vsdev)
{
	unsigned long flags;
	bool back;

	spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
	back = vsdev->ready_used;
	vsdev->ready_used = false;
	spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	return back;
}

/**
 * vs_ctrl_fill() - post receive buffers on the control queue
 * @vsdev: the device
 *
 * Context: process.
 * Return: 0 if at least one buffer was posted, else -ENOMEM.
 */
int vs_ctrl_fill(struct vs_dev *vsdev)
{
	struct vs_buf *buf;
	unsigned long flags;
	bool posted = false;
	int err;

	for (;;) {
		buf = vs_buf_alloc_rx(GFP_KERNEL);
		if (!buf)
			break;
		spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
		err = vsdev->c_ivq ?
		      virtqueue_add_inbuf(vsdev->c_ivq, buf->sg, 1, buf,
					  GFP_ATOMIC) : -ENODEV;
		spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
		if (err) {
			vs_buf_free(buf);
			break;
		}
		posted = true;	/* the device owns @buf */
	}
	if (posted) {
		spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
		if (vsdev->c_ivq)
			virtqueue_kick(vsdev->c_ivq);
		spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
	}
	return posted ? 0 : -ENOMEM;
}

static void vs_ctrl_repost(struct vs_dev *vsdev, struct vs_buf *buf)
{
	unsigned long flags;
	int err = -ENODEV;

	spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
	if (vsdev->c_ivq) {
		err = virtqueue_add_inbuf(vsdev->c_ivq, buf->sg, 1, buf,
					  GFP_ATOMIC);
		if (!err && virtqueue_kick_prepare(vsdev->c_ivq))
			virtqueue_notify(vsdev->c_ivq);
	}
	spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
	if (err)
		vs_buf_free(buf);
}

/* Act on one validated message.  ports_mutex held. */
static void vs_ctrl_handle(struct vs_dev *vsdev, const struct vs_ctrl_msg *msg,
			   const char *name)
{
	struct vs_port_view view = { };
	bool replaced = false;
	struct vs_port *port;
	int err;

	port = vs_port_get(vsdev, msg->id);
	if (port) {
		view.exists = true;
		view.is_console = READ_ONCE(port->is_console);
		view.has_name = !!port->name;
		/* vs_cons_init() checks again under inbuf_lock. */
		view.open = READ_ONCE(port->guest_connected) && !view.is_console;
	}

	if (vsdev->reconciling && msg->event == VS_CTRL_PORT_ADD)
		set_bit(msg->id, vsdev->announced);
	/*
	 * The PORT_NAME answering our PORT_READY may come after the window
	 * closed (the device need not answer before the receive queue is
	 * drained), so the port remembers that it was asked.
	 */
	if (port && msg->event == VS_CTRL_PORT_NAME && port->name_check) {
		port->name_check = false;
		replaced = port->name && strcmp(port->name, name);
	}
	if (replaced) {
		/* Removed and plugged again while frozen: a new port. */
		dev_info(&vsdev->vdev->dev,
			 "resume: port %u was replaced while suspended\n",
			 msg->id);
		vs_port_unplug(port);
		vs_port_put(port);
		err = vs_port_add(vsdev, msg->id);
		port = err ? NULL : vs_port_get(vsdev, msg->id);
		if (port)
			vs_port_set_name(port, name, msg->name_len);
		/* Makes QEMU repeat the port's console and open state. */
		vs_ctrl_send(vsdev, msg->id, VS_CTRL_PORT_READY, !!port);
		if (port)
			vs_port_put(port);
		return;
	}

	switch (vs_ctrl_decide(msg, &view)) {
	case VS_ACT_ADD_PORT:
		/* 1 on success and 0 on failure, as the in-tree driver. */
		err = vs_port_add(vsdev, msg->id);
		vs_ctrl_send(vsdev, msg->id, VS_CTRL_PORT_READY, !err);
		break;
	case VS_ACT_RESEND_READY:
		if (vsdev->reconciling)
			port->name_check = true;
		vs_ctrl_send(vsdev, msg->id, VS_CTRL_PORT_READY, 1);
		break;
	case VS_ACT_REMOVE_PORT:
		vs_port_unplug(port);
		break;
	case VS_ACT_MAKE_CONSOLE:
		err = vs_cons_init(port);
		if (!err)
			vs_ctrl_send(vsdev, port->id, VS_CTRL_PORT_OPEN, 1);
		if (err != -EBUSY)
			break;
		fallthrough;	/* opened since the view was taken */
	case VS_ACT_REFUSE_CONSOLE:
		WRITE_ONCE(vsdev->console_refused, vsdev->console_refused + 1);
		dev_warn_once(&vsdev->vdev->dev,
			      "port %u: refusing CONSOLE_PORT, the port is open as /dev/vport%up%u\n",
			      port->id, vsdev->vdev->index, port->id);
		break;
	case VS_ACT_RESIZE:
		if (virtio_has_feature(vsdev->vdev, VIRTIO_CONSOLE_F_SIZE))
			vs_cons_resize(port, msg->cols, msg->rows);
		break;
	case VS_ACT_HOST_OPEN:
		vs_port_host_open(port, msg->value);
		break;
	case VS_ACT_SET_NAME:
		vs_port_set_name(port, name, msg->name_len);
		break;
	case VS_ACT_IGNORE:
		/*
		 * QEMU names only ports it added; a message for another id is
		 * the device's mistake.  Ignoring one for a port that exists
		 * (a second name, RESIZE of a generic port) is protocol.
		 */
		if (!port)
			dev_warn_ratelimited(&vsdev->vdev->dev,
					     "ignoring event %u for port %u, which does not exist\n",
					     msg->event, msg->id);
		else
			dev_dbg(&vsdev->vdev->dev, "ignoring event %u for port %u\n",
				msg->event, msg->id);
		break;
	}
	if (port)
		vs_port_put(port);
}

/**
 * vs_ctrl_work() - process received control messages
 * @work: vs_dev.ctrl_work
 *
 * Context: process (system workqueue).
 */
void vs_ctrl_work(struct work_struct *work)
{
	struct vs_dev *vsdev = container_of(work, struct vs_dev, ctrl_work);
	/* The longest message parse needs to see: a name one byte too long. */
	u8 copy[VS_CTRL_HDR_LEN + VS_NAME_MAX + 1];
	char name[VS_NAME_MAX + 1];
	struct vs_ctrl_msg msg;
	bool back, overrun;
	struct vs_buf *buf;
	unsigned long flags;
	unsigned int used;
	u32 len;
	int err;

	for (;;) {
		/*
		 * Read before the receive queue: once DEVICE_READY is back,
		 * the PORT_ADDs QEMU queued before returning it are visible.
		 */
		back = vs_ctrl_ready_back(vsdev);
		smp_rmb();	/* pairs with the device's used-ring barriers */
		spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
		buf = vsdev->c_ivq ? virtqueue_get_buf(vsdev->c_ivq, &used) :
		      NULL;
		spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
		if (!buf) {
			if (!back)
				break;
			mutex_lock(&vsdev->ports_mutex);
			if (vsdev->reconciling)
				vs_ctrl_reconcile(vsdev);
			mutex_unlock(&vsdev->ports_mutex);
			continue;	/* the queue may have filled meanwhile */
		}
		if (back) {
			/* Not empty yet: look again after this message. */
			spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
			vsdev->ready_used = true;
			spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
		}
		/* The device gave @buf back; we own it until re-posted. */
		overrun = vs_used_len(used, buf->size, &len);
		if (overrun)
			dev_warn_once(&vsdev->vdev->dev,
				      "control buffer overrun (%u bytes)\n",
				      used);
		/*
		 * The device may still write to the buffer: copy it once and
		 * parse, validate and use only the copy.  Clamping keeps
		 * every verdict (a longer name is still too long); only a
		 * trailing-bytes count above the clamp is reported short.
		 */
		len = min_t(u32, len, sizeof(copy));
		memcpy(copy, buf->data, len);
		vs_ctrl_repost(vsdev, buf);
		err = vs_ctrl_parse(copy, len, vsdev->max_nr_ports, &msg);
		if (!err && msg.event == VS_CTRL_PORT_NAME) {
			memcpy(name, msg.name, msg.name_len);
			name[msg.name_len] = '\0';
		}
		mutex_lock(&vsdev->ports_mutex);
		if (vsdev->reconciling) {
			vsdev->ctrl_taken++;
			if (err || overrun)
				vsdev->ctrl_lost = true;
		}
		mutex_unlock(&vsdev->ports_mutex);
		if (err) {
			dev_warn_ratelimited(&vsdev->vdev->dev,
					     "dropping invalid control message (%u bytes): %d\n",
					     len, err);
			continue;
		}
		if (msg.extra) {
			WRITE_ONCE(vsdev->ctrl_trailing, vsdev->ctrl_trailing + 1);
			dev_warn_once(&vsdev->vdev->dev,
				      "control message %u with %u trailing bytes: ignoring them\n",
				      msg.event, msg.extra);
		}
		mutex_lock(&vsdev->ports_mutex);
		vs_ctrl_handle(vsdev, &msg, name);
		mutex_unlock(&vsdev->ports_mutex);
	}
}

/**
 * vs_config_work() - handle a config-space change
 * @work: vs_dev.config_work
 *
 * Only meaningful without multiport: then the config cols/rows are the
 * size of the port 0 console (multiport devices send RESIZE instead).
 *
 * Context: process.
 */
void vs_config_work(struct work_struct *work)
{
	struct vs_dev *vsdev = container_of(work, struct vs_dev, config_work);
	struct vs_port *port;
	u16 cols, rows;

	if (vsdev->multiport ||
	    !virtio_has_feature(vsdev->vdev, VIRTIO_CONSOLE_F_SIZE))
		return;
	virtio_cread(vsdev->vdev, struct virtio_console_config, cols, &cols);
	virtio_cread(vsdev->vdev, struct virtio_console_config, rows, &rows);
	mutex_lock(&vsdev->ports_mutex);
	port = vs_port_get(vsdev, 0);
	if (port) {
		vs_cons_resize(port, cols, rows);
		vs_port_put(port);
	}
	mutex_unlock(&vsdev->ports_mutex);
}
