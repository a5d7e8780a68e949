/* cmd-verify-signature.c — `acso verify-signature [--keyring K] FILE [SIG]`:
 * check a cleartext-signed file, or a file and its detached signature,
 * against acso's keys/ plus --keyring, natively (no GnuPG).
 * A compressed FILE with a signature over the uncompressed data (kernel.org's
 * linux-X.tar.xz + linux-X.tar.sign) is verified over the decompressed stream.
 * --role: the signer must be allowed to sign checksums or releases (pgp.h).
 * Exit codes: 0 good, 5 BAD or refused (expired, revoked, SHA-1, wrong role),
 * 6 no public key, 7 malformed, 1 other errors. */
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "pgp/pgp.h"
#include "pgp/sigfile.h"
#include "base/fileio.h"
#include "base/util.h"


struct opts {
	struct strv keyrings;
	bool no_default;
	int role;
};

/* In the order of role_of below. */
static const char *const role_words[] = {"auto", "any", "checksums", "release", NULL};
static const unsigned role_of[] = {0, PGP_ROLE_ANY, PGP_ROLE_SUMS, PGP_ROLE_RELEASE};

#define OPTS struct opts
const struct acso_option verify_signature_options[] = {
	OPT_LIST('k', "keyring", keyrings, "FILE|DIR", 0, "also trust the keys in FILE or in DIR/*.asc, *.gpg (repeatable)"),
	OPT_BOOL(0, "no-default-keys", no_default, "trust only the --keyring keys, not acso's keys/ directory"),
	OPT_ENUM(0, "role", role, "ROLE", role_words, "the signer must sign checksums, release or any (auto: by name)"),
	OPT_END,
};

/* The report: the file, the core's check and result. */
struct report {
	const char *file;
	struct pgp_file_check c;
	int rc;
	struct acso_err err;
};

static const char *status_word(int rc)
{
	switch (rc) {
	case 0: return "good";
	case -ACSO_E_BADSIG: return "bad";
	case -ACSO_E_NOKEY: return "nokey";
	case -ACSO_E_UNSAFE: return "refused";
	case -ACSO_E_PARSE: case -ACSO_E_UNSUPPORTED: case -ACSO_E_TOOBIG: return "malformed";
	default: return "error";
	}
}

static int exit_for(int rc)
{
	switch (rc) {
	case 0: return EXIT_OK;
	case -ACSO_E_BADSIG: case -ACSO_E_UNSAFE: return EXIT_BADSIG;
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

static void render(const struct report *r)
{
	const struct pgp_file_check *c = &r->c;
	char when[64];
	fmt_time(c->who.created, when, sizeof(when));
	rp_string(RP_JSON, "file", NULL, r->file);
	rp_string(RP_JSON, "signature", NULL, c->sig);
	rp_string(RP_JSON, "kind", NULL, c->kind);
	rp_string(RP_JSON, "decompressed", NULL, c->decompressed);
	rp_string(RP_JSON, "status", NULL, status_word(r->rc));
	rp_string(RP_JSON, "role", NULL, c->role ? pgp_role_name(c->role) : NULL);
	if (c->have_info) {
		rp_open_object("signer");
		rp_string(RP_JSON, "name", NULL, c->who.name[0] ? c->who.name : NULL);
		rp_string(RP_JSON, "fingerprint", NULL, c->who.fingerprint[0] ? c->who.fingerprint : NULL);
		rp_string(RP_JSON, "keyid", NULL, c->who.keyid[0] ? c->who.keyid : NULL);
		rp_close_object();
		rp_string(RP_JSON, "issuer", NULL, c->issuer_by);
		rp_string(RP_JSON, "hash", NULL, pgp_hash_name(c->who.hash_algo));
		rp_string(RP_JSON, "pubkey", NULL, pgp_pubkey_name(c->who.pubkey_algo));
		rp_string(RP_JSON, "created", NULL, when);
		rp_int(RP_JSON, "created_unix", NULL, c->who.created);
	}
	rp_string(RP_JSON, "error", NULL, !r->rc ? NULL : r->err.msg[0] ? r->err.msg : acso_strerror(r->rc));
	if (r->rc)
		return;
	rp_text("%sGood signature%s from '%s'\n", sty(ST_PASS), sty(ST_RESET), c->who.name);
	rp_text("  fingerprint  %s\n", c->who.fingerprint);
	if (strcmp(c->who.keyid, c->who.fingerprint + 24))
		rp_text("  subkey       %s\n", c->who.keyid);
	rp_text("  algorithm    %s, %s\n", pgp_pubkey_name(c->who.pubkey_algo), pgp_hash_name(c->who.hash_algo));
	rp_text("  created      %s\n", when);
	rp_text("  signed       %s%s%s\n", c->kind, c->decompressed ? ", over the data decompressed from " : "",
		c->decompressed ? c->decompressed : "");
}

static void report_failure(const struct report *r)
{
	const char *detail = r->err.msg[0] ? r->err.msg : acso_strerror(r->rc);
	msg_error("verify '%s': %s", r->file, detail);
	if (r->c.no_signature) {
		msg_hint("name the signature: acso verify-signature FILE SIG");
		return;
	}
	switch (r->rc) {
	case -ACSO_E_NOKEY:
		msg_hint("the signer's key %s is not in acso's keys/ directory; if you trust it, pass it with --keyring FILE",
			 r->c.who.fingerprint[0] ? r->c.who.fingerprint : r->c.who.keyid);
		break;
	case -ACSO_E_UNSAFE:
		msg_hint("the signature holds, but its key or hash may not be believed; do not use the file");
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

	struct report rep = {.file = argv[first]};
	rep.rc = pgp_check_file(rep.file, argc - first > 1 ? argv[first + 1] : NULL, kr, role_of[o.role], &rep.c,
				&rep.err);
	pgp_keyring_free(kr);
	report_begin(ctx);
	render(&rep);
	if (rep.rc)
		report_failure(&rep);
	pgp_file_check_free(&rep.c);
	return report_end(exit_for(rep.rc));
}
