// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes of devices and ports: references, and finding a port by id
 * or by char device number.
 *
 * A port is reachable from three places: the device's id-indexed table
 * (control work and vq callbacks), the char device (open), and open
 * files.  Each holds a reference.  Unplug (virtser_hotplug.c) takes the
 * port out of the table, but the struct lives on until the last file is
 * closed; those files see @unplugged and get -ENODEV.  Nothing here calls
 * another file of the module.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "virtser_internal.h"

/* All bound devices; protects vs_dev.list. */
static DEFINE_SPINLOCK(vs_devices_lock);
static LIST_HEAD(vs_devices);

static void vs_dev_release(struct kref *kref)
{
	struct vs_dev *vsdev = container_of(kref, struct vs_dev, kref);

	bitmap_free(vsdev->announced);
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
 * vs_dev_register() - make a device's ports findable by open()
 * @vsdev: the device
 *
 * Context: any.
 */
void vs_dev_register(struct vs_dev *vsdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vs_devices_lock, flags);
	list_add_tail(&vsdev->list, &vs_devices);
	spin_unlock_irqrestore(&vs_devices_lock, flags);
}

/**
 * vs_dev_unregister() - undo vs_dev_register()
 * @vsdev: the device
 *
 * Context: any.
 */
void vs_dev_unregister(struct vs_dev *vsdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vs_devices_lock, flags);
	list_del_init(&vsdev->list);
	spin_unlock_irqrestore(&vs_devices_lock, flags);
}

/**
 * vs_port_get_by_devt() - find the live port behind a char device number
 * @devt: device number from the inode
 *
 * Context: any.
 * Return: the port with a reference taken, or NULL if it is gone.
 */
struct vs_port *vs_port_get_by_devt(dev_t devt)
{
	struct vs_port *port = NULL;
	struct vs_dev *vsdev;
	unsigned long flags;

	spin_lock_irqsave(&vs_devices_lock, flags);
	list_for_each_entry(vsdev, &vs_devices, list) {
		if (MAJOR(vsdev->devt_base) != MAJOR(devt))
			continue;
		port = vs_port_get(vsdev, MINOR(devt));
		break;
	}
	spin_unlock_irqrestore(&vs_devices_lock, flags);
	return port;
}
