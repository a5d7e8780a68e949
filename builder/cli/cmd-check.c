/* cmd-check.c — `acso check`: the seed's steps 1-3 as a report. Each item
 * is pass, warn or fail with the fix; the verdict is ready, ready after the
 * ACS override, or blocked (by the failed items). Exit 0 / 3 / 4. */
#include <string.h>

#include "cli/commands.h"
#include "cli/report-groups.h"
#include "cli/output.h"
#include "cli/report.h"
#include "machine/check.h"
#include "machine/sysinfo.h"

static void render_items(const struct check_list *c)
{
	rp_open_array("items");
	for (size_t i = 0; i < c->n; i++) {
		const struct check_item *it = &c->items[i];
		enum style st = it->status == CHECK_PASS ? ST_PASS : it->status == CHECK_WARN ? ST_WARN
				: it->status == CHECK_INFO ? ST_DIM : ST_FAIL;
		rp_open_object(NULL);
		rp_string(RP_JSON, "id", NULL, it->id);
		rp_string(RP_JSON, "title", NULL, it->title);
		/* text: the status comes first, then the title */
		rp_color_string(RP_ANY, st, "status", "%-4s", check_status_name(it->status));
		rp_text("  %-20s", it->title);
		rp_string(RP_ANY, "summary", " %s\n", it->summary);
		if (it->fix)
			rp_text("      %-20s fix: %s\n", "", it->fix);
		rp_string(RP_JSON, "fix", NULL, it->fix);
		rp_close_object();
	}
	rp_close_array();
}

static void render_verdict(const struct acso_ctx *ctx, const struct sysinfo *s, enum check_verdict v,
			   const char *by, const char *override)
{
	if (s->klog.n && ctx->verbose > 0) {
		rp_text("\nKernel log (%s):\n", s->klog_source);
		for (size_t i = 0; i < s->klog.n; i++)
			rp_text("  %s\n", s->klog.v[i]);
	}
	rp_text("\n");
	_cleanup_free_ char *next = check_next_step(s, v, override);
	if (v == CHECK_READY)
		rp_text("Verdict: %sready for passthrough%s\n", sty(ST_PASS), sty(ST_RESET));
	else if (v == CHECK_READY_AFTER_OVERRIDE)
		rp_text("Verdict: %sready after the ACS override%s (%s)\n", sty(ST_WARN), sty(ST_RESET), next);
	else
		rp_text("Verdict: %sblocked%s by: %s\n", sty(ST_FAIL), sty(ST_RESET), by);
	if (v == CHECK_READY && s->proxmox)
		rp_text("Next: %s\n", next);
	rp_string(RP_JSON, "verdict", NULL, check_verdict_name(v));
	rp_string(RP_JSON, "next", NULL, next);
	rp_open_object("override_support");
	rp_string(RP_JSON, "supported", NULL, tri_name(s->acs.supported));
	rp_string(RP_JSON, "evidence", NULL, acs_evidence_name(s->acs.evidence));
	rp_string(RP_JSON, "source", NULL, s->acs.source[0] ? s->acs.source : NULL);
	rp_string(RP_JSON, "symbol", NULL, s->acs.symbol[0] ? s->acs.symbol : NULL);
	rp_string(RP_JSON, "flavour", NULL, s->acs.flavour[0] ? s->acs.flavour : NULL);
	rp_close_object();
	rp_bool(RP_JSON, "proxmox", NULL, s->proxmox);
	rp_string(RP_JSON, "blocked_by", NULL, by);
	rp_string(RP_JSON, "kernel", NULL, s->release);
	rp_string(RP_JSON, "distribution", NULL, s->os_pretty);
	rp_string(RP_JSON, "kernel_log_source", NULL, s->klog_source);
}

/* cmd_check passes &gpu: the struct's only field, at offset 0. */
struct check_opts {
	const char *gpu;
};

#define OPTS struct check_opts
const struct acso_option check_options[] = {
	OPT_STRING(0, "gpu", gpu, "ADDR", "the GPU to pass through (default: judge every GPU)"),
	OPT_END,
};

int cmd_check(struct acso_ctx *ctx, int argc, char **argv)
{
	const char *gpu = NULL;
	int first;
	int rc = cmd_options(ctx, argc, argv, &gpu, &first);
	if (rc)
		return rc;
	struct sysinfo s;
	sysinfo_read(ctx->rootfd, !strcmp(ctx->root, "/"), &s);
	struct iommu_report rep;
	bool have_rep = rg_load(ctx, &rep) == 0;
	int only = -1;
	if (gpu && have_rep && (only = iommu_find_gpu(&rep, gpu)) < 0 && rep.ngroups) {
		msg_error("--gpu '%s': no GPU at that address", gpu);
		msg_hint("run 'acso groups' to list the GPUs");
		iommu_report_free(&rep);
		sysinfo_free(&s);
		return EXIT_USAGE;
	}
	struct check_list c;
	check_items(&c, &s, have_rep ? &rep : NULL, only);
	_cleanup_free_ char *by = NULL;
	enum check_verdict v = check_verdict(&c, &by);
	const char *override = have_rep ? rep.override_all : NULL;

	report_begin(ctx);
	render_items(&c);
	render_verdict(ctx, &s, v, by, override);
	rg_gpus(have_rep && rep.ngroups ? &rep : NULL, only);
	rp_string(RP_JSON, "override", NULL, override);
	check_list_free(&c);
	if (have_rep)
		iommu_report_free(&rep);
	sysinfo_free(&s);
	return report_end(v == CHECK_READY ? EXIT_OK : v == CHECK_READY_AFTER_OVERRIDE ? EXIT_NEEDS_OVERRIDE : EXIT_BLOCKED);
}
