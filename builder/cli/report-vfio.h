/* report-vfio.h — acso verify's part for `acso vfio` (vfio/bind.h): each
 * recorded function's driver now, and the next step (the VM's devices for
 * libvirt, virt-install or Proxmox's qm, and what the VM needs). */
#pragma once
#include <stdbool.h>

struct acso_ctx;

/* Render the "vfio" field (nothing at all when acso vfio was not used).
 * Returns false only when acso vfio was used and a function is not held by
 * vfio-pci (or its record cannot be read). */
bool report_vfio(const struct acso_ctx *ctx);
