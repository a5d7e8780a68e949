/* iommu.h — IOMMU groups and the per-GPU verdict (FIELD-NOTES §7):
 * isolated, isolated with its bridge, or shared — with what is in the way,
 * the ACS capability of each blocker and of the port above, the least
 * invasive pcie_acs_override that would split the group, and warnings when
 * no override can help. Also: groups that hold the root file system's
 * device or the default-route network interface.
 *
 * The override prediction replays the kernel's grouping rule
 * (pci_device_group: ACS on every bridge up to the root bus, else the
 * group is that of the highest bridge without it; multi-function devices
 * without ACS share a group with their sibling functions; devices behind a
 * PCIe-to-PCI bridge alias to it) with the override applied, and keeps
 * only devices that are in the GPU's group today: an override only splits. */
#pragma once
#include <stdbool.h>

#include "base/err.h"
#include "machine/pci.h"
#include "base/util.h"

struct iommu_group {
	int id;
	int *devs;              /* indexes into the pci list, address order */
	size_t n;
	bool root_fs;           /* holds the device of the root file system */
	bool default_nic;       /* holds the default-route network interface */
};

enum verdict {
	VERDICT_ISOLATED,        /* only the GPU's own functions */
	VERDICT_ISOLATED_BRIDGE, /* ... plus the bridge(s) above it */
	VERDICT_SHARED,          /* other devices in the group */
	VERDICT_NO_GROUP,        /* the device has no IOMMU group */
	VERDICT_UNKNOWN,         /* a device in the group could not be read */
};

enum member_role { ROLE_GPU, ROLE_FUNCTION, ROLE_BRIDGE, ROLE_BLOCKER, ROLE_UNKNOWN };

struct blocker {
	int dev;
	int port;               /* the bridge directly above it, -1 on the root bus */
	enum tri acs;           /* the blocker's own ACS capability */
	enum tri port_acs;      /* the port above it */
	bool host_critical;     /* root file system / default-route NIC */
};

struct gpu_verdict {
	int dev;
	int group;
	enum verdict verdict;
	int *functions; size_t nfunctions;   /* own functions (not the GPU itself) */
	int *bridges; size_t nbridges;       /* bridges in the group */
	struct blocker *blockers; size_t nblockers;
	int *unknown; size_t nunknown;       /* unreadable devices in the group */
	/* Shared only: */
	char *override;         /* "id:8086:1901,..." — least invasive; NULL when none helps */
	char *override_broad;   /* "downstream" / "multifunction" / both */
	enum tri override_helps;
	int *remaining; size_t nremaining;   /* still in the way with the override */
	struct strv warnings;   /* sentences, no trailing period */
	bool host_critical;     /* the group holds the root fs or the default NIC */
};

struct iommu_report {
	struct pci_list pci;
	bool have_groups_dir;   /* /sys/kernel/iommu_groups exists */
	struct iommu_group *groups;
	size_t ngroups;
	struct gpu_verdict *gpus;
	size_t ngpus;
	int root_fs_dev;        /* pci index or -1 */
	char *root_fs_name;     /* "nvme0n1p2" or NULL */
	int nic_dev;
	char *nic_name;
	char *override_all;     /* one override for every shared GPU, or NULL */
};

/* Read everything through rootfd. Fails (-errno) only when the PCI device
 * list cannot be read at all; missing groups leave ngroups 0. */
int iommu_report_build(int rootfd, struct iommu_report *r, struct acso_err *e);
void iommu_report_free(struct iommu_report *r);

const char *verdict_name(enum verdict v);   /* "isolated", "isolated_with_bridge", ... */
const char *verdict_text(enum verdict v);   /* "isolated with its bridge" */
/* Index in r->gpus of the GPU at addr ("01:00.0" or "0000:01:00.0"); -1. */
int iommu_find_gpu(const struct iommu_report *r, const char *addr);
/* Role of device j in gpu g's group. */
enum member_role iommu_role(const struct iommu_report *r, const struct gpu_verdict *g, int j);
/* Is the device at index d a function of some GPU (for marking)? Returns the GPU's index or -1. */
int iommu_gpu_of(const struct iommu_report *r, int d);
/* Group with this id, or NULL. */
const struct iommu_group *iommu_group_by_id(const struct iommu_report *r, int id);
/* What the verdicts of every GPU (only_gpu -1) or one amount to: each usable
 * as is, one shares its group (the override may split it), or one could not
 * be judged (unknown, no group), which outweighs a shared group. */
enum iommu_outcome { OUTCOME_USABLE, OUTCOME_SHARED, OUTCOME_UNJUDGED };
enum iommu_outcome iommu_outcome(const struct iommu_report *r, int only_gpu);
/* Are there groups and GPUs, and is every GPU (only_gpu -1) or the one
 * isolated (alone or with its bridge)? What `acso verify` proves. */
bool iommu_isolated(const struct iommu_report *r, int only_gpu);
/* Normalise "01:00.0" to "0000:01:00.0" into buf; -EINVAL if not an address. */
int iommu_norm_addr(const char *in, char buf[16]);
