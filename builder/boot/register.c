/* register.c — boot parameters registered with the boot manager; see
 * register.h. */
#include <errno.h>
#include <string.h>

#include "base/spawn.h"
#include "boot/proxmox.h"
#include "boot/register.h"

void boot_register_free(struct boot_register *b)
{
	strv_free(&b->params);
	grub_plan_free(&b->grub);
	strv_free(&b->regen);
	free(b->regen_missing);
	free(b->grub_default);
	free(b->once_entry);
	free(b->failed_cmd);
	kcmdline_plan_free(&b->kc);
	strv_free(&b->recorded);
	strv_free(&b->tool_params);
	strv_free(&b->tool_argv);
}

static int stop(struct boot_register *b, enum bootreg_stage s, int r)
{
	b->stage = s;
	return r;
}

static int run_tool(const struct boot_register *b, const struct strv *argv, struct acso_err *e)
{
	struct spawn_opts o = {.log_fd = b->log_fd};
	return spawn_check((const char *const *)argv->v, &o, e);
}

/* ---- GRUB ------------------------------------------------------------- */

static int grub_plan_all(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	b->grub = (struct grub_plan){.params = b->params, .remove = b->remove, .set_default_saved = b->set_default_saved};
	b->params = (struct strv){0};
	b->grub.grubd_read = grub_reads_dropins(rootfd);
	int r = grub_prepare(root, rootfd, &b->grub, e);
	if (r < 0)
		return stop(b, BR_PREPARE, r);
	if (b->once && !b->remove) {
		const char *d = grub_eval_var(&b->grub.after, "GRUB_DEFAULT");
		if (!d || strcmp(d, "saved")) {
			b->grub_default = d ? xstrdup(d) : NULL;
			return stop(b, BR_ONCE_NOT_SAVED, err_set(e, -ACSO_E_STATE, "grub-reboot needs GRUB_DEFAULT=saved"));
		}
	}
	b->must_regen = (b->grub.changed.n || b->grub.pending) && !b->no_update;
	if (b->must_regen || (b->once && !b->no_update)) {
		r = grub_regen_argv(root, rootfd, &b->regen, e);
		if (r < 0 && b->dry_run)
			b->regen_missing = xstrdup(e->msg);
		else if (r < 0)
			return stop(b, BR_REGEN_CMD, r);
	}
	return 0;
}

/* Regenerate grub.cfg; on failure put the files back. */
static int grub_regenerate(int rootfd, struct boot_register *b, struct acso_err *e)
{
	int r = run_tool(b, &b->regen, e);
	if (r < 0) {
		b->failed_cmd = strv_join(&b->regen);
		if (grub_rollback(rootfd, &b->grub, &b->rollback_err) < 0)
			return stop(b, BR_ROLLBACK, r);
		/* the files are as grub.cfg was made from, unless an earlier
		 * change was still waiting for regeneration */
		if (!b->grub.pending)
			grub_pending_clear(rootfd);
		return stop(b, BR_REGEN_RUN, r);
	}
	b->regenerated = true;
	grub_pending_clear(rootfd);
	return 0;
}

static int grub_once(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	int r = grub_entry_for(rootfd, b->once, &b->once_entry, e);
	if (r < 0)
		return stop(b, BR_ONCE_ENTRY, r);
	struct strv argv = {0};
	strv_push_chroot(&argv, root);
	strv_push(&argv, "grub-reboot");
	strv_push(&argv, b->once_entry);
	r = run_tool(b, &argv, e);
	strv_free(&argv);
	return r < 0 ? stop(b, BR_GRUB_REBOOT, r) : 0;
}

static int grub_apply_all(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	int r = grub_commit(rootfd, &b->grub, true, e);
	if (r < 0) {
		if (!b->grub.pending)
			grub_pending_clear(rootfd);
		return stop(b, BR_COMMIT, r);
	}
	if (b->must_regen && (r = grub_regenerate(rootfd, b, e)) < 0)
		return r;
	if (b->once && !b->remove)
		return grub_once(root, rootfd, b, e);
	return 0;
}

/* ---- kernelstub, grubby ----------------------------------------------- */

