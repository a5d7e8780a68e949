/* cmd-grub.c — `acso grub`: register pcie_acs_override= and the IOMMU
 * switch as boot parameters (GRUB drop-in, or the system's other boot
 * manager), regenerate the menu, undo, and the one-time first boot. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd-grub.h"
#include "cli/commands.h"
#include "base/err.h"
#include "base/fileio.h"
#include "boot/grub.h"
#include "boot/params.h"
#include "cli/output.h"
#include "base/spawn.h"
#include "base/util.h"

enum { O_ACS = 300, O_IOMMU_PT, O_NO_INTEL, O_INTEL, O_NO_UPDATE, O_REMOVE, O_ONCE, O_SAVED, O_VFIO, O_GPU };

const struct acso_option grub_options[] = {
	{"acs", O_ACS, "MODE", "pcie_acs_override= value: downstream (default), multifunction, id:vvvv:dddd, comma-combined, or auto (what 'acso groups' recommends)"},
	{"vfio", O_VFIO, NULL, "also add vfio-pci.ids= of the GPU's own functions (refused when its group holds the root disk or the default-route NIC)"},
	{"gpu", O_GPU, "ADDR", "the GPU for --acs auto and --vfio (default: the first that shares its group)"},
	{"iommu-pt", O_IOMMU_PT, NULL, "also add iommu=pt"},
	{"intel-iommu", O_INTEL, NULL, "add intel_iommu=on even when the CPU is not Intel"},
	{"no-intel-iommu", O_NO_INTEL, NULL, "do not add intel_iommu=on (default: added on Intel CPUs)"},
	{"no-update", O_NO_UPDATE, NULL, "write the files but do not run update-grub"},
	{"remove", O_REMOVE, NULL, "take back exactly what acso added"},
	{"once", O_ONCE, "RELEASE", "boot RELEASE once on the next boot (grub-reboot)"},
	{"set-default-saved", O_SAVED, NULL, "also set GRUB_DEFAULT=saved (needed by --once)"},
	{0},
};

static int on_opt(void *priv, int key, const char *arg)
{
	struct grub_request *rq = priv;
	switch (key) {
	case O_ACS:
		rq->acs = arg;
		return 0;
	case O_IOMMU_PT:
		rq->iommu_pt = true;
		return 0;
	case O_INTEL:
		rq->intel_iommu = 1;
		return 0;
	case O_NO_INTEL:
		rq->intel_iommu = 0;
		return 0;
	case O_NO_UPDATE:
		rq->no_update = true;
		return 0;
	case O_REMOVE:
		rq->remove = true;
		return 0;
	case O_ONCE:
		rq->once = arg;
		return 0;
	case O_SAVED:
		rq->set_default_saved = true;
		return 0;
	case O_VFIO:
		rq->vfio = true;
		return 0;
	case O_GPU:
		rq->gpu = arg;
		return 0;
	}
	return EXIT_USAGE;
}

struct json_object *json_from_strv(const struct strv *s)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

char *argv_join(const struct strv *s)
{
	struct buf b = {0};
	for (size_t i = 0; i < s->n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", s->v[i]);
	char *r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/* Run a boot-manager command, its output on stderr. */
static int run_tool(const struct strv *argv, struct acso_err *e)
{
	struct spawn_opts o = {.log_fd = STDERR_FILENO};
	return spawn_check((const char *const *)argv->v, &o, e);
}

static int need_root(const struct acso_ctx *ctx, const char *what)
{
	if (ctx->dry_run || geteuid() == 0)
		return 0;
	msg_error("%s: changing the boot configuration needs root", what);
	msg_hint("run it again with sudo, or add --dry-run to see what would change");
	return EXIT_NEED_ROOT;
}

