/* cmd-vfio.c — `acso vfio [GPU]`: hold the GPU's own functions with
 * vfio-pci from boot (modprobe.d, the initramfs), or take it back with
 * --remove. The decision and the files are vfio/bind's. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "boot/register.h" /* strv_join */
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "vfio/bind.h"

struct vfio_opts {
	bool remove, no_update, force;
	const char *kernel;
};

#define OPTS struct vfio_opts
const struct acso_option vfio_options[] = {
	OPT_BOOL(0, "remove", remove, "put back every file acso vfio changed, update the initramfs"),
	OPT_BOOL(0, "no-update", no_update, "write the files, do not update the initramfs"),
	OPT_BOOL(0, "force", force, "bind the GPU even when it shows the boot console"),
	OPT_STRING(0, "kernel", kernel, "RELEASE", "the kernel whose initramfs is updated (default: the running one)"),
	OPT_END,
};

/* The refusals, worded. Returns the exit code. */
static int refused(const struct vfio_plan *p, const char *gpu)
{
	switch (p->status) {
	case VFIO_IOMMU_OFF:
		msg_error("no IOMMU groups: the IOMMU is off");
		msg_hint("turn it on first ('acso grub'), reboot, then run 'acso vfio' again");
		return EXIT_FAIL;
	case VFIO_NO_DEVICE:
		msg_error("vfio '%s': no PCI device at that address", gpu);
		msg_hint("'acso groups' lists the GPUs and their addresses");
		return EXIT_USAGE;
	case VFIO_NOT_DISPLAY:
		msg_error("vfio '%s': not a display controller (class 0300 or 0302)", gpu);
		msg_hint("give the GPU's function 0 ('acso groups' lists the GPUs)");
		return EXIT_USAGE;
	case VFIO_NO_GPU:
		msg_error("no GPU found");
		return EXIT_FAIL;
	case VFIO_AMBIGUOUS:
		msg_error("%zu GPUs: name the one to bind", p->count);
		msg_hint("'acso vfio ADDR' ('acso groups' lists them)");
		return EXIT_USAGE;
	case VFIO_NO_GROUP:
		msg_error("vfio '%s': the GPU has no IOMMU group", p->gpu);
		return EXIT_FAIL;
	case VFIO_HOST_CRITICAL:
		msg_error("vfio '%s': refused: its IOMMU group holds %s (%s)", p->gpu, p->holder,
			  p->holder_root_fs ? "the root file system's disk" : "the default-route network interface");
		msg_hint("vfio-pci would take the host's disk or network away: split the group first ('acso groups')");
		return EXIT_FAIL;
	case VFIO_SHARED:
		msg_error("vfio '%s': refused: its IOMMU group also holds %s", p->gpu, p->holder);
		msg_hint("the whole group goes to the VM: split it with the ACS override first ('acso groups', 'acso run')");
		return EXIT_FAIL;
	case VFIO_BOOT_CONSOLE:
		msg_error("vfio '%s': refused: %s is the boot console's display", p->gpu, p->holder);
		msg_hint("the host would boot without a screen; give --force if it has another way in (ssh, serial)");
		return EXIT_FAIL;
	case VFIO_NOT_BOUND:
		msg_error("--remove: nothing to remove: no record in '%s'", VFIO_STATE_DIR);
		return EXIT_FAIL;
	case VFIO_OK:
		break;
	}
	return EXIT_FAIL;
}

static const char *tool_name(enum initramfs_tool t)
{
	return t == INITRAMFS_TOOLS ? "initramfs-tools" : t == INITRAMFS_DRACUT ? "dracut" : "none";
}

