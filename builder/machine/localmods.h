/* localmods.h — the modules a trimmed kernel (--trim, localmodconfig) must
 * keep: the ones loaded now (/proc/modules) plus every module that claims a
 * PCI device present (/sys/bus/pci/devices/x/modalias matched against
 * /lib/modules/RELEASE/modules.alias), so that nothing plugged in loses its
 * driver. A running kernel built without CONFIG_MODULES has no /proc/modules:
 * then the list is empty and no_modules says why (its drivers are built in).
 * Everything is read through the root fd (--root). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct acso_err;

struct localmods {
	struct strv mods;      /* sorted, unique, '-' written as '_' as lsmod does */
	size_t loaded;         /* from /proc/modules */
	size_t pci_devices;    /* devices with a modalias */
	size_t from_pci;       /* modules added for PCI devices, not loaded now */
	bool no_modules;       /* the running kernel has no loadable modules (no /proc/modules) */
};

int localmods_collect(int rootfd, const char *release, struct localmods *out, struct acso_err *e);
/* The list in lsmod's format (what localmodconfig reads through LSMOD=). */
void localmods_lsmod(const struct localmods *m, struct buf *out);
void localmods_free(struct localmods *m);
