# tests/e2e/lib/scenario.sh — the steps of the end-to-end scenario shared by
# tests/e2e/e2e.sh (assertions, TAP) and scripts/demo (narration): the local
# kernel.org mirror, the one `acso run` line, the boots and what is read from
# them. Source after tests/lib.sh, qemu.sh and image.sh.

# The kernel the scenario builds: Debian's linux-source-6.1 served by the local
# mirror as upstream 6.1.192 (tests/mirror/make-mirror --with-debian-6.1).
E2E_VERSION=${E2E_VERSION:-6.1.192}
E2E_OVERRIDE=${E2E_OVERRIDE:-downstream,multifunction}

# Where the scenario's timings are kept, in order: "label seconds" lines.
E2E_TIMINGS=$T/timings

# e2e_time LABEL CMD... — run CMD and record its wall time under LABEL.
e2e_time() {
	local label=$1 start=$SECONDS rc
	shift
	"$@"
	rc=$?
	echo "$label $((SECONDS - start))" >>"$E2E_TIMINGS"
	return $rc
}

# e2e_print_timings — the recorded timings as a table.
e2e_print_timings() {
	[ -s "$E2E_TIMINGS" ] || return 0
	awk '{ printf "  %-34s %4d s  (%d:%02d)\n", $1, $2, $2 / 60, $2 % 60 }' "$E2E_TIMINGS"
}

# e2e_mirror_start DIR — build the local kernel.org-shaped mirror in DIR with
# the Debian 6.1 tree as a signed upstream release and serve it on 127.0.0.1.
# Sets E2E_MIRROR_URL, E2E_KEYRING and E2E_MIRROR_DIR.
e2e_mirror_start() {
	local dir=$1 port pid
	[ -x "$TOP/tests/mirror/make-mirror" ] ||
		{ echo "# e2e: tests/mirror/make-mirror is missing (branch fetch)"; return 1; }
	"$TOP/tests/mirror/make-mirror" "$dir" --with-debian-6.1 >"$T/make-mirror.log" 2>&1 ||
		{ tail -20 "$T/make-mirror.log" | sed 's/^/#   /'; return 1; }
	read -r port pid < <("$TOP/tests/mirror/serve" "$dir") || return 1
	[ -n "${pid:-}" ] || return 1
	t_track_pid "$pid"
	E2E_MIRROR_DIR=$dir
	E2E_MIRROR_URL=http://127.0.0.1:$port
	E2E_KEYRING=$dir/keyring.gpg
}

# e2e_mirror_hostile NAME — a site root under the running mirror that serves
# the same release with ONE byte of the tarball changed (its .sign and
# sha256sums.asc are the originals). Prints the site root's URL.
e2e_mirror_hostile() {
	local name=$1 sub=pub/linux/kernel/v${E2E_VERSION%%.*}.x
	local src=$E2E_MIRROR_DIR/$sub dst=$E2E_MIRROR_DIR/e2e-hostile/$name/$sub
	local tarball=linux-$E2E_VERSION.tar.xz
	mkdir -p "$dst" || return 1
	cp "$E2E_MIRROR_DIR/releases.json" "$E2E_MIRROR_DIR/e2e-hostile/$name/" || return 1
	cp "$src/sha256sums.asc" "$src/linux-$E2E_VERSION.tar.sign" "$dst/" || return 1
	cp -L "$src/$tarball" "$dst/$tarball" || return 1
	# Flip one byte in the middle of the file.
	local size off byte
	size=$(stat -c %s "$dst/$tarball")
	off=$((size / 2))
	byte=$(od -An -tu1 -j "$off" -N1 "$dst/$tarball" | tr -d ' ')
	printf '%b' "\\0$(printf '%03o' $(((byte + 1) % 256)))" |
		dd of="$dst/$tarball" bs=1 seek="$off" conv=notrunc status=none || return 1
	cmp -s "$src/$tarball" "$dst/$tarball" && return 1
	echo "$E2E_MIRROR_URL/e2e-hostile/$name"
}

