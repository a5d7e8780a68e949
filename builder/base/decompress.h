/* decompress.h — read a compressed file (xz, gzip, bzip2, zstd) as one
 * plain byte stream, through libarchive's raw format. For verifying a
 * kernel.org .tar.sign, which signs the uncompressed tar. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

struct decomp;
struct archive;

enum {
	DECOMP_XZ    = 1 << 0, /* and the legacy .lzma */
	DECOMP_GZIP  = 1 << 1,
	DECOMP_BZIP2 = 1 << 2,
	DECOMP_ZSTD  = 1 << 3,
	DECOMP_ALL   = DECOMP_XZ | DECOMP_GZIP | DECOMP_BZIP2 | DECOMP_ZSTD,
};
/* Enable on a libarchive reader only these filters, and each only when
 * libarchive decompresses it itself: never a filter that would start an
 * external program. Returns how many were enabled. (For the files that
 * use libarchive: deb, unpack, snapshot.) */
int decomp_support_builtin(struct archive *a, unsigned filters);

/* Open fd (kept open by the caller while reading). 0 or negative. */
int decomp_open_fd(int fd, struct decomp **d, struct acso_err *e);
/* Read up to n decompressed bytes: count, 0 at the end, negative on error. */
ssize_t decomp_read(struct decomp *d, void *buf, size_t n, struct acso_err *e);
/* The compression name libarchive recognised ("xz", "gzip", "none"). */
const char *decomp_filter(struct decomp *d);
void decomp_close(struct decomp *d);
/* 1 if the file name ends in a compression suffix (.xz .gz .bz2 .zst .lzma). */
int decomp_suffix(const char *name);
