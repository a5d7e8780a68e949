/* cmd-verify.c — `acso verify`: the proof after the reboot. The running
 * kernel is an ACS kernel, pcie_acs_override is on the command line, the
 * boot log shows the override line (or its parse error), and each GPU's
 * group verdict; when WORK/snapshots/before.tar.gz exists (written by
 * `acso snapshot --before`), the GPU's group before and after side by side.
 * Exit 0 only when the GPU (or every GPU) is isolated. With --make-default, a
 * pass also makes the running ACS kernel GRUB's saved default: the end of the
 * safe first boot that `acso grub --once` starts. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "base/fileio.h"
#include "boot/bootmgr.h"
#include "boot/grub.h"
#include "cli/report-groups.h"
#include "cli/report-vfio.h"
#include "cli/output.h"
#include "cli/report.h"
#include "machine/snapshot.h"
#include "machine/sysinfo.h"


struct verify_opts {
	const char *gpu, *before;
	bool make_default;
};

#define OPTS struct verify_opts
const struct acso_option verify_options[] = {
	OPT_STRING(0, "gpu", gpu, "ADDR", "the GPU that must be isolated (default: every GPU)"),
	OPT_STRING(0, "before", before, "FILE", "compare with this snapshot instead of WORK/snapshots/before.tar.gz"),
	{"make-default", 0, NULL, "when verified, make the running ACS kernel GRUB's default (grub-set-default)",
	 OPTK_BOOL, OPT_FIELD_(make_default, bool), 0, 0, NULL, NULL, OPTF_NEEDS_ROOT},
	OPT_END,
};

/* --make-default: the running kernel becomes GRUB's saved default, and only
 * a verified ACS kernel. Returns an exit code; *entry is the menu entry made
 * (or, with --dry-run, that would be made) the default. */
static int make_default(const struct acso_ctx *ctx, const struct sysinfo *s, bool verified, bool acs_kernel,
			char **entry)
{
	struct acso_err e = {0};
	if (!verified) {
		msg_error("--make-default: not verified: the default boot entry stays as it is");
		msg_hint("a kernel booted with 'acso grub --once' is left on the next boot: the default kernel comes back");
		return EXIT_FAIL;
	}
	if (!s->release || !acs_kernel) {
		msg_error("--make-default: the running kernel '%s' is not an ACS kernel: the default boot entry stays as it is",
			  s->release ? s->release : "unknown");
		return EXIT_FAIL;
	}
	enum bootmgr bm = bootmgr_detect(ctx->rootfd);
	if (bm != BOOT_GRUB) {
		msg_error("--make-default: needs GRUB (found %s)", bootmgr_name(bm));
		msg_hint("make %s the default in your boot manager yourself", s->release);
		return EXIT_FAIL;
	}
	_cleanup_free_ char *def = NULL;
	int r = grub_effective_var(ctx->rootfd, "GRUB_DEFAULT", &def, &e);
	if (r < 0)
		return fail(&e, r, "--make-default");
	if (!def || strcmp(def, "saved")) {
		msg_error("--make-default: grub-set-default needs GRUB_DEFAULT=saved (it is '%s')", def ? def : "0");
		msg_hint("set it with 'sudo acso grub --set-default-saved', then run this again");
		return EXIT_FAIL;
	}
	if ((r = grub_entry_for(ctx->rootfd, s->release, entry, &e)) < 0)
		return fail(&e, r, "--make-default");
	if (!ctx->dry_run && (r = grub_set_default(ctx->root, *entry, &e)) < 0)
		return fail(&e, r, "--make-default");
	return EXIT_OK;
}

static void column(const struct iommu_report *r, int group, size_t row, char *out, size_t len)
{
	const struct iommu_group *g = iommu_group_by_id(r, group);
	out[0] = '\0';
	if (!g || row >= g->n)
		return;
	const struct pcidev *d = &r->pci.v[g->devs[row]];
	if (d->class_ok)
		snprintf(out, len, "%s [%04x] %.28s", pci_short_addr(d), d->class >> 8, d->class_name ? d->class_name : "");
	else
		snprintf(out, len, "%s [????]", pci_short_addr(d));
}

