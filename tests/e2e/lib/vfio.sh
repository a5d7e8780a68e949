# tests/e2e/lib/vfio.sh — the vfio scenario of issue 14: `acso vfio` binds
# the GPU stand-in (qemu.sh: the VGA at 01:00.0 and its HD audio at 01:00.1,
# which snd_hda_intel takes otherwise) inside the guest, and the next boot
# shows it held by vfio-pci. The guest kernel has vfio-pci and snd_hda_intel
# as modules (kconfig/qemu.config) and the guest init loads modules as udev
# would (modprobe -b of each modalias), so the binding is acso's
# /etc/modprobe.d/acso-vfio.conf at work: `options vfio-pci ids=` and
# `softdep snd_hda_intel pre: vfio-pci`. The image has no initramfs-tools:
# acso vfio writes modprobe.d and says the initramfs is not updated.
#
# Boot A: a hook (guest-init runs $E2E_HOOK before its report) runs
# `acso vfio` with no GPU named (the one `acso groups` would choose). The
# stand-in's VGA is the firmware's boot VGA (boot_vga 1), but the guest
# kernel has no virtual terminals, its console is the serial port: no
# console is on that display, and acso binds it without --force (it says so).
# Boot B, hook removed: both functions held by vfio-pci, nothing else, and
# acso verify exits 0. On the host, `acso vfio --remove --no-update` then
# puts the files back byte for byte. Source after qemu.sh, image.sh,
# scenario.sh and vendor.sh (E2E_HOOK).

E2E_VFIO_FNS="0000:01:00.0 0000:01:00.1"
E2E_HDA=0000:01:00.1

# e2e_vfio_prepare MNT — keep what the files acso vfio may touch hold now
# (in $T/vfio-before), and install the hook that runs acso vfio once.
e2e_vfio_prepare() {
	local mnt=$1
	e2e_vfio_files "$mnt" >"$T/vfio-before" || return 1
	cat >"$mnt$E2E_HOOK" <<'EOF'
#!/bin/sh
# Written by acso's e2e test (tests/e2e/lib/vfio.sh), not by acso: run acso
# vfio once, as a user would after the override split the GPU's group.
mount -o remount,rw /
echo "=== acso-e2e vfio begin ==="
acso vfio
echo "vfio-exit: $?"
echo "--- acso-vfio.conf ---"
cat /etc/modprobe.d/acso-vfio.conf
echo "--- end acso-vfio.conf ---"
echo "=== acso-e2e vfio end ==="
sync
mount -o remount,ro /
EOF
	chmod 0755 "$mnt$E2E_HOOK"
}

# e2e_vfio_files MNT — what "put back byte for byte" is checked against: the
# modprobe.d and initramfs-tools files (names and SHA-256) and acso's state.
e2e_vfio_files() {
	(
		cd "$1" || exit 1
		find etc/modprobe.d etc/initramfs-tools etc/dracut.conf.d var/lib/acso/vfio -type f 2>/dev/null |
			sort | xargs -r sha256sum
	)
}

# e2e_vfio_field LOG KEY — "KEY: value" from the hook's report.
e2e_vfio_field() {
	e2e_hook_field "$1" vfio "$2"
}

# e2e_vfio_driver LOG ADDR — the driver of ADDR in the report's drivers section.
e2e_vfio_driver() {
	e2e_result_section "$1" drivers | awk -v a="$2" '$1 == a { print $3; exit }'
}

# e2e_vfio_check_bind LOG EARLIER_LOG — boot A: acso vfio in the guest, and
# the HD audio function was snd_hda_intel's before (EARLIER_LOG: a boot
# without acso vfio), the driver the binding must win against.
e2e_vfio_check_bind() {
	local log=$1 earlier=$2 rc d
	d=$(e2e_vfio_driver "$earlier" "$E2E_HDA")
	[ "$d" = snd_hda_intel ] && t_pass "vfio: without acso vfio the GPU's HD audio is snd_hda_intel's" ||
		t_fail "vfio: without acso vfio the GPU's HD audio is snd_hda_intel's" "driver: ${d:-none}" \
			"$(e2e_result_section "$earlier" drivers)"
	rc=$(e2e_vfio_field "$log" vfio-exit)
	[ "$rc" = 0 ] && t_pass "vfio: acso vfio in the guest exits 0" ||
		t_fail "vfio: acso vfio in the guest exits 0" "exit '${rc:-none}'"
	t_grep "vfio: it binds the boot VGA, saying no console is on it" \
		'01:00.0 is the boot VGA, but the kernel has no virtual terminals' "$log"
	t_grep "vfio: it says the initramfs is not updated (no initramfs-tools)" \
		'neither initramfs-tools nor dracut found: the initramfs is not updated' "$log"
	t_grep "vfio: acso-vfio.conf binds both functions' IDs" \
		"^options vfio-pci ids=$E2E_GPU_VENDOR_DEVICE,8086:293e" "$log"
	t_grep "vfio: ... with vfio-pci before snd_hda_intel" '^softdep snd_hda_intel pre: vfio-pci' "$log"
	if grep -q 'built into' <(tr -d '\r' <"$log"); then
		t_fail "vfio: vfio-pci is a module in the guest kernel" "$(tr -d '\r' <"$log" | grep 'built into')"
	else
		t_pass "vfio: vfio-pci is a module in the guest kernel"
	fi
}

