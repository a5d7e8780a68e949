/* fuzz-pgp-packet.c — libFuzzer target: packet framing, public keys,
 * signatures and verification. The input is tried as a key file (armored or
 * binary) and as a detached signature verified over a fixed text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz-common.h"
#include "pgp/pgp-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acso_err e = {0};
	struct pgp_keyring *kr;
	pgp_keyring_new(&kr);
	if (pgp_keyring_add_data(kr, data, size, &e) >= 0 && pgp_keyring_count(kr) == 0)
		abort(); /* success must mean at least one key */
	pgp_keyring_free(kr);

	static const char text[] = "fuzz\n";
	struct pgp_signer who;
	int r = pgp_verify_detached(text, sizeof(text) - 1, data, size, fuzz_keyring(), &who, &e);
	if (r == 0 && !who.fingerprint[0])
		abort(); /* a good signature always names its key */

	/* Raw packet walk, to reach every framing branch. */
	size_t off = 0;
	struct pgp_pkt p;
	while (pgp_packet_next(data, size, &off, &p, NULL) > 0) {
		if (p.tag == 2) {
			struct pgp_sig s;
			if (pgp_sig_parse_body(p.body, p.len, &s, NULL) == 0)
				pgp_sig_clear(&s);
		} else if (p.tag == 6 || p.tag == 14) {
			struct pgp_key k;
			if (pgp_key_parse(p.body, p.len, &k, NULL) == 0)
				pgp_key_clear(&k);
		}
	}
	return 0;
}
