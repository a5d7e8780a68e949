#!/usr/bin/env bash
# tests/e2e/e2e.sh — the whole job, for real, inside QEMU (issue 7).
#
# A local kernel.org-shaped mirror serves Debian's linux-source-6.1 as upstream
# 6.1.192, signed with a throwaway key given as --keyring. A throwaway Debian
# image (debootstrap minbase, grub-pc, acso's runtime libraries) stands in for
# the user's machine. Then:
#   1. hostile mirror (one byte of the tarball changed): `acso run` stops at
#      verification; nothing is built, nothing changes in the image;
#   2. `acso run` killed with SIGKILL during the kernel build, then run again:
#      it resumes and installs the kernel and the override into the image;
#   3. control: the image, with acso copied into it, boots in QEMU (q35,
#      intel-iommu, TCG) through its own GRUB with pcie_acs_override taken
#      out of grub.cfg: the GPU stand-in shares its group and `acso verify`
#      in the guest exits 1;
#   4. the same with grub.cfg as acso left it: the boot log has the override
#      line, every group the stock kernel merged is split except the PCI
#      bridge's, and `acso verify --json` exits 0 for the GPU stand-in;
#   5. vendor kernel (tests/e2e/lib/vendor.sh): the same kernel booted without
#      the parameter, `acso run` in the guest builds nothing, registers it,
#      and the next boot splits the groups;
#   6. vfio (tests/e2e/lib/vfio.sh): `acso vfio` in the guest binds the GPU
#      stand-in (VGA + HD audio, snd_hda_intel's otherwise); the next boot
#      shows both held by vfio-pci and nothing else, `acso verify` exits 0;
#      `acso vfio --remove` puts the files back byte for byte.
#   7. Secure Boot (tests/e2e/lib/secureboot.sh): `acso --root IMAGE sign`
#      signs the kernel with a test MOK in DKMS's place; the guest enrols the
#      test's keys in OVMF's setup mode (db: the MOK and shim's hash; KEK; PK
#      last); then OVMF with Secure Boot enforced boots the kernel through
#      Debian's signed shim and GRUB: "Secure boot enabled", the groups split,
#      acso verify exits 0, acso sign in the guest finds the MOK in db; the
#      same kernel unsigned is refused ("bad shim signature"), never starts.
# Prints both group listings and the timings. Needs root, QEMU, debootstrap,
# the host's apt source for its own release, and about 10 GB under $TMPDIR.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib/qemu.sh"
. "$(dirname "$0")/lib/image.sh"
. "$(dirname "$0")/lib/scenario.sh"

start_all=$SECONDS

# Every tool missing is a failure, never a skip.
missing=""
for tool in qemu-system-x86_64 debootstrap sfdisk partx losetup mkfs.ext4 chroot setsid gpg xz python3; do
	command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
		missing="$missing $tool"
done
command -v lighttpd >/dev/null 2>&1 || [ -x /usr/sbin/lighttpd ] || missing="$missing lighttpd"
if [ -n "$missing" ]; then
	t_fail "e2e tools are installed" "missing:$missing (run scripts/install-deps)"
	t_done
fi
if [ "$(id -u)" -ne 0 ]; then
	t_fail "e2e runs as root" "debootstrap, loop devices and chroot need root"
	t_done
fi
t_pass "e2e tools are installed"

IMG=$T/disk.img MNT=$T/mnt WORK=$T/work

if ! e2e_time mirror e2e_mirror_start "$T/mirror"; then
	t_fail "local kernel.org mirror serves Debian's 6.1 as $E2E_VERSION"
	t_done
fi
t_pass "local kernel.org mirror serves Debian's 6.1 as $E2E_VERSION at $E2E_MIRROR_URL"

if ! e2e_time image e2e_image_create "$IMG" "$MNT" "$ACSO"; then
	t_fail "Debian image with grub-pc and acso's runtime libraries"
	t_done
