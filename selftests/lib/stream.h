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

/*
 * Each 64-bit value gives the next 8 bytes, least significant first (the
 * last value of a fill may give fewer).  On a little-endian machine that
 * is the value's memory image, copied whole: the host half of a benchmark
 * generates every byte it sends.
 */
static inline void vt_stream_fill(struct vt_stream *st, void *buf, size_t n)
{
	uint8_t *p = buf;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v = vt_stream_next(st);

		__builtin_memcpy(p, &v, 8);
	}
#endif
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

/*
 * The byte stream of vmhost's "source PORT N SEED" job: chunk sizes and
 * bytes come from one generator, chunks of at most VT_SOURCE_CHUNK bytes.
 * A guest that needs the data itself (to compare what it read) builds it
 * with vt_stream_image().
 */
#define VT_SOURCE_CHUNK	65536

static inline void vt_stream_image(void *buf, uint64_t n, uint64_t seed)
{
	uint8_t *p = buf;
	struct vt_stream st;

	vt_stream_seed(&st, seed);
	while (n) {
		size_t c = vt_stream_chunk(&st, VT_SOURCE_CHUNK);

		if (c > n)
			c = (size_t)n;
		vt_stream_fill(&st, p, c);
		p += c;
		n -= c;
	}
}

#endif
