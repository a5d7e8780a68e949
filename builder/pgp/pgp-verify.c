/* pgp-verify.c — detached signatures: parsing, and verification with
 * OpenSSL. The v4 hash covers the signed data (canonicalised for text
 * signatures), the signature packet from its version octet to the end of the
 * hashed subpackets, then 04 FF and that length as 4 bytes big-endian.
 * RSA: PKCS#1 v1.5 over the digest, the signature value left-padded to the
 * modulus size (OpenSSL 3 refuses a short one; about 1 in 256 real
 * signatures is a byte short). Ed25519: the digest is the message; R and S
 * left-padded to 32 bytes each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "base/hash.h"
#include "pgp/pgp-int.h"
#include "base/util.h"

const char *pgp_hash_id(int algo)
{
	switch (algo) {
	case PGP_HASH_SHA1: return "sha1";
	case PGP_HASH_SHA256: return "sha256";
	case PGP_HASH_SHA384: return "sha384";
	case PGP_HASH_SHA512: return "sha512";
	case 11: return "sha224";
	default: return NULL;
	}
}

static const EVP_MD *evp_md(int algo)
{
	switch (algo) {
	case PGP_HASH_SHA1: return EVP_sha1();
	case PGP_HASH_SHA256: return EVP_sha256();
	case PGP_HASH_SHA384: return EVP_sha384();
	case PGP_HASH_SHA512: return EVP_sha512();
	case 11: return EVP_sha224();
	default: return NULL;
	}
}

int pgp_sig_parse(const void *data, size_t len, struct pgp_sig **out, struct acso_err *e)
{
	_cleanup_free_ uint8_t *bin = NULL;
	const uint8_t *d = data;
	*out = NULL;
	if (len > PGP_MAX_SIGFILE)
		return err_set(e, -ACSO_E_TOOBIG, "signature of %zu bytes (limit %u)", len, PGP_MAX_SIGFILE);
	if (pgp_looks_armored(data, len)) {
		char type[64];
		size_t used;
		int r = pgp_armor_decode(data, len, type, &bin, &len, &used, e);
		if (r < 0)
			return r;
		if (strcmp(type, "SIGNATURE"))
			return err_set(e, -ACSO_E_PARSE, "armor holds a 'PGP %s', not a 'PGP SIGNATURE'", type);
		d = bin;
	}
	size_t off = 0;
	struct pgp_pkt p;
	int r;
	while ((r = pgp_packet_next(d, len, &off, &p, e)) > 0) {
		if (p.tag == 12 || p.tag == 10) /* trust, marker */
			continue;
		if (p.tag != 2)
			return err_set(e, -ACSO_E_PARSE, "OpenPGP packet with tag %d where a signature was expected",
				       p.tag);
		struct pgp_sig *s = xcalloc(1, sizeof(*s));
		r = pgp_sig_parse_body(p.body, p.len, s, e);
		if (r < 0) {
			free(s);
			return r;
		}
		*out = s;
		return 0;
	}
	if (r < 0)
		return r;
	return err_set(e, -ACSO_E_PARSE, "no signature packet");
}

void pgp_sig_free(struct pgp_sig *s)
{
	if (!s)
		return;
	pgp_sig_clear(s);
	free(s);
}

int pgp_sig_type(const struct pgp_sig *s)
{
	return s->type;
}

static void fill_issuer(const struct pgp_sig *s, struct pgp_signer *w)
{
	memset(w, 0, sizeof(*w));
	if (s->has_fpr) {
		pgp_hex(s->fpr, 20, w->fingerprint);
		pgp_hex(s->fpr + 12, 8, w->keyid);
	} else if (s->has_keyid) {
		pgp_hex(s->keyid, 8, w->keyid);
	}
	w->hash_algo = s->hashalgo;
	w->pubkey_algo = s->pkalgo;
	w->created = s->created;
}

int pgp_sig_info(const struct pgp_sig *s, struct pgp_signer *info)
{
	fill_issuer(s, info);
	return 0;
}

struct pgp_verify {
	const struct pgp_sig *s;
	struct hash *h;
	bool text;              /* canonicalise: line endings to CRLF */
	bool prev_cr;
};

