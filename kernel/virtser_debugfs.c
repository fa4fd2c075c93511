// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/virtio-ports/vportNpM.
 *
 * Same nine "key: value" lines, in the same order and format, as the
 * in-tree driver: test suites and guest agents parse them.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "virtser_internal.h"

static int vs_debugfs_show(struct seq_file *s, void *data)
{
	struct vs_port *port = s->private;
	struct vs_port_stats st;

	vs_rx_stats(port, &st);
	vs_tx_stats(port, &st);
	seq_printf(s, "name: %s\n", port->name ? port->name : "");
	seq_printf(s, "guest_connected: %d\n", st.guest_connected);
	seq_printf(s, "host_connected: %d\n", READ_ONCE(port->host_connected));
	seq_printf(s, "outvq_full: %d\n", st.outvq_full);
	seq_printf(s, "bytes_sent: %lu\n", st.bytes_sent);
	seq_printf(s, "bytes_received: %lu\n", st.bytes_received);
	seq_printf(s, "bytes_discarded: %lu\n", st.bytes_discarded);
	seq_printf(s, "is_console: %s\n", READ_ONCE(port->is_console) ? "yes" : "no");
	seq_printf(s, "console_vtermno: %u\n", port->vtermno);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vs_debugfs);

/**
 * vs_debugfs_add() - create the port's debugfs file
 * @port: the port, with its class device created
 *
 * Context: process, ports_mutex held.
 */
void vs_debugfs_add(struct vs_port *port)
{
	if (!vs_debugfs_root || !port->dev)
		return;
	port->debugfs = debugfs_create_file(dev_name(port->dev), 0444,
					    vs_debugfs_root, port,
					    &vs_debugfs_fops);
}

/**
 * vs_debugfs_remove() - remove the port's debugfs file
 * @port: the port
 *
 * debugfs_remove() waits for readers that are inside vs_debugfs_show(),
 * so the port cannot go away under one.
 *
 * Context: process, ports_mutex held.
 */
void vs_debugfs_remove(struct vs_port *port)
{
	debugfs_remove(port->debugfs);
	port->debugfs = NULL;
}
