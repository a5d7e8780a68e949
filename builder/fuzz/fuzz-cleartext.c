/* fuzz-cleartext.c — libFuzzer target: cleartext-signed messages (headers,
 * dash-escaping, canonical form, the embedded armored signature). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acso_err e = {0};
	struct pgp_signer who;
	char *body = NULL;
	size_t blen = 0;
	(void)pgp_is_cleartext((const char *)data, size);
	int r = pgp_verify_cleartext((const char *)data, size, fuzz_keyring(), &body, &blen, &who, &e);
	if (r == 0 && (!body || strlen(body) != blen))
		abort(); /* the returned body is NUL-terminated at its length */
	if (r != 0 && body)
		abort(); /* nothing unverified is handed out */
	free(body);
	return 0;
}
