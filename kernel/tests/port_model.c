// SPDX-License-Identifier: GPL-2.0
/*
 * port_model.c - see port_model.h.  Each function says which module code
 * it stands for; the decisions are proto/'s, only the bookkeeping is here.
 */
#include <string.h>

#include "kernel/tests/port_model.h"

void pm_init(struct pm_model *m, uint32_t max_nr_ports, bool keep_unread)
{
	memset(m, 0, sizeof(*m));
	m->max_nr_ports = max_nr_ports;
	m->keep_unread = keep_unread;
}

static struct pm_port *pm_port(struct pm_model *m, uint32_t id)
{
	return id < PM_PORTS ? &m->port[id] : NULL;
}

/* vs_rx_post_locked(): the ring takes it back if it has room. */
static void pm_rx_repost(struct pm_model *m, uint32_t id)
{
	if (m->vq[id].rx_posted < PM_RING)
		m->vq[id].rx_posted++;
}

/* vs_rx_fill(): post until the ring is full, once per port life. */
static void pm_rx_fill(struct pm_model *m, uint32_t id)
{
	if (m->port[id].rx_allocated)
		return;
	m->vq[id].rx_posted = PM_RING;
	m->port[id].rx_allocated = true;
}

/* vs_rx_discard() and vs_rx_detach(): unread data goes, counted. */
static void pm_rx_drop_unread(struct pm_model *m, uint32_t id, bool repost)
{
	struct pm_port *p = &m->port[id];
	unsigned int i;

	for (i = 0; i < p->rxq_n; i++) {
		m->rx_dropped++;
		if (repost)
			pm_rx_repost(m, id);
	}
	p->rxq_n = 0;
	p->rxq_off = 0;
	p->rx_bytes = 0;
}

/* vs_port_unplug(). */
static void pm_unplug(struct pm_model *m, uint32_t id)
{
	struct pm_port *p = &m->port[id];

	/* The detached queue keeps its posted buffers; the rest is freed. */
	pm_rx_drop_unread(m, id, false);
	if (p->vport_open)
		m->stale_file[id] = true;	/* sees -ENODEV until closed */
	memset(p, 0, sizeof(*p));
	m->ready_sent[id] = 0;
}

/* vs_ctrl_handle(): what the module does with a parsed message. */
static void pm_act(struct pm_model *m, const struct vs_ctrl_msg *msg)
{
	struct pm_port *p = pm_port(m, msg->id);
	struct vs_port_view view = { 0 };

	if (!p) {
		/* vs_ctrl_parse() passed an id past max_nr_ports. */
		m->underflows++;
		return;
	}
	if (p->present) {
		view.exists = true;
		view.is_console = p->console;
		view.has_name = p->names > 0;
		view.open = p->guest_connected && !p->console;
	}
	switch (vs_ctrl_decide(msg, &view)) {
	case VS_ACT_ADD_PORT:
		if (p->present)
			p->adds++;	/* a second port at one id */
		else
			memset(p, 0, sizeof(*p));
		p->present = true;
		p->adds++;
		/* Multiport: the host is there once it says PORT_OPEN. */
		p->host_connected = false;
		m->ready_sent[msg->id]++;
		break;
	case VS_ACT_RESEND_READY:
		if (!p->present) {
			m->ready_for_absent++;
			break;
		}
		/* Nothing else: test_state checks the port is unchanged. */
		m->ready_sent[msg->id]++;
		break;
	case VS_ACT_REMOVE_PORT:
		pm_unplug(m, msg->id);
		break;
	case VS_ACT_MAKE_CONSOLE:
		/* vs_cons_init(): asks again under inbuf_lock. */
		if (vs_port_claim(VS_READER_CONSOLE, p->console,
				  p->guest_connected, p->unplugged)) {
			m->console_refused++;
			break;
		}
		p->guest_connected = true;
		p->console = true;
		pm_rx_fill(m, msg->id);
		break;
	case VS_ACT_REFUSE_CONSOLE:
		m->console_refused++;
		break;
	case VS_ACT_RESIZE:
		p->cols = msg->cols;
		p->rows = msg->rows;
		break;
	case VS_ACT_HOST_OPEN:
		p->host_connected = msg->value;
		break;
	case VS_ACT_SET_NAME:
		p->names++;
		break;
	case VS_ACT_IGNORE:
		break;
	}
}

/*
 * vs_ctrl_work(): the used length is checked against the buffer, then at
 * most a header and a too-long name are copied and parsed.
 */
void pm_ctrl(struct pm_model *m, const uint8_t *buf, uint32_t len)
{
	uint8_t copy[VS_CTRL_HDR_LEN + VS_NAME_MAX + 1];
	struct vs_ctrl_msg msg;
	u32 n;

	vs_used_len(len, PM_BUF_SIZE, &n);
	if (n > sizeof(copy))
		n = sizeof(copy);
	memcpy(copy, buf, n);
	if (vs_ctrl_parse(copy, n, m->max_nr_ports, &msg)) {
		m->rejected++;
		return;
	}
	pm_act(m, &msg);
}

void pm_ctrl_msg(struct pm_model *m, uint32_t id, uint16_t event,
		 uint16_t value, uint32_t extra)
{
	uint8_t buf[VS_CTRL_HDR_LEN + 64] = { 0 };

	vs_ctrl_encode(buf, id, event, value);
	if (extra > sizeof(buf) - VS_CTRL_HDR_LEN)
		extra = sizeof(buf) - VS_CTRL_HDR_LEN;
	pm_ctrl(m, buf, VS_CTRL_HDR_LEN + extra);
}

/*
 * vs_rx_intr() for a port that owns the queue, or the device's orphan
 * drain (vs_buf_drain_used()) for an id without a port.
 */
