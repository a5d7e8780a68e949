/* boot-step.c — see boot-step.h. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/boot-step.h"
#include "cli/output.h"
#include "cli/report.h"

/* Why the step stopped, as acso grub has always said it. Returns the exit code. */
static int step_failed(const struct boot_register *b, const struct acso_err *e, int r)
{
	const char *bm = bootmgr_name(b->bm);
	switch (b->stage) {
	case BR_NO_MANAGER: {
		_cleanup_free_ char *line = strv_join(&b->params);
		msg_error("boot parameters: no supported boot manager found (GRUB, systemd-boot, kernelstub, grubby)");
		msg_hint("add these to your boot loader's kernel command line yourself: %s", line);
		return EXIT_FAIL;
	}
	case BR_ONCE_NEEDS_GRUB:
		msg_error("--once: needs GRUB (found %s)", bm);
		return EXIT_FAIL;
	case BR_PREPARE:
	case BR_COMMIT:
		if (bootmgr_uses_kcmdline(b->bm))
			return fail(e, r, "%s", bm);
		if (b->bm != BOOT_GRUB)
			return fail(e, r, "%s", bm);
		fail(e, r, "grub");
		if (b->stage == BR_COMMIT)
			msg_hint("every file was put back as it was");
		else if (r == -ACSO_E_PARSE)
			msg_hint("fix the file so that 'sh -n' accepts it; nothing was changed");
		return EXIT_FAIL;
	case BR_ONCE_NOT_SAVED:
		msg_error("--once: grub-reboot needs GRUB_DEFAULT=saved (it is '%s')", b->grub_default ? b->grub_default : "0");
		msg_hint("add --set-default-saved to set it in acso's drop-in");
		return EXIT_FAIL;
	case BR_REGEN_CMD:
		fail(e, r, "grub");
		msg_hint("install grub2-common (update-grub), or add --no-update and regenerate grub.cfg yourself");
		return EXIT_FAIL;
	case BR_REGEN_RUN:
		fail(e, r, "'%s'", b->failed_cmd);
		if (b->bm == BOOT_PROXMOX) {
			msg_hint("%s is written but the boot entries are as before: run 'proxmox-boot-tool refresh' "
				 "once it works, or 'acso grub --remove' to take the parameters back", KCMDLINE_FILE);
			return EXIT_FAIL;
		}
		msg_hint("every file under /etc/default was put back as it was; fix the error above and run 'acso grub' again");
		return EXIT_FAIL;
	case BR_ROLLBACK:
		fail(e, r, "'%s'", b->failed_cmd);
		msg_error("restoring the files failed too: %s", b->rollback_err.msg);
		return EXIT_FAIL;
	case BR_ONCE_ENTRY:
		fail(e, r, "--once");
		msg_hint("install the kernel first ('acso install'), then regenerate grub.cfg");
		return EXIT_FAIL;
	case BR_GRUB_REBOOT:
		return fail(e, r, "grub-reboot");
	case BR_TOOL:
		return fail(e, r, "%s", bm);
	case BR_RECORD:
		return fail(e, r, "%s", bm);
	case BR_OK:
		break;
	}
	return fail(e, r, "grub");
}

static void grub_warnings(const struct boot_register *b)
{
	const struct grub_plan *p = &b->grub;
	if (p->crlf)
		msg_warn("a file under /etc/default has CRLF line endings; grub-mkconfig reads the CR as part of the values");
	if (!p->grubd_read && !b->remove)
		msg_warn("this grub-mkconfig does not read /etc/default/grub.d: editing %s instead", p->edited);
	else if (p->method == GRUB_METHOD_EDIT)
		msg_warn("a later file assigns GRUB_CMDLINE_LINUX_DEFAULT again: appended the parameters to %s instead of a drop-in",
			 p->edited);
	if (b->regen_missing)
		msg_warn("%s: the change could not be put into grub.cfg", b->regen_missing);
}

