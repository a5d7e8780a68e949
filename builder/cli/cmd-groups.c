/* cmd-groups.c — `acso groups`: every IOMMU group in numeric order with its
 * devices, and a verdict for each GPU (FIELD-NOTES §7). The report is built
 * once (iommu.c) and rendered as text, as a topology tree, or as JSON. */
#include <string.h>

#include "cli/commands.h"
#include "cli/groups-render.h"
#include "cli/output.h"
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

void render_device_line(FILE *f, const struct pcidev *d)
{
	fprintf(f, "%s ", pci_short_addr(d));
	if (d->class_ok) {
		if (d->class_name)
			fprintf(f, "%s [%04x]: ", d->class_name, d->class >> 8);
		else
			fprintf(f, "Class %04x [%04x]: ", d->class >> 8, d->class >> 8);
	} else {
		fprintf(f, "unknown class [????]: ");
	}
	if (d->ids_ok) {
		fprintf(f, "%s %s [%04x:%04x]", d->vendor_name ? d->vendor_name : "unknown vendor",
			d->device_name ? d->device_name : "unknown device", d->vendor, d->device);
	} else {
		fprintf(f, "unknown vendor and device [????:????]");
	}
	if (d->revision > 0)
		fprintf(f, " (rev %02x)", d->revision);
	fprintf(f, " driver %s", d->driver ? d->driver : "none");
}

static void mark(FILE *f, const struct iommu_report *r, int d)
{
	int gi = iommu_gpu_of(r, d);
	if (gi < 0)
		return;
	if (r->gpus[gi].dev == d)
		fprintf(f, "  %s[GPU]%s", sty(ST_GPU), sty(ST_RESET));
	else
		fprintf(f, "  %s[GPU function of %s]%s", sty(ST_GPU), pci_short_addr(&r->pci.v[r->gpus[gi].dev]), sty(ST_RESET));
}

static const char *acs_words(enum tri t)
{
	return t == TRI_YES ? "has ACS" : t == TRI_NO ? "no ACS" : "ACS unknown";
}

void render_gpu_verdict(FILE *f, const struct iommu_report *r, const struct gpu_verdict *g)
{
	const struct pcidev *gd = &r->pci.v[g->dev];
	enum style st = g->verdict == VERDICT_ISOLATED || g->verdict == VERDICT_ISOLATED_BRIDGE ? ST_PASS
			: g->verdict == VERDICT_SHARED ? ST_FAIL : ST_WARN;
	fprintf(f, "GPU %s %s %s: %s%s%s", pci_short_addr(gd), gd->vendor_name ? gd->vendor_name : "unknown vendor",
		gd->device_name ? gd->device_name : "unknown device", sty(st), verdict_text(g->verdict), sty(ST_RESET));
	if (g->group >= 0)
		fprintf(f, " (IOMMU group %d)", g->group);
	fputc('\n', f);
	if (g->nfunctions) {
		fprintf(f, "  own functions:");
		for (size_t i = 0; i < g->nfunctions; i++)
			fprintf(f, " %s", pci_short_addr(&r->pci.v[g->functions[i]]));
		fputc('\n', f);
	}
	if (g->nbridges) {
		fprintf(f, "  bridges in the group (stay with the host, never passed):");
		for (size_t i = 0; i < g->nbridges; i++)
			fprintf(f, " %s", pci_short_addr(&r->pci.v[g->bridges[i]]));
		fputc('\n', f);
	}
	if (g->nblockers) {
		fprintf(f, "  in the way:\n");
		for (size_t i = 0; i < g->nblockers; i++) {
			const struct blocker *b = &g->blockers[i];
			fprintf(f, "    ");
			render_device_line(f, &r->pci.v[b->dev]);
			fprintf(f, "\n      %s", acs_words(b->acs));
			if (b->port >= 0)
				fprintf(f, "; port above %s: %s", pci_short_addr(&r->pci.v[b->port]), acs_words(b->port_acs));
			else
				fprintf(f, "; on the root bus");
			if (b->host_critical)
				fprintf(f, "; %sthe host needs it%s", sty(ST_FAIL), sty(ST_RESET));
			fputc('\n', f);
		}
	}
	for (size_t i = 0; i < g->nunknown; i++)
		fprintf(f, "  could not read %s: its class is unknown\n", pci_short_addr(&r->pci.v[g->unknown[i]]));
	if (g->override) {
		fprintf(f, "  override: %spcie_acs_override=%s%s", sty(ST_BOLD), g->override, sty(ST_RESET));
		if (g->override_broad)
			fprintf(f, " (broader: pcie_acs_override=%s)", g->override_broad);
		fputc('\n', f);
		if (g->override_helps == TRI_UNKNOWN)
			fprintf(f, "  (predicted from incomplete data: confirm with 'acso verify' after the reboot)\n");
	} else if (g->verdict == VERDICT_SHARED && g->nremaining) {
		fprintf(f, "  no override splits off:");
		for (size_t i = 0; i < g->nremaining; i++)
			fprintf(f, " %s", pci_short_addr(&r->pci.v[g->remaining[i]]));
		fputc('\n', f);
	}
	for (size_t i = 0; i < g->warnings.n; i++)
		fprintf(f, "  %swarning:%s %s\n", sty(ST_WARN), sty(ST_RESET), g->warnings.v[i]);
}