int pgp_verify_begin_sig(const struct pgp_sig *s, bool raw, struct pgp_verify **v, struct acso_err *e)
{
	*v = NULL;
	if (s->type != PGP_SIGTYPE_BINARY && s->type != PGP_SIGTYPE_TEXT)
		return err_set(e, -ACSO_E_UNSUPPORTED, "signature type 0x%02X is not a signature over a document",
			       s->type);
	const char *hid = pgp_hash_id(s->hashalgo);
	if (!hid)
		return err_set(e, -ACSO_E_UNSUPPORTED, "hash algorithm %d (%s)", s->hashalgo,
			       pgp_hash_name(s->hashalgo));
	struct pgp_verify *x = xcalloc(1, sizeof(*x));
	x->s = s;
	x->h = hash_new(hid);
	x->text = !raw && s->type == PGP_SIGTYPE_TEXT;
	*v = x;
	return 0;
}

int pgp_verify_begin(const struct pgp_sig *s, struct pgp_verify **v, struct acso_err *e)
{
	return pgp_verify_begin_sig(s, false, v, e);
}

void pgp_verify_update(struct pgp_verify *v, const void *data, size_t len)
{
	if (!v->text) {
		hash_update(v->h, data, len);
		return;
	}
	/* Text signature over a file: a LF not preceded by CR becomes CRLF. */
	const char *p = data, *end = p + len, *run = p;
	for (; p < end; p++) {
		if (*p == '\n' && !(p > run ? p[-1] == '\r' : v->prev_cr)) {
			hash_update(v->h, run, (size_t)(p - run));
			hash_update(v->h, "\r\n", 2);
			run = p + 1;
		}
	}
	hash_update(v->h, run, (size_t)(end - run));
	if (len)
		v->prev_cr = end[-1] == '\r';
}

static void leftpad(uint8_t *dst, size_t dlen, const uint8_t *src, size_t slen)
{
	memset(dst, 0, dlen - slen);
	memcpy(dst + dlen - slen, src, slen);
}

/* 1 good, 0 bad, <0 error */
static int rsa_verify(const struct pgp_key *k, const struct pgp_sig *s, const uint8_t *dig, size_t dlen,
		      struct acso_err *e)
{
	if (s->m1len > k->nlen)
		return 0; /* a value larger than the modulus cannot be valid */
	int ok = -1;
	BIGNUM *n = BN_bin2bn(k->n, (int)k->nlen, NULL), *x = BN_bin2bn(k->e, (int)k->elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *kctx = NULL, *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *sig = xmalloc(k->nlen);
	leftpad(sig, k->nlen, s->m1, s->m1len);
	if (!n || !x || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, x) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(kctx) <= 0 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		err_set(e, -ACSO_E_PARSE, "key %s: OpenSSL does not accept the RSA public key", k->fprhex);
		goto out;
	}
	if (!(vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) || EVP_PKEY_verify_init(vctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(vctx, evp_md(s->hashalgo)) <= 0) {
		err_set(e, -ACSO_E_UNSUPPORTED, "OpenSSL cannot set up RSA verification with %s",
			pgp_hash_name(s->hashalgo));
		goto out;
	}
	ok = EVP_PKEY_verify(vctx, sig, k->nlen, dig, dlen) == 1;
out:
	free(sig);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(x);
	return ok;
}

static int ed25519_verify(const struct pgp_key *k, const struct pgp_sig *s, const uint8_t *dig, size_t dlen,
			  struct acso_err *e)
{
	uint8_t sig[64];
	if (s->pkalgo == PGP_PK_ED25519) {
		memcpy(sig, s->m1, 64);
	} else {
		leftpad(sig, 32, s->m1, s->m1len);
		leftpad(sig + 32, 32, s->m2, s->m2len);
	}
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->ed25519, 32);
	if (!pkey)
		return err_set(e, -ACSO_E_PARSE, "key %s: OpenSSL does not accept the Ed25519 public key", k->fprhex);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = -1;
	if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) <= 0)
		err_set(e, -ACSO_E_UNSUPPORTED, "OpenSSL cannot set up Ed25519 verification");
	else
		ok = EVP_DigestVerify(md, sig, 64, dig, dlen) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ok;
}

