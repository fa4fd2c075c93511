// SPDX-License-Identifier: GPL-2.0
/*
 * Binding to a virtio console device: probe, remove,
 * freeze/restore, virtqueue setup and the virtqueue callbacks.
 *
 * Callbacks stay short: rx moves filled buffers to the port and wakes
 * readers, tx frees consumed buffers and wakes writers, control rx queues
 * work.  A port's queues belong to the port while it is in the table and
 * to the table (ports_lock) otherwise: a callback for a queue with no
 * port frees what the device returns under ports_lock, and a port leaves
 * the table only after it has let go of its queues (vs_port_unplug()).
 */
#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_console.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

#define VS_CTRL_RX_VQ	2
#define VS_CTRL_TX_VQ	3

static u32 vs_vq_port_id(struct virtqueue *vq)
{
	return vq->index < 2 ? 0 : (vq->index - 2) / 2;
}

static struct vs_port *vs_vq_port(struct virtqueue *vq)
{
	struct vs_dev *vsdev = vq->vdev->priv;
	struct vs_port *port = NULL;
	unsigned long flags;
	u32 id = vs_vq_port_id(vq);

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	if (vsdev->ready) {
		port = id < vsdev->max_nr_ports ? vsdev->ports[id] : NULL;
		if (port)
			kref_get(&port->kref);
		else
			vs_buf_drain_used(vq);	/* no port owns @vq */
	}
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);
	return port;
}

static void vs_vq_rx_cb(struct virtqueue *vq)
{
	struct vs_port *port = vs_vq_port(vq);

	if (!port)
		return;
	if (vs_rx_intr(port))
		vs_port_data_arrived(port);
	vs_port_put(port);
}

static void vs_vq_tx_cb(struct virtqueue *vq)
{
	struct vs_port *port = vs_vq_port(vq);

	if (!port)
		return;
	vs_tx_intr(port);
	if (READ_ONCE(port->is_console))
		vs_cons_tx_done(port);
	vs_port_put(port);
}

/*
 * Freezable: control messages that arrive while the system resumes (the
 * answers to the DEVICE_READY sent by vs_restore()) wait until tasks are
 * thawed, after every device's PM complete step.  A port announced then is
 * added as a child of a device that is no longer sleeping; acting at once
 * made the PM core warn that the parent "should not be sleeping".
 */
static void vs_ctrl_rx_intr(struct virtqueue *vq)
{
	struct vs_dev *vsdev = vq->vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	if (vsdev->ready)
		queue_work(system_freezable_wq, &vsdev->ctrl_work);
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);
}

static void vs_ctrl_tx_intr(struct virtqueue *vq)
{
	vs_ctrl_reclaim(vq->vdev->priv);
}

static void vs_config_changed(struct virtio_device *vdev)
{
	struct vs_dev *vsdev = vdev->priv;
	unsigned long flags;

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	if (vsdev->ready)
		schedule_work(&vsdev->config_work);
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);
}

static void vs_set_ready(struct vs_dev *vsdev, bool ready)
{
	unsigned long flags;

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	vsdev->ready = ready;
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);
}

/*
 * Queue layout: port 0 rx/tx, control rx/tx, then ports 1.. rx/tx.
 * Called with ports_mutex held.  On failure no queue pointer is left in
 * @vsdev: a transport whose find_vqs fails part way deletes the queues it
 * made but leaves their pointers in the array it was given.
 */
static int vs_init_vqs(struct vs_dev *vsdev)
{
	vq_callback_t **cbs;
	const char **names;
	unsigned long flags;
	unsigned int i;
	int err = -ENOMEM;

	lockdep_assert_held(&vsdev->ports_mutex);
	/* Up to 0x10002 queues: no high-order allocation for the tables. */
	cbs = kvcalloc(vsdev->nvqs, sizeof(*cbs), GFP_KERNEL);
	names = kvcalloc(vsdev->nvqs, sizeof(*names), GFP_KERNEL);
	if (!cbs || !names)
		goto out;
	for (i = 0; i < vsdev->nvqs; i++) {
		if (vsdev->multiport && i == VS_CTRL_RX_VQ) {
			cbs[i] = vs_ctrl_rx_intr;
			names[i] = "control-i";
		} else if (vsdev->multiport && i == VS_CTRL_TX_VQ) {
			cbs[i] = vs_ctrl_tx_intr;
			names[i] = "control-o";
		} else {
			cbs[i] = i % 2 ? vs_vq_tx_cb : vs_vq_rx_cb;
			names[i] = i % 2 ? "output" : "input";
		}
	}
	err = virtser_find_vqs(vsdev->vdev, vsdev->nvqs, vsdev->vqs, cbs,
			       names);
	if (err) {
		for (i = 0; i < vsdev->nvqs; i++)
			vsdev->vqs[i] = NULL;
		goto out;
	}
	if (vsdev->multiport) {
		spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
		vsdev->c_ivq = vsdev->vqs[VS_CTRL_RX_VQ];
		spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
		spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
		vsdev->c_ovq = vsdev->vqs[VS_CTRL_TX_VQ];
		spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	}
out:
	kvfree(cbs);
	kvfree(names);
	return err;
}

