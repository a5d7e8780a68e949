/* proxmox.h — Proxmox VE's boot: on ZFS/UEFI installs proxmox-boot-tool
 * keeps the ESPs listed in /etc/kernel/proxmox-boot-uuids and makes their
 * systemd-boot entries from /etc/kernel/cmdline (one line); `proxmox-boot-tool
 * refresh` copies the kernels and regenerates the entries. Other Proxmox
 * installs boot GRUB and are GRUB's. Core: never prints or exits. */
#pragma once
#include <stdbool.h>

#include "base/util.h"

#define PROXMOX_BOOT_UUIDS "/etc/kernel/proxmox-boot-uuids"

/* The root's ESPs are managed by proxmox-boot-tool. */
bool proxmox_boot_managed(int rootfd);
/* The command that regenerates the boot entries after /etc/kernel/cmdline
 * changed: [chroot ROOT] proxmox-boot-tool refresh. */
void proxmox_refresh_argv(const char *root, struct strv *argv);
