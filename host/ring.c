// SPDX-License-Identifier: GPL-2.0
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int vs_ring_init(struct vs_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	/*
	 * Anonymous mmap rather than malloc: pages are only allocated when
	 * data first reaches them, so an idle port costs no buffer memory
	 * (calloc would memset when the allocator serves it from the heap),
	 * and valgrind, which cannot see io_uring fill the ring, treats
	 * mapped memory as defined.
	 */
	r->buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return -1;
	}
	r->cap = cap;
	return 0;
}

void vs_ring_free(struct vs_ring *r)
{
	if (r->buf)
		munmap(r->buf, r->cap);
	r->buf = NULL;
}

size_t vs_ring_room(const struct vs_ring *r, uint64_t consumed)
{
	uint64_t used = r->head - consumed;

	return used >= r->cap ? 0 : r->cap - (size_t)used;
}

size_t vs_ring_reserve(struct vs_ring *r, uint64_t consumed, uint8_t **ptr)
{
	size_t room = vs_ring_room(r, consumed);
	size_t off = (size_t)(r->head % r->cap);
	size_t n = r->cap - off;

	if (n > room)
		n = room;
	*ptr = r->buf + off;
	r->reserved = n;
	return n;
}

void vs_ring_commit(struct vs_ring *r, size_t n)
{
	r->head += n;
	r->reserved = 0;
}

void vs_ring_unreserve(struct vs_ring *r)
{
	r->reserved = 0;
}

size_t vs_ring_span(const struct vs_ring *r, uint64_t pos, const uint8_t **ptr)
{
	size_t off = (size_t)(pos % r->cap);
	uint64_t avail = r->head - pos;
	size_t n = r->cap - off;

	if (pos >= r->head)
		return 0;
	if (n > avail)
		n = (size_t)avail;
	*ptr = r->buf + off;
	return n;
}

uint64_t vs_ring_oldest(const struct vs_ring *r)
{
	uint64_t end = r->head + r->reserved;
	uint64_t o = end > r->cap ? end - r->cap : 0;

	return o > r->gone ? o : r->gone;
}

size_t vs_ring_stale(const struct vs_ring *r, uint64_t keep)
{
	uint64_t from = vs_ring_oldest(r);

	if (keep > r->head)
		keep = r->head;
	return keep > from ? (size_t)(keep - from) : 0;
}

/* Releases the whole pages inside ring offsets [s, e), e <= cap. */
static size_t trim_span(struct vs_ring *r, size_t s, size_t e)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t a = (s + pg - 1) / pg * pg;
	/* The last page past cap is never used: it goes with the last byte. */
	size_t b = e == r->cap ? (r->cap + pg - 1) / pg * pg : e / pg * pg;

	if (b <= a)
		return 0;
	/* Best effort: on failure the pages merely stay resident. */
	if (madvise(r->buf + a, b - a, MADV_DONTNEED))
		return 0;
	return b - a;
}

size_t vs_ring_trim(struct vs_ring *r, uint64_t keep)
{
	uint64_t from = vs_ring_oldest(r);
	size_t len, off, n = 0;

	if (keep > r->head)
		keep = r->head;
	if (keep <= from)
		return 0;
	/*
	 * from >= head + reserved - cap, so [from, keep) never shares memory
	 * with the loan at head; it is at most one lap, split at the wrap.
	 */
	len = (size_t)(keep - from);
	off = (size_t)(from % r->cap);
	if (off + len <= r->cap) {
		n = trim_span(r, off, off + len);
	} else {
		n = trim_span(r, off, r->cap);
		n += trim_span(r, 0, off + len - r->cap);
	}
	/* Bytes in partial pages at the edges are kept but count as gone. */
	r->gone = keep;
	return n;
}

void vs_ring_put(struct vs_ring *r, const uint8_t *p, size_t n)
{
	while (n) {
		size_t off = (size_t)(r->head % r->cap);
		size_t k = r->cap - off;

		if (k > n)
			k = n;
		memcpy(r->buf + off, p, k);
		r->head += k;
		p += k;
		n -= k;
	}
}
