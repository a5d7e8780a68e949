/* err.h — error codes and error details shared by the core and the commands.
 *
 * Core functions return 0 (or a count) on success and a negative code on
 * failure: either -errno or one of the -ACSO_E_* codes below. When a caller
 * passes a struct acso_err, the failing function also records a short
 * detail ("HTTP 404", "hunk 2 of 'x.patch' does not apply at line 40").
 * Only the command layer prints; it prints once, at the boundary.
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>

enum {
	ACSO_E_BASE = 1000,
	ACSO_E_PARSE,      /* malformed input (file, string, packet, archive) */
	ACSO_E_BADSIG,     /* an OpenPGP signature that does not verify */
	ACSO_E_NOKEY,      /* signed by a key not in the keyring */
	ACSO_E_HASH,       /* a checksum that does not match */
	ACSO_E_HTTP,       /* HTTP status or transfer failure */
	ACSO_E_UNSAFE,     /* refused for safety (path escape, http downgrade, ...) */
	ACSO_E_NOTFOUND,   /* a thing looked for is not there */
	ACSO_E_TOOBIG,     /* a size limit was hit */
	ACSO_E_UNSUPPORTED,/* a format or system we do not handle */
	ACSO_E_CHILD,      /* a child process failed */
	ACSO_E_LOCKED,     /* another acso holds the work dir lock */
	ACSO_E_STATE,      /* the system is in a state that forbids the step */
	ACSO_E_MAX
};

struct acso_err {
	int code;          /* negative code, 0 when unset */
	char msg[1024];    /* detail, "" when unset */
};

/* Record code and a printf-style detail; returns code (negative) so that
 * `return err_set(e, -EINVAL, "...")` reads naturally. e may be NULL. */
int err_set(struct acso_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the detail already recorded with more context: "ctx: old". */
int err_wrap(struct acso_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void err_clear(struct acso_err *e);

/* Text for a code: strerror for -errno, a fixed phrase for -ACSO_E_*. */
const char *acso_strerror(int code);
