/* fuzz-releases.c — libFuzzer target: the releases.json reader and the
 * sha256sum list parser (both read what a mirror sends). Built by scripts/fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/releases.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct releases r;
	struct acso_err e = {0};
	if (releases_parse((const char *)data, size, &r, &e) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			(void)releases_find_series(&r, &r.v[i].ver);
			(void)releases_nearest_longterm(&r, &r.v[i].ver);
		}
		releases_free(&r);
	} else if (!e.msg[0]) {
		abort(); /* every failure says why */
	}
	char *text = xstrndup((const char *)data, size);
	char hex[65];
	struct kver s = { .kind = KVER_RELEASE, .major = 6, .minor = 1 }, l;
	if (sums_find(text, "linux-6.1.tar.xz", hex) == 0 && strlen(hex) != 64)
		abort();
	(void)sums_latest_in_series(text, &s, &l);
	free(text);
	return 0;
}
