/* iommu.c — IOMMU groups and GPU verdicts (see iommu.h). */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "base/fileio.h"
#include "machine/iommu.h"

#define MAX_OVERRIDE_IDS 15     /* the classic patch accepts at most 15 ids */

/* ---- the kernel's grouping rule, replayed with an override ---------- */

struct override {
	uint32_t ids[64];       /* vendor << 16 | device */
	size_t n;
};

static bool ov_has(const struct override *o, const struct pcidev *d)
{
	if (!d->ids_ok)
		return false;
	uint32_t id = (uint32_t)d->vendor << 16 | d->device;
	for (size_t i = 0; i < o->n; i++)
		if (o->ids[i] == id)
			return true;
	return false;
}

/* The classic patch: only PCIe devices WITHOUT an ACS capability. */
static bool overridable(const struct pcidev *d)
{
	return d->cfg.pcie >= 0 && d->cfg.acs == TRI_NO && d->ids_ok;
}

/* pci_acs_enabled() for REQ_ACS_FLAGS. *unsure is set when the answer
 * depends on something we could not read. */
static bool acs_enabled(const struct pcidev *d, const struct override *o, bool *unsure)
{
	if (d->cfg.pcie == PCIE_UNKNOWN || !d->cfg.valid) {
		*unsure = true;
		return false;
	}
	if (o && overridable(d) && ov_has(o, d))
		return true;
	/* As pci_acs_enabled(): conventional PCI and the bridge types the
	 * spec excludes from ACS never isolate. */
	if (d->cfg.pcie == PCIE_NONE || d->cfg.pcie == PCIE_TO_PCI_BRIDGE ||
	    d->cfg.pcie == PCI_TO_PCIE_BRIDGE || d->cfg.pcie == PCIE_RC_EC)
		return false;
	bool mf = d->cfg.multifunction;
	bool check = false;
	switch (d->cfg.pcie) {
	case PCIE_ROOT_PORT:
	case PCIE_DOWNSTREAM:
		check = true;
		break;
	case PCIE_RC_ENDPOINT:
	case PCIE_UPSTREAM:
	case PCIE_ENDPOINT:
	case PCIE_LEGACY_ENDPOINT:
		check = mf;
		break;
	default:
		break;
	}
	if (!check)
		return true;
	if (d->cfg.acs == TRI_UNKNOWN) {
		*unsure = true;
		return false;
	}
	if (d->cfg.acs == TRI_NO)
		return false;
	/* Capabilities missing from the capability field count as hard-wired
	 * enabled; the ones present must be switched on. */
	uint16_t want = ACS_REQUIRED & d->cfg.acs_cap;
	return (d->cfg.acs_ctrl & want) == want;
}

/* pci_acs_path_enabled(start, NULL): every device from start up to the root bus. */
static bool path_enabled(const struct pci_list *l, int start, const struct override *o, bool *unsure)
{
	for (int p = start, hops = 0; p >= 0 && hops <= (int)l->n; p = l->v[p].parent, hops++) {
		if (!acs_enabled(&l->v[p], o, unsure))
			return false;
		if (!l->v[p].parent_known && l->v[p].parent < 0 && !l->v[p].syspath)
			*unsure = true;
	}
	return true;
}

static int uf_find(int *uf, int x)
{
	while (uf[x] != x)
		x = uf[x] = uf[uf[x]];
	return x;
}

static void uf_union(int *uf, int a, int b)
{
	a = uf_find(uf, a), b = uf_find(uf, b);
	if (a != b)
		uf[a < b ? b : a] = a < b ? a : b;
}

