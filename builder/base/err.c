/* err.c — error codes to text, and the detail recorder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

static const char *const phrases[] = {
	[ACSO_E_PARSE - ACSO_E_BASE]       = "malformed input",
	[ACSO_E_BADSIG - ACSO_E_BASE]      = "BAD signature",
	[ACSO_E_NOKEY - ACSO_E_BASE]       = "no public key for the signature",
	[ACSO_E_HASH - ACSO_E_BASE]        = "checksum mismatch",
	[ACSO_E_HTTP - ACSO_E_BASE]        = "download failed",
	[ACSO_E_UNSAFE - ACSO_E_BASE]      = "refused as unsafe",
	[ACSO_E_NOTFOUND - ACSO_E_BASE]    = "not found",
	[ACSO_E_TOOBIG - ACSO_E_BASE]      = "size limit exceeded",
	[ACSO_E_UNSUPPORTED - ACSO_E_BASE] = "not supported",
	[ACSO_E_CHILD - ACSO_E_BASE]       = "child process failed",
	[ACSO_E_LOCKED - ACSO_E_BASE]      = "work directory is locked by another acso",
	[ACSO_E_STATE - ACSO_E_BASE]       = "not possible in the current state",
};

const char *acso_strerror(int code)
{
	int c = code < 0 ? -code : code;
	if (c > ACSO_E_BASE && c < ACSO_E_MAX)
		return phrases[c - ACSO_E_BASE];
	return strerror(c);
}

int err_set(struct acso_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int err_wrap(struct acso_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	char prefix[512], old[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", e->msg[0] ? e->msg : acso_strerror(code));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
	e->code = code;
	return code;
}

void err_clear(struct acso_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}
