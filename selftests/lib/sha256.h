/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sha256.h - SHA-256 (FIPS 180-4) for the VM test rig.  Both halves of a
 * test hash what they sent or received, so data integrity is checked end to
 * end without shipping the data back over the slow control channel.
 */
#ifndef VT_SHA256_H
#define VT_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t blk[64];	/* partial block, len % 64 bytes used */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/*
 * Use the portable block function even where the CPU has SHA instructions
 * (for the unit test, which compares the two).
 */
void sha256_use_portable(int portable);
/* Writes the digest as 64 lowercase hex digits and a NUL to hex. */
void sha256_final_hex(struct sha256 *s, char hex[65]);

#endif
