// SPDX-License-Identifier: GPL-2.0
/*
 * virtser - a virtio console (virtio ID 3) driver, drop-in compatible with
 * drivers/char/virtio_console.c: same class, device names, sysfs and
 * debugfs files and control protocol, so udev rules, guest agents and QEMU
 * see no difference.
 *
 * This file: module parameters, the class and debugfs root, and module
 * init/exit.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/path.h>

#include "virtser_internal.h"
#include "virtser_compat.h"

bool vs_keep_unread;
module_param_named(keep_unread, vs_keep_unread, bool, 0644);
MODULE_PARM_DESC(keep_unread,
		 "keep unread data at close, and data that arrives while closed, for the next open (default: drop it, like virtio_console)");

bool vs_tx_zerocopy;
module_param_named(tx_zerocopy, vs_tx_zerocopy, bool, 0644);
MODULE_PARM_DESC(tx_zerocopy,
		 "blocking writes of 256 KiB or more lend the writer's pages to the device and sleep, killable only, until the device has returned them (default: off: writes are copied and return once queued)");

static struct class *vs_port_class;
struct dentry *vs_debugfs_root;

/**
 * vs_class() - the "virtio-ports" class
 *
 * Context: any, while the module is loaded.
 * Return: the class.
 */
struct class *vs_class(void)
{
	return vs_port_class;
}

/*
 * The driver core has no exported "does this class exist" call, and
 * creating a duplicate class makes sysfs print a warning with a stack
 * dump.  Looking the directory up in sysfs answers the question quietly;
 * if sysfs is not mounted yet, class creation still fails with -EEXIST.
 */
static bool vs_class_exists(const char *name)
{
	char buf[64];
	struct path path;

	snprintf(buf, sizeof(buf), "/sys/class/%s", name);
	if (kern_path(buf, LOOKUP_FOLLOW, &path))
		return false;
	path_put(&path);
	return true;
}

static int __init virtser_init(void)
{
	int err;

	/*
	 * The in-tree driver owns the same class name.  Fail loudly rather
	 * than with a bare -EEXIST from the driver core.
	 */
	if (vs_class_exists("virtio-ports")) {
		pr_err("virtser: class virtio-ports already exists: virtio_console is loaded or built in (blacklist it, or boot with initcall_blacklist=virtio_console_init)\n");
		return -EEXIST;
	}
	vs_port_class = virtser_class_create("virtio-ports");
	if (IS_ERR(vs_port_class)) {
		err = PTR_ERR(vs_port_class);
		pr_err("virtser: cannot create class virtio-ports: %d\n", err);
		return err;
	}
	vs_debugfs_root = debugfs_create_dir("virtio-ports", NULL);
	if (IS_ERR(vs_debugfs_root))
		vs_debugfs_root = NULL;

	vs_cons_module_init();
	err = register_virtio_driver(&vs_virtio_driver);
	if (err) {
		pr_err("virtser: cannot register the virtio driver: %d\n", err);
		goto fail;
	}
	return 0;
fail:
	vs_cons_module_exit();
	debugfs_remove_recursive(vs_debugfs_root);
	class_destroy(vs_port_class);
	return err;
}

static void __exit virtser_exit(void)
{
	unregister_virtio_driver(&vs_virtio_driver);
	vs_cons_module_exit();
	debugfs_remove_recursive(vs_debugfs_root);
	class_destroy(vs_port_class);
}

module_init(virtser_init);
module_exit(virtser_exit);

MODULE_DESCRIPTION("virtio console and virtio-serial port driver");
MODULE_LICENSE("GPL");
