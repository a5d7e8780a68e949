/* boot-step.h — the boot-parameter step as `acso grub` and `acso setup`
 * show it: boot/register.h's plan and do, its messages and its report. */
#pragma once
#include <stdbool.h>

#include "boot/register.h"
#include "cli/acso.h"

enum boot_step_report {
	BOOT_REPORT_NONE,   /* the caller reports (acso setup --json) */
	BOOT_REPORT_OWN,    /* begin the command's report (acso grub) */
	BOOT_REPORT_INSIDE, /* inside the caller's text report (acso setup) */
};

/* Plan, show, write, regenerate; b's request is filled by the caller.
 * Returns an exit code; the caller ends the report (report_end). */
int boot_step(struct acso_ctx *ctx, struct boot_register *b, enum boot_step_report how);
