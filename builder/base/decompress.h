/* decompress.h — read a compressed file (xz, gzip, bzip2, zstd, ...) as one
 * plain byte stream, through libarchive's raw format. For verifying a
 * kernel.org .tar.sign, which signs the uncompressed tar. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

struct decomp;

/* Open fd (kept open by the caller while reading). 0 or negative. */
int decomp_open_fd(int fd, struct decomp **d, struct acso_err *e);
/* Read up to n decompressed bytes: count, 0 at the end, negative on error. */
ssize_t decomp_read(struct decomp *d, void *buf, size_t n, struct acso_err *e);
/* The compression name libarchive recognised ("xz", "gzip", "none"). */
const char *decomp_filter(struct decomp *d);
void decomp_close(struct decomp *d);
/* 1 if the file name ends in a compression suffix (.xz .gz .bz2 .zst .lz4 .lzma). */
int decomp_suffix(const char *name);
