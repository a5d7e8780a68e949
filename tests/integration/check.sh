#!/usr/bin/env bash
# acso check against the machine fixtures (golden text and JSON, verdicts
# and exit codes 0/3/4) and against this machine.
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed
unset SUDO_USER

declare -A want=([seed]=3 [seed-after-override]=0 [desktop-clean]=0 [amd-chipset-shared]=3 [laptop-3d]=0 [port-has-acs]=4 [iommu-off]=4)
for f in "${!want[@]}"; do
	"$ACSO" check --root "$FIXTURES/$f" >"$T/$f.txt" 2>&1
	rc=$?
	t_ok "check $f: exit ${want[$f]}" test "$rc" = "${want[$f]}"
	t_golden "check text: $f" "check/$f.txt" "$T/$f.txt"
	"$ACSO" check --json --root "$FIXTURES/$f" >"$T/$f.json" 2>/dev/null
	t_golden "check json: $f" "check/$f.json" "$T/$f.json"
done
t_ok "seed: verdict ready after override" test "$(jq -r .verdict "$T/seed.json")" = ready_after_override
t_grep "seed: the fix names the override" 'fix: an ACS kernel with pcie_acs_override=id:8086:1901,id:8086:1905' "$T/seed.txt"
t_ok "iommu-off: blocked by the IOMMU" test "$(jq -r '.items[] | select(.id=="iommu") | .status' "$T/iommu-off.json")" = fail
t_grep "iommu-off: says how to turn it on" 'fix: turn on VT-d in the firmware setup and put intel_iommu=on' "$T/iommu-off.txt"
t_grep "amd: never advises amd_iommu=on" 'no IOMMU switch needed \(AMD\)' "$T/amd-chipset-shared.txt"
t_nogrep "amd: no 'add amd_iommu=on'" 'add amd_iommu=on' "$T/amd-chipset-shared.txt"
t_grep "amd: Debian install command" 'sudo apt-get install qemu-system-x86 libvirt-daemon-system libvirt-clients' "$T/amd-chipset-shared.txt"
t_grep "amd: Secure Boot on, no MOK yet: a warning that acso install makes one" '^warn  Secure Boot +on: no MOK yet; acso install makes one' "$T/amd-chipset-shared.txt"
t_grep "laptop (Ubuntu 18.04): user not in libvirt" "sudo adduser seed libvirt" "$T/laptop-3d.txt"
t_grep "port with ACS: blocked by the GPU group" '^Verdict: blocked by: GPU group' "$T/port-has-acs.txt"
t_grep "after override: the override is active" 'active: pcie_acs_override=id:8086:1901,id:8086:1905' "$T/seed-after-override.txt"

# Ubuntu 18.04 without libvirt: libvirt-bin.
rm -rf "$T/u"; cp -a "$FIXTURES/laptop-3d" "$T/u"; rm "$T/u/usr/sbin/libvirtd" "$T/u/usr/bin/virsh"
"$ACSO" check --root "$T/u" >"$T/o" 2>&1
t_grep "Ubuntu 18.04: libvirt-bin" 'fix: sudo apt-get install qemu-kvm libvirt-bin bridge-utils' "$T/o"
sed -i 's/VERSION_ID="18.04"/VERSION_ID="18.10"/' "$T/u/etc/os-release"
"$ACSO" check --root "$T/u" >"$T/o" 2>&1
t_grep "Ubuntu 18.10: libvirt-daemon-system libvirt-clients" 'fix: sudo apt-get install qemu-kvm libvirt-daemon-system libvirt-clients' "$T/o"
# A stock kernel that reported the parameter as unknown.
rm -rf "$T/s"; cp -a "$FIXTURES/seed" "$T/s"
echo '[    0.0] Unknown kernel command line parameters "pcie_acs_override=downstream BOOT_IMAGE=/boot/vmlinuz", will be passed to user space.' >>"$T/s/var/log/dmesg"
"$ACSO" check --root "$T/s" >"$T/o" 2>&1
t_grep "stock kernel: override unsupported" 'this kernel does not know pcie_acs_override' "$T/o"
# Absent /proc/cmdline and cpuinfo: unknown, no crash.
rm "$T/s/proc/cmdline" "$T/s/proc/cpuinfo"
"$ACSO" check --root "$T/s" >"$T/o" 2>&1; rc=$?
t_ok "absent cmdline/cpuinfo: blocked (cannot confirm virtualization), exit 4" test "$rc" = 4
t_grep "absent /proc/cmdline is reported" '/proc/cmdline could not be read' "$T/o"
t_exit 1 "nonexistent --root" "$ACSO" check --root "$T/none"

# This machine. Where it has no IOMMU (as on the build machines), check
# must explain that the IOMMU is off and how to turn it on, and exit non-zero.
"$ACSO" check >"$T/host" 2>&1; rc=$?
if [ -z "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	t_ok "this machine (no IOMMU): exit non-zero" test "$rc" -ne 0
	t_grep "this machine: the IOMMU is off" '^fail  IOMMU +the IOMMU is off' "$T/host"
	t_grep "this machine: how to turn it on (or, in a VM, that the host must)" 'fix: (turn on (VT-d|the IOMMU)|this is a virtual machine without a virtual IOMMU)' "$T/host"
else
	t_ok "this machine (IOMMU on): exit is a verdict" test "$rc" = 0 -o "$rc" = 3 -o "$rc" = 4
	t_grep "this machine: IOMMU passes" '^pass  IOMMU' "$T/host"
fi
t_done
