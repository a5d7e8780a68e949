/* fuzz-version.c — libFuzzer target: kernel version strings and the
 * identification of a running kernel. Checks the round trip: a parsed
 * version prints as a string that parses back to the same version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "source/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct kver v, w;
	char buf[KVER_STR_MAX];
	if (kver_parse(s, &v, NULL) == 0) {
		kver_str(&v, buf);
		if (kver_parse(buf, &w, NULL) != 0 || kver_cmp(&v, &w) != 0)
			abort();
		kver_release_str(&v, buf);
		kver_tarball_base(&v, buf);
	}
	(void)kver_parse_series(s, &v, NULL);
	(void)kver_from_tarball(s, &v);
	/* The same bytes as release, uname -v and version_signature. */
	struct kident k;
	struct acso_err e = {0};
	const char *nl = memchr(s, '\n', strlen(s));
	if (kident_parse(s, nl ? nl + 1 : NULL, NULL, &k, &e) < 0 && !e.msg[0])
		abort();
	(void)kident_parse("5.3.0-24-generic", NULL, s, &k, NULL);
	free(s);
	return 0;
}
