// SPDX-License-Identifier: GPL-2.0
/*
 * Ports coming and going: add, unplug, naming, host state, sysfs, and the
 * one place that tells a port's users that data arrived.
 *
 * Unplug destroys the char device and class device at once, but the
 * struct lives on until the last file is closed (virtser_port.c); those
 * files see @unplugged and get -ENODEV.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

/**
 * vs_port_signal() - SIGIO to the owner of an open port
 * @port: the port
 *
 * Like the in-tree driver, always with the POLL_OUT band, and only while
 * a file is open: the application is expected to poll() to see what
 * changed.
 *
 * Context: any.
 */
void vs_port_signal(struct vs_port *port)
{
	if (READ_ONCE(port->guest_connected) && !READ_ONCE(port->is_console))
		kill_fasync(&port->async_queue, SIGIO, POLL_OUT);
}

/**
 * vs_port_data_arrived() - tell readers, pollers, SIGIO owners and hvc
 * @port: a port whose receive side reported that data arrived
 *
 * The receive functions (virtser_rx.c) only move buffers and report; this
 * is the one place that acts on the report.
 *
 * Context: any, but never from hvc's get_chars or put_chars: hvc calls
 * those with its port lock held, and telling hvc takes that lock again.
 */
void vs_port_data_arrived(struct vs_port *port)
{
	wake_up_interruptible(&port->waitqueue);
	if (READ_ONCE(port->is_console))
		vs_cons_rx(port);
	vs_port_signal(port);
}

/**
 * vs_port_host_open() - the host opened or closed its end
 * @port: the port
 * @open: new host state
 *
 * Context: process, ports_mutex held.
 */
void vs_port_host_open(struct vs_port *port, bool open)
{
	WRITE_ONCE(port->host_connected, open);
	wake_up_interruptible(&port->waitqueue);
	/* A closing host returns the data it did not consume. */
	vs_tx_reclaim(port);
	vs_port_signal(port);
	if (READ_ONCE(port->is_console))
		vs_cons_tx_done(port);
}

static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vs_port *port = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", port->name);
}
static DEVICE_ATTR_RO(name);

static struct attribute *vs_name_attrs[] = {
	&dev_attr_name.attr,
	NULL,
};

static const struct attribute_group vs_name_group = {
	.attrs = vs_name_attrs,
};

/*
 * Read-only state and counters beyond the in-tree `name`, so they can be
 * read where debugfs is locked down.  They live in a "virtser" directory
 * to keep the top level identical to the in-tree driver.
 */
static void vs_port_stats(struct device *dev, struct vs_port_stats *st)
{
	struct vs_port *port = dev_get_drvdata(dev);

	vs_rx_stats(port, st);
	vs_tx_stats(port, st);
}

static ssize_t bytes_sent_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%lu\n", st.bytes_sent);
}
static DEVICE_ATTR_RO(bytes_sent);

static ssize_t bytes_received_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%lu\n", st.bytes_received);
}
static DEVICE_ATTR_RO(bytes_received);

static ssize_t bytes_discarded_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%lu\n", st.bytes_discarded);
}
static DEVICE_ATTR_RO(bytes_discarded);

static ssize_t guest_connected_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%d\n", st.guest_connected);
}
static DEVICE_ATTR_RO(guest_connected);

static ssize_t tx_inflight_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%zu\n", st.tx_inflight);
}
static DEVICE_ATTR_RO(tx_inflight);

static ssize_t tx_cached_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%zu\n", st.tx_cached);
}
static DEVICE_ATTR_RO(tx_cached);

static ssize_t tx_map_failed_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%lu\n", st.tx_map_failed);
}
static DEVICE_ATTR_RO(tx_map_failed);

static ssize_t rx_map_failed_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%lu\n", st.rx_map_failed);
}
static DEVICE_ATTR_RO(rx_map_failed);

static ssize_t rx_bytes_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct vs_port_stats st;

	vs_port_stats(dev, &st);
	return sysfs_emit(buf, "%zu\n", st.rx_bytes);
}
static DEVICE_ATTR_RO(rx_bytes);

static ssize_t host_connected_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct vs_port *port = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(port->host_connected));
}
static DEVICE_ATTR_RO(host_connected);

static struct attribute *vs_stat_attrs[] = {
	&dev_attr_bytes_sent.attr,
	&dev_attr_bytes_received.attr,
	&dev_attr_bytes_discarded.attr,
	&dev_attr_guest_connected.attr,
	&dev_attr_host_connected.attr,
	&dev_attr_tx_inflight.attr,
	&dev_attr_tx_map_failed.attr,
	&dev_attr_rx_map_failed.attr,
	&dev_attr_tx_cached.attr,
	&dev_attr_rx_bytes.attr,
	NULL,
};

static const struct attribute_group vs_stat_group = {
	.name = "virtser",
	.attrs = vs_stat_attrs,
};

const struct attribute_group *vs_port_groups[] = {
	&vs_stat_group,
	NULL,
};

/**
 * vs_port_set_name() - record the name the host gave a port
 * @port: the port, not yet named
 * @name: NUL-terminated name, already validated by vs_ctrl_parse()
 * @len: strlen(@name)
 *
 * Creates the sysfs `name` attribute and sends the CHANGE uevent that
 * makes udev create /dev/virtio-ports/<name>.
 *
 * Context: process, ports_mutex held.
 */
