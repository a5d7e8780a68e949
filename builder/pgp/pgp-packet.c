/* pgp-packet.c — OpenPGP packet framing (old and new format headers) and the
 * two packet bodies acso needs: v4 public keys/subkeys and v4 signatures.
 * Partial body lengths are refused: RFC 4880 allows them only for data
 * packets, never for keys or signatures. Every length is checked against
 * what is left before it is used. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "pgp/pgp-int.h"
#include "base/util.h"

void pgp_hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int pgp_packet_next(const uint8_t *buf, size_t len, size_t *off, struct pgp_pkt *p,
		    struct acso_err *e)
{
	size_t o = *off;
	if (o >= len)
		return 0;
	uint8_t h = buf[o++];
	if (!(h & 0x80))
		return err_set(e, -ACSO_E_PARSE, "not an OpenPGP packet (header octet 0x%02X at offset %zu)",
			       h, o - 1);
	size_t blen;
	if (h & 0x40) { /* new format */
		p->tag = h & 0x3F;
		if (o >= len)
			goto truncated;
		uint8_t l0 = buf[o++];
		if (l0 < 192) {
			blen = l0;
		} else if (l0 < 224) {
			if (o >= len)
				goto truncated;
			blen = ((size_t)(l0 - 192) << 8) + buf[o++] + 192;
		} else if (l0 == 255) {
			if (len - o < 4)
				goto truncated;
			blen = be32(buf + o);
			o += 4;
		} else {
			return err_set(e, -ACSO_E_PARSE, "packet (tag %d) uses a partial body length, "
				       "not allowed for keys and signatures", p->tag);
		}
	} else { /* old format */
		p->tag = (h >> 2) & 0x0F;
		switch (h & 3) {
		case 0:
			if (o >= len)
				goto truncated;
			blen = buf[o++];
			break;
		case 1:
			if (len - o < 2)
				goto truncated;
			blen = ((size_t)buf[o] << 8) | buf[o + 1];
			o += 2;
			break;
		case 2:
			if (len - o < 4)
				goto truncated;
			blen = be32(buf + o);
			o += 4;
			break;
		default: /* indeterminate: the rest of the input */
			blen = len - o;
			break;
		}
	}
	if (p->tag == 0)
		return err_set(e, -ACSO_E_PARSE, "packet with reserved tag 0");
	if (blen > len - o)
		return err_set(e, -ACSO_E_PARSE, "truncated packet (tag %d): says %zu bytes, %zu left",
			       p->tag, blen, len - o);
	p->body = buf + o;
	p->len = blen;
	*off = o + blen;
	return 1;
truncated:
	return err_set(e, -ACSO_E_PARSE, "truncated packet header");
}

/* A cursor over a packet body. */
struct rd {
	const uint8_t *p;
	size_t n;
};

static bool take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->n < n)
		return false;
	*out = r->p;
	r->p += n;
	r->n -= n;
	return true;
}

static bool u8(struct rd *r, int *v)
{
	const uint8_t *q;
	if (!take(r, 1, &q))
		return false;
	*v = q[0];
	return true;
}

/* An MPI: 2-octet bit count, then the bytes. Leading zero bytes stripped. */
static int mpi(struct rd *r, const uint8_t **d, size_t *n, struct acso_err *e)
{
	const uint8_t *q;
	if (!take(r, 2, &q))
		return err_set(e, -ACSO_E_PARSE, "truncated MPI");
	unsigned bits = ((unsigned)q[0] << 8) | q[1];
	if (bits > PGP_MAX_MPI_BITS)
		return err_set(e, -ACSO_E_TOOBIG, "MPI of %u bits (limit %d)", bits, PGP_MAX_MPI_BITS);
	size_t bytes = (bits + 7) / 8;
	if (!take(r, bytes, &q))
		return err_set(e, -ACSO_E_PARSE, "truncated MPI (%u bits)", bits);
	while (bytes && !*q) {
		q++;
		bytes--;
	}
	*d = q;
	*n = bytes;
	return 0;
}

static uint8_t *dup_bytes(const uint8_t *d, size_t n)
{
	uint8_t *x = xmalloc(n ? n : 1);
	if (n)
		memcpy(x, d, n);
	return x;
}

static const uint8_t OID_ED25519[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01};

void pgp_key_clear(struct pgp_key *k)
{
	free(k->n);
	free(k->e);
	k->n = k->e = NULL;
}