static void report_grub(const struct acso_ctx *ctx, const struct boot_register *b)
{
	const struct grub_plan *p = &b->grub;
	bool dry = ctx->dry_run;
	_cleanup_free_ char *params = strv_join(&p->params);
	_cleanup_free_ char *regen = strv_join(&b->regen);
	rp_string(RP_JSON, "boot_manager", NULL, "grub");
	rp_bool(RP_JSON, "proxmox_boot_grub", NULL, b->pve_grub);
	if (b->pve_grub)
		rp_text("Proxmox VE: proxmox-boot-tool keeps GRUB on the ESPs (legacy BIOS or Secure Boot); "
			"update-grub refreshes them\n");
	rp_json("parameters", json_from_strv(&p->params));
	if (b->remove)
		rp_text("Removing the boot parameters acso added\n");
	else
		rp_text("Boot parameters: %s\n", params);
	rp_bool(RP_JSON, "remove", NULL, b->remove);
	rp_string(RP_JSON, "method", NULL, p->method == GRUB_METHOD_DROPIN ? "drop-in" :
					   p->method == GRUB_METHOD_EDIT ? "edit" : "none");
	rp_string(RP_JSON, "file", NULL, p->method == GRUB_METHOD_DROPIN ? GRUB_DROPIN : p->edited);
	if (p->method == GRUB_METHOD_DROPIN)
		rp_text("Method: drop-in %s\n", GRUB_DROPIN);
	else if (p->method == GRUB_METHOD_EDIT)
		rp_text("Method: appended block at the end of %s\n", p->edited);
	if (dry && p->dropin_text)
		rp_text("\n--- %s\n%s---\n\n", GRUB_DROPIN, p->dropin_text);
	rp_bool(RP_JSON, "grub_d_read", NULL, p->grubd_read);
	rp_string(RP_ANY, "cmdline_before", "Kernel command line before: %s\n", p->before.cmdline);
	rp_string(RP_ANY, "cmdline", "Kernel command line after:  %s\n", p->after.cmdline);
	rp_json("changed", json_from_strv(&p->changed));
	if (!p->changed.n)
		rp_text("%s\n", b->remove ? "Nothing to remove: acso had added nothing" : "Already registered: no file changes");
	for (size_t i = 0; i < p->changed.n; i++)
		rp_text("%s %s\n", dry ? "Would change:" : "Changed:", p->changed.v[i]);
	rp_string(RP_JSON, "dropin", NULL, p->dropin_text);
	if (b->regen.n)
		rp_json("regenerate", json_from_strv(&b->regen));
	else
		rp_null(RP_JSON, "regenerate", NULL);
	if (b->regen.n)
		rp_text("%s %s\n", dry ? "Would run:" : b->regenerated ? "Regenerated with:" : "Not run:", regen);
	rp_bool(RP_JSON, "regenerated", NULL, b->regenerated);
	rp_string(RP_ANY, "once", "Next boot only: %s (grub-reboot)\n", b->once_entry);
	rp_bool(RP_JSON, "dry_run", NULL, dry);
}

static void report_kcmdline(const struct acso_ctx *ctx, const struct boot_register *b)
{
	static const char *const undo[] = {"none", "restore", "delete", "parameters"};
	const struct kcmdline_plan *p = &b->kc;
	bool dry = ctx->dry_run;
	_cleanup_free_ char *words = strv_join(&p->words);
	_cleanup_free_ char *regen = strv_join(&b->regen);
	rp_string(RP_ANY, "boot_manager", "Boot manager: %s\n", bootmgr_name(b->bm));
	rp_json("parameters", json_from_strv(&p->words));
	if (!b->remove)
		rp_text("Boot parameters: %s\n", words);
	else if (p->words.n)
		rp_text("Removing the boot parameters acso added: %s\n", words);
	rp_bool(RP_JSON, "remove", NULL, b->remove);
	rp_string(RP_JSON, "file", NULL, KCMDLINE_FILE);
	rp_string(RP_JSON, "cmdline_file", NULL, p->text);
	rp_open_array("changed");
	if (p->changed)
		rp_string(RP_JSON, NULL, NULL, KCMDLINE_FILE);
	rp_close_array();
	rp_string(RP_JSON, "undo", NULL, undo[p->undo]);
	rp_bool(RP_JSON, "dry_run", NULL, dry);
	if (!p->changed)
		rp_text("%s\n", !b->remove ? "Already registered: no file changes" :
				p->undo == KC_UNDO_NONE ? "Nothing to remove: acso had added nothing" :
							  "Nothing to change: acso's parameters are gone already");
	else if (p->undo == KC_UNDO_RESTORE)
		rp_text("%s %s as it was before acso (from %s.acso-bak)\n", dry ? "Would restore" : "Restored",
			KCMDLINE_FILE, KCMDLINE_FILE);
	else if (p->undo == KC_UNDO_DELETE)
		rp_text("%s %s: acso had created it\n", dry ? "Would delete" : "Deleted", KCMDLINE_FILE);
	else
		rp_text("%s %s: %s", dry ? "Would write" : "Wrote", KCMDLINE_FILE, p->text);
	if (b->bm != BOOT_PROXMOX)
		return;
	rp_json("regenerate", json_from_strv(&b->regen));
	rp_bool(RP_JSON, "regenerated", NULL, b->regenerated);
	if (b->regen.n)
		rp_text("%s %s\n", dry ? "Would run:" : b->regenerated ? "Regenerated with:" : "Not run:", regen);
}

