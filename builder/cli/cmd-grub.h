/* cmd-grub.h — the boot-parameter step, shared by `acso grub` and `acso setup`. */
#pragma once
#include <stdbool.h>

#include "cli/acso.h"

struct grub_request {
	const char *acs;         /* pcie_acs_override mode, NULL: none */
	int intel_iommu;         /* 1 on, 0 off, -1 auto (on for Intel CPUs) */
	bool iommu_pt;
	bool remove;
	bool no_update;
	bool set_default_saved;
	const char *once;        /* release for grub-reboot, or NULL */
	bool no_report;          /* the caller reports (acso setup) */
	bool vfio;               /* add vfio-pci.ids= of the GPU's own functions */
	const char *gpu;         /* the chosen GPU (address), NULL: the first that shares its group */
};

/* Helpers shared by the command files of this area (grub, setup, run). */
struct strv;
struct json_object;
char *argv_join(const struct strv *s);                /* "a b c" */
struct json_object *json_from_strv(const struct strv *s); /* ["a","b"] */

/* Plan, print (text or JSON), write, regenerate; rolls back on failure.
 * Returns an exit code. */
int grub_do(struct acso_ctx *ctx, const struct grub_request *rq);
