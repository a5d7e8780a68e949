/* fuzz-diff.c — libFuzzer target for the unified diff parser and applier:
 * parse the input as a patch and apply its first file to a fixed text. */
#include <stddef.h>
#include <stdint.h>

#include "kernel/diff.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char old[] = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
	struct acso_err e = {0};
	struct diff_patch p;
	if (diff_parse((const char *)data, size, "fuzz", &p, &e) < 0)
		return 0;
	for (size_t i = 0; i < p.nf; i++) {
		struct buf out = {0};
		if (diff_apply_file(&p, &p.f[i], old, sizeof(old) - 1, 2, &out, NULL, &e) == 0) {
			/* what was applied must diff back cleanly */
			struct buf d = {0};
			diff_unified("f", old, sizeof(old) - 1, out.data ? out.data : "", out.len, 3, &d);
			buf_free(&d);
		}
		buf_free(&out);
	}
	diff_patch_free(&p);
	return 0;
}
