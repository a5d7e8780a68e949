/* cmd-verify-signature.c — `acso verify-signature [--keyring K] FILE [SIG]`:
 * check a cleartext-signed file, or a file and its detached signature,
 * against acso's keys/ plus --keyring, natively (no GnuPG).
 * A compressed FILE with a signature over the uncompressed data (kernel.org's
 * linux-X.tar.xz + linux-X.tar.sign) is verified over the decompressed stream.
 * Exit codes: 0 good, 5 BAD, 6 no public key, 7 malformed, 1 other errors. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "base/decompress.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "pgp/pgp.h"
#include "base/util.h"


struct opts {
	struct strv keyrings;
	bool no_default;
};

#define OPTS struct opts
const struct acso_option verify_signature_options[] = {
	OPT_LIST('k', "keyring", keyrings, "FILE|DIR", 0, "also trust the keys in FILE or in DIR/*.asc, *.gpg (repeatable)"),
	OPT_BOOL(0, "no-default-keys", no_default, "trust only the --keyring keys, not acso's keys/ directory"),
	OPT_END,
};

/* The report, built once, rendered as text or JSON. */
struct report {
	const char *file, *sig;         /* sig NULL for cleartext */
	const char *kind;               /* "cleartext", "detached", or "unknown" before it is known */
	const char *hint;               /* overrides the hint for the code */
	const char *decompressed;       /* filter name, or NULL */
	int rc;                         /* core result */
	struct pgp_signer who;
	bool have_info;                 /* who holds at least the issuer */
	const char *issuer_by;          /* "fingerprint" (subpacket 33) or "keyid" (subpacket 16 only) */
	struct acso_err err;
};

static const char *status_word(int rc)
{
	switch (rc) {
	case 0: return "good";
	case -ACSO_E_BADSIG: return "bad";
	case -ACSO_E_NOKEY: return "nokey";
	case -ACSO_E_PARSE: case -ACSO_E_UNSUPPORTED: case -ACSO_E_TOOBIG: return "malformed";
	default: return "error";
	}
}

static int exit_for(int rc)
{
	switch (rc) {
	case 0: return EXIT_OK;
	case -ACSO_E_BADSIG: return EXIT_BADSIG;
	case -ACSO_E_NOKEY: return EXIT_NOKEY;
	case -ACSO_E_PARSE: case -ACSO_E_UNSUPPORTED: case -ACSO_E_TOOBIG: return EXIT_MALFORMED;
	default: return EXIT_FAIL;
	}
}

static void fmt_time(long long t, char *buf, size_t len)
{
	if (t <= 0 || !iso_utc((time_t)t, buf, len))
		snprintf(buf, len, "unknown");
}

static void render_json(const struct report *r)
{
	struct json_object *o = json_object_new_object();
	char when[64];
	json_object_object_add(o, "file", json_object_new_string(r->file));
	json_object_object_add(o, "signature", r->sig ? json_object_new_string(r->sig) : NULL);
	json_object_object_add(o, "kind", json_object_new_string(r->kind));
	json_object_object_add(o, "decompressed", r->decompressed ? json_object_new_string(r->decompressed) : NULL);
	json_object_object_add(o, "status", json_object_new_string(status_word(r->rc)));
	if (r->have_info) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "name", r->who.name[0] ? json_object_new_string(r->who.name) : NULL);
		json_object_object_add(s, "fingerprint",
				       r->who.fingerprint[0] ? json_object_new_string(r->who.fingerprint) : NULL);
		json_object_object_add(s, "keyid", r->who.keyid[0] ? json_object_new_string(r->who.keyid) : NULL);
		json_object_object_add(o, "signer", s);
		json_object_object_add(o, "issuer", r->issuer_by ? json_object_new_string(r->issuer_by) : NULL);
		json_object_object_add(o, "hash", json_object_new_string(pgp_hash_name(r->who.hash_algo)));
		json_object_object_add(o, "pubkey", json_object_new_string(pgp_pubkey_name(r->who.pubkey_algo)));
		fmt_time(r->who.created, when, sizeof(when));
		json_object_object_add(o, "created", json_object_new_string(when));
		json_object_object_add(o, "created_unix", json_object_new_int64(r->who.created));
	}
	json_object_object_add(o, "error", r->rc ? json_object_new_string(r->err.msg[0] ? r->err.msg
						: acso_strerror(r->rc)) : NULL);
	out_json(o);
	json_object_put(o);
}

