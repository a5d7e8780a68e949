#!/usr/bin/env bash
# tests/integration/e2e-harness.sh — the QEMU end-to-end harness's own logic,
# without QEMU: reading the host's apt sources, the topology's argv, the
# hostile tarball (exactly one byte changed), and the assertions on two real
# serial-console reports (tests/fixtures/e2e/serial-*.log: captured from
# boots of 6.1.192 with the override patch through tests/e2e/lib/harness-check;
# their verify sections hold a stand-in of acso verify's JSON; serial-sb-*
# from the Secure Boot scenario's three boots, whole). Each assertion is also
# run against the wrong report to show it can fail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/e2e/lib/qemu.sh"
. "$TOP/tests/e2e/lib/image.sh"
. "$TOP/tests/e2e/lib/scenario.sh"
fx=$FIXTURES/e2e
control=$fx/serial-control.log override=$fx/serial-override.log

# --- the host's apt sources ---------------------------------------------------
apt=$T/apt
mkdir -p "$apt/sources.list.d"
cat >"$apt/sources.list" <<'EOF'
# a comment
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://one.example/debian bookworm main contrib
EOF
cat >"$apt/sources.list.d/other.sources" <<'EOF'
Types: deb
URIs: http://two.example/ubuntu
Suites: jammy jammy-updates
Components: main

Types: deb-src
URIs: http://src.example/ubuntu
Suites: noble
Components: main

Types: deb deb-src
# a comment inside a stanza
URIs: http://three.example/ubuntu http://four.example/ubuntu
Suites: noble noble-updates
Components: main
EOF
t_exit 0 "apt mirror from a one-line entry with options" env E2E_APT_DIR="$apt" bash -c \
	". '$TOP/tests/lib.sh'; . '$TOP/tests/e2e/lib/image.sh'; e2e_apt_mirror bookworm"
t_grep "  ... is the deb line's URL" '^http://one\.example/debian$' "$T/.out"
t_exit 0 "apt mirror from a deb822 .sources stanza" env E2E_APT_DIR="$apt" bash -c \
	". '$TOP/tests/lib.sh'; . '$TOP/tests/e2e/lib/image.sh'; e2e_apt_mirror jammy"
t_grep "  ... is its URIs" '^http://two\.example/ubuntu$' "$T/.out"
t_exit 0 "apt mirror: deb-src stanzas are not sources of packages" env E2E_APT_DIR="$apt" bash -c \
	". '$TOP/tests/lib.sh'; . '$TOP/tests/e2e/lib/image.sh'; e2e_apt_mirror noble"
t_grep "  ... the first URI of the deb stanza" '^http://three\.example/ubuntu$' "$T/.out"
t_exit 1 "apt mirror: no source for the release is an error" env E2E_APT_DIR="$apt" bash -c \
	". '$TOP/tests/lib.sh'; . '$TOP/tests/e2e/lib/image.sh'; e2e_apt_mirror trixie"

# --- the topology ----------------------------------------------------------------
e2e_qemu_topology >"$T/topo"
if awk 'NR % 2 == 1 && $0 != "-device" { bad = 1 } END { exit bad || NR % 2 }' "$T/topo"; then
	t_pass "topology: -device and its value, one per line"
else
	t_fail "topology: -device and its value, one per line" "$(cat "$T/topo")"
fi
t_grep "topology: the nvme pair shares a slot" '^nvme,.*addr=02\.0,multifunction=on$' "$T/topo"
t_grep "topology: the GPU stand-in behind the first ioh3420 port" '^VGA,bus=rpa,addr=00\.0,multifunction=on$' "$T/topo"
t_grep "topology: its audio function in the same slot" '^ich9-intel-hda,bus=rpa,addr=00\.1$' "$T/topo"
t_grep "topology: a root port without ACS above the switch" '^pcie-root-port,.*disable-acs=on$' "$T/topo"
t_grep "topology: the pcie-pci-bridge negative control" '^pcie-pci-bridge,' "$T/topo"