/* Text: the GPU's group before and after, side by side. */
static void side_by_side(const struct iommu_report *before, const struct iommu_report *after,
			 const struct gpu_verdict *ga, const struct gpu_verdict *gb)
{
	if (!gb) {
		rp_text("  before: this GPU is not in the snapshot\n");
		return;
	}
	char lb[80], la[80];
	snprintf(lb, sizeof(lb), "before: group %d, %s", gb->group, verdict_name(gb->verdict));
	snprintf(la, sizeof(la), "after: group %d, %s", ga->group, verdict_name(ga->verdict));
	rp_text("  %-46s %s\n", lb, la);
	const struct iommu_group *g1 = iommu_group_by_id(before, gb->group), *g2 = iommu_group_by_id(after, ga->group);
	size_t rows = (g1 ? g1->n : 0) > (g2 ? g2->n : 0) ? g1->n : (g2 ? g2->n : 0);
	for (size_t i = 0; i < rows; i++) {
		char c1[80], c2[80], line[160];
		column(before, gb->group, i, c1, sizeof(c1));
		column(after, ga->group, i, c2, sizeof(c2));
		snprintf(line, sizeof(line), "    %-44s   %s", c1, c2);
		rp_text("%s\n", strip_trailing(line));
	}
}

/* JSON: "before": the GPU's group in the snapshot, or null. */
static void before_fields(const struct iommu_report *before, const struct gpu_verdict *gb)
{
	if (!gb) {
		rp_null(RP_JSON, "before", NULL);
		return;
	}
	rp_open_object("before");
	if (gb->group >= 0)
		rp_int(RP_JSON, "group", NULL, gb->group);
	else
		rp_null(RP_JSON, "group", NULL);
	rp_string(RP_JSON, "verdict", NULL, verdict_name(gb->verdict));
	rp_open_array("devices");
	const struct iommu_group *grp = iommu_group_by_id(before, gb->group);
	for (size_t d = 0; grp && d < grp->n; d++)
		rp_string(RP_JSON, NULL, NULL, before->pci.v[grp->devs[d]].addr);
	rp_close_array();
	rp_close_object();
}

/* The running kernel, its command line and boot log. */
static void render_kernel(const struct sysinfo *s, bool acs_kernel_name)
{
	rp_open_object("kernel");
	rp_string(RP_JSON, "release", NULL, s->release);
	rp_bool(RP_JSON, "acso_release", NULL, acs_kernel_name);
	rp_string(RP_JSON, "override_supported", NULL, tri_name(s->acs_supported));
	rp_string(RP_JSON, "override_evidence", NULL, acs_evidence_name(s->acs.evidence));
	rp_string(RP_JSON, "override_source", NULL, s->acs.source[0] ? s->acs.source : NULL);
	rp_close_object();
	rp_text("kernel           %s%s\n", s->release ? s->release : "unknown", acs_kernel_name ? " (an acso kernel)" : "");
	rp_text("override support ");
	if (s->acs.evidence == ACS_EV_BOOT_LOG)
		rp_text("yes (the kernel printed the override's boot line)\n");
	else if (s->acs_supported == TRI_YES)
		rp_text("yes (%s in %s)\n", s->acs.symbol, s->acs.source);
	else if (s->acs.evidence == ACS_EV_UNKNOWN_PARAM)
		rp_text("no: the kernel reported pcie_acs_override as unknown (a stock kernel)\n");
	else if (s->acs_supported == TRI_NO)
		rp_text("no: no pcie_acs_override symbols in %s (a stock kernel)\n", s->acs.source);
	else
		rp_text("unknown (no boot log line, no symbol list told)\n");
	rp_string(RP_JSON, "cmdline_override", NULL, s->acs_param);
	rp_text("command line     %s%s\n", s->acs_param ? "pcie_acs_override=" : "",
		s->acs_param ? s->acs_param : s->cmdline ? "no pcie_acs_override" : "unknown (/proc/cmdline unreadable)");
	rp_string(RP_JSON, "boot_log", NULL, s->log_acs_enabled ? "enabled" : s->log_acs_parse_error ? "parse_error" : "absent");
	rp_text("boot log         %s\n", s->log_acs_enabled ? "PCIe ACS overrides enabled"
				     : s->log_acs_parse_error ? "PCIe ACS ID parse error: the value is malformed"
				     : s->klog_source ? "no override line" : "no kernel log could be read");
}

