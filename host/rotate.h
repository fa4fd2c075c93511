/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rotate.h - size-based log rotation (virtlogd's model: synchronous, at
 * write time, so a guest cannot fill the disk between logrotate runs).
 */
#ifndef VIRTSERD_ROTATE_H
#define VIRTSERD_ROTATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * How much of a @want byte write fits into a file of @size bytes before it
 * must rotate at @max (0 = never).  Returns 0 when the file is full, which
 * means "rotate first".  A write is split rather than letting the file
 * exceed the cap.
 */
size_t vs_rotate_room(uint64_t size, uint64_t max, size_t want);

/*
 * Shift path.N-1 -> path.N ... path -> path.1, dropping path.N.  With 0
 * backups the file is simply removed.  Returns 0 or -errno.
 */
int vs_rotate_files(const char *path, unsigned backups);

/* open(2) for an append-only log: O_APPEND|O_CLOEXEC|O_NOFOLLOW, 0640. */
int vs_open_log(const char *path, int append, uint64_t *size);

#endif
