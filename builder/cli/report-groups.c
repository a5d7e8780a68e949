/* report-groups.c — see report-groups.h. */
#include <stdio.h>

#include "cli/acso.h"
#include "cli/output.h"
#include "cli/report-groups.h"
#include "cli/report.h"
#include "machine/pcinames.h"

int rg_load(struct acso_ctx *ctx, struct iommu_report *r)
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

void rg_device_line(const struct pcidev *d)
{
	rp_text("%s ", pci_short_addr(d));
	if (d->class_ok) {
		if (d->class_name)
			rp_text("%s [%04x]: ", d->class_name, d->class >> 8);
		else
			rp_text("Class %04x [%04x]: ", d->class >> 8, d->class >> 8);
	} else {
		rp_text("unknown class [????]: ");
	}
	if (d->ids_ok)
		rp_text("%s %s [%04x:%04x]", d->vendor_name ? d->vendor_name : "unknown vendor",
			d->device_name ? d->device_name : "unknown device", d->vendor, d->device);
	else
		rp_text("unknown vendor and device [????:????]");
	if (d->revision > 0)
		rp_text(" (rev %02x)", d->revision);
	rp_text(" driver %s", d->driver ? d->driver : "none");
}

static const char *acs_words(enum tri t)
{
	return t == TRI_YES ? "has ACS" : t == TRI_NO ? "no ACS" : "ACS unknown";
}

static void addr_list(const struct iommu_report *r, const char *title, const int *v, size_t n)
{
	if (!n)
		return;
	rp_text("%s", title);
	for (size_t i = 0; i < n; i++)
		rp_text(" %s", pci_short_addr(&r->pci.v[v[i]]));
	rp_text("\n");
}

static void blockers_text(const struct iommu_report *r, const struct gpu_verdict *g)
{
	if (!g->nblockers)
		return;
	rp_text("  in the way:\n");
	for (size_t i = 0; i < g->nblockers; i++) {
		const struct blocker *b = &g->blockers[i];
		rp_text("    ");
		rg_device_line(&r->pci.v[b->dev]);
		rp_text("\n      %s", acs_words(b->acs));
		if (b->port >= 0)
			rp_text("; port above %s: %s", pci_short_addr(&r->pci.v[b->port]), acs_words(b->port_acs));
		else
			rp_text("; on the root bus");
		if (b->host_critical)
			rp_text("; %sthe host needs it%s", sty(ST_FAIL), sty(ST_RESET));
		rp_text("\n");
	}
}

void rg_gpu_verdict_text(const struct iommu_report *r, const struct gpu_verdict *g)
{
	const struct pcidev *gd = &r->pci.v[g->dev];
	enum style st = g->verdict == VERDICT_ISOLATED || g->verdict == VERDICT_ISOLATED_BRIDGE ? ST_PASS
			: g->verdict == VERDICT_SHARED ? ST_FAIL : ST_WARN;
	rp_text("GPU %s %s %s: %s%s%s", pci_short_addr(gd), gd->vendor_name ? gd->vendor_name : "unknown vendor",
		gd->device_name ? gd->device_name : "unknown device", sty(st), verdict_text(g->verdict), sty(ST_RESET));
	if (g->group >= 0)
		rp_text(" (IOMMU group %d)", g->group);
	rp_text("\n");
	addr_list(r, "  own functions:", g->functions, g->nfunctions);
	addr_list(r, "  bridges in the group (stay with the host, never passed):", g->bridges, g->nbridges);
	blockers_text(r, g);
	for (size_t i = 0; i < g->nunknown; i++)
		rp_text("  could not read %s: its class is unknown\n", pci_short_addr(&r->pci.v[g->unknown[i]]));
	if (g->override) {
		rp_text("  override: %spcie_acs_override=%s%s", sty(ST_BOLD), g->override, sty(ST_RESET));
		if (g->override_broad)
			rp_text(" (broader: pcie_acs_override=%s)", g->override_broad);
		rp_text("\n");
		if (g->override_helps == TRI_UNKNOWN)
			rp_text("  (predicted from incomplete data: confirm with 'acso verify' after the reboot)\n");
	} else if (g->verdict == VERDICT_SHARED) {
		addr_list(r, "  no override splits off:", g->remaining, g->nremaining);
	}
	for (size_t i = 0; i < g->warnings.n; i++)
		rp_text("  %swarning:%s %s\n", sty(ST_WARN), sty(ST_RESET), g->warnings.v[i]);
}

