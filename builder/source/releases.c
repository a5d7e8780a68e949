/* releases.c — releases.json (json-c) and sha256sum lists (see releases.h). */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "base/err.h"
#include "source/releases.h"
#include "base/util.h"

static int bad(struct acso_err *e, const char *what, size_t i)
{
	if (i == (size_t)-1)
		return err_set(e, -ACSO_E_PARSE, "releases.json: %s", what);
	return err_set(e, -ACSO_E_PARSE, "releases.json: releases[%zu]%s", i, what);
}

/* A string-or-null member; returns -1 on a wrong type. */
static int opt_string(struct json_object *o, const char *key, char **out)
{
	struct json_object *m;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &m) || !m)
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return -1;
	const char *s = json_object_get_string(m);
	if (strlen(s) > 4096)
		return -1;
	*out = xstrdup(s);
	return 0;
}

static int parse_entry(struct json_object *o, size_t i, struct release *rel, bool *skip,
		       struct acso_err *e)
{
	struct json_object *m;
	*skip = false;
	if (!json_object_is_type(o, json_type_object))
		return bad(e, " is not an object", i);
	if (!json_object_object_get_ex(o, "version", &m) || !json_object_is_type(m, json_type_string))
		return bad(e, ".version is missing or not a string", i);
	if (kver_parse(json_object_get_string(m), &rel->ver, NULL) < 0) {
		*skip = true;
		return 0;
	}
	if (!json_object_object_get_ex(o, "moniker", &m) || !json_object_is_type(m, json_type_string))
		return bad(e, ".moniker is missing or not a string", i);
	const char *mon = json_object_get_string(m);
	if (strlen(mon) >= sizeof(rel->moniker))
		return bad(e, ".moniker is too long", i);
	strcpy(rel->moniker, mon);
	rel->iseol = false;
	if (json_object_object_get_ex(o, "iseol", &m) && m) {
		if (!json_object_is_type(m, json_type_boolean))
			return bad(e, ".iseol is not a boolean", i);
		rel->iseol = json_object_get_boolean(m);
	}
	if (opt_string(o, "source", &rel->source) < 0)
		return bad(e, ".source is not a string or null", i);
	if (opt_string(o, "pgp", &rel->pgp) < 0)
		return bad(e, ".pgp is not a string or null", i);
	if (json_object_object_get_ex(o, "released", &m) && m && json_object_is_type(m, json_type_object)) {
		struct json_object *ts;
		if (json_object_object_get_ex(m, "timestamp", &ts) && json_object_is_type(ts, json_type_int))
			rel->released = json_object_get_int64(ts);
	}
	return 0;
}

int releases_parse(const char *json, size_t len, struct releases *r, struct acso_err *e)
{
	memset(r, 0, sizeof(*r));
	if (len > RELEASES_MAX_SIZE)
		return err_set(e, -ACSO_E_TOOBIG, "releases.json: larger than %u bytes", RELEASES_MAX_SIZE);
	struct json_tokener *tok = json_tokener_new_ex(32);
	if (!tok)
		return err_set(e, -ENOMEM, "releases.json: out of memory");
	struct json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		return err_set(e, -ACSO_E_PARSE, "releases.json: %s",
			       jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
	}
	/* Nothing but white space may follow the document. */
	for (size_t i = used; i < len; i++)
		if (!strchr(" \t\r\n", json[i])) {
			json_object_put(root);
			return bad(e, "trailing data after the document", (size_t)-1);
		}
	int ret = 0;
	struct json_object *m, *arr;
	if (!json_object_is_type(root, json_type_object)) {
		ret = bad(e, "not a JSON object", (size_t)-1);
		goto out_put;
	}
	if (json_object_object_get_ex(root, "latest_stable", &m) && m) {
		struct json_object *v;
		if (!json_object_is_type(m, json_type_object) || !json_object_object_get_ex(m, "version", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			ret = bad(e, "latest_stable.version is missing or not a string", (size_t)-1);
			goto out_put;
		}
		r->has_latest_stable = kver_parse(json_object_get_string(v), &r->latest_stable, NULL) == 0;
	}
	if (!json_object_object_get_ex(root, "releases", &arr) || !json_object_is_type(arr, json_type_array)) {
		ret = bad(e, "no \"releases\" array", (size_t)-1);
		goto out_put;
	}
	size_t n = json_object_array_length(arr);
	if (n > 1000) {
		ret = err_set(e, -ACSO_E_TOOBIG, "releases.json: %zu releases", n);
		goto out_put;
	}
	r->v = xcalloc(n ? n : 1, sizeof(*r->v));
	for (size_t i = 0; i < n; i++) {
		bool skip;
		struct release *rel = &r->v[r->n];
		ret = parse_entry(json_object_array_get_idx(arr, i), i, rel, &skip, e);
		if (ret < 0) {
			free(rel->source);
			free(rel->pgp);
			releases_free(r);
			goto out_put;
		}
		if (skip)
			r->skipped++;
		else
			r->n++;
	}
out_put:
	json_object_put(root);
	return ret;
}

void releases_free(struct releases *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].source);
		free(r->v[i].pgp);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const struct release *releases_find_series(const struct releases *r, const struct kver *series)
{
	const struct release *best = NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].ver.kind == KVER_RELEASE && kver_same_series(&r->v[i].ver, series) &&
		    (!best || kver_cmp(&r->v[i].ver, &best->ver) > 0))
			best = &r->v[i];
	return best;
}

