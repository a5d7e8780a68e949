/* cmd-grub.c — `acso grub`: register pcie_acs_override= and the IOMMU
 * switch as boot parameters (GRUB drop-in, or the system's other boot
 * manager), regenerate the menu, undo, and the one-time first boot. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "boot/params.h"
#include "boot/pick.h"
#include "cli/boot-step.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"

struct grub_request {
	const char *acs;         /* pcie_acs_override mode, NULL: none */
	int intel_iommu;         /* 1 on, 0 off, -1 auto (on for Intel CPUs) */
	bool iommu_pt;
	bool remove;
	bool no_update;
	bool set_default_saved;
	const char *once;        /* release for grub-reboot, or NULL */
	bool vfio;               /* add vfio-pci.ids= of the GPU's own functions */
	const char *gpu;         /* the chosen GPU (address), NULL: the first that shares its group */
};

#define OPTS struct grub_request
const struct acso_option grub_options[] = {
	OPT_STRING(0, "acs", acs, "MODE", "pcie_acs_override= value: downstream (default), multifunction, id:vvvv:dddd, comma-combined, or auto (what 'acso groups' recommends)"),
	OPT_BOOL(0, "vfio", vfio, "also add vfio-pci.ids= of the GPU's own functions (refused when its group holds the root disk or the default-route NIC)"),
	OPT_STRING(0, "gpu", gpu, "ADDR", "the GPU for --acs auto and --vfio (default: the first that shares its group)"),
	OPT_BOOL(0, "iommu-pt", iommu_pt, "also add iommu=pt"),
	OPT_SET_INT(0, "intel-iommu", intel_iommu, 1, "add intel_iommu=on even when the CPU is not Intel"),
	OPT_SET_INT(0, "no-intel-iommu", intel_iommu, 0, "do not add intel_iommu=on (default: added on Intel CPUs)"),
	OPT_BOOL(0, "no-update", no_update, "write the files but do not run update-grub"),
	OPT_BOOL(0, "remove", remove, "take back exactly what acso added"),
	OPT_STRING(0, "once", once, "RELEASE", "boot RELEASE once on the next boot (grub-reboot)"),
	OPT_BOOL(0, "set-default-saved", set_default_saved, "also set GRUB_DEFAULT=saved (needed by --once)"),
	OPT_END,
};


/* The groups' refusals (boot/params.h), as acso grub words them.
 * Returns the exit code. */
static int pick_refused(const struct gpu_pick *p, const struct grub_request *rq)
{
	switch (p->status) {
	case PICK_IOMMU_OFF:
		msg_error("no IOMMU groups: the IOMMU is off");
		msg_hint("register intel_iommu=on first ('acso grub --acs downstream'), reboot, then use --acs auto or --vfio");
		return EXIT_FAIL;
	case PICK_NO_SUCH_GPU:
		msg_error("--gpu '%s': no GPU at that address", rq->gpu);
		msg_hint("'acso groups' lists the GPUs");
		return EXIT_USAGE;
	case PICK_NO_COMMON:
		msg_error("--acs auto: %zu GPUs share their groups and no one override fits all", p->count);
		msg_hint("choose one with --gpu ADDR ('acso groups' lists them)");
		return EXIT_USAGE;
	case PICK_AMBIGUOUS:
		msg_error("%zu GPUs: choose one with --gpu ADDR", p->count);
		msg_hint("'acso groups' lists them");
		return EXIT_USAGE;
	case PICK_NO_GPU:
		msg_error("--vfio: no GPU found");
		msg_hint("'acso groups' lists the PCI devices and their classes");
		return EXIT_FAIL;
	case PICK_GPU_NO_GROUP:
		msg_error("GPU %s has no IOMMU group: the IOMMU is off", p->gpu);
		msg_hint("register intel_iommu=on first ('acso grub --acs downstream'), reboot, then use --acs auto");
		return EXIT_FAIL;
	case PICK_NO_SPLIT:
		msg_error("no pcie_acs_override splits the group of GPU %s", p->gpu);
		msg_hint("'acso groups -v' says what is in the way");
		return EXIT_FAIL;
	case PICK_HOST_CRITICAL:
		msg_error("--vfio refused: the IOMMU group of GPU %s holds %s (%s)", p->gpu, p->holder,
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
	if (!*br.acs) { /* the core reads "" as "nothing needed" (--acs auto's answer) */
		msg_error("--acs '': empty: pcie_acs_override would be dropped");
		msg_hint("give downstream, multifunction, id:vvvv:dddd or auto; 'acso grub --remove' takes the parameters back");
		return EXIT_USAGE;
	}
	int rc = EXIT_OK, r = boot_params_decide(ctx->rootfd, &br, params, &pick, &e);
	if (r == -ACSO_E_STATE) {
		rc = pick_refused(&pick, rq);
	} else if (r == -ACSO_E_PARSE) {
		msg_error("--acs '%s': %s", br.acs, e.msg);
		rc = EXIT_USAGE;
	} else if (r < 0) {
		rc = fail(&e, r, "read the IOMMU groups");
	} else if (pick.acs && !*pick.acs && *pick.gpu) {
		msg_info("grub: GPU %s is %s: no pcie_acs_override needed", pick.gpu, pick.verdict);
	} else if (pick.acs && !*pick.acs) {
		msg_info("grub: every GPU is isolated: no pcie_acs_override needed");
	}
	gpu_pick_free(&pick);
	return rc;
}

int cmd_grub(struct acso_ctx *ctx, int argc, char **argv)
{
	struct grub_request rq = {.intel_iommu = -1};
	int first;
	int r = cmd_options(ctx, argc, argv, &rq, &first);
	if (r)
		return r;
	if (rq.remove && (rq.acs || rq.once || rq.iommu_pt || rq.vfio)) {
		msg_error("--remove takes no parameters: it removes everything acso added");
		return EXIT_USAGE;
	}
	struct boot_register b = {.remove = rq.remove, .no_update = rq.no_update, .set_default_saved = rq.set_default_saved,
				  .once = rq.once, .log_fd = STDERR_FILENO};
	if (!rq.remove && (r = decide_params(ctx, &rq, &b.params)) == EXIT_OK && !b.params.n && !rq.set_default_saved) {
		msg_error("boot parameters: nothing to register");
		r = EXIT_USAGE;
	}
	if (r == EXIT_OK) /* root: the driver's check (CMD_NEEDS_ROOT) */
		r = report_end(boot_step(ctx, &b, BOOT_REPORT_OWN));
	boot_register_free(&b);
	return r;
}
