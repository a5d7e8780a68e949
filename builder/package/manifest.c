/* manifest.c — manifest.json of a build, written and read with json-c. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "base/err.h"
#include "base/fileio.h"
#include "base/json.h"
#include "package/manifest.h"
#include "base/util.h"

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *manifest_to_json(const struct manifest *m)
{
	json_object *o = json_object_new_object();
	add_str(o, "release", m->release);
	add_str(o, "version", m->version);
	add_str(o, "localversion", m->localversion);
	add_str(o, "debian_version", m->debian_version);
	add_str(o, "source_dir", m->source_dir);
	add_str(o, "log", m->log);
	add_str(o, "built_at", m->built_at);
	add_str(o, "config_sha256", m->config_sha256);
	add_str(o, "reuse_key", m->reuse_key);
	json_object_object_add(o, "objects", json_object_new_int64((int64_t)m->objects));
	json_object_object_add(o, "jobs", json_object_new_int((int)m->jobs));
	json_object_object_add(o, "seconds", json_object_new_double(m->seconds));
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < m->n; i++) {
		const struct manifest_pkg *p = &m->pkgs[i];
		json_object *po = json_object_new_object();
		add_str(po, "file", p->file);
		add_str(po, "package", p->info.package);
		add_str(po, "version", p->info.version);
		add_str(po, "architecture", p->info.architecture);
		json_object_object_add(po, "size", json_object_new_int64((int64_t)p->info.size));
		add_str(po, "sha256", p->info.sha256);
		json_object_array_add(a, po);
	}
	json_object_object_add(o, "packages", a);
	return o;
}

int manifest_write(int dfd, const char *dir, const struct manifest *m, struct acso_err *e)
{
	json_object *o = manifest_to_json(m);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *text = xasprintf("%s\n", s);
	json_object_put(o);
	int r = write_file_atomic(dfd, MANIFEST_NAME, text, strlen(text), 0644, 0);
	if (r < 0)
		return err_set(e, r, "write '%s/%s': %s", dir, MANIFEST_NAME, acso_strerror(r));
	return 0;
}

static char *get_str(json_object *o, const char *k)
{
	const char *s = json_str(o, k);
	return s ? xstrdup(s) : NULL;
}

void manifest_add(struct manifest *m, const char *file, struct deb_info *info)
{
	m->pkgs = xrealloc(m->pkgs, (m->n + 1) * sizeof(*m->pkgs));
	m->pkgs[m->n].file = xstrdup(file);
	m->pkgs[m->n].info = *info;
	memset(info, 0, sizeof(*info));
	m->n++;
}

static bool is_sha256_hex(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int manifest_read(const char *path, struct manifest *m, struct acso_err *e)
{
	memset(m, 0, sizeof(*m));
	_cleanup_free_ char *text = NULL;
	int r = read_file_at(AT_FDCWD, path, MANIFEST_MAX, &text, NULL);
	if (r < 0)
		return err_set(e, r, "'%s': %s", path, acso_strerror(r));
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	bool complete = json_tokener_get_error(tok) == json_tokener_success;
	for (const char *rest = text + json_tokener_get_parse_end(tok); complete && *rest; rest++)
		if (!strchr(" \t\r\n", *rest))
			complete = false;
	json_tokener_free(tok);
	if (!o || !complete || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return err_set(e, -ACSO_E_PARSE, "'%s': not a JSON object", path);
	}
	m->release = get_str(o, "release");
	m->version = get_str(o, "version");
	m->localversion = get_str(o, "localversion");
	m->debian_version = get_str(o, "debian_version");
	m->source_dir = get_str(o, "source_dir");
	m->log = get_str(o, "log");
	m->built_at = get_str(o, "built_at");
	m->config_sha256 = get_str(o, "config_sha256");
	m->reuse_key = get_str(o, "reuse_key");
	json_object *v, *a;
	if (json_object_object_get_ex(o, "objects", &v))
		m->objects = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "seconds", &v))
		m->seconds = json_object_get_double(v);
	if (json_object_object_get_ex(o, "jobs", &v) && json_object_get_int(v) > 0)
		m->jobs = (unsigned)json_object_get_int(v);
	r = 0;
	if (!m->release || !json_object_object_get_ex(o, "packages", &a) || !json_object_is_type(a, json_type_array)) {
		r = err_set(e, -ACSO_E_PARSE, "'%s': no release or packages", path);
		goto put;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *po = json_object_array_get_idx(a, i);
		struct deb_info info = {0};
		_cleanup_free_ char *file = get_str(po, "file");
		_cleanup_free_ char *sha = get_str(po, "sha256");
		info.package = get_str(po, "package");
		info.version = get_str(po, "version");
		info.architecture = get_str(po, "architecture");
		json_object *sz;
		bool has_size = json_object_object_get_ex(po, "size", &sz) && json_object_is_type(sz, json_type_int) &&
				json_object_get_int64(sz) >= 0;
		if (!file || strchr(file, '/') || !info.package || !info.version || !info.architecture ||
		    !has_size || !is_sha256_hex(sha)) {
			deb_info_free(&info);
			r = err_set(e, -ACSO_E_PARSE, "'%s': package %zu is incomplete", path, i + 1);
			goto put;
		}
		info.size = (uint64_t)json_object_get_int64(sz);
		memcpy(info.sha256, sha, 65);
		manifest_add(m, file, &info);
	}
put:
	json_object_put(o);
	if (r < 0)
		manifest_free(m);
	return r;
}

int manifest_verify(const char *dir, const struct manifest *m, struct acso_err *e)
{
	if (!m->n)
		return err_set(e, -ACSO_E_NOTFOUND, "'%s': the manifest lists no package", dir);
	for (size_t i = 0; i < m->n; i++) {
		_cleanup_free_ char *p = path_join(dir, m->pkgs[i].file);
		char hex[65];
		uint64_t size = 0;
		int r = sha256_file(p, hex, &size, e);
		if (r < 0)
			return r;
		if (size != m->pkgs[i].info.size || strcmp(hex, m->pkgs[i].info.sha256))
			return err_set(e, -ACSO_E_HASH, "'%s' changed since the build: SHA-256 %s, manifest says %s", p, hex,
				       m->pkgs[i].info.sha256);
	}
	return 0;
}

void manifest_free(struct manifest *m)
{
	free(m->release);
	free(m->version);
	free(m->localversion);
	free(m->debian_version);
	free(m->source_dir);
	free(m->log);
	free(m->built_at);
	free(m->config_sha256);
	free(m->reuse_key);
	for (size_t i = 0; i < m->n; i++) {
		free(m->pkgs[i].file);
		deb_info_free(&m->pkgs[i].info);
	}
	free(m->pkgs);
	memset(m, 0, sizeof(*m));
}