static void render_gpus(const struct iommu_report *rep, int only, const struct iommu_report *before)
{
	if (!rep->ngroups)
		rp_text("\nNo IOMMU groups: the IOMMU is off.\n");
	rp_open_array("gpus");
	for (size_t i = 0; i < rep->ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		const struct gpu_verdict *g = &rep->gpus[i];
		int bi = before ? iommu_find_gpu(before, rep->pci.v[g->dev].addr) : -1;
		const struct gpu_verdict *gb = bi >= 0 ? &before->gpus[bi] : NULL;
		rp_open_object(NULL);
		rg_gpu_fields(rep, g);
		before_fields(before, gb);
		rp_close_object();
		if (!rep->ngroups)
			continue;
		rp_text("\n");
		rg_gpu_verdict_text(rep, g);
		if (before)
			side_by_side(before, rep, g, gb);
	}
	rp_close_array();
}

/* Before: an explicit file, or the one `acso run` keeps; *path is set when
 * the snapshot was read into *before. */
static bool load_before(const struct acso_ctx *ctx, const char *opt, struct iommu_report *before, char **path)
{
	_cleanup_free_ char *p = opt ? xstrdup(opt) : xasprintf("%s/snapshots/before.tar.gz", ctx->work_dir);
	struct stat st;
	if (stat(p, &st) != 0) {
		if (opt)
			fail(NULL, -errno, "snapshot '%s'", p);
		return false;
	}
	struct acso_err e = {0};
	int r = snapshot_iommu_report(p, before, &e);
	if (r < 0) {
		fail(&e, r, "read snapshot '%s'", p);
		return false;
	}
	*path = TAKE_PTR(p);
	return true;
}

int cmd_verify(struct acso_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o = {0};
	int first;
	int rc = cmd_options(ctx, argc, argv, &o, &first);
	if (rc)
		return rc;
	struct sysinfo s;
	sysinfo_read(ctx->rootfd, !strcmp(ctx->root, "/"), &s);
	struct iommu_report rep, before;
	if ((rc = rg_load(ctx, &rep))) {
		sysinfo_free(&s);
		return rc;
	}
	int only = -1;
	if (o.gpu && (only = iommu_find_gpu(&rep, o.gpu)) < 0) {
		msg_error("--gpu '%s': no GPU at that address", o.gpu);
		msg_hint("run 'acso groups' to list the GPUs");
		iommu_report_free(&rep);
		sysinfo_free(&s);
		return EXIT_USAGE;
	}
	_cleanup_free_ char *bpath = NULL, *made = NULL;
	bool have_before = load_before(ctx, o.before, &before, &bpath);
	bool acs_kernel_name = s.release && strstr(s.release, "acso");
	bool ok = iommu_isolated(&rep, only);
	int made_rc = o.make_default ? make_default(ctx, &s, ok, acs_kernel_name || s.acs_supported == TRI_YES, &made)
				     : EXIT_OK;

	report_begin(ctx);
	render_kernel(&s, acs_kernel_name);
	render_gpus(&rep, only, have_before ? &before : NULL);
	ok &= report_vfio(ctx); /* after acso vfio: each function held by vfio-pci */
	rp_string(RP_JSON, "before_snapshot", NULL, bpath);
	rp_bool(RP_JSON, "isolated", NULL, ok);
	if (!rep.ngpus)
		rp_text("\nNot verified: there is no GPU (no PCI device of class 0300, 0302 or 0380).\n");
	else
		rp_text("\n%s\n", ok ? "Verified: the GPU is isolated." : "Not verified: the GPU is not isolated.");
	if (o.make_default)
		rp_string(RP_JSON, "default_entry", NULL, made_rc == EXIT_OK ? made : NULL);
	if (made_rc == EXIT_OK && made)
		rp_text("%s the default boot entry: %s (grub-set-default)\n", ctx->dry_run ? "Would make" : "Made", made);
	if (!ok && rep.ngpus && !ctx->json) {
		bool acs_kernel = acs_kernel_name || s.acs_supported == TRI_YES;
		if (s.acs_param && !s.log_acs_enabled && s.acs_supported != TRI_YES)
			msg_hint("pcie_acs_override is set but this kernel does not act on it: boot the acso kernel (see 'acso status')");
		else if (!s.acs_param && acs_kernel)
			msg_hint("pcie_acs_override is not on the command line: 'sudo acso grub', then reboot");
		else if (!s.acs_param)
			msg_hint("pcie_acs_override is not on the command line and kernel %s does not carry the override: "
				 "'acso run' builds an ACS kernel and registers the parameter", s.release ? s.release : "unknown");
	}
	if (have_before)
		iommu_report_free(&before);
	iommu_report_free(&rep);
	sysinfo_free(&s);
	return report_end(!ok ? EXIT_FAIL : made_rc);
}
