/* index.c — parse, write and query the prebuilt channel's index. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "base/err.h"
#include "package/index.h"
#include "base/util.h"

int index_safe_file(const char *f)
{
	if (!*f || strlen(f) > 255 || f[0] == '/' || strstr(f, "//"))
		return 0;
	for (const char *p = f; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._+~-/", *p)))
			return 0;
	/* No ".." or "." component. */
	for (const char *p = f; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2]))
			return 0;
		else if (p[0] == '.' && (p[1] == '/' || !p[1]))
			return 0;
	return endswith(f, ".deb");
}

static int plain_token(const char *s, size_t max)
{
	if (!*s || strlen(s) > max)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._+~-:", *p)))
			return 0;
	return 1;
}

void index_free(struct index *ix)
{
	for (size_t i = 0; i < ix->n; i++) {
		struct index_kernel *k = &ix->k[i];
		free(k->release);
		free(k->version);
		free(k->architecture);
		free(k->distro);
		free(k->acs_patch);
		for (size_t j = 0; j < k->n; j++) {
			free(k->pkgs[j].file);
			free(k->pkgs[j].package);
			free(k->pkgs[j].version);
		}
		free(k->pkgs);
	}
	free(ix->k);
	free(ix->generated);
	memset(ix, 0, sizeof(*ix));
}

/* Every key of o must be one of allowed[]. */
static int only_known(json_object *o, const char *const *allowed, const char *where, struct acso_err *e)
{
	json_object_object_foreach(o, key, val) {
		(void)val;
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, key))
				ok = true;
		if (!ok)
			return err_set(e, -ACSO_E_PARSE, "%s: unknown field '%s'", where, key);
	}
	return 0;
}

static int req_str(json_object *o, const char *k, size_t max, const char *where, char **out, struct acso_err *e)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return err_set(e, -ACSO_E_PARSE, "%s: missing field '%s'", where, k);
	if (!json_object_is_type(v, json_type_string) || !plain_token(json_object_get_string(v), max))
		return err_set(e, -ACSO_E_PARSE, "%s: field '%s' is not a plain string", where, k);
	*out = xstrdup(json_object_get_string(v));
	return 0;
}

static int parse_pkg(json_object *po, struct index_pkg *p, const char *where, struct acso_err *e)
{
	static const char *const keys[] = {"file", "package", "version", "size", "sha256", NULL};
	if (!json_object_is_type(po, json_type_object))
		return err_set(e, -ACSO_E_PARSE, "%s: not an object", where);
	int r = only_known(po, keys, where, e);
	if (r < 0)
		return r;
	json_object *v;
	if (!json_object_object_get_ex(po, "file", &v) || !json_object_is_type(v, json_type_string))
		return err_set(e, -ACSO_E_PARSE, "%s: missing field 'file'", where);
	if (!index_safe_file(json_object_get_string(v)))
		return err_set(e, -ACSO_E_PARSE, "%s: file '%.80s' is not a safe relative path to a .deb", where,
			       json_object_get_string(v));
	p->file = xstrdup(json_object_get_string(v));
	if ((r = req_str(po, "package", 128, where, &p->package, e)) < 0 ||
	    (r = req_str(po, "version", 128, where, &p->version, e)) < 0)
		return r;
	if (!json_object_object_get_ex(po, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0 || (uint64_t)json_object_get_int64(v) > INDEX_MAX_PACKAGE_SIZE)
		return err_set(e, -ACSO_E_PARSE, "%s: field 'size' is not a size from 1 byte to 2 GiB", where);
	p->size = (uint64_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(po, "sha256", &v) || !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != 64)
		return err_set(e, -ACSO_E_PARSE, "%s: field 'sha256' is not 64 hex digits", where);
	const char *h = json_object_get_string(v);
	for (int i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return err_set(e, -ACSO_E_PARSE, "%s: field 'sha256' is not 64 lower-case hex digits", where);
	memcpy(p->sha256, h, 65);
	return 0;
}

static int parse_kernel(json_object *ko, struct index_kernel *k, const char *where, struct acso_err *e)
{
	static const char *const keys[] = {"release", "version", "architecture", "distro", "acs_patch", "packages", NULL};
	if (!json_object_is_type(ko, json_type_object))
		return err_set(e, -ACSO_E_PARSE, "%s: not an object", where);
	int r = only_known(ko, keys, where, e);
	if (r < 0)
		return r;
	if ((r = req_str(ko, "release", 128, where, &k->release, e)) < 0 ||
	    (r = req_str(ko, "version", 64, where, &k->version, e)) < 0 ||
	    (r = req_str(ko, "architecture", 32, where, &k->architecture, e)) < 0 ||
	    (r = req_str(ko, "distro", 64, where, &k->distro, e)) < 0 ||
	    (r = req_str(ko, "acs_patch", 64, where, &k->acs_patch, e)) < 0)
		return r;
	json_object *a;
	if (!json_object_object_get_ex(ko, "packages", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) == 0)
		return err_set(e, -ACSO_E_PARSE, "%s: no packages", where);
	if (json_object_array_length(a) > INDEX_MAX_PACKAGES)
		return err_set(e, -ACSO_E_TOOBIG, "%s: more than %d packages", where, INDEX_MAX_PACKAGES);
	k->pkgs = xcalloc(json_object_array_length(a), sizeof(*k->pkgs));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		char w[96];
		snprintf(w, sizeof(w), "%s package %zu", where, i + 1);
		k->n++;
		if ((r = parse_pkg(json_object_array_get_idx(a, i), &k->pkgs[i], w, e)) < 0)
			return r;
	}
	return 0;
}

int index_parse(const char *text, size_t len, struct index *ix, struct acso_err *e)
{
	memset(ix, 0, sizeof(*ix));
	if (len > INDEX_MAX)
		return err_set(e, -ACSO_E_TOOBIG, "index: larger than %u bytes", INDEX_MAX);
	if (memchr(text, '\0', len))
		return err_set(e, -ACSO_E_PARSE, "index: not JSON text (NUL byte)");
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
	for (size_t i = ok ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			ok = false;
	json_tokener_free(tok);
	int r = 0;
	static const char *const keys[] = {"format", "generated", "kernels", NULL};
	json_object *v, *a;
	if (!ok || !json_object_is_type(o, json_type_object)) {
		r = err_set(e, -ACSO_E_PARSE, "index: not a JSON object");
		goto put;
	}
	if (!json_object_object_get_ex(o, "format", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), INDEX_FORMAT)) {
		r = err_set(e, -ACSO_E_UNSUPPORTED, "index: format is not '%s'", INDEX_FORMAT);
		goto put;
	}
	if ((r = only_known(o, keys, "index", e)) < 0 || (r = req_str(o, "generated", 64, "index", &ix->generated, e)) < 0)
		goto put;
	if (!json_object_object_get_ex(o, "kernels", &a) || !json_object_is_type(a, json_type_array)) {
		r = err_set(e, -ACSO_E_PARSE, "index: no kernels list");
		goto put;
	}
	if (json_object_array_length(a) > INDEX_MAX_KERNELS) {
		r = err_set(e, -ACSO_E_TOOBIG, "index: more than %d kernels", INDEX_MAX_KERNELS);
		goto put;
	}
	ix->k = xcalloc(json_object_array_length(a) + 1, sizeof(*ix->k));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		char w[64];
		snprintf(w, sizeof(w), "index: kernel %zu", i + 1);
		ix->n++;
		if ((r = parse_kernel(json_object_array_get_idx(a, i), &ix->k[i], w, e)) < 0)
			goto put;
	}
put:
	json_object_put(o);
	if (r < 0)
		index_free(ix);
	return r;
}

