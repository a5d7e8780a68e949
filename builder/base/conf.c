/* conf.c — see conf.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "base/conf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/util.h"

/* Every key a config file may set. Keep in sync with README "Configuration". */
static const char *const known_keys[] = {
	"mirror", "work_dir", "color", "keyring", "jobs",
	"localversion", "profile", "acs", "prebuilt_index", "prebuilt_key", "prebuilt_repo",
	"allow_http", "ccache", "distcc", "download_deadline", "download_min_rate",
	"fetch_max_download", "fetch_max_tree", NULL,
};

int conf_key_known(const char *key)
{
	for (const char *const *k = known_keys; *k; k++)
		if (!strcmp(*k, key))
			return 1;
	return 0;
}

void conf_set(struct conf *c, const char *key, const char *value, const char *origin)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, key)) {
			free(c->v[i].value);
			free(c->v[i].origin);
			c->v[i].value = xstrdup(value);
			c->v[i].origin = xstrdup(origin);
			return;
		}
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = (struct conf_entry){xstrdup(key), xstrdup(value), xstrdup(origin)};
}

const char *conf_get(const struct conf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, key))
			return c->v[i].value;
	return NULL;
}

int conf_bool(const struct conf *c, const char *key, bool def, bool *out, struct acso_err *e)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	*out = def;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].key, key))
			continue;
		const char *v = c->v[i].value;
		for (size_t k = 0; k < ARRAY_SIZE(yes); k++)
			if (!strcasecmp(v, yes[k]) || !strcasecmp(v, no[k])) {
				*out = !strcasecmp(v, yes[k]);
				return 0;
			}
		return err_set(e, -ACSO_E_PARSE, "'%s' in %s: '%s' is not a yes/no value (yes, no, true, false, on, off, 1, 0)",
			       key, c->v[i].origin, v);
	}
	return 0;
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
		free(c->v[i].origin);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return strip_trailing(s);
}

int conf_parse(struct conf *c, const char *text, const char *origin, struct acso_err *e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	int lineno = 0;
	for (char *line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return err_set(e, -ACSO_E_PARSE, "%s:%d: expected 'key = value'", origin, lineno);
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (!*key)
			return err_set(e, -ACSO_E_PARSE, "%s:%d: empty key", origin, lineno);
		for (char *k = key; *k; k++)
			if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
				return err_set(e, -ACSO_E_PARSE, "%s:%d: bad key '%s'", origin, lineno, key);
		size_t n = strlen(val);
		if (n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0]) {
			val[n - 1] = '\0';
			val++;
		}
		_cleanup_free_ char *where = xasprintf("%s:%d", origin, lineno);
		conf_set(c, key, val, where);
	}
	return 0;
}

int conf_load(struct conf *c, const char *path, struct acso_err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(e, r, "cannot read '%s': %s", path, acso_strerror(r));
	return conf_parse(c, text, path, e);
}
