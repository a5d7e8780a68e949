/* grub.h — boot parameters: the GRUB drop-in, the effective command line
 * computed the way grub-mkconfig computes it, the fallback edit, undo, and
 * the other boot managers' command lines. Core: never prints or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;

#define GRUB_DROPIN "/etc/default/grub.d/99-acso.cfg"
#define GRUB_DEFAULT_FILE "/etc/default/grub"
#define GRUB_DROPIN_DIR "/etc/default/grub.d"
/* Present while a change to /etc/default/grub* is not yet in grub.cfg. */
#define GRUB_PENDING "/var/lib/acso/grub-pending"

/* pcie_acs_override= grammar: downstream, multifunction, id:vvvv:dddd,
 * comma-combined, no spaces, at most 15 ids. 0 or -ACSO_E_PARSE. */
int acs_mode_check(const char *mode, struct acso_err *e);

/* "intel", "amd" or "unknown" from ROOT/proc/cpuinfo. */
const char *cpu_vendor(int rootfd);

/* Command-line helpers on white-space separated words. */
size_t cmdline_count(const char *cmdline, const char *name);   /* "name" or "name=..." */
size_t cmdline_count_word(const char *cmdline, const char *word); /* exactly word */
/* A copy of cmdline, words joined by one space. add: each params[i]
 * ("name=value") ends up exactly once and the user's words stay where they
 * are: a word already equal to it is kept in place, else the first word with
 * another value of its name is replaced in place, else it is appended; any
 * further word of the name goes. !add: every "name"/"name=..." word goes. */
char *cmdline_apply(const char *cmdline, const struct strv *params, bool add);

/* The sourced files of one evaluation and the values after each. */
struct grub_eval {
	struct strv files;      /* root paths, in the order grub-mkconfig sources them */
	struct strv after_linux;   /* GRUB_CMDLINE_LINUX after each file */
	struct strv after_default; /* GRUB_CMDLINE_LINUX_DEFAULT after each file */
	struct strv vars;       /* every GRUB_*=VALUE at the end, sorted */
	char *cmdline;          /* effective: LINUX + " " + LINUX_DEFAULT, trimmed */
};
void grub_eval_free(struct grub_eval *ev);
const char *grub_eval_var(const struct grub_eval *ev, const char *name); /* NULL when unset */

enum grub_method { GRUB_NONE, GRUB_METHOD_DROPIN, GRUB_METHOD_EDIT };

struct grub_plan {
	struct strv params;       /* "pcie_acs_override=downstream", ... */
	bool remove;              /* take back what acso added */
	bool set_default_saved;   /* also GRUB_DEFAULT=saved */
	bool grubd_read;          /* this grub-mkconfig sources grub.d/NAME.cfg */
	/* results */
	enum grub_method method;
	char *edited;             /* root path of the file the fallback edits */
	char *dropin_text;        /* the drop-in (NULL when not used) */
	struct strv changed;      /* root paths whose content changes */
	struct grub_eval before, after;
	bool crlf;                /* some file has CRLF line endings */
	bool pending;             /* a previous change was not regenerated yet */
	bool remove_dir;          /* --remove: grub.d was made by acso, remove it when empty */
	void *priv;               /* the files' old and new contents */
};
void grub_plan_free(struct grub_plan *p);

/* Does ROOT's grub-mkconfig source /etc/default/grub.d/NAME.cfg? (true when
 * it cannot tell: every GRUB 2 of Debian and Ubuntu since 2.02 does). */
bool grub_reads_dropins(int rootfd);

/* Compute the new contents of /etc/default/grub* (nothing written): the
 * drop-in, checked by evaluating the candidate files with /bin/sh; when a
 * later file overrides it (or grub.d is not read), an appended block at the
 * end of the last sourced file. Fills p's results. */
int grub_prepare(const char *root, int rootfd, struct grub_plan *p, struct acso_err *e);

/* Write the planned files (atomic, with backups); on any failure restore
 * every file written so far. Marks the change pending until regenerated. */