# --- the hostile tarball ---------------------------------------------------------
E2E_MIRROR_DIR=$T/mirror E2E_MIRROR_URL=http://127.0.0.1:9
sub=$E2E_MIRROR_DIR/pub/linux/kernel/v6.x
mkdir -p "$sub"
echo '{}' >"$E2E_MIRROR_DIR/releases.json"
head -c 100000 /dev/urandom >"$sub/linux-$E2E_VERSION.tar.xz"
echo sig >"$sub/linux-$E2E_VERSION.tar.sign"
echo sums >"$sub/sha256sums.asc"
url=$(e2e_mirror_hostile onebyte)
t_exit 0 "hostile site root made" test "$url" = "$E2E_MIRROR_URL/e2e-hostile/onebyte"
hostile=$E2E_MIRROR_DIR/e2e-hostile/onebyte/pub/linux/kernel/v6.x
n=$(cmp -l "$sub/linux-$E2E_VERSION.tar.xz" "$hostile/linux-$E2E_VERSION.tar.xz" | wc -l)
t_exit 0 "the hostile tarball differs in exactly one byte ($n)" test "$n" -eq 1
t_exit 0 "  ... and has the same size" test "$(stat -c %s "$sub/linux-$E2E_VERSION.tar.xz")" -eq \
	"$(stat -c %s "$hostile/linux-$E2E_VERSION.tar.xz")"
t_exit 0 "  ... and is served with the original signature and sums" \
	cmp "$sub/sha256sums.asc" "$hostile/sha256sums.asc"

# --- kill -9 during the build: the whole session goes ------------------------
# A stand-in for acso whose "build" leaves a child (like make) and an init/*.o.
fake=$T/fake-acso
cat >"$fake" <<'EOF'
#!/bin/bash
while [ "$1" != --work-dir ]; do shift; done
work=$2
sleep 300 &
echo $! >"$work/child.pid"
sleep 1
mkdir -p "$work/src/linux-6.1.192/init" && : >"$work/src/linux-6.1.192/init/main.o"
wait
EOF
chmod +x "$fake"
mkdir -p "$T/kwork"
E2E_KEYRING=$T/k
if ACSO=$fake e2e_acso_run_killed "$T/root" "$T/kwork" http://127.0.0.1:9 '^  CC '; then
	t_pass "the run is killed once the kernel build has started"
else
	t_fail "the run is killed once the kernel build has started" "$(cat "$T/acso-run-killed.log")"
fi
child=$(cat "$T/kwork/child.pid" 2>/dev/null)
if [ -n "$child" ] && ! kill -0 "$child" 2>/dev/null; then
	t_pass "  ... with everything it started (the whole session)"
else
	t_fail "  ... with everything it started (the whole session)" "child ${child:-?} still runs"
	[ -n "$child" ] && kill "$child"
fi
printf '#!/bin/sh\nexit 0\n' >"$fake"
if ACSO=$fake e2e_acso_run_killed "$T/root" "$T/kwork2" http://127.0.0.1:9 '^  CC '; then
	t_fail "a run that ends before the build is reported as such"
else
	t_pass "a run that ends before the build is reported as such"
fi
t_grep "the run line carries the config, the mirror and the override" \
	"--config $T/acso.conf --work-dir $T/kwork2 --root $T/root run --mirror http://127.0.0.1:9 --acs $E2E_OVERRIDE --allow-root $E2E_VERSION\$" \
	"$T/acso-run-killed.log"
t_grep "  ... the config names the keyring" "^keyring = $T/k\$" "$T/acso.conf"
t_grep "  ... and the qemu profile" '^profile = qemu$' "$T/acso.conf"

# --- reading the guest's report ---------------------------------------------------
t_exit 0 "report: kernel field" test "$(e2e_result_field "$override" kernel)" = 6.1.192-acso
t_exit 0 "report: control has 8 groups" test "$(e2e_group_count "$control")" -eq 8
t_exit 0 "report: override has 17 groups" test "$(e2e_group_count "$override")" -eq 17
t_exit 0 "report: the GPU stand-in's group" test "$(e2e_group_of "$override" 1234:1111)" = 9
e2e_gpu_group_foreign "$control" >"$T/foreign"
t_grep "report: without the override the GPU shares with the nvme" '0000:02:00.0 0108' "$T/foreign"
t_exit 0 "report: with it, nothing foreign in the GPU's group" test -z "$(e2e_gpu_group_foreign "$override")"
e2e_print_groups "$control" >"$T/listing"
t_grep "listing: named devices" 'group 2$' "$T/listing"
t_grep "listing: the GPU stand-in named" '0000:01:00.0 \[0300\] 1234:1111 pci +VGA \(the GPU stand-in\)' "$T/listing"

