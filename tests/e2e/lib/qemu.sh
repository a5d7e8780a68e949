# tests/e2e/lib/qemu.sh — the test machine: QEMU q35 with an emulated Intel
# IOMMU under TCG, on a PCI topology where a stock kernel MERGES IOMMU groups
# and pcie_acs_override=downstream,multifunction SPLITS them (FIELD-NOTES §8).
# Source after tests/lib.sh. Every QEMU started here is tracked by pid
# (t_track_pid) and killed when the test exits; every boot has a timeout.
#
# The topology, by slot on the root bus (pcie.0):
#   00:02.0-1  two nvme functions in one slot (multifunction=on)     -> merged
#   00:03.0-1  two ioh3420 root ports as functions of one slot (no ACS in
#              QEMU 7.2's ioh3420); behind the first the GPU stand-in: a VGA
#              display at fn 0 and ich9-intel-hda at fn 1 (a GPU + HDMI audio
#              pair); behind the second an nvme                        -> merged
#   00:04.0    pcie-root-port,disable-acs=on with a switch below it
#              (x3130-upstream + two xio3130-downstream), an nvme behind
#              each downstream port                                    -> merged
#   00:05.0    pcie-root-port (with ACS) -> pcie-pci-bridge -> two
#              conventional PCI devices: the negative control, merged with
#              any kernel
#   00:06.0    virtio-blk: the system disk (conventional PCI on the root bus,
#              a group of its own either way)
# Without the override the GPU stand-in shares its group with the second
# ioh3420 port and the nvme behind it; with the override it is alone.

# The GPU stand-in's address in the guest: bus 1 is the first ioh3420's
# secondary bus (SeaBIOS numbers bridges in slot order, depth first).
E2E_GPU_VENDOR_DEVICE=1234:1111
E2E_BRIDGE_VENDOR_DEVICE=1b36:000e
E2E_BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-300}

# e2e_qemu_topology — print the -device arguments of the topology, one per line.
e2e_qemu_topology() {
	cat <<'EOF'
-device
nvme,serial=e2e-nvme-a,addr=02.0,multifunction=on
-device
nvme,serial=e2e-nvme-b,addr=02.1
-device
ioh3420,id=rpa,bus=pcie.0,addr=03.0,multifunction=on,chassis=1,slot=1
-device
ioh3420,id=rpb,bus=pcie.0,addr=03.1,chassis=2,slot=2
-device
VGA,bus=rpa,addr=00.0,multifunction=on
-device
ich9-intel-hda,bus=rpa,addr=00.1
-device
nvme,serial=e2e-nvme-c,bus=rpb,addr=00.0
-device
pcie-root-port,id=rpc,bus=pcie.0,addr=04.0,chassis=3,slot=3,disable-acs=on
-device
x3130-upstream,id=up,bus=rpc
-device
xio3130-downstream,id=dn1,bus=up,chassis=4,slot=4
-device
xio3130-downstream,id=dn2,bus=up,chassis=5,slot=5
-device
nvme,serial=e2e-nvme-d,bus=dn1
-device
nvme,serial=e2e-nvme-e,bus=dn2
-device
pcie-root-port,id=rpd,bus=pcie.0,addr=05.0,chassis=6,slot=6
-device
pcie-pci-bridge,id=ppb,bus=rpd
-device
pci-testdev,bus=ppb,addr=01.0
-device
i6300esb,bus=ppb,addr=02.0
EOF
}

