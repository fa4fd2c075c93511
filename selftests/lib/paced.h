/* SPDX-License-Identifier: GPL-2.0 */
/*
 * paced.h - the byte stream of vmhost's "paced" input, shared with the
 * guest: chunks of 16 to 64 bytes, either any byte but ^O (hvc takes ^O as
 * a SysRq prefix when the port is the system console) or text lines of
 * [a-z0-9].  From the seed alone the guest can generate what the host
 * sent and find where a copy of it differs.
 */
#ifndef VT_PACED_H
#define VT_PACED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VT_PACED_MIN	16
#define VT_PACED_MAX	64

struct vt_paced_gen {
	uint64_t rng;
	bool text;
};

static inline void vt_paced_seed(struct vt_paced_gen *g, uint64_t seed, bool text)
{
	g->rng = seed | 1;
	g->text = text;
}

static inline uint64_t vt_paced_rand(struct vt_paced_gen *g)
{
	/* xorshift64: reproducible from the seed, good enough for sizes */
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

/*
 * The next chunk into buf (VT_PACED_MAX bytes); its length.  The last
 * chunk of text ends its line, so that a shell's ^D after it is end of
 * file.
 */
static inline size_t vt_paced_chunk(struct vt_paced_gen *g, uint8_t *buf, bool last)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, n = VT_PACED_MIN + vt_paced_rand(g) % (VT_PACED_MAX - VT_PACED_MIN + 1);

	for (i = 0; i < n; i++) {
		uint64_t r = vt_paced_rand(g);

		if (!g->text)
			buf[i] = (uint8_t)(r >> 24) == 0x0f ? 0x0e : (uint8_t)(r >> 24);
		else if ((r >> 8) % 48 == 0 || (last && i == n - 1))
			buf[i] = '\n';
		else
			buf[i] = (uint8_t)alnum[(r >> 16) % 36];
	}
	return n;
}

#endif
