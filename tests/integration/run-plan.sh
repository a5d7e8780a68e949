#!/usr/bin/env bash
# What `acso run` plans before any step runs (stubbed steps,
# tests/integration/stubs/acso-steps, the real `acso grub` as the boot step):
#   - a running kernel that carries the override (its /proc/kallsyms names
#     the patch's symbols, as on Proxmox VE's -pve kernels): no kernel is
#     made (resolve ... install do not run), the parameters are registered,
#     the run says why; --build builds anyway; a kallsyms that names the
#     symbols only for a module, or a stock kernel's, builds;
#   - the System.map of the running release when kallsyms tells nothing;
#   - a GPU that shares its group: the boot step gets --acs auto (the least
#     invasive override `acso groups` computes) and the run says which;
#   - run's --gpu --vfio --trim --set --keyring --profile reach their steps;
#   - --dry-run --json: one valid JSON document, every step with its name,
#     will_run, and why when it would not run;
#   - progress: a step's "acso-progress:" lines (what a real step writes
#     under acso run: acso build's, with its phase label) shown as plain
#     lines when stderr is no tty, with the step's log; Ctrl-C (SIGINT to
#     the process group) ends the run, records the step, says how to resume.
# kallsyms lines as the kernel prints them to a user without root (addresses
# zeroed); the symbol names are the classic patch's (FIELD-NOTES.md §9).
. "$(dirname "$0")/../lib.sh"

CORPUS=$TOP/tests/grub-corpus
mkdir -p "$T/bin"
# chroot: the commands acso runs in the root (update-grub, grub-reboot),
# recorded, never run.
printf '#!/bin/sh\necho "$*" >>"%s/calls"\nexit 0\n' "$T" >"$T/bin/chroot"
chmod +x "$T/bin/chroot"
export PATH=$T/bin:$PATH
export ACSO_RUN_STEP_PROGRAM=$TOP/tests/integration/stubs/acso-steps REAL_ACSO=$ACSO STUB_LOG=$T/steps
unset STUB_SLEEP STUB_FAIL

# mkroot DIR [FIXTURE] — a Debian 12 GRUB root, with FIXTURE's sys/ and proc/
mkroot() {
	rm -rf "$1"
	mkdir -p "$1/proc/sys/kernel" "$1/usr/sbin" "$1/boot"
	[ -n "${2:-}" ] && cp -a "$TOP/tests/fixtures/$2/." "$1/"
	cp -a "$CORPUS/debian-12/." "$1/"
	printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"
	echo 6.8.12-4-pve >"$1/proc/sys/kernel/osrelease"
	touch "$1/usr/sbin/update-grub"
}
steps() { cut -d' ' -f1 "$T/steps" | tr '\n' ' '; }
KERNEL_SYMS='0000000000000000 T pci_dev_specific_acs_enabled
0000000000000000 T pci_dev_specific_reset'
PATCH_SYMS='0000000000000000 t pcie_acs_override_setup
0000000000000000 d pcie_acs_overrides
0000000000000000 b acs_on_downstream'

# ---- a kernel that carries the override --------------------------------------
R=$T/root W=$T/work
mkroot "$R"
printf '%s\n%s\n' "$KERNEL_SYMS" "$PATCH_SYMS" >"$R/proc/kallsyms"
: >"$T/steps"
t_exit 0 "supported kernel: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
[ "$(steps)" = "snapshot grub " ] && t_pass "supported kernel: only snapshot and grub run, nothing is built" ||
	t_fail "supported kernel: only snapshot and grub run" "$(cat "$T/steps")"
t_grep "supported kernel: says why, with the evidence" "6.8.12-4-pve already carries the ACS override \(/proc/kallsyms names the patch's symbol pcie_acs_" "$T/.err"
t_grep "supported kernel: the parameter is registered" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
t_grep "supported kernel: next is a reboot into the same kernel" "^Next: reboot, then run 'acso verify'" "$T/.out"
: >"$T/steps"
t_exit 0 "supported kernel, --build: run exits 0" "$ACSO" --work-dir "$T/work-b" run --root "$R" --build
[ "$(steps)" = "resolve fetch patch config build snapshot install grub " ] && t_pass "--build builds anyway" ||
	t_fail "--build builds anyway" "$(cat "$T/steps")"

