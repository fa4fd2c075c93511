/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel API differences live.
 *
 * The HAVE_* defines come from kernel/scripts/probe.sh, which compiles small
 * probes against the target kernel's headers (kernel/probes/).  No other file
 * tests a HAVE_* define or LINUX_VERSION_CODE; they call the helpers below.
 */
#ifndef VIRTSER_COMPAT_H
#define VIRTSER_COMPAT_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/virtio_config.h>

/* Linux 6.4 dropped the owner argument of class_create(). */
static inline struct class *virtser_class_create(const char *name)
{
#ifdef HAVE_CLASS_CREATE_NAME_ONLY
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/*
 * Linux 6.12 removed no_llseek(); a NULL .llseek together with
 * nonseekable_open() gives the same -ESPIPE.
 */
#ifdef HAVE_NO_LLSEEK
#define VIRTSER_NO_LLSEEK	no_llseek
#else
#define VIRTSER_NO_LLSEEK	NULL
#endif

/*
 * Linux 6.5 replaced generic_file_splice_read() by copy_splice_read() for
 * files that are not in the page cache.  Both feed read_iter a pipe.
 */
#ifdef HAVE_COPY_SPLICE_READ
#define VIRTSER_SPLICE_READ	copy_splice_read
#else
#define VIRTSER_SPLICE_READ	generic_file_splice_read
#endif

/* Linux 6.11 passes virtqueue callbacks and names as struct virtqueue_info. */
static inline int virtser_find_vqs(struct virtio_device *vdev,
				   unsigned int nvqs, struct virtqueue **vqs,
				   vq_callback_t **cbs, const char **names)
{
#ifdef HAVE_VIRTQUEUE_INFO
	struct virtqueue_info *info;
	unsigned int i;
	int err;

	info = kvcalloc(nvqs, sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = cbs[i];
	}
	err = virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
	kvfree(info);
	return err;
#else
	return virtio_find_vqs(vdev, nvqs, vqs, cbs, names, NULL);
#endif
}

/*
 * hvc_console.h is private to the kernel tree.  kernel/scripts/build.sh
 * extracts the copy matching the target kernel from its Debian
 * linux-source package into the object directory; see kernel/README.md.
 * Linux 6.8 changed the get_chars/put_chars types (u8, size_t, ssize_t).
 */
#include "hvc_console.h"
#ifdef HAVE_HVC_SIZE_T_OPS
#define VS_HVC_CHAR	u8
#define VS_HVC_COUNT	size_t
#define VS_HVC_RET	ssize_t
#else
#define VS_HVC_CHAR	char
#define VS_HVC_COUNT	int
#define VS_HVC_RET	int
#endif

#endif /* VIRTSER_COMPAT_H */
