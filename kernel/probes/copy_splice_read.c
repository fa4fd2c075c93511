/* HAVE_COPY_SPLICE_READ: copy_splice_read() exists (6.5+) */
#include <linux/fs.h>
#include <linux/splice.h>

extern const struct file_operations virtser_probe_fops;
const struct file_operations virtser_probe_fops = {
	.splice_read = copy_splice_read,
};
