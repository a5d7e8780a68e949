/* pgp-stub.c — placeholder implementations of pgp.h until the reader lands. */
#include <errno.h>
#include <stdlib.h>

#include "pgp.h"

int pgp_keyring_new(struct pgp_keyring **kr) { *kr = NULL; return -ENOSYS; }
int pgp_keyring_add_path(struct pgp_keyring *kr, const char *p, struct acso_err *e) { return err_set(e, -ENOSYS, "not implemented"); }
int pgp_keyring_add_data(struct pgp_keyring *kr, const void *d, size_t l, struct acso_err *e) { return err_set(e, -ENOSYS, "not implemented"); }
size_t pgp_keyring_count(const struct pgp_keyring *kr) { return 0; }
void pgp_keyring_free(struct pgp_keyring *kr) { }
int pgp_keyring_find(const struct pgp_keyring *kr, const char *id, struct pgp_signer *who) { return -ENOSYS; }
int pgp_sig_parse(const void *d, size_t l, struct pgp_sig **sig, struct acso_err *e) { *sig = NULL; return err_set(e, -ENOSYS, "not implemented"); }
int pgp_sig_info(const struct pgp_sig *sig, struct pgp_signer *info) { return -ENOSYS; }
int pgp_sig_type(const struct pgp_sig *sig) { return -ENOSYS; }
void pgp_sig_free(struct pgp_sig *sig) { }
int pgp_verify_begin(const struct pgp_sig *sig, struct pgp_verify **v, struct acso_err *e) { *v = NULL; return err_set(e, -ENOSYS, "not implemented"); }
void pgp_verify_update(struct pgp_verify *v, const void *d, size_t l) { }
int pgp_verify_end(struct pgp_verify *v, const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e) { return err_set(e, -ENOSYS, "not implemented"); }
int pgp_verify_detached(const void *d, size_t l, const void *s, size_t sl, const struct pgp_keyring *kr, struct pgp_signer *who, struct acso_err *e) { return err_set(e, -ENOSYS, "not implemented"); }
int pgp_is_cleartext(const char *t, size_t l) { return 0; }
int pgp_verify_cleartext(const char *t, size_t l, const struct pgp_keyring *kr, char **b, size_t *bl, struct pgp_signer *who, struct acso_err *e) { return err_set(e, -ENOSYS, "not implemented"); }
const char *pgp_hash_name(int a) { return "unknown"; }
const char *pgp_pubkey_name(int a) { return "unknown"; }