/*
 * After a reset: forget the control queues (under their locks, which waits
 * for a control send still notifying), free every buffer, delete the
 * queues and clear every pointer to them (the ports let go of theirs in
 * vs_rx_detach() or vs_rx_freeze(), and vs_tx_detach(), before this).
 * Called with ports_mutex held.
 * Without queues (after a failed restore, and at the freeze or remove
 * that follows one) only the clearing is done: the transport already
 * deleted what its failed find_vqs made, and a second del_vqs would free
 * its interrupts again (virtio_mmio does not check).  Queue 0 always
 * exists when find_vqs succeeded.
 */
static void vs_del_vqs(struct vs_dev *vsdev)
{
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&vsdev->ports_mutex);
	spin_lock_irqsave(&vsdev->c_ivq_lock, flags);
	vsdev->c_ivq = NULL;
	spin_unlock_irqrestore(&vsdev->c_ivq_lock, flags);
	spin_lock_irqsave(&vsdev->c_ovq_lock, flags);
	vsdev->c_ovq = NULL;
	spin_unlock_irqrestore(&vsdev->c_ovq_lock, flags);
	wake_up_all(&vsdev->c_ovq_wait);
	if (!vsdev->vqs[0])
		return;
	for (i = 0; i < vsdev->nvqs; i++)
		vs_vq_free_all(vsdev->vqs[i]);
	vsdev->vdev->config->del_vqs(vsdev->vdev);
	for (i = 0; i < vsdev->nvqs; i++)
		vsdev->vqs[i] = NULL;
}

static void vs_unplug_all(struct vs_dev *vsdev)
{
	struct vs_port *port;
	u32 id;

	mutex_lock(&vsdev->ports_mutex);
	for (id = 0; id < vsdev->max_nr_ports; id++) {
		port = vs_port_get(vsdev, id);
		if (!port)
			continue;
		vs_port_unplug(port);
		vs_port_put(port);
	}
	mutex_unlock(&vsdev->ports_mutex);
}

