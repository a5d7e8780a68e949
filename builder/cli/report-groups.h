/* report-groups.h — the IOMMU report (machine/iommu.h) rendered through the
 * report API (cli/report.h): the device line, a GPU's verdict block, and the
 * JSON fields of devices, GPU verdicts and the whole group list. Shared by
 * acso groups, acso check and acso verify. */
#pragma once
#include "machine/iommu.h"

struct acso_ctx;

/* Build the report through ctx's root with names; prints the error and
 * returns an exit code on failure, 0 on success. */
int rg_load(struct acso_ctx *ctx, struct iommu_report *r);

/* Text: "01:00.0 VGA compatible controller [0300]: NVIDIA ... [10de:1e04]
 * (rev a1) driver nvidia" (no line end). */
void rg_device_line(const struct pcidev *d);
/* Text: the GPU's verdict block. */
void rg_gpu_verdict_text(const struct iommu_report *r, const struct gpu_verdict *g);

/* JSON: the fields of one GPU verdict into the open object. */
void rg_gpu_fields(const struct iommu_report *r, const struct gpu_verdict *g);
/* JSON: "gpus": every GPU's verdict (only_gpu -1) or one; r NULL: []. */
void rg_gpus(const struct iommu_report *r, int only_gpu);
/* JSON: the whole report (iommu_groups ... unreadable_entries) into the
 * open object. */
void rg_groups(const struct iommu_report *r, int only_gpu);
