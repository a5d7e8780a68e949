/* cmd-groups.c — `acso groups`: every IOMMU group in numeric order with its
 * devices, and a verdict for each GPU (FIELD-NOTES §7). The report is built
 * once (iommu.c) and rendered as text, as a topology tree, or as JSON. */
#include <string.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/report-groups.h"
#include "cli/report.h"
#include "machine/pcinames.h"


struct groups_opts {
	bool tree;
	const char *gpu;
};

#define OPTS struct groups_opts
const struct acso_option groups_options[] = {
	OPT_BOOL(0, "tree", tree, "show the PCI topology as a tree, each device with its group"),
	OPT_STRING(0, "gpu", gpu, "ADDR", "judge only this GPU (01:00.0 or 0000:01:00.0); the exit code is its verdict"),
	OPT_END,
};

static void mark(const struct iommu_report *r, int d)
{
	int gi = iommu_gpu_of(r, d);
	if (gi < 0)
		return;
	if (r->gpus[gi].dev == d)
		rp_text("  %s[GPU]%s", sty(ST_GPU), sty(ST_RESET));
	else
		rp_text("  %s[GPU function of %s]%s", sty(ST_GPU), pci_short_addr(&r->pci.v[r->gpus[gi].dev]), sty(ST_RESET));
}

static void print_groups(const struct iommu_report *r)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct iommu_group *g = &r->groups[i];
		rp_text("%sIOMMU group %d%s", sty(ST_BOLD), g->id, sty(ST_RESET));
		if (g->root_fs)
			rp_text("  %s[root file system: %s]%s", sty(ST_WARN), r->root_fs_name, sty(ST_RESET));
		if (g->default_nic)
			rp_text("  %s[default route: %s]%s", sty(ST_WARN), r->nic_name, sty(ST_RESET));
		if (!g->n)
			rp_text("  (no devices)");
		rp_text("\n");
		for (size_t k = 0; k < g->n; k++) {
			rp_text("  ");
			rg_device_line(&r->pci.v[g->devs[k]]);
			mark(r, g->devs[k]);
			rp_text("\n");
		}
	}
}

static void print_tree_node(const struct iommu_report *r, int d, const char *prefix, bool last)
{
	const struct pcidev *x = &r->pci.v[d];
	rp_text("%s%s", prefix, last ? "└─ " : "├─ ");
	rg_device_line(x);
	if (x->group >= 0)
		rp_text("  group %d", x->group);
	else
		rp_text("  no group");
	mark(r, d);
	rp_text("\n");
	_cleanup_free_ char *sub = xasprintf("%s%s", prefix, last ? "   " : "│  ");
	int lastchild = -1;
	for (size_t i = 0; i < r->pci.n; i++)
		if (r->pci.v[i].parent == d)
			lastchild = (int)i;
	for (size_t i = 0; i < r->pci.n; i++)
		if (r->pci.v[i].parent == d)
			print_tree_node(r, (int)i, sub, (int)i == lastchild);
}

static void print_tree(const struct iommu_report *r)
{
	/* Roots: devices with no (known) parent, grouped by domain:bus. */
	int lastroot = -1;
	for (size_t i = 0; i < r->pci.n; i++)
		if (r->pci.v[i].parent < 0)
			lastroot = (int)i;
	rp_text("PCI topology\n");
	for (size_t i = 0; i < r->pci.n; i++)
		if (r->pci.v[i].parent < 0)
			print_tree_node(r, (int)i, "", (int)i == lastroot);
}

/* --gpu: the index of the GPU at addr in *only; an exit code on bad input. */
static int select_gpu(const struct iommu_report *rep, const char *addr, int *only)
{
	char a[16];
	if (iommu_norm_addr(addr, a) < 0) {
		msg_error("--gpu '%s': not a PCI address", addr);
		msg_hint("give it as BUS:SLOT.FUNC (01:00.0) or DOMAIN:BUS:SLOT.FUNC");
		return EXIT_USAGE;
	}
	*only = iommu_find_gpu(rep, a);
	if (*only < 0) {
		bool exists = pci_find(&rep->pci, a) >= 0;
		msg_error("--gpu '%s': %s", addr, exists ? "not a GPU (class 0300, 0302 or 0380)" : "no such PCI device");
		msg_hint("run 'acso groups' to see the devices and their classes");
		return EXIT_FAIL;
	}
	return 0;
}

static void render_text(const struct iommu_report *rep, bool tree, int only)
{
	if (tree)
		print_tree(rep);
	else
		print_groups(rep);
	if (!rep->ngroups)
		return;
	for (size_t i = 0; i < rep->ngpus; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		rp_text("\n");
		rg_gpu_verdict_text(rep, &rep->gpus[i]);
	}
	if (only < 0 && rep->override_all && rep->ngpus > 1)
		rp_text("\nTo split every shared GPU: pcie_acs_override=%s\n", rep->override_all);
	if (!rep->ngpus)
		rp_text("\nNo GPU (class 0300, 0302 or 0380) found.\n");
}

int cmd_groups(struct acso_ctx *ctx, int argc, char **argv)
{
	struct groups_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct iommu_report rep;
	if ((r = rg_load(ctx, &rep)))
		return r;
	int only = -1;
	if (o.gpu && (r = select_gpu(&rep, o.gpu, &only))) {
		iommu_report_free(&rep);
		return r;
	}
	enum iommu_outcome out = iommu_outcome(&rep, only);
	int code = !rep.ngroups || out == OUTCOME_UNJUDGED ? EXIT_FAIL
		   : out == OUTCOME_SHARED ? EXIT_NEEDS_OVERRIDE : EXIT_OK;
	report_begin(ctx);
	rg_groups(&rep, only);
	if (!ctx->json)
		render_text(&rep, o.tree, only);
	if (!rep.ngroups) {
		msg_error("no IOMMU groups in '%s%s': the IOMMU is off or not supported",
			  strcmp(ctx->root, "/") ? ctx->root : "", "/sys/kernel/iommu_groups");
		msg_hint("turn on VT-d / AMD-Vi in the firmware setup; on Intel add intel_iommu=on to the kernel command line; 'acso check' says what is missing");
	}
	iommu_report_free(&rep);
	return report_end(code);
}
