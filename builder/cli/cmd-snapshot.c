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
#include "cli/report.h"
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

/* FILE, or WORK/snapshots/before.tar.gz, or a timestamped name there. */
static char *snapshot_path(const struct acso_ctx *ctx, const char *file, bool before)
{
	if (file)
		return xstrdup(file);
	if (before)
		return xasprintf("%s/snapshots/before.tar.gz", ctx->work_dir);
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return xasprintf("%s/snapshots/snapshot-%s.tar.gz", ctx->work_dir, stamp);
}

/* Write data atomically to path, creating its directory. An exit code. */
static int write_snapshot(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = slash ? path + (slash - dir) + 1 : path;
	if (slash && slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	int r;
	if (slash && (r = mkdir_p_at(AT_FDCWD, dir, 0755)) < 0)
		return fail(NULL, r, "create '%s'", dir);
	_cleanup_close_ int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(NULL, -errno, "open '%s'", slash ? dir : ".");
	if ((r = write_file_atomic(dfd, name, data, len, 0644, 0)) < 0)
		return fail(NULL, r, "write '%s'", path);
	return 0;
}

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
	_cleanup_free_ char *path = snapshot_path(ctx, file, before);
	if (!*path || path[strlen(path) - 1] == '/') {
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
	char sz[32];
	fmt_size(len, sz, sizeof(sz));
	if (ctx->dry_run) {
		printf("would write %s (%s, %zu files, %zu links)\n", path, sz, st.files, st.links);
		return EXIT_OK;
	}
	if ((r = write_snapshot(path, data, len)))
		return r;
	report_begin(ctx);
	rp_string(RP_ANY, "path", "%s\n", path);
	rp_int(RP_JSON, "bytes", NULL, (int64_t)len);
	rp_int(RP_JSON, "files", NULL, (int64_t)st.files);
	rp_int(RP_JSON, "links", NULL, (int64_t)st.links);
	rp_int(RP_JSON, "unreadable", NULL, (int64_t)st.skipped);
	if (!ctx->json)
		msg_info("wrote %s: %zu files, %zu links, %s; replay with 'acso --root %s groups'", path, st.files, st.links,
			 sz, path);
	return report_end(EXIT_OK);
}
