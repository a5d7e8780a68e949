/* unpack.h — one-pass, safe extraction of a kernel tarball (libarchive).
 *
 * The compressed bytes are fed in as they arrive (from a download or a
 * file). One thread decompresses (xz with liblzma, which adds worker threads
 * for a file of several blocks; gzip, bzip2 with libarchive's built-in
 * filters); another reads the tar stream,
 * hands every decompressed byte, in order, to tar_data() (the .tar.sign is
 * over the uncompressed tar) and extracts into a staging directory with
 * libarchive's secure flags (no "..", no absolute paths, no writing through
 * symlinks). Refused besides: device nodes, fifos and sockets, hard links
 * that leave the tree, entries over max_entry, a total over max_total, more
 * than one top-level directory, more than UNPACK_TAIL_SLACK bytes after the
 * end of the archive, a tree that would not fit in the free space (less
 * UNPACK_DISK_RESERVE). Set-id and sticky bits and write permission for
 * others are dropped; files belong to the extracting user. The single
 * top-level directory is stripped
 * whatever its name ("linux-6.6.5/", "linux-source-6.1/").
 * The caller owns the staging directory: it renames it into place after
 * every check passed, and removes it otherwise.
 *
 * (Named unpack, not archive: with -Ibuilder a builder/archive.h would
 * shadow libarchive's own <archive.h>.) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acso_err;

#define UNPACK_MAX_ENTRY   (256ull << 20)  /* one file in a kernel tree */
#define UNPACK_MAX_TOTAL   (8ull << 30)    /* a whole tree (6.x: 1.3 GB) */
#define UNPACK_MAX_ENTRIES 2000000ull
/* After the tar end-of-archive blocks: the padding to a 10 KiB record, and
 * a margin. Anything longer is refused, not decompressed for ever. */
#define UNPACK_TAIL_SLACK  (1ull << 20)
/* Extraction stops before the entries would leave less free space. */
#define UNPACK_DISK_RESERVE (64ull << 20)

struct unpack_opts {
	uint64_t max_entry, max_total, max_entries; /* 0: the defaults above */
	/* Every byte of the decompressed stream, in order (from the extraction
	 * thread; keep it thread-safe with respect to nothing else). */
	void (*tar_data)(void *priv, const void *buf, size_t n);
	void *priv;
};

struct unpack_result {
	char top[256];          /* the stripped top-level directory */
	uint64_t entries;       /* entries extracted */
	uint64_t bytes;         /* file bytes written */
	uint64_t tar_bytes;     /* decompressed stream length */
};

struct unpack;

/* Start the pipeline extracting into the directory stage_dir (must exist,
 * empty). Returns 0 or -errno. */
int unpack_begin(const char *stage_dir, const struct unpack_opts *o, struct unpack **u,
		 struct acso_err *e);
/* Compressed bytes. Returns 0, or the pipeline's error once it has failed
 * (the detail comes from unpack_end). */
int unpack_feed(struct unpack *u, const void *buf, size_t n);
/* Forget everything fed so far and start over (a download restarted from
 * byte 0). The staging directory is emptied. */
int unpack_restart(struct unpack *u, struct acso_err *e);
/* End of input: wait for both threads. 0 when the archive was whole and
 * every entry extracted; else the first error, with "which entry, why" in e.
 * Frees u. */
int unpack_end(struct unpack *u, struct unpack_result *res, struct acso_err *e);
/* Stop and free without waiting for more input. */
void unpack_abort(struct unpack *u);
/* Entries extracted so far (for progress; racy by design). */
uint64_t unpack_progress(const struct unpack *u);

