/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stream.h - a reproducible byte stream with random chunk sizes.
 *
 * The integrity tests need random data written with random write sizes; the
 * sending half generates it from a seed and the receiving half hashes what
 * arrives, and the two hashes are compared.  xorshift64* is plenty for test
 * data and needs no library.
 */
#ifndef VT_STREAM_H
#define VT_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct vt_stream {
	uint64_t state;
};

static inline void vt_stream_seed(struct vt_stream *st, uint64_t seed)
{
	st->state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static inline uint64_t vt_stream_next(struct vt_stream *st)
{
	uint64_t x = st->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline void vt_stream_fill(struct vt_stream *st, void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		uint64_t v = vt_stream_next(st);
		size_t i;

		for (i = 0; i < 8 && n; i++, n--)
			*p++ = (uint8_t)(v >> (8 * i));
	}
}

/* A chunk size in [1, max], spread over every order of magnitude. */
static inline size_t vt_stream_chunk(struct vt_stream *st, size_t max)
{
	uint64_t v = vt_stream_next(st);
	size_t lim = (size_t)1 << (v % 17);	/* 1 B .. 64 KiB */

	if (lim > max)
		lim = max;
	return 1 + (size_t)((v >> 8) % lim);
}

#endif