static void print_groups(const struct iommu_report *r)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct iommu_group *g = &r->groups[i];
		printf("%sIOMMU group %d%s", sty(ST_BOLD), g->id, sty(ST_RESET));
		if (g->root_fs)
			printf("  %s[root file system: %s]%s", sty(ST_WARN), r->root_fs_name, sty(ST_RESET));
		if (g->default_nic)
			printf("  %s[default route: %s]%s", sty(ST_WARN), r->nic_name, sty(ST_RESET));
		if (!g->n)
			printf("  (no devices)");
		putchar('\n');
		for (size_t k = 0; k < g->n; k++) {
			printf("  ");
			render_device_line(stdout, &r->pci.v[g->devs[k]]);
			mark(stdout, r, g->devs[k]);
			putchar('\n');
		}
	}
}

static void print_tree_node(const struct iommu_report *r, int d, const char *prefix, bool last)
{
	const struct pcidev *x = &r->pci.v[d];
	printf("%s%s", prefix, last ? "└─ " : "├─ ");
	render_device_line(stdout, x);
	if (x->group >= 0)
		printf("  group %d", x->group);
	else
		printf("  no group");
	mark(stdout, r, d);
	putchar('\n');
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
	printf("PCI topology\n");
	for (size_t i = 0; i < r->pci.n; i++)
		if (r->pci.v[i].parent < 0)
			print_tree_node(r, (int)i, "", (int)i == lastroot);
}

static const char *hex4(char *buf, unsigned v)
{
	snprintf(buf, 8, "%04x", v);
	return buf;
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *device_json(const struct iommu_report *r, int di)
{
	const struct pcidev *d = &r->pci.v[di];
	char b[8];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "address", json_object_new_string(d->addr));
	json_object_object_add(o, "class", d->class_ok ? json_object_new_string(hex4(b, d->class >> 8)) : NULL);
	json_object_object_add(o, "class_name", str_or_null(d->class_name));
	json_object_object_add(o, "vendor_id", d->ids_ok ? json_object_new_string(hex4(b, d->vendor)) : NULL);
	json_object_object_add(o, "device_id", d->ids_ok ? json_object_new_string(hex4(b, d->device)) : NULL);
	json_object_object_add(o, "vendor", str_or_null(d->vendor_name));
	json_object_object_add(o, "device", str_or_null(d->device_name));
	if (d->sub_ok) {
		char s[16];
		snprintf(s, sizeof(s), "%04x:%04x", d->sub_vendor, d->sub_device);
		json_object_object_add(o, "subsystem", json_object_new_string(s));
	} else {
		json_object_object_add(o, "subsystem", NULL);
	}
	if (d->revision >= 0) {
		snprintf(b, sizeof(b), "%02x", d->revision);
		json_object_object_add(o, "revision", json_object_new_string(b));
	} else {
		json_object_object_add(o, "revision", NULL);
	}
	json_object_object_add(o, "driver", str_or_null(d->driver));
	json_object_object_add(o, "group", d->group >= 0 ? json_object_new_int(d->group) : NULL);
	json_object_object_add(o, "parent", d->parent >= 0 ? json_object_new_string(r->pci.v[d->parent].addr) : NULL);
	json_object_object_add(o, "pcie_type", json_object_new_string(pcie_type_name(d->cfg.pcie)));
	json_object_object_add(o, "acs", json_object_new_string(tri_name(d->cfg.acs)));
	int gi = iommu_gpu_of(r, di);
	json_object_object_add(o, "gpu", json_object_new_boolean(gi >= 0 && r->gpus[gi].dev == di));
	json_object_object_add(o, "gpu_function_of",
			       gi >= 0 && r->gpus[gi].dev != di ? json_object_new_string(r->pci.v[r->gpus[gi].dev].addr) : NULL);
	return o;
}

