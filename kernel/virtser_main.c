// SPDX-License-Identifier: GPL-2.0
/*
 * virtser - a virtio console (virtio ID 3) driver.
 *
 * Module entry points.  For now the module only registers and unregisters
 * itself so the kbuild path, both supported header sets and the compat
 * probes are exercised; the driver proper grows in the files beside this one.
 */
#include <linux/module.h>

#include "virtser_compat.h"

static int __init virtser_init(void)
{
	pr_info("virtser: loaded\n");
	return 0;
}

static void __exit virtser_exit(void)
{
	pr_info("virtser: unloaded\n");
}

module_init(virtser_init);
module_exit(virtser_exit);

MODULE_DESCRIPTION("virtio console and virtio-serial port driver");
MODULE_LICENSE("GPL");