static bool same_slot(const struct pcidev *a, const struct pcidev *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

/* Simulated groups: uf[i] is the representative of device i. */
static void simulate(const struct pci_list *l, const struct override *o, int *uf, bool *unsure)
{
	for (size_t i = 0; i < l->n; i++)
		uf[i] = (int)i;
	for (size_t i = 0; i < l->n; i++) {
		int start = (int)i;
		/* DMA alias: behind a PCIe-to-PCI bridge, devices use its requester ID. */
		for (int p = l->v[i].parent, hops = 0; p >= 0 && hops <= (int)l->n; p = l->v[p].parent, hops++) {
			if (l->v[p].cfg.pcie == PCIE_TO_PCI_BRIDGE || l->v[p].cfg.pcie == PCIE_NONE) {
				uf_union(uf, (int)i, p);
				start = p;
			}
		}
		int pdev = start;
		for (int b = l->v[start].parent, hops = 0; b >= 0 && hops <= (int)l->n; b = l->v[b].parent, hops++) {
			if (path_enabled(l, b, o, unsure))
				break;
			pdev = b;
		}
		uf_union(uf, (int)i, pdev);
		const struct pcidev *pd = &l->v[pdev];
		bool mf = pd->cfg.valid ? pd->cfg.multifunction : true;
		if (mf && !acs_enabled(pd, o, unsure)) {
			for (size_t s = 0; s < l->n; s++)
				if ((int)s != pdev && same_slot(&l->v[s], pd) && !acs_enabled(&l->v[s], o, unsure))
					uf_union(uf, pdev, (int)s);
		}
	}
}

/* ---- roles in a GPU's group ------------------------------------------ */

enum member_role iommu_role(const struct iommu_report *r, const struct gpu_verdict *g, int j)
{
	const struct pcidev *gd = &r->pci.v[g->dev], *d = &r->pci.v[j];
	if (j == g->dev)
		return ROLE_GPU;
	if (!d->class_ok)
		return ROLE_UNKNOWN;
	if (same_slot(gd, d) && (pci_is_gpu_class(d->class) || pci_is_gpu_companion_class(d->class)))
		return ROLE_FUNCTION;
	/* Bridges are never bound to vfio nor passed: they do not stop a
	 * passthrough, whether above this GPU or above another device. */
	if (pci_is_bridge(d))
		return ROLE_BRIDGE;
	return ROLE_BLOCKER;
}

enum iommu_outcome iommu_outcome(const struct iommu_report *r, int only_gpu)
{
	enum iommu_outcome o = OUTCOME_USABLE;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only_gpu >= 0 && (size_t)only_gpu != i)
			continue;
		enum verdict v = r->gpus[i].verdict;
		if (v == VERDICT_SHARED && o == OUTCOME_USABLE)
			o = OUTCOME_SHARED;
		else if (v == VERDICT_UNKNOWN || v == VERDICT_NO_GROUP)
			o = OUTCOME_UNJUDGED;
	}
	return o;
}

bool iommu_isolated(const struct iommu_report *r, int only_gpu)
{
	if (!r->ngroups || !r->ngpus)
		return false;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only_gpu >= 0 && (size_t)only_gpu != i)
			continue;
		enum verdict v = r->gpus[i].verdict;
		if (v != VERDICT_ISOLATED && v != VERDICT_ISOLATED_BRIDGE)
			return false;
	}
	return true;
}

int iommu_gpu_of(const struct iommu_report *r, int d)
{
	const struct pcidev *x = &r->pci.v[d];
	if (!x->class_ok)
		return -1;
	for (size_t i = 0; i < r->ngpus; i++) {
		const struct pcidev *g = &r->pci.v[r->gpus[i].dev];
		if (r->gpus[i].dev == d || (same_slot(g, x) && pci_is_gpu_companion_class(x->class)))
			return (int)i;
	}
	return -1;
}

static void push_int(int **v, size_t *n, int x)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = x;
}

/* Devices of the GPU's current group that the override would NOT split off:
 * blockers (and unreadable devices) left in its simulated group. */
static size_t remaining_with(const struct iommu_report *r, const struct gpu_verdict *g,
			     const struct override *o, int *uf, bool *unsure, int **out, size_t *nout)
{
	const struct iommu_group *grp = iommu_group_by_id(r, g->group);
	simulate(&r->pci, o, uf, unsure);
	size_t left = 0;
	for (size_t k = 0; grp && k < grp->n; k++) {
		int j = grp->devs[k];
		enum member_role role = iommu_role(r, g, j);
		if (role != ROLE_BLOCKER && role != ROLE_UNKNOWN)
			continue;
		if (uf_find(uf, j) == uf_find(uf, g->dev)) {
			left++;
			if (out)
				push_int(out, nout, j);
		}
	}
	return left;
}

static void ov_add(struct override *o, const struct pcidev *d)
{
	if (ov_has(o, d) || o->n >= ARRAY_SIZE(o->ids))
		return;
	o->ids[o->n++] = (uint32_t)d->vendor << 16 | d->device;
}

