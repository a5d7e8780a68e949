/* spawn.h — run child programs from an argv vector, never through a shell.
 *
 * The child gets an explicit environment: an allow-list taken from ours
 * (PATH, HOME, USER, LOGNAME, TERM, TMPDIR, SOURCE_DATE_EPOCH) plus LC_ALL=C
 * plus what the step adds. Its output can go to a log file, to a line
 * callback (for progress and prefixed echo), and/or into a capture buffer.
 * An exec failure is reported to the parent as -errno, not as exit 127.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

struct spawn_opts {
	const char *const *env;  /* extra "K=V" entries, NULL-terminated, may be NULL */
	bool inherit_env;        /* pass our whole environment instead (env's names replaced) */
	const char *cwd;         /* chdir before exec */
	int log_fd;              /* >=0: stdout+stderr appended here */
	bool quiet;              /* <0 log_fd and quiet: discard output */
	struct buf *capture;     /* stdout (only) collected here */
	const char *input;       /* written to the child's stdin, else /dev/null */
	size_t input_len;
	bool keep_stdin;         /* no input: the child reads our stdin (a prompt on the terminal) */
	void (*on_line)(void *priv, const char *line); /* each output line */
	void *priv;
	uid_t uid;               /* run as this user when drop_privs */
	gid_t gid;
	bool drop_privs;
	pid_t *pid_out;          /* receives the child's pid as soon as it runs */
	/* in the child, after drop_privs, just before exec (a sandbox):
	 * 0, or -errno to fail the start with */
	int (*pre_exec)(void *arg);
	void *pre_exec_arg;
};

/* Run argv[0] (looked up in PATH) and wait. Returns 0 when the child ran (its
 * wait status in *status), or -errno when it could not be started. */
int spawn_run(const char *const argv[], const struct spawn_opts *o, int *status);

/* Run and require exit status 0: returns 0, -ACSO_E_CHILD (with a detail such
 * as "make exited with status 2" in e), or -errno. */
struct acso_err;
int spawn_check(const char *const argv[], const struct spawn_opts *o, struct acso_err *e);

/* "exited with status 2", "was killed by signal 9". */
void spawn_describe(int status, char *buf, size_t n);

/* Find a program in PATH; returns malloc'ed path or NULL. */
char *spawn_which(const char *prog);