static void add(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

char *index_to_json(const struct index *ix)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	add(o, "format", INDEX_FORMAT);
	add(o, "generated", ix->generated);
	for (size_t i = 0; i < ix->n; i++) {
		const struct index_kernel *k = &ix->k[i];
		json_object *ko = json_object_new_object(), *pa = json_object_new_array();
		add(ko, "release", k->release);
		add(ko, "version", k->version);
		add(ko, "architecture", k->architecture);
		add(ko, "distro", k->distro);
		add(ko, "acs_patch", k->acs_patch);
		for (size_t j = 0; j < k->n; j++) {
			json_object *po = json_object_new_object();
			add(po, "file", k->pkgs[j].file);
			add(po, "package", k->pkgs[j].package);
			add(po, "version", k->pkgs[j].version);
			json_object_object_add(po, "size", json_object_new_int64((int64_t)k->pkgs[j].size));
			add(po, "sha256", k->pkgs[j].sha256);
			json_object_array_add(pa, po);
		}
		json_object_object_add(ko, "packages", pa);
		json_object_array_add(a, ko);
	}
	json_object_object_add(o, "kernels", a);
	char *s = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

int index_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		if ((*a >= '0' && *a <= '9') && (*b >= '0' && *b <= '9')) {
			unsigned long long x = 0, y = 0;
			while (*a >= '0' && *a <= '9' && x < 1000000000ull)
				x = x * 10 + (unsigned)(*a++ - '0');
			while (*b >= '0' && *b <= '9' && y < 1000000000ull)
				y = y * 10 + (unsigned)(*b++ - '0');
			if (x != y)
				return x < y ? -1 : 1;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return 0;
}

/* Does version/release match want: a series "6.1" takes "6.1.N", a version
 * takes itself, a release takes itself. */
static bool matches(const struct index_kernel *k, const char *want)
{
	if (!strcmp(k->release, want) || !strcmp(k->version, want))
		return true;
	size_t n = strlen(want);
	return !strncmp(k->version, want, n) && k->version[n] == '.' && strchr(want, '.') &&
	       !strchr(strchr(want, '.') + 1, '.');
}

const struct index_kernel *index_pick(const struct index *ix, const char *want, const char *arch,
				      struct acso_err *e)
{
	const struct index_kernel *best = NULL;
	struct buf other = {0};
	for (size_t i = 0; i < ix->n; i++) {
		const struct index_kernel *k = &ix->k[i];
		if (!matches(k, want))
			continue;
		if (strcmp(k->architecture, arch)) {
			if (!strstr(buf_str(&other), k->architecture))
				buf_printf(&other, "%s%s", other.len ? ", " : "", k->architecture);
			continue;
		}
		if (!best || index_version_cmp(k->version, best->version) > 0)
			best = k;
	}
	if (!best) {
		if (other.len)
			err_set(e, -ACSO_E_NOTFOUND, "the index has '%s' for %s only, not for %s", want, buf_str(&other), arch);
		else
			err_set(e, -ACSO_E_NOTFOUND, "the index has no kernel for '%s'", want);
	}
	buf_free(&other);
	return best;
}
