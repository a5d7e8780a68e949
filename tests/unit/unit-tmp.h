/* unit-tmp.h — the temp dir of the running unit test, removed in its
 * teardown even when an assertion fails:
 *	g_tmp = xstrdup(dir);  ...  cmocka_unit_test_teardown(test, rm_tmp) */
#pragma once
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/spawn.h"

__attribute__((unused)) static char *g_tmp;

__attribute__((unused)) static int rm_tmp(void **state)
{
	(void)state;
	if (g_tmp)
		rm_rf_at(AT_FDCWD, g_tmp);
	free(g_tmp);
	g_tmp = NULL;
	return 0;
}

/* Write text to root/path, its directory made first. */
__attribute__((unused)) static void unit_put(const char *root, const char *path, const char *text)
{
	char *p = xasprintf("%s/%s", root, path);
	char *dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
	assert_int_equal(mkdir_p_at(AT_FDCWD, dir, 0755), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(dir);
	free(p);
}

/* A new temp dir as g_tmp (rm_tmp removes it), holding a copy of
 * tests/fixtures/NAME as g_tmp/root; returns that path (malloc'ed). */
__attribute__((unused)) static char *unit_copy_fixture(const char *name)
{
	char tmpl[] = "/tmp/acso-unit-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	free(g_tmp);
	g_tmp = xstrdup(tmpl);
	char *root = xasprintf("%s/root", tmpl), *src = xasprintf("tests/fixtures/%s", name);
	const char *argv[] = {"cp", "-a", src, root, NULL};
	assert_int_equal(spawn_check(argv, &(struct spawn_opts){.log_fd = -1}, NULL), 0);
	free(src);
	return root;
}
