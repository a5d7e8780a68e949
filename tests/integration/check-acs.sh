#!/usr/bin/env bash
# acso check / verify off the happy path (issue 12, items 1, 2 and 9): a
# kernel that already carries the override (kallsyms, System.map, not a
# module's symbols, not another release's map), Proxmox VE, a virtual
# machine without a virtual IOMMU, libvirt installed but not enabled, the
# GPU that drives the host's screen, what was not checked, verify without a
# GPU and on a stock kernel. Each root is a copy of a machine fixture with
# the files of the case laid over it (tests/fixtures/acs-support/README.md).
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed
unset SUDO_USER
A=$FIXTURES/acs-support

# mk NAME FIXTURE: a fresh copy at $T/NAME
mk() { rm -rf "${T:?}/$1"; cp -a "$FIXTURES/$2" "$T/$1"; }
pve_kernel() {
	echo 6.8.12-13-pve >"$1/proc/sys/kernel/osrelease"
	# A real Proxmox VE 8 /proc/version, as a user posted it in the bug report
	# "[BUG] - Kernel 6.8.12-13-pve Boot Failure - PCIe AER Errors & Storage
	# Timeouts" (reddit.com/r/Proxmox, post 1mndsoy, 2025-08).
	echo 'Linux version 6.8.12-13-pve (build@proxmox) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-13 (2025-07-22T10:00Z) ()' >"$1/proc/version"
	rm -f "$1/proc/version_signature"
}

# --- item 1: the running kernel carries the override ----------------------
mk pve seed
pve_kernel "$T/pve"
cp "$A/kallsyms-pve" "$T/pve/proc/kallsyms"
t_exit 3 "kallsyms with the patch's symbols: ready after override (exit 3)" "$ACSO" check --root "$T/pve"
cp "$T/.out" "$T/pve.txt"
t_grep "kallsyms: support found, with the symbol and the file" '^pass  ACS override +supported, not active: kernel 6.8.12-13-pve carries it \(pcie_acs_overrides in /proc/kallsyms\)' "$T/pve.txt"
t_grep "kallsyms: the verdict registers the parameter only" "this kernel carries the override: 'sudo acso grub --acs auto' registers the parameter \('acso run' does only that\)" "$T/pve.txt"
t_nogrep "kallsyms: no 'builds the kernel'" "builds the kernel" "$T/pve.txt"
"$ACSO" check --json --root "$T/pve" >"$T/pve.json" 2>/dev/null
t_jq "json: override_support from kallsyms" '.override_support | .supported == "yes" and .evidence == "kallsyms" and .source == "/proc/kallsyms" and .symbol == "pcie_acs_overrides" and .flavour == "pve"' "$T/pve.json"

# A stock kernel's complete list without the symbols: not supported.
mk stock seed
cp "$A/kallsyms-stock" "$T/stock/proc/kallsyms"
"$ACSO" check --root "$T/stock" >"$T/o" 2>&1
t_grep "stock kallsyms: does not carry it" '^warn  ACS override +kernel 5.3.0-24-generic does not carry it \(no pcie_acs_override symbols in /proc/kallsyms\)' "$T/o"
t_grep "stock kallsyms: the fix builds a kernel" "fix: build and install an ACS kernel: 'acso run'" "$T/o"

# Only a module's symbols: never proof; the System.map of this release decides.
mk map seed
cp "$A/kallsyms-module" "$T/map/proc/kallsyms"
mkdir -p "$T/map/boot"
cp "$A/System.map-acs" "$T/map/boot/System.map-5.3.0-24-generic"
"$ACSO" check --json --root "$T/map" >"$T/map.json" 2>/dev/null
t_jq "module-only kallsyms: System.map of this release decides" '.override_support | .supported == "yes" and .evidence == "System.map" and .source == "/boot/System.map-5.3.0-24-generic"' "$T/map.json"
# ... and a System.map of another release is ignored: unknown, not a pass.
mv "$T/map/boot/System.map-5.3.0-24-generic" "$T/map/boot/System.map-6.8.12-13-pve"
"$ACSO" check --root "$T/map" >"$T/o" 2>&1
t_grep "another release's System.map: unknown, shown as info" '^info  ACS override +not active \(kernel 5.3.0-24-generic; support unknown: /proc/kallsyms: lists no kernel symbols, no /boot/System.map-5.3.0-24-generic\)' "$T/o"
t_grep "unknown support: the verdict still builds" "'acso run' builds the kernel" "$T/o"
# A -pve flavour alone is a hint, never proof.
mk hint seed
pve_kernel "$T/hint"
"$ACSO" check --json --root "$T/hint" >"$T/hint.json" 2>/dev/null
t_jq "the flavour alone: unknown, named as a hint" '.override_support.supported == "unknown" and .override_support.flavour == "pve" and (.items[] | select(.id == "acs_override") | .status == "info" and (.summary | test("flavour suggests it: pve")))' "$T/hint.json"