/* systemd-boot: /etc/kernel/cmdline, which kernel-install reads. */
static int systemd_boot(struct acso_ctx *ctx, const struct grub_request *rq, const struct strv *params)
{
	struct acso_err e = {0};
	struct kcmdline_plan p = {0};
	int r = kcmdline_prepare(ctx->rootfd, params, rq->remove, &p, &e);
	if (r == 0 && !ctx->dry_run)
		r = kcmdline_commit(ctx->rootfd, &p, &e);
	if (r < 0) {
		kcmdline_plan_free(&p);
		return fail(&e, r, "grub: systemd-boot");
	}
	_cleanup_free_ char *words = argv_join(&p.words);
	if (p.undo == KC_UNDO_WORDS)
		msg_warn("grub: '%s' changed since acso wrote it: took out only acso's parameters (%s), kept the rest",
			 KCMDLINE_FILE, words);
	if (rq->no_report) {
		/* the caller (acso setup) reports */
	} else if (ctx->json) {
		static const char *const undo[] = {"none", "restore", "delete", "parameters"};
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "boot_manager", json_object_new_string("systemd-boot"));
		json_object_object_add(o, "parameters", json_from_strv(&p.words));
		json_object_object_add(o, "remove", json_object_new_boolean(rq->remove));
		json_object_object_add(o, "file", json_object_new_string(KCMDLINE_FILE));
		json_object_object_add(o, "cmdline_file", p.text ? json_object_new_string(p.text) : NULL);
		struct json_object *changed = json_object_new_array();
		if (p.changed)
			json_object_array_add(changed, json_object_new_string(KCMDLINE_FILE));
		json_object_object_add(o, "changed", changed);
		json_object_object_add(o, "undo", json_object_new_string(undo[p.undo]));
		json_object_object_add(o, "dry_run", json_object_new_boolean(ctx->dry_run));
		out_json(o);
		json_object_put(o);
	} else {
		bool dry = ctx->dry_run;
		printf("Boot manager: systemd-boot\n");
		if (!rq->remove)
			printf("Boot parameters: %s\n", words);
		else if (p.words.n)
			printf("Removing the boot parameters acso added: %s\n", words);
		if (!p.changed)
			printf("%s\n", !rq->remove ? "Already registered: no file changes" :
				       p.undo == KC_UNDO_NONE ? "Nothing to remove: acso had added nothing" :
								"Nothing to change: acso's parameters are gone already");
		else if (p.undo == KC_UNDO_RESTORE)
			printf("%s %s as it was before acso (from %s.acso-bak)\n", dry ? "Would restore" : "Restored",
			       KCMDLINE_FILE, KCMDLINE_FILE);
		else if (p.undo == KC_UNDO_DELETE)
			printf("%s %s: acso had created it\n", dry ? "Would delete" : "Deleted", KCMDLINE_FILE);
		else
			printf("%s %s: %s", dry ? "Would write" : "Wrote", KCMDLINE_FILE, p.text);
	}
	if (!ctx->dry_run && p.changed)
		msg_hint("kernel-install reads %s when a kernel is installed: %s", KCMDLINE_FILE,
			 rq->remove ? "boot entries made before keep acso's parameters until their kernel is reinstalled"
				    : "install (or reinstall) the ACS kernel after this");
	kcmdline_plan_free(&p);
	return EXIT_OK;
}

/* kernelstub, grubby: their own tools edit their configuration. acso
 * records the parameters it gave them: --remove takes out those. */