# the patch's symbols in a module's list only: not proof, the run builds
printf '%s\n' "$KERNEL_SYMS" >"$R/proc/kallsyms"
sed 's/$/\t[acs_mod]/' <<<"$PATCH_SYMS" >>"$R/proc/kallsyms"
: >"$T/steps"
t_exit 0 "module symbols only: run exits 0" "$ACSO" --work-dir "$T/work-m" run --root "$R"
[ "$(steps)" = "resolve fetch patch config build snapshot install grub " ] && t_pass "module symbols only: the run builds" ||
	t_fail "module symbols only: the run builds" "$(cat "$T/steps")"
t_nogrep "module symbols only: no claim of support" 'already carries' "$T/.err"

# a stock kernel's full list, and the System.map fallback
printf '%s\n' "$KERNEL_SYMS" >"$R/proc/kallsyms"
t_exit 0 "stock kernel: dry run" "$ACSO" --work-dir "$T/work-s" run --root "$R" --dry-run --json
t_jq "stock kernel: every step would run" '.register_only == false and ([.steps[] | select(.will_run)] | length) == 8' "$T/.out"
: >"$R/proc/kallsyms"
printf '%s\n%s\n' "$KERNEL_SYMS" "$PATCH_SYMS" >"$R/boot/System.map-6.8.12-4-pve"
t_exit 0 "System.map: dry run" "$ACSO" --work-dir "$T/work-s" run --root "$R" --dry-run --json
t_jq "System.map of the running release proves support" '.register_only and (.register_only_why | test("System.map-6.8.12-4-pve"))' "$T/.out"

# ---- --dry-run --json: one document, every step -----------------------------
t_exit 0 "dry run --json exits 0" "$ACSO" --work-dir "$T/work-d" run --root "$R" --dry-run --json
t_jq "dry run --json: stdout is one JSON document" -s 'length == 1' "$T/.out"
t_jq "dry run --json: every step, in order, with name and will_run" \
	'[.steps[].name] == ["resolve","fetch","patch","config","build","snapshot","install","grub"] and all(.steps[]; (.will_run | type) == "boolean")' "$T/.out"
t_jq "dry run --json: a step that would not run says why" \
	'all(.steps[]; .will_run or (.why | type == "string" and length > 0))' "$T/.out"
t_jq "dry run --json: snapshot and grub would run, with their argv" \
	'[.steps[] | select(.will_run) | .name] == ["snapshot","grub"] and all(.steps[] | select(.will_run); .argv | length > 3)' "$T/.out"
rm -f "$R/boot/System.map-6.8.12-4-pve"
t_exit 0 "dry run --json of a build: exits 0" "$ACSO" --work-dir "$T/work-d" run --root "$R" --dry-run --json --only resolve
t_jq "dry run --json --only: the other steps say why not" \
	'([.steps[] | select(.will_run) | .name] == ["resolve"]) and ([.steps[] | select(.will_run | not) | .why] | all(test("--only")))' "$T/.out"

# ---- the override mode, and run's options reaching their steps --------------
R2=$T/root2
mkroot "$R2" amd-chipset-shared
printf '%s\n' "$KERNEL_SYMS" >"$R2/proc/kallsyms"
# Secure Boot off: with it on the boot step is a one-time boot (the Secure
# Boot section below), which needs the grub.cfg this root does not have.
rm -f "$R2"/sys/firmware/efi/efivars/SecureBoot-*
: >"$T/steps"
t_exit 0 "shared GPU: dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run --json
t_jq "shared GPU: the boot step gets --acs auto" '.acs == "auto" and (.steps[] | select(.name == "grub") | .argv | index("--acs=auto"))' "$T/.out"
t_jq "shared GPU: the run names the override and why" '.acs_override == "id:1022:1483" and (.acs_why | test("least invasive"))' "$T/.out"
t_exit 0 "shared GPU: text dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run
t_grep "shared GPU: says which mode it registers and why" '^boot: --acs auto = id:1022:1483: GPU .* shares its IOMMU group' "$T/.err"
t_exit 0 "--acs given: kept" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run --json --acs multifunction
t_jq "--acs given: the boot step gets it" '.acs == "multifunction" and (.steps[] | select(.name == "grub") | .argv | index("--acs=multifunction"))' "$T/.out"
t_exit 0 "isolated GPU: dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R" --dry-run --json
t_jq "no groups: downstream, and why" '.acs == "downstream" and (.acs_why | test("default"))' "$T/.out"

