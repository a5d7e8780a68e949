/* pick.c — which boot parameters acso registers; see pick.h. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "boot/grub.h"
#include "boot/params.h"
#include "boot/pick.h"

void gpu_pick_free(struct gpu_pick *p)
{
	free(p->acs);
	free(p->vfio_ids);
	*p = (struct gpu_pick){0};
}

static int refuse(struct gpu_pick *p, enum gpu_pick_status s)
{
	p->status = s;
	return -ACSO_E_STATE;
}

/* Without an address: the one GPU, or the one that shares its group
 * (binding the wrong one takes the host's display away). -1: ambiguous. */
static int default_gpu(const struct iommu_report *r, size_t *shared)
{
	int gi = -1;
	*shared = 0;
	for (size_t i = 0; i < r->ngpus; i++)
		if (r->gpus[i].verdict == VERDICT_SHARED && (*shared)++ == 0)
			gi = (int)i;
	if (r->ngpus == 1)
		return 0;
	return *shared == 1 ? gi : -1;
}

/* The override for GPU g; *split: the least invasive one, whose prediction
 * says which devices stay (g->remaining). */
static int decide_acs(const struct gpu_verdict *g, struct gpu_pick *p, bool *split)
{
	if (g->verdict != VERDICT_SHARED) {
		p->acs = xstrdup("");
		return 0;
	}
	if (!g->override && !g->override_broad)
		return refuse(p, PICK_NO_SPLIT);
	p->acs = xstrdup(g->override ? g->override : g->override_broad);
	*split = g->override != NULL;
	return 0;
}

/* The rule: no host-critical device may stay in the group that vfio-pci
 * takes. Without a predicted split every blocker stays. */
static int check_host_critical(const struct iommu_report *r, const struct gpu_verdict *g, bool split,
			       struct gpu_pick *p)
{
	for (size_t b = 0; b < g->nblockers; b++) {
		if (!g->blockers[b].host_critical)
			continue;
		bool stays = !split;
		for (size_t k = 0; split && k < g->nremaining; k++)
			if (g->remaining[k] == g->blockers[b].dev)
				stays = true;
		if (stays) {
			snprintf(p->holder, sizeof(p->holder), "%s", pci_short_addr(&r->pci.v[g->blockers[b].dev]));
			p->holder_root_fs = g->blockers[b].dev == r->root_fs_dev;
			return refuse(p, PICK_HOST_CRITICAL);
		}
	}
	return 0;
}

/* vendor:device of the GPU and its own functions, each once. */
static char *own_ids(const struct iommu_report *r, const struct gpu_verdict *g)
{
	struct buf ids = {0};
	struct strv seen = {0};
	for (size_t k = 0; k <= g->nfunctions; k++) {
		const struct pcidev *d = &r->pci.v[k == 0 ? g->dev : g->functions[k - 1]];
		char id[16];
		snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
		if (strv_has(&seen, id))
			continue;
		strv_push(&seen, id);
		buf_printf(&ids, "%s%s", ids.len ? "," : "", id);
	}
	strv_free(&seen);
	char *s = xstrdup(buf_str(&ids));
	buf_free(&ids);
	return s;
}

int gpu_pick(const struct iommu_report *r, const char *gpu, bool want_acs, bool vfio, struct gpu_pick *p)
{
	*p = (struct gpu_pick){0};
	/* With the IOMMU off the directory is absent or (usually) empty. */
	if (!r->have_groups_dir || r->ngroups == 0)
		return refuse(p, PICK_IOMMU_OFF);
	int gi;
	if (gpu) {
		if ((gi = iommu_find_gpu(r, gpu)) < 0)
			return refuse(p, PICK_NO_SUCH_GPU);
	} else {
		gi = default_gpu(r, &p->count);
		if (gi < 0 && want_acs && !vfio) {
			/* one override for every shared GPU, or none needed */
			if (p->count && !r->override_all)
				return refuse(p, PICK_NO_COMMON);
			p->acs = xstrdup(p->count ? r->override_all : "");
			return 0;
		}
	}
	if (gi < 0) {
		p->count = r->ngpus;
		return refuse(p, r->ngpus > 1 ? PICK_AMBIGUOUS : PICK_NO_GPU);
	}
	const struct gpu_verdict *g = &r->gpus[gi];
	snprintf(p->gpu, sizeof(p->gpu), "%s", pci_short_addr(&r->pci.v[g->dev]));
	p->verdict = verdict_text(g->verdict);
	if (g->verdict == VERDICT_NO_GROUP)
		return refuse(p, PICK_GPU_NO_GROUP);
	bool split = false;
	int q;
	if (want_acs && (q = decide_acs(g, p, &split)) < 0)
		return q;
	if (vfio) {
		if ((q = check_host_critical(r, g, split, p)) < 0)
			return q;
		p->vfio_ids = own_ids(r, g);
	}
	return 0;
}

int boot_params_decide(int rootfd, const struct boot_request *rq, struct strv *params, struct gpu_pick *pick,
		       struct acso_err *e)
{
	*pick = (struct gpu_pick){0};
	const char *acs = rq->acs ? rq->acs : "";
	bool is_auto = !strcmp(acs, "auto");
	if (is_auto || rq->vfio) {
		struct iommu_report r = {0};
		int q = iommu_report_build(rootfd, &r, e);
		if (q == 0)
			q = gpu_pick(&r, rq->gpu, is_auto, rq->vfio, pick);
		iommu_report_free(&r);
		if (q < 0)
			return q;
		if (is_auto)
			acs = pick->acs;
	}
	if (*acs) {
		int q = acs_mode_check(acs, e);
		if (q < 0)
			return q;
		strv_pushf(params, "pcie_acs_override=%s", acs);
	}
	/* amd_iommu=on is not a valid value: on AMD the IOMMU is on when the
	 * firmware exposes it. */
	if (rq->intel_iommu == 1 || (rq->intel_iommu < 0 && !strcmp(cpu_vendor(rootfd), "intel")))
		strv_push(params, "intel_iommu=on");
	if (rq->iommu_pt)
		strv_push(params, "iommu=pt");
	if (pick->vfio_ids)
		strv_pushf(params, "vfio-pci.ids=%s", pick->vfio_ids);
	return 0;
}