static struct json_object *addr_array(const struct iommu_report *r, const int *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(r->pci.v[v[i]].addr));
	return a;
}

struct json_object *gpu_json(const struct iommu_report *r, const struct gpu_verdict *g)
{
	const struct pcidev *gd = &r->pci.v[g->dev];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "address", json_object_new_string(gd->addr));
	json_object_object_add(o, "vendor", str_or_null(gd->vendor_name));
	json_object_object_add(o, "device", str_or_null(gd->device_name));
	json_object_object_add(o, "group", g->group >= 0 ? json_object_new_int(g->group) : NULL);
	json_object_object_add(o, "verdict", json_object_new_string(verdict_name(g->verdict)));
	json_object_object_add(o, "functions", addr_array(r, g->functions, g->nfunctions));
	json_object_object_add(o, "bridges", addr_array(r, g->bridges, g->nbridges));
	struct json_object *bl = json_object_new_array();
	for (size_t i = 0; i < g->nblockers; i++) {
		const struct blocker *b = &g->blockers[i];
		const struct pcidev *bd = &r->pci.v[b->dev];
		struct json_object *x = json_object_new_object();
		char h[8];
		json_object_object_add(x, "address", json_object_new_string(bd->addr));
		json_object_object_add(x, "class", bd->class_ok ? json_object_new_string(hex4(h, bd->class >> 8)) : NULL);
		json_object_object_add(x, "vendor", str_or_null(bd->vendor_name));
		json_object_object_add(x, "device", str_or_null(bd->device_name));
		json_object_object_add(x, "acs", json_object_new_string(tri_name(b->acs)));
		json_object_object_add(x, "port", b->port >= 0 ? json_object_new_string(r->pci.v[b->port].addr) : NULL);
		json_object_object_add(x, "port_acs", b->port >= 0 ? json_object_new_string(tri_name(b->port_acs)) : NULL);
		json_object_object_add(x, "host_critical", json_object_new_boolean(b->host_critical));
		json_object_array_add(bl, x);
	}
	json_object_object_add(o, "blockers", bl);
	json_object_object_add(o, "unknown", addr_array(r, g->unknown, g->nunknown));
	json_object_object_add(o, "override", str_or_null(g->override));
	json_object_object_add(o, "override_broad", str_or_null(g->override_broad));
	bool shared = g->verdict == VERDICT_SHARED || g->verdict == VERDICT_UNKNOWN;
	json_object_object_add(o, "override_helps", shared ? json_object_new_string(tri_name(g->override_helps)) : NULL);
	json_object_object_add(o, "remaining", addr_array(r, g->remaining, g->nremaining));
	json_object_object_add(o, "host_critical", json_object_new_boolean(g->host_critical));
	struct json_object *w = json_object_new_array();
	for (size_t i = 0; i < g->warnings.n; i++)
		json_object_array_add(w, json_object_new_string(g->warnings.v[i]));
	json_object_object_add(o, "warnings", w);
	return o;
}

struct json_object *groups_json(const struct iommu_report *r, int only_gpu)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "iommu_groups", json_object_new_boolean(r->ngroups > 0));
	struct json_object *rf = NULL, *nic = NULL;
	if (r->root_fs_name) {
		rf = json_object_new_object();
		json_object_object_add(rf, "device", json_object_new_string(r->root_fs_name));
		json_object_object_add(rf, "pci", r->root_fs_dev >= 0 ? json_object_new_string(r->pci.v[r->root_fs_dev].addr) : NULL);
	}
	if (r->nic_name) {
		nic = json_object_new_object();
		json_object_object_add(nic, "interface", json_object_new_string(r->nic_name));
		json_object_object_add(nic, "pci", r->nic_dev >= 0 ? json_object_new_string(r->pci.v[r->nic_dev].addr) : NULL);
	}
	json_object_object_add(o, "root_fs", rf);
	json_object_object_add(o, "default_route_nic", nic);
	struct json_object *ga = json_object_new_array();
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct iommu_group *g = &r->groups[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "group", json_object_new_int(g->id));
		json_object_object_add(x, "root_fs", json_object_new_boolean(g->root_fs));
		json_object_object_add(x, "default_route_nic", json_object_new_boolean(g->default_nic));
		struct json_object *da = json_object_new_array();
		for (size_t k = 0; k < g->n; k++)
			json_object_array_add(da, device_json(r, g->devs[k]));
		json_object_object_add(x, "devices", da);
		json_object_array_add(ga, x);
	}
	json_object_object_add(o, "groups", ga);
	struct json_object *gp = json_object_new_array();
	for (size_t i = 0; i < r->ngpus; i++)
		if (only_gpu < 0 || (size_t)only_gpu == i)
			json_object_array_add(gp, gpu_json(r, &r->gpus[i]));
	json_object_object_add(o, "gpus", gp);
	json_object_object_add(o, "override_all", str_or_null(r->override_all));
	json_object_object_add(o, "unreadable_entries", json_object_new_int(r->pci.warnings));
	return o;
}

