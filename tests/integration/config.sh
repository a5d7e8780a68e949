#!/usr/bin/env bash
# acso config on the stand-in tree with a stub make: the base (running
# kernel's through --root, a FILE, tinyconfig), fragments and --set applied
# with untouched lines byte-identical, junk/duplicate/truncated base configs
# reported, the change report, the survival check, --trim's module list
# (loaded modules + PCI modaliases, through --root), --dry-run, bad input.
. "$(dirname "$0")/../lib.sh"

export PATH=$FIXTURES/stub-bin:$PATH
fresh() { rm -rf "$T/k"; cp -R "$FIXTURES/kernel-mini" "$T/k"; }

# A fake machine: running 6.1.0-test with its config in /boot.
R=$T/root
mkdir -p "$R/proc/sys/kernel" "$R/boot" "$R/lib/modules/6.1.0-test" \
	"$R/sys/bus/pci/devices/0000:01:00.0" "$R/sys/bus/pci/devices/0000:02:00.0"
echo 6.1.0-test >"$R/proc/sys/kernel/osrelease"
cat >"$R/boot/config-6.1.0-test" <<'EOF'
#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_PCI=y
# CONFIG_PCI_QUIRKS is not set
CONFIG_SYSTEM_TRUSTED_KEYS="debian/certs/debian-uefi-certs.pem"
CONFIG_NR_CPUS=64
CONFIG_DEBUG_INFO_DWARF5=y
CONFIG_VFIO=y
CONFIG_SND=y
EOF
printf 'snd_hda_intel 57344 0 - Live 0x0\nvfio_pci 16384 0 - Live 0x0\n' >"$R/proc/modules"
echo 'pci:v000010DEd00001E04sv00001458sd000037C4bc03sc00i00' >"$R/sys/bus/pci/devices/0000:01:00.0/modalias"
echo 'pci:v00008086d000015B8sv00001458sd0000E000bc02sc00i00' >"$R/sys/bus/pci/devices/0000:02:00.0/modalias"
cat >"$R/lib/modules/6.1.0-test/modules.alias" <<'EOF'
alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau
alias pci:v00008086d000015B8sv*sd*bc*sc*i* e1000e
alias pci:v00008086d000015B8sv*sd*bc*sc*i* snd-hda-intel
alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio-pci
alias usb:v*p*d*dc*dsc*dp*ic09isc*ip*in* usbcore
EOF

fresh
t_exit 0 "config from the running kernel's config" "$ACSO" --root "$R" config --source-dir "$T/k"
t_grep "base named" "^base: running /boot/config-6.1.0-test$" "$T/.out"
t_grep "change report: symbol old → new (origin: why)" "^  CONFIG_PCI_QUIRKS: n → y \(acso.config:[0-9]+: The override lives in drivers/pci/quirks.c" "$T/.out"
t_grep "certificates emptied" '^  CONFIG_SYSTEM_TRUSTED_KEYS: "debian/certs/debian-uefi-certs.pem" → "" \(acso' "$T/.out"
t_grep "debug info off" "^  CONFIG_DEBUG_INFO_DWARF5: y → n \(acso" "$T/.out"
[ "$(sed -n 4p "$T/.out")" = "on purpose:" ] && t_pass "changes on purpose come first" || t_fail "changes on purpose come first" "$(head -5 "$T/.out")"
t_grep "a fragment's m keeps the base's y, and says so" "^  CONFIG_VFIO: y kept \(vfio.config:[0-9]+: asks at least m\)$" "$T/.out"
t_grep "built-in VFIO stays built in" "^CONFIG_VFIO=y$" "$T/k/.config"
t_grep "olddefconfig then quirks.o" "^make -j2 drivers/pci/quirks.o$" "$T/k/.stub-log"
t_grep "olddefconfig ran" "^make -j2 olddefconfig$" "$T/k/.stub-log"
t_grep "compile check passed" "^compile check: passed$" "$T/.out"
# untouched lines byte-identical, edited ones rewritten in place
head -4 "$T/k/.config" >"$T/head"
head -4 "$R/boot/config-6.1.0-test" | cmp -s - "$T/head" && t_pass "untouched lines byte-identical" || t_fail "untouched lines byte-identical"
sed -n 5p "$T/k/.config" | grep -qx 'CONFIG_PCI_QUIRKS=y' && t_pass "edited line rewritten in place" || t_fail "edited line rewritten in place"
t_grep "fragment symbols appended" '^CONFIG_VFIO_PCI=m$' "$T/k/.config"

# make's own demotions are listed apart, before its other changes
fresh
echo 's/^CONFIG_SND=y/CONFIG_SND=m/' >"$T/k/.stub-olddef-sed"
t_exit 0 "a demotion by olddefconfig" "$ACSO" --root "$R" config --source-dir "$T/k" --no-compile-check
t_grep "demotions have their own heading" "^demoted \(y → m\) by make olddefconfig:$" "$T/.out"
t_grep "the demotion named" "^  CONFIG_SND: y → m$" "$T/.out"

