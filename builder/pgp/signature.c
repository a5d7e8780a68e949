/* signature.c — the maths of one v4 signature, with OpenSSL: the hash
 * algorithm, the trailer every v4 hash ends with, and the check of a digest
 * against one key. The v4 hash covers the signed data (canonicalised for text
 * signatures), the signature packet from its version octet to the end of the
 * hashed subpackets, then 04 FF and that length as 4 bytes big-endian.
 * RSA: PKCS#1 v1.5 over the digest, the signature value left-padded to the
 * modulus size (OpenSSL 3 refuses a short one; about 1 in 256 real
 * signatures is a byte short). Ed25519: the digest is the message; R and S
 * left-padded to 32 bytes each. Knows packets, not keyrings: keyring.c
 * checks binding signatures with it, pgp-verify.c the signatures of data. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "base/hash.h"
#include "base/util.h"
#include "pgp/pgp-int.h"

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

bool pgp_algo_matches(int keyalgo, int sigalgo)
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
	if (!pgp_algo_matches(k->algo, s->pkalgo))
		return 0;
	/* The quick check: the first two digest bytes are stored in the clear. */
	if (dig[0] != s->left16[0] || dig[1] != s->left16[1])
		return 0;
	return k->algo == PGP_PK_RSA ? rsa_verify(k, s, dig, dlen, e) : ed25519_verify(k, s, dig, dlen, e);
}
