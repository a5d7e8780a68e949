/* pgp-verify.c — detached signatures: parsing, and verification of data
 * fed in pieces against the keys of a keyring (the maths is signature.c's). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"
#include "base/util.h"
#include "pgp/pgp-int.h"

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

/* A time for a message: "2020-01-02T00:01:00Z". */
static const char *when(long long t, char buf[64])
{
	if (!iso_utc((time_t)t, buf, 64))
		snprintf(buf, 64, "%lld", t);
	return buf;
}

/* Is key k (pk: its primary; the same for a primary) fit to have made s now?
 * The policy of gpgv and sqv, each at its strictest (docs/guide.md). */
static int policy(const struct pgp_key *k, const struct pgp_key *pk, const struct pgp_sig *s, unsigned role,
		  struct acso_err *e)
{
	char b[64];
	long long now = (long long)time(NULL);
	const struct pgp_key *both[2] = {pk, k};
	for (int i = 0; i < (k == pk ? 1 : 2); i++) {
		const struct pgp_key *x = both[i];
		const char *what = x == pk ? "key" : "subkey";
		if (x->revoked)
			return err_set(e, -ACSO_E_UNSAFE, "signed by '%s' (%s), whose %s %s was revoked on %s",
				       pk->name, pk->fprhex, what, x->keyid, when(x->revoked, b));
		/* Expired now (gpgv's EXPKEYSIG), or already when it signed (sqv). */
		if (x->expires && (x->expires <= now || x->expires <= s->created))
			return err_set(e, -ACSO_E_UNSAFE, "signed by '%s' (%s), whose %s %s expired on %s",
				       pk->name, pk->fprhex, what, x->keyid, when(x->expires, b));
	}
	if (s->sig_expires && s->created + s->sig_expires <= now)
		return err_set(e, -ACSO_E_UNSAFE, "the signature by '%s' (%s) expired on %s", pk->name, pk->fprhex,
			       when(s->created + s->sig_expires, b));
	/* SHA-1 is broken for collisions: a signature over data made with it can
	 * be moved to other data (sqv refuses it; gpgv with --weak-digest SHA1). */
	if (s->hashalgo == PGP_HASH_SHA1)
		return err_set(e, -ACSO_E_UNSAFE, "the signature by '%s' (%s) uses SHA-1, which is broken for "
			       "signatures over data", pk->name, pk->fprhex);
	if (role != PGP_ROLE_ANY && !(pk->roles & role))
		return err_set(e, -ACSO_E_UNSAFE, "'%s' (%s) signs %s, not %s", pk->name, pk->fprhex,
			       pk->roles == PGP_ROLE_SUMS ? "the checksum files" : "releases",
			       role == PGP_ROLE_SUMS ? "the checksum files" : "releases");
	return 0;
}

int pgp_verify_end(struct pgp_verify *v, const struct pgp_keyring *kr, struct pgp_signer *who,
		   struct acso_err *e)
{
	return pgp_verify_end_as(v, kr, PGP_ROLE_ANY, who, e);
}

int pgp_verify_end_as(struct pgp_verify *v, const struct pgp_keyring *kr, unsigned role,
		      struct pgp_signer *who, struct acso_err *e)
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
	who->roles = pk->roles;

	if (!k->can_sign)
		return err_set(e, -ACSO_E_NOKEY, "subkey %s of '%s' (%s) has no valid binding signature "
			       "that allows signing", k->keyid, pk->name, pk->fprhex);
	if (!pgp_algo_matches(k->algo, s->pkalgo))
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
	/* The maths holds; now whether this key may be believed. After the
	 * maths, so that changed data is reported BAD whatever the key. */
	return policy(k, pk, s, role, e);
}

int pgp_verify_detached(const void *data, size_t len, const void *sig, size_t siglen,
			const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e)
{
	return pgp_verify_detached_as(data, len, sig, siglen, kr, PGP_ROLE_ANY, who, e);
}

int pgp_verify_detached_as(const void *data, size_t len, const void *sig, size_t siglen,
			   const struct pgp_keyring *kr, unsigned role, struct pgp_signer *who,
			   struct acso_err *e)
{
	struct pgp_sig *s;
	struct pgp_verify *v;
	int r = pgp_sig_parse(sig, siglen, &s, e);
	if (r < 0)
		return r;
	r = pgp_verify_begin(s, &v, e);
	if (r == 0) {
		pgp_verify_update(v, data, len);
		r = pgp_verify_end_as(v, kr, role, who, e);
	}
	pgp_sig_free(s);
	return r;
}