static const char *hex4(char *buf, unsigned v)
{
	snprintf(buf, 8, "%04x", v);
	return buf;
}

/* A PCI address by device index, or JSON null for -1. */
static void addr_field(const struct iommu_report *r, const char *key, int d)
{
	rp_string(RP_JSON, key, NULL, d >= 0 ? r->pci.v[d].addr : NULL);
}

static void int_or_null(const char *key, int v)
{
	if (v >= 0)
		rp_int(RP_JSON, key, NULL, v);
	else
		rp_null(RP_JSON, key, NULL);
}

static void device_fields(const struct iommu_report *r, int di)
{
	const struct pcidev *d = &r->pci.v[di];
	char b[8], s[16];
	rp_string(RP_JSON, "address", NULL, d->addr);
	rp_string(RP_JSON, "class", NULL, d->class_ok ? hex4(b, d->class >> 8) : NULL);
	rp_string(RP_JSON, "class_name", NULL, d->class_name);
	rp_string(RP_JSON, "vendor_id", NULL, d->ids_ok ? hex4(b, d->vendor) : NULL);
	rp_string(RP_JSON, "device_id", NULL, d->ids_ok ? hex4(b, d->device) : NULL);
	rp_string(RP_JSON, "vendor", NULL, d->vendor_name);
	rp_string(RP_JSON, "device", NULL, d->device_name);
	snprintf(s, sizeof(s), "%04x:%04x", d->sub_vendor, d->sub_device);
	rp_string(RP_JSON, "subsystem", NULL, d->sub_ok ? s : NULL);
	snprintf(b, sizeof(b), "%02x", d->revision);
	rp_string(RP_JSON, "revision", NULL, d->revision >= 0 ? b : NULL);
	rp_string(RP_JSON, "driver", NULL, d->driver);
	int_or_null("group", d->group);
	addr_field(r, "parent", d->parent);
	rp_string(RP_JSON, "pcie_type", NULL, pcie_type_name(d->cfg.pcie));
	rp_string(RP_JSON, "acs", NULL, tri_name(d->cfg.acs));
	int gi = iommu_gpu_of(r, di);
	rp_bool(RP_JSON, "gpu", NULL, gi >= 0 && r->gpus[gi].dev == di);
	addr_field(r, "gpu_function_of", gi >= 0 && r->gpus[gi].dev != di ? r->gpus[gi].dev : -1);
}

static void addr_array(const struct iommu_report *r, const char *key, const int *v, size_t n)
{
	rp_open_array(key);
	for (size_t i = 0; i < n; i++)
		rp_string(RP_JSON, NULL, NULL, r->pci.v[v[i]].addr);
	rp_close_array();
}

static void blockers_fields(const struct iommu_report *r, const struct gpu_verdict *g)
{
	rp_open_array("blockers");
	for (size_t i = 0; i < g->nblockers; i++) {
		const struct blocker *b = &g->blockers[i];
		const struct pcidev *bd = &r->pci.v[b->dev];
		char h[8];
		rp_open_object(NULL);
		rp_string(RP_JSON, "address", NULL, bd->addr);
		rp_string(RP_JSON, "class", NULL, bd->class_ok ? hex4(h, bd->class >> 8) : NULL);
		rp_string(RP_JSON, "vendor", NULL, bd->vendor_name);
		rp_string(RP_JSON, "device", NULL, bd->device_name);
		rp_string(RP_JSON, "acs", NULL, tri_name(b->acs));
		addr_field(r, "port", b->port);
		rp_string(RP_JSON, "port_acs", NULL, b->port >= 0 ? tri_name(b->port_acs) : NULL);
		rp_bool(RP_JSON, "host_critical", NULL, b->host_critical);
		rp_close_object();
	}
	rp_close_array();
}

