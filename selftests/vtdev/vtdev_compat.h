/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where vtdev.ko meets kernel API differences.
 *
 * The HAVE_* defines come from kernel/scripts/probe.sh run over
 * selftests/vtdev/probes/ (see build.sh); nothing else tests them.
 */
#ifndef VTDEV_COMPAT_H
#define VTDEV_COMPAT_H

#include <linux/slab.h>
#include <linux/virtio_config.h>

/*
 * Linux 6.11 passes each queue's name, callback and ctx to find_vqs as one
 * struct virtqueue_info; before, they came as three arrays.  vtdev's
 * find_vqs is written against struct vtdev_vq_req and vtdev_find_vqs()
 * below turns the kernel's arguments into it.  Included by vtdev.c only.
 */
struct vtdev_vq_req {
	const char *name;
	vq_callback_t *callback;
	bool ctx;
};

int vtdev_find_vqs_common(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[],
			  const struct vtdev_vq_req *req);

#ifdef HAVE_FIND_VQS_INFO
static int vtdev_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[], struct virtqueue_info info[],
			  struct irq_affinity *desc)
{
	struct vtdev_vq_req *req;
	unsigned int i;
	int err;

	req = kcalloc(nvqs, sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	for (i = 0; i < nvqs; i++) {
		req[i].name = info[i].name;
		req[i].callback = info[i].callback;
		req[i].ctx = info[i].ctx;
	}
	err = vtdev_find_vqs_common(vdev, nvqs, vqs, req);
	kfree(req);
	return err;
}
#else
static int vtdev_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[], vq_callback_t *callbacks[],
			  const char * const names[], const bool *ctx,
			  struct irq_affinity *desc)
{
	struct vtdev_vq_req *req;
	unsigned int i;
	int err;

	req = kcalloc(nvqs, sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	for (i = 0; i < nvqs; i++) {
		req[i].name = names[i];
		req[i].callback = callbacks[i];
		req[i].ctx = ctx ? ctx[i] : false;
	}
	err = vtdev_find_vqs_common(vdev, nvqs, vqs, req);
	kfree(req);
	return err;
}
#endif

#endif /* VTDEV_COMPAT_H */
