/* snapshot.h — capture what check, groups and verify read into one
 * .tar.gz (libarchive), and unpack such an archive safely so that --root
 * can replay it. */
#pragma once
#include <stddef.h>

#include "base/err.h"
#include "machine/iommu.h"

#define SNAPSHOT_ENTRY_MAX (1u << 20)     /* one captured file */
#define SNAPSHOT_TOTAL_MAX (64u << 20)    /* everything unpacked */
#define SNAPSHOT_ENTRIES_MAX 100000

struct snapshot_stats {
	size_t files, links, skipped;
};

/* Build the archive of the system below rootfd in memory (*out, *len,
 * malloc'ed). klog: the kernel log lines to store as var/log/dmesg (may be
 * NULL). */
int snapshot_build(int rootfd, const char *const *klog, size_t nklog, char **out, size_t *len,
		   struct snapshot_stats *st, struct acso_err *e);

/* Unpack archive `path` into the existing empty directory `dest`: regular
 * files, directories and symlinks only, no absolute or ".." paths, nothing
 * written through a symlink, sizes bounded. */
int snapshot_extract(const char *path, const char *dest, struct acso_err *e);

/* Does the file look like an archive we would unpack (.tar, .tar.gz, .tgz)? */
int snapshot_is_archive(const char *path);

/* The IOMMU report (with names) of the machine in snapshot archive `path`:
 * unpacked into a temp dir under $TMPDIR (or /tmp), read, removed. What
 * `acso verify` compares the running machine with. */
int snapshot_iommu_report(const char *path, struct iommu_report *r, struct acso_err *e);