void pm_rx_used(struct pm_model *m, uint32_t id, uint32_t used)
{
	struct pm_port *p = pm_port(m, id);
	u32 len;

	/* The ring hands back only what it was given. */
	if (!p || !m->vq[id].rx_posted)
		return;
	m->vq[id].rx_posted--;
	if (!p->present) {
		m->orphans_drained++;
		return;
	}
	vs_used_len(used, PM_BUF_SIZE, &len);
	if (!vs_rx_keep(len, p->guest_connected, m->keep_unread) ||
	    p->rxq_n == 2 * PM_RING) {
		m->rx_dropped++;
		pm_rx_repost(m, id);
		return;
	}
	p->rxq_len[p->rxq_n++] = len;
	p->rx_bytes += len;
}

/* vs_tx_reclaim_locked(): clamps, as a buffer may be an earlier life's. */
void pm_tx_used(struct pm_model *m, uint32_t id)
{
	struct pm_port *p = pm_port(m, id);

	if (!p || !m->vq[id].tx_posted)
		return;
	m->vq[id].tx_posted--;
	if (!p->present) {
		m->orphans_drained++;
		return;
	}
	if (p->tx_inflight)
		p->tx_inflight--;
}

/* vs_open(). */
int pm_open(struct pm_model *m, uint32_t id)
{
	struct pm_port *p = pm_port(m, id);
	int err;

	if (!p || !p->present)
		return -ENXIO;	/* no char device for that minor */
	err = vs_port_claim(VS_READER_VPORT, p->console, p->guest_connected,
			    p->unplugged);
	if (err)
		return err;
	p->guest_connected = true;
	p->vport_open = true;
	pm_rx_fill(m, id);
	return 0;
}

/* vs_release(): unread data is dropped unless keep_unread. */
void pm_close(struct pm_model *m, uint32_t id)
{
	struct pm_port *p = pm_port(m, id);

	if (!p)
		return;
	if (!p->vport_open) {
		m->stale_file[id] = false;
		return;
	}
	p->vport_open = false;
	p->guest_connected = false;
	if (!m->keep_unread)
		pm_rx_drop_unread(m, id, true);
}

/*
 * vs_rx_take(), by read() on an open port or by hvc's get_chars on a
 * console: whole buffers go back to the ring.
 */
uint32_t pm_read(struct pm_model *m, uint32_t id, uint32_t count)
{
	struct pm_port *p = pm_port(m, id);
	uint32_t done = 0, n;
	unsigned int i;

	if (!p || !p->present || !p->guest_connected)
		return 0;
	while (count && p->rxq_n) {
		n = p->rxq_len[0] - p->rxq_off;
		if (n > count)
			n = count;
		if (n > p->rx_bytes) {
			m->underflows++;
			p->rx_bytes = 0;
		} else {
			p->rx_bytes -= n;
		}
		p->rxq_off += n;
		count -= n;
		done += n;
		if (p->rxq_off == p->rxq_len[0]) {
			for (i = 1; i < p->rxq_n; i++)
				p->rxq_len[i - 1] = p->rxq_len[i];
			p->rxq_n--;
			p->rxq_off = 0;
			pm_rx_repost(m, id);
		}
	}
	return done;
}

/* vs_tx_queue() for write() on an open port. */
int pm_write(struct pm_model *m, uint32_t id)
{
	struct pm_port *p = pm_port(m, id);

	if (!p || !p->present || !p->vport_open)
		return -ENODEV;
	if (!p->host_connected)
		return -EPIPE;
	if (m->vq[id].tx_posted == PM_RING)
		return -EAGAIN;
	m->vq[id].tx_posted++;
	p->tx_inflight++;
	return 0;
}

const char *pm_check(const struct pm_model *m)
{
	const struct pm_port *p;
	unsigned int id, i;
	uint32_t unread;

	if (m->underflows)
		return "rx accounting underflowed (or an id passed the range check)";
	if (m->ready_for_absent)
		return "PORT_READY re-sent for a port that does not exist";
	for (id = 0; id < PM_PORTS; id++) {
		p = &m->port[id];
		if (id >= m->max_nr_ports && (p->present || m->vq[id].rx_posted))
			return "a port exists past max_nr_ports";
		if (p->console && p->vport_open)
			return "a console port is also open as a vport";
		if (p->guest_connected != (p->console || p->vport_open))
			return "guest_connected is not 'open or console'";
		if (!p->present && (p->rxq_n || p->rx_bytes || p->tx_inflight ||
				    p->console || p->vport_open || p->names))
			return "a removed id still has buffers or state";
		if (p->present ? p->adds != 1 || m->ready_sent[id] < 1 :
				 m->ready_sent[id] != 0)
			return "an id was announced ready without exactly one port";
		if (p->names > 1)
			return "a port was named twice in one life";
		if (!p->console && (p->cols || p->rows))
			return "a generic port was resized";
		if (m->vq[id].rx_posted > PM_RING || m->vq[id].tx_posted > PM_RING)
			return "more buffers posted than the ring holds";
		if (p->tx_inflight > m->vq[id].tx_posted)
			return "tx buffers in flight that the ring does not hold";
		unread = 0;
		for (i = 0; i < p->rxq_n; i++) {
			if (!p->rxq_len[i] || p->rxq_len[i] > PM_BUF_SIZE)
				return "an unread buffer is empty or overlong";
			unread += p->rxq_len[i];
		}
		if (p->rxq_off >= (p->rxq_n ? p->rxq_len[0] : 1) ||
		    unread - p->rxq_off != p->rx_bytes)
			return "rx_bytes is not the unread bytes queued";
		if (p->rxq_n && !p->guest_connected && !m->keep_unread)
			return "data queued for a port nobody reads";
	}
	return NULL;
}
