/* fuzz-armor.c — libFuzzer target: the ASCII armor decoder (every block in
 * the input, as a key file would be read) and the CRC24. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz-common.h"
#include "pgp/pgp-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	size_t off = 0;
	while (off < size) {
		char type[64];
		uint8_t *bin = NULL;
		size_t binlen = 0, used = 0;
		struct acso_err e = {0};
		if (pgp_armor_decode(t + off, size - off, type, &bin, &binlen, &used, &e) < 0)
			break;
		if (binlen == 0 || used == 0 || used > size - off)
			abort(); /* the decoder's own contract */
		(void)pgp_crc24(bin, binlen);
		free(bin);
		off += used;
	}
	return 0;
}
