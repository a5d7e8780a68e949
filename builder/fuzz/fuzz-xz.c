/* fuzz-xz.c — libFuzzer target: the fetch's push decoder for .xz (xzdec in
 * base/decompress.c, on liblzma). The first byte picks the chunk size the
 * input is fed in and one or two decoder threads (a multi-block stream takes
 * the threaded path); the rest is the compressed stream. The output is
 * bounded here as the fetch bounds it: the decoder must stop, not grow. */
#include <stdint.h>
#include <stdlib.h>

#include "base/decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)(data[0] & 0x7f) * 37 + 1;
	unsigned threads = data[0] & 0x80 ? 2 : 1;
	data++;
	size--;
	struct xzdec *d = NULL;
	struct acso_err e = {0};
	if (xzdec_new(threads, &d, &e) < 0)
		return 0;
	static unsigned char out[1 << 16];
	size_t total = 0, off = 0;
	int r = 0;
	while (r == 0 && total < (16u << 20)) {
		size_t n = size - off < chunk ? size - off : chunk;
		const unsigned char *in = data + off;
		size_t left = n;
		int finish = off + n == size;
		do {
			unsigned char *o = out;
			size_t room = sizeof(out);
			r = xzdec_run(d, &in, &left, &o, &room, finish, &e);
			total += sizeof(out) - room;
			if (left > n)
				abort();
		} while (r == 0 && (left || (finish && total < (16u << 20))));
		off += n;
		if (finish)
			break;
	}
	xzdec_free(d);
	return 0;
}