static char *ov_string(const struct override *o)
{
	struct buf b = {0};
	for (size_t i = 0; i < o->n; i++)
		buf_printf(&b, "%sid:%04x:%04x", i ? "," : "", o->ids[i] >> 16, o->ids[i] & 0xffff);
	buf_str(&b);
	return b.data;
}

static void decide_override(struct iommu_report *r, struct gpu_verdict *g)
{
	const struct pci_list *l = &r->pci;
	const struct pcidev *gd = &l->v[g->dev];
	int *uf = xcalloc(l->n, sizeof(int));
	bool unsure = false;
	struct override o = {0};

	/* Candidates: the bridges above the GPU that do not isolate, and the
	 * GPU itself when a sibling function outside the GPU is in the way. */
	for (int p = gd->parent, hops = 0; p >= 0 && hops <= (int)l->n; p = l->v[p].parent, hops++) {
		const struct pcidev *pd = &l->v[p];
		bool u = false;
		if (acs_enabled(pd, NULL, &u) && !u)
			continue;
		if (pd->cfg.pcie == PCIE_TO_PCI_BRIDGE || pd->cfg.pcie == PCIE_NONE)
			strv_pushf(&g->warnings, "%s is a conventional PCI bridge: devices behind it share one requester ID and no override can split them",
				   pci_short_addr(pd));
		else if (pd->cfg.acs == TRI_YES)
			strv_pushf(&g->warnings, "the port above, %s, has an ACS capability (control %04x): the override patch skips devices with ACS, so pcie_acs_override cannot split this group; try another slot or a firmware update",
				   pci_short_addr(pd), pd->cfg.acs_ctrl);
		else if (pd->cfg.acs == TRI_UNKNOWN)
			strv_pushf(&g->warnings, "the extended config space of %s could not be read (run as root): whether it has ACS is unknown",
				   pci_short_addr(pd));
		if (overridable(pd))
			ov_add(&o, pd);
	}
	if (gd->cfg.pcie == PCIE_NONE)
		strv_pushf(&g->warnings, "%s is a conventional PCI device: the override does not apply to it", pci_short_addr(gd));
	for (size_t b = 0; b < g->nblockers; b++) {
		const struct pcidev *bd = &l->v[g->blockers[b].dev];
		if (same_slot(bd, gd) && overridable(gd))
			ov_add(&o, gd);
	}

	/* Least invasive: drop every id the split does not need. */
	size_t left = remaining_with(r, g, &o, uf, &unsure, NULL, NULL);
	if (left == 0) {
		for (size_t i = o.n; i-- > 0;) {
			struct override t = o;
			memmove(&t.ids[i], &t.ids[i + 1], (t.n - i - 1) * sizeof(t.ids[0]));
			t.n--;
			bool u2 = false;
			if (remaining_with(r, g, &t, uf, &u2, NULL, NULL) == 0)
				o = t;
		}
	}
	unsure = false;
	left = remaining_with(r, g, &o, uf, &unsure, &g->remaining, &g->nremaining);

	if (left == 0 && o.n > 0 && o.n <= MAX_OVERRIDE_IDS) {
		g->override = ov_string(&o);
		g->override_helps = unsure ? TRI_UNKNOWN : TRI_YES;
		bool down = false, multi = false;
		for (size_t i = 0; i < l->n; i++) {
			if (!ov_has(&o, &l->v[i]) || !overridable(&l->v[i]))
				continue;
			if (l->v[i].cfg.pcie == PCIE_ROOT_PORT || l->v[i].cfg.pcie == PCIE_DOWNSTREAM)
				down = true;
			else
				multi = true;
		}
		g->override_broad = xstrdup(down && multi ? "downstream,multifunction" : down ? "downstream" : "multifunction");
	} else {
		g->override_helps = unsure ? TRI_UNKNOWN : TRI_NO;
		if (left > 0 && !unsure)
			strv_pushf(&g->warnings, "no pcie_acs_override value splits %zu device(s) from this GPU's group", left);
		else if (unsure)
			strv_pushf(&g->warnings, "whether an override would split this group cannot be told from what could be read");
	}
	free(uf);
}

