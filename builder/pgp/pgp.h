/* pgp.h — a native OpenPGP verifier for what kernel.org publishes.
 *
 * Reads ASCII armor (CRC24) and binary packets; v4 public keys (RSA, and
 * EdDSA Ed25519 as algorithm 22 with its OID or 27 of RFC 9580) with their
 * user IDs and subkeys; v4 signatures of type 0x00 (binary) and 0x01
 * (canonical text) over SHA-1/256/512; cleartext-signed messages.
 * Verification is pinned to the keys loaded into a keyring: there is no web
 * of trust and no key server. No GnuPG at run time; OpenSSL does the maths.
 *
 * The files, each using only those above it (no circle; pgp-int.h holds
 * what they share):
 *   armor.c       ASCII armor and CRC24
 *   pgp-packet.c  packets, key and signature packet bodies
 *   signature.c   one signature's maths: hash trailer, RSA / Ed25519 check
 *   keyring.c     the keys verification is pinned to (binding signatures
 *                 of subkeys checked with signature.c): data the verifier reads
 *   pgp-verify.c  detached signatures over data, against a keyring
 *   cleartext.c   cleartext-signed messages, through pgp-verify.c
 *
 * Every function returns 0 (or a count) on success and a negative code:
 *   -ACSO_E_PARSE        malformed input (armor, packet, cleartext)
 *   -ACSO_E_UNSUPPORTED  a well-formed thing we do not handle (v3/v5, DSA...)
 *   -ACSO_E_BADSIG       the signature does not verify (signer filled)
 *   -ACSO_E_NOKEY        the issuer is not in the keyring (keyid filled)
 *   -ACSO_E_UNSAFE       refused although the maths holds: the key is
 *                        expired or revoked, the hash is SHA-1, the
 *                        signature has expired, or the key may not sign
 *                        for the role asked (signer filled)
 *   -ACSO_E_TOOBIG       an input over the size limits below
 *   -errno               I/O
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Limits on outside input. */
#define PGP_MAX_KEYFILE   (4u << 20)  /* one key file */
#define PGP_MAX_SIGFILE   (64u << 10) /* one detached signature file */
#define PGP_MAX_CLEARTEXT (16u << 20) /* one cleartext-signed file */

/* OpenPGP algorithm numbers (RFC 4880 / RFC 9580). */
enum {
	PGP_PK_RSA = 1, PGP_PK_RSA_S = 3, PGP_PK_DSA = 17,
	PGP_PK_EDDSA_LEGACY = 22, PGP_PK_ED25519 = 27,
};
enum { PGP_HASH_SHA1 = 2, PGP_HASH_SHA256 = 8, PGP_HASH_SHA384 = 9, PGP_HASH_SHA512 = 10 };
enum { PGP_SIGTYPE_BINARY = 0x00, PGP_SIGTYPE_TEXT = 0x01 };

/* Key roles: what a key may sign. kernel.org's checksum autosigner signs the
 * sha256sums.asc files, the release signers (Greg Kroah-Hartman, Linus
 * Torvalds, Sasha Levin, Ben Hutchings) the tarballs and tags; one stolen
 * key must not pass both checks. The roles of those keys are pinned by
 * fingerprint in keyring.c's table, whatever file they come from. Any other
 * key (a --keyring the user gives, a throwaway mirror's key) may sign for
 * both: the user who names it vouches for it. */
enum {
	PGP_ROLE_SUMS = 1,     /* sha256sums.asc */
	PGP_ROLE_RELEASE = 2,  /* .tar.sign, signed git tags */
	PGP_ROLE_ANY = 3,
};
/* "checksums", "release", "any" — for reports. */
const char *pgp_role_name(unsigned role);

struct pgp_keyring;
struct pgp_sig;
struct pgp_verify;

/* Who made (or claims to have made) a signature. After pgp_sig_info only the
 * issuer fields are known (fingerprint "" when the signature names its issuer
 * by key id only); after verification the matched key fills fingerprint and
 * name (its primary user ID). */
struct pgp_signer {
	char fingerprint[41];   /* upper-case hex of the v4 fingerprint, "" unknown */
	char keyid[17];         /* upper-case hex, last 8 bytes of the fingerprint */
	char name[256];         /* primary user ID of the matched key, "" unknown */
	int hash_algo;          /* PGP_HASH_* */
	int pubkey_algo;        /* PGP_PK_* */
	long long created;      /* signature creation time, seconds since the epoch */
	unsigned roles;         /* PGP_ROLE_* of the matched key, 0 unknown */
};