static bool algo_matches(int keyalgo, int sigalgo)
{
	if (keyalgo == PGP_PK_RSA)
		return sigalgo == PGP_PK_RSA;
	/* Ed25519 keys sign as EdDSA (22) or Ed25519 (27): same curve, same maths. */
	return (keyalgo == PGP_PK_EDDSA_LEGACY || keyalgo == PGP_PK_ED25519) &&
	       (sigalgo == PGP_PK_EDDSA_LEGACY || sigalgo == PGP_PK_ED25519);
}

void pgp_hash_trailer(struct hash *h, const struct pgp_sig *s)
{
	uint8_t trailer[6] = {0x04, 0xFF, (uint8_t)(s->hashed_len >> 24), (uint8_t)(s->hashed_len >> 16),
			      (uint8_t)(s->hashed_len >> 8), (uint8_t)s->hashed_len};
	hash_update(h, s->hashed, s->hashed_len);
	hash_update(h, trailer, sizeof(trailer));
}

int pgp_sig_check_digest(const struct pgp_key *k, const struct pgp_sig *s, const uint8_t *dig,
			 size_t dlen, struct acso_err *e)
{
	if (!algo_matches(k->algo, s->pkalgo))
		return 0;
	/* The quick check: the first two digest bytes are stored in the clear. */
	if (dig[0] != s->left16[0] || dig[1] != s->left16[1])
		return 0;
	return k->algo == PGP_PK_RSA ? rsa_verify(k, s, dig, dlen, e) : ed25519_verify(k, s, dig, dlen, e);
}

int pgp_verify_end(struct pgp_verify *v, const struct pgp_keyring *kr, struct pgp_signer *who,
		   struct acso_err *e)
{
	const struct pgp_sig *s = v->s;
	struct pgp_signer tmp;
	if (!who)
		who = &tmp;
	fill_issuer(s, who);

	pgp_hash_trailer(v->h, s);
	uint8_t dig[HASH_MAX_LEN];
	size_t dlen = hash_final(v->h, dig);
	free(v);

	if (!s->has_fpr && !s->has_keyid)
		return err_set(e, -ACSO_E_NOKEY, "the signature does not name its issuer");
	const struct pgp_key *k = pgp_keyring_lookup(kr, s);
	if (!k)
		return err_set(e, -ACSO_E_NOKEY, "no public key %s in the keyring",
			       who->fingerprint[0] ? who->fingerprint : who->keyid);
	const struct pgp_key *pk = pgp_keyring_primary(kr, k);
	snprintf(who->fingerprint, sizeof(who->fingerprint), "%s", pk->fprhex);
	snprintf(who->keyid, sizeof(who->keyid), "%s", k->keyid);
	snprintf(who->name, sizeof(who->name), "%s", pk->name);

	if (!k->can_sign)
		return err_set(e, -ACSO_E_NOKEY, "subkey %s of '%s' (%s) has no valid binding signature "
			       "that allows signing", k->keyid, pk->name, pk->fprhex);
	if (!algo_matches(k->algo, s->pkalgo))
		return err_set(e, -ACSO_E_BADSIG, "signature algorithm %s does not match the %s key %s",
			       pgp_pubkey_name(s->pkalgo), pgp_pubkey_name(k->algo), k->fprhex);
	if (s->unknown_critical)
		return err_set(e, -ACSO_E_UNSUPPORTED, "the signature has a critical subpacket acso does not know");
	if (dig[0] != s->left16[0] || dig[1] != s->left16[1])
		return err_set(e, -ACSO_E_BADSIG, "BAD signature from '%s' (%s): the digest does not match",
			       pk->name, pk->fprhex);
	int ok = pgp_sig_check_digest(k, s, dig, dlen, e);
	if (ok < 0)
		return e ? e->code : -ACSO_E_PARSE;
	if (!ok)
		return err_set(e, -ACSO_E_BADSIG, "BAD signature from '%s' (%s)", pk->name, pk->fprhex);
	return 0;
}

int pgp_verify_detached(const void *data, size_t len, const void *sig, size_t siglen,
			const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e)
{
	struct pgp_sig *s;
	struct pgp_verify *v;
	int r = pgp_sig_parse(sig, siglen, &s, e);
	if (r < 0)
		return r;
	r = pgp_verify_begin(s, &v, e);
	if (r == 0) {
		pgp_verify_update(v, data, len);
		r = pgp_verify_end(v, kr, who, e);
	}
	pgp_sig_free(s);
	return r;
}
