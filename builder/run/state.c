/* state.c — see state.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "run/state.h"
#include "base/util.h"

bool state_target_valid(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > 64 || t[0] == '.')
		return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == n;
}

char *state_path(const char *work_dir, const char *target)
{
	return xasprintf("%s/state/%s.json", work_dir, target);
}

static struct json_object *fresh(const char *target)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_int(1));
	json_object_object_add(o, "target", json_object_new_string(target));
	json_object_object_add(o, "steps", json_object_new_object());
	return o;
}

bool state_shape_ok(struct json_object *st)
{
	struct json_object *steps = NULL;
	if (!st || !json_object_is_type(st, json_type_object) ||
	    !json_object_object_get_ex(st, "steps", &steps) || !json_object_is_type(steps, json_type_object))
		return false;
	/* Readers index each record by key: an array or a string there would
	 * abort json-c's object accessors. */
	json_object_object_foreach(steps, name, rec) {
		(void)name;
		if (!json_object_is_type(rec, json_type_object))
			return false;
	}
	return true;
}

struct json_object *state_load(const char *work_dir, const char *target, bool *garbage)
{
	*garbage = false;
	_cleanup_free_ char *path = state_path(work_dir, target);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, path, STATE_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return fresh(target);
	struct json_object *o = NULL;
	if (r == 0 && strlen(text) == len) {
		struct json_tokener *tok = json_tokener_new();
		o = json_tokener_parse_ex(tok, text, (int)len);
		if (o && json_tokener_get_parse_end(tok) != len) {
			/* trailing bytes after the object: not ours */
			json_object_put(o);
			o = NULL;
		}
		json_tokener_free(tok);
	}
	if (state_shape_ok(o))
		return o;
	json_object_put(o);
	*garbage = true;
	_cleanup_free_ char *bad = xasprintf("%s.bad", path);
	(void)rename(path, bad);
	return fresh(target);
}

int state_save(const char *work_dir, const char *target, struct json_object *st, struct acso_err *e)
{
	_cleanup_free_ char *dir = path_join(work_dir, "state");
	int r = mkdir_p_at(AT_FDCWD, dir, 0755);
	if (r < 0)
		return err_set(e, r, "cannot create '%s': %s", dir, acso_strerror(r));
	const char *text = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *path = state_path(work_dir, target);
	_cleanup_free_ char *body = xasprintf("%s\n", text);
	r = write_file_atomic(AT_FDCWD, path, body, strlen(body), 0644, 0);
	if (r < 0)
		return err_set(e, r, "cannot write '%s': %s", path, acso_strerror(r));
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *work_dir, struct strv *targets)
{
	_cleanup_free_ char *dir = path_join(work_dir, "state");
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!endswith(de->d_name, ".json"))
			continue;
		_cleanup_free_ char *t = xstrndup(de->d_name, strlen(de->d_name) - 5);
		if (state_target_valid(t))
			strv_push(targets, t);
	}
	closedir(d);
	if (targets->n)
		qsort(targets->v, targets->n, sizeof(char *), cmp_str);
	return (int)targets->n;
}
