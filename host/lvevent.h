/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvevent.h - libvirt's event loop on the daemon's io_uring (lvevent.c).
 */
#ifndef VIRTSERD_LVEVENT_H
#define VIRTSERD_LVEVENT_H

/* virEventRegisterImpl with this file's functions: before any virConnectOpen. */
void vs_lvev_register(void);
/* Nothing removed is still waiting for its last completion. */
bool vs_lvev_settled(void);
/* After the loop: frees what libvirt left registered, with its free callbacks. */
void vs_lvev_exit(void);

/* Completion handlers, for loop.c's dispatch table. */
void lvev_poll_done(void *obj, int res);
void lvev_timer_done(void *obj, int res);

#endif