const struct release *releases_find(const struct releases *r, const struct kver *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (kver_cmp(&r->v[i].ver, v) == 0)
			return &r->v[i];
	return NULL;
}

const struct release *releases_nearest_longterm(const struct releases *r, const struct kver *series)
{
	const struct release *up = NULL;
	struct kver s = *series;
	s.sub = 0;
	s.kind = KVER_RELEASE;
	for (size_t i = 0; i < r->n; i++) {
		const struct release *x = &r->v[i];
		if (strcmp(x->moniker, "longterm") || x->ver.kind != KVER_RELEASE)
			continue;
		struct kver xs = x->ver;
		xs.sub = 0;
		if (kver_cmp(&xs, &s) >= 0 && (!up || kver_cmp(&x->ver, &up->ver) < 0))
			up = x;
	}
	return up ? up : releases_latest_longterm(r);
}

const struct release *releases_latest_longterm(const struct releases *r)
{
	const struct release *best = NULL;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].moniker, "longterm") && r->v[i].ver.kind == KVER_RELEASE &&
		    (!best || kver_cmp(&r->v[i].ver, &best->ver) > 0))
			best = &r->v[i];
	return best;
}

/* Split "HEX  NAME" (sha256sum text mode "  " or binary mode " *"). */
static int sums_line(const char *line, size_t n, const char **name, size_t *name_len)
{
	if (n < 64 + 2 + 1)
		return -1;
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdefABCDEF", line[i]))
			return -1;
	if (line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
		return -1;
	*name = line + 66;
	*name_len = n - 66;
	while (*name_len && ((*name)[*name_len - 1] == '\r' || (*name)[*name_len - 1] == ' '))
		(*name_len)--;
	return 0;
}

int sums_find(const char *body, const char *name, char hex[65])
{
	size_t want = strlen(name);
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "\n");
		const char *nm;
		size_t nl;
		if (sums_line(p, n, &nm, &nl) == 0) {
			if (nl == want && !memcmp(nm, name, want)) {
				for (int i = 0; i < 64; i++)
					hex[i] = (char)(p[i] | 0x20); /* lower case */
				hex[64] = '\0';
				return 0;
			}
		} else if (memmem(p, n, name, want)) {
			/* The name on a malformed line: say so rather than "not listed". */
			return -ACSO_E_PARSE;
		}
		p += n + (p[n] == '\n');
	}
	return -ACSO_E_NOTFOUND;
}

int sums_latest_in_series(const char *body, const struct kver *series, struct kver *latest)
{
	int found = 0;
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "\n");
		const char *nm;
		size_t nl;
		char name[64];
		struct kver v;
		if (sums_line(p, n, &nm, &nl) == 0 && nl < sizeof(name)) {
			memcpy(name, nm, nl);
			name[nl] = '\0';
			if (kver_from_tarball(name, &v) == 0 && kver_same_series(&v, series)) {
				if (!found || kver_cmp(&v, latest) > 0)
					*latest = v;
				found++;
			}
		}
		p += n + (p[n] == '\n');
	}
	return found;
}