# JSON report (the stub olddefconfig drops a symbol this tree lacks, as make does)
fresh
echo '/CONFIG_64BIT/d' >"$T/k/.stub-olddef-sed"
t_exit 0 "--json" "$ACSO" --root "$R" config --source-dir "$T/k" --json --base running --profile qemu --set CONFIG_NR_CPUS=8
jq -e '.base.kind == "running" and .base.release == "6.1.0-test" and .required_ok == true
	and (.fragments | index("qemu")) and .compile_check.status == "passed"
	and ([.changes[] | select(.symbol == "CONFIG_NR_CPUS" and .old == "64" and .new == "8")] | length == 1)
	and ([.requested[] | select(.symbol == "CONFIG_NR_CPUS" and .origin == "--set")] | length == 1)
	and ([.requested[] | select(.symbol == "CONFIG_PCI_QUIRKS" and (.why | test("quirks.c")))] | length == 1)
	and ([.requested[] | select(.symbol == "CONFIG_AMD_IOMMU" and .want == "y")] | length == 1)' "$T/.out" >/dev/null \
	&& t_pass "JSON report fields" || t_fail "JSON report fields" "$(head -30 "$T/.out")"
jq -e '[.requested[] | select(.status == "unknown")] | length > 0' "$T/.out" >/dev/null \
	&& t_pass "qemu.config symbols this stand-in lacks are 'unknown'" || t_fail "qemu.config symbols this stand-in lacks are 'unknown'"
t_grep "unknown symbols are warned about" "CONFIG_64BIT \(qemu.config:[0-9]+\): this kernel has no such symbol" "$T/.err"

# A profile that names its base (qemu.config: "# acso-base: tinyconfig")
# starts from it when --base is not given, never from the running config.
fresh
t_exit 0 "--profile qemu alone" "$ACSO" --root "$R" config --source-dir "$T/k" --json --profile qemu
jq -e '.base.kind == "tinyconfig"' "$T/.out" >/dev/null \
	&& t_pass "the qemu profile's base is tinyconfig" || t_fail "the qemu profile's base is tinyconfig" "$(head -5 "$T/.out")"

# olddefconfig resets what the override needs: fail, and say so
fresh
echo 's/^CONFIG_PCI_QUIRKS=y/# CONFIG_PCI_QUIRKS is not set/' >"$T/k/.stub-olddef-sed"
t_exit 1 "required setting reset: failure" "$ACSO" --root "$R" config --source-dir "$T/k"
t_grep "which setting, and why" "CONFIG_PCI_QUIRKS: asked y \(acso.config:[0-9]+\), got n: its dependencies are not met" "$T/.err"
t_grep "failure explained" "settings the override needs were reset by olddefconfig" "$T/.err"
t_nogrep "no compile check after that" "quirks.o" "$T/k/.stub-log"

# --trim: loaded modules plus the modules of present PCI devices
fresh
t_exit 0 "--trim" "$ACSO" --root "$R" config --source-dir "$T/k" --trim
t_grep "trim says how many modules it kept" "^trim: kept 4 modules \(2 loaded now, 2 more for the 2 PCI devices present\)$" "$T/.out"
t_grep "localmodconfig got the list" "^nouveau " "$T/k/.stub-lsmod"
t_grep "names as lsmod writes them" "^snd_hda_intel " "$T/k/.stub-lsmod"
t_nogrep "modules of absent devices are not kept" "virtio" "$T/k/.stub-lsmod"
t_grep "localmodconfig before olddefconfig" "^make -j2 localmodconfig$" "$T/k/.stub-log"

# --trim under a kernel built without module support (no /proc/modules): no
# module kept, said plainly; not a failure.
fresh
mv "$R/proc/modules" "$T/modules.save"
t_exit 0 "--trim with no /proc/modules" "$ACSO" --root "$R" config --source-dir "$T/k" --trim
t_grep "no modules: said in the report" "^trim: kept no module \(the running kernel has no loadable modules\)$" "$T/.out"
t_grep "no modules: warned, with the consequence" "has no loadable modules \(no /proc/modules\): the trimmed config keeps no module" "$T/.err"
[ "$(grep -cv '^Module ' "$T/k/.stub-lsmod")" = 0 ] && t_pass "no modules: localmodconfig got an empty list" || t_fail "no modules: empty list" "$(cat "$T/k/.stub-lsmod")"
t_exit 0 "--trim with no /proc/modules --json" "$ACSO" --root "$R" config --source-dir "$T/k" --trim --json
jq -e '.trim.running_kernel_has_modules == false and .trim.modules_kept == 0' "$T/.out" >/dev/null \
	&& t_pass "no modules: JSON says so" || t_fail "no modules: JSON says so" "$(jq .trim "$T/.out")"
mv "$T/modules.save" "$R/proc/modules"