static int other_bootmgr(struct acso_ctx *ctx, enum bootmgr bm, const struct grub_request *rq,
			 const struct strv *params)
{
	if (bm != BOOT_KERNELSTUB && bm != BOOT_GRUBBY) {
		_cleanup_free_ char *line = argv_join(params);
		msg_error("boot parameters: no supported boot manager found (GRUB, systemd-boot, kernelstub, grubby)");
		msg_hint("add these to your boot loader's kernel command line yourself: %s", line);
		return EXIT_FAIL;
	}
	struct acso_err e = {0};
	struct strv recorded = {0}, argv = {0}, names = {0};
	int rc = EXIT_OK, r = boot_params_read(ctx->rootfd, &recorded, &e);
	if (r < 0 && r != -ENOENT)
		return fail(&e, r, "grub: %s", bootmgr_name(bm));
	const struct strv *list = rq->remove ? &recorded : params;
	_cleanup_free_ char *line = argv_join(list);
	for (size_t i = 0; i < list->n; i++)
		strv_push(&names, list->v[i]);
	for (size_t i = 0; i < names.n; i++)
		names.v[i][strcspn(names.v[i], "=")] = '\0';
	_cleanup_free_ char *name_line = argv_join(&names);
	strv_free(&names);

	if (strcmp(ctx->root, "/")) {
		strv_push(&argv, "chroot");
		strv_push(&argv, ctx->root);
	}
	if (bm == BOOT_KERNELSTUB) { /* -a/-d edit; never -o, which replaces every option */
		strv_push(&argv, "kernelstub");
		strv_push(&argv, rq->remove ? "-d" : "-a");
		strv_push(&argv, line);
	} else {
		strv_push(&argv, "grubby");
		strv_push(&argv, "--update-kernel=ALL");
		strv_pushf(&argv, rq->remove ? "--remove-args=%s" : "--args=%s", rq->remove ? name_line : line);
	}
	bool nothing = rq->remove && !list->n;
	_cleanup_free_ char *cmd = argv_join(&argv);
	if (rq->no_report) {
		/* the caller (acso setup) reports */
	} else if (ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "boot_manager", json_object_new_string(bootmgr_name(bm)));
		json_object_object_add(o, "parameters", json_from_strv(list));
		json_object_object_add(o, "remove", json_object_new_boolean(rq->remove));
		json_object_object_add(o, "command", nothing ? NULL : json_from_strv(&argv));
		json_object_object_add(o, "dry_run", json_object_new_boolean(ctx->dry_run));
		out_json(o);
		json_object_put(o);
	} else {
		printf("Boot manager: %s\n", bootmgr_name(bm));
		if (nothing)
			printf("Nothing to remove: acso had added nothing\n");
		else
			printf("Boot parameters: %s%s\n%s: %s\n", line, rq->remove ? " (removing)" : "",
			       ctx->dry_run ? "Would run" : "Running", cmd);
	}
	if (ctx->dry_run || nothing)
		goto out;
	r = run_tool(&argv, &e);
	if (r < 0) {
		rc = fail(&e, r, "%s", bootmgr_name(bm));
		goto out;
	}
	/* what acso has added now: --remove took all; an add adds to it */
	for (size_t i = 0; !rq->remove && i < params->n; i++)
		if (!strv_has(&recorded, params->v[i]))
			strv_push(&recorded, params->v[i]);
	r = boot_params_write(ctx->rootfd, rq->remove ? NULL : &recorded, &e);
	if (r < 0)
		rc = fail(&e, r, "grub: %s", bootmgr_name(bm));
out:
	strv_free(&argv);
	strv_free(&recorded);
	return rc;
}

