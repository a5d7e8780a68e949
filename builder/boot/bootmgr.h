/* bootmgr.h — the boot managers other than GRUB (see grub.h for GRUB):
 * which one a root uses, systemd-boot's /etc/kernel/cmdline with an exact
 * undo, and the record of what acso gave kernelstub or grubby.
 * Core: never prints or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;

/* Boot managers. BOOT_PROXMOX: proxmox-boot-tool's systemd-boot, which
 * also takes /etc/kernel/cmdline (then `proxmox-boot-tool refresh`). */
enum bootmgr { BOOT_GRUB, BOOT_SYSTEMD_BOOT, BOOT_KERNELSTUB, BOOT_GRUBBY, BOOT_UNKNOWN, BOOT_PROXMOX };
/* kernelstub (Pop!_OS), grubby, proxmox-boot-tool (/etc/kernel/proxmox-boot-uuids),
 * systemd-boot as installed on the ESP (/efi, /boot/efi or /boot: its
 * EFI/systemd/ loader, loader/entries/ or loader/loader.conf), GRUB
 * (/etc/default/grub), else systemd-boot when /etc/kernel/cmdline exists.
 * kernel-install alone says nothing: Debian's systemd ships it always. */
enum bootmgr bootmgr_detect(int rootfd);
/* systemd-boot is installed on an ESP below rootfd. */
bool bootmgr_sdboot_on_esp(int rootfd);
/* The boot manager reads /etc/kernel/cmdline (systemd-boot, proxmox-boot-tool). */
bool bootmgr_uses_kcmdline(enum bootmgr b);
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