# Bad input: a kallsyms larger than any kernel's list (sparse, no newline),
# one that is not a regular file, one this user cannot read.
mk bad seed
truncate -s 300M "$T/bad/proc/kallsyms"
t_exit 3 "huge kallsyms: check still gives its verdict" "$ACSO" check --root "$T/bad"
t_grep "huge kallsyms: named, support unknown" 'support unknown: /proc/kallsyms: larger than any kernel.s symbol list' "$T/.out"
rm "$T/bad/proc/kallsyms"; mkfifo "$T/bad/proc/kallsyms"
t_exit 3 "kallsyms a FIFO: not read, no hang" timeout 20 "$ACSO" check --root "$T/bad"
t_grep "FIFO kallsyms: not a regular file" '/proc/kallsyms: not a regular file' "$T/.out"
rm "$T/bad/proc/kallsyms"; cp "$A/kallsyms-pve" "$T/bad/proc/kallsyms"; chmod 000 "$T/bad/proc/kallsyms"
chmod 755 "$T"
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ "$ACSO" --work-dir "$T/wn" check --root "$T/bad" >"$T/o" 2>&1
t_grep "unreadable kallsyms: says why, support unknown" 'support unknown: /proc/kallsyms: Permission denied' "$T/o"

# --- item 2: Proxmox VE does not use libvirt --------------------------------
mk px desktop-clean
rm -rf "$T/px/usr/sbin/libvirtd" "$T/px/usr/bin/virsh" "$T/px/etc/systemd"
mkdir -p "$T/px/etc/pve"
t_exit 0 "Proxmox VE: ready without libvirt (exit 0)" "$ACSO" check --root "$T/px"
cp "$T/.out" "$T/px.txt"
t_grep "Proxmox VE: the qm item" '^pass  Proxmox VE +Proxmox VE \(/etc/pve\): guests get the GPU through qm, libvirt is not needed' "$T/px.txt"
t_nogrep "Proxmox VE: libvirt not asked for" '^(pass|warn|fail|info)  libvirt' "$T/px.txt"
t_grep "Proxmox VE: the next step names qm" "^Next: give a guest the GPU with 'qm set VMID -hostpci0 ADDR'" "$T/px.txt"

# --- item 9: honest verdicts ------------------------------------------------
# A virtual machine without a virtual IOMMU: the host must give it one.
mk vm iommu-off
sed -i 's/^flags\t\t: /&hypervisor /' "$T/vm/proc/cpuinfo"
mkdir -p "$T/vm/sys/firmware/acpi/tables"; : >"$T/vm/sys/firmware/acpi/tables/APIC"
"$ACSO" check --root "$T/vm" >"$T/o" 2>&1
t_grep "VM: the IOMMU item says it is a virtual machine" '^fail  IOMMU +the IOMMU is off: no IOMMU groups in this virtual machine' "$T/o"
t_grep "VM: the IOMMU must come from the host" 'fix: this is a virtual machine without a virtual IOMMU \(no DMAR or IVRS ACPI table\): the IOMMU must come from the host' "$T/o"
t_nogrep "VM: no firmware switch advised" 'turn on VT-d in the firmware' "$T/o"
# ... with a DMAR table (a virtual IOMMU given), the usual advice stands.
: >"$T/vm/sys/firmware/acpi/tables/DMAR"
"$ACSO" check --root "$T/vm" >"$T/o" 2>&1
t_grep "VM with DMAR: the usual advice" 'fix: turn on VT-d in the firmware setup' "$T/o"

# libvirt: installed but not enabled warns; virsh alone is no libvirt.
mk lv seed
rm "$T/lv/etc/systemd/system/multi-user.target.wants/libvirtd.service"
"$ACSO" check --root "$T/lv" >"$T/o" 2>&1
t_grep "libvirtd not enabled: warn" '^warn  libvirt +libvirt is installed but its daemon is not enabled' "$T/o"
t_grep "libvirtd not enabled: systemctl enable" 'fix: sudo systemctl enable --now libvirtd' "$T/o"
rm "$T/lv/usr/sbin/libvirtd"
"$ACSO" check --root "$T/lv" >"$T/o" 2>&1
t_grep "a lone virsh: warn, no daemon" '^warn  libvirt +only virsh \(the client\) is installed: no libvirt daemon' "$T/o"

# Not checked is info, not pass: Secure Boot with no efivars (EFI boot),
# interrupt remapping with no kernel log, the libvirt group as root.
mk nc seed
rm -f "$T/nc/sys/firmware/efi/efivars/"* "$T/nc/var/log/dmesg"
USER=root "$ACSO" check --root "$T/nc" >"$T/o" 2>&1
t_grep "Secure Boot unread: info" '^info  Secure Boot +not checked' "$T/o"
t_grep "no kernel log: interrupt remapping is info" '^info  interrupt remapping +not checked: no kernel log could be read' "$T/o"
t_grep "as root: the libvirt group is info" '^info  libvirt group +not checked: running as root' "$T/o"

