#!/usr/bin/env bash
# acso grub --acs auto and --vfio against the groups fixtures (tests/fixtures):
# the least invasive override, vfio-pci.ids= of the GPU's own functions, the
# refusal when the GPU's group keeps the root disk or the default-route NIC,
# and the ambiguity of several GPUs.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$*" >>"%s/calls"\n' "$T" >"$T/bin/chroot"
chmod +x "$T/bin/chroot"
export PATH=$T/bin:$PATH

mkroot() {
	rm -rf "$2"
	cp -a "$FIXTURES/$1" "$2"
	mkdir -p "$2/etc/default" "$2/usr/sbin"
	cp "$TOP/tests/grub-corpus/debian-12/etc/default/grub" "$2/etc/default/grub"
	touch "$2/usr/sbin/update-grub"
}
R=$T/seed
mkroot seed "$R"
t_exit 0 "seed: --acs auto" "$ACSO" grub --root "$R" --acs auto --dry-run
t_grep "seed: one override for both shared GPUs (least invasive ids)" '^Boot parameters: pcie_acs_override=id:8086:1901,id:8086:1905 intel_iommu=on$' "$T/.out"
t_exit 2 "seed: --vfio with two GPUs asks which" "$ACSO" grub --root "$R" --vfio --dry-run
t_grep "seed: --vfio names --gpu" 'choose one with --gpu' "$T/.err"
t_exit 0 "seed: --acs auto --vfio --gpu 02:00.0" "$ACSO" grub --root "$R" --acs auto --vfio --gpu 02:00.0 --dry-run
t_grep "seed: the chosen GPU's override and its four functions" '^Boot parameters: pcie_acs_override=id:8086:1905 intel_iommu=on vfio-pci.ids=10de:1f08,10de:10f9,10de:1ada,10de:1adb$' "$T/.out"
t_exit 2 "--gpu that is not a GPU" "$ACSO" grub --root "$R" --acs auto --gpu 00:17.0 --dry-run
# The config file's "acs =" is the default mode; --acs on the command line wins.
printf 'acs = multifunction\n' >"$T/acs.conf"
t_exit 0 "config acs = multifunction" "$ACSO" --config "$T/acs.conf" grub --root "$R" --dry-run
t_grep "config acs = is the default mode" '^Boot parameters: pcie_acs_override=multifunction intel_iommu=on$' "$T/.out"
t_exit 0 "--acs wins over the config file" "$ACSO" --config "$T/acs.conf" grub --root "$R" --acs downstream --dry-run
t_grep "--acs wins over the config file" '^Boot parameters: pcie_acs_override=downstream intel_iommu=on$' "$T/.out"
R=$T/amd
mkroot amd-chipset-shared "$R"
t_exit 1 "AMD chipset group: --vfio without a split is refused" "$ACSO" grub --root "$R" --vfio --dry-run
t_grep "the refusal names the default-route NIC" 'holds 02:0a.0 \(the default-route network interface\)' "$T/.err"
t_exit 0 "AMD chipset group: --acs auto --vfio (the override splits it)" "$ACSO" grub --root "$R" --acs auto --vfio
t_grep "AMD: update-grub through the stub chroot" "^$R update-grub\$" "$T/calls"
t_grep "AMD: no intel_iommu, the override and the GPU ids in the drop-in" '^for acso_param in pcie_acs_override=id:1022:1483 vfio-pci.ids=1002:73bf,1002:ab28; do$' "$R/etc/default/grub.d/99-acso.cfg"
t_exit 0 "AMD: --remove" "$ACSO" grub --root "$R" --remove
[ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "AMD: --remove takes the drop-in back" || t_fail "AMD: --remove"
R=$T/clean
mkroot desktop-clean "$R"
t_exit 0 "isolated GPU: --acs auto" "$ACSO" grub --root "$R" --acs auto --dry-run
t_grep "isolated GPU: says no override is needed" 'no pcie_acs_override needed' "$T/.err"
t_nogrep "isolated GPU: no pcie_acs_override" '^Boot parameters:.*pcie_acs_override' "$T/.out"
R=$T/off
mkroot iommu-off "$R"
t_exit 1 "IOMMU off: --acs auto fails" "$ACSO" grub --root "$R" --acs auto --dry-run
t_grep "IOMMU off: says to turn it on first" 'the IOMMU is off' "$T/.err"
# A real machine with the IOMMU off has an EMPTY /sys/kernel/iommu_groups.
rm -rf "$R/sys/kernel/iommu_groups"; mkdir -p "$R/sys/kernel/iommu_groups"
t_exit 1 "IOMMU off (empty groups dir): --acs auto fails" "$ACSO" grub --root "$R" --acs auto --dry-run
t_grep "IOMMU off (empty groups dir): says to turn it on first" 'the IOMMU is off' "$T/.err"
rm -rf "$R/sys/kernel/iommu_groups"
t_exit 1 "IOMMU off (no groups dir): --acs auto fails" "$ACSO" grub --root "$R" --acs auto --dry-run
t_done
