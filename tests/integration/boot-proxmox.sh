#!/usr/bin/env bash
# acso grub on the boot managers of issue 12 (items 2 and 8): Proxmox VE's
# proxmox-boot-tool (/etc/kernel/proxmox-boot-uuids: the parameters go to
# /etc/kernel/cmdline, one line, then `proxmox-boot-tool refresh` runs in
# the root, recorded by a stub chroot), Proxmox on GRUB, systemd-boot found
# by what is on the ESP (not by kernel-install), and a "--" in the command
# line (the parameters go before it); proxmox-boot-tool on GRUB (legacy BIOS,
# Secure Boot).
#
# Real Proxmox VE inputs: /etc/kernel/cmdline of a ZFS install is
# "root=ZFS=rpool/ROOT/pve-1 boot=zfs" (Proxmox VE Administration Guide,
# "Host Bootloader" > "Editing the Kernel Commandline",
# https://pve.proxmox.com/pve-docs/pve-admin-guide.html#sysboot_edit_kernel_cmdline);
# /etc/kernel/proxmox-boot-uuids lists the ESPs' FAT UUIDs, one a line
# (same guide, "Synchronizing the content of the ESP with proxmox-boot-tool").
# The /proc/cmdline below has the shape of a proxmox-boot-tool systemd-boot
# boot (its entries load initrd=\EFI\proxmox\RELEASE\initrd.img-RELEASE);
# it is built here, not captured.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/bin"
# chroot stub: records its argv; exits with the code in $T/chroot.rc (default 0)
cat >"$T/bin/chroot" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >>"$T/chroot.argv"
exit \$(cat "$T/chroot.rc" 2>/dev/null || echo 0)
EOF
chmod +x "$T/bin/chroot"
G=(env PATH="$T/bin:$PATH" "$ACSO" grub)
intel() { mkdir -p "$1/proc"; printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"; }

# pve ROOT — a Proxmox VE ZFS/UEFI install: proxmox-boot-tool, its cmdline,
# and the installer's /etc/default/grub, which does not boot it.
pve() {
	rm -rf "$1"
	mkdir -p "$1/etc/kernel" "$1/etc/default" "$1/etc/pve" "$1/var/lib" "$1/sys/firmware/efi/efivars"
	intel "$1"
	echo 'root=ZFS=rpool/ROOT/pve-1 boot=zfs' >"$1/etc/kernel/cmdline"
	printf '936E-9A3F\n936F-0211\n' >"$1/etc/kernel/proxmox-boot-uuids"
	printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' >"$1/etc/default/grub"
	echo 'initrd=\EFI\proxmox\6.8.12-4-pve\initrd.img-6.8.12-4-pve root=ZFS=rpool/ROOT/pve-1 boot=zfs' >"$1/proc/cmdline"
}

R=$T/pve
pve "$R"
cp "$R/etc/kernel/cmdline" "$T/orig"
t_exit 0 "proxmox --dry-run" "${G[@]}" --root "$R" --dry-run --acs downstream
t_grep "dry run: the boot manager named" '^Boot manager: proxmox-boot-tool$' "$T/.out"
t_grep "dry run: one line, the parameters appended" '^Would write /etc/kernel/cmdline: root=ZFS=rpool/ROOT/pve-1 boot=zfs pcie_acs_override=downstream intel_iommu=on$' "$T/.out"
t_grep "dry run: says it would refresh" "^Would run: chroot $R proxmox-boot-tool refresh$" "$T/.out"
[ ! -e "$T/chroot.argv" ] && cmp -s "$T/orig" "$R/etc/kernel/cmdline" && t_pass "dry run: nothing run, nothing written" ||
	t_fail "dry run: nothing run, nothing written" "$(cat "$T/chroot.argv" 2>&1)"
t_exit 0 "proxmox: add exits 0" "${G[@]}" --root "$R" --acs downstream
t_grep "proxmox: says it refreshed" "^Regenerated with: chroot $R proxmox-boot-tool refresh$" "$T/.out"
t_ok "proxmox: /etc/kernel/cmdline is one line with the parameters" test "$(cat "$R/etc/kernel/cmdline")" = "root=ZFS=rpool/ROOT/pve-1 boot=zfs pcie_acs_override=downstream intel_iommu=on"
t_ok "proxmox: still one line" test "$(wc -l <"$R/etc/kernel/cmdline")" = 1
[ "$(tr '\n' ' ' <"$T/chroot.argv" 2>/dev/null)" = "$R proxmox-boot-tool refresh " ] &&
	t_pass "proxmox: proxmox-boot-tool refresh ran in the root" || t_fail "proxmox: refresh argv" "$(cat "$T/chroot.argv" 2>&1)"
t_nogrep "proxmox: no GRUB drop-in" . <(ls "$R/etc/default/grub.d" 2>/dev/null)
rm -f "$T/chroot.argv"
t_exit 0 "proxmox: a second add changes nothing" "${G[@]}" --root "$R" --acs downstream
[ ! -e "$T/chroot.argv" ] && t_pass "proxmox: no change, no refresh" || t_fail "proxmox: no change, no refresh" "$(cat "$T/chroot.argv")"
"${G[@]}" --root "$R" --json --dry-run --remove >"$T/j" 2>/dev/null
t_jq "json: boot_manager, undo, regenerate" '.boot_manager == "proxmox-boot-tool" and .undo == "restore" and .regenerate[-1] == "refresh"' "$T/j"
t_exit 0 "proxmox: --remove exits 0" "${G[@]}" --root "$R" --remove
t_ok "proxmox: --remove restores the file byte for byte" cmp "$T/orig" "$R/etc/kernel/cmdline"
[ "$(tr '\n' ' ' <"$T/chroot.argv" 2>/dev/null)" = "$R proxmox-boot-tool refresh " ] &&
	t_pass "proxmox: --remove refreshed too" || t_fail "proxmox: --remove refreshed too" "$(cat "$T/chroot.argv" 2>&1)"
rm -f "$T/chroot.argv"
# A refresh that fails: exit 1, says what is written and what to do.
echo 1 >"$T/chroot.rc"
t_exit 1 "proxmox: failing refresh exits 1" "${G[@]}" --root "$R" --acs downstream
t_grep "failing refresh: the command named" "acso: .*'chroot $R proxmox-boot-tool refresh'" "$T/.err"
t_grep "failing refresh: what to do" "hint: /etc/kernel/cmdline is written but the boot entries are as before: run 'proxmox-boot-tool refresh'" "$T/.err"
rm -f "$T/chroot.rc" "$T/chroot.argv"

# Proxmox VE on GRUB (no proxmox-boot-uuids): GRUB's drop-in, no refresh.
pve "$R"
rm "$R/etc/kernel/proxmox-boot-uuids" "$R/etc/kernel/cmdline"
t_exit 0 "proxmox on GRUB: --dry-run" "${G[@]}" --root "$R" --dry-run --no-update
t_grep "proxmox on GRUB: the drop-in" '^Method: drop-in /etc/default/grub.d/99-acso.cfg' "$T/.out"

# proxmox-boot-tool with GRUB on its ESPs (pve-docs system-booting.adoc:
# "For legacy BIOS systems, and EFI systems with Secure Boot enabled, GRUB is
# used"): the GRUB drop-in, /etc/kernel/cmdline left alone, and update-grub
# (which refreshes the ESPs on Proxmox) as the regeneration.
pbt_grub() { # LABEL — $R as pve() made it, changed by the caller
	"${G[@]}" --root "$R" --dry-run --acs downstream --json >"$T/j" 2>"$T/e"
	t_jq "$1: GRUB's, said in the JSON" '.boot_manager == "grub" and .proxmox_boot_grub == true and .method == "drop-in"' "$T/j"
	t_exit 0 "$1: add exits 0" "${G[@]}" --root "$R" --acs downstream --no-update
	t_grep "$1: says why GRUB" '^Proxmox VE: proxmox-boot-tool keeps GRUB on the ESPs' "$T/.out"
	t_grep "$1: the drop-in has the parameter" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
	t_ok "$1: /etc/kernel/cmdline untouched" cmp "$T/orig" "$R/etc/kernel/cmdline"
}
pve "$R"
rm -r "$R/sys/firmware/efi"
pbt_grub "proxmox-boot-tool, legacy BIOS"
pve "$R"
printf '\x06\x00\x00\x00\x01' >"$R/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
pbt_grub "proxmox-boot-tool, Secure Boot on"
# EFI with Secure Boot off stays systemd-boot's; so does an image without /sys/firmware.
printf '\x06\x00\x00\x00\x00' >"$R/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
"${G[@]}" --root "$R" --dry-run --acs downstream --json >"$T/j" 2>/dev/null
t_jq "proxmox-boot-tool, Secure Boot off: proxmox-boot-tool" '.boot_manager == "proxmox-boot-tool"' "$T/j"
rm -r "$R/sys"
"${G[@]}" --root "$R" --dry-run --acs downstream --json >"$T/j" 2>/dev/null
t_jq "proxmox-boot-tool, no /sys/firmware: proxmox-boot-tool" '.boot_manager == "proxmox-boot-tool"' "$T/j"

# systemd-boot by the ESP, not by kernel-install.
S=$T/sd
rm -rf "$S"; mkdir -p "$S/usr/bin" "$S/etc/default" "$S/etc/kernel"; intel "$S"
touch "$S/usr/bin/kernel-install"
echo 'root=UUID=abcd ro quiet' >"$S/proc/cmdline"
t_exit 1 "kernel-install alone is no boot manager" "${G[@]}" --root "$S" --dry-run
t_grep "kernel-install alone: no supported boot manager" 'no supported boot manager found' "$T/.err"
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' >"$S/etc/default/grub"
"${G[@]}" --root "$S" --dry-run --no-update --json >"$T/j" 2>/dev/null
t_jq "kernel-install with GRUB: GRUB" '.boot_manager == "grub"' "$T/j"
mkdir -p "$S/boot/efi/loader/entries"
"${G[@]}" --root "$S" --dry-run --json >"$T/j" 2>/dev/null
t_jq "loader entries on the ESP: systemd-boot" '.boot_manager == "systemd-boot"' "$T/j"

# "--" in /etc/kernel/cmdline or /proc/cmdline: the parameters go before it.
echo 'root=UUID=abcd ro -- single' >"$S/etc/kernel/cmdline"
t_exit 0 "-- in the middle" "${G[@]}" --root "$S" --acs downstream
t_ok "-- in the middle: parameters before it" test "$(cat "$S/etc/kernel/cmdline")" = "root=UUID=abcd ro pcie_acs_override=downstream intel_iommu=on -- single"
t_exit 0 "-- in the middle: --remove" "${G[@]}" --root "$S" --remove
t_ok "-- in the middle: --remove restores" test "$(cat "$S/etc/kernel/cmdline")" = "root=UUID=abcd ro -- single"
echo '-- splash' >"$S/etc/kernel/cmdline"
"${G[@]}" --root "$S" --dry-run --acs downstream >"$T/o" 2>&1
t_grep "-- first: parameters before it" '^Would write /etc/kernel/cmdline: pcie_acs_override=downstream intel_iommu=on -- splash$' "$T/o"
echo 'root=UUID=abcd ro --' >"$S/etc/kernel/cmdline"
"${G[@]}" --root "$S" --dry-run --acs downstream >"$T/o" 2>&1
t_grep "-- last: parameters before it" '^Would write /etc/kernel/cmdline: root=UUID=abcd ro pcie_acs_override=downstream intel_iommu=on --$' "$T/o"
rm "$S/etc/kernel/cmdline"
echo 'BOOT_IMAGE=/vmlinuz root=UUID=abcd ro -- emergency' >"$S/proc/cmdline"
"${G[@]}" --root "$S" --dry-run --acs downstream >"$T/o" 2>&1
t_grep "-- in /proc/cmdline: parameters before it" '^Would write /etc/kernel/cmdline: root=UUID=abcd ro pcie_acs_override=downstream intel_iommu=on -- emergency$' "$T/o"
t_done
