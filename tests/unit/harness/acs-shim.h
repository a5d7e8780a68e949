/* acs-shim.h — just enough of the kernel for the ACS override's code to
 * compile and run in user space (tests/unit/test-quirks.c). The test places
 * the override into a synthetic quirks.c that includes this file, compiles
 * it with cc, and drives it: the parameter parser with argv[1], the quirk
 * through the table with the devices named in argv[2..]. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned short u16;
typedef unsigned int u32;
#define __init
#define __read_mostly
#define early_param(str, fn) static int (*const early_setup)(char *) = fn; \
	static const char early_name[] = str
#define pr_warn(...) printf("warn: " __VA_ARGS__)
#define PCI_ANY_ID 0xffff
#define PCI_EXT_CAP_ID_ACS 0x0d
#define PCI_EXP_TYPE_ENDPOINT 0x0
#define PCI_EXP_TYPE_LEG_END 0x1
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_UPSTREAM 0x5
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_TYPE_PCI_BRIDGE 0x7
#define PCI_EXP_TYPE_RC_END 0x9

struct pci_dev {
	u16 vendor, device;
	bool multifunction, is_pcie, has_acs;
	int type;
};

static bool pci_is_pcie(struct pci_dev *d) { return d->is_pcie; }
static int pci_pcie_type(struct pci_dev *d) { return d->type; }
static int pci_find_ext_capability(struct pci_dev *d, int cap)
{
	return cap == PCI_EXT_CAP_ID_ACS && d->has_acs ? 0x140 : 0;
}
static int other_quirk(struct pci_dev *dev, u16 acs_flags)
{
	(void)acs_flags;
	return dev->device == 0x5678 ? 0 : -ENOTTY;
}