static void print_plan(const struct acso_ctx *ctx, const struct grub_plan *p, const struct grub_request *rq,
		       const struct strv *regen, bool regenerated, const char *once_entry)
{
	const char *method = p->method == GRUB_METHOD_DROPIN ? "drop-in" :
			     p->method == GRUB_METHOD_EDIT ? "edit" : "none";
	if (ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "boot_manager", json_object_new_string("grub"));
		json_object_object_add(o, "parameters", json_from_strv(&p->params));
		json_object_object_add(o, "remove", json_object_new_boolean(rq->remove));
		json_object_object_add(o, "method", json_object_new_string(method));
		json_object_object_add(o, "file", p->method == GRUB_METHOD_DROPIN ? json_object_new_string(GRUB_DROPIN) :
						    p->edited ? json_object_new_string(p->edited) : NULL);
		json_object_object_add(o, "grub_d_read", json_object_new_boolean(p->grubd_read));
		json_object_object_add(o, "cmdline_before", json_object_new_string(p->before.cmdline));
		json_object_object_add(o, "cmdline", json_object_new_string(p->after.cmdline));
		json_object_object_add(o, "changed", json_from_strv(&p->changed));
		json_object_object_add(o, "dropin", p->dropin_text ? json_object_new_string(p->dropin_text) : NULL);
		json_object_object_add(o, "regenerate", regen->n ? json_from_strv(regen) : NULL);
		json_object_object_add(o, "regenerated", json_object_new_boolean(regenerated));
		json_object_object_add(o, "once", once_entry ? json_object_new_string(once_entry) : NULL);
		json_object_object_add(o, "dry_run", json_object_new_boolean(ctx->dry_run));
		out_json(o);
		json_object_put(o);
		return;
	}
	_cleanup_free_ char *params = argv_join(&p->params);
	if (rq->remove)
		printf("Removing the boot parameters acso added\n");
	else
		printf("Boot parameters: %s\n", params);
	if (p->method == GRUB_METHOD_DROPIN)
		printf("Method: drop-in %s\n", GRUB_DROPIN);
	else if (p->method == GRUB_METHOD_EDIT)
		printf("Method: appended block at the end of %s\n", p->edited);
	if (ctx->dry_run && p->dropin_text)
		printf("\n--- %s\n%s---\n\n", GRUB_DROPIN, p->dropin_text);
	printf("Kernel command line before: %s\n", p->before.cmdline);
	printf("Kernel command line after:  %s\n", p->after.cmdline);
	if (!p->changed.n)
		printf("%s\n", rq->remove ? "Nothing to remove: acso had added nothing" : "Already registered: no file changes");
	for (size_t i = 0; i < p->changed.n; i++)
		printf("%s %s\n", ctx->dry_run ? "Would change:" : "Changed:", p->changed.v[i]);
	if (regen->n) {
		_cleanup_free_ char *r = argv_join(regen);
		printf("%s %s\n", ctx->dry_run ? "Would run:" : regenerated ? "Regenerated with:" : "Not run:", r);
	}
	if (once_entry)
		printf("Next boot only: %s (grub-reboot)\n", once_entry);
}

/* The groups' refusals (boot/params.h), as acso grub words them.
 * Returns the exit code. */
static int pick_refused(const struct gpu_pick *p, const struct grub_request *rq)
{
	switch (p->status) {
	case PICK_IOMMU_OFF:
		msg_error("grub: no IOMMU groups: the IOMMU is off");
		msg_hint("register intel_iommu=on first ('acso grub --acs downstream'), reboot, then use --acs auto or --vfio");
		return EXIT_FAIL;
	case PICK_NO_SUCH_GPU:
		msg_error("grub: --gpu '%s': no GPU at that address", rq->gpu);
		msg_hint("'acso groups' lists the GPUs");
		return EXIT_USAGE;
	case PICK_NO_COMMON:
		msg_error("grub: --acs auto: %zu GPUs share their groups and no one override fits all", p->count);
		msg_hint("choose one with --gpu ADDR ('acso groups' lists them)");
		return EXIT_USAGE;
	case PICK_AMBIGUOUS:
		msg_error("grub: %zu GPUs: choose one with --gpu ADDR", p->count);
		msg_hint("'acso groups' lists them");
		return EXIT_USAGE;
	case PICK_NO_GPU:
		msg_error("grub: --vfio: no GPU found");
		msg_hint("'acso groups' lists the PCI devices and their classes");
		return EXIT_FAIL;
	case PICK_GPU_NO_GROUP:
		msg_error("grub: GPU %s has no IOMMU group: the IOMMU is off", p->gpu);
		msg_hint("register intel_iommu=on first ('acso grub --acs downstream'), reboot, then use --acs auto");
		return EXIT_FAIL;
	case PICK_NO_SPLIT:
		msg_error("grub: no pcie_acs_override splits the group of GPU %s", p->gpu);
		msg_hint("'acso groups -v' says what is in the way");
		return EXIT_FAIL;
	case PICK_HOST_CRITICAL:
		msg_error("grub: --vfio refused: the IOMMU group of GPU %s holds %s (%s)", p->gpu, p->holder,
			  p->holder_root_fs ? "the root file system's disk" : "the default-route network interface");
		msg_hint("binding that group to vfio-pci would take the host's disk or network away; split it first (--acs auto)");
		return EXIT_FAIL;
	case PICK_OK:
		break;
	}
	return EXIT_FAIL;
}

