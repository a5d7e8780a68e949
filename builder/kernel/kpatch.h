/* kpatch.h — `acso patch`'s work, in memory and without printing: load the
 * extra patches (files, a directory, a git repository of *.patch), parse
 * them all and apply them in order (libgit2, diff.h) to a changeset of the
 * tree, all or nothing, then place the
 * ACS override on top (quirks.h); the changeset is written by the caller
 * (cs_commit) only when all of it succeeded. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "kernel/changeset.h"
#include "kernel/diff.h"
#include "kernel/quirks.h"

struct acso_err;

/* A --patch FILE (repo false) or --patches SPEC (git:URL[@REF] or PATH[@REF]). */
struct kpatch_source {
	bool repo;
	const char *spec;
};

/* Split "SPEC@REF" where REF is a git ref (no '/' after it, no ':'). */
char *kpatch_split_ref(const char *spec, char **ref);

struct kpatch_in {
	const char *src;          /* the tree */
	const char *frag_dir;     /* DATADIR/patches/acs-override */
	const char *work_dir;     /* where remote repositories are cached */
	const struct kpatch_source *sources;
	size_t nsources;
	bool allow_http;          /* git:http:// */
	/* told before a remote repository is fetched */
	void (*on_fetch)(void *priv, const char *where);
	void *priv;
};

/* Where the work stopped (the command words each). */
enum kpatch_stop {
	KP_DONE,
	KP_NO_TREE,       /* src cannot be opened: e.code -errno */
	KP_FRAGMENTS,     /* the override's fragments (e) */
	KP_NOT_KERNEL,    /* no code_file in src */
	KP_READ_FILE,     /* --patch sources[failed]: e.msg is why */
	KP_SOURCE,        /* --patches sources[failed] (e) */
	KP_PARSE,         /* a patch does not parse (e) */
	KP_APPLY,         /* a patch does not apply (e) */
	KP_TREE_READ,     /* a file of the tree (e) */
	KP_CODE_REMOVED,  /* a patch removed code_file */
	KP_PLACE,         /* the override cannot be placed (e) */
};

/* What each patch changed: per file, per hunk. */
struct kpatch_report {
	char *name;               /* "FILE", "DIR/x.patch", "URL:patches/x.patch" */
	struct diff_patch_report d;
};

struct kpatch {
	enum kpatch_stop stop;
	size_t failed;            /* KP_READ_FILE / KP_SOURCE: the source */
	int dirfd;
	struct quirks_fragments frags;
	bool have_frags;
	struct changeset cs;
	struct kpatch_report *patches;
	size_t npatches;
	struct quirks_result qr;
	struct buf diff;          /* the whole change, unified */
	struct strv changed;      /* paths that change */
};

/* Load, parse, apply, place. 0 with k->stop KP_DONE, or a negative code
 * with k->stop saying where it stopped. kpatch_free() in every case. */
int kpatch_prepare(const struct kpatch_in *in, struct kpatch *k, struct acso_err *e);
void kpatch_free(struct kpatch *k);
