/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peerq.h - how much of what was written on a stream socket its peer has
 * not read yet.
 *
 * Why not SIOCOUTQ: on AF_UNIX it counts the truesize of the buffers
 * queued to the peer (headers included, and unchanged by a partial read),
 * and it drops to 0 the moment the peer closes, because closing frees the
 * peer's receive queue.  The exact figure is the length of the peer's
 * receive queue, which sock_diag (unix_diag, UDIAG_SHOW_RQLEN) reports
 * for any unix socket by inode while it exists.  For TCP, SIOCOUTQ is
 * exact for what it means, bytes the peer's kernel has not acknowledged,
 * and it stays valid after a reset; bytes acknowledged but not read by
 * the peer cannot be seen from the sending side at all.
 */
#ifndef VS_PEERQ_H
#define VS_PEERQ_H

#include <stdint.h>

/* The inode of the unix socket connected to @fd: 0 or -errno. */
int vs_unix_peer_ino(int fd, uint32_t *ino);

/* Bytes queued in unix socket @ino's receive queue, or -errno. */
long vs_unix_rqlen(uint32_t ino);

/* TCP: bytes sent on @fd that the peer has not acknowledged, or -errno. */
long vs_tcp_unacked(int fd);

/* Closes the daemon's sock_diag socket (opened on first use). */
void vs_peerq_exit(void);

#endif
