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

/* A push decoder for .xz, on liblzma directly (no copy through libarchive):
 * the fetch's decompressor thread hands it the compressed chunks as they
 * come and takes the output straight into its own buffers. A file of
 * several blocks (xz -T, as Debian's linux-source) is decoded by up to
 * `threads` threads; one block (or threads <= 1) by the caller's thread
 * alone. Memory is bounded (XZDEC_MEMLIMIT): a header that asks for more
 * is an error, never an allocation. */
#define XZDEC_MEMLIMIT (1ull << 30)
struct xzdec;
/* 1 if buf starts with the .xz magic (FD '7zXZ' 00). */
int xzdec_magic(const void *buf, size_t n);
int xzdec_new(unsigned threads, struct xzdec **d, struct acso_err *e);
/* Decode from in (in_len bytes) into out (out_len), advancing both. finish: no
 * more input follows. Returns 0 (call again: more input or more room), 1
 * at the end of the stream(s), or -ACSO_E_PARSE with liblzma's reason. */
int xzdec_run(struct xzdec *d, const unsigned char **in, size_t *in_len, unsigned char **out,
	      size_t *out_len, int finish, struct acso_err *e);
/* Stops and joins liblzma's own threads. */
void xzdec_free(struct xzdec *d);
