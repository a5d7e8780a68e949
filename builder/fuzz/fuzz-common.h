/* fuzz-common.h — shared by the libFuzzer targets (builder/fuzz/fuzz-*.c, built by
 * scripts/fuzz only): the keyring every target verifies against. */
#pragma once
#include <stdint.h>
#include <stdlib.h>

#include "pgp/pgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* acso's keys/ (or $ACSO_DATADIR/keys), loaded once. A test RSA and Ed25519
 * key may be added with $ACSO_FUZZ_KEYS so that good-signature paths run. */
static inline struct pgp_keyring *fuzz_keyring(void)
{
	static struct pgp_keyring *kr;
	if (!kr) {
		const char *dd = getenv("ACSO_DATADIR");
		char path[4096];
		snprintf(path, sizeof(path), "%s/keys", dd && *dd ? dd : ".");
		pgp_keyring_new(&kr);
		if (pgp_keyring_add_path(kr, path, NULL) < 0)
			abort(); /* run from the source tree or set ACSO_DATADIR */
		const char *extra = getenv("ACSO_FUZZ_KEYS");
		if (extra && *extra)
			pgp_keyring_add_path(kr, extra, NULL);
	}
	return kr;
}