void rg_gpu_fields(const struct iommu_report *r, const struct gpu_verdict *g)
{
	const struct pcidev *gd = &r->pci.v[g->dev];
	rp_string(RP_JSON, "address", NULL, gd->addr);
	rp_string(RP_JSON, "vendor", NULL, gd->vendor_name);
	rp_string(RP_JSON, "device", NULL, gd->device_name);
	int_or_null("group", g->group);
	rp_string(RP_JSON, "verdict", NULL, verdict_name(g->verdict));
	addr_array(r, "functions", g->functions, g->nfunctions);
	addr_array(r, "bridges", g->bridges, g->nbridges);
	blockers_fields(r, g);
	addr_array(r, "unknown", g->unknown, g->nunknown);
	rp_string(RP_JSON, "override", NULL, g->override);
	rp_string(RP_JSON, "override_broad", NULL, g->override_broad);
	bool shared = g->verdict == VERDICT_SHARED || g->verdict == VERDICT_UNKNOWN;
	rp_string(RP_JSON, "override_helps", NULL, shared ? tri_name(g->override_helps) : NULL);
	addr_array(r, "remaining", g->remaining, g->nremaining);
	rp_bool(RP_JSON, "host_critical", NULL, g->host_critical);
	rp_open_array("warnings");
	for (size_t i = 0; i < g->warnings.n; i++)
		rp_string(RP_JSON, NULL, NULL, g->warnings.v[i]);
	rp_close_array();
}

void rg_gpus(const struct iommu_report *r, int only_gpu)
{
	rp_open_array("gpus");
	for (size_t i = 0; r && i < r->ngpus; i++) {
		if (only_gpu >= 0 && (size_t)only_gpu != i)
			continue;
		rp_open_object(NULL);
		rg_gpu_fields(r, &r->gpus[i]);
		rp_close_object();
	}
	rp_close_array();
}

/* "root_fs" / "default_route_nic": {NAMEKEY: name, "pci": addr} or null. */
static void host_device(const struct iommu_report *r, const char *key, const char *namekey, const char *name, int d)
{
	if (!name) {
		rp_null(RP_JSON, key, NULL);
		return;
	}
	rp_open_object(key);
	rp_string(RP_JSON, namekey, NULL, name);
	addr_field(r, "pci", d);
	rp_close_object();
}

void rg_groups(const struct iommu_report *r, int only_gpu)
{
	rp_bool(RP_JSON, "iommu_groups", NULL, r->ngroups > 0);
	host_device(r, "root_fs", "device", r->root_fs_name, r->root_fs_dev);
	host_device(r, "default_route_nic", "interface", r->nic_name, r->nic_dev);
	rp_open_array("groups");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct iommu_group *g = &r->groups[i];
		rp_open_object(NULL);
		rp_int(RP_JSON, "group", NULL, g->id);
		rp_bool(RP_JSON, "root_fs", NULL, g->root_fs);
		rp_bool(RP_JSON, "default_route_nic", NULL, g->default_nic);
		rp_open_array("devices");
		for (size_t k = 0; k < g->n; k++) {
			rp_open_object(NULL);
			device_fields(r, g->devs[k]);
			rp_close_object();
		}
		rp_close_array();
		rp_close_object();
	}
	rp_close_array();
	rg_gpus(r, only_gpu);
	rp_string(RP_JSON, "override_all", NULL, r->override_all);
	rp_int(RP_JSON, "unreadable_entries", NULL, r->pci.warnings);
}
