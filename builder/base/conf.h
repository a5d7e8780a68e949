/* conf.h — `key = value` configuration files (/etc/acso.conf, then
 * ~/.config/acso/acso.conf). Later files win; the command line wins over all. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct acso_err;

struct conf_entry {
	char *key, *value, *origin; /* origin: "FILE:LINE" */
};

struct conf {
	struct conf_entry *v;
	size_t n;
};

/* Parse text (from origin) into c; later keys replace earlier ones.
 * Lines: blank, "# comment", "key = value" (value may be "quoted").
 * Returns 0 or -ACSO_E_PARSE with "FILE:LINE: ..." in e. */
int conf_parse(struct conf *c, const char *text, const char *origin, struct acso_err *e);
/* Load a file if it exists (a missing file is not an error). */
int conf_load(struct conf *c, const char *path, struct acso_err *e);
const char *conf_get(const struct conf *c, const char *key);
/* A yes/no key: yes/no, true/false, on/off, 1/0, in any case. 0 with *out
 * set (to def when the key is unset); -ACSO_E_PARSE for any other value, the
 * key, the value and where it was set ("FILE:LINE") in e. The one parser of
 * yes/no values: every boolean key goes through it. */
int conf_bool(const struct conf *c, const char *key, bool def, bool *out, struct acso_err *e);
/* Set or replace a key (used for command-line overrides). */
void conf_set(struct conf *c, const char *key, const char *value, const char *origin);
void conf_free(struct conf *c);
/* Keys acso knows; an unknown key is reported (with its origin) by the caller. */
int conf_key_known(const char *key);