# e2e_vfio_check_held LOG MNT — boot B: every function of the stand-in held
# by vfio-pci and nothing else, acso verify passes and shows the drivers;
# then --remove on the host puts the files back.
e2e_vfio_check_held() {
	local log=$1 mnt=$2 a d others v
	for a in $E2E_VFIO_FNS; do
		d=$(e2e_vfio_driver "$log" "$a")
		[ "$d" = vfio-pci ] && t_pass "vfio: after the reboot $a is held by vfio-pci" ||
			t_fail "vfio: after the reboot $a is held by vfio-pci" "driver: ${d:-none}" \
				"$(e2e_result_section "$log" drivers)"
	done
	others=$(e2e_result_section "$log" drivers | awk -v f=" $E2E_VFIO_FNS " \
		'$3 == "vfio-pci" && index(f, " " $1 " ") == 0')
	[ -z "$others" ] && t_pass "vfio: nothing else is held by vfio-pci" ||
		t_fail "vfio: nothing else is held by vfio-pci" "$others"
	v=$(e2e_result_field "$log" verify-exit)
	[ "$v" = 0 ] && t_pass "vfio: acso verify in the guest exits 0" ||
		t_fail "vfio: acso verify in the guest exits 0" "exit ${v:-none}" \
			"$(e2e_result_section "$log" verify | tail -20)"
	v=$(e2e_result_section "$log" verify | jq -c '[.vfio.held, (.vfio.functions[] | .address + "=" + .driver)]' 2>&1)
	[ "$v" = '[true,"0000:01:00.0=vfio-pci","0000:01:00.1=vfio-pci"]' ] &&
		t_pass "vfio: acso verify --json shows both functions' drivers" ||
		t_fail "vfio: acso verify --json shows both functions' drivers" "$v"

	"$ACSO" --root "$mnt" vfio --remove --no-update >"$T/vfio-remove.log" 2>&1
	v=$?
	[ $v -eq 0 ] && t_pass "vfio: acso vfio --remove on the image exits 0" ||
		t_fail "vfio: acso vfio --remove on the image exits 0" "exit $v" "$(tail -5 "$T/vfio-remove.log")"
	if e2e_vfio_files "$mnt" | cmp -s - "$T/vfio-before"; then
		t_pass "vfio: --remove puts every file back byte for byte"
	else
		t_fail "vfio: --remove puts every file back byte for byte" \
			"$(e2e_vfio_files "$mnt" | diff "$T/vfio-before" - | head -10)"
	fi
}

# e2e_vfio_scenario IMG MNT EARLIER_LOG — the two boots and their checks, as
# TAP lines (EARLIER_LOG: a boot before acso vfio, for snd_hda_intel). Both
# guest consoles go into the e2e's log as comments.
e2e_vfio_scenario() {
	local img=$1 mnt=$2 earlier=$3 bind_log=$T/boot-vfio-bind.log held_log=$T/boot-vfio-held.log
	local dep m
	dep=$(ls "$mnt"/lib/modules/*-acso*/modules.dep 2>/dev/null | head -1)
	for m in vfio/pci/vfio-pci.ko sound/pci/hda/snd-hda-intel.ko; do
		t_grep "vfio: the ACS kernel's package carries $m (modules.dep)" "^kernel/drivers/$m:|^kernel/$m:" "${dep:-$mnt/lib/modules/none/modules.dep}"
	done
	e2e_vfio_prepare "$mnt" || { t_fail "vfio: the image prepared (hook in)"; return; }
	e2e_time boot-vfio-bind e2e_boot_image vfio-bind "$img" "$mnt" "$bind_log" ||
		t_fail "vfio: the image boots and runs acso vfio"
	e2e_console vfio-bind "$bind_log"
	e2e_vfio_check_bind "$bind_log" "$earlier"
	rm -f "$mnt$E2E_HOOK"
	e2e_time boot-vfio-held e2e_boot_image vfio-held "$img" "$mnt" "$held_log" ||
		t_fail "vfio: the next boot reports"
	e2e_console vfio-held "$held_log"
	e2e_vfio_check_held "$held_log" "$mnt"
}