static int vs_probe(struct virtio_device *vdev)
{
	struct vs_port *port;
	struct vs_dev *vsdev;
	u32 raw = 0;
	int err;

	if (!vdev->config->get &&
	    (virtio_has_feature(vdev, VIRTIO_CONSOLE_F_MULTIPORT) ||
	     virtio_has_feature(vdev, VIRTIO_CONSOLE_F_SIZE))) {
		dev_err(&vdev->dev, "transport cannot read config space\n");
		return -EINVAL;
	}
	vsdev = kzalloc(sizeof(*vsdev), GFP_KERNEL);
	if (!vsdev)
		return -ENOMEM;
	kref_init(&vsdev->kref);
	vsdev->vdev = vdev;
	vdev->priv = vsdev;
	mutex_init(&vsdev->ports_mutex);
	spin_lock_init(&vsdev->ports_lock);
	spin_lock_init(&vsdev->c_ivq_lock);
	spin_lock_init(&vsdev->c_ovq_lock);
	init_waitqueue_head(&vsdev->c_ovq_wait);
	INIT_WORK(&vsdev->ctrl_work, vs_ctrl_work);
	INIT_WORK(&vsdev->config_work, vs_config_work);
	INIT_LIST_HEAD(&vsdev->list);

	vsdev->multiport = virtio_has_feature(vdev, VIRTIO_CONSOLE_F_MULTIPORT);
	vsdev->emerg = virtio_has_feature(vdev, VIRTIO_CONSOLE_F_EMERG_WRITE);
	vsdev->tx_max_pages =
		virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ?
		VS_TX_MAX_PAGES : 1;
	/* Bounce buffering (swiotlb) maps at most this much at once. */
	vsdev->max_seg = min_t(size_t, virtio_max_dma_size(vdev), UINT_MAX);
	if (vsdev->multiport)
		virtio_cread(vdev, struct virtio_console_config, max_nr_ports,
			     &raw);
	err = vs_config_max_ports(vsdev->multiport, raw, &vsdev->max_nr_ports);
	if (err) {
		dev_err(&vdev->dev, "invalid max_nr_ports %u\n", raw);
		goto free;
	}
	vsdev->nvqs = vsdev->multiport ? (vsdev->max_nr_ports + 1) * 2 : 2;
	vsdev->ports = kvcalloc(vsdev->max_nr_ports, sizeof(*vsdev->ports),
				GFP_KERNEL);
	vsdev->vqs = kvcalloc(vsdev->nvqs, sizeof(*vsdev->vqs), GFP_KERNEL);
	/* At most 0x8000 bits: one page.  Without it restore cannot reconcile. */
	if (vsdev->multiport)
		vsdev->announced = bitmap_zalloc(vsdev->max_nr_ports,
						 GFP_KERNEL);
	if (!vsdev->ports || !vsdev->vqs) {
		err = -ENOMEM;
		goto free;
	}
	err = alloc_chrdev_region(&vsdev->devt_base, 0, vsdev->max_nr_ports,
				  "virtio-portsdev");
	if (err)
		goto free;
	mutex_lock(&vsdev->ports_mutex);
	err = vs_init_vqs(vsdev);
	mutex_unlock(&vsdev->ports_mutex);
	if (err) {
		dev_err(&vdev->dev, "cannot set up %u virtqueues: %d\n",
			vsdev->nvqs, err);
		goto free_chrdev;
	}
	vs_dev_register(vsdev);
	vs_set_ready(vsdev, true);
	virtio_device_ready(vdev);

	if (vsdev->multiport) {
		err = vs_ctrl_fill(vsdev);
		vs_ctrl_send(vsdev, VS_CTRL_BAD_ID, VS_CTRL_DEVICE_READY, !err);
		if (err) {
			dev_err(&vdev->dev, "cannot post control buffers\n");
			goto teardown;
		}
	} else {
		mutex_lock(&vsdev->ports_mutex);
		if (!vs_port_add(vsdev, 0)) {
			port = vs_port_get(vsdev, 0);
			err = port ? vs_cons_init(port) : -ENODEV;
			if (err)
				dev_err(&vdev->dev, "console setup failed: %d\n",
					err);
			if (port)
				vs_port_put(port);
		}
		mutex_unlock(&vsdev->ports_mutex);
		/*
		 * The console size is in config space from the start; do not
		 * wait for a config change to apply it (the in-tree driver
		 * does, and stays at 0x0 until then).
		 */
		schedule_work(&vsdev->config_work);
	}
	return 0;

teardown:
	vs_dev_unregister(vsdev);
	vs_set_ready(vsdev, false);
	virtio_reset_device(vdev);
	cancel_work_sync(&vsdev->ctrl_work);
	cancel_work_sync(&vsdev->config_work);
	vs_unplug_all(vsdev);
	mutex_lock(&vsdev->ports_mutex);
	vs_del_vqs(vsdev);
	mutex_unlock(&vsdev->ports_mutex);
free_chrdev:
	unregister_chrdev_region(vsdev->devt_base, vsdev->max_nr_ports);
free:
	vs_dev_put(vsdev);
	return err;
}

/*
 * Order: stop new opens and new work; break the device so nothing can wait
 * on it any more; let running work finish; reset so the device stops
 * touching memory; unplug the ports (open files then see -ENODEV); free
 * the buffers and queues.  The struct itself lives until the last port
 * reference is gone.
 */
static void vs_remove(struct virtio_device *vdev)
{
	struct vs_dev *vsdev = vdev->priv;

	vs_dev_unregister(vsdev);
	vs_set_ready(vsdev, false);
	virtio_break_device(vdev);
	wake_up_all(&vsdev->c_ovq_wait);
	cancel_work_sync(&vsdev->ctrl_work);
	cancel_work_sync(&vsdev->config_work);
	virtio_reset_device(vdev);
	vs_unplug_all(vsdev);
	mutex_lock(&vsdev->ports_mutex);
	vs_ctrl_forget_ready(vsdev);
	vs_del_vqs(vsdev);
	mutex_unlock(&vsdev->ports_mutex);
	unregister_chrdev_region(vsdev->devt_base, vsdev->max_nr_ports);
	vs_dev_put(vsdev);
}

