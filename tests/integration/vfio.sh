#!/usr/bin/env bash
# acso vfio against the seed machine after the override (tests/fixtures/
# seed-after-override): --dry-run writes nothing; the 2080 Ti's functions are
# bound (modprobe.d, initramfs modules, update-initramfs through a stub
# chroot), --json states it, a failing update puts every file back, --remove
# restores each file byte for byte; the usage errors and refusals exit as
# documented; acso verify reports the drivers and passes only once every
# function is held by vfio-pci.
. "$(dirname "$0")/../lib.sh"

t_stub_chroot

R=$T/root
cp -a "$TOP/tests/fixtures/seed-after-override/." "$R/"
echo 6.1.0-13-amd64 >"$R/proc/sys/kernel/osrelease"
mkdir -p "$R/usr/sbin" "$R/usr/share/initramfs-tools" "$R/etc/initramfs-tools" "$R/etc/modprobe.d"
touch "$R/usr/sbin/update-initramfs"
printf '# modules\nloop\n' >"$R/etc/initramfs-tools/modules"
printf 'options snd_hda_intel power_save=0\n' >"$R/etc/modprobe.d/acso-vfio.conf"
cp -a "$R/etc" "$T/etc.before"

t_exit 0 "--dry-run exits 0" "$ACSO" --root "$R" vfio --dry-run 01:00.0
t_grep "--dry-run names the update it would run" "update-initramfs -u -k 6.1.0-13-amd64" "$T/.out"
if diff -r --no-dereference "$R/etc" "$T/etc.before" >/dev/null && [ ! -e "$R/var/lib/acso/vfio" ] && [ ! -e "$T/calls" ]; then
	t_pass "--dry-run changes nothing"; else t_fail "--dry-run changes nothing"; fi

t_exit 2 "no GPU named on a two-GPU machine: usage" "$ACSO" --root "$R" vfio --dry-run
t_grep "... and says to name one" "2 GPUs: name the one to bind" "$T/.err"
t_exit 2 "an address with no device: usage" "$ACSO" --root "$R" vfio --dry-run 0000:0a:00.0
t_grep "... said as such" "vfio '0000:0a:00.0': no PCI device at that address" "$T/.err"
t_exit 2 "a device that is not a display controller: usage" "$ACSO" --root "$R" vfio --dry-run 00:17.0
t_exit 0 "the seed before the override: bound as the override will split it" \
	"$ACSO" --root "$TOP/tests/fixtures/seed" vfio --dry-run --no-update 01:00.0
t_grep "... and says so" "shares its group now: bound as the override id:8086:1901 splits it" "$T/.err"
t_exit 1 "the root file system's disk in the group: refused" \
	"$ACSO" --root "$TOP/tests/fixtures/port-has-acs" vfio --dry-run --no-update
t_grep "... naming the disk" "vfio '01:00.0': refused: its IOMMU group holds 02:00.0 \(the root file system's disk\)" "$T/.err"
t_exit 2 "--remove takes no GPU" "$ACSO" --root "$R" vfio --remove 01:00.0

# A failing update puts every file back.
touch "$T/fail"
t_exit 1 "a failing update-initramfs fails" "$ACSO" --root "$R" vfio 01:00.0
t_grep "... and says every file was put back" "every file was put back" "$T/.err"
if diff -r --no-dereference "$R/etc" "$T/etc.before" >/dev/null && [ ! -e "$R/var/lib/acso/vfio" ]; then
	t_pass "... and every file is as it was"; else t_fail "... and every file is as it was" "$(diff -r --no-dereference "$R/etc" "$T/etc.before")"; fi
rm -f "$T/fail" "$T/calls"

t_exit 0 "acso vfio 01:00.0 --json" "$ACSO" --root "$R" vfio --json 01:00.0
cp "$T/.out" "$T/bind.json"
t_jq "--json: the 2080 Ti's four functions, by id" \
	'.method == "ids" and ([.functions[].address] == ["0000:01:00.0","0000:01:00.1","0000:01:00.2","0000:01:00.3"]) and .ids == "10de:1e04,10de:10f7,10de:1ad6,10de:1ad7" and .user_lines_kept == 1' "$T/bind.json"
t_grep "the user's own line kept" "^options snd_hda_intel power_save=0$" "$R/etc/modprobe.d/acso-vfio.conf"
t_grep "... and said so" "kept your own 1 line" "$T/.err"
t_grep "options vfio-pci ids= of the 2080 Ti only" "^options vfio-pci ids=10de:1e04,10de:10f7,10de:1ad6,10de:1ad7$" "$R/etc/modprobe.d/acso-vfio.conf"
t_grep "softdep for the driver holding the GPU today" "^softdep nvidia pre: vfio-pci$" "$R/etc/modprobe.d/acso-vfio.conf"
t_grep "vfio_virqfd in the initramfs for 6.1" "^vfio_virqfd$" "$R/etc/initramfs-tools/modules"
t_grep "update-initramfs ran in the chroot" "^$R update-initramfs -u -k 6.1.0-13-amd64$" "$T/calls"
m=$(stat -c %a "$R/var/lib/acso/vfio")
[ "$m" = 700 ] && t_pass "the originals are kept in a root-only place" || t_fail "the originals are kept in a root-only place" "mode $m"

t_exit 1 "verify fails while the old drivers hold the functions" "$ACSO" --root "$R" verify
t_grep "... and names each function's driver" "0000:01:00.0 nvidia  \(not vfio-pci\)" "$T/.out"
for f in 0 1 2 3; do ln -sfn ../../../../bus/pci/drivers/vfio-pci "$R/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.$f/driver"; done
t_exit 0 "verify passes once vfio-pci holds every function" "$ACSO" --root "$R" verify
t_grep "... and prints the libvirt hostdev" "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x3'/>" "$T/.out"
t_grep "... and the virt-install arguments" "virt-install: --host-device 0000:01:00.0 .* --boot uefi" "$T/.out"
touch "$R/usr/sbin/qm"
t_exit 0 "verify --json on Proxmox" "$ACSO" --root "$R" verify --json
t_jq "--json: the qm line and ovmf" '.vfio.held and .vfio.next.qm == "qm set VMID -hostpci0 0000:01:00,pcie=1 -bios ovmf -machine q35" and .vfio.next.needs == ["ovmf"]' "$T/.out"
rm "$R/usr/sbin/qm"

rm -f "$T/calls"
t_exit 0 "--remove" "$ACSO" --root "$R" vfio --remove
if diff -r --no-dereference "$R/etc" "$T/etc.before" >/dev/null; then t_pass "--remove restores every file byte for byte"; else
	t_fail "--remove restores every file byte for byte" "$(diff -r --no-dereference "$R/etc" "$T/etc.before")"; fi
t_grep "--remove updates the initramfs again" "^$R update-initramfs -u -k 6.1.0-13-amd64$" "$T/calls"
[ ! -e "$R/var/lib/acso" ] && t_pass "--remove leaves no record" || t_fail "--remove leaves no record"
t_exit 1 "a second --remove: nothing to remove" "$ACSO" --root "$R" vfio --remove
t_done
