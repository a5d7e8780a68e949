/* secureboot.h — the machine's Secure Boot state, read below the root:
 * the EFI variables SecureBoot and SetupMode (efivarfs: 4 attribute bytes,
 * then the value; 1 = on), the kernel's lockdown mode, and whether the
 * machine booted through EFI at all. `mokutil --sb-state` is the fallback
 * on the running system when efivarfs is not mounted. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "machine/pci.h"   /* enum tri */

#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"

struct sb_state {
	enum tri efi;          /* /sys/firmware/efi exists: booted through EFI */
	enum tri secure_boot;  /* SecureBoot variable */
	enum tri setup_mode;   /* SetupMode variable: keys can be enrolled freely */
	char lockdown[16];     /* "none", "integrity", "confidentiality"; "" unknown */
	char source[32];       /* "efivars", "mokutil", "" */
};

/* An efivarfs variable's bytes: 4 attribute bytes, then one value byte.
 * Returns TRI_YES for 1, TRI_NO for 0, TRI_UNKNOWN for anything else. */
enum tri sb_parse_efivar(const unsigned char *data, size_t len);
/* /sys/kernel/security/lockdown: "none [integrity] confidentiality" -> the
 * bracketed word into out; -EINVAL when there is none. */
int sb_parse_lockdown(const char *text, char *out, size_t outlen);
/* `mokutil --sb-state` output: "SecureBoot enabled" / "SecureBoot disabled"
 * / "This system doesn't support Secure Boot"; "SecureBoot enabled\n
 * SecureBoot validation is disabled in shim" counts as disabled. Setup mode
 * ("Platform is in Setup Mode") into *setup when it is not NULL. */
enum tri sb_parse_mokutil(const char *text, enum tri *setup);

/* Read the state below rootfd. live: the root is the running system, where
 * mokutil may be asked when efivarfs tells nothing. Never fails. */
void sb_read(int rootfd, bool live, struct sb_state *s);
