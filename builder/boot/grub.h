/* grub.h — boot parameters through GRUB, one job a file:
 *   grub-eval.c  /etc/default/grub + grub.d evaluated as grub-mkconfig does
 *   grub.c       the change planned (drop-in, else appended block), written,
 *                rolled back, and marked pending until grub.cfg is regenerated
 *   grub-menu.c  the regeneration command, menu entries, grub-set-default
 * The kernel command-line words are in cmdline.h, the other boot managers in
 * bootmgr.h. Core: never prints or exits. */
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

/* ---- grub-eval.c ---- */

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
/* Does ROOT's grub-mkconfig source /etc/default/grub.d/NAME.cfg? (true when
 * it cannot tell: every GRUB 2 of Debian and Ubuntu since 2.02 does). */
bool grub_reads_dropins(int rootfd);
/* The value NAME (e.g. GRUB_DEFAULT) has for grub-mkconfig now: the files
 * under ROOT/etc/default sourced as it sources them. *out is NULL when unset. */
int grub_effective_var(int rootfd, const char *name, char **out, struct acso_err *e);

/* ---- grub.c ---- */

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

/* ---- grub-menu.c ---- */

/* The regeneration command for ROOT: update-grub, else grub-mkconfig -o
 * /boot/grub/grub.cfg, else grub2-mkconfig -o /boot/grub2/grub.cfg; prefixed
 * with "chroot ROOT" when root is not "/". -ACSO_E_NOTFOUND if none. */
int grub_regen_argv(const char *root, int rootfd, struct strv *argv, struct acso_err *e);

/* The menu path grub-reboot/grub-set-default take for RELEASE, read from
 * ROOT/boot/grub/grub.cfg ("gnulinux-advanced-ID>gnulinux-REL-advanced-ID"). */
int grub_entry_for(int rootfd, const char *release, char **out, struct acso_err *e);
/* Make ENTRY (from grub_entry_for) the saved default entry: grub-set-default,
 * through chroot for an image. For `acso verify --make-default`; it takes
 * effect only with GRUB_DEFAULT=saved. */
int grub_set_default(const char *root, const char *entry, struct acso_err *e);
