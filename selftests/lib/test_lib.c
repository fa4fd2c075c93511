// SPDX-License-Identifier: GPL-2.0
/*
 * test_lib.c - unit tests of the test rig's own library: SHA-256 against
 * the FIPS 180-4 examples, its SHA-NI path against the portable one, and
 * the stream generator's fast fill against its byte-wise definition.  Every
 * integrity check of the VM suite and of make bench rests on these.
 */
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "stream.h"
#include "tests/tap.h"

static void digest(const void *p, size_t n, size_t step, char hex[65])
{
	const unsigned char *q = p;
	struct sha256 s;

	sha256_init(&s);
	while (n) {
		size_t k = n < step ? n : step;

		sha256_update(&s, q, k);
		q += k;
		n -= k;
	}
	sha256_final_hex(&s, hex);
}

static void vectors(const char *path)
{
	static const struct { const char *msg; size_t repeat; const char *hex; } v[] = {
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].msg) * v[i].repeat, j;
		char *m = malloc(len + 1), hex[65];

		for (j = 0; j < v[i].repeat; j++)
			memcpy(m + j * strlen(v[i].msg), v[i].msg, strlen(v[i].msg));
		digest(m, len, len ? len : 1, hex);
		tap_check(!strcmp(hex, v[i].hex), "%s: FIPS 180-4 example %u (%zu bytes)",
			  path, i + 1, len);
		digest(m, len, 7, hex);
		tap_check(!strcmp(hex, v[i].hex), "%s: example %u fed 7 bytes at a time",
			  path, i + 1);
		free(m);
	}
}

static void sha_paths(void)
{
	static const size_t steps[] = { 1, 3, 63, 64, 65, 127, 4096, 65537, 1 << 20 };
	size_t n = (1 << 20) + 13, i;
	unsigned char *buf = malloc(n);
	char fast[65], slow[65];
	struct vt_stream st;
	int same = 1;

	vt_stream_seed(&st, 3);
	vt_stream_fill(&st, buf, n);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sha256_use_portable(0);
		digest(buf, n, steps[i], fast);
		sha256_use_portable(1);
		digest(buf, n, steps[i], slow);
		same &= !strcmp(fast, slow);
	}
	sha256_use_portable(0);
	tap_diag("SHA extensions %s", __builtin_cpu_supports("sha") ? "present" : "absent");
	tap_check(same, "native and portable SHA-256 agree on 1 MiB fed in 9 step sizes");
	free(buf);
}

/* The definition vt_stream_fill() must match, byte by byte. */
static void fill_ref(struct vt_stream *st, unsigned char *p, size_t n)
{
	while (n) {
		uint64_t v = vt_stream_next(st);
		size_t i;

		for (i = 0; i < 8 && n; i++, n--)
			*p++ = (unsigned char)(v >> (8 * i));
	}
}

static void stream_fill(void)
{
	unsigned char a[4096 + 8], b[4096 + 8];
	struct vt_stream s1, s2;
	size_t n;
	int same = 1;

	vt_stream_seed(&s1, 42);
	vt_stream_seed(&s2, 42);
	for (n = 0; n <= 4096; n += n < 40 ? 1 : 509) {
		vt_stream_fill(&s1, a + (n & 7), n);
		fill_ref(&s2, b + (n & 7), n);
		same &= !memcmp(a + (n & 7), b + (n & 7), n);
	}
	same &= vt_stream_next(&s1) == vt_stream_next(&s2);
	tap_check(same, "vt_stream_fill matches its byte-wise definition at every length and alignment");
}

int main(void)
{
	sha256_use_portable(1);
	vectors("portable");
	sha256_use_portable(0);
	vectors("native");
	sha_paths();
	stream_fill();
	return tap_done();
}
