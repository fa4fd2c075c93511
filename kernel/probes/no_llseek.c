/* HAVE_NO_LLSEEK: no_llseek() still exists (removed in 6.12) */
#include <linux/fs.h>

extern const struct file_operations virtser_probe_fops;
const struct file_operations virtser_probe_fops = {
	.llseek = no_llseek,
};
