/* unit-tmp.h — the temp dir of the running unit test, removed in its
 * teardown even when an assertion fails:
 *	g_tmp = xstrdup(dir);  ...  cmocka_unit_test_teardown(test, rm_tmp) */
#pragma once
#include <fcntl.h>
#include <stdlib.h>

#include "base/fileio.h"

static char *g_tmp;

static int rm_tmp(void **state)
{
	(void)state;
	if (g_tmp)
		rm_rf_at(AT_FDCWD, g_tmp);
	free(g_tmp);
	g_tmp = NULL;
	return 0;
}