static void report_tool(const struct acso_ctx *ctx, const struct boot_register *b)
{
	_cleanup_free_ char *line = strv_join(&b->tool_params);
	_cleanup_free_ char *cmd = strv_join(&b->tool_argv);
	rp_string(RP_ANY, "boot_manager", "Boot manager: %s\n", bootmgr_name(b->bm));
	rp_json("parameters", json_from_strv(&b->tool_params));
	rp_bool(RP_JSON, "remove", NULL, b->remove);
	if (b->tool_argv.n)
		rp_json("command", json_from_strv(&b->tool_argv));
	else
		rp_null(RP_JSON, "command", NULL);
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	if (!b->tool_argv.n)
		rp_text("Nothing to remove: acso had added nothing\n");
	else
		rp_text("Boot parameters: %s%s\n%s: %s\n", line, b->remove ? " (removing)" : "",
			ctx->dry_run ? "Would run" : "Running", cmd);
}

static void report_step(const struct acso_ctx *ctx, const struct boot_register *b, enum boot_step_report how)
{
	if (how == BOOT_REPORT_NONE)
		return;
	if (how == BOOT_REPORT_OWN)
		report_begin(ctx);
	if (b->bm == BOOT_GRUB)
		report_grub(ctx, b);
	else if (bootmgr_uses_kcmdline(b->bm))
		report_kcmdline(ctx, b);
	else
		report_tool(ctx, b);
	fflush(stdout);
}

/* What to do next, after the change. */
static void step_hints(const struct acso_ctx *ctx, const struct boot_register *b)
{
	if (b->bm == BOOT_SYSTEMD_BOOT && !ctx->dry_run && b->kc.changed)
		msg_hint("kernel-install reads %s when a kernel is installed: %s", KCMDLINE_FILE,
			 b->remove ? "boot entries made before keep acso's parameters until their kernel is reinstalled"
				   : "install (or reinstall) the ACS kernel after this");
	if (b->bm == BOOT_GRUB && !ctx->dry_run && b->no_update && b->grub.changed.n)
		msg_hint("run update-grub yourself before rebooting");
}

int boot_step(struct acso_ctx *ctx, struct boot_register *b, enum boot_step_report how)
{
	struct acso_err e = {0};
	b->dry_run = ctx->dry_run;
	int r = boot_register_plan(ctx->root, ctx->rootfd, b, &e);
	if (r < 0 && (b->stage == BR_ONCE_NOT_SAVED || b->stage == BR_REGEN_CMD))
		grub_warnings(b); /* the files were read: what they say comes first */
	if (r < 0)
		return step_failed(b, &e, r);
	if (b->bm == BOOT_UNKNOWN) { /* --remove with no boot manager */
		if (how == BOOT_REPORT_NONE)
			return EXIT_OK;
		if (how == BOOT_REPORT_OWN)
			report_begin(ctx);
		rp_string(RP_JSON, "boot_manager", NULL, "unknown");
		rp_bool(RP_JSON, "remove", NULL, true);
		rp_open_array("changed");
		rp_close_array();
		rp_text("Nothing to remove: no boot manager configuration found\n");
		return EXIT_OK;
	}
	if (b->bm == BOOT_GRUB)
		grub_warnings(b);
	/* kernelstub and grubby: say what runs before it runs */
	bool tool = b->bm == BOOT_KERNELSTUB || b->bm == BOOT_GRUBBY;
	if (tool)
		report_step(ctx, b, how);
	if (!ctx->dry_run && (r = boot_register_apply(ctx->root, ctx->rootfd, b, &e)) < 0)
		return step_failed(b, &e, r);
	if (bootmgr_uses_kcmdline(b->bm) && b->kc.undo == KC_UNDO_WORDS) {
		_cleanup_free_ char *words = strv_join(&b->kc.words);
		msg_warn("'%s' changed since acso wrote it: took out only acso's parameters (%s), kept the rest",
			 KCMDLINE_FILE, words);
	}
	if (!tool)
		report_step(ctx, b, how);
	step_hints(ctx, b);
	return EXIT_OK;
}