# e2e_acso_run_argv ROOT WORK MIRROR_URL — THE step under test, as an argv
# in E2E_ARGV: acso takes the mounted image at ROOT from nothing to an
# installed ACS kernel with the override registered in the image's GRUB
# configuration. This is the single place that says how the pipeline is run.
# The throwaway keyring and the qemu profile go in through a config file
# (keys every step reads), the rest through acso run's own options. No
# ccache: a cold cache only costs time in a one-shot build, and the test
# leaves nothing behind in the host's ~/.cache/ccache.
e2e_acso_run_argv() {
	local conf=$T/acso.conf
	printf 'keyring = %s\nprofile = qemu\nccache = no\n' "$E2E_KEYRING" >"$conf"
	# VERSION last: options after a positional argument are not parsed as
	# options everywhere (getopt in POSIX order).
	E2E_ARGV=("$ACSO" --config "$conf" --work-dir "$2" --root "$1"
		run --mirror "$3" --acs "$E2E_OVERRIDE" --allow-root "$E2E_VERSION")
}

# e2e_acso_run ROOT WORK MIRROR_URL [LOG] — run it, output appended to LOG
# (default $T/acso-run.log). Returns acso's exit status.
e2e_acso_run() {
	local log=${4:-$T/acso-run.log}
	e2e_acso_run_argv "$1" "$2" "$3"
	echo "\$ ${E2E_ARGV[*]}" >>"$log"
	"${E2E_ARGV[@]}" >>"$log" 2>&1 </dev/null
}

# e2e_acso_run_killed ROOT WORK MIRROR_URL PATTERN — start the same run in a
# session of its own and kill -9 the whole session (acso and the make it
# runs: a power cut, as far as the work dir can tell) as soon as a line
# matching PATTERN appears in a log under WORK, or a kernel object (init/*.o,
# not the kconfig tools' objects of the config step) appears in a tree under
# WORK. Returns 0 when it was killed that way, 1 when the run ended first.
e2e_acso_run_killed() {
	local work=$2 pattern=$4 log=$T/acso-run-killed.log pid
	e2e_acso_run_argv "$1" "$2" "$3"
	echo "\$ ${E2E_ARGV[*]}" >>"$log"
	setsid "${E2E_ARGV[@]}" >>"$log" 2>&1 </dev/null &
	pid=$!
	# Not a process group leader, so setsid made the session in place: the
	# session id (and process group id) is $pid. The flag keeps the exit
	# handler from signalling a reused id once the session is gone.
	: >"$T/.session-$pid"
	t_on_exit "[ -e $T/.session-$pid ] && kill -9 -- -$pid"
	local rc=1
	while kill -0 "$pid" 2>/dev/null; do
		if grep -rqsE -- "$pattern" "$work/build/logs" "$work/logs" 2>/dev/null ||
			[ -n "$(find "$work" -path '*/init/*.o' -print -quit 2>/dev/null)" ]; then
			kill -9 -- "-$pid"
			rc=0
			break
		fi
		sleep 1
	done
	wait "$pid" 2>/dev/null
	# Let the killed session's other members (make, gcc) finish dying.
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.5; done
	rm -f "$T/.session-$pid"
	return $rc
}