: >"$T/steps"
t_exit 0 "options: run exits 0" "$ACSO" --work-dir "$T/work-o" run --root "$R2" --gpu 03:00.0 --vfio --trim \
	--set CONFIG_X=y --keyring "$T/k.asc" --profile qemu
t_grep "--keyring reaches fetch" "^fetch --keyring=$T/k.asc 6\.1\.192\$" "$T/steps"
t_grep "--profile --trim --set reach config" '^config --source-dir=\S+ --profile=qemu --trim --set=CONFIG_X=y$' "$T/steps"
t_grep "--gpu --vfio reach grub" '^grub --acs=auto --gpu=03:00.0 --vfio' "$T/steps"
t_grep "--vfio: acso vfio runs last, for the new kernel and the GPU" '^vfio --kernel=6.1.192-acso 03:00.0$' "$T/steps"
t_ok "--vfio: the vfio step is the last" test "$(tail -1 "$T/steps" | cut -d" " -f1)" = vfio
t_grep "the boot step registered auto's override and the GPU's ids" 'pcie_acs_override=id:1022:1483 .*vfio-pci.ids=1002:73bf,1002:ab28' "$R2/etc/default/grub.d/99-acso.cfg"

# ---- progress ------------------------------------------------------------------
: >"$T/steps"
STUB_PROGRESS=1 t_exit 0 "progress: run exits 0" "$ACSO" --work-dir "$T/work-p" run --root "$R" --only resolve
t_grep "progress: a plain line per step when stderr is no tty" '^    resolve: compile 10/~100 objects  0:05  ETA 0:45$' "$T/.err"
t_grep "progress: the step's log is named" "^    log: $T/work-p/logs/auto/resolve.log\$" "$T/.err"
t_nogrep "progress: no redrawn line when stderr is no tty" $'\r' "$T/.err"
t_nogrep "progress: the child's raw lines are not shown" 'acso-progress:' "$T/.err"
STUB_PROGRESS=1 t_exit 0 "progress: --json" "$ACSO" --work-dir "$T/work-p" run --root "$R" --only resolve --json
t_nogrep "progress: nothing of it with --json" 'compile 10' "$T/.err"

# what a real step writes: acso build (a stub make that prints kbuild lines)
mkdir -p "$T/mk" "$T/src/linux-6.1.192"
cp "$TOP/tests/stubs/make" "$T/mk/"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = x\n' >"$T/src/linux-6.1.192/Makefile"
printf 'CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_LOCALVERSION=""\n' >"$T/src/linux-6.1.192/.config"
PATH=$T/mk:$PATH ACSO_PROGRESS_LINES=1 t_exit 0 "a step under run: acso build exits 0" \
	"$ACSO" --work-dir "$T/work-k" build --source-dir "$T/src/linux-6.1.192" --allow-root --json
t_grep "a step under run: acso build writes progress lines, labelled compile while compiling" \
	'^acso-progress: build: compile +[0-9]+/~[0-9]+ objects' "$T/.err"
[ "$(grep '^acso-progress:' "$T/.err" | awk '{print $3}' | uniq | tr '\n' ' ')" = "prepare compile link modules package " ] &&
	t_pass "a step under run: the phases in order, each shown as it starts" ||
	t_fail "a step under run: prepare compile link modules package" "$(grep '^acso-progress' "$T/.err")"
PATH=$T/mk:$PATH t_exit 0 "without acso run: no progress lines" \
	"$ACSO" --work-dir "$T/work-k" build --source-dir "$T/src/linux-6.1.192" --allow-root --json
t_nogrep "without acso run: no progress lines on a non-tty" 'acso-progress' "$T/.err"