void vs_port_set_name(struct vs_port *port, const char *name, u32 len)
{
	int err;

	port->name = kmemdup_nul(name, len, GFP_KERNEL);
	if (!port->name || !port->dev)
		return;
	err = sysfs_create_group(&port->dev->kobj, &vs_name_group);
	if (err) {
		dev_err(port->dev, "cannot create the name attribute: %d\n",
			err);
		return;
	}
	kobject_uevent(&port->dev->kobj, KOBJ_CHANGE);
}

/**
 * vs_port_add() - create a port the host announced
 * @vsdev: the device
 * @id: validated, unused port id
 *
 * Receive buffers are not posted here but on first open (or console
 * setup): see virtser_rx.c.  The caller answers the device (PORT_READY)
 * and, without multiport, makes port 0 a console.
 *
 * Context: process, ports_mutex held.
 * Return: 0 or a negative error.
 */
int vs_port_add(struct vs_dev *vsdev, u32 id)
{
	struct virtio_device *vdev = vsdev->vdev;
	struct vs_port *port;
	unsigned long flags;
	int err;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port) {
		err = -ENOMEM;
		goto fail;
	}
	kref_init(&port->kref);
	kref_get(&vsdev->kref);
	port->vsdev = vsdev;
	port->id = id;
	port->devt = MKDEV(MAJOR(vsdev->devt_base), id);
	spin_lock_init(&port->inbuf_lock);
	spin_lock_init(&port->outvq_lock);
	vs_tx_cache_init(&port->tx_cache);
	mutex_init(&port->read_mutex);
	vs_rx_init(port);
	INIT_LIST_HEAD(&port->cons_list);
	init_waitqueue_head(&port->waitqueue);
	port->in_vq = vsdev->vqs[vs_port_rx_vq(id)];
	port->out_vq = vsdev->vqs[vs_port_tx_vq(id)];
	/* Without control messages nobody would ever say the host is there. */
	port->host_connected = !vsdev->multiport;

	port->cdev = cdev_alloc();
	if (!port->cdev) {
		err = -ENOMEM;
		goto free_port;
	}
	port->cdev->ops = &vs_fops;
	port->cdev->owner = THIS_MODULE;
	err = cdev_add(port->cdev, port->devt, 1);
	if (err) {
		dev_err(&vdev->dev, "port %u: cdev_add failed: %d\n", id, err);
		kobject_put(&port->cdev->kobj);
		goto free_port;
	}
	port->dev = device_create_with_groups(vs_class(), &vdev->dev,
					      port->devt, port, vs_port_groups,
					      "vport%up%u", vdev->index, id);
	if (IS_ERR(port->dev)) {
		err = PTR_ERR(port->dev);
		port->dev = NULL;
		dev_err(&vdev->dev, "port %u: device_create failed: %d\n",
			id, err);
		goto free_cdev;
	}

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	vsdev->ports[id] = port;	/* the table's reference */
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);

	vs_debugfs_add(port);
	return 0;

free_cdev:
	cdev_del(port->cdev);
free_port:
	vs_port_put(port);
fail:
	return err;
}

/**
 * vs_port_unplug() - remove a port (PORT_REMOVE, device removal)
 * @port: the port; the caller's reference stays valid
 *
 * Order matters: first make open files see the port as gone and wake
 * every sleeper (so blocked reads and writes return -ENODEV), then stop
 * the console, then let go of the virtqueues, which waits for every path
 * still using them (but not for a reader's copy to user memory, which
 * may wait for a page for ever: vs_rx_detach()), and only then take the
 * port out of the table: from then on the device's callbacks drain the
 * queues under ports_lock, so the two owners never overlap.  The
 * user-visible devices go last.
 *
 * Context: process, ports_mutex held.
 */
void vs_port_unplug(struct vs_port *port)
{
	struct vs_dev *vsdev = port->vsdev;
	struct virtqueue *vq;
	unsigned long flags;
	bool was_open;
	int i;

	lockdep_assert_held(&vsdev->ports_mutex);
	if (READ_ONCE(port->unplugged))
		return;

	vs_port_signal(port);
	spin_lock_irqsave(&port->inbuf_lock, flags);
	was_open = port->guest_connected && !port->is_console;
	port->guest_connected = false;
	WRITE_ONCE(port->unplugged, true);
	WRITE_ONCE(port->host_connected, false);
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	wake_up(&port->waitqueue);	/* zero-copy writers sleep killable */

	if (port->is_console)
		vs_cons_remove(port);

	vs_rx_detach(port);
	vs_tx_detach(port);

	/*
	 * The queues are the table's now.  What the device returned since
	 * the port stopped collecting was the port's: free it, and turn
	 * callbacks back on (the port may have left them off) so that what
	 * comes later is freed by the callback.
	 */
	spin_lock_irqsave(&vsdev->ports_lock, flags);
	vsdev->ports[port->id] = NULL;	/* table reference dropped below */
	for (i = 0; i < 2; i++) {
		vq = vsdev->vqs[i ? vs_port_tx_vq(port->id) :
				    vs_port_rx_vq(port->id)];
		if (!vq)
			continue;
		vs_buf_drain_used(vq);
		if (!virtqueue_enable_cb(vq))
			vs_buf_drain_used(vq);
	}
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);

	vs_debugfs_remove(port);
	if (port->dev) {
		device_destroy(vs_class(), port->devt);
		port->dev = NULL;
	}
	if (port->cdev) {
		cdev_del(port->cdev);
		port->cdev = NULL;
	}
	dev_dbg(&vsdev->vdev->dev, "port %u unplugged%s\n", port->id,
		was_open ? " while open" : "");
	vs_port_put(port);
}