# e2e_image_state ROOT — what "nothing installed" is checked against: the
# kernels in /boot, the kernel packages dpkg knows, the GRUB drop-ins and
# configuration, the file list of /lib/modules.
e2e_image_state() {
	local root=$1
	(
		cd "$root" || exit 1
		ls -la boot boot/grub etc/default etc/default/grub.d 2>/dev/null | awk '{ print $1, $5, $NF }'
		find lib/modules -maxdepth 1 2>/dev/null
		sha256sum etc/default/grub etc/default/grub.d/* boot/grub/grub.cfg 2>/dev/null
		grep -A1 '^Package: linux-' var/lib/dpkg/status
	)
}

# e2e_install_acso ROOT — acso itself copied into the image, where the guest's
# init runs `acso verify --json` against the real (virtual) machine.
e2e_install_acso() {
	install -D -m 0755 "$ACSO" "$1/usr/local/bin/acso"
}

# e2e_install_before_snapshot WORK ROOT — the "before" snapshot acso run took
# of the image (WORK/snapshots/before.tar.gz), put where acso verify in the
# guest looks for it (its default work dir, ~root/.cache/acso), so that it can
# show the GPU's group before and after. Nothing to do when there is none.
e2e_install_before_snapshot() {
	local snap=$1/snapshots/before.tar.gz
	[ -f "$snap" ] || return 0
	install -D -m 0644 "$snap" "$2/root/.cache/acso/snapshots/before.tar.gz"
}

# e2e_boot_image NAME IMG MNT LOG — unmount the image, boot it through its own
# GRUB until the guest has reported, mount it again at MNT.
e2e_boot_image() {
	local name=$1 img=$2 mnt=$3 log=$4 rc
	cp "$mnt/boot/grub/qemu-boot.img" "$T/qemu-boot.img" || return 1
	e2e_image_detach "$mnt" || return 1
	e2e_qemu_boot "$name" "$img" "$T/qemu-boot.img" "$log"
	rc=$?
	e2e_image_attach "$img" "$mnt" || return 1
	return $rc
}

# e2e_print_groups LOG — the guest's group listing, with names for the
# topology's devices.
e2e_print_groups() {
	e2e_result_section "$1" groups | awk '
		BEGIN {
			n["1234:1111"] = "VGA (the GPU stand-in)"; n["8086:293e"] = "HD audio (the GPU'"'"'s audio)"
			n["1b36:0010"] = "NVMe"; n["8086:3420"] = "ioh3420 root port"
			n["1b36:000c"] = "PCIe root port"; n["104c:8232"] = "switch upstream port"
			n["104c:8233"] = "switch downstream port"; n["1b36:000e"] = "PCIe-to-PCI bridge"
			n["1b36:0005"] = "PCI test device"; n["8086:25ab"] = "watchdog (conventional PCI)"
			n["1af4:1001"] = "virtio disk"; n["8086:29c0"] = "host bridge"
			n["8086:2918"] = "ICH9 LPC"; n["8086:2922"] = "ICH9 SATA"; n["8086:2930"] = "ICH9 SMBus"
		}
		{
			if (NR == 1 || $1 != last) printf "  group %s\n", $1
			last = $1
			printf "    %s [%s] %s %-4s  %s\n", $2, $3, $4, $5, ($4 in n) ? n[$4] : ""
		}'
}

# e2e_group_count LOG — how many IOMMU groups the guest had.
e2e_group_count() {
	e2e_result_section "$1" groups | awk '{ print $1 }' | sort -u | wc -l
}

# e2e_gpu_group_foreign LOG — the members of the GPU stand-in's group that are
# not the GPU's own functions nor a bridge above it (FIELD-NOTES §7), one per
# line; empty when the GPU is isolated.
e2e_gpu_group_foreign() {
	local g
	g=$(e2e_group_of "$1" "$E2E_GPU_VENDOR_DEVICE")
	[ -n "$g" ] || { echo "no-gpu-group"; return; }
	e2e_group_members "$1" "$g" | awk '$3 !~ /^(0300|0302|0380|0403|0c03|0c80|0604)$/'
}

# e2e_same_group LOG ADDR ADDR — true when both devices are in one group.
e2e_same_group() {
	local a b
	a=$(e2e_result_section "$1" groups | awk -v d="$2" '$2 == d { print $1 }')
	b=$(e2e_result_section "$1" groups | awk -v d="$3" '$2 == d { print $1 }')
	[ -n "$a" ] && [ "$a" = "$b" ]
}

# The topology's pairs (qemu.sh) that a stock kernel puts in one group and the
# override must split: the nvme pair in one slot, the GPU stand-in and the
# nvme behind the other ioh3420 port, the nvme behind each switch port.
E2E_SPLIT_PAIRS="0000:00:02.0,0000:00:02.1 0000:01:00.0,0000:02:00.0 0000:05:00.0,0000:06:00.0"
# The negative control: two conventional PCI devices behind the pcie-pci-bridge.
E2E_BRIDGE_PAIR="0000:08:01.0,0000:08:02.0"

# e2e_check_boots CONTROL_LOG OVERRIDE_LOG — the assertions on the two boots'
# reports, as TAP lines.
e2e_check_boots() {
	local before=$1 after=$2 v foreign pair a b
	v=$(e2e_result_field "$after" cmdline)
	case " $v " in
	*" pcie_acs_override=$E2E_OVERRIDE "*) t_pass "the override boot's /proc/cmdline has pcie_acs_override=$E2E_OVERRIDE" ;;
	*) t_fail "the override boot's /proc/cmdline has pcie_acs_override=$E2E_OVERRIDE" "cmdline: $v" ;;
	esac
	v=$(e2e_result_field "$after" override-line)
	case $v in
	*"PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA"*)
		t_pass "the override boot's kernel log has the override line" ;;
	*) t_fail "the override boot's kernel log has the override line" "found: ${v:-nothing}" ;;
	esac
	v=$(e2e_result_field "$before" cmdline)
	case $v in
	*pcie_acs_override=*) t_fail "the control boot has no pcie_acs_override" "cmdline: $v" ;;
	"") t_fail "the control boot reported its cmdline" ;;
	*) t_pass "the control boot has no pcie_acs_override" ;;
	esac
	if [ "$(e2e_result_field "$before" override-line)" = none ]; then
		t_pass "the control boot's kernel log has no override line"
	else
		t_fail "the control boot's kernel log has no override line"
	fi

	foreign=$(e2e_gpu_group_foreign "$before")
	if [ -n "$foreign" ]; then t_pass "without the override the GPU stand-in shares its group"; else
		t_fail "without the override the GPU stand-in shares its group" "$(e2e_print_groups "$before")"
	fi
	foreign=$(e2e_gpu_group_foreign "$after")
	if [ -z "$foreign" ]; then t_pass "with the override the GPU stand-in's group holds only its own functions"; else
		t_fail "with the override the GPU stand-in's group holds only its own functions" "$foreign"
	fi
	for pair in $E2E_SPLIT_PAIRS; do
		a=${pair%,*} b=${pair#*,}
		if e2e_same_group "$before" "$a" "$b" && ! e2e_same_group "$after" "$a" "$b"; then
			t_pass "$a and $b: one group without the override, split with it"
		else
			t_fail "$a and $b: one group without the override, split with it"
		fi
	done
	# Every group the stock kernel merged has at least one device fewer with
	# the override, except the bridge's and the groups of conventional PCI
	# functions only (q35's own ICH9 functions at 00:1f): the override, like
	# ACS itself, applies to PCI Express devices.
	local g first split=0 merged=0 conventional=0
	for g in $(e2e_shared_groups "$before"); do
		first=$(e2e_group_members "$before" "$g" | awk '{ print $2; exit }')
		e2e_group_members "$before" "$g" | grep -q " ${E2E_BRIDGE_PAIR%,*} " && continue
		if ! e2e_group_members "$before" "$g" | grep -q ' pcie$'; then
			conventional=$((conventional + 1))
			continue
		fi
		merged=$((merged + 1))
		if e2e_group_members "$before" "$g" | awk '{ print $2 }' | while read -r a; do
			e2e_same_group "$after" "$first" "$a" || exit 1
		done; then
			echo "# group $g of the control stays whole with the override:"
			e2e_group_members "$before" "$g" | sed 's/^/#   /'
		else
			split=$((split + 1))
		fi
	done
	if [ "$merged" -gt 0 ] && [ "$split" -eq "$merged" ]; then
		t_pass "every merged group of PCIe devices except the PCI bridge's is split ($split of $merged; $conventional of conventional PCI only)"
	else
		t_fail "every merged group of PCIe devices except the PCI bridge's is split ($split of $merged)"
	fi
	a=${E2E_BRIDGE_PAIR%,*} b=${E2E_BRIDGE_PAIR#*,}
	if e2e_same_group "$before" "$a" "$b" && e2e_same_group "$after" "$a" "$b"; then
		t_pass "negative control: the devices behind the PCIe-to-PCI bridge stay in one group"
	else
		t_fail "negative control: the devices behind the PCIe-to-PCI bridge stay in one group"
	fi

	v=$(e2e_result_field "$before" verify-exit)
	if [ "$v" = 1 ]; then t_pass "acso verify in the control guest exits 1"; else
		t_fail "acso verify in the control guest exits 1" "exit ${v:-none}" "$(e2e_result_section "$before" verify | tail -5)"
	fi
	v=$(e2e_result_field "$after" verify-exit)
	if [ "$v" = 0 ]; then t_pass "acso verify in the override guest exits 0"; else
		t_fail "acso verify in the override guest exits 0" "exit ${v:-none}" "$(e2e_result_section "$after" verify | tail -5)"
	fi
	if e2e_result_section "$after" verify | jq -e . >/dev/null 2>&1; then
		t_pass "acso verify --json in the guest prints JSON"
	else
		t_fail "acso verify --json in the guest prints JSON" "$(e2e_result_section "$after" verify | head -5)"
	fi
}
