/* params.h — the parameters acso puts on the kernel command line: the
 * pcie_acs_override= grammar, and the CPU vendor that decides intel_iommu=on.
 * Core: never prints or exits. */
#pragma once

struct acso_err;

/* pcie_acs_override= grammar: downstream, multifunction, id:vvvv:dddd,
 * comma-combined, no spaces, at most 15 ids. 0 or -ACSO_E_PARSE. */
int acs_mode_check(const char *mode, struct acso_err *e);

/* "intel", "amd" or "unknown" from ROOT/proc/cpuinfo. */
const char *cpu_vendor(int rootfd);
