// SPDX-License-Identifier: GPL-2.0
#include "ring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

	return end > r->cap ? end - r->cap : 0;
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
