/* proxmox.c — see proxmox.h: proxmox-boot-tool, the boot manager of
 * Proxmox VE's ZFS installs. On its systemd-boot ESPs the command line is
 * /etc/kernel/cmdline, written by bootmgr.c's kcmdline_* exactly as for
 * systemd-boot (with the same exact undo); only the refresh differs. */
#include <string.h>

#include "base/fileio.h"
#include "boot/proxmox.h"
#include "machine/secureboot.h"

bool proxmox_boot_managed(int rootfd)
{
	return root_exists(rootfd, PROXMOX_BOOT_UUIDS) == 0;
}

bool proxmox_boot_grub(int rootfd)
{
	if (root_exists(rootfd, "/sys/firmware") != 0)
		return false;
	struct sb_state s;
	sb_read(rootfd, false, &s);
	return s.efi == TRI_NO || s.secure_boot == TRI_YES;
}

void proxmox_refresh_argv(const char *root, struct strv *argv)
{
	/* Like the other boot-loader programs, it runs inside an image root. */
	strv_push_chroot(argv, root);
	strv_push(argv, "proxmox-boot-tool");
	strv_push(argv, "refresh");
}
