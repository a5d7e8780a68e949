/* groups-render.h — rendering of the IOMMU report (implemented in
 * cmd-groups.c), shared by acso groups, acso check and acso verify. */
#pragma once
#include <stdio.h>
#include <json-c/json.h>

#include "machine/iommu.h"

/* "01:00.0 VGA compatible controller [0300]: NVIDIA ... [10de:1e04] (rev a1)" */
void render_device_line(FILE *f, const struct pcidev *d);
/* The GPU's verdict block (text). */
void render_gpu_verdict(FILE *f, const struct iommu_report *r, const struct gpu_verdict *g);
/* JSON of one device / one GPU verdict / the whole report. */
struct json_object *device_json(const struct iommu_report *r, int d);
struct json_object *gpu_json(const struct iommu_report *r, const struct gpu_verdict *g);
struct json_object *groups_json(const struct iommu_report *r, int only_gpu);
/* Build the report through ctx's root with names; prints the error and
 * returns an exit code on failure, 0 on success. */
struct acso_ctx;
int load_iommu_report(struct acso_ctx *ctx, struct iommu_report *r);
/* Exit code for a set of GPU verdicts (only_gpu -1 = all). */
int groups_exit_code(const struct iommu_report *r, int only_gpu);
