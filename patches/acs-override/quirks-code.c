/*
 * pcie_acs_override= (placed by acso): treat PCIe devices that have no ACS
 * capability as if they isolated peer-to-peer traffic, so that the IOMMU
 * gives them groups of their own. This trades isolation the hardware does
 * not promise for usable groups; see kernel-parameters.txt.
 */
#define PCIE_ACS_OVERRIDE_MAX_IDS 16

static bool pcie_acs_override_downstream __read_mostly;
static bool pcie_acs_override_multifunction __read_mostly;
static unsigned int pcie_acs_override_nr_ids __read_mostly;
static struct {
	unsigned short vendor;
	unsigned short device;
} pcie_acs_override_ids[PCIE_ACS_OVERRIDE_MAX_IDS] __read_mostly;

/*
 * Exactly four hex digits: "10de" yes; "10d", "0x10", "10de0" no. Parsed
 * here rather than with hex_to_bin(), whose header (<linux/hex.h>) kernel.h
 * stopped including in 7.0 and which older trees do not have: this code
 * needs nothing beyond what quirks.c includes on every series from 3.10.
 */
static int __init pcie_acs_override_hex4(const char *s, unsigned short *out)
{
	unsigned int v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

static int __init pcie_acs_override_setup(char *p)
{
	unsigned short vendor, device;
	char *opt;

	if (!p)
		return -EINVAL;

	while ((opt = strsep(&p, ","))) {
		if (!*opt)
			continue;
		if (!strcmp(opt, "downstream")) {
			pcie_acs_override_downstream = true;
			continue;
		}
		if (!strcmp(opt, "multifunction")) {
			pcie_acs_override_multifunction = true;
			continue;
		}
		if (strncmp(opt, "id:", 3)) {
			pr_warn("PCIe ACS unknown option '%s'\n", opt);
			continue;
		}
		if (strlen(opt) != 12 || opt[7] != ':' ||
		    pcie_acs_override_hex4(opt + 3, &vendor) ||
		    pcie_acs_override_hex4(opt + 8, &device)) {
			pr_warn("PCIe ACS ID parse error '%s' (expected id:vvvv:dddd)\n", opt);
			continue;
		}
		if (vendor == 0x0000 || vendor == 0xffff) {
			pr_warn("PCIe ACS invalid ID %04x:%04x\n", vendor, device);
			continue;
		}
		if (pcie_acs_override_nr_ids == PCIE_ACS_OVERRIDE_MAX_IDS) {
			pr_warn("PCIe ACS too many IDs (at most %d), ignoring %04x:%04x\n",
				PCIE_ACS_OVERRIDE_MAX_IDS, vendor, device);
			continue;
		}
		pcie_acs_override_ids[pcie_acs_override_nr_ids].vendor = vendor;
		pcie_acs_override_ids[pcie_acs_override_nr_ids].device = device;
		pcie_acs_override_nr_ids++;
	}

	if (pcie_acs_override_downstream || pcie_acs_override_multifunction ||
	    pcie_acs_override_nr_ids)
		pr_warn("Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA\n");
	return 0;
}
early_param("pcie_acs_override", pcie_acs_override_setup);

static @ACS_RET@ pcie_acs_overrides(struct pci_dev *dev, @ACS_FLAGS_TYPE@ acs_flags)
{
	unsigned int i;

	/* Conventional PCI is never split: it has no ACS to fake. */
	if (!pci_is_pcie(dev))
		return -ENOTTY;
	/* A device with a real ACS capability is judged by it. */
	if (pci_find_ext_capability(dev, PCI_EXT_CAP_ID_ACS))
		return -ENOTTY;

	for (i = 0; i < pcie_acs_override_nr_ids; i++)
		if (pcie_acs_override_ids[i].vendor == dev->vendor &&
		    pcie_acs_override_ids[i].device == dev->device)
			return 1;

	switch (pci_pcie_type(dev)) {
	case PCI_EXP_TYPE_ROOT_PORT:
	case PCI_EXP_TYPE_DOWNSTREAM:
		if (pcie_acs_override_downstream)
			return 1;
		break;
	case PCI_EXP_TYPE_ENDPOINT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_LEG_END:
	case PCI_EXP_TYPE_RC_END:
		if (pcie_acs_override_multifunction && dev->multifunction)
			return 1;
		break;
	}
	return -ENOTTY;
}