int pgp_key_parse(const uint8_t *body, size_t len, struct pgp_key *k, struct acso_err *e)
{
	struct rd r = {body, len};
	const uint8_t *q;
	int ver, algo, rc;
	memset(k, 0, sizeof(*k));
	k->primary = -1;
	if (!u8(&r, &ver))
		return err_set(e, -ACSO_E_PARSE, "empty public key packet");
	if (ver != 4)
		return err_set(e, -ACSO_E_UNSUPPORTED, "public key version %d (only version 4 is supported)", ver);
	if (!take(&r, 4, &q) || !u8(&r, &algo))
		return err_set(e, -ACSO_E_PARSE, "truncated public key packet");
	k->created = be32(q);
	k->algo = algo;
	switch (algo) {
	case PGP_PK_RSA:
	case PGP_PK_RSA_S: {
		const uint8_t *n, *x;
		size_t nn, xn;
		if ((rc = mpi(&r, &n, &nn, e)) < 0 || (rc = mpi(&r, &x, &xn, e)) < 0)
			return err_wrap(e, rc, "RSA public key");
		if (nn < 64 || xn == 0 || xn > 8)
			return err_set(e, -ACSO_E_PARSE, "RSA public key with a %zu-byte modulus and %zu-byte exponent",
				       nn, xn);
		k->n = dup_bytes(n, nn);
		k->nlen = nn;
		k->e = dup_bytes(x, xn);
		k->elen = xn;
		k->algo = PGP_PK_RSA;
		break;
	}
	case PGP_PK_EDDSA_LEGACY: {
		int oidlen;
		const uint8_t *oid, *pt;
		size_t ptn;
		if (!u8(&r, &oidlen) || oidlen == 0 || oidlen == 0xFF || !take(&r, (size_t)oidlen, &oid))
			return err_set(e, -ACSO_E_PARSE, "EdDSA public key: malformed curve OID");
		if ((size_t)oidlen != sizeof(OID_ED25519) || memcmp(oid, OID_ED25519, sizeof(OID_ED25519)))
			return err_set(e, -ACSO_E_UNSUPPORTED, "EdDSA public key on a curve other than Ed25519");
		/* The point is an MPI of 0x40 followed by 32 bytes (263 bits). */
		if ((rc = mpi(&r, &pt, &ptn, e)) < 0)
			return err_wrap(e, rc, "EdDSA public key");
		if (ptn != 33 || pt[0] != 0x40)
			return err_set(e, -ACSO_E_PARSE, "EdDSA public key: not a native Ed25519 point");
		memcpy(k->ed25519, pt + 1, 32);
		break;
	}
	case PGP_PK_ED25519:
		if (!take(&r, 32, &q))
			return err_set(e, -ACSO_E_PARSE, "truncated Ed25519 public key");
		memcpy(k->ed25519, q, 32);
		break;
	default:
		return err_set(e, -ACSO_E_UNSUPPORTED, "public key algorithm %d (%s)", algo, pgp_pubkey_name(algo));
	}
	/* v4 fingerprint: SHA-1 over 0x99, two-octet length, the packet body. */
	if (len > 0xFFFF)
		return err_set(e, -ACSO_E_PARSE, "public key packet too long for a v4 fingerprint");
	struct hash *h = hash_new("sha1");
	uint8_t hdr[3] = {0x99, (uint8_t)(len >> 8), (uint8_t)len};
	hash_update(h, hdr, 3);
	hash_update(h, body, len);
	uint8_t d[HASH_MAX_LEN];
	hash_final(h, d);
	memcpy(k->fpr, d, 20);
	pgp_hex(k->fpr, 20, k->fprhex);
	pgp_hex(k->fpr + 12, 8, k->keyid);
	return 0;
}

void pgp_sig_clear(struct pgp_sig *s)
{
	free(s->hashed);
	free(s->m1);
	free(s->m2);
	s->hashed = s->m1 = s->m2 = NULL;
}

/* Walk one subpacket area. */
static int subpackets(const uint8_t *d, size_t n, bool hashed, struct pgp_sig *s, struct acso_err *e)
{
	struct rd r = {d, n};
	while (r.n) {
		const uint8_t *q;
		size_t sl;
		int l0;
		u8(&r, &l0);
		if (l0 < 192) {
			sl = (size_t)l0;
		} else if (l0 < 255) {
			if (!take(&r, 1, &q))
				goto truncated;
			sl = ((size_t)(l0 - 192) << 8) + q[0] + 192;
		} else {
			if (!take(&r, 4, &q))
				goto truncated;
			sl = be32(q);
		}
		if (sl == 0 || !take(&r, sl, &q))
			goto truncated;
		int type = q[0] & 0x7F;
		bool critical = q[0] & 0x80;
		const uint8_t *v = q + 1;
		size_t vl = sl - 1;
		switch (type) {
		case 2: /* signature creation time */
			if (vl != 4)
				return err_set(e, -ACSO_E_PARSE, "signature creation time subpacket of %zu bytes", vl);
			if (hashed)
				s->created = be32(v);
			break;
		case 3: /* signature expiration time */
		case 9: /* key expiration time */
			if (vl != 4)
				return err_set(e, -ACSO_E_PARSE, "expiration time subpacket of %zu bytes", vl);
			if (hashed)
				*(type == 3 ? &s->sig_expires : &s->key_expires) = be32(v);
			break;
		case 16: /* issuer key id */
			if (vl != 8)
				return err_set(e, -ACSO_E_PARSE, "issuer subpacket of %zu bytes", vl);
			memcpy(s->keyid, v, 8);
			s->has_keyid = true;
			break;
		case 33: /* issuer fingerprint: version octet, then the fingerprint */
			if (vl < 1)
				goto truncated;
			if (v[0] == 4 && vl == 21) {
				memcpy(s->fpr, v + 1, 20);
				s->has_fpr = true;
			} else if (v[0] == 4) {
				return err_set(e, -ACSO_E_PARSE, "issuer fingerprint subpacket of %zu bytes", vl);
			}
			break;
		case 27: /* key flags */
			if (hashed && vl >= 1) {
				s->keyflags = v[0];
				s->has_keyflags = true;
			}
			break;
		case 25: /* primary user id */
			if (hashed && vl == 1 && v[0])
				s->primary_uid = true;
			break;
		default:
			if (critical && hashed)
				s->unknown_critical = true;
			break;
		}
	}
	return 0;
truncated:
	return err_set(e, -ACSO_E_PARSE, "truncated signature subpacket");
}