/* Keyring: the keys verification is pinned to. */
int  pgp_keyring_new(struct pgp_keyring **kr);
/* A key file (.asc armored or .gpg binary), or a directory: every *.asc and
 * *.gpg file in it (not recursive). Returns the number of keys added. */
int  pgp_keyring_add_path(struct pgp_keyring *kr, const char *file_or_dir, struct acso_err *e);
/* Keys from memory, armored or binary. Returns the number of keys added. */
int  pgp_keyring_add_data(struct pgp_keyring *kr, const void *data, size_t len, struct acso_err *e);
size_t pgp_keyring_count(const struct pgp_keyring *kr);
void pgp_keyring_free(struct pgp_keyring *kr);
/* Look a key up by fingerprint (40 hex) or key id (16 hex), case-insensitive.
 * Fills fingerprint, keyid, name and pubkey_algo of who. 0, or -ACSO_E_NOKEY. */
int  pgp_keyring_find(const struct pgp_keyring *kr, const char *fpr_or_keyid, struct pgp_signer *who);

/* A detached signature, armored or binary (the first signature packet). */
int  pgp_sig_parse(const void *data, size_t len, struct pgp_sig **sig, struct acso_err *e);
/* Issuer, algorithms and creation time without verifying. */
int  pgp_sig_info(const struct pgp_sig *sig, struct pgp_signer *info);
/* PGP_SIGTYPE_BINARY or PGP_SIGTYPE_TEXT. */
int  pgp_sig_type(const struct pgp_sig *sig);
void pgp_sig_free(struct pgp_sig *sig);

/* Streaming verification of a detached signature over data fed in pieces.
 * For a text signature (0x01) the data is canonicalised (line endings to
 * CRLF) as it streams. */
int  pgp_verify_begin(const struct pgp_sig *sig, struct pgp_verify **v, struct acso_err *e);
void pgp_verify_update(struct pgp_verify *v, const void *data, size_t len);
/* 0 good; -ACSO_E_BADSIG (bad, signer filled); -ACSO_E_NOKEY (keyid filled);
 * -ACSO_E_PARSE/-ACSO_E_UNSUPPORTED for a key or signature we cannot use.
 * Always frees v. who may be NULL. */
int  pgp_verify_end(struct pgp_verify *v, const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e);
/* The same, for a key allowed to sign for role (PGP_ROLE_*): a good
 * signature by a key without that role is -ACSO_E_UNSAFE. pgp_verify_end is
 * pgp_verify_end_as(..., PGP_ROLE_ANY, ...). Every verification also refuses
 * (-ACSO_E_UNSAFE, the reason in e) a key or subkey that is revoked or
 * expired (now, or when it signed), a SHA-1 signature over data, and a
 * signature past its own expiration time. */
int  pgp_verify_end_as(struct pgp_verify *v, const struct pgp_keyring *kr, unsigned role,
		       struct pgp_signer *who, struct acso_err *e);
/* The whole thing in one call. */
int  pgp_verify_detached(const void *data, size_t len, const void *sig, size_t siglen,
			 const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e);
int  pgp_verify_detached_as(const void *data, size_t len, const void *sig, size_t siglen,
			    const struct pgp_keyring *kr, unsigned role, struct pgp_signer *who,
			    struct acso_err *e);

/* 1 if text has a line "-----BEGIN PGP SIGNED MESSAGE-----", else 0. */
int  pgp_is_cleartext(const char *text, size_t len);
/* Cleartext-signed text: verifies and returns the signed body as it was
 * signed: dash-unescaped, trailing spaces/tabs removed, each line ending in
 * LF, NUL-terminated, malloc'ed (body/body_len may be NULL). The body is
 * returned only when the signature is good: nothing unverified escapes.
 * Text before the BEGIN line is ignored (and not returned). */
int  pgp_verify_cleartext(const char *text, size_t len, const struct pgp_keyring *kr,
			  char **body, size_t *body_len, struct pgp_signer *who, struct acso_err *e);
/* The same, for a key allowed to sign for role (PGP_ROLE_*). */
int  pgp_verify_cleartext_as(const char *text, size_t len, const struct pgp_keyring *kr, unsigned role,
			     char **body, size_t *body_len, struct pgp_signer *who, struct acso_err *e);

/* "SHA256", "RSA", "EdDSA" — for reports. "unknown" for others. */
const char *pgp_hash_name(int algo);
const char *pgp_pubkey_name(int algo);
