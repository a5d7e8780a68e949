/* check.h — the items of `acso check` (the seed's steps 1-3): each a pass,
 * warn or fail with a summary and the fix, decided from what sysinfo and the
 * IOMMU report read; and the verdict they amount to. Never prints. */
#pragma once
#include <stddef.h>

#include "machine/iommu.h"
#include "machine/sysinfo.h"

/* INFO: not checked (nothing to read, or not asked): never a pass. */
enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_INFO };

struct check_item {
	const char *id;         /* "cpu_virt", "kvm", ..., "gpu" */
	const char *title;      /* "CPU virtualization" */
	enum check_status status;
	char *summary;
	char *fix;              /* NULL when nothing to do */
};

#define CHECK_MAX_ITEMS 16
struct check_list {
	struct check_item items[CHECK_MAX_ITEMS];
	size_t n;
};

enum check_verdict {
	CHECK_READY,                  /* ready for passthrough */
	CHECK_READY_AFTER_OVERRIDE,   /* the GPU item warns: an override splits its group */
	CHECK_BLOCKED,                /* an item failed */
};

/* The items for sysinfo s and the IOMMU report r (NULL: PCI unreadable),
 * judging every GPU (only_gpu -1) or the one. Free with check_list_free. */
void check_items(struct check_list *c, const struct sysinfo *s, const struct iommu_report *r, int only_gpu);
void check_list_free(struct check_list *c);
/* The verdict; *blocked_by (malloc'd, or NULL unless blocked) lists the
 * titles of the failed items, comma separated. */
enum check_verdict check_verdict(const struct check_list *c, char **blocked_by);
/* What to run next for verdict v, in one sentence (malloc'd): on a kernel
 * that carries the override only the parameter is registered; with Secure
 * Boot on a built kernel must be signed; on Proxmox VE guests get the GPU
 * through qm. override: the parameter's value for the verdict (or NULL). */
char *check_next_step(const struct sysinfo *s, enum check_verdict v, const char *override);
const char *check_status_name(enum check_status s);   /* "pass", "warn", "fail", "info" */
const char *check_verdict_name(enum check_verdict v); /* "ready", "ready_after_override", "blocked" */
