/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring.h - a bounded byte ring with one writer and any number of readers.
 *
 * Positions are absolute 64-bit byte counts, so a reader that lags is
 * detected by comparison instead of by wrap arithmetic.  The ring never
 * decides what is "consumed": the port computes that as the minimum
 * position of the readers that must not lose data, and passes it in.
 * Bytes stay in memory after they are consumed until the writer reuses the
 * space, which is what makes replay-on-attach free, or until the port
 * trims them (vs_ring_trim) to give idle memory back to the kernel.
 */
#ifndef VIRTSERD_RING_H
#define VIRTSERD_RING_H

#include <stddef.h>
#include <stdint.h>

/* Owner of every field: the port that embeds the ring (one thread). */
struct vs_ring {
	uint8_t *buf;		/* owned by the ring; freed by vs_ring_free */
	size_t cap;
	uint64_t head;		/* bytes ever committed */
	size_t reserved;	/* bytes lent to an in-flight read at head */
	uint64_t gone;		/* bytes before this were trimmed: memory reads 0 */
};

int vs_ring_init(struct vs_ring *r, size_t cap);
void vs_ring_free(struct vs_ring *r);

/*
 * Contiguous space at head that may be filled without overwriting any byte
 * at or after @consumed.  The space is lent to the caller (e.g. to the
 * kernel for a read) until vs_ring_commit() or vs_ring_unreserve().
 */
size_t vs_ring_reserve(struct vs_ring *r, uint64_t consumed, uint8_t **ptr);
void vs_ring_commit(struct vs_ring *r, size_t n);	/* ends the loan too */
void vs_ring_unreserve(struct vs_ring *r);

/* Bytes from @pos that are contiguous in memory (0 if pos == head). */
size_t vs_ring_span(const struct vs_ring *r, uint64_t pos, const uint8_t **ptr);

/* The oldest position whose byte is still intact (and not lent out). */
uint64_t vs_ring_oldest(const struct vs_ring *r);

/* Free space, not counting a loan in progress. */
size_t vs_ring_room(const struct vs_ring *r, uint64_t consumed);

/*
 * Bytes that vs_ring_trim(r, keep) could give back: the span between the
 * oldest intact byte and @keep (at most head), whether or not its pages
 * were ever touched.
 */
size_t vs_ring_stale(const struct vs_ring *r, uint64_t keep);

/*
 * Return the whole pages holding bytes older than @keep (<= head) to the
 * kernel (MADV_DONTNEED: they read as zero and cost nothing until written
 * again).  Those bytes are lost for good: vs_ring_oldest() moves to @keep.
 * Never touches the space lent at head.  Returns the bytes released.
 */
size_t vs_ring_trim(struct vs_ring *r, uint64_t keep);

/* Copy in @n bytes at head (the caller checked room); no loan involved. */
void vs_ring_put(struct vs_ring *r, const uint8_t *p, size_t n);

#endif
