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
#include "cli/groups-render.h"
#include "cli/output.h"
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

/* The report of a snapshot archive: unpacked to a temp dir, read, removed. */
static int load_before(const char *path, struct iommu_report *r, struct acso_err *e)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *dir = xasprintf("%s/acso-before.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return err_set(e, -errno, "create a temp dir: %s", strerror(errno));
	int rc = snapshot_extract(path, dir, e);
	if (rc == 0) {
		int fd = root_open_dir(dir);
		if (fd < 0)
			rc = err_set(e, fd, "%s", acso_strerror(fd));
		else {
			rc = iommu_report_build(fd, r, e);
			if (rc == 0)
				pci_fill_names(&r->pci);
			close(fd);
		}
	}
	rm_rf_at(AT_FDCWD, dir);
	return rc;
}

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

static void column(FILE *f, const struct iommu_report *r, int group, size_t row, char *out, size_t len)
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
	(void)f;
}

static void side_by_side(const struct iommu_report *before, const struct iommu_report *after, const struct gpu_verdict *ga)
{
	const char *addr = after->pci.v[ga->dev].addr;
	int bi = iommu_find_gpu(before, addr);
	if (bi < 0) {
		printf("  before: this GPU is not in the snapshot\n");
		return;
	}
	const struct gpu_verdict *gb = &before->gpus[bi];
	char lb[80], la[80];
	snprintf(lb, sizeof(lb), "before: group %d, %s", gb->group, verdict_name(gb->verdict));
	snprintf(la, sizeof(la), "after: group %d, %s", ga->group, verdict_name(ga->verdict));
	printf("  %-46s %s\n", lb, la);
	const struct iommu_group *g1 = iommu_group_by_id(before, gb->group), *g2 = iommu_group_by_id(after, ga->group);
	size_t rows = (g1 ? g1->n : 0) > (g2 ? g2->n : 0) ? g1->n : (g2 ? g2->n : 0);
	for (size_t i = 0; i < rows; i++) {
		char c1[80], c2[80];
		column(stdout, before, gb->group, i, c1, sizeof(c1));
		column(stdout, after, ga->group, i, c2, sizeof(c2));
		char line[160];
		snprintf(line, sizeof(line), "    %-44s   %s", c1, c2);
		printf("%s\n", strip_trailing(line));
	}
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
	struct iommu_report rep;
	if ((rc = load_iommu_report(ctx, &rep))) {
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

	/* Before: an explicit file, or the one `acso run` keeps. */
	_cleanup_free_ char *bpath = o.before ? xstrdup(o.before) : xasprintf("%s/snapshots/before.tar.gz", ctx->work_dir);
	struct iommu_report before;
	bool have_before = false;
	struct stat st;
	if (stat(bpath, &st) == 0) {
		struct acso_err e = {0};
		int r = load_before(bpath, &before, &e);
		if (r == 0)
			have_before = true;
		else
			fail(&e, r, "read snapshot '%s'", bpath);
	} else if (o.before) {
		fail(NULL, -errno, "snapshot '%s'", bpath);
	}

	bool acs_kernel_name = s.release && strstr(s.release, "acso");
	const char *boot = s.log_acs_enabled ? "enabled" : s.log_acs_parse_error ? "parse_error" : "absent";
	bool ok = rep.ngroups > 0 && rep.ngpus > 0;
	for (size_t i = 0; i < rep.ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		enum verdict v = rep.gpus[i].verdict;
		if (v != VERDICT_ISOLATED && v != VERDICT_ISOLATED_BRIDGE)
			ok = false;
	}

	_cleanup_free_ char *made = NULL;
	int made_rc = o.make_default ? make_default(ctx, &s, ok, acs_kernel_name || s.acs_supported == TRI_YES, &made)
				     : EXIT_OK;

	if (ctx->json) {
		struct json_object *j = json_object_new_object();
		struct json_object *k = json_object_new_object();
		json_object_object_add(k, "release", s.release ? json_object_new_string(s.release) : NULL);
		json_object_object_add(k, "acso_release", json_object_new_boolean(acs_kernel_name));
		json_object_object_add(k, "override_supported", json_object_new_string(tri_name(s.acs_supported)));
		json_object_object_add(j, "kernel", k);
		json_object_object_add(j, "cmdline_override", s.acs_param ? json_object_new_string(s.acs_param) : NULL);
		json_object_object_add(j, "boot_log", json_object_new_string(boot));
		struct json_object *gp = json_object_new_array();
		for (size_t i = 0; i < rep.ngpus; i++) {
			if (only >= 0 && (size_t)only != i)
				continue;
			struct json_object *g = gpu_json(&rep, &rep.gpus[i]);
			int bi = have_before ? iommu_find_gpu(&before, rep.pci.v[rep.gpus[i].dev].addr) : -1;
			if (bi >= 0) {
				struct json_object *b = json_object_new_object();
				const struct gpu_verdict *gb = &before.gpus[bi];
				json_object_object_add(b, "group", gb->group >= 0 ? json_object_new_int(gb->group) : NULL);
				json_object_object_add(b, "verdict", json_object_new_string(verdict_name(gb->verdict)));
				struct json_object *devs = json_object_new_array();
				const struct iommu_group *grp = iommu_group_by_id(&before, gb->group);
				for (size_t d = 0; grp && d < grp->n; d++)
					json_object_array_add(devs, json_object_new_string(before.pci.v[grp->devs[d]].addr));
				json_object_object_add(b, "devices", devs);
				json_object_object_add(g, "before", b);
			} else {
				json_object_object_add(g, "before", NULL);
			}
			json_object_array_add(gp, g);
		}
		json_object_object_add(j, "gpus", gp);
		json_object_object_add(j, "before_snapshot", have_before ? json_object_new_string(bpath) : NULL);
		json_object_object_add(j, "isolated", json_object_new_boolean(ok));
		if (o.make_default)
			json_object_object_add(j, "default_entry", made_rc == EXIT_OK ? json_object_new_string(made) : NULL);
		out_json(j);
		json_object_put(j);
	} else {
		printf("kernel           %s%s\n", s.release ? s.release : "unknown",
		       acs_kernel_name ? " (an acso kernel)" : "");
		printf("override support %s\n", s.acs_supported == TRI_YES ? "yes (the kernel printed the override's boot line)"
					      : s.acs_supported == TRI_NO ? "no: the kernel reported pcie_acs_override as unknown (a stock kernel)"
					      : "unknown (no boot log line either way)");
		printf("command line     %s%s\n", s.acs_param ? "pcie_acs_override=" : "",
		       s.acs_param ? s.acs_param : s.cmdline ? "no pcie_acs_override" : "unknown (/proc/cmdline unreadable)");
		printf("boot log         %s\n", s.log_acs_enabled ? "PCIe ACS overrides enabled"
					      : s.log_acs_parse_error ? "PCIe ACS ID parse error: the value is malformed"
					      : s.klog_source ? "no override line" : "no kernel log could be read");
		if (!rep.ngroups)
			printf("\nNo IOMMU groups: the IOMMU is off.\n");
		for (size_t i = 0; rep.ngroups && i < rep.ngpus; i++) {
			if (only >= 0 && (size_t)only != i)
				continue;
			putchar('\n');
			render_gpu_verdict(stdout, &rep, &rep.gpus[i]);
			if (have_before)
				side_by_side(&before, &rep, &rep.gpus[i]);
		}
		printf("\n%s\n", ok ? "Verified: the GPU is isolated." : "Not verified: the GPU is not isolated.");
		if (made_rc == EXIT_OK && made)
			printf("%s the default boot entry: %s (grub-set-default)\n", ctx->dry_run ? "Would make" : "Made",
			       made);
	}
	if (!ok && !ctx->json) {
		if (s.acs_param && !s.log_acs_enabled && s.acs_supported != TRI_YES)
			msg_hint("pcie_acs_override is set but this kernel does not act on it: boot the acso kernel (see 'acso status')");
		else if (!s.acs_param)
			msg_hint("pcie_acs_override is not on the command line: 'sudo acso grub', then reboot");
	}
	if (have_before)
		iommu_report_free(&before);
	iommu_report_free(&rep);
	sysinfo_free(&s);
	return !ok ? EXIT_FAIL : made_rc;
}