static void render_text(const struct report *r)
{
	char when[64];
	fmt_time(r->who.created, when, sizeof(when));
	printf("%sGood signature%s from '%s'\n", sty(ST_PASS), sty(ST_RESET), r->who.name);
	printf("  fingerprint  %s\n", r->who.fingerprint);
	if (strcmp(r->who.keyid, r->who.fingerprint + 24))
		printf("  subkey       %s\n", r->who.keyid);
	printf("  algorithm    %s, %s\n", pgp_pubkey_name(r->who.pubkey_algo), pgp_hash_name(r->who.hash_algo));
	printf("  created      %s\n", when);
	printf("  signed       %s%s%s\n", r->kind, r->decompressed ? ", over the data decompressed from " : "",
	       r->decompressed ? r->decompressed : "");
}

static void report_failure(const struct report *r)
{
	const char *detail = r->err.msg[0] ? r->err.msg : acso_strerror(r->rc);
	msg_error("verify '%s': %s", r->file, detail);
	if (r->hint) {
		msg_hint("%s", r->hint);
		return;
	}
	switch (r->rc) {
	case -ACSO_E_NOKEY:
		msg_hint("the signer's key %s is not in acso's keys/ directory; if you trust it, pass it with --keyring FILE",
			 r->who.fingerprint[0] ? r->who.fingerprint : r->who.keyid);
		break;
	case -ACSO_E_BADSIG:
		msg_hint("the file was changed after it was signed, or the signature belongs to another file; do not use it");
		break;
	case -ACSO_E_PARSE:
	case -ACSO_E_UNSUPPORTED:
		msg_hint("give an OpenPGP signature (armored or binary) or a cleartext-signed file");
		break;
	}
}

/* How the signature block of a cleartext-signed file names its issuer (the
 * verifier has already parsed it; this only reads it again for the report). */
static const char *cleartext_issuer(const char *text, size_t len)
{
	static const char begin[] = "\n-----BEGIN PGP SIGNATURE-----";
	const char *b = memmem(text, len, begin, strlen(begin));
	struct pgp_sig *sig;
	struct pgp_signer w;
	if (!b || pgp_sig_parse(b + 1, len - (size_t)(b + 1 - text), &sig, NULL) < 0)
		return NULL;
	pgp_sig_info(sig, &w);
	pgp_sig_free(sig);
	return w.fingerprint[0] ? "fingerprint" : w.keyid[0] ? "keyid" : NULL;
}

/* The detached signature's path when none was given: FILE.sign, FILE.asc,
 * FILE.sig, and for a compressed FILE the same names without the compression
 * suffix (linux-6.1.tar.xz -> linux-6.1.tar.sign). */
static char *find_sig(const char *file)
{
	static const char *const ext[] = {".sign", ".asc", ".sig"};
	_cleanup_free_ char *stem = xstrdup(file);
	if (decomp_suffix(stem))
		*strrchr(stem, '.') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		char *p = xasprintf("%s%s", file, ext[i]);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		if (strcmp(stem, file)) {
			p = xasprintf("%s%s", stem, ext[i]);
			if (access(p, F_OK) == 0)
				return p;
			free(p);
		}
	}
	return NULL;
}

/* Does sig cover the uncompressed data of file? True when file is
 * compressed and the signature's name, without .sign/.asc/.sig, does not end
 * with the compression suffix (linux-6.1.tar.sign for linux-6.1.tar.xz). */
static bool over_decompressed(const char *file, const char *sig)
{
	if (!decomp_suffix(file))
		return false;
	const char *suf = strrchr(file, '.');
	_cleanup_free_ char *base = xstrdup(sig);
	char *dot = strrchr(base, '.');
	if (dot && (!strcmp(dot, ".sign") || !strcmp(dot, ".asc") || !strcmp(dot, ".sig")))
		*dot = '\0';
	return !endswith(base, suf);
}

