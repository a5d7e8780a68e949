/* pcinames.h — vendor, device and class names from the pci.ids database,
 * through libpci (the only file that includes <pci/pci.h>). */
#pragma once
#include <stdint.h>

/* Use this pci.ids file instead of the host's (NULL: libpci's default, or
 * $ACSO_PCI_IDS when set — the tests pin a copy). Call before lookups. */
void pcinames_init(const char *ids_path);
void pcinames_done(void);

/* malloc'ed names, NULL when the database does not know the id. */
char *pcinames_vendor(uint16_t vendor);
char *pcinames_device(uint16_t vendor, uint16_t device);
/* class: the 16-bit class/subclass code (0x0300). */
char *pcinames_class(uint16_t class);