/* The parameters of the request; prints why when it fails. Returns an exit code. */
static int decide_params(struct acso_ctx *ctx, const struct grub_request *rq, struct strv *params)
{
	struct acso_err e = {0};
	struct gpu_pick pick;
	struct boot_request br = {.acs = rq->acs ? rq->acs : ctx_conf(ctx, "acs", "downstream"),
				  .intel_iommu = rq->intel_iommu, .iommu_pt = rq->iommu_pt, .vfio = rq->vfio, .gpu = rq->gpu};
	int rc = EXIT_OK, r = boot_params_decide(ctx->rootfd, &br, params, &pick, &e);
	if (r == -ACSO_E_STATE) {
		rc = pick_refused(&pick, rq);
	} else if (r == -ACSO_E_PARSE) {
		msg_error("--acs '%s': %s", br.acs, e.msg);
		rc = EXIT_USAGE;
	} else if (r < 0) {
		rc = fail(&e, r, "grub: read the IOMMU groups");
	} else if (pick.acs && !*pick.acs && *pick.gpu) {
		msg_info("grub: GPU %s is %s: no pcie_acs_override needed", pick.gpu, pick.verdict);
	} else if (pick.acs && !*pick.acs) {
		msg_info("grub: every GPU is isolated: no pcie_acs_override needed");
	}
	gpu_pick_free(&pick);
	return rc;
}

