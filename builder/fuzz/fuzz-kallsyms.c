/* fuzz-kallsyms.c — libFuzzer target: symbol lists (/proc/kallsyms,
 * System.map) as acs_scan_symbols reads them, and release strings as
 * acs_release_flavour reads them. Checks that a verdict of "found" names
 * one of the patch's symbols, and that appending a module's copy of every
 * line never changes the verdict (a module's symbol is never proof). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "machine/acssupport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sym[64] = "";
	int r = acs_scan_symbols((const char *)data, size, sym, sizeof(sym));
	if (r < -1 || r > 1 || (r == 1 && strncmp(sym, "pcie_acs_override", 17) && strncmp(sym, "acs_on_", 7) &&
				strcmp(sym, "max_acs_id")))
		abort();
	/* the same text followed by a module's symbols */
	static const char mod[] = "\n0000000000000000 t pcie_acs_overrides\t[m]\n";
	char *more = xmalloc(size + sizeof(mod));
	memcpy(more, data, size);
	memcpy(more + size, mod, sizeof(mod) - 1);
	int r2 = acs_scan_symbols(more, size + sizeof(mod) - 1, NULL, 0);
	if (r == 1 && r2 != 1)
		abort();
	free(more);
	char *s = xstrndup((const char *)data, size);
	(void)acs_release_flavour(s);
	free(s);
	return 0;
}
