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
#     will_run, and why when it would not run.
# kallsyms lines as the kernel prints them to a user without root (addresses
# zeroed); the symbol names are the classic patch's (FIELD-NOTES.md §9).
. "$(dirname "$0")/../lib.sh"

CORPUS=$TOP/tests/grub-corpus
mkdir -p "$T/bin"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/chroot"
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
: >"$T/steps"
t_exit 0 "shared GPU: dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run --json
t_jq "shared GPU: the boot step gets --acs auto" '.acs == "auto" and (.steps[-1].argv | index("--acs=auto"))' "$T/.out"
t_jq "shared GPU: the run names the override and why" '.acs_override == "id:1022:1483" and (.acs_why | test("least invasive"))' "$T/.out"
t_exit 0 "shared GPU: text dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run
t_grep "shared GPU: says which mode it registers and why" '^boot: --acs auto = id:1022:1483: GPU .* shares its IOMMU group' "$T/.err"
t_exit 0 "--acs given: kept" "$ACSO" --work-dir "$T/work-g" run --root "$R2" --dry-run --json --acs multifunction
t_jq "--acs given: the boot step gets it" '.acs == "multifunction" and (.steps[-1].argv | index("--acs=multifunction"))' "$T/.out"
t_exit 0 "isolated GPU: dry run" "$ACSO" --work-dir "$T/work-g" run --root "$R" --dry-run --json
t_jq "no groups: downstream, and why" '.acs == "downstream" and (.acs_why | test("default"))' "$T/.out"

: >"$T/steps"
t_exit 0 "options: run exits 0" "$ACSO" --work-dir "$T/work-o" run --root "$R2" --gpu 03:00.0 --vfio --trim \
	--set CONFIG_X=y --keyring "$T/k.asc" --profile qemu
t_grep "--keyring reaches fetch" "^fetch --keyring=$T/k.asc 6\.1\.192\$" "$T/steps"
t_grep "--profile --trim --set reach config" '^config --source-dir=\S+ --profile=qemu --trim --set=CONFIG_X=y$' "$T/steps"
t_grep "--gpu --vfio reach grub" '^grub --acs=auto --gpu=03:00.0 --vfio' "$T/steps"
t_grep "the boot step registered auto's override and the GPU's ids" 'pcie_acs_override=id:1022:1483 .*vfio-pci.ids=1002:73bf,1002:ab28' "$R2/etc/default/grub.d/99-acso.cfg"
t_done
