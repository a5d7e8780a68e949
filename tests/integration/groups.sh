#!/usr/bin/env bash
# acso groups against the machine fixtures: numeric group order, device
# lines, GPU marks, verdicts, the override, --tree, --gpu, --json (golden
# files), exit codes; and damaged sysfs trees (bad input).
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed

for f in seed seed-after-override desktop-clean amd-chipset-shared laptop-3d port-has-acs; do
	"$ACSO" groups --root "$FIXTURES/$f" >"$T/$f.txt" 2>"$T/$f.err"
	echo "exit $?" >>"$T/$f.txt"
	t_golden "groups text: $f" "groups/$f.txt" "$T/$f.txt"
	"$ACSO" groups --json --root "$FIXTURES/$f" >"$T/$f.json" 2>/dev/null
	t_golden "groups json: $f" "groups/$f.json" "$T/$f.json"
	if jq -e . "$T/$f.json" >/dev/null; then t_pass "groups json parses with jq: $f"; else t_fail "groups json parses with jq: $f"; fi
done

# The seed machine: numeric order, both GPUs share group 1, the override that splits them.
t_exit 3 "seed: a GPU shares its group -> exit 3" "$ACSO" groups --root "$FIXTURES/seed"
grep '^IOMMU group' "$T/.out" | awk '{print $3}' >"$T/order"
if sort -n -c "$T/order" 2>/dev/null && [ "$(wc -l <"$T/order")" = 19 ]; then t_pass "seed: 19 groups in numeric order"; else
	t_fail "seed: 19 groups in numeric order" "$(tr '\n' ' ' <"$T/order")"; fi
t_grep "seed: 2080 Ti shares group 1" '^GPU 01:00.0 .*2080 Ti.*: shares its group \(IOMMU group 1\)' "$T/.out"
t_grep "seed: 2060 shares group 1" '^GPU 02:00.0 .*2060.*: shares its group \(IOMMU group 1\)' "$T/.out"
t_grep "seed: the 2060 is in the 2080 Ti's way" '^    02:00.0 VGA compatible controller \[0300\]' "$T/.out"
t_grep "seed: device line has class, names, ids, driver" '^  01:00.1 Audio device \[0403\]: NVIDIA Corporation TU102 High Definition Audio Controller \[10de:10f7\] \(rev a1\) driver snd_hda_intel  \[GPU function of 01:00.0\]' "$T/.out"
t_grep "seed: override for both GPUs" '^To split every shared GPU: pcie_acs_override=id:8086:1901,id:8086:1905$' "$T/.out"
t_grep "seed: root fs group flagged" '^IOMMU group 14  \[root file system: nvme0n1p2\]' "$T/.out"
t_grep "seed: default-route NIC group flagged" '^IOMMU group 13  \[default route: enp0s31f6\]' "$T/.out"
"$ACSO" groups --json --root "$FIXTURES/seed" >"$T/j" 2>/dev/null
t_ok "seed json: verdicts and override" test "$(jq -r '[.gpus[] | .verdict + " " + .override] | join(",")' "$T/j")" = "shared id:8086:1901,shared id:8086:1905"
t_ok "seed json: groups numeric" test "$(jq -c '[.groups[].group]' "$T/j")" = "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]"

# --gpu
t_exit 3 "--gpu 02:00.0 shared -> 3" "$ACSO" groups --root "$FIXTURES/seed" --gpu 02:00.0
t_nogrep "--gpu shows only that GPU" '^GPU 01:00.0' "$T/.out"
t_exit 0 "--gpu on the override fixture -> 0" "$ACSO" groups --root "$FIXTURES/seed-after-override" --gpu 0000:01:00.0
t_exit 1 "--gpu that is not a GPU" "$ACSO" groups --root "$FIXTURES/seed" --gpu 00:17.0
t_grep "--gpu not a GPU says so" "not a GPU" "$T/.err"
t_exit 1 "--gpu no such device" "$ACSO" groups --root "$FIXTURES/seed" --gpu 07:00.0
t_exit 2 "--gpu garbage is a usage error" "$ACSO" groups --root "$FIXTURES/seed" --gpu 'x;y'

# --tree
"$ACSO" groups --tree --root "$FIXTURES/seed" >"$T/tree" 2>/dev/null
t_golden "groups --tree: seed" "groups/seed-tree.txt" "$T/tree"
t_grep "tree nests the GPU under its root port" '^│  ├─ 01:00.0 VGA' "$T/tree"

# Verdicts of the other machines
t_exit 0 "desktop: isolated with its bridge -> 0" "$ACSO" groups --root "$FIXTURES/desktop-clean"
t_grep "desktop: verdict" 'isolated with its bridge \(IOMMU group 1\)' "$T/.out"
t_exit 0 "laptop 3D controller -> 0" "$ACSO" groups --root "$FIXTURES/laptop-3d"
t_grep "laptop: 0302 is a GPU" '^  01:00.0 3D controller \[0302\].*\[GPU\]$' "$T/.out"
t_exit 3 "amd: chipset group shared -> 3" "$ACSO" groups --root "$FIXTURES/amd-chipset-shared"
t_grep "amd: host-critical warning" 'holds the root file system.s disk and the default-route network interface' "$T/.out"
t_grep "amd: NVMe named in the way" '^    05:00.0 Non-Volatile memory controller' "$T/.out"
t_exit 3 "port with ACS: shared -> 3" "$ACSO" groups --root "$FIXTURES/port-has-acs"
t_grep "port with ACS: says the override cannot help" 'has an ACS capability .*cannot split this group' "$T/.out"
t_nogrep "port with ACS: no override offered" '^  override:' "$T/.out"
t_exit 1 "IOMMU off: exit 1" "$ACSO" groups --root "$FIXTURES/iommu-off"
t_grep "IOMMU off: explained" 'no IOMMU groups .*the IOMMU is off' "$T/.err"
t_grep "IOMMU off: hint says how" 'intel_iommu=on' "$T/.err"

