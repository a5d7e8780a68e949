/* pgp-int.h — internals shared by the OpenPGP files. Not for other modules:
 * use pgp.h. The files depend on each other in one direction only (see
 * pgp.h), and this header is in that order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pgp/pgp.h"

#define PGP_MAX_MPI_BITS 16384

/* ---- armor.c ---- */
uint32_t pgp_crc24(const uint8_t *d, size_t n);
/* 1 if the data holds an armor BEGIN line ("-----BEGIN PGP "). */
bool pgp_looks_armored(const void *data, size_t len);
/* Decode the first armor block at or after text (text before its BEGIN line
 * is skipped). type receives what follows "BEGIN PGP " ("SIGNATURE", "PUBLIC
 * KEY BLOCK"). *consumed is the offset just past the END line.
 * 0, -ACSO_E_NOTFOUND (no BEGIN line), -ACSO_E_PARSE. */
int pgp_armor_decode(const char *text, size_t len, char type[64], uint8_t **out,
		     size_t *outlen, size_t *consumed, struct acso_err *e);

/* ---- pgp-packet.c ---- */
struct pgp_pkt {
	int tag;
	const uint8_t *body;
	size_t len;
};
/* Next packet from buf at *off. 1 a packet, 0 at the end, <0 error
 * (truncated, partial length, reserved tag). */
int pgp_packet_next(const uint8_t *buf, size_t len, size_t *off, struct pgp_pkt *p,
		    struct acso_err *e);

struct pgp_key {
	uint8_t fpr[20];
	char fprhex[41];
	char keyid[17];
	int algo;
	long long created;
	uint8_t *n, *e;          /* RSA, big-endian, leading zeros stripped */
	size_t nlen, elen;
	uint8_t ed25519[32];     /* EdDSA public point (native form) */
	int primary;             /* index of the primary key in the ring, -1 for a primary */
	char name[256];          /* primary's user ID (copied to subkeys) */
	bool name_is_primary;    /* set from a self-signature's primary-UID flag */
	bool can_sign;           /* primary; or a subkey whose newest valid
				  * binding signature's key flags allow signing */
	long long self_time;     /* creation time of the newest valid self-
				  * signature (primary) or binding (subkey) */
	long long expires;       /* from that signature: seconds since the
				  * epoch, 0 never */
	long long revoked;       /* creation time of a valid revocation, 0 none */
	unsigned roles;          /* PGP_ROLE_* this key (its primary) may sign for */
};
/* Parse a public key / subkey body (tag 6 or 14). -ACSO_E_UNSUPPORTED for a
 * version or algorithm we do not use (the caller skips such keys). */
int pgp_key_parse(const uint8_t *body, size_t len, struct pgp_key *k, struct acso_err *e);
void pgp_key_clear(struct pgp_key *k);

struct pgp_sig {
	int version, type, pkalgo, hashalgo;
	uint8_t *hashed;          /* version octet .. end of hashed subpackets */
	size_t hashed_len;
	uint8_t left16[2];
	long long created;
	bool has_keyid, has_fpr, primary_uid, unknown_critical, has_keyflags;
	int keyflags;             /* first octet of the key flags subpacket (27) */
	long long key_expires;    /* key expiration time (9): seconds after the key's creation, 0 never */
	long long sig_expires;    /* signature expiration time (3): seconds after creation, 0 never */
	uint8_t keyid[8];
	uint8_t fpr[20];
	uint8_t *m1, *m2;         /* RSA: s; EdDSA legacy: R, S; Ed25519 (27): 64 raw in m1 */
	size_t m1len, m2len;
};
/* Parse a signature packet body (tag 2). */
int pgp_sig_parse_body(const uint8_t *body, size_t len, struct pgp_sig *s, struct acso_err *e);
void pgp_sig_clear(struct pgp_sig *s);

void pgp_hex(const uint8_t *d, size_t n, char *out);

/* ---- signature.c (uses pgp-packet.c) ---- */
/* Hash-algorithm name for hash.h, NULL if unsupported. */
const char *pgp_hash_id(int algo);
struct hash;
/* Hash the v4 trailer: the hashed part of s, then 04 FF and its length. */
void pgp_hash_trailer(struct hash *h, const struct pgp_sig *s);
/* Check s by key k over a finished digest: 1 good, 0 bad (including an
 * algorithm mismatch or a wrong digest prefix), <0 error. */
int pgp_sig_check_digest(const struct pgp_key *k, const struct pgp_sig *s, const uint8_t *dig,
			 size_t dlen, struct acso_err *e);
/* Can a key of algorithm keyalgo have made a signature of sigalgo? */
bool pgp_algo_matches(int keyalgo, int sigalgo);

/* ---- keyring.c (uses signature.c for binding signatures) ---- */
/* The key (primary or subkey) matching the signature's issuer, or NULL. */
const struct pgp_key *pgp_keyring_lookup(const struct pgp_keyring *kr, const struct pgp_sig *s);
const struct pgp_key *pgp_keyring_primary(const struct pgp_keyring *kr, const struct pgp_key *k);

/* ---- pgp-verify.c (uses keyring.c and signature.c) ---- */
/* Start verification with an already-parsed signature (no copy kept: s must
 * outlive v). */
int pgp_verify_begin_sig(const struct pgp_sig *s, bool raw, struct pgp_verify **v, struct acso_err *e);