/* ---- the root file system and the default-route NIC ------------------ */

/* The PCI device a sysfs class entry hangs off (last address in its path). */
static int class_entry_dev(int rootfd, const struct pci_list *l, const char *path, int depth)
{
	_cleanup_free_ char *t = NULL;
	if (depth > 4 || root_readlink(rootfd, path, &t) < 0)
		return -1;
	int found = -1;
	_cleanup_free_ char *copy = xstrdup(t);
	char *save = NULL;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		if (pci_parse_addr(tok, NULL, NULL, NULL, NULL) == 0)
			found = pci_find(l, tok);
	if (found >= 0)
		return found;
	/* A device-mapper or md device: follow its first slave. */
	_cleanup_free_ char *slaves = xasprintf("%s/slaves", path);
	DIR *d = root_opendir(rootfd, slaves);
	if (!d)
		return -1;
	struct dirent *de;
	while (found < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '/'))
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s", de->d_name);
		found = class_entry_dev(rootfd, l, p, depth + 1);
	}
	closedir(d);
	return found;
}

/* mountinfo names the root's device by number, which also works when
 * /proc/mounts says "/dev/root" (booted without an initramfs). */
static bool find_root_fs_by_number(int rootfd, struct iommu_report *r)
{
	_cleanup_free_ char *m = NULL;
	if (root_read_file(rootfd, "/proc/self/mountinfo", 1 << 20, &m, NULL) < 0)
		return false;
	char devnum[32] = "", src[256] = "";
	char *save = NULL;
	for (char *line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char num[32], mroot[256], mnt[256];
		if (sscanf(line, "%*s %*s %31s %255s %255s", num, mroot, mnt) != 3 || strcmp(mnt, "/"))
			continue;
		snprintf(devnum, sizeof(devnum), "%s", num);
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(dash + 3, "%*s %255s", src) != 1)
			src[0] = '\0';
	}
	unsigned maj, min;
	char extra;
	if (sscanf(devnum, "%u:%u%c", &maj, &min, &extra) != 2)
		return false;
	_cleanup_free_ char *p = xasprintf("/sys/dev/block/%u:%u", maj, min);
	int dev = class_entry_dev(rootfd, &r->pci, p, 0);
	if (dev < 0)
		return false;
	r->root_fs_dev = dev;
	/* The kernel's name of the device ("/dev/root" says nothing). */
	_cleanup_free_ char *t = NULL;
	const char *base = root_readlink(rootfd, p, &t) == 0 ? strrchr(t, '/') : strrchr(src, '/');
	r->root_fs_name = xstrdup(base && base[1] ? base + 1 : devnum);
	return true;
}

static void find_root_fs(int rootfd, struct iommu_report *r)
{
	if (find_root_fs_by_number(rootfd, r))
		return;
	_cleanup_free_ char *m = NULL;
	if (root_read_file(rootfd, "/proc/mounts", 1 << 20, &m, NULL) < 0)
		return;
	char *dev = NULL, *save = NULL;
	for (char *line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char src[256], mnt[256];
		if (sscanf(line, "%255s %255s", src, mnt) == 2 && !strcmp(mnt, "/") && startswith(src, "/dev/")) {
			free(dev);
			dev = xstrdup(src); /* the last mount on / is the one in effect */
		}
	}
	if (!dev)
		return;
	_cleanup_free_ char *name = NULL;
	if (startswith(dev, "/dev/mapper/")) {
		_cleanup_free_ char *t = NULL;
		if (root_readlink(rootfd, dev, &t) == 0)
			name = xstrdup(strrchr(t, '/') ? strrchr(t, '/') + 1 : t);
	}
	if (!name)
		name = xstrdup(dev + 5);
	free(dev);
	if (strchr(name, '/') || !*name)
		return;
	_cleanup_free_ char *p = xasprintf("/sys/class/block/%s", name);
	r->root_fs_dev = class_entry_dev(rootfd, &r->pci, p, 0);
	r->root_fs_name = TAKE_PTR(name);
}