# --- the assertions, on the right and on the wrong reports --------------------------
(e2e_check_boots "$control" "$override") >"$T/right" 2>&1
if ! grep -q '^not ok' "$T/right" && [ "$(grep -c '^ok' "$T/right")" -ge 14 ]; then
	t_pass "every e2e assertion holds on the captured reports"
else
	t_fail "every e2e assertion holds on the captured reports" "$(grep -v '^ok' "$T/right" | head -20)"
fi
(e2e_check_boots "$override" "$control") >"$T/swapped" 2>&1
for name in "has the override line" "shares its group" "holds only its own functions" \
	"split with it" "is split" "acso verify in the control guest exits 1" \
	"acso verify in the override guest exits 0"; do
	t_grep "swapped reports fail: $name" "^not ok .*$name" "$T/swapped"
done
(e2e_check_boots "$control" "$control") >"$T/same" 2>&1
t_grep "a boot without the override fails the override checks" '^not ok .*pcie_acs_override=' "$T/same"

# --- the Secure Boot scenario's assertions (tests/e2e/lib/secureboot.sh) ------
# On three real consoles (tests/fixtures/e2e/serial-sb-*.log, OVMF's secboot
# build, the e2e's 6.1.192-acso kernel): the enrolment boot (setup mode, the
# guest writes db, KEK, PK), the kernel acso signed under Secure Boot, the
# same kernel unsigned. Each check also on a console it must reject.
. "$TOP/tests/e2e/lib/vendor.sh"
. "$TOP/tests/e2e/lib/secureboot.sh"
sb_enrol=$fx/serial-sb-enrol.log sb_signed=$fx/serial-sb-signed.log sb_unsigned=$fx/serial-sb-unsigned.log
(e2e_sb_check_enrol "$sb_enrol"; e2e_sb_check_signed "$sb_signed"; e2e_sb_check_unsigned "$sb_unsigned" 3) >"$T/sb-right" 2>&1
if ! grep -q '^not ok' "$T/sb-right" && [ "$(grep -c '^ok' "$T/sb-right")" -eq 15 ]; then
	t_pass "Secure Boot: every assertion holds on the captured consoles"
else
	t_fail "Secure Boot: every assertion holds on the captured consoles" "$(grep -v '^ok' "$T/sb-right" | head -20)"
fi
(e2e_sb_check_enrol "$sb_signed") >"$T/sb-wrong" 2>&1
for name in "boots in setup mode" "enrols db" "ends setup mode"; do
	t_grep "Secure Boot, enrolment checks on the signed boot fail: $name" "^not ok .*$name" "$T/sb-wrong"
done
(e2e_sb_check_signed "$sb_enrol") >"$T/sb-wrong" 2>&1
for name in "shim starts Debian's GRUB" "Secure boot enabled" "SecureBoot=1" "acso check in the guest" "acso sign --dry-run"; do
	t_grep "Secure Boot, signed checks on the enrolment boot fail: $name" "^not ok .*$name" "$T/sb-wrong"
done
(e2e_sb_check_signed "$sb_unsigned") >"$T/sb-wrong" 2>&1
for name in "override line" "holds only its own functions" "acso verify in the guest exits 0"; do
	t_grep "Secure Boot, signed checks on the refused boot fail: $name" "^not ok .*$name" "$T/sb-wrong"
done
(e2e_sb_check_unsigned "$sb_signed" 0) >"$T/sb-wrong" 2>&1
for name in "refused" "it never starts" "QEMU stopped"; do
	t_grep "Secure Boot, unsigned checks on the signed boot fail: $name" "^not ok .*$name" "$T/sb-wrong"
done
t_done
