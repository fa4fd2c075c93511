// SPDX-License-Identifier: GPL-2.0
/*
 * peerq.c - a peer's unread bytes (see peerq.h for why sock_diag).
 *
 * One NETLINK_SOCK_DIAG socket serves the whole daemon.  A request for a
 * single socket by inode is answered inside sendmsg(), so the recv that
 * follows never waits: these calls may run inside the event loop.
 */
#include "peerq.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>	/* INET_DIAG_NOCOOKIE */

/* Owner: the loop thread (the only caller). */
static int diag_fd = -1;

void vs_peerq_exit(void)
{
	if (diag_fd >= 0)
		close(diag_fd);
	diag_fd = -1;
}

/*
 * Asks about unix socket @ino; copies the payload of attribute @attr
 * (at most @len bytes) to @out.  0, or -errno (-ENOENT: no such socket
 * or no such attribute).
 */
static int unix_diag(uint32_t ino, uint32_t show, unsigned short attr, void *out, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = {
			.nlmsg_len = sizeof(q),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
		},
		.req = {
			.sdiag_family = AF_UNIX,
			.udiag_states = ~0u,
			.udiag_ino = ino,
			.udiag_show = show,
			.udiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
		},
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	/* One unix_diag_msg and a few attributes; aligned for nlmsghdr. */
	union {
		struct nlmsghdr h;
		char b[1024];
	} r;
	struct nlmsghdr *h = &r.h;
	ssize_t n;

	if (diag_fd < 0) {
		diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (diag_fd < 0)
			return -errno;
	}
	if (sendto(diag_fd, &q, sizeof(q), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -errno;
	do
		n = recv(diag_fd, &r, sizeof(r), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* The kernel's answer is not trusted further than its lengths allow. */
	if (!NLMSG_OK(h, (size_t)n))
		return -EPROTO;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EPROTO;
		return e->error ? e->error : -ENOENT;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return -EPROTO;
	{
		const struct unix_diag_msg *m = NLMSG_DATA(h);
		const struct nlattr *a = (const void *)(m + 1);
		size_t left = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

		if (m->udiag_ino != ino)
			return -EPROTO;
		while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= left) {
			size_t step = NLA_ALIGN(a->nla_len);

			if ((a->nla_type & NLA_TYPE_MASK) == attr) {
				if (a->nla_len - sizeof(*a) < len)
					return -EPROTO;
				memcpy(out, (const char *)a + NLA_HDRLEN, len);
				return 0;
			}
			if (step >= left)
				break;
			left -= step;
			a = (const void *)((const char *)a + step);
		}
	}
	return -ENOENT;
}

int vs_unix_peer_ino(int fd, uint32_t *ino)
{
	struct stat st;
	uint32_t peer = 0;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	ret = unix_diag((uint32_t)st.st_ino, UDIAG_SHOW_PEER, UNIX_DIAG_PEER, &peer, sizeof(peer));
	if (ret)
		return ret;
	if (!peer)
		return -ENOTCONN;
	*ino = peer;
	return 0;
}

long vs_unix_rqlen(uint32_t ino)
{
	struct unix_diag_rqlen rq;
	int ret = unix_diag(ino, UDIAG_SHOW_RQLEN, UNIX_DIAG_RQLEN, &rq, sizeof(rq));

	return ret ? ret : (long)rq.udiag_rqueue;
}

long vs_tcp_unacked(int fd)
{
	int q = 0;

	if (ioctl(fd, SIOCOUTQ, &q))
		return -errno;
	return q < 0 ? -EPROTO : q;
}
