/* acssupport.h — does the running kernel carry the ACS override patch?
 * Found without a reboot (FIELD-NOTES §9): the patch's own symbols in
 * /proc/kallsyms (names are readable without root; addresses are zeroed),
 * /boot/System.map-RELEASE when kallsyms tells nothing, and the boot log
 * when the parameter is set. Proxmox VE (-pve), Zen, Liquorix, XanMod,
 * CachyOS and Unraid kernels carry it; acso's own kernels too. The release
 * flavour alone is a hint, never proof. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "machine/pci.h"   /* enum tri */

/* Where the verdict comes from. */
enum acs_evidence {
	ACS_EV_NONE,        /* nothing readable told: supported is TRI_UNKNOWN */
	ACS_EV_BOOT_LOG,    /* "PCIe ACS overrides enabled" or its parse errors */
	ACS_EV_KALLSYMS,    /* /proc/kallsyms */
	ACS_EV_SYSTEM_MAP,  /* /boot/System.map-RELEASE */
	ACS_EV_UNKNOWN_PARAM, /* the kernel reported the parameter as unknown */
};

struct acs_support {
	enum tri supported;
	enum acs_evidence evidence;
	char source[128];   /* "/proc/kallsyms", "/boot/System.map-6.8.12-4-pve", "kernel log" */
	char symbol[64];    /* the symbol that proved it, "" otherwise */
	char flavour[32];   /* a vendor flavour seen in the release ("pve", "zen", ...): a hint */
	char note[256];     /* why the files said nothing, when they did not ("" otherwise) */
};

/* What a symbol list says: 1 the patch's symbols are in the kernel's own
 * list (symbol copied to sym), 0 the list is the kernel's and complete (it
 * names quirks.c's pci_dev_specific_acs_enabled) and has none of them, -1 it
 * tells nothing (empty, not a symbol list, or only modules' symbols). A line
 * whose symbol carries a "[module]" tag is a module's, never proof. Lines
 * are "ADDRESS TYPE NAME[\t[MODULE]]" (kallsyms and System.map alike). */
int acs_scan_symbols(const char *text, size_t len, char *sym, size_t symlen);

/* The vendor flavour a release string names ("6.8.12-4-pve" -> "pve"), or
 * NULL. */
const char *acs_release_flavour(const char *release);

/* Read below rootfd: /proc/kallsyms (at most ACS_SYMBOLS_MAX bytes), else
 * /boot/System.map-RELEASE (exactly this release's), and combine with what
 * the boot log said (log_enabled: the override's line; log_unknown: the
 * parameter reported as unknown). Never fails: what cannot be read leaves
 * the verdict unknown with a note. */
#define ACS_SYMBOLS_MAX (256u << 20)
void acs_support_detect(int rootfd, const char *release, bool log_enabled,
			bool log_unknown, struct acs_support *out);

/* "kallsyms", "System.map", "boot log", ... for reports. */
const char *acs_evidence_name(enum acs_evidence ev);