static int sig_parse(const uint8_t *body, size_t len, struct pgp_sig *s, struct acso_err *e)
{
	struct rd r = {body, len};
	const uint8_t *q, *hs, *us;
	int rc;
	memset(s, 0, sizeof(*s));
	if (!u8(&r, &s->version))
		return err_set(e, -ACSO_E_PARSE, "empty signature packet");
	if (s->version != 4)
		return err_set(e, -ACSO_E_UNSUPPORTED, "signature version %d (only version 4 is supported)",
			       s->version);
	if (!u8(&r, &s->type) || !u8(&r, &s->pkalgo) || !u8(&r, &s->hashalgo) || !take(&r, 2, &q))
		goto truncated;
	size_t hl = ((size_t)q[0] << 8) | q[1];
	if (!take(&r, hl, &hs))
		goto truncated;
	s->hashed_len = 6 + hl;
	if (!take(&r, 2, &q))
		goto truncated;
	size_t ul = ((size_t)q[0] << 8) | q[1];
	if (!take(&r, ul, &us) || !take(&r, 2, &q))
		goto truncated;
	s->left16[0] = q[0];
	s->left16[1] = q[1];
	if ((rc = subpackets(hs, hl, true, s, e)) < 0 || (rc = subpackets(us, ul, false, s, e)) < 0)
		return rc;

	const uint8_t *a, *b;
	size_t an, bn;
	switch (s->pkalgo) {
	case PGP_PK_RSA:
	case PGP_PK_RSA_S:
		if ((rc = mpi(&r, &a, &an, e)) < 0)
			return err_wrap(e, rc, "RSA signature");
		s->m1 = dup_bytes(a, an);
		s->m1len = an;
		s->pkalgo = PGP_PK_RSA;
		break;
	case PGP_PK_EDDSA_LEGACY:
		if ((rc = mpi(&r, &a, &an, e)) < 0 || (rc = mpi(&r, &b, &bn, e)) < 0)
			return err_wrap(e, rc, "EdDSA signature");
		if (an > 32 || bn > 32)
			return err_set(e, -ACSO_E_PARSE, "EdDSA signature values longer than 32 bytes");
		s->m1 = dup_bytes(a, an);
		s->m1len = an;
		s->m2 = dup_bytes(b, bn);
		s->m2len = bn;
		break;
	case PGP_PK_ED25519:
		if (!take(&r, 64, &a))
			goto truncated;
		s->m1 = dup_bytes(a, 64);
		s->m1len = 64;
		break;
	default:
		return err_set(e, -ACSO_E_UNSUPPORTED, "signature public-key algorithm %d (%s)", s->pkalgo,
			       pgp_pubkey_name(s->pkalgo));
	}
	if (r.n)
		return err_set(e, -ACSO_E_PARSE, "%zu stray bytes after the signature values", r.n);
	s->hashed = dup_bytes(body, s->hashed_len);
	return 0;
truncated:
	return err_set(e, -ACSO_E_PARSE, "truncated signature packet");
}

int pgp_sig_parse_body(const uint8_t *body, size_t len, struct pgp_sig *s, struct acso_err *e)
{
	int r = sig_parse(body, len, s, e);
	if (r < 0)
		pgp_sig_clear(s);
	return r;
}

const char *pgp_hash_name(int algo)
{
	switch (algo) {
	case 1: return "MD5";
	case PGP_HASH_SHA1: return "SHA1";
	case 3: return "RIPEMD160";
	case PGP_HASH_SHA256: return "SHA256";
	case PGP_HASH_SHA384: return "SHA384";
	case PGP_HASH_SHA512: return "SHA512";
	case 11: return "SHA224";
	default: return "unknown";
	}
}

const char *pgp_pubkey_name(int algo)
{
	switch (algo) {
	case PGP_PK_RSA: case 2: case PGP_PK_RSA_S: return "RSA";
	case 16: return "ElGamal";
	case PGP_PK_DSA: return "DSA";
	case 18: return "ECDH";
	case 19: return "ECDSA";
	case PGP_PK_EDDSA_LEGACY: return "EdDSA";
	case PGP_PK_ED25519: return "Ed25519";
	default: return "unknown";
	}
}
