// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-config.c - libFuzzer target for the configuration parser.  Any
 * input either is refused with a message, or parses into a configuration
 * whose canonical form (vs_config_format) parses again into the very same
 * canonical form: what the daemon prints for an accepted file is a file it
 * accepts and reads the same way.  Names are not resolved (no DNS here).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[600], err2[600];
	struct vs_config *a, *b;
	char *fa, *fb;

	if (size > 64 << 10)
		return 0;
	err[0] = '\0';
	a = vs_config_parse((const char *)data, size, "fuzz.xml", err, sizeof(err));
	if (!a) {
		if (!err[0]) {
			fprintf(stderr, "refused without a message\n");
			abort();
		}
		return 0;
	}
	fa = vs_config_format(a);
	if (!fa)
		abort();
	b = vs_config_parse(fa, strlen(fa), "canonical.xml", err2, sizeof(err2));
	if (!b) {
		fprintf(stderr, "the canonical form is refused: %s\n---\n%s---\n", err2, fa);
		abort();
	}
	fb = vs_config_format(b);
	if (!fb || strcmp(fa, fb)) {
		fprintf(stderr, "the canonical form changes when parsed again:\n%s---\n%s---\n",
			fa, fb ? fb : "(null)");
		abort();
	}
	free(fa);
	free(fb);
	vs_config_free(a);
	vs_config_free(b);
	return 0;
}