static void render_plan(const struct acso_ctx *ctx, const struct vfio_plan *p, bool remove)
{
	rp_string(RP_ANY, "gpu", "GPU %s", p->gpu);
	rp_text("%s\n", remove ? ": vfio-pci binding taken back" : "");
	if (!remove) {
		rp_string(RP_ANY, "method", "  bound by  %s", p->by_address ? "address" : "ids");
		rp_text(p->by_address ? " (driver_override: %s shares an ID)\n" : "\n", p->shared_id_with);
		rp_open_array("functions");
		for (size_t k = 0; k < p->nfns; k++) {
			rp_open_object(NULL);
			rp_string(RP_ANY, "address", "  function  %s", p->fns[k].addr);
			char id[16];
			snprintf(id, sizeof(id), "%04x:%04x", p->fns[k].vendor, p->fns[k].device);
			rp_string(RP_ANY, "id", " [%s]", id);
			rp_string(RP_ANY, "driver", " now %s", p->fns[k].driver ? p->fns[k].driver : "none");
			rp_text("\n");
			rp_close_object();
		}
		rp_close_array();
		rp_string(RP_JSON, "ids", NULL, p->ids);
		rp_json("softdeps", json_from_strv(&p->softdeps));
		rp_bool(RP_JSON, "boot_console", NULL, p->boot_console);
		rp_bool(RP_JSON, "boot_vga_no_vt", NULL, p->boot_vga_no_vt);
		rp_bool(RP_JSON, "builtin", NULL, p->builtin);
		rp_int(RP_JSON, "user_lines_kept", NULL, (int64_t)p->user_lines);
	}
	rp_open_array("files");
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct vfio_file *f = &p->files[i];
		rp_open_object(NULL);
		rp_string(RP_ANY, "path", "  file      %s", f->path);
		const char *what = !f->changes ? "unchanged" : !f->text ? "remove" : !f->old ? "create" : remove ? "restore" : "update";
		rp_string(RP_ANY, "action", " (%s)\n", what);
		rp_close_object();
	}
	rp_close_array();
	rp_string(RP_ANY, "initramfs", "  initramfs %s", tool_name(p->tool));
	rp_string(RP_ANY, "release", " for %s", p->release ? p->release : "unknown");
	_cleanup_free_ char *cmd = p->update_argv.n ? strv_join(&p->update_argv) : NULL;
	rp_string(RP_ANY, "command", ": %s\n", cmd ? cmd : "not updated");
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
}

/* What the user must know about the plan. */
static void warnings(const struct vfio_plan *p)
{
	if (p->boot_console)
		msg_warn("%s is the boot console's display: the host boots without a screen (--force)", p->holder);
	if (p->boot_vga_no_vt)
		msg_info("vfio: %s is the boot VGA, but the kernel has no virtual terminals: no console is on it",
			 p->holder);
	if (p->user_lines)
		msg_info("vfio: kept your own %zu line(s) in %s; acso's lines are between its begin/end marks",
			 p->user_lines, VFIO_MODPROBE);
	if (p->vfio_options_of_user)
		msg_warn("your own lines in %s also set vfio-pci options: check they agree", VFIO_MODPROBE);
	if (p->override)
		msg_info("vfio: GPU %s shares its group now: bound as the override %s splits it (acso grub, acso run)",
			 p->gpu, p->override);
	if (p->builtin)
		msg_warn("vfio-pci is built into %s: modprobe.d cannot reach it; add vfio-pci.ids= ('acso grub --vfio')",
			 p->release);
	if (p->tool == INITRAMFS_NONE)
		msg_warn("neither initramfs-tools nor dracut found: the initramfs is not updated");
}

int cmd_vfio(struct acso_ctx *ctx, int argc, char **argv)
{
	struct vfio_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	const char *gpu = first < argc ? argv[first] : NULL;
	if (o.remove && (gpu || o.force)) {
		msg_error("--remove takes no GPU and no --force: it takes back what acso vfio did");
		return EXIT_USAGE;
	}
	struct vfio_request rq = {.root = ctx->root, .gpu = gpu, .release = o.kernel, .force = o.force,
				  .remove = o.remove, .no_update = o.no_update, .log_fd = STDERR_FILENO};
	struct vfio_plan p;
	struct acso_err e = {0};
	r = vfio_plan_build(ctx->rootfd, &rq, &p, &e);
	if (r == -ACSO_E_STATE) {
		r = refused(&p, gpu);
		vfio_plan_free(&p);
		return r;
	}
	if (r < 0) {
		vfio_plan_free(&p);
		return fail(&e, r, "vfio");
	}
	warnings(&p);
	report_begin(ctx);
	render_plan(ctx, &p, o.remove);
	int code = EXIT_OK;
	if (!ctx->dry_run && (r = vfio_apply(ctx->rootfd, &rq, &p, &e)) < 0) {
		report_discard();
		fail(&e, r, "vfio");
		if (p.update_failed)
			msg_hint("every file was put back as it was; fix the initramfs tool, then run 'acso vfio' again");
		else if (p.remove_update_failed)
			msg_hint("the files are restored; the initramfs still binds the GPU until the update runs: run 'acso vfio --remove' again");
		vfio_plan_free(&p);
		return EXIT_FAIL;
	}
	if (!ctx->dry_run && !o.remove)
		msg_info("vfio: reboot, then 'acso verify' reports each function's driver");
	vfio_plan_free(&p);
	return report_end(code);
}
