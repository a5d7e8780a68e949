/* crashpoint.c — an LD_PRELOAD library for tests/integration/run-real.sh: a
 * power cut at an exact place instead of after a random delay.
 *
 * acso commits every file it writes by a rename (write_file_atomic, a
 * download's .part, an extracted tree, a symlink): the places where a power
 * cut can leave a half-done step are just before each of them. In the acso
 * process whose arguments include the word $ACSO_CRASH_STEP (a step name, or
 * "run" for the orchestrator), the $ACSO_CRASH_AT-th call of rename, renameat
 * or renameat2 does not happen: the process writes "STEP N FROM -> TO" to the
 * file $ACSO_CRASH_HELD and waits there for the test's kill -9 of the whole
 * session. Every other process and every other rename is left alone.
 *
 *   cc -shared -fPIC -o crashpoint.so crashpoint.c -ldl
 *   LD_PRELOAD=./crashpoint.so ACSO_CRASH_STEP=build ACSO_CRASH_AT=4 \
 *       ACSO_CRASH_HELD=/tmp/held acso run ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int armed = -1; /* -1 not decided yet, 0 no, 1 yes */
static long target, seen;

/* Is this the acso process the environment names? */
static int decide(void)
{
	const char *step = getenv("ACSO_CRASH_STEP"), *at = getenv("ACSO_CRASH_AT");
	char exe[4096], args[65536];
	if (!step || !at || !getenv("ACSO_CRASH_HELD") || (target = strtol(at, NULL, 10)) <= 0)
		return 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 5)
		return 0;
	exe[n] = '\0';
	if (strcmp(exe + n - 5, "/acso"))
		return 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, args, sizeof(args) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	args[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(args + i) + 1)
		if (!strcmp(args + i, step))
			return 1;
	return 0;
}

static void maybe_hold(const char *from, const char *to)
{
	if (armed < 0)
		armed = decide();
	if (!armed || __atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST) != target)
		return;
	char line[8192];
	int len = snprintf(line, sizeof(line), "%s %ld %s -> %s\n", getenv("ACSO_CRASH_STEP"), target, from, to);
	int fd = open(getenv("ACSO_CRASH_HELD"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, len > 0 && (size_t)len < sizeof(line) ? (size_t)len : 0) < 0)
			line[0] = '\0';
		close(fd);
	}
	for (;;)
		pause();
}

int rename(const char *from, const char *to)
{
	maybe_hold(from, to);
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	return real(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	maybe_hold(from, to);
	int (*real)(int, const char *, int, const char *) =
		(int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	return real(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	maybe_hold(from, to);
	int (*real)(int, const char *, int, const char *, unsigned) =
		(int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
	return real(fd1, from, fd2, to, flags);
}
