/* proxmox.h — Proxmox VE's boot: on ZFS installs proxmox-boot-tool keeps
 * the ESPs listed in /etc/kernel/proxmox-boot-uuids. On an EFI boot without
 * Secure Boot they hold systemd-boot, whose entries it makes from
 * /etc/kernel/cmdline (one line); `proxmox-boot-tool refresh` copies the
 * kernels and regenerates the entries. A legacy BIOS boot and an EFI boot
 * with Secure Boot get GRUB on the ESPs instead, configured from
 * /etc/default/grub (Proxmox VE admin guide, "Host Bootloader"; pve-docs
 * system-booting.adoc), and there update-grub refreshes the ESPs itself.
 * Other Proxmox installs boot GRUB and are GRUB's. Core: never prints or
 * exits. */
#pragma once
#include <stdbool.h>

#include "base/util.h"

#define PROXMOX_BOOT_UUIDS "/etc/kernel/proxmox-boot-uuids"

/* The root's ESPs are managed by proxmox-boot-tool. */
bool proxmox_boot_managed(int rootfd);
/* proxmox-boot-tool keeps GRUB on those ESPs: the root booted legacy BIOS
 * (/sys/firmware without efi) or with Secure Boot on. A root without
 * /sys/firmware (an image, a partial capture) tells nothing: false. */
bool proxmox_boot_grub(int rootfd);
/* The command that regenerates the boot entries after /etc/kernel/cmdline
 * changed: [chroot ROOT] proxmox-boot-tool refresh. */
void proxmox_refresh_argv(const char *root, struct strv *argv);