static void find_default_nic(int rootfd, struct iommu_report *r)
{
	_cleanup_free_ char *m = NULL;
	if (root_read_file(rootfd, "/proc/net/route", 1 << 20, &m, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char ifc[64], dst[16], gw[16], flags[16], refc[16], use[16], metric[16], mask[16];
		if (sscanf(line, "%63s %15s %15s %15s %15s %15s %15s %15s", ifc, dst, gw, flags, refc, use, metric, mask) != 8)
			continue;
		if (strcmp(dst, "00000000") || strcmp(mask, "00000000") || strchr(ifc, '/'))
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/class/net/%s", ifc);
		r->nic_dev = class_entry_dev(rootfd, &r->pci, p, 0);
		r->nic_name = xstrdup(ifc);
		return;
	}
}

/* ---- the report ------------------------------------------------------- */

static int cmp_group(const void *a, const void *b)
{
	const struct iommu_group *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

const struct iommu_group *iommu_group_by_id(const struct iommu_report *r, int id)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].id == id)
			return &r->groups[i];
	return NULL;
}

static void judge(struct iommu_report *r, struct gpu_verdict *g)
{
	const struct pci_list *l = &r->pci;
	const struct iommu_group *grp = iommu_group_by_id(r, g->group);
	if (!grp) {
		g->verdict = VERDICT_NO_GROUP;
		return;
	}
	g->host_critical = grp->root_fs || grp->default_nic;
	for (size_t k = 0; k < grp->n; k++) {
		int j = grp->devs[k];
		switch (iommu_role(r, g, j)) {
		case ROLE_GPU:
			break;
		case ROLE_FUNCTION:
			push_int(&g->functions, &g->nfunctions, j);
			break;
		case ROLE_BRIDGE:
			push_int(&g->bridges, &g->nbridges, j);
			break;
		case ROLE_UNKNOWN:
			push_int(&g->unknown, &g->nunknown, j);
			break;
		case ROLE_BLOCKER: {
			g->blockers = xrealloc(g->blockers, (g->nblockers + 1) * sizeof(*g->blockers));
			struct blocker *b = &g->blockers[g->nblockers++];
			b->dev = j;
			b->port = l->v[j].parent;
			b->acs = l->v[j].cfg.acs;
			b->port_acs = b->port >= 0 ? l->v[b->port].cfg.acs : TRI_UNKNOWN;
			b->host_critical = j == r->root_fs_dev || j == r->nic_dev;
			break;
		}
		}
	}
	if (g->nblockers)
		g->verdict = VERDICT_SHARED;
	else if (g->nunknown)
		g->verdict = VERDICT_UNKNOWN;
	else
		g->verdict = g->nbridges ? VERDICT_ISOLATED_BRIDGE : VERDICT_ISOLATED;
	if (g->verdict == VERDICT_SHARED || g->verdict == VERDICT_UNKNOWN)
		decide_override(r, g);
	if (g->host_critical)
		strv_pushf(&g->warnings, "group %d holds %s: passing the whole group would take the host down",
			   g->group, grp->root_fs && grp->default_nic ? "the root file system's disk and the default-route network interface"
				     : grp->root_fs ? "the root file system's disk" : "the default-route network interface");
}

static void read_groups(int rootfd, struct iommu_report *r)
{
	r->have_groups_dir = root_exists(rootfd, "/sys/kernel/iommu_groups") == 0;
	for (size_t i = 0; i < r->pci.n; i++) {
		int gid = r->pci.v[i].group;
		if (gid < 0)
			continue;
		struct iommu_group *g = (struct iommu_group *)iommu_group_by_id(r, gid);
		if (!g) {
			r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
			g = &r->groups[r->ngroups++];
			memset(g, 0, sizeof(*g));
			g->id = gid;
		}
		push_int(&g->devs, &g->n, (int)i);
		if ((int)i == r->root_fs_dev)
			g->root_fs = true;
		if ((int)i == r->nic_dev)
			g->default_nic = true;
	}
	/* Empty group directories are groups too (and worth a line). */
	DIR *d = root_opendir(rootfd, "/sys/kernel/iommu_groups");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		uint32_t id;
		if (parse_u32(de->d_name, 10, &id) < 0 || id > 1000000 || iommu_group_by_id(r, (int)id))
			continue;
		r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
		memset(&r->groups[r->ngroups], 0, sizeof(r->groups[0]));
		r->groups[r->ngroups++].id = (int)id;
	}
	if (d)
		closedir(d);
	if (r->ngroups)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), cmp_group);
}