# ---- bad input: damaged copies of the seed ----
damaged() { rm -rf "$T/d"; cp -a "$FIXTURES/seed" "$T/d"; }
dev=sys/devices/pci0000:00/0000:00:01.1/0000:02:00.0
damaged; rm "$T/d/$dev/class"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "missing class: exit is 1 or 3" test "$rc" = 3
t_grep "missing class: falls back to the config space" '^  02:00.0 VGA compatible controller \[0300\]' "$T/o"
damaged; rm "$T/d/$dev/class" "$T/d/$dev/config"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "class and config missing: still exit 3 (other blockers are known)" test "$rc" = 3
t_grep "class and config missing: unknown class shown" '^  02:00.0 unknown class \[\?\?\?\?\]' "$T/o"
damaged; echo garbage >"$T/d/$dev/vendor"; echo 0xzz >"$T/d/$dev/class"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "garbage class/vendor: no crash, exit 3" test "$rc" = 3
damaged; truncate -s 20 "$T/d/sys/devices/pci0000:00/0000:00:01.0/config"
"$ACSO" groups --json --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "truncated config: exit 3" test "$rc" = 3
t_ok "truncated config: the port's ACS is unknown, not 'no'" test "$(jq -r '.groups[1].devices[0].acs' "$T/o")" = unknown
t_ok "truncated config: override not stated as certain" test "$(jq -r '.gpus[0].override_helps' "$T/o")" != yes
damaged; rm "$T/d/sys/kernel/iommu_groups/1/devices/0000:02:00.3"
ln -s ../../../../devices/nowhere "$T/d/sys/kernel/iommu_groups/1/devices/0000:02:00.3"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "dangling group link: exit 3, no crash" test "$rc" = 3
damaged; rm "$T/d/sys/bus/pci/devices/0000:00:17.0"
ln -s 0000:00:17.0 "$T/d/sys/bus/pci/devices/0000:00:17.0"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "looping symlink: exit 3, no crash" test "$rc" = 3
damaged; mkdir -p "$T/d/sys/kernel/iommu_groups/42/devices"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "empty group dir: exit 3" test "$rc" = 3
t_grep "empty group dir is listed" '^IOMMU group 42  \(no devices\)' "$T/o"
damaged; rm -rf "$T/d/sys/kernel/iommu_groups/1/devices"/0000:02:00.*
for x in 0 1 2 3; do ln -s ../../../../devices/pci0000:00/0000:00:01.1/0000:02:00.$x "$T/d/sys/kernel/iommu_groups/1/devices/0000:02:00.$x"; done
rm -rf "$T/d/sys/devices/pci0000:00/0000:00:01.1/0000:02:00.0"
"$ACSO" groups --root "$T/d" >"$T/o" 2>"$T/e"; rc=$?
t_ok "device directory gone: exit 3, no crash" test "$rc" = 3
damaged; rm -rf "$T/d/sys/bus"
t_exit 1 "no /sys/bus/pci/devices: exit 1" "$ACSO" groups --root "$T/d"
t_grep "no /sys/bus/pci/devices: explained" "read PCI devices under .*: cannot list /sys/bus/pci/devices" "$T/.err"
t_exit 1 "nonexistent --root" "$ACSO" groups --root "$T/none"
# A group with only an unreadable device next to the GPU: no verdict stated as fact.
damaged; for x in 0 1 2 3; do rm -f "$T/d/sys/kernel/iommu_groups/1/devices/0000:02:00.$x"; done
mkdir -p "$T/d/sys/kernel/iommu_groups/30/devices"
for x in 0 1 2 3; do ln -s ../../../../devices/pci0000:00/0000:00:01.1/0000:02:00.$x "$T/d/sys/kernel/iommu_groups/30/devices/0000:02:00.$x"; done
rm "$T/d/sys/kernel/iommu_groups/1/devices/0000:00:01.1"
mv "$T/d/sys/kernel/iommu_groups/12/devices/0000:00:1f.2" "$T/d/sys/kernel/iommu_groups/1/devices/"
rm "$T/d/sys/devices/pci0000:00/0000:00:1f.2/class" "$T/d/sys/devices/pci0000:00/0000:00:1f.2/config"
"$ACSO" groups --json --root "$T/d" --gpu 01:00.0 >"$T/o" 2>"$T/e"; rc=$?
t_ok "unreadable device in the group: verdict unknown, exit 1" test "$rc" = 1 -a "$(jq -r '.gpus[0].verdict' "$T/o")" = unknown
t_done
