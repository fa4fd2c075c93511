// SPDX-License-Identifier: GPL-2.0
/*
 * Port lifetime: add, unplug, naming, host state.
 *
 * A port is reachable from three places: the device's id-indexed table
 * (control work and vq callbacks), the char device (open), and open
 * files.  Each holds a reference.  Unplug takes the port out of the table
 * and destroys the char device and class device at once, but the struct
 * lives on until the last file is closed; those files see @unplugged and
 * get -ENODEV.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

static void vs_dev_release(struct kref *kref)
{
	struct vs_dev *vsdev = container_of(kref, struct vs_dev, kref);

	kvfree(vsdev->ports);
	kvfree(vsdev->vqs);
	kfree(vsdev);
}

/**
 * vs_dev_put() - drop a device reference
 * @vsdev: the device
 *
 * Context: any.
 */
void vs_dev_put(struct vs_dev *vsdev)
{
	kref_put(&vsdev->kref, vs_dev_release);
}

static void vs_port_release(struct kref *kref)
{
	struct vs_port *port = container_of(kref, struct vs_port, kref);

	/* Everything the port owned was let go at unplug. */
	vs_dev_put(port->vsdev);
	kfree(port->name);
	kfree(port);
}

/**
 * vs_port_put() - drop a port reference
 * @port: the port
 *
 * Context: any (the last put may come from a vq callback).
 */
void vs_port_put(struct vs_port *port)
{
	kref_put(&port->kref, vs_port_release);
}

/**
 * vs_port_get() - look a port up by id and take a reference
 * @vsdev: the device
 * @id: port id (any value; out-of-range ids find nothing)
 *
 * Context: any.
 * Return: the port, or NULL.
 */
struct vs_port *vs_port_get(struct vs_dev *vsdev, u32 id)
{
	struct vs_port *port = NULL;
	unsigned long flags;

	if (id >= vsdev->max_nr_ports)
		return NULL;
	spin_lock_irqsave(&vsdev->ports_lock, flags);
	port = vsdev->ports[id];
	if (port)
		kref_get(&port->kref);
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);
	return port;
}

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
	vs_port_reclaim_tx(port);
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
	vs_port_get_stats(dev_get_drvdata(dev), st);
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

/**
 * vs_port_get_stats() - consistent snapshot of a port's counters
 * @port: the port
 * @st: filled in
 *
 * Context: any.
 */
void vs_port_get_stats(struct vs_port *port, struct vs_port_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&port->inbuf_lock, flags);
	st->guest_connected = port->guest_connected;
	st->bytes_received = port->bytes_received;
	st->bytes_discarded = port->bytes_discarded;
	st->rx_bytes = port->rx_bytes;
	spin_unlock_irqrestore(&port->inbuf_lock, flags);
	spin_lock_irqsave(&port->outvq_lock, flags);
	st->outvq_full = port->outvq_full;
	st->bytes_sent = port->bytes_sent;
	st->tx_inflight = port->tx_inflight;
	spin_unlock_irqrestore(&port->outvq_lock, flags);
}

static struct attribute *vs_stat_attrs[] = {
	&dev_attr_bytes_sent.attr,
	&dev_attr_bytes_received.attr,
	&dev_attr_bytes_discarded.attr,
	&dev_attr_guest_connected.attr,
	&dev_attr_host_connected.attr,
	&dev_attr_tx_inflight.attr,
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
 * setup): see virtser_buf.c.  Ends with PORT_READY, 1 on success and 0 on
 * failure, as the in-tree driver does.
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
	mutex_init(&port->read_mutex);
	INIT_LIST_HEAD(&port->rxq);
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

	if (!vsdev->multiport && id == 0) {
		err = vs_cons_init(port);
		if (err)
			dev_err(&vdev->dev, "console setup failed: %d\n", err);
	}
	vs_ctrl_send(vsdev, id, VS_CTRL_PORT_READY, 1);
	return 0;

free_cdev:
	cdev_del(port->cdev);
free_port:
	vs_port_put(port);
fail:
	vs_ctrl_send(vsdev, id, VS_CTRL_PORT_READY, 0);
	return err;
}

/**
 * vs_port_unplug() - remove a port (PORT_REMOVE, device removal)
 * @port: the port; the caller's reference stays valid
 *
 * Order matters: first make open files see the port as gone and wake
 * every sleeper (so blocked reads and writes return -ENODEV), then stop
 * the console, then let go of the virtqueues, and only then remove the
 * user-visible devices.
 *
 * Context: process, ports_mutex held.
 */
void vs_port_unplug(struct vs_port *port)
{
	struct vs_dev *vsdev = port->vsdev;
	unsigned long flags;
	bool was_open;

	spin_lock_irqsave(&vsdev->ports_lock, flags);
	if (vsdev->ports[port->id] != port) {
		spin_unlock_irqrestore(&vsdev->ports_lock, flags);
		return;
	}
	vsdev->ports[port->id] = NULL;	/* table reference dropped below */
	spin_unlock_irqrestore(&vsdev->ports_lock, flags);

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

	mutex_lock(&port->read_mutex);
	vs_port_detach_bufs(port);
	mutex_unlock(&port->read_mutex);

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