int grub_commit(int rootfd, struct grub_plan *p, bool mark_pending, struct acso_err *e);
/* Put every changed file back as it was before grub_commit. */
int grub_rollback(int rootfd, struct grub_plan *p, struct acso_err *e);
/* Clear the pending mark after a successful regeneration. */
void grub_pending_clear(int rootfd);

/* The regeneration command for ROOT: update-grub, else grub-mkconfig -o
 * /boot/grub/grub.cfg, else grub2-mkconfig -o /boot/grub2/grub.cfg; prefixed
 * with "chroot ROOT" when root is not "/". -ACSO_E_NOTFOUND if none. */
int grub_regen_argv(const char *root, int rootfd, struct strv *argv, struct acso_err *e);

/* The menu path grub-reboot/grub-set-default take for RELEASE, read from
 * ROOT/boot/grub/grub.cfg ("gnulinux-advanced-ID>gnulinux-REL-advanced-ID"). */
int grub_entry_for(int rootfd, const char *release, char **out, struct acso_err *e);
/* The value NAME (e.g. GRUB_DEFAULT) has for grub-mkconfig now: the files
 * under ROOT/etc/default sourced as it sources them. *out is NULL when unset. */
int grub_effective_var(int rootfd, const char *name, char **out, struct acso_err *e);
/* Make ENTRY (from grub_entry_for) the saved default entry: grub-set-default,
 * through chroot for an image. For `acso verify --make-default`; it takes
 * effect only with GRUB_DEFAULT=saved. */
int grub_set_default(const char *root, const char *entry, struct acso_err *e);

/* Boot managers other than GRUB. */
enum bootmgr { BOOT_GRUB, BOOT_SYSTEMD_BOOT, BOOT_KERNELSTUB, BOOT_GRUBBY, BOOT_UNKNOWN };
enum bootmgr bootmgr_detect(int rootfd);
const char *bootmgr_name(enum bootmgr b);
/* systemd-boot + kernel-install: /etc/kernel/cmdline, undone exactly. acso
 * keeps the file from before its first add as KCMDLINE_FILE.acso-bak and in
 * KCMDLINE_RECORD what it last wrote and the words it added. */
#define KCMDLINE_FILE "/etc/kernel/cmdline"
#define KCMDLINE_RECORD "/var/lib/acso/kernel-cmdline"

enum kcmdline_undo {
	KC_UNDO_NONE,    /* an add, or nothing of acso's to remove */
	KC_UNDO_RESTORE, /* the file from before acso's first add comes back */
	KC_UNDO_DELETE,  /* acso created the file: it goes */
	KC_UNDO_WORDS,   /* the file changed since acso wrote it: only acso's words go */
};

struct kcmdline_plan {
	bool remove;
	char *cur;                /* the file now, NULL: absent */
	size_t cur_len;
	char *text;               /* planned content, NULL: no file */
	size_t text_len;
	bool changed;             /* text differs from cur */
	enum kcmdline_undo undo;
	struct strv words;        /* the parameters added, or the words --remove takes out */
	/* for kcmdline_commit */
	bool backup, make_dir, remove_dir, record_changed;
	char *record;             /* NULL with record_changed: delete the record */
	size_t record_len;
};
/* Plan an add of params (cmdline_apply on the file, or on what kernel-install
 * uses without it) or the undo of acso's adds. Nothing is written; a second
 * add with the same params plans no change. */
int kcmdline_prepare(int rootfd, const struct strv *params, bool remove, struct kcmdline_plan *p,
		     struct acso_err *e);
/* Write the backup, the record and the file, in an order that a kill at any
 * point leaves readable by the next kcmdline_prepare. */
int kcmdline_commit(int rootfd, const struct kcmdline_plan *p, struct acso_err *e);
void kcmdline_plan_free(struct kcmdline_plan *p);

/* kernelstub and grubby keep the command line themselves: acso records the
 * parameters it gave them, which --remove takes out again. */
#define BOOT_PARAMS_RECORD "/var/lib/acso/boot-params"
/* Append the recorded parameters to params; -ENOENT when there is no record. */
int boot_params_read(int rootfd, struct strv *params, struct acso_err *e);
/* Record params; none (NULL or empty): delete the record. */
int boot_params_write(int rootfd, const struct strv *params, struct acso_err *e);
