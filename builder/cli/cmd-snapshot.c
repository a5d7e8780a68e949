/* cmd-snapshot.c — `acso snapshot [FILE]`: one archive of what check,
 * groups and verify read; replay it with --root (unpacked, or the archive
 * itself). Written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "base/fileio.h"
#include "cli/output.h"
#include "machine/snapshot.h"
#include "machine/sysinfo.h"


/* cmd_snapshot passes &before: the struct's only field, at offset 0. */
struct snapshot_opts {
	bool before;
};

#define OPTS struct snapshot_opts
const struct acso_option snapshot_options[] = {
	OPT_BOOL(0, "before", before, "write WORK/snapshots/before.tar.gz, the state 'acso verify' compares with"),
	OPT_END,
};

int cmd_snapshot(struct acso_ctx *ctx, int argc, char **argv)
{
	bool before = false;
	int first;
	int rc = cmd_options(ctx, argc, argv, &before, &first);
	if (rc)
		return rc;
	const char *file = first < argc ? argv[first] : NULL;
	if (file && before) {
		msg_error("give either FILE or --before, not both");
		return EXIT_USAGE;
	}
	_cleanup_free_ char *path = NULL;
	if (file) {
		path = xstrdup(file);
	} else {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		path = before ? xasprintf("%s/snapshots/before.tar.gz", ctx->work_dir)
			      : xasprintf("%s/snapshots/snapshot-%s.tar.gz", ctx->work_dir, stamp);
	}
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = path;
	if (slash) {
		*slash = '\0';
		name = path + (slash - dir) + 1;
		if (!*dir)
			dir[0] = '/', dir[1] = '\0';
	} else {
		free(dir);
		dir = xstrdup(".");
	}
	if (!*name) {
		msg_error("snapshot '%s': not a file name", path);
		return EXIT_USAGE;
	}

	struct sysinfo s;
	sysinfo_read(ctx->rootfd, !strcmp(ctx->root, "/"), &s);
	struct acso_err e = {0};
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct snapshot_stats st;
	int r = snapshot_build(ctx->rootfd, (const char *const *)s.klog.v, s.klog.n, &data, &len, &st, &e);
	sysinfo_free(&s);
	if (r < 0)
		return fail(&e, r, "snapshot of '%s'", ctx->root);

	if (ctx->dry_run) {
		char sz[32];
		fmt_size(len, sz, sizeof(sz));
		printf("would write %s (%s, %zu files, %zu links)\n", path, sz, st.files, st.links);
		return EXIT_OK;
	}
	if (strcmp(dir, ".") && (r = mkdir_p_at(AT_FDCWD, dir, 0755)) < 0)
		return fail(NULL, r, "create '%s'", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(NULL, -errno, "open '%s'", dir);
	r = write_file_atomic(dfd, name, data, len, 0644, 0);
	if (r < 0)
		return fail(NULL, r, "write '%s'", path);
	if (ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)len));
		json_object_object_add(o, "files", json_object_new_int64((int64_t)st.files));
		json_object_object_add(o, "links", json_object_new_int64((int64_t)st.links));
		json_object_object_add(o, "unreadable", json_object_new_int64((int64_t)st.skipped));
		out_json(o);
		json_object_put(o);
	} else {
		char sz[32];
		fmt_size(len, sz, sizeof(sz));
		printf("%s\n", path);
		msg_info("wrote %s: %zu files, %zu links, %s; replay with 'acso --root %s groups'", path, st.files, st.links, sz, path);
	}
	return EXIT_OK;
}