int grub_do(struct acso_ctx *ctx, const struct grub_request *rq)
{
	struct acso_err e = {0};
	struct strv params = {0};
	int rc = EXIT_OK, r;
	if (!rq->remove) {
		if ((rc = decide_params(ctx, rq, &params))) {
			strv_free(&params);
			return rc;
		}
		if (!params.n && !rq->set_default_saved) {
			msg_error("boot parameters: nothing to register");
			return EXIT_USAGE;
		}
	}
	if ((r = need_root(ctx, "grub")))
		goto out_params;

	enum bootmgr bm = bootmgr_detect(ctx->rootfd);
	if (bm == BOOT_UNKNOWN && rq->remove) {
		/* nothing acso could have added: not an error for an undo */
		if (ctx->json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "boot_manager", json_object_new_string("unknown"));
			json_object_object_add(o, "remove", json_object_new_boolean(true));
			json_object_object_add(o, "changed", json_object_new_array());
			out_json(o);
			json_object_put(o);
		} else if (!rq->no_report) {
			printf("Nothing to remove: no boot manager configuration found\n");
		}
		strv_free(&params);
		return EXIT_OK;
	}
	if (bm != BOOT_GRUB) {
		if (rq->once) {
			msg_error("--once: needs GRUB (found %s)", bootmgr_name(bm));
			rc = EXIT_FAIL;
		} else {
			rc = bm == BOOT_SYSTEMD_BOOT ? systemd_boot(ctx, rq, &params) : other_bootmgr(ctx, bm, rq, &params);
		}
		strv_free(&params);
		return rc;
	}

	struct grub_plan p = {.params = params, .remove = rq->remove, .set_default_saved = rq->set_default_saved};
	params = (struct strv){0};
	p.grubd_read = grub_reads_dropins(ctx->rootfd);
	struct strv regen = {0};
	_cleanup_free_ char *once_entry = NULL;
	bool regenerated = false;
	r = grub_prepare(ctx->root, ctx->rootfd, &p, &e);
	if (r < 0) {
		rc = fail(&e, r, "grub");
		if (r == -ACSO_E_PARSE)
			msg_hint("fix the file so that 'sh -n' accepts it; nothing was changed");
		goto out;
	}
	if (p.crlf)
		msg_warn("grub: a file under /etc/default has CRLF line endings; grub-mkconfig reads the CR as part of the values");
	if (!p.grubd_read && !rq->remove)
		msg_warn("grub: this grub-mkconfig does not read /etc/default/grub.d: editing %s instead", p.edited);
	else if (p.method == GRUB_METHOD_EDIT)
		msg_warn("grub: a later file assigns GRUB_CMDLINE_LINUX_DEFAULT again: appended the parameters to %s instead of a drop-in",
			 p.edited);
	if (rq->once && !rq->remove) {
		const char *d = grub_eval_var(&p.after, "GRUB_DEFAULT");
		if (!d || strcmp(d, "saved")) {
			msg_error("--once: grub-reboot needs GRUB_DEFAULT=saved (it is '%s')", d ? d : "0");
			msg_hint("add --set-default-saved to set it in acso's drop-in");
			rc = EXIT_FAIL;
			goto out;
		}
	}
	bool must_regen = (p.changed.n || p.pending) && !rq->no_update;
	if (must_regen || (rq->once && !rq->no_update)) {
		r = grub_regen_argv(ctx->root, ctx->rootfd, &regen, &e);
		if (r < 0 && ctx->dry_run) {
			msg_warn("grub: %s: the change could not be put into grub.cfg", e.msg);
		} else if (r < 0) {
			rc = fail(&e, r, "grub");
			msg_hint("install grub2-common (update-grub), or add --no-update and regenerate grub.cfg yourself");
			goto out;
		}
	}
	if (ctx->dry_run) {
		if (!rq->no_report)
			print_plan(ctx, &p, rq, &regen, false, NULL);
		goto out;
	}
	r = grub_commit(ctx->rootfd, &p, true, &e);
	if (r < 0) {
		rc = fail(&e, r, "grub");
		msg_hint("every file was put back as it was");
		if (!p.pending)
			grub_pending_clear(ctx->rootfd);
		goto out;
	}
	if (must_regen) {
		r = run_tool(&regen, &e);
		if (r < 0) {
			struct acso_err e2 = {0};
			_cleanup_free_ char *cmd = argv_join(&regen);
			int q = grub_rollback(ctx->rootfd, &p, &e2);
			rc = fail(&e, r, "'%s'", cmd);
			if (q < 0)
				msg_error("grub: restoring the files failed too: %s", e2.msg);
			else {
				msg_hint("every file under /etc/default was put back as it was; fix the error above and run 'acso grub' again");
				/* the files are as grub.cfg was made from, unless an
				 * earlier change was still waiting for regeneration */
				if (!p.pending)
					grub_pending_clear(ctx->rootfd);
			}
			goto out;
		}
		regenerated = true;
		grub_pending_clear(ctx->rootfd);
	}
	if (rq->once && !rq->remove) {
		r = grub_entry_for(ctx->rootfd, rq->once, &once_entry, &e);
		if (r < 0) {
			rc = fail(&e, r, "--once");
			msg_hint("install the kernel first ('acso install'), then regenerate grub.cfg");
			goto out;
		}
		struct strv argv = {0};
		if (strcmp(ctx->root, "/")) {
			strv_push(&argv, "chroot");
			strv_push(&argv, ctx->root);
		}
		strv_push(&argv, "grub-reboot");
		strv_push(&argv, once_entry);
		r = run_tool(&argv, &e);
		strv_free(&argv);
		if (r < 0) {
			rc = fail(&e, r, "grub-reboot");
			goto out;
		}
	}
	if (!rq->no_report)
		print_plan(ctx, &p, rq, &regen, regenerated, once_entry);
	if (rq->no_update && p.changed.n)
		msg_hint("run update-grub yourself before rebooting");
out:
	strv_free(&regen);
	grub_plan_free(&p);
	return rc;
out_params:
	strv_free(&params);
	return r;
}

int cmd_grub(struct acso_ctx *ctx, int argc, char **argv)
{
	struct grub_request rq = {.intel_iommu = -1};
	int first;
	int r = cmd_options(ctx, argc, argv, on_opt, &rq, &first);
	if (r)
		return r;
	if (rq.remove && (rq.acs || rq.once || rq.iommu_pt || rq.vfio)) {
		msg_error("grub: --remove takes no parameters: it removes everything acso added");
		return EXIT_USAGE;
	}
	return grub_do(ctx, &rq);
}
