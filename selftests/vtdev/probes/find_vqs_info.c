/* HAVE_FIND_VQS_INFO: virtio_config_ops.find_vqs takes struct virtqueue_info[] (6.11+) */
#include <linux/virtio_config.h>

static int probe_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			  struct virtqueue *vqs[], struct virtqueue_info info[],
			  struct irq_affinity *desc)
{
	return -ENOENT;
}

const struct virtio_config_ops probe_ops = {
	.find_vqs = probe_find_vqs,
};
