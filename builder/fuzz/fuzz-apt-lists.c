/* fuzz-apt-lists.c — libFuzzer target: what acso prebuilt reads of the
 * lists apt kept for the channel: the Date of an InRelease (clear-signed or
 * not) and the kernel releases of a Packages file. Built by scripts/fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "package/prebuilt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acso_err e = {0};
	time_t d = 0;
	if (prebuilt_release_date((const char *)data, size, &d, &e) < 0 && !e.msg[0])
		abort(); /* every failure says why */
	struct strv im = {0}, hd = {0};
	prebuilt_packages_releases((const char *)data, size, "amd64", &im, &hd);
	for (size_t i = 0; i < im.n; i++) {
		if (!im.v[i][0])
			abort();
		(void)prebuilt_pick(&im, im.v[i]);
	}
	strv_free(&im);
	strv_free(&hd);
	return 0;
}
