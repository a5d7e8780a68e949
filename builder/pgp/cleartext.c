/* cleartext.c — cleartext-signed messages (RFC 4880 §7), as kernel.org's
 * sha256sums.asc: "-----BEGIN PGP SIGNED MESSAGE-----", "Hash:" headers, a
 * blank line, the dash-escaped text, then an armored signature of type 0x01.
 * The signed form: dash-escaping undone, trailing spaces and tabs stripped
 * from every line, lines joined with CRLF, no line ending after the last
 * line (that one belongs to the framing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgp/pgp-int.h"
#include "base/util.h"

static const char BEGIN_MSG[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char BEGIN_SIG[] = "-----BEGIN PGP SIGNATURE-----";

/* The line at p: [p, *le) without the '\n'; returns the next line start. */
static const char *line(const char *p, const char *end, const char **le)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*le = nl ? nl : end;
	return nl ? nl + 1 : end;
}

/* End of [p, le) without trailing spaces, tabs and CR. */
static const char *rtrim(const char *p, const char *le)
{
	while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
		le--;
	return le;
}

static const char *find_begin(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *le;
	size_t bl = strlen(BEGIN_MSG);
	while (p < end) {
		const char *next = line(p, end, &le);
		const char *t = rtrim(p, le);
		if ((size_t)(t - p) == bl && !memcmp(p, BEGIN_MSG, bl))
			return next;
		p = next;
	}
	return NULL;
}

int pgp_is_cleartext(const char *text, size_t len)
{
	return find_begin(text, len) != NULL;
}

/* Does a "Hash: SHA256, SHA512" value list the signature's algorithm? */
static bool hash_listed(const char *v, const char *ve, int algo)
{
	const char *want = pgp_hash_name(algo);
	while (v < ve) {
		while (v < ve && (*v == ' ' || *v == ',' || *v == '\t'))
			v++;
		const char *w = v;
		while (w < ve && *w != ',' && *w != ' ' && *w != '\t')
			w++;
		if (w > v && strlen(want) == (size_t)(w - v) && !strncasecmp(v, want, (size_t)(w - v)))
			return true;
		v = w;
	}
	return false;
}

int pgp_verify_cleartext(const char *text, size_t len, const struct pgp_keyring *kr, char **body,
			 size_t *body_len, struct pgp_signer *who, struct acso_err *e)
{
	return pgp_verify_cleartext_as(text, len, kr, PGP_ROLE_ANY, body, body_len, who, e);
}

int pgp_verify_cleartext_as(const char *text, size_t len, const struct pgp_keyring *kr, unsigned role,
			    char **body, size_t *body_len, struct pgp_signer *who, struct acso_err *e)
{
	if (body)
		*body = NULL;
	if (len > PGP_MAX_CLEARTEXT)
		return err_set(e, -ACSO_E_TOOBIG, "cleartext-signed file of %zu bytes (limit %u)", len,
			       PGP_MAX_CLEARTEXT);
	const char *end = text + len, *le;
	const char *p = find_begin(text, len);
	if (!p)
		return err_set(e, -ACSO_E_PARSE, "no '%s' line", BEGIN_MSG);

	/* Armor headers up to a blank line; only "Hash:" is allowed, because
	 * nothing in them is covered by the signature. */
	const char *hash_v = NULL, *hash_ve = NULL;
	bool multi_hash = false;
	for (;;) {
		if (p >= end)
			return err_set(e, -ACSO_E_PARSE, "cleartext: no blank line after the headers");
		const char *next = line(p, end, &le);
		const char *t = rtrim(p, le);
		if (t == p) {
			p = next;
			break;
		}
		if ((size_t)(t - p) > 5 && !strncasecmp(p, "Hash:", 5)) {
			multi_hash = hash_v != NULL;
			hash_v = p + 5;
			hash_ve = t;
		} else {
			return err_set(e, -ACSO_E_PARSE, "cleartext: unexpected header line '%.*s'",
				       (int)((t - p) > 60 ? 60 : (t - p)), p);
		}
		p = next;
	}
	if (multi_hash)
		return err_set(e, -ACSO_E_PARSE, "cleartext: more than one 'Hash:' header");

	/* The text, up to the signature's BEGIN line. */
	struct buf canon = {0}, plain = {0};
	const char *sig = NULL;
	bool first = true;
	size_t sl = strlen(BEGIN_SIG);
	while (p < end) {
		const char *next = line(p, end, &le);
		const char *t = rtrim(p, le);
		if ((size_t)(t - p) == sl && !memcmp(p, BEGIN_SIG, sl)) {
			sig = p;
			break;
		}
		const char *s = p;
		if (t - s >= 2 && s[0] == '-' && s[1] == ' ')
			s += 2;
		if (!first)
			buf_append(&canon, "\r\n", 2);
		first = false;
		buf_append(&canon, s, (size_t)(t - s));
		buf_append(&plain, s, (size_t)(t - s));
		buf_append(&plain, "\n", 1);
		p = next;
	}
	int r;
	struct pgp_sig *s = NULL;
	struct pgp_verify *v = NULL;
	if (!sig) {
		r = err_set(e, -ACSO_E_PARSE, "cleartext: no '%s' line", BEGIN_SIG);
		goto out;
	}
	r = pgp_sig_parse(sig, (size_t)(end - sig), &s, e);
	if (r < 0) {
		err_wrap(e, r, "cleartext signature");
		goto out;
	}
	if (s->type != PGP_SIGTYPE_TEXT) {
		r = err_set(e, -ACSO_E_PARSE, "cleartext: signature type 0x%02X, expected 0x01 (canonical text)",
			    s->type);
		goto out;
	}
	if (hash_v && !hash_listed(hash_v, hash_ve, s->hashalgo)) {
		r = err_set(e, -ACSO_E_PARSE, "cleartext: the 'Hash:' header does not list %s, the signature's hash",
			    pgp_hash_name(s->hashalgo));
		goto out;
	}
	r = pgp_verify_begin_sig(s, true, &v, e);
	if (r < 0)
		goto out;
	pgp_verify_update(v, canon.data, canon.len);
	r = pgp_verify_end_as(v, kr, role, who, e);
	if (r == 0 && body) {
		buf_str(&plain);
		if (body_len)
			*body_len = plain.len;
		*body = TAKE_PTR(plain.data);
	}
out:
	pgp_sig_free(s);
	buf_free(&canon);
	buf_free(&plain);
	return r;
}
