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

# --make-default: only a verified ACS kernel becomes GRUB's saved default
# (grub-set-default, through chroot for an image; a stub chroot records it).
mkdir -p "$T/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/chroot.argv"\n' "$T" >"$T/bin/chroot"
chmod +x "$T/bin/chroot"
R=$T/md
rm -rf "$R"; cp -a "$FIXTURES/seed-after-override" "$R"
t_grub_cfg "$R/boot/grub/grub.cfg" d00d 5.3.0-24-generic 5.3.18-acso
MD=(env PATH="$T/bin:$PATH" "$ACSO" --work-dir "$T/w3" --root "$R")
t_exit 1 "--make-default with GRUB_DEFAULT=0: refused" "${MD[@]}" verify --make-default
t_grep "--make-default: says GRUB_DEFAULT=saved is needed" "grub-set-default needs GRUB_DEFAULT=saved \(it is '0'\)" "$T/.err"
t_grep "--make-default: the verification itself still reported" "^Verified: the GPU is isolated" "$T/.out"
[ ! -e "$T/chroot.argv" ] && t_pass "--make-default refused: grub-set-default not run" || t_fail "--make-default refused: nothing run"
mkdir -p "$R/etc/default/grub.d"
echo 'GRUB_DEFAULT=saved' >"$R/etc/default/grub.d/50-saved.cfg"
t_exit 0 "--make-default --dry-run" "${MD[@]}" --dry-run verify --make-default
t_grep "--dry-run names the entry" "^Would make the default boot entry: gnulinux-advanced-d00d>gnulinux-5.3.18-acso-advanced-d00d" "$T/.out"
[ ! -e "$T/chroot.argv" ] && t_pass "--make-default --dry-run runs nothing" || t_fail "--make-default --dry-run runs nothing"
t_exit 0 "--make-default after a pass" "${MD[@]}" verify --make-default
t_grep "--make-default: says what it made the default" "^Made the default boot entry: gnulinux-advanced-d00d>gnulinux-5.3.18-acso-advanced-d00d \(grub-set-default\)" "$T/.out"
[ "$(tr '\n' ' ' <"$T/chroot.argv" 2>/dev/null)" = "$R grub-set-default gnulinux-advanced-d00d>gnulinux-5.3.18-acso-advanced-d00d " ] &&
	t_pass "grub-set-default ran in the image with the entry's menu path" || t_fail "grub-set-default argv" "$(cat "$T/chroot.argv" 2>&1)"
rm -f "$T/chroot.argv"
t_exit 0 "--make-default --json" "${MD[@]}" verify --make-default --json
jq -e '.isolated and .default_entry == "gnulinux-advanced-d00d>gnulinux-5.3.18-acso-advanced-d00d"' "$T/.out" >/dev/null &&
	t_pass "--make-default --json: default_entry" || t_fail "--make-default --json" "$(cat "$T/.out")"
rm -f "$T/chroot.argv"
# Not verified: the GPU shares its group. Nothing is made the default.
rm -rf "$T/md2"; cp -a "$FIXTURES/seed" "$T/md2"; cp -a "$R/boot" "$R/etc/default" "$T/md2/" 2>/dev/null
mkdir -p "$T/md2/etc/default" && cp -a "$R/etc/default/." "$T/md2/etc/default/"
t_exit 1 "--make-default when not verified: exit 1" env PATH="$T/bin:$PATH" "$ACSO" --work-dir "$T/w3" --root "$T/md2" verify --make-default
t_grep "not verified: says the default stays" "not verified: the default boot entry stays as it is" "$T/.err"
[ ! -e "$T/chroot.argv" ] && t_pass "not verified: grub-set-default not run" || t_fail "not verified: grub-set-default not run"
# Verified, but the running kernel is a stock one (no override line, no acso release).
rm -rf "$T/md3"; cp -a "$R" "$T/md3"
echo 5.3.0-24-generic >"$T/md3/proc/sys/kernel/osrelease"
sed -i '/ACS overrides enabled/d' "$T/md3/var/log/dmesg"
t_exit 1 "--make-default on a stock kernel: exit 1" env PATH="$T/bin:$PATH" "$ACSO" --work-dir "$T/w3" --root "$T/md3" verify --make-default
t_grep "stock kernel: says it is not an ACS kernel" "running kernel '5.3.0-24-generic' is not an ACS kernel" "$T/.err"
[ ! -e "$T/chroot.argv" ] && t_pass "stock kernel: grub-set-default not run" || t_fail "stock kernel: grub-set-default not run"
# Not root.
chmod 755 "$T"
t_exit 9 "--make-default as a normal user: exit 9" setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$T/bin:$PATH" HOME=/ "$ACSO" --work-dir "$T/w4" --root "$R" verify --make-default
t_grep "not root: the exact sudo command" "^hint: run: sudo acso --work-dir $T/w4 --root $R verify --make-default$" "$T/.err"
t_done