int load_iommu_report(struct acso_ctx *ctx, struct iommu_report *r)
{
	struct acso_err e = {0};
	int rc = iommu_report_build(ctx->rootfd, r, &e);
	if (rc < 0) {
		fail(&e, rc, "read PCI devices under '%s'", ctx->root);
		msg_hint("is '%s' a system root (with sys/bus/pci/devices)?", ctx->root);
		return EXIT_FAIL;
	}
	pci_fill_names(&r->pci);
	if (r->pci.warnings)
		msg_verbose("%d sysfs entries could not be read completely", r->pci.warnings);
	return 0;
}

int groups_exit_code(const struct iommu_report *r, int only_gpu)
{
	int code = EXIT_OK;
	for (size_t i = 0; i < r->ngpus; i++) {
		if (only_gpu >= 0 && (size_t)only_gpu != i)
			continue;
		enum verdict v = r->gpus[i].verdict;
		if (v == VERDICT_SHARED && code == EXIT_OK)
			code = EXIT_NEEDS_OVERRIDE;
		else if (v == VERDICT_UNKNOWN || v == VERDICT_NO_GROUP)
			code = EXIT_FAIL;
	}
	return code;
}

int cmd_groups(struct acso_ctx *ctx, int argc, char **argv)
{
	struct groups_opts o = {0};
	int first;
	int r = cmd_options(ctx, argc, argv, &o, &first);
	if (r)
		return r;
	struct iommu_report rep;
	r = load_iommu_report(ctx, &rep);
	if (r)
		return r;
	int only = -1;
	if (o.gpu) {
		char a[16];
		if (iommu_norm_addr(o.gpu, a) < 0) {
			iommu_report_free(&rep);
			msg_error("--gpu '%s': not a PCI address", o.gpu);
			msg_hint("give it as BUS:SLOT.FUNC (01:00.0) or DOMAIN:BUS:SLOT.FUNC");
			return EXIT_USAGE;
		}
		only = iommu_find_gpu(&rep, a);
		if (only < 0) {
			bool exists = pci_find(&rep.pci, a) >= 0;
			iommu_report_free(&rep);
			msg_error("--gpu '%s': %s", o.gpu, exists ? "not a GPU (class 0300, 0302 or 0380)" : "no such PCI device");
			msg_hint("run 'acso groups' to see the devices and their classes");
			return EXIT_FAIL;
		}
	}
	int code = groups_exit_code(&rep, only);
	if (!rep.ngroups)
		code = EXIT_FAIL;

	if (ctx->json) {
		struct json_object *j = groups_json(&rep, only);
		out_json(j);
		json_object_put(j);
	} else {
		if (o.tree)
			print_tree(&rep);
		else
			print_groups(&rep);
		if (rep.ngroups)
			for (size_t i = 0; i < rep.ngpus; i++) {
				if (only >= 0 && (size_t)only != i)
					continue;
				putchar('\n');
				render_gpu_verdict(stdout, &rep, &rep.gpus[i]);
			}
		if (rep.ngroups && only < 0 && rep.override_all && rep.ngpus > 1)
			printf("\nTo split every shared GPU: pcie_acs_override=%s\n", rep.override_all);
		if (rep.ngroups && !rep.ngpus)
			printf("\nNo GPU (class 0300, 0302 or 0380) found.\n");
	}
	if (!rep.ngroups) {
		msg_error("no IOMMU groups in '%s%s': the IOMMU is off or not supported",
			  strcmp(ctx->root, "/") ? ctx->root : "", "/sys/kernel/iommu_groups");
		msg_hint("turn on VT-d / AMD-Vi in the firmware setup; on Intel add intel_iommu=on to the kernel command line; 'acso check' says what is missing");
	}
	iommu_report_free(&rep);
	return code;
}