static int verify_detached_file(struct report *r, const struct pgp_keyring *kr)
{
	_cleanup_free_ char *sigdata = NULL;
	size_t siglen;
	struct acso_err *e = &r->err;
	int rc = read_file_at(AT_FDCWD, r->sig, PGP_MAX_SIGFILE, &sigdata, &siglen);
	if (rc == -EFBIG)
		return err_set(e, -ACSO_E_TOOBIG, "signature '%s' is larger than %u bytes", r->sig, PGP_MAX_SIGFILE);
	if (rc < 0)
		return err_set(e, rc, "read '%s': %s", r->sig, acso_strerror(rc));
	struct pgp_sig *sig;
	rc = pgp_sig_parse(sigdata, siglen, &sig, e);
	if (rc < 0)
		return err_wrap(e, rc, "signature '%s'", r->sig);
	pgp_sig_info(sig, &r->who);
	r->have_info = true;
	r->issuer_by = r->who.fingerprint[0] ? "fingerprint" : r->who.keyid[0] ? "keyid" : NULL;

	_cleanup_close_ int fd = open(r->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(e, -errno, "open '%s': %s", r->file, strerror(errno));
		pgp_sig_free(sig);
		return rc;
	}
	struct pgp_verify *v;
	rc = pgp_verify_begin(sig, &v, e);
	if (rc < 0) {
		pgp_sig_free(sig);
		return rc;
	}
	struct decomp *d = NULL;
	if (over_decompressed(r->file, r->sig)) {
		rc = decomp_open_fd(fd, &d, e);
		if (rc == 0)
			r->decompressed = decomp_filter(d);
	}
	static char buf[1 << 17];
	while (rc == 0) {
		ssize_t n = d ? decomp_read(d, buf, sizeof(buf), e) : read(fd, buf, sizeof(buf));
		if (n < 0 && !d && errno == EINTR)
			continue;
		if (n < 0) {
			rc = d ? (int)n : err_set(e, -errno, "read '%s': %s", r->file, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		pgp_verify_update(v, buf, (size_t)n);
	}
	decomp_close(d);
	if (rc == 0) {
		rc = pgp_verify_end(v, kr, &r->who, e);
	} else {
		pgp_verify_end(v, NULL, NULL, NULL); /* frees v; result ignored */
	}
	pgp_sig_free(sig);
	return rc;
}

static int load_keys(struct acso_ctx *ctx, struct opts *o, struct pgp_keyring *kr)
{
	struct acso_err e = {0};
	if (!o->no_default) {
		_cleanup_free_ char *dir = path_join(ctx->data_dir, "keys");
		int r = pgp_keyring_add_path(kr, dir, &e);
		if (r < 0) {
			fail(&e, r, "load the keyring");
			msg_hint("set ACSO_DATADIR to the directory holding keys/, or give --keyring");
			return EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < o->keyrings.n; i++) {
		int r = pgp_keyring_add_path(kr, o->keyrings.v[i], &e);
		if (r < 0) {
			fail(&e, r, "load --keyring '%s'", o->keyrings.v[i]);
			return EXIT_FAIL;
		}
	}
	if (pgp_keyring_count(kr) == 0) {
		msg_error("no keys to verify with");
		msg_hint("drop --no-default-keys or give --keyring FILE");
		return EXIT_FAIL;
	}
	return 0;
}

int cmd_verify_signature(struct acso_ctx *ctx, int argc, char **argv)
{
	struct opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r) {
		strv_free(&o.keyrings);
		return r;
	}
	struct pgp_keyring *kr;
	pgp_keyring_new(&kr);
	r = load_keys(ctx, &o, kr);
	strv_free(&o.keyrings);
	if (r) {
		pgp_keyring_free(kr);
		return r;
	}

	struct report rep = {.file = argv[first], .sig = argc - first > 1 ? argv[first + 1] : NULL,
			     .kind = "unknown"};
	_cleanup_free_ char *found = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (!rep.sig) {
		/* Cleartext-signed, or a detached signature next to it. */
		r = read_file_at(AT_FDCWD, rep.file, PGP_MAX_CLEARTEXT, &text, &len);
		if (r < 0 && r != -EFBIG) {
			rep.rc = err_set(&rep.err, r, "%s", acso_strerror(r));
		} else if (r == 0 && pgp_is_cleartext(text, len)) {
			rep.kind = "cleartext";
			rep.rc = pgp_verify_cleartext(text, len, kr, NULL, NULL, &rep.who, &rep.err);
			rep.have_info = rep.who.hash_algo != 0;
			if (rep.have_info)
				rep.issuer_by = cleartext_issuer(text, len);
		} else {
			rep.sig = found = find_sig(rep.file);
			if (!rep.sig) {
				rep.rc = err_set(&rep.err, -ACSO_E_PARSE, "not a cleartext-signed file, and no "
						 "%s.sign, .asc or .sig next to it", rep.file);
				rep.hint = "name the signature: acso verify-signature FILE SIG";
			}
		}
	}
	if (rep.sig) {
		rep.kind = "detached";
		rep.rc = verify_detached_file(&rep, kr);
	}
	pgp_keyring_free(kr);

	if (ctx->json)
		render_json(&rep);
	else if (rep.rc == 0)
		render_text(&rep);
	if (rep.rc)
		report_failure(&rep);
	return out_finish(exit_for(rep.rc));
}
