/* cmd-setup.c — `acso setup`: the seed guide's first steps for a machine
 * starting from nothing: the KVM and libvirt packages under the names this
 * release uses, the invoking user in the libvirt group, and the IOMMU turned
 * on through the same boot-parameter code as `acso grub`. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "boot/params.h"
#include "boot/pick.h"
#include "boot/register.h"
#include "cli/boot-step.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report.h"
#include "machine/hostsetup.h"

struct setup_opts {
	const char *user;
	bool no_packages, no_group, no_iommu, iommu_pt, no_update, vm_tools;
};

#define OPTS struct setup_opts
const struct acso_option setup_options[] = {
	OPT_STRING(0, "user", user, "NAME", "add NAME to the libvirt group (default: SUDO_USER)"),
	OPT_BOOL(0, "no-packages", no_packages, "do not install packages"),
	OPT_BOOL(0, "vm-tools", vm_tools, "also install ovmf (the VM's UEFI firmware) and virt-manager"),
	OPT_BOOL(0, "no-group", no_group, "do not change group membership"),
	OPT_BOOL(0, "no-iommu", no_iommu, "do not add intel_iommu=on"),
	OPT_BOOL(0, "iommu-pt", iommu_pt, "also add iommu=pt"),
	OPT_BOOL(0, "no-update", no_update, "do not run update-grub"),
	OPT_END,
};

/* 1. the KVM and libvirt packages */
static int step_packages(struct acso_ctx *ctx, struct setup_plan *p)
{
	struct acso_err e = {0};
	int r = setup_plan_packages(ctx->root, ctx->rootfd, p, &e);
	if (r == -ACSO_E_UNSUPPORTED) {
		msg_error("'%s' is not a Debian or Ubuntu system: acso setup knows only apt", p->distro);
		msg_hint("install KVM and libvirt with your package manager, then run 'acso setup --no-packages'");
		return EXIT_FAIL;
	}
	if (r < 0)
		return fail(NULL, r, "read '/etc/os-release'");
	rp_string(RP_JSON, "distro", NULL, p->distro);
	rp_json("packages", json_from_strv(&p->pkgs));
	rp_json("missing", json_from_strv(&p->missing));
	if (!p->apt.n) {
		rp_text("Packages: %s already installed\n", p->distro);
		return EXIT_OK;
	}
	_cleanup_free_ char *line = strv_join(&p->apt);
	rp_json("install", json_from_strv(&p->apt));
	rp_text("%s: %s\n", ctx->dry_run ? "Would run" : "Running", line);
	if (!ctx->dry_run && (r = setup_run(&p->apt, STDERR_FILENO, &e)) < 0) {
		fail(&e, r, "'%s'", line);
		msg_hint("check the apt sources ('apt-get update') and run 'acso setup' again");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* 2. the invoking user in the libvirt group */
static int step_group(struct acso_ctx *ctx, const char *user, struct setup_plan *p)
{
	if (!user && geteuid() != 0) {
		struct passwd *pw = getpwuid(geteuid());
		user = pw ? pw->pw_name : NULL;
	}
	if (!user || !strcmp(user, "root")) {
		msg_warn("no user to add to the libvirt group (run through sudo, or give --user NAME)");
		return EXIT_OK;
	}
	setup_plan_group(ctx->root, ctx->rootfd, user, p);
	rp_string(RP_JSON, "user", NULL, user);
	if (!p->usermod.n) {
		rp_text("Group: %s is already in libvirt\n", user);
		return EXIT_OK;
	}
	struct acso_err e = {0};
	_cleanup_free_ char *line = strv_join(&p->usermod);
	rp_json("group", json_from_strv(&p->usermod));
	rp_text("%s: %s\n", ctx->dry_run ? "Would run" : "Running", line);
	if (ctx->dry_run)
		return EXIT_OK;
	int r = setup_run(&p->usermod, STDERR_FILENO, &e);
	if (r < 0) {
		fail(&e, r, "'%s'", line);
		if (p->member < 0)
			msg_hint("the libvirt group comes with libvirt-daemon-system: install it first");
		return EXIT_FAIL;
	}
	msg_hint("%s must log out and in again for the group to apply", user);
	return EXIT_OK;
}

/* 3. the IOMMU, through the boot-parameter step of `acso grub` */
static int step_iommu(struct acso_ctx *ctx, bool iommu_pt, bool no_update)
{
	const char *vendor = cpu_vendor(ctx->rootfd);
	rp_string(RP_JSON, "cpu", NULL, vendor);
	if (strcmp(vendor, "intel") && !iommu_pt) {
		rp_text("IOMMU: %s CPU: no parameter needed (the IOMMU is on when the firmware enables it)\n", vendor);
		return EXIT_OK;
	}
	struct acso_err e = {0};
	struct gpu_pick pick;
	struct boot_request rq = {.acs = "", .intel_iommu = -1, .iommu_pt = iommu_pt};
	struct boot_register b = {.no_update = no_update, .log_fd = STDERR_FILENO};
	int r = boot_params_decide(ctx->rootfd, &rq, &b.params, &pick, &e);
	gpu_pick_free(&pick);
	rp_text("IOMMU:\n");
	fflush(stdout);
	r = r < 0 ? fail(&e, r, "setup") : boot_step(ctx, &b, report_json() ? BOOT_REPORT_NONE : BOOT_REPORT_INSIDE);
	boot_register_free(&b);
	rp_bool(RP_JSON, "iommu", NULL, r == EXIT_OK);
	return r;
}

int cmd_setup(struct acso_ctx *ctx, int argc, char **argv)
{
	struct setup_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct setup_plan p = {.vm_tools = o.vm_tools};
	int rc = EXIT_OK;
	report_begin(ctx);
	if (!o.no_packages)
		rc = step_packages(ctx, &p);
	if (rc == EXIT_OK && !o.no_group)
		rc = step_group(ctx, o.user ? o.user : getenv("SUDO_USER"), &p);
	if (rc == EXIT_OK && !o.no_iommu)
		rc = step_iommu(ctx, o.iommu_pt, o.no_update);
	if (rc == EXIT_OK)
		rp_text("Next: reboot if the boot parameters changed, then run 'acso check' to see what is left\n");
	rp_bool(RP_JSON, "dry_run", NULL, ctx->dry_run);
	rp_bool(RP_JSON, "ok", NULL, rc == EXIT_OK);
	setup_plan_free(&p);
	return report_end(rc);
}