# ---- Secure Boot on: the new kernel is never made the default -------------
# (issue 13) The install step signed it; the boot step boots it once
# (grub-reboot) with GRUB_DEFAULT=saved, so a kernel shim refuses falls back
# to the old one; the run says to reboot only when the MOK is enrolled.
R3=$T/root3
mkroot "$R3" amd-chipset-shared
printf '%s\n' "$KERNEL_SYMS" >"$R3/proc/kallsyms"
t_grub_cfg "$R3/boot/grub/grub.cfg" 1234 6.1.192-acso 6.8.12-4-pve
"$ACSO" check --root "$R3" --json >"$T/sb-check.json" 2>/dev/null
t_jq "Secure Boot: the root's efivars say it is on" '[.. | objects | select(.id? == "secure_boot") | .summary | startswith("on")] == [true]' "$T/sb-check.json"
: >"$T/steps"
: >"$T/calls"
STUB_INSTALL_SIGNED=enrolled t_exit 0 "Secure Boot, MOK enrolled: run exits 0" "$ACSO" --work-dir "$T/work-sb" run --root "$R3"
t_grep "Secure Boot: the boot step boots the new kernel once" '^grub .*--once=6\.1\.192-acso .*--set-default-saved' "$T/steps"
t_grep "Secure Boot: grub-reboot names the new kernel's entry" "^$R3 grub-reboot gnulinux-advanced-1234>gnulinux-6.1.192-acso-advanced-1234\$" "$T/calls"
t_nogrep "Secure Boot: the new kernel is not made the default (no grub-set-default)" 'grub-set-default' "$T/calls"
t_grep "Secure Boot: GRUB_DEFAULT=saved keeps the old default" '^GRUB_DEFAULT=saved$' "$R3/etc/default/grub.d/99-acso.cfg"
t_grep "Secure Boot, MOK enrolled: next is the reboot into it" "^Next: reboot into 6.1.192-acso, then run 'acso verify'" "$T/.out"
mkroot "$R3" amd-chipset-shared
printf '%s\n' "$KERNEL_SYMS" >"$R3/proc/kallsyms"
t_grub_cfg "$R3/boot/grub/grub.cfg" 1234 6.1.192-acso 6.8.12-4-pve
STUB_INSTALL_SIGNED="not enrolled" t_exit 0 "Secure Boot, MOK not enrolled: run exits 0" "$ACSO" --work-dir "$T/work-sb2" run --root "$R3"
t_grep "Secure Boot, MOK not enrolled: says not to reboot yet" '^Not yet: the MOK that signed the kernel is not enrolled; do not reboot into it before it is:' "$T/.out"
t_grep "Secure Boot, MOK not enrolled: names acso sign" '^  sudo acso sign 6\.1\.192-acso ' "$T/.out"
t_nogrep "Secure Boot, MOK not enrolled: no 'Next: reboot'" '^Next: reboot' "$T/.out"

# Ctrl-C: SIGINT to the run's process group while a step runs
W5=$T/work-i
# (env --default-signal: a background job starts with SIGINT ignored)
STUB_SLEEP=30 setsid -w env --default-signal=INT "$ACSO" --work-dir "$W5" run --root "$R" --only resolve >"$T/i.out" 2>"$T/i.err" &
spid=$!
t_track_pid "$spid"
for _ in $(seq 100); do [ "$(jq -r .steps.resolve.state "$W5/state/auto.json" 2>/dev/null)" = running ] && break; sleep 0.1; done
sleep 0.3
apid=$(grep -o '[0-9]\+' "$W5/state/lock" | head -1)
pgid=$(ps -o pgid= -p "$apid" | tr -d ' ')
[ -n "$pgid" ] && [ "$pgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ] && kill -INT -- "-$pgid"
wait "$spid"
rc=$?
[ "$rc" = 130 ] && t_pass "Ctrl-C: the run ends with 130" || t_fail "Ctrl-C: the run ends with 130" "exit $rc" "$(cat "$T/i.err")"
t_grep "Ctrl-C: says which step" "interrupted \(Interrupt\) in step 'resolve'" "$T/i.err"
t_grep "Ctrl-C: says how to resume" "run 'acso run' again: it resumes at 'resolve'" "$T/i.err"
t_jq "Ctrl-C: the step is recorded as interrupted" '.steps.resolve.state == "failed" and .steps.resolve.exit == "was interrupted"' "$W5/state/auto.json"
t_done