# The GPU that drives the boot console, or a laptop's panel, is flagged.
mk bv seed
echo 1 >"$T/bv/sys/bus/pci/devices/0000:01:00.0/boot_vga"
"$ACSO" check --root "$T/bv" >"$T/o" 2>&1
t_grep "boot_vga GPU flagged" '^warn  host display +01:00.0 drives the boot console \(boot_vga\): passing it leaves the host without a screen' "$T/o"
"$ACSO" check --gpu 02:00.0 --root "$T/bv" >"$T/o" 2>&1
t_nogrep "another GPU judged: not flagged" 'host display' "$T/o"
# A kernel without virtual terminals (/sys/class/tty without tty0: a serial
# console) shows no console on the boot VGA: not flagged, as acso vfio binds it.
mkdir -p "$T/bv/sys/class/tty/ttyS0"
"$ACSO" check --root "$T/bv" >"$T/o" 2>&1
t_nogrep "boot_vga GPU, kernel without VTs: not flagged" 'host display' "$T/o"
mkdir -p "$T/bv/sys/class/tty/tty0"
"$ACSO" check --root "$T/bv" >"$T/o" 2>&1
t_grep "boot_vga GPU, kernel with tty0: flagged" '^warn  host display +01:00\.0 drives the boot console' "$T/o"
mk lp laptop-3d
mkdir -p "$T/lp/sys/class/drm/card1-eDP-1"
ln -s ../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0 "$T/lp/sys/class/drm/card1/device" 2>/dev/null ||
	{ mkdir -p "$T/lp/sys/class/drm/card1"; ln -s ../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0 "$T/lp/sys/class/drm/card1/device"; }
"$ACSO" check --root "$T/lp" >"$T/o" 2>&1
t_grep "laptop panel GPU flagged" "^warn  host display +01:00.0 drives the laptop's panel \(card1-eDP-1\)" "$T/o"

# Secure Boot on with an override to build: the kernel must be signed.
"$ACSO" check --root "$FIXTURES/amd-chipset-shared" >"$T/o" 2>&1
t_grep "Secure Boot on: the kernel is built and signed" "^Verdict: ready after the ACS override .*'acso run' builds the kernel and signs it for Secure Boot" "$T/o"
t_nogrep "Secure Boot on: never 'turn it off'" '[Tt]urn.* off|turned off' "$T/o"
t_grep "Secure Boot on, no MOK: acso install makes one" '^warn  Secure Boot +on: no MOK yet; acso install makes one where DKMS looks' "$T/o"
# ... with Debian's DKMS MOK: named; enrolment unknown from another root.
mk sbk amd-chipset-shared
mkdir -p "$T/sbk/var/lib/dkms"
: >"$T/sbk/var/lib/dkms/mok.key"
: >"$T/sbk/var/lib/dkms/mok.pub"
"$ACSO" check --root "$T/sbk" >"$T/o" 2>&1
t_grep "Secure Boot on, DKMS MOK: names the key it signs with" \
	'^warn  Secure Boot +on: acso install signs the new kernel with /var/lib/dkms/mok.pub \(Debian.s DKMS MOK\); not known here whether it is enrolled' "$T/o"
t_grep "Secure Boot on, DKMS MOK: says how to find out" "fix: 'mokutil --test-key /var/lib/dkms/mok.pub' tells" "$T/o"

# verify: no GPU says there is none; a stock kernel points to acso run.
mk ng seed
for d in 0000:01:00.0 0000:02:00.0; do echo 0x020000 >"$T/ng/sys/bus/pci/devices/$d/class"; done
t_exit 1 "verify without a GPU: exit 1" "$ACSO" --work-dir "$T/w" verify --root "$T/ng"
t_grep "verify without a GPU: says there is none" '^Not verified: there is no GPU' "$T/.out"
t_exit 1 "verify on a stock kernel: exit 1" "$ACSO" --work-dir "$T/w" verify --root "$FIXTURES/seed"
t_grep "verify on a stock kernel: points to acso run" "kernel 5.3.0-24-generic does not carry the override: 'acso run' builds an ACS kernel" "$T/.err"
t_exit 1 "verify on a -pve kernel with the symbols" "$ACSO" --work-dir "$T/w" verify --root "$T/pve"
t_grep "verify: support from kallsyms" '^override support yes \(pcie_acs_overrides in /proc/kallsyms\)' "$T/.out"
t_grep "verify: a supporting kernel is pointed to acso grub" "pcie_acs_override is not on the command line: 'sudo acso grub'" "$T/.err"
t_done
