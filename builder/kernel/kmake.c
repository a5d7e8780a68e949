/* kmake.c — make in a kernel tree, niced, as the tree's owner. See kmake.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fileio.h"
#include "kernel/kmake.h"
#include "base/spawn.h"
#include "base/util.h"

bool kmake_configured(const char *src)
{
	_cleanup_free_ char *p = path_join(src, ".config");
	return access(p, R_OK) == 0;
}

/* First line of the log (from offset) that reads like a compiler error. */
static char *first_error(const char *log_path, off_t from)
{
	_cleanup_close_ int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, from, SEEK_SET) < 0)
		return NULL;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_fd_bounded(fd, 8u << 20, &text, &len) < 0)
		return NULL;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "error:") || strstr(l, "*** "))
			return xstrndup(l, 300);
	return NULL;
}

int kmake_run(const char *src, const char *const *args, int jobs, const char *log_path,
	      const char *const *extra_env, struct acso_err *e)
{
	_cleanup_close_ int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (log < 0)
		return err_set(e, -errno, "open log '%s': %s", log_path, strerror(errno));
	off_t start = lseek(log, 0, SEEK_END);
	struct strv argv = {0};
	strv_push(&argv, "nice");
	strv_push(&argv, "-n");
	strv_push(&argv, "10");
	strv_push(&argv, "make");
	strv_pushf(&argv, "-j%d", jobs > 0 ? jobs : 2);
	for (const char *const *a = args; *a; a++)
		strv_push(&argv, *a);
	struct spawn_opts o = {.cwd = src, .log_fd = log, .env = extra_env};
	struct stat st;
	if (geteuid() == 0 && stat(src, &st) == 0 && st.st_uid != 0) {
		/* never build as root: the tree's owner is the user who fetched it */
		o.drop_privs = true;
		o.uid = st.st_uid;
		o.gid = st.st_gid;
	}
	int status = 0;
	int r = spawn_run((const char *const *)argv.v, &o, &status);
	strv_free(&argv);
	if (r < 0)
		return err_set(e, r, "run make: %s", strerror(-r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char how[64];
	spawn_describe(status, how, sizeof(how));
	_cleanup_free_ char *first = first_error(log_path, start);
	return err_set(e, -ACSO_E_CHILD, "make %s %s%s%s (log: %s)", args[0] ? args[0] : "", how,
		       first ? ": " : "", first ? first : "", log_path);
}

int kmake_quirks_check(const char *src, const char *log_path, struct acso_err *e)
{
	static const char *const args[] = {"drivers/pci/quirks.o", NULL};
	return kmake_run(src, args, 2, log_path, NULL, e);
}

char *kmake_source_dir(const char *work_dir, const char *opt)
{
	if (opt)
		return xstrdup(opt);
	_cleanup_free_ char *src = path_join(work_dir, "src");
	return path_join(src, "current");
}
