/* fuzz-kconfig.c — libFuzzer target for the .config parser and editor:
 * parse, edit, render; an untouched parse must render back byte-identical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "kernel/kconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kconfig kc;
	struct acso_err e = {0};
	if (kconfig_parse(&kc, (const char *)data, size, "fuzz", &e) < 0)
		return 0;
	struct buf b = {0};
	kconfig_render(&kc, &b);
	if (b.len != size || memcmp(b.data ? b.data : "", data, size))
		abort(); /* untouched lines must come back byte-identical */
	buf_free(&b);
	kconfig_set(&kc, "PCI_QUIRKS", "y");
	kconfig_set(&kc, "DEBUG_INFO_BTF", "n");
	kconfig_render(&kc, &b);
	buf_free(&b);
	struct kc_reqs r = {0};
	kconfig_parse_fragment((const char *)data, size, "fuzz", &r, &e);
	kc_reqs_free(&r);
	kconfig_free(&kc);
	return 0;
}