int iommu_report_build(int rootfd, struct iommu_report *r, struct acso_err *e)
{
	memset(r, 0, sizeof(*r));
	r->root_fs_dev = r->nic_dev = -1;
	int n = pci_scan(rootfd, &r->pci);
	if (n < 0)
		return err_set(e, n, "cannot list /sys/bus/pci/devices: %s", acso_strerror(n));
	find_root_fs(rootfd, r);
	find_default_nic(rootfd, r);
	read_groups(rootfd, r);

	for (size_t i = 0; i < r->pci.n; i++) {
		if (!r->pci.v[i].class_ok || !pci_is_gpu_class(r->pci.v[i].class))
			continue;
		r->gpus = xrealloc(r->gpus, (r->ngpus + 1) * sizeof(*r->gpus));
		struct gpu_verdict *g = &r->gpus[r->ngpus++];
		memset(g, 0, sizeof(*g));
		g->dev = (int)i;
		g->group = r->pci.v[i].group;
		g->override_helps = TRI_UNKNOWN;
	}
	/* A GPU's function that is itself a GPU class (a second display
	 * function) is judged with its function 0 only. */
	for (size_t i = 0; i < r->ngpus; i++)
		judge(r, &r->gpus[i]);

	/* One override for every shared GPU, when each has one. */
	struct buf all = {0};
	bool any = false, every = true;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (r->gpus[i].verdict != VERDICT_SHARED)
			continue;
		any = true;
		if (!r->gpus[i].override) {
			every = false;
			continue;
		}
		_cleanup_free_ char *copy = xstrdup(r->gpus[i].override);
		char *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			buf_str(&all);
			if (!strstr(all.data, tok))
				buf_printf(&all, "%s%s", all.len ? "," : "", tok);
		}
	}
	if (any && every && all.len)
		r->override_all = TAKE_PTR(all.data);
	buf_free(&all);
	return 0;
}

void iommu_report_free(struct iommu_report *r)
{
	for (size_t i = 0; i < r->ngroups; i++)
		free(r->groups[i].devs);
	free(r->groups);
	for (size_t i = 0; i < r->ngpus; i++) {
		struct gpu_verdict *g = &r->gpus[i];
		free(g->functions);
		free(g->bridges);
		free(g->blockers);
		free(g->unknown);
		free(g->remaining);
		free(g->override);
		free(g->override_broad);
		strv_free(&g->warnings);
	}
	free(r->gpus);
	free(r->root_fs_name);
	free(r->nic_name);
	free(r->override_all);
	pci_list_free(&r->pci);
	memset(r, 0, sizeof(*r));
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ISOLATED: return "isolated";
	case VERDICT_ISOLATED_BRIDGE: return "isolated_with_bridge";
	case VERDICT_SHARED: return "shared";
	case VERDICT_NO_GROUP: return "no_group";
	case VERDICT_UNKNOWN: return "unknown";
	}
	return "unknown";
}

const char *verdict_text(enum verdict v)
{
	switch (v) {
	case VERDICT_ISOLATED: return "isolated";
	case VERDICT_ISOLATED_BRIDGE: return "isolated with its bridge";
	case VERDICT_SHARED: return "shares its group";
	case VERDICT_NO_GROUP: return "in no IOMMU group";
	case VERDICT_UNKNOWN: return "cannot tell (a device in its group could not be read)";
	}
	return "unknown";
}

int iommu_norm_addr(const char *in, char buf[16])
{
	char tmp[32];
	if (strlen(in) == 7)
		snprintf(tmp, sizeof(tmp), "0000:%s", in);
	else
		snprintf(tmp, sizeof(tmp), "%s", in);
	for (char *p = tmp; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	if (pci_parse_addr(tmp, NULL, NULL, NULL, NULL) < 0)
		return -EINVAL;
	snprintf(buf, 16, "%s", tmp);
	return 0;
}

int iommu_find_gpu(const struct iommu_report *r, const char *addr)
{
	char a[16];
	if (iommu_norm_addr(addr, a) < 0)
		return -1;
	for (size_t i = 0; i < r->ngpus; i++)
		if (!strcmp(r->pci.v[r->gpus[i].dev].addr, a))
			return (int)i;
	return -1;
}
