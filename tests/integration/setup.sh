#!/usr/bin/env bash
# acso setup against fixture roots: package names per release (Debian 12,
# Ubuntu 18.04, 22.04, Linux Mint 19 on bionic), packages already installed
# are not installed again, the user is added to libvirt, intel_iommu=on is
# registered on Intel and nothing on AMD. A stub chroot records the commands.
. "$(dirname "$0")/../lib.sh"

CORPUS=$TOP/tests/grub-corpus
t_stub_chroot

# mkroot DIR OS-RELEASE-TEXT VENDOR
mkroot() {
	rm -rf "$1"
	mkdir -p "$1/proc" "$1/usr/sbin" "$1/var/lib/dpkg"
	cp -a "$CORPUS/ubuntu-22.04/." "$1/"
	printf '%s\n' "$2" >"$1/etc/os-release"
	printf 'vendor_id\t: %s\n' "$3" >"$1/proc/cpuinfo"
	printf 'root:x:0:\nlibvirt:x:120:\nkvm:x:104:\n' >"$1/etc/group"
	: >"$1/var/lib/dpkg/status"
	touch "$1/usr/sbin/update-grub"
}
DEB12='PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
ID=debian
VERSION_ID="12"'
U1804='NAME="Ubuntu"
VERSION_ID="18.04"
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=bionic'
U2204='NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy'
MINT19='NAME="Linux Mint"
VERSION_ID="19"
ID=linuxmint
ID_LIKE=ubuntu
UBUNTU_CODENAME=bionic'

R=$T/r
mkroot "$R" "$DEB12" GenuineIntel
: >"$T/calls"
SUDO_USER=alice t_exit 0 "Debian 12 --dry-run exits 0" "$ACSO" setup --root "$R" --dry-run
t_grep "Debian 12: the apt-get line with Debian's names" "^Would run: chroot $R apt-get install -y qemu-system-x86 libvirt-daemon-system libvirt-clients bridge-utils\$" "$T/.out"
t_grep "--dry-run: the group command" "^Would run: chroot $R usermod -a -G libvirt alice\$" "$T/.out"
t_grep "--dry-run: intel_iommu=on shown" 'intel_iommu=on' "$T/.out"
SUDO_USER=alice t_exit 0 "--vm-tools --dry-run" "$ACSO" setup --root "$R" --dry-run --vm-tools --no-group --no-iommu
t_grep "--vm-tools: ovmf and virt-manager too" "^Would run: chroot $R apt-get install -y qemu-system-x86 libvirt-daemon-system libvirt-clients bridge-utils ovmf virt-manager\$" "$T/.out"
[ ! -s "$T/calls" ] && [ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "--dry-run runs nothing" || t_fail "--dry-run runs nothing"

for rel in U1804 MINT19; do
	mkroot "$R" "${!rel}" GenuineIntel
	t_exit 0 "$rel --dry-run" "$ACSO" setup --root "$R" --dry-run --user bob
	t_grep "$rel: libvirt-bin (before 18.10)" "apt-get install -y qemu-kvm libvirt-bin bridge-utils\$" "$T/.out"
done
mkroot "$R" "$U2204" GenuineIntel
t_exit 0 "Ubuntu 22.04 --dry-run" "$ACSO" setup --root "$R" --dry-run --user bob
t_grep "Ubuntu 22.04: libvirt-daemon-system libvirt-clients" "apt-get install -y qemu-kvm libvirt-daemon-system libvirt-clients bridge-utils\$" "$T/.out"

# Already installed packages are left out; a member is not added again.
printf 'Package: qemu-kvm\nStatus: install ok installed\nVersion: 1\n\nPackage: bridge-utils\nStatus: deinstall ok config-files\n\n' >"$R/var/lib/dpkg/status"
printf 'libvirt:x:120:carol,bob\n' >"$R/etc/group"
t_exit 0 "installed packages: --dry-run" "$ACSO" setup --root "$R" --dry-run --user bob
t_grep "installed packages are not installed again" "apt-get install -y libvirt-daemon-system libvirt-clients bridge-utils\$" "$T/.out"
t_grep "a member of libvirt is not added again" 'bob is already in libvirt' "$T/.out"

# The real thing (through the stub chroot).
mkroot "$R" "$DEB12" GenuineIntel
: >"$T/calls"
SUDO_USER=alice t_exit 0 "Debian 12 setup exits 0" "$ACSO" setup --root "$R"
t_grep "apt-get ran in the root" "^$R apt-get install -y qemu-system-x86 libvirt-daemon-system libvirt-clients bridge-utils\$" "$T/calls"
t_grep "usermod ran in the root" "^$R usermod -a -G libvirt alice\$" "$T/calls"
t_grep "intel_iommu=on registered in the drop-in" '^for acso_param in intel_iommu=on; do$' "$R/etc/default/grub.d/99-acso.cfg"
t_nogrep "setup adds no pcie_acs_override" 'pcie_acs_override=[a-z]' "$R/etc/default/grub.d/99-acso.cfg"
t_grep "update-grub ran" "^$R update-grub\$" "$T/calls"
SUDO_USER=alice t_exit 0 "setup --json" "$ACSO" setup --root "$R" --json --no-packages --no-group
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["cpu"]=="intel"' "$T/.out" && t_pass "setup --json is one JSON document" || t_fail "setup --json" "$(cat "$T/.out")"

# AMD: no IOMMU parameter; failing apt-get is reported.
mkroot "$R" "$DEB12" AuthenticAMD
t_exit 0 "AMD setup" "$ACSO" setup --root "$R" --no-group
t_grep "AMD: says no parameter is needed" 'no parameter needed' "$T/.out"
[ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "AMD: no drop-in" || t_fail "AMD: no drop-in"
touch "$T/fail"
t_exit 1 "apt-get failing: exit 1" "$ACSO" setup --root "$R" --no-group
t_grep "apt-get failing: says what failed" "apt-get install -y .*exited with status 100" "$T/.err"
rm -f "$T/fail"
printf 'ID=fedora\nVERSION_ID=40\n' >"$R/etc/os-release"
t_exit 1 "not Debian/Ubuntu: exit 1" "$ACSO" setup --root "$R"
t_grep "not Debian/Ubuntu: says to use the package manager" 'your package manager' "$T/.err"
t_done
