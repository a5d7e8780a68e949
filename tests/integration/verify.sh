#!/usr/bin/env bash
# acso verify: the override fixture proves isolation (exit 0), the seed
# before the change does not (exit 1); the before snapshot side by side.
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed
W=$T/work

t_exit 1 "seed before the change: not verified" "$ACSO" --work-dir "$W" verify --root "$FIXTURES/seed"
t_grep "seed: no override on the command line" '^command line +no pcie_acs_override' "$T/.out"
t_grep "seed: hint to register it" "pcie_acs_override is not on the command line" "$T/.err"
t_exit 0 "snapshot --before" "$ACSO" --work-dir "$W" snapshot --before --root "$FIXTURES/seed"
t_ok "before snapshot written in the work dir" test -s "$W/snapshots/before.tar.gz"
"$ACSO" --work-dir "$W" verify --root "$FIXTURES/seed-after-override" >"$T/v.txt" 2>&1
echo "exit $?" >>"$T/v.txt"
t_golden "verify after override (with before)" "verify/seed-after-override.txt" "$T/v.txt"
t_grep "verify: exit 0" '^exit 0$' "$T/v.txt"
t_grep "verify: acso kernel" '^kernel +5.3.18-acso \(an acso kernel\)' "$T/v.txt"
t_grep "verify: boot log line" '^boot log +PCIe ACS overrides enabled' "$T/v.txt"
t_grep "verify: side by side" 'before: group 1, shared +after: group 3, isolated' "$T/v.txt"
"$ACSO" --work-dir "$W" verify --json --root "$FIXTURES/seed-after-override" 2>/dev/null | sed "s|$T|TMP|g" >"$T/v.json"
t_golden "verify json" "verify/seed-after-override.json" "$T/v.json"
t_ok "verify json: before group 1, after 3" test "$(jq -r '.gpus[0] | "\(.before.group) \(.group) \(.verdict)"' "$T/v.json")" = "1 3 isolated"
t_exit 0 "--gpu 02:00.0 after" "$ACSO" --work-dir "$W" verify --gpu 02:00.0 --root "$FIXTURES/seed-after-override"
t_exit 2 "--gpu not a GPU" "$ACSO" --work-dir "$W" verify --gpu 00:17.0 --root "$FIXTURES/seed-after-override"
# Parse error in the boot log.
rm -rf "$T/p"; cp -a "$FIXTURES/seed" "$T/p"
echo '[    0.18] PCIe ACS ID parse error 8086:19o1' >>"$T/p/var/log/dmesg"
sed -i 's/$/ pcie_acs_override=id:8086:19o1/' "$T/p/proc/cmdline"
t_exit 1 "parse error: exit 1" "$ACSO" --work-dir "$T/w2" verify --root "$T/p"
t_grep "parse error shown" '^boot log +PCIe ACS ID parse error' "$T/.out"
t_grep "parameter shown" '^command line +pcie_acs_override=id:8086:19o1' "$T/.out"
t_exit 1 "IOMMU off: not verified" "$ACSO" --work-dir "$T/w2" verify --root "$FIXTURES/iommu-off"
t_exit 1 "explicit --before that does not exist still verifies, says so" "$ACSO" --work-dir "$T/w2" verify --root "$FIXTURES/seed" --before "$T/nope.tar.gz"
t_grep "missing --before file named" "snapshot '.*nope.tar.gz'" "$T/.err"
t_done
