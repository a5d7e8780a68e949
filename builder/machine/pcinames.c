/* pcinames.c — names from pci.ids through libpci (see pcinames.h).
 * udev's hwdb is not consulted: the names must come from one database,
 * the same one `lspci` reads, so that outputs are reproducible. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pci/pci.h>

#include "machine/pcinames.h"
#include "base/util.h"

static struct pci_access *pacc;

static void quiet_warning(char *msg, ...)
{
	(void)msg; /* a missing pci.ids gives numbers only; that is reported as "unknown" */
}

__attribute__((noreturn)) static void fatal_error(char *msg, ...)
{
	/* libpci calls this only for conditions it cannot recover from
	 * (allocation failure); like every allocation failure here: abort. */
	va_list ap;
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	abort();
}

void pcinames_init(const char *ids_path)
{
	if (pacc)
		return;
	pacc = pci_alloc();
	/* pci_init() is not called (it would scan the real bus): set every
	 * callback libpci may use, the debug one included. */
	pacc->warning = quiet_warning;
	pacc->debug = quiet_warning;
	pacc->error = fatal_error;
	const char *env = getenv("ACSO_PCI_IDS");
	if (!ids_path && env && *env)
		ids_path = env;
	if (ids_path)
		pci_set_name_list_path(pacc, xstrdup(ids_path), 1);
}

void pcinames_done(void)
{
	if (pacc)
		pci_cleanup(pacc);
	pacc = NULL;
}

static char *lookup(int flags, unsigned a, unsigned b)
{
	char buf[256];
	if (!pacc)
		pcinames_init(NULL);
	char *s = pci_lookup_name(pacc, buf, sizeof(buf), flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, a, b);
	return s ? xstrdup(s) : NULL;
}

char *pcinames_vendor(uint16_t vendor) { return lookup(PCI_LOOKUP_VENDOR, vendor, 0); }
char *pcinames_device(uint16_t vendor, uint16_t device) { return lookup(PCI_LOOKUP_DEVICE, vendor, device); }
char *pcinames_class(uint16_t class) { return lookup(PCI_LOOKUP_CLASS, class, 0); }

