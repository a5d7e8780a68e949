# tests/e2e/lib/vendor.sh — the vendor-kernel scenario of issue 12: a kernel
# that already carries the override (Proxmox VE's -pve, Zen, ...), stood in
# for by the ACS kernel the e2e built and installed. The image boots it
# WITHOUT the parameter; inside the guest, a hook of the guest init
# (tests/e2e/lib/guest-init runs $E2E_HOOK before its report) runs
# `acso run`, which must find the support (the kernel's System.map: the qemu
# profile has no kallsyms), build nothing, and register the parameter in the
# image's own grub.cfg through update-grub; the next boot, hook removed,
# splits the groups. Source after qemu.sh, image.sh and scenario.sh.

E2E_HOOK=/usr/local/sbin/acso-e2e-hook
# What "seconds, not minutes" means under TCG: the run reads the machine,
# takes the snapshot and runs update-grub, all emulated.
E2E_VENDOR_MAX_SECONDS=${E2E_VENDOR_MAX_SECONDS:-240}

# e2e_vendor_prepare MNT — the image as a vendor kernel's machine: the
# parameter out of grub.cfg and acso's drop-in gone (the run must register
# it), and the hook that runs `acso run` once in the guest.
e2e_vendor_prepare() {
	local mnt=$1
	rm -f "$mnt/etc/default/grub.d/99-acso.cfg"
	e2e_image_drop_override "$mnt" || return 1
	cat >"$mnt$E2E_HOOK" <<EOF
#!/bin/sh
# Written by acso's e2e test (tests/e2e/lib/vendor.sh), not by acso: run
# acso run once, as a user on a vendor kernel would, and report on the console.
mount -o remount,rw /
echo "=== acso-e2e vendor begin ==="
start=\$(date +%s)
acso run --acs $E2E_OVERRIDE
echo "vendor-run-exit: \$?"
echo "vendor-run-seconds: \$((\$(date +%s) - start))"
acso status
grep -c 'pcie_acs_override=' /boot/grub/grub.cfg | sed 's/^/vendor-grub-cfg-lines: /'
echo "=== acso-e2e vendor end ==="
sync
mount -o remount,ro /
EOF
	chmod 0755 "$mnt$E2E_HOOK"
}

# e2e_vendor_field LOG KEY — "KEY: value" from the hook's report.
e2e_vendor_field() {
	e2e_hook_field "$1" vendor "$2"
}

# e2e_vendor_check_run LOG MNT — what the run in the guest must have done.
e2e_vendor_check_run() {
	local log=$1 mnt=$2 rc secs
	rc=$(e2e_vendor_field "$log" vendor-run-exit)
	secs=$(e2e_vendor_field "$log" vendor-run-seconds)
	[ "$rc" = 0 ] && t_pass "vendor kernel: acso run in the guest exits 0" ||
		t_fail "vendor kernel: acso run in the guest exits 0" "exit '${rc:-none}'"
	t_grep "vendor kernel: the run finds the support and says why" \
		'already carries the ACS override \(/boot/System.map-[^ ]+ names the patch.s symbol' "$log"
	if grep -q '^==> \(resolve\|fetch\|patch\|config\|build\|install\)' <(tr -d '\r' <"$log"); then
		t_fail "vendor kernel: nothing is built or installed" "$(tr -d '\r' <"$log" | grep '^==> ')"
	else
		t_pass "vendor kernel: nothing is built or installed (steps: $(tr -d '\r' <"$log" | sed -n 's/^==> //p' | tr '\n' ' '))"
	fi
	[ -n "$secs" ] && [ "$secs" -le "$E2E_VENDOR_MAX_SECONDS" ] &&
		t_pass "vendor kernel: the run takes seconds ($secs s under TCG)" ||
		t_fail "vendor kernel: the run takes at most $E2E_VENDOR_MAX_SECONDS s" "${secs:-none} s"
	t_grep "vendor kernel: the parameter is in the image's grub.cfg" "pcie_acs_override=$E2E_OVERRIDE" "$mnt/boot/grub/grub.cfg"
}
