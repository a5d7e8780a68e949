/* mok.h — the Machine Owner Key that signs acso's kernels for Secure Boot.
 *
 * acso uses the MOK the machine already trusts for its DKMS modules, so one
 * enrolled key serves both (FIELD-NOTES §9): Ubuntu's
 * /var/lib/shim-signed/mok/MOK.priv + MOK.der, Debian's DKMS
 * /var/lib/dkms/mok.key + mok.pub. When there is none it makes one where
 * DKMS would look. The private key never leaves its file: acso checks its
 * owner and mode and hands its path to sbsign; it is never copied.
 * Only mok.c uses OpenSSL's X.509 API. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct acso_err;

struct mok {
	char *key;          /* absolute path below the root ("/var/lib/dkms/mok.key") */
	char *cert;         /* DER or PEM X.509 certificate */
	const char *origin; /* "ubuntu", "dkms", "acso" */
	char subject[256];  /* the certificate's subject, for messages */
	char sha1[41];      /* its SHA-1 fingerprint (what mokutil --list-enrolled shows) */
	bool cert_pem;      /* the certificate file is PEM (else DER) */
};

/* The first known pair whose two files exist below rootfd; -ENOENT when
 * there is none (out is cleared). */
int mok_find(int rootfd, struct mok *out, struct acso_err *e);

/* Refuse a key pair acso must not use, with the reason in e:
 * - the key is not a regular file, not owned by root, or readable or
 *   writable by group or others (ACSO_E_UNSAFE);
 * - the certificate is not X.509, has an extended key usage without code
 *   signing (ACSO_E_UNSUPPORTED), or does not match the key (ACSO_E_PARSE).
 * Fills subject and sha1. owner_uid: who must own the key (0 on a real
 * system; the tests pass their own uid). */
int mok_check(int rootfd, struct mok *m, uid_t owner_uid, struct acso_err *e);

/* Where a new MOK goes on this system: Ubuntu's shim-signed directory when
 * /var/lib/shim-signed exists, else Debian DKMS's. Fills key/cert/origin. */
void mok_default_paths(int rootfd, struct mok *out);

/* Make a new MOK at m->key / m->cert (RSA 2048, self-signed for 100 years,
 * extended key usage code signing, CN "acso Secure Boot signing key
 * (HOSTNAME)"): the key 0600, the certificate DER 0644, both written
 * atomically; refuses to replace an existing file (-EEXIST). */
int mok_create(int rootfd, struct mok *m, const char *hostname, struct acso_err *e);

/* The certificate as PEM text (sbsign and sbverify read only PEM; Ubuntu's
 * MOK.der is DER), malloc'ed into *pem; -ACSO_E_PARSE when it is no X.509. */
int mok_cert_pem(int rootfd, const struct mok *m, char **pem, size_t *len, struct acso_err *e);

/* Is the MOK trusted by the firmware (shim's MokList or the db)? */
enum mok_enrol {
	MOK_ENROL_UNKNOWN,   /* not asked (another root, no mokutil, a PEM certificate) */
	MOK_ENROLLED,        /* "is already enrolled" / "is already in db" */
	MOK_PENDING,         /* "is already in the enrollment request": MokManager at the next boot */
	MOK_NOT_ENROLLED,    /* "is not enrolled" */
	MOK_BLOCKED,         /* "is blocked in dbx" / "in MokListX" */
};
/* "enrolled", "pending", "not enrolled", "blocked", "unknown". */
const char *mok_enrol_word(enum mok_enrol st);
/* `mokutil --test-key FILE`'s words (mokutil 0.6). */
enum mok_enrol mok_parse_test_key(const char *text);
/* Ask mokutil --test-key on the running system (only for the root "/":
 * mokutil reads this machine's EFI variables). mokutil takes DER only. */
enum mok_enrol mok_enrol_state(const struct mok *m);
/* `mokutil --import CERT` on the running system with our terminal: mokutil
 * asks for a one-time password twice, which MokManager asks for again at
 * the next boot. 0, -ACSO_E_NOTFOUND (no mokutil) or -ACSO_E_CHILD. */
int mok_import(const struct mok *m, struct acso_err *e);

void mok_free(struct mok *m);