# bases
fresh
printf 'CONFIG_PCI=y\nCONFIG_PCI=m\nsome junk here\nCONFIG_NR_CPUS=4' >"$T/base.config"
cp "$T/base.config" "$T/base.orig"
t_exit 0 "--base FILE with problems" "$ACSO" config --source-dir "$T/k" --base "$T/base.config" --no-compile-check
t_grep "duplicate reported" "base.config:2: CONFIG_PCI assigned again \(was y, now m; the last one counts\)" "$T/.err"
t_grep "junk reported" "base.config:3: not a config line: 'some junk here'" "$T/.err"
t_grep "truncation reported" "base.config:4: the last line has no newline \(a truncated file\?\)" "$T/.err"
cmp -s "$T/base.config" "$T/base.orig" && t_pass "the base file itself is not modified" || t_fail "the base file itself is not modified"
t_grep "junk kept, not silently dropped" "^some junk here$" "$T/k/.config"
t_grep "compile check skipped on request" "^compile check: skipped: --no-compile-check$" "$T/.out"
t_exit 0 "--base tinyconfig" "$ACSO" config --source-dir "$T/k" --base tinyconfig --no-compile-check
t_grep "tinyconfig made by make" "^make -j2 tinyconfig$" "$T/k/.stub-log"
t_grep "tinyconfig base named" "^base: tinyconfig$" "$T/.out"

# dry run writes nothing and runs no make
fresh
t_exit 0 "--dry-run" "$ACSO" --root "$R" config --source-dir "$T/k" --dry-run
[ ! -e "$T/k/.config" ] && [ ! -e "$T/k/.stub-log" ] && t_pass "--dry-run: no .config, no make" || t_fail "--dry-run: no .config, no make"
t_grep "--dry-run reports the planned changes" "^  CONFIG_PCI_QUIRKS: n → y \(" "$T/.out"

# bad input
t_exit 1 "unknown profile" "$ACSO" --root "$R" config --source-dir "$T/k" --profile nope
t_grep "unknown profile hint" "hint: profiles are the files kconfig/NAME.config" "$T/.err"
fresh
printf 'CONFIG_PCI=y\n' >"$T/k/.config"
chmod 0444 "$T/k/.config"
t_exit 1 "read-only .config is not replaced" "$ACSO" --root "$R" config --source-dir "$T/k"
t_grep "read-only .config named" "\.config' is read-only" "$T/.err"
[ "$(cat "$T/k/.config")" = CONFIG_PCI=y ] && [ ! -e "$T/k/.stub-log" ] && t_pass "read-only .config untouched" || t_fail "read-only .config untouched"
chmod 0644 "$T/k/.config"
# a profile fragment with junk: refused before the tree is touched
mkdir -p "$T/data"
cp -R "$TOP/patches" "$TOP/kconfig" "$T/data/"
printf 'CONFIG_PCI=y\nthis is not kconfig\n' >"$T/data/kconfig/broken.config"
fresh
ACSO_DATADIR=$T/data t_exit 1 "junk in a fragment fails" "$ACSO" --root "$R" config --source-dir "$T/k" --profile broken
t_grep "junk line named" "broken.config:2: not a config line: 'this is not kconfig'" "$T/.err"
[ ! -e "$T/k/.config" ] && [ ! -e "$T/k/.stub-log" ] && t_pass "broken fragment: nothing written, no make" || t_fail "broken fragment: nothing written, no make"
t_exit 2 "bad profile name" "$ACSO" config --source-dir "$T/k" --profile ../x
t_exit 2 "--set without a value" "$ACSO" config --source-dir "$T/k" --set CONFIG_X
t_exit 2 "--set with a bad value" "$ACSO" config --source-dir "$T/k" --set 'CONFIG_X=yes please'
t_exit 1 "missing base file" "$ACSO" config --source-dir "$T/k" --base "$T/none.config"
t_exit 1 "binary base file" "$ACSO" config --source-dir "$T/k" --base /bin/sh
t_grep "binary base explained" "NUL byte" "$T/.err"
# no /boot config: /proc/config.gz
mkdir -p "$T/gzroot/proc/sys/kernel"
echo 6.1.0-gz >"$T/gzroot/proc/sys/kernel/osrelease"
printf 'CONFIG_PCI=y\nCONFIG_NR_CPUS=2\n' | gzip -c >"$T/gzroot/proc/config.gz"
fresh
t_exit 0 "base from /proc/config.gz" "$ACSO" --root "$T/gzroot" config --source-dir "$T/k" --no-compile-check
t_grep "config.gz named as the base" "^base: running /proc/config.gz$" "$T/.out"
t_grep "config.gz content used" "^CONFIG_NR_CPUS=2$" "$T/k/.config"
printf 'not gzip' >"$T/gzroot/proc/config.gz"
t_exit 1 "corrupt /proc/config.gz fails" "$ACSO" --root "$T/gzroot" config --source-dir "$T/k"
mkdir -p "$T/empty-root/proc"
t_exit 1 "no running config" "$ACSO" --root "$T/empty-root" config --source-dir "$T/k"
t_exit 1 "not a kernel tree" "$ACSO" config --source-dir "$T"
t_grep "not a kernel tree explained" "is not a kernel source tree" "$T/.err"
fresh
touch "$T/k/.stub-cc-fail"
t_exit 1 "compile failure fails config" "$ACSO" --root "$R" config --source-dir "$T/k"
t_grep "compile failure quoted" "error: expected ';'" "$T/.out"

t_done