fi
t_pass "Debian image with grub-pc and acso's runtime libraries"
e2e_install_acso "$MNT"
# dpkg and update-grub run in the image through chroot: it needs /dev, /proc
# and /sys, as a real system has.
e2e_chroot_mounts "$MNT" || { t_fail "chroot mounts in the image"; t_done; }

# --- 1. hostile mirror: one byte changed ---------------------------------
before=$(e2e_image_state "$MNT")
hostile=$(e2e_mirror_hostile onebyte) || { t_fail "hostile mirror (one byte changed)"; t_done; }
e2e_time hostile-run e2e_acso_run "$MNT" "$T/work-hostile" "$hostile" "$T/acso-run-hostile.log"
rc=$?
# Exit 2 would be a usage error: the run line, not the tarball, was refused.
if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then t_pass "acso run refuses the tarball with one byte changed (exit $rc)"; else
	t_fail "acso run refuses the tarball with one byte changed" "it exited $rc" "$(tail -5 "$T/acso-run-hostile.log")"
fi
t_grep "the refusal names the verification" '[Vv]erif|[Ss]ignature|SHA-?256|sha256|BAD' "$T/acso-run-hostile.log"
after=$(e2e_image_state "$MNT")
if [ "$before" = "$after" ]; then t_pass "nothing installed in the image after the refusal"; else
	t_fail "nothing installed in the image after the refusal" "$(diff <(echo "$before") <(echo "$after") | head -20)"
fi
leftover=$(find "$T/work-hostile" \( -name '*.deb' -o -name 'Makefile' -o -name 'linux-*.tar.xz' \) 2>/dev/null | head -5)
if [ -z "$leftover" ]; then t_pass "nothing unverified extracted or built in the work dir"; else
	t_fail "nothing unverified extracted or built in the work dir" "$leftover"
fi

# --- 2. the run, killed during the build, then resumed -------------------
# "  CC " is kbuild's line for a compiled object: the build is under way.
if e2e_time killed-run e2e_acso_run_killed "$MNT" "$WORK" "$E2E_MIRROR_URL" '^  CC '; then
	t_pass "acso run killed with SIGKILL during the kernel build"
else
	t_fail "acso run killed with SIGKILL during the kernel build" \
		"the run ended before the build started" "$(tail -10 "$T/acso-run-killed.log")"
fi
e2e_time resumed-run e2e_acso_run "$MNT" "$WORK" "$E2E_MIRROR_URL"
rc=$?
if [ $rc -eq 0 ]; then t_pass "the resumed acso run ends with exit 0"; else
	t_fail "the resumed acso run ends with exit 0" "exit $rc" "$(tail -15 "$T/acso-run.log")"
fi
# A second run after success: every step done and intact, nothing runs.
start=$SECONDS
e2e_acso_run "$MNT" "$WORK" "$E2E_MIRROR_URL" "$T/acso-run-again.log"
rc=$?
if [ $rc -eq 0 ] && grep -q '^Nothing to do: every step is done' "$T/acso-run-again.log"; then
	t_pass "a second acso run has nothing to do ($((SECONDS - start)) s)"
else
	t_fail "a second acso run has nothing to do" "exit $rc" "$(tail -15 "$T/acso-run-again.log")"
