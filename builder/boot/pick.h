/* pick.h — which boot parameters acso registers (FIELD-NOTES §6, §7):
 * pcie_acs_override= (a mode, or "auto": the least invasive override the
 * IOMMU groups call for), intel_iommu=on on Intel CPUs, iommu=pt, and with
 * --vfio the vfio-pci.ids= of the chosen GPU's own functions.
 *
 * The --vfio rule: a group that keeps the root file system's disk or the
 * default-route network interface together with the GPU is never bound to
 * vfio-pci (it would take the host's disk or network away). Which device
 * holds the root file system and which the default route is machine/iommu's
 * reading (mountinfo or /proc/mounts, then the block device's sysfs link up
 * to its PCI device; /proc/net/route, then /sys/class/net). A host-critical
 * device is let through only when the least invasive override predicts that
 * it leaves the GPU's group. Core: never prints. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "machine/iommu.h"

struct acso_err;

/* What the groups decide, or why they refuse. */
enum gpu_pick_status {
	PICK_OK,
	PICK_IOMMU_OFF,      /* no IOMMU groups at all */
	PICK_NO_SUCH_GPU,    /* the asked address is no GPU */
	PICK_NO_GPU,         /* --vfio, and the machine shows no GPU */
	PICK_AMBIGUOUS,      /* several GPUs and nothing says which one */
	PICK_NO_COMMON,      /* --acs auto: several GPUs share their groups, no one override fits all */
	PICK_GPU_NO_GROUP,   /* the chosen GPU is in no IOMMU group */
	PICK_NO_SPLIT,       /* --acs auto: no override splits the chosen GPU's group */
	PICK_HOST_CRITICAL,  /* --vfio: the group keeps the root disk or the default-route NIC */
};

struct gpu_pick {
	enum gpu_pick_status status;
	char *acs;            /* asked for: the override, "" when none is needed; else NULL */
	char *vfio_ids;       /* --vfio: "vvvv:dddd,..." (each id once), else NULL */
	char gpu[16];         /* the chosen GPU's address ("01:00.0"), "" for none */
	const char *verdict;  /* its verdict_text() */
	size_t count;         /* PICK_AMBIGUOUS: GPUs; PICK_NO_COMMON and "" from auto: shared GPUs */
	char holder[16];      /* PICK_HOST_CRITICAL: the device the host needs */
	bool holder_root_fs;  /* ... it holds the root file system (else: the default-route NIC) */
};
void gpu_pick_free(struct gpu_pick *p);

/* Choose the GPU (gpu: an address, or NULL: the only GPU, or the only one
 * that shares its group), and decide its override (want_acs) and its
 * vfio-pci ids (vfio). Without gpu, --acs auto alone takes one override for
 * every shared GPU (r->override_all). Returns 0 (PICK_OK) or -ACSO_E_STATE
 * with p->status saying why. */
int gpu_pick(const struct iommu_report *r, const char *gpu, bool want_acs, bool vfio, struct gpu_pick *p);

struct boot_request {
	const char *acs;      /* pcie_acs_override mode, "auto", or "" for none */
	int intel_iommu;      /* 1 on, 0 off, -1 on for Intel CPUs */
	bool iommu_pt;
	bool vfio;            /* add vfio-pci.ids= of the GPU's own functions */
	const char *gpu;      /* the chosen GPU (address), NULL: see gpu_pick */
};

/* The parameters of rq, in this order: pcie_acs_override=, intel_iommu=on,
 * iommu=pt, vfio-pci.ids=. Reads the machine through rootfd (the IOMMU
 * groups only for "auto" or vfio). pick says what the groups decided.
 * Returns 0; -ACSO_E_STATE when the groups refuse (pick->status);
 * -ACSO_E_PARSE for a malformed mode (e->msg); or the error of reading the
 * PCI devices. */
int boot_params_decide(int rootfd, const struct boot_request *rq, struct strv *params, struct gpu_pick *pick,
		       struct acso_err *e);
