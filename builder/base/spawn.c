/* spawn.c — see spawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/spawn.h"

extern char **environ;

static const char *const allowed_env[] = {
	"PATH", "HOME", "USER", "LOGNAME", "TERM", "TMPDIR", "SOURCE_DATE_EPOCH",
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL,
};

/* Does the NULL-terminated list of "K=V" set the name of entry? */
static bool env_sets(const char *const *list, const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (; list && *list; list++)
		if (!strncmp(*list, entry, n) && (*list)[n] == '=')
			return true;
	return false;
}

static void build_env(const struct spawn_opts *o, struct strv *env)
{
	if (o && o->inherit_env) {
		for (char **e = environ; *e; e++)
			if (!env_sets(o->env, *e))
				strv_push(env, *e);
	} else {
		for (const char *const *k = allowed_env; *k; k++) {
			const char *v = getenv(*k);
			if (v)
				strv_pushf(env, "%s=%s", *k, v);
		}
		if (!getenv("PATH"))
			strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		strv_push(env, "LC_ALL=C");
	}
	if (o && o->env)
		for (const char *const *e = o->env; *e; e++)
			strv_push(env, *e);
}

char *spawn_which(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *d ? d : ".", prog);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static void emit_lines(const struct spawn_opts *o, struct buf *pending, const char *data, size_t n)
{
	if (!o || !o->on_line)
		return;
	buf_append(pending, data, n);
	char *start = pending->data, *nl;
	while ((nl = memchr(start, '\n', pending->len - (size_t)(start - pending->data)))) {
		*nl = '\0';
		o->on_line(o->priv, start);
		start = nl + 1;
	}
	size_t rest = pending->len - (size_t)(start - pending->data);
	memmove(pending->data, start, rest);
	pending->len = rest;
	pending->data[rest] = '\0';
}

int spawn_run(const char *const argv[], const struct spawn_opts *o, int *status)
{
	_cleanup_free_ char *exe = spawn_which(argv[0]);
	if (!exe)
		return -ENOENT;

	struct strv env = {0};
	build_env(o, &env);

	bool want_out = o && (o->capture || o->on_line || o->log_fd >= 0);
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1}, execp[2] = {-1, -1};
	if (want_out && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
		goto fail_pipes;
	if (o && o->input && pipe2(inp, O_CLOEXEC) < 0)
		goto fail_pipes;
	if (pipe2(execp, O_CLOEXEC) < 0)
		goto fail_pipes;

	pid_t pid = fork();
	if (pid < 0)
		goto fail_pipes;
	if (pid == 0) {
		int err;
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (o && o->input)
			dup2(inp[0], 0);
		else if (!(o && o->keep_stdin))
			dup2(devnull, 0);
		if (want_out) {
			dup2(outp[1], 1);
			dup2(errp[1], 2);
		} else if (o && o->quiet) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		if (o && o->cwd && chdir(o->cwd) < 0)
			goto child_fail;
		if (o && o->drop_privs) {
			if (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0)
				goto child_fail;
		}
		if (o && o->pre_exec && (err = o->pre_exec(o->pre_exec_arg)) < 0) {
			errno = -err;
			goto child_fail;
		}
		execve(exe, (char *const *)argv, env.v);
child_fail:
		err = errno;
		(void)!write(execp[1], &err, sizeof(err));
		_exit(127);
	}
	if (o && o->pid_out)
		*o->pid_out = pid;

	close(execp[1]);
	if (inp[0] >= 0)
		close(inp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[1] >= 0)
		close(errp[1]);

	if (inp[1] >= 0) {
		/* Small inputs only (a script, a passphrase): write then close. */
		const char *p = o->input;
		size_t left = o->input_len;
		signal(SIGPIPE, SIG_IGN);
		while (left) {
			ssize_t n = write(inp[1], p, left);
			if (n <= 0)
				break;
			p += n;
			left -= (size_t)n;
		}
		close(inp[1]);
	}

	struct buf pending = {0};
	if (want_out) {
		struct pollfd pf[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
		int open_fds = 2;
		while (open_fds) {
			if (poll(pf, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (int i = 0; i < 2; i++) {
				if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				char chunk[16384];
				ssize_t n = read(pf[i].fd, chunk, sizeof(chunk));
				if (n <= 0) {
					if (n < 0 && errno == EINTR)
						continue;
					close(pf[i].fd);
					pf[i].fd = -1;
					open_fds--;
					continue;
				}
				if (o->log_fd >= 0)
					(void)!write(o->log_fd, chunk, (size_t)n);
				if (i == 0 && o->capture)
					buf_append(o->capture, chunk, (size_t)n);
				emit_lines(o, &pending, chunk, (size_t)n);
			}
		}
		if (pending.len && o->on_line)
			o->on_line(o->priv, pending.data);
		buf_free(&pending);
	}

	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int child_errno = 0;
	ssize_t got = read(execp[0], &child_errno, sizeof(child_errno));
	close(execp[0]);
	strv_free(&env);
	if (got == (ssize_t)sizeof(child_errno))
		return -child_errno;
	if (status)
		*status = st;
	return 0;

fail_pipes:;
	int r = -errno;
	int *fds[] = {outp, errp, inp, execp};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	strv_free(&env);
	return r;
}

void spawn_describe(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, n, "ended with wait status 0x%x", status);
}

int spawn_check(const char *const argv[], const struct spawn_opts *o, struct acso_err *e)
{
	int st;
	int r = spawn_run(argv, o, &st);
	if (r < 0)
		return err_set(e, r, "cannot run '%s': %s", argv[0], acso_strerror(r));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char how[128];
	spawn_describe(st, how, sizeof(how));
	return err_set(e, -ACSO_E_CHILD, "%s %s", argv[0], how);
}
