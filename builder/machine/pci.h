/* pci.h — PCI devices read from sysfs through the root: identity, driver,
 * IOMMU group, the parent bridge chain and what the config space says
 * (header type, PCIe port type, the ACS extended capability).
 *
 * Everything read from outside may be missing or garbage: each field has an
 * "unknown" state, and nothing is guessed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* yes / no / cannot tell (file missing, config space too short, ...). */
enum tri { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

/* PCIe device/port type (PCIe capability register bits 7:4). */
enum pcie_type {
	PCIE_NONE = -2,        /* conventional PCI: no PCIe capability */
	PCIE_UNKNOWN = -1,
	PCIE_ENDPOINT = 0, PCIE_LEGACY_ENDPOINT = 1, PCIE_ROOT_PORT = 4,
	PCIE_UPSTREAM = 5, PCIE_DOWNSTREAM = 6, PCIE_TO_PCI_BRIDGE = 7,
	PCI_TO_PCIE_BRIDGE = 8, PCIE_RC_ENDPOINT = 9, PCIE_RC_EC = 10,
};

/* ACS capability bits the kernel requires for isolation (REQ_ACS_FLAGS):
 * Source Validation, Request Redirect, Completion Redirect, Upstream Forwarding. */
#define ACS_SV 0x0001
#define ACS_TB 0x0002
#define ACS_RR 0x0004
#define ACS_CR 0x0008
#define ACS_UF 0x0010
#define ACS_REQUIRED (ACS_SV | ACS_RR | ACS_CR | ACS_UF)

#define PCI_EXT_CAP_ACS 0x000D

/* What the config space says. */
struct pci_cfg {
	bool valid;            /* at least the 64-byte header was there */
	size_t len;
	uint16_t vendor, device;
	uint32_t class;        /* 24 bits */
	uint8_t header_type;   /* 0 endpoint, 1 bridge, 2 CardBus (low 7 bits) */
	bool multifunction;
	enum pcie_type pcie;
	enum tri acs;          /* has the ACS extended capability */
	uint16_t acs_cap, acs_ctrl;
};

/* Parse a config space dump (sysfs `config`). Never reads beyond len;
 * capability loops and bad pointers end the walk. Always fills *out. */
void pci_parse_config(const uint8_t *data, size_t len, struct pci_cfg *out);

struct pcidev {
	char addr[16];         /* "0000:01:00.0" */
	unsigned domain, bus, slot, func;
	bool class_ok, ids_ok, sub_ok;
	uint32_t class;        /* 24 bits, from `class` (or config space) */
	uint16_t vendor, device, sub_vendor, sub_device;
	int revision;          /* -1 unknown */
	char *driver;          /* NULL: no driver bound (or unreadable) */
	int group;             /* -1: none / unknown */
	int parent;            /* index of the bridge above in the list; -1 root bus / unknown */
	bool parent_known;     /* the /sys/devices path could be read */
	char *syspath;         /* "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0" or NULL */
	struct pci_cfg cfg;
	bool cfg_read;         /* config file was readable */
	/* Filled by the caller (names come from pcinames.c). */
	char *vendor_name, *device_name, *class_name;
};

struct pci_list {
	struct pcidev *v;
	size_t n;
	int warnings;          /* entries that could not be read completely */
};

/* "0000:01:00.0" → parts; -EINVAL if not an address. */
int pci_parse_addr(const char *s, unsigned *dom, unsigned *bus, unsigned *slot, unsigned *func);

/* Read every device listed in /sys/bus/pci/devices (and any device only
 * listed in an IOMMU group) through rootfd. Sorted by address. Returns the
 * count, or -errno when /sys/bus/pci/devices cannot be listed at all. */
int pci_scan(int rootfd, struct pci_list *out);
void pci_list_free(struct pci_list *l);
int pci_find(const struct pci_list *l, const char *addr);

/* Fill vendor_name, device_name and class_name (pcinames.c). */
void pci_fill_names(struct pci_list *l);

/* Class helpers (16-bit class code = class >> 8). */
bool pci_is_gpu_class(uint32_t class);
bool pci_is_gpu_companion_class(uint32_t class); /* 0403, 0c03, 0c80 */
bool pci_is_bridge(const struct pcidev *d);
const char *pcie_type_name(enum pcie_type t);
const char *tri_name(enum tri t);
/* Short "addr" without the domain when it is 0000. */
const char *pci_short_addr(const struct pcidev *d);
