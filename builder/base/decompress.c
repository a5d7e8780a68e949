/* decompress.c — a compressed file as a plain byte stream (see decompress.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <lzma.h>

#include "base/decompress.h"
#include "base/util.h"

struct decomp {
	struct archive *a;
	const char *filter;
};

static const char *const suffixes[] = {".xz", ".gz", ".bz2", ".zst", ".lzma"};

/* libarchive runs an external program (lrzip, lzop, grzip, ... found on
 * PATH) for a filter it was not built with, and archive_read_support_filter_all
 * registers those too: data from outside would choose a program to run. A
 * filter is enabled only when libarchive carries its library, which the
 * *_version() functions tell before anything is registered. */
int decomp_support_builtin(struct archive *a, unsigned filters)
{
	int n = 0;
	if ((filters & DECOMP_XZ) && archive_liblzma_version()) {
		n += archive_read_support_filter_xz(a) == ARCHIVE_OK;
		n += archive_read_support_filter_lzma(a) == ARCHIVE_OK;
	}
	if ((filters & DECOMP_GZIP) && archive_zlib_version())
		n += archive_read_support_filter_gzip(a) == ARCHIVE_OK;
	if ((filters & DECOMP_BZIP2) && archive_bzlib_version())
		n += archive_read_support_filter_bzip2(a) == ARCHIVE_OK;
	if ((filters & DECOMP_ZSTD) && archive_libzstd_version())
		n += archive_read_support_filter_zstd(a) == ARCHIVE_OK;
	archive_read_support_filter_none(a);
	return n;
}

int decomp_suffix(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (endswith(name, suffixes[i]))
			return 1;
	return 0;
}

int decomp_open_fd(int fd, struct decomp **out, struct acso_err *e)
{
	*out = NULL;
	struct archive *a = archive_read_new();
	if (!a)
		abort();
	decomp_support_builtin(a, DECOMP_ALL);
	archive_read_support_format_raw(a);
	struct archive_entry *ent;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		int r = err_set(e, -ACSO_E_PARSE, "cannot decompress: %s", archive_error_string(a) ?
				archive_error_string(a) : "unknown format");
		archive_read_free(a);
		return r;
	}
	struct decomp *d = xcalloc(1, sizeof(*d));
	d->a = a;
	d->filter = archive_filter_name(a, 0);
	*out = d;
	return 0;
}

ssize_t decomp_read(struct decomp *d, void *buf, size_t n, struct acso_err *e)
{
	la_ssize_t r = archive_read_data(d->a, buf, n);
	if (r < 0)
		return err_set(e, -ACSO_E_PARSE, "decompress: %s", archive_error_string(d->a) ?
			       archive_error_string(d->a) : "corrupt data");
	return r;
}

const char *decomp_filter(struct decomp *d)
{
	return d->filter ? d->filter : "none";
}

void decomp_close(struct decomp *d)
{
	if (!d)
		return;
	archive_read_free(d->a);
	free(d);
}

/* ---- xz on liblzma ------------------------------------------------------ */

struct xzdec {
	lzma_stream s;
};

int xzdec_magic(const void *buf, size_t n)
{
	static const unsigned char magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
	return n >= sizeof(magic) && !memcmp(buf, magic, sizeof(magic));
}

int xzdec_new(unsigned threads, struct xzdec **out, struct acso_err *e)
{
	struct xzdec *d = xcalloc(1, sizeof(*d));
	d->s = (lzma_stream)LZMA_STREAM_INIT;
	/* Like xz -dc: concatenated streams; LZMA_FAIL_FAST reports a broken
	 * block as soon as a thread finds it, not after the blocks before it. */
	lzma_mt mt = {
		.flags = LZMA_CONCATENATED | LZMA_FAIL_FAST,
		.threads = threads ? threads : 1,
		.timeout = 0,
		.memlimit_threading = XZDEC_MEMLIMIT,
		.memlimit_stop = XZDEC_MEMLIMIT,
	};
	lzma_ret r = lzma_stream_decoder_mt(&d->s, &mt);
	if (r != LZMA_OK) {
		free(d);
		return err_set(e, r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL, "decompress: cannot start the xz decoder (liblzma %d)", (int)r);
	}
	*out = d;
	return 0;
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR: return "not in the .xz format";
	case LZMA_OPTIONS_ERROR: return "unsupported .xz options";
	case LZMA_DATA_ERROR: return "compressed data is corrupt";
	case LZMA_BUF_ERROR: return "compressed data is truncated";
	case LZMA_MEMLIMIT_ERROR: return "needs more memory than the limit";
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_UNSUPPORTED_CHECK: return "unsupported integrity check";
	default: return "liblzma error";
	}
}

int xzdec_run(struct xzdec *d, const unsigned char **in, size_t *in_len, unsigned char **out,
	      size_t *out_len, int finish, struct acso_err *e)
{
	d->s.next_in = *in;
	d->s.avail_in = *in_len;
	d->s.next_out = *out;
	d->s.avail_out = *out_len;
	lzma_ret r = lzma_code(&d->s, finish ? LZMA_FINISH : LZMA_RUN);
	*in = d->s.next_in;
	*in_len = d->s.avail_in;
	*out = d->s.next_out;
	*out_len = d->s.avail_out;
	if (r == LZMA_STREAM_END)
		return 1;
	if (r == LZMA_OK)
		return 0;
	/* LZMA_BUF_ERROR at LZMA_FINISH: the input ended inside the stream */
	return err_set(e, -ACSO_E_PARSE, "decompress: %s", lzma_why(r));
}

void xzdec_free(struct xzdec *d)
{
	if (!d)
		return;
	lzma_end(&d->s);
	free(d);
}