#ifdef CONFIG_PM_SLEEP
static int vs_freeze(struct virtio_device *vdev)
{
	struct vs_dev *vsdev = vdev->priv;
	struct vs_port *port;
	u32 id;

	vs_set_ready(vsdev, false);
	virtio_reset_device(vdev);
	cancel_work_sync(&vsdev->ctrl_work);
	cancel_work_sync(&vsdev->config_work);

	mutex_lock(&vsdev->ports_mutex);
	for (id = 0; id < vsdev->max_nr_ports; id++) {
		port = vs_port_get(vsdev, id);
		if (!port)
			continue;
		WRITE_ONCE(port->host_connected, false);
		/* What the device delivered stays with the port for restore. */
		vs_rx_freeze(port);
		vs_tx_detach(port);
		vs_port_put(port);
	}
	vs_ctrl_forget_ready(vsdev);
	vs_del_vqs(vsdev);
	mutex_unlock(&vsdev->ports_mutex);
	return 0;
}

/*
 * Unlike the in-tree driver, restore sends DEVICE_READY again: QEMU then
 * announces every port it has, so ports hot-plugged while the guest was
 * suspended appear.  Known ports answer the repeated PORT_ADD with
 * PORT_READY, which makes QEMU resend their console/name/open state; known
 * ports the announcement leaves out were removed while suspended and go
 * (virtser_ctrl.c, "Resume reconciliation").
 */
static int vs_restore(struct virtio_device *vdev)
{
	struct vs_dev *vsdev = vdev->priv;
	struct vs_port *port;
	bool arrived;
	u32 id;
	int err;

	mutex_lock(&vsdev->ports_mutex);
	err = vs_init_vqs(vsdev);
	if (err) {
		mutex_unlock(&vsdev->ports_mutex);
		/*
		 * Without queues the ports are dead: unplug them as at
		 * removal, so open files get -ENODEV instead of waiting for
		 * a host that cannot come back.  A later successful restore
		 * sends DEVICE_READY, and the device announces them anew.
		 */
		dev_err(&vdev->dev, "restore failed, no virtqueues: %d; removing the ports\n",
			err);
		vs_unplug_all(vsdev);
		return err;
	}
	for (id = 0; id < vsdev->max_nr_ports; id++) {
		port = vs_port_get(vsdev, id);
		if (!port)
			continue;
		vs_rx_attach(port, vsdev->vqs[vs_port_rx_vq(id)]);
		vs_tx_attach(port, vsdev->vqs[vs_port_tx_vq(id)]);
		if (!vsdev->multiport)
			WRITE_ONCE(port->host_connected, true);
		vs_port_put(port);
	}
	vs_set_ready(vsdev, true);
	virtio_device_ready(vdev);
	if (vsdev->multiport)
		vs_ctrl_fill(vsdev);
	for (id = 0; id < vsdev->max_nr_ports; id++) {
		port = vs_port_get(vsdev, id);
		if (!port)
			continue;
		arrived = false;
		if (port->rx_allocated)
			vs_rx_fill(port, GFP_KERNEL, &arrived);
		/* Data kept at the freeze comes first, and needs telling too. */
		if (arrived || vs_rx_unread(port))
			vs_port_data_arrived(port);
		if (READ_ONCE(port->guest_connected))
			vs_ctrl_send(vsdev, id, VS_CTRL_PORT_OPEN, 1);
		vs_port_put(port);
	}
	/* Opens the window in which ctrl_work reconciles the ports. */
	if (vsdev->multiport)
		vs_ctrl_send_ready(vsdev, true);
	mutex_unlock(&vsdev->ports_mutex);
	dev_info(&vdev->dev, "restored; asked the device to announce its ports\n");
	return 0;
}
#endif

static const struct virtio_device_id vs_id_table[] = {
	{ VIRTIO_ID_CONSOLE, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, vs_id_table);

static const unsigned int vs_features[] = {
	VIRTIO_CONSOLE_F_SIZE,
	VIRTIO_CONSOLE_F_MULTIPORT,
	VIRTIO_CONSOLE_F_EMERG_WRITE,
};

struct virtio_driver vs_virtio_driver = {
	.feature_table		= vs_features,
	.feature_table_size	= ARRAY_SIZE(vs_features),
	.driver.name		= KBUILD_MODNAME,
	.driver.owner		= THIS_MODULE,
	.id_table		= vs_id_table,
	.probe			= vs_probe,
	.remove			= vs_remove,
	.config_changed		= vs_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze			= vs_freeze,
	.restore		= vs_restore,
#endif
};
