/* register.h — register boot parameters with the machine's boot manager,
 * or take back what acso registered: GRUB (the drop-in planned by
 * grub_prepare, written, grub.cfg regenerated, every file put back when the
 * regeneration fails, grub-reboot for a one-time boot), systemd-boot
 * (/etc/kernel/cmdline), kernelstub and grubby (their own tools, with
 * acso's record of what it gave them). The plan/do of `acso grub` and the
 * IOMMU step of `acso setup`. Core: never prints; the tools' output goes
 * to log_fd. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "base/util.h"
#include "boot/bootmgr.h"
#include "boot/grub.h"

/* Where boot_register_plan/apply stopped when they fail. */
enum bootreg_stage {
	BR_OK,
	BR_NO_MANAGER,       /* no supported boot manager (an add) */
	BR_ONCE_NEEDS_GRUB,  /* --once with another boot manager */
	BR_PREPARE,          /* grub_prepare / kcmdline_prepare / the tools' record failed */
	BR_ONCE_NOT_SAVED,   /* --once: GRUB_DEFAULT is not "saved" (grub_default) */
	BR_REGEN_CMD,        /* no command regenerates grub.cfg */
	BR_COMMIT,           /* writing the files failed; they were put back */
	BR_REGEN_RUN,        /* the regeneration failed; the files were put back */
	BR_ROLLBACK,         /* ... and putting them back failed too (rollback_err) */
	BR_ONCE_ENTRY,       /* no menu entry for the --once release */
	BR_GRUB_REBOOT,      /* grub-reboot failed */
	BR_TOOL,             /* kernelstub / grubby failed */
	BR_RECORD,           /* the record of what acso gave them failed */
};

struct boot_register {
	/* the request */
	struct strv params;       /* what to add; taken over (freed by boot_register_free) */
	bool remove;              /* take back what acso added */
	bool no_update;           /* do not regenerate grub.cfg */
	bool set_default_saved;   /* also GRUB_DEFAULT=saved */
	const char *once;         /* release for grub-reboot, or NULL */
	bool dry_run;
	int log_fd;               /* the tools' output */
	/* found, planned, done */
	enum bootmgr bm;
	bool pve_grub;            /* GRUB's: proxmox-boot-tool keeps GRUB on the ESPs */
	enum bootreg_stage stage;
	/* GRUB */
	struct grub_plan grub;
	struct strv regen;        /* the regeneration command (empty: none needed or none found) */
	bool must_regen, regenerated;
	char *regen_missing;      /* dry run: why there is no regeneration command */
	char *grub_default;       /* BR_ONCE_NOT_SAVED: GRUB_DEFAULT now (NULL: unset) */
	char *once_entry;         /* the menu entry grub-reboot was given */
	char *failed_cmd;         /* BR_REGEN_RUN / BR_ROLLBACK: the command line */
	struct acso_err rollback_err;
	/* systemd-boot */
	struct kcmdline_plan kc;
	/* kernelstub, grubby */
	struct strv recorded;     /* the parameters acso gave them before */
	struct strv tool_params;  /* given (an add) or taken back (--remove) */
	struct strv tool_argv;    /* the command; empty when there is nothing to take back */
};
void boot_register_free(struct boot_register *b);

/* Find the boot manager (b->bm) and plan the change; nothing is written.
 * With --remove and no boot manager at all, bm is BOOT_UNKNOWN and the plan
 * is empty (0). Returns 0 or a negative code with b->stage and e set. */
int boot_register_plan(const char *root, int rootfd, struct boot_register *b, struct acso_err *e);

/* Write the planned change, regenerate, run grub-reboot or the boot
 * manager's tool; on a failure of GRUB's regeneration put every file back.
 * Returns 0 or a negative code with b->stage and e set. */
int boot_register_apply(const char *root, int rootfd, struct boot_register *b, struct acso_err *e);
