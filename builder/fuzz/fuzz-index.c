/* fuzz-index.c — libFuzzer target: the prebuilt index parser (outside input
 * from any channel) and the .deb control-file parser. An index that parses
 * must survive a round trip through the writer unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "package/deb.h"
#include "base/err.h"
#include "package/index.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct index ix;
	struct acso_err e = {0};
	if (index_parse((const char *)data, size, &ix, &e) == 0) {
		char *out = index_to_json(&ix);
		struct index back;
		if (index_parse(out, strlen(out), &back, &e) < 0 || back.n != ix.n)
			abort(); /* the writer must write what the reader reads */
		for (size_t i = 0; i < ix.n; i++)
			if (strcmp(ix.k[i].release, back.k[i].release) || ix.k[i].n != back.k[i].n)
				abort();
		index_free(&back);
		free(out);
		index_free(&ix);
	}
	struct deb_info d = {0};
	(void)deb_parse_control(text, &d, &e);
	deb_info_free(&d);
	free(text);
	return 0;
}