fi
release=$(ls "$MNT"/boot/vmlinuz-*-acso* 2>/dev/null | head -1)
release=${release##*/vmlinuz-}
if [ -n "$release" ]; then t_pass "kernel $release installed in the image"; else
	t_fail "an -acso kernel installed in the image" "$(ls "$MNT/boot")"
	# Nothing to boot: booting would only wait for the timeout.
	t_fail "the image boots the kernel acso installed" "no kernel was installed"
	e2e_print_timings | sed 's/^/# /'
	t_done
fi
t_grep "the image's grub.cfg boots with pcie_acs_override=" "pcie_acs_override=" "$MNT/boot/grub/grub.cfg"
e2e_install_before_snapshot "$WORK" "$MNT"
e2e_chroot_umounts "$MNT"

# --- 3. control: the same image, the parameter removed ---------------------
cp "$MNT/boot/grub/grub.cfg" "$T/grub.cfg.acso"
e2e_image_drop_override "$MNT" || t_fail "pcie_acs_override removed from the control's grub.cfg"
before_log=$T/boot-control.log
if e2e_time boot-control e2e_boot_image control "$IMG" "$MNT" "$before_log"; then
	t_pass "the control boots the new kernel through the image's GRUB (${E2E_BOOT_SECONDS}s)"
else
	t_fail "the control boots the new kernel through the image's GRUB"
fi

# --- 4. boot with the override acso registered ------------------------------
cp "$T/grub.cfg.acso" "$MNT/boot/grub/grub.cfg"
after_log=$T/boot-override.log
if e2e_time boot-override e2e_boot_image override "$IMG" "$MNT" "$after_log"; then
	t_pass "the image boots with the override (${E2E_BOOT_SECONDS}s)"
else
	t_fail "the image boots with the override"
fi

# --- 5. vendor kernel (issue 12): it carries the override, run registers only ---
. "$(dirname "$0")/lib/vendor.sh"
if e2e_vendor_prepare "$MNT"; then
	vendor_log=$T/boot-vendor-run.log
	e2e_time boot-vendor-run e2e_boot_image vendor-run "$IMG" "$MNT" "$vendor_log" ||
		t_fail "vendor kernel: the image boots without the parameter and reports"
	tr -d '\r' <"$vendor_log" | sed -n '/^=== acso-e2e vendor begin/,/^=== acso-e2e vendor end/s/^/# guest: /p'
	e2e_vendor_check_run "$vendor_log" "$MNT"
	rm -f "$MNT$E2E_HOOK"
	vendor_after=$T/boot-vendor-after.log
	e2e_time boot-vendor-after e2e_boot_image vendor-after "$IMG" "$MNT" "$vendor_after" ||
		t_fail "vendor kernel: the next boot reports"
	[ "$(e2e_result_field "$vendor_after" verify-exit)" = 0 ] &&
		t_pass "vendor kernel: the next boot splits the groups (acso verify exits 0)" ||
		t_fail "vendor kernel: the next boot splits the groups" "$(e2e_result_section "$vendor_after" verify | tail -20)"
else
	t_fail "vendor kernel: the image prepared (parameter out, hook in)"
fi

# --- 6. vfio (issue 14): acso vfio in the guest, vfio-pci holds the GPU ---
. "$(dirname "$0")/lib/vfio.sh"
e2e_vfio_scenario "$IMG" "$MNT" "$after_log"

# --- 7. Secure Boot (issue 13): OVMF enforcing, shim + GRUB, acso sign ------
. "$(dirname "$0")/lib/secureboot.sh"
e2e_sb_scenario "$IMG" "$MNT" "$release"

# --- what the two boots showed ---------------------------------------------
echo "# kernel: $(e2e_result_field "$after_log" kernel)"
echo "# Groups WITHOUT the override ($(e2e_group_count "$before_log") groups):"
e2e_print_groups "$before_log" | sed 's/^/# /'
echo "# Groups WITH pcie_acs_override=$E2E_OVERRIDE ($(e2e_group_count "$after_log") groups):"
e2e_print_groups "$after_log" | sed 's/^/# /'
echo "# Boot log line: $(e2e_result_field "$after_log" override-line)"
echo "# acso verify exit codes: control $(e2e_result_field "$before_log" verify-exit), override $(e2e_result_field "$after_log" verify-exit)"

e2e_check_boots "$before_log" "$after_log"

echo "# Timings:"
echo "total $((SECONDS - start_all))" >>"$E2E_TIMINGS"
e2e_print_timings | sed 's/^/# /'
t_done
