/* sigfile.h — verify a file on disk: cleartext-signed, or with a detached
 * signature (given, or found next to it as .sign, .asc, .sig). A compressed
 * file whose signature covers the uncompressed data (kernel.org's
 * linux-X.tar.xz + linux-X.tar.sign) is verified over the decompressed
 * stream. What `acso verify-signature` reports. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "pgp/pgp.h"

struct pgp_file_check {
	char *sig;                 /* the detached signature used (given or found); NULL for cleartext */
	const char *kind;          /* "cleartext", "detached", or "unknown" when neither was read */
	const char *decompressed;  /* the decompression filter's name, or NULL */
	struct pgp_signer who;
	bool have_info;            /* who holds at least the issuer */
	const char *issuer_by;     /* "fingerprint" (subpacket 33) or "keyid" (subpacket 16 only) */
	bool no_signature;         /* not cleartext-signed and no signature next to it */
	unsigned role;             /* the PGP_ROLE_* the signer needed */
};

/* 0 for a good signature; -ACSO_E_BADSIG, -ACSO_E_NOKEY, -ACSO_E_UNSAFE,
 * -ACSO_E_PARSE ... with c filled as far as it got. sig NULL: cleartext or
 * found. role: the PGP_ROLE_* the signer must have, or 0 for kernel.org's
 * naming: a cleartext file named *sha256sums.asc needs the checksum role, a
 * signature named *.tar.sign a release signer, anything else any key. Free c
 * with pgp_file_check_free. */
int pgp_check_file(const char *file, const char *sig, const struct pgp_keyring *kr, unsigned role,
		   struct pgp_file_check *c, struct acso_err *e);
void pgp_file_check_free(struct pgp_file_check *c);