# e2e_qemu_boot NAME DISK KERNEL LOG [APPEND] — boot DISK with KERNEL (a Linux
# bzImage, or GRUB's lnxboot.img+core.img which then boots the disk through
# its own grub.cfg), the serial console written to LOG. Runs until the guest
# powers off or prints the end marker, or E2E_BOOT_TIMEOUT seconds pass.
# Returns 0 when the end marker was seen, 1 otherwise (timeout or crash; the
# reason is printed as a TAP comment). The boot's wall time is in
# $E2E_BOOT_SECONDS.
# A firmware boot (tests/e2e/lib/secureboot.sh) gives KERNEL as "" (the
# firmware boots a disk) or a kernel for the firmware to start, and sets
# E2E_QEMU_MACHINE (more -machine options), E2E_QEMU_DISK (more options of
# the system disk's device: OVMF connects only the disks in the boot order),
# E2E_QEMU_EXTRA (an array of more arguments: the firmware, the ESP) and
# E2E_QEMU_STOP (an extended regex: a console line matching it, a refusal,
# ends the boot at once; returns 3).
e2e_qemu_boot() {
	local name=$1 disk=$2 kernel=$3 log=$4 append=${5:-}
	local -a argv topo
	mapfile -t topo < <(e2e_qemu_topology)
	argv=(qemu-system-x86_64 -accel tcg -machine "q35,kernel-irqchip=split${E2E_QEMU_MACHINE:-}"
		-cpu max -m 512 -smp 1
		-device intel-iommu,intremap=on
		-nodefaults -display none -no-reboot
		-serial "file:$log" -monitor none
		-drive "file=$disk,format=raw,if=none,id=disk0,cache=unsafe"
		-device "virtio-blk-pci,drive=disk0,bus=pcie.0,addr=06.0${E2E_QEMU_DISK:-}"
		"${topo[@]}" ${E2E_QEMU_EXTRA[@]+"${E2E_QEMU_EXTRA[@]}"})
	[ -n "$kernel" ] && argv+=(-kernel "$kernel")
	[ -n "$append" ] && argv+=(-append "$append")
	: >"$log"
	local start=$SECONDS
	"${argv[@]}" >"$log.qemu" 2>&1 &
	local pid=$!
	t_track_pid "$pid"
	local seen=1
	while :; do
		if grep -q '^=== acso-e2e end ===' "$log" 2>/dev/null; then seen=0; break; fi
		if [ -n "${E2E_QEMU_STOP:-}" ] && grep -qE "$E2E_QEMU_STOP" "$log" 2>/dev/null; then
			seen=3
			sleep 1 # the rest of the refusal's lines
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		if grep -q 'Kernel panic - not syncing' "$log" 2>/dev/null; then
			sleep 1
			echo "# boot '$name': the guest kernel panicked"
			break
		fi
		if [ $((SECONDS - start)) -ge "$E2E_BOOT_TIMEOUT" ]; then
			echo "# boot '$name': no result after ${E2E_BOOT_TIMEOUT}s, stopping QEMU"
			break
		fi
		sleep 1
	done
	# The guest powers itself off after the end marker; give it a moment,
	# then stop QEMU ourselves (by its pid); after a refusal at once.
	local i
	[ $seen -eq 3 ] || for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	E2E_BOOT_SECONDS=$((SECONDS - start))
	if [ $seen -eq 1 ]; then
		echo "# boot '$name' ended without a result; last console lines:"
		tail -25 "$log" | tr -d '\r' | sed 's/^/#   /'
		sed 's/^/#   qemu: /' "$log.qemu"
	fi
	return $seen
}

# e2e_hook_field LOG NAME KEY — "KEY: value" from a scenario hook's report,
# between "=== acso-e2e NAME begin ===" and "=== acso-e2e NAME end ===".
e2e_hook_field() {
	tr -d '\r' <"$1" | sed -n "/^=== acso-e2e $2 begin ===/,/^=== acso-e2e $2 end ===/s/^$3: //p" | head -1
}

# e2e_console NAME LOG — a guest's whole console (firmware, boot loader,
# kernel, init) as TAP comments, without carriage returns, terminal escapes
# and blank lines.
e2e_console() {
	tr -d '\r' <"$2" | sed -e 's/\x1b\[[0-9;?=]*[A-Za-z]//g' -e 's/\x1b[()][0-9A-Za-z]//g' |
		grep -v '^[[:space:]]*$' | sed "s/^/# console $1: /"
}

# e2e_result_field LOG KEY — the value of "KEY: value" in the guest's report.
e2e_result_field() {
	tr -d '\r' <"$1" | sed -n "/^=== acso-e2e begin ===/,/^=== acso-e2e end ===/s/^$2: //p" | head -1
}

# e2e_result_section LOG NAME — the lines between "--- NAME ---" and "--- end NAME ---".
e2e_result_section() {
	tr -d '\r' <"$1" | sed -n "/^--- $2 ---\$/,/^--- end $2 ---\$/{//!p}"
}

# e2e_group_of LOG VENDOR:DEVICE — the group number holding that device, from
# the "groups" section (lines: "GROUP ADDR CLASS VENDOR:DEVICE").
e2e_group_of() {
	e2e_result_section "$1" groups | awk -v vd="$2" '$4 == vd { print $1; exit }'
}

# e2e_group_members LOG GROUP — the lines of one group.
e2e_group_members() {
	e2e_result_section "$1" groups | awk -v g="$2" '$1 == g'
}

# e2e_shared_groups LOG — the groups holding more than one device, one per line.
e2e_shared_groups() {
	e2e_result_section "$1" groups | awk '{ n[$1]++ } END { for (g in n) if (n[g] > 1) print g }' | sort -n
}