static int tool_plan(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	int r = boot_params_read(rootfd, &b->recorded, e);
	if (r < 0 && r != -ENOENT)
		return stop(b, BR_PREPARE, r);
	const struct strv *list = b->remove ? &b->recorded : &b->params;
	for (size_t i = 0; i < list->n; i++)
		strv_push(&b->tool_params, list->v[i]);
	if (b->remove && !list->n)
		return 0; /* nothing to take back */
	_cleanup_free_ char *line = strv_join(list);
	strv_push_chroot(&b->tool_argv, root);
	if (b->bm == BOOT_KERNELSTUB) { /* -a/-d edit; never -o, which replaces every option */
		strv_push(&b->tool_argv, "kernelstub");
		strv_push(&b->tool_argv, b->remove ? "-d" : "-a");
		strv_push(&b->tool_argv, line);
		return 0;
	}
	strv_push(&b->tool_argv, "grubby");
	strv_push(&b->tool_argv, "--update-kernel=ALL");
	if (!b->remove) {
		strv_pushf(&b->tool_argv, "--args=%s", line);
		return 0;
	}
	struct strv names = {0}; /* grubby takes names to remove */
	for (size_t i = 0; i < list->n; i++) {
		strv_push(&names, list->v[i]);
		names.v[i][strcspn(names.v[i], "=")] = '\0';
	}
	_cleanup_free_ char *name_line = strv_join(&names);
	strv_free(&names);
	strv_pushf(&b->tool_argv, "--remove-args=%s", name_line);
	return 0;
}

static int tool_apply(int rootfd, struct boot_register *b, struct acso_err *e)
{
	if (!b->tool_argv.n)
		return 0;
	int r = run_tool(b, &b->tool_argv, e);
	if (r < 0)
		return stop(b, BR_TOOL, r);
	/* what acso has added now: --remove took all; an add adds to it */
	for (size_t i = 0; !b->remove && i < b->params.n; i++)
		if (!strv_has(&b->recorded, b->params.v[i]))
			strv_push(&b->recorded, b->params.v[i]);
	r = boot_params_write(rootfd, b->remove ? NULL : &b->recorded, e);
	return r < 0 ? stop(b, BR_RECORD, r) : 0;
}

/* ---- both ------------------------------------------------------------- */

int boot_register_plan(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	b->bm = bootmgr_detect(rootfd);
	if (b->bm == BOOT_UNKNOWN && b->remove)
		return 0; /* nothing acso could have added: not an error for an undo */
	if (b->bm != BOOT_GRUB && b->once)
		return stop(b, BR_ONCE_NEEDS_GRUB, err_set(e, -ACSO_E_UNSUPPORTED, "--once needs GRUB"));
	switch (b->bm) {
	case BOOT_GRUB:
		/* update-grub refreshes those ESPs itself (Proxmox's grub.d header) */
		b->pve_grub = proxmox_boot_managed(rootfd);
		return grub_plan_all(root, rootfd, b, e);
	case BOOT_SYSTEMD_BOOT:
	case BOOT_PROXMOX: {
		int r = kcmdline_prepare(rootfd, &b->params, b->remove, &b->kc, e);
		if (r < 0)
			return stop(b, BR_PREPARE, r);
		/* proxmox-boot-tool makes the entries from the file: refresh them */
		b->must_regen = b->bm == BOOT_PROXMOX && b->kc.changed && !b->no_update;
		if (b->must_regen)
			proxmox_refresh_argv(root, &b->regen);
		return 0;
	}
	case BOOT_KERNELSTUB:
	case BOOT_GRUBBY:
		return tool_plan(root, rootfd, b, e);
	case BOOT_UNKNOWN:
		break;
	}
	return stop(b, BR_NO_MANAGER, err_set(e, -ACSO_E_NOTFOUND, "no supported boot manager found"));
}

int boot_register_apply(const char *root, int rootfd, struct boot_register *b, struct acso_err *e)
{
	switch (b->bm) {
	case BOOT_GRUB:
		return grub_apply_all(root, rootfd, b, e);
	case BOOT_SYSTEMD_BOOT:
	case BOOT_PROXMOX: {
		int r = kcmdline_commit(rootfd, &b->kc, e);
		if (r < 0)
			return stop(b, BR_COMMIT, r);
		if (!b->must_regen)
			return 0;
		/* a failed refresh leaves the old entries as they were: the
		 * file stays written for the next refresh (the command says so) */
		if ((r = run_tool(b, &b->regen, e)) < 0) {
			b->failed_cmd = strv_join(&b->regen);
			return stop(b, BR_REGEN_RUN, r);
		}
		b->regenerated = true;
		return 0;
	}
	case BOOT_KERNELSTUB:
	case BOOT_GRUBBY:
		return tool_apply(rootfd, b, e);
	case BOOT_UNKNOWN:
		break;
	}
	return 0;
}
