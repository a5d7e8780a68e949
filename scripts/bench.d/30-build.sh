#!/usr/bin/env bash
# scripts/bench.d/30-build.sh — what acso adds to a kernel build, and what
# --trim saves.
#
# 1. `acso build` against a plain `make -j2 bindeb-pkg` on the same tree and
#    config (Debian's linux-source-6.1, the qemu profile), each from a clean
#    tree, alternating, BENCH_ROUNDS times (default 1). Target: ratio <= 1.03.
# 2. Objects a build compiles (kbuild's "CC" and "CC [M]" lines) with the
#    running-kernel config (Debian's 6.1 config through `acso config`) versus
#    the same with `acso config --trim` (this machine's modules), COUNTED with
#    `make -n -k vmlinux modules` on a clean tree: kbuild's recursive makes
#    still run under -n, each object's compile is printed, nothing is built.
#    The count leaves out the per-module .mod.o stubs and the few objects
#    behind a header generated at build time (make -k reports those; the
#    number of such targets is printed). The method is checked in the same
#    run: make -n on the qemu profile against the objects the real `acso
#    build` of part 1 compiled.
#
# Env: ACSO (default ./acso), BENCH_DIR (scratch, default a temp dir, removed
# at the end), BENCH_ROUNDS. Needs linux-source-6.1 and linux-config-6.1.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ACSO=${ACSO:-$top/acso}
rounds=${BENCH_ROUNDS:-1}
own=0
if [ -z "${BENCH_DIR:-}" ]; then BENCH_DIR=$(mktemp -d /var/tmp/acso-bench.XXXXXX); own=1; fi
cleanup() { [ $own = 1 ] && rm -rf "$BENCH_DIR"; return 0; }
trap cleanup EXIT
src=$BENCH_DIR/linux-source-6.1
[ -d "$src" ] || tar -C "$BENCH_DIR" -xJf /usr/src/linux-source-6.1.tar.xz
frag=$top/kconfig/qemu.config
if [ ! -r "$frag" ]; then
	frag=$BENCH_DIR/qemu.frag
	printf 'CONFIG_%s=y\n' 64BIT ACPI PCI PCI_MSI PCI_MMCONFIG PCI_QUIRKS PCIEPORTBUS IOMMU_SUPPORT \
		INTEL_IOMMU IRQ_REMAP X86_X2APIC PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD \
		BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS MODULES VFIO VFIO_PCI >"$frag"
fi
(cd "$src" && make -s tinyconfig && ./scripts/kconfig/merge_config.sh -m .config "$frag" && make -s olddefconfig) >/dev/null 2>&1
cp "$src/.config" "$BENCH_DIR/qemu.config"

clean_tree() { (cd "$src" && make -s distclean >/dev/null 2>&1; cp "$BENCH_DIR/qemu.config" .config; rm -f ../*.deb ../*.buildinfo ../*.changes); }
now() { date +%s.%N; }
# count_objects NAME — objects make -n says a build of the tree's .config
# compiles; the targets make -k could not follow go to NAME.missed.
count_objects() {
	(cd "$src" && make -s olddefconfig >/dev/null 2>&1 &&
		make -n -k -j2 vmlinux modules 2>"$BENCH_DIR/$1.err" >"$BENCH_DIR/$1.n") || true
	grep -c "No rule to make target" "$BENCH_DIR/$1.err" >"$BENCH_DIR/$1.missed" || true
	grep -o "echo '  CC " "$BENCH_DIR/$1.n" | wc -l
}
clean_tree
qemu_counted=$(count_objects qemu)
plain_total=0 acso_total=0
for i in $(seq 1 "$rounds"); do
	clean_tree
	t0=$(now)
	(cd "$src" && nice make -j2 bindeb-pkg LOCALVERSION=-acso KDEB_PKGVERSION=6.1.192-acso-$i >"$BENCH_DIR/plain-$i.log" 2>&1)
	t1=$(now)
	clean_tree
	t1b=$(now)
	nice "$ACSO" --work-dir "$BENCH_DIR/work" -q build --allow-root --jobs 2 --source-dir "$src" --json >"$BENCH_DIR/acso-$i.json"
	t2=$(now)
	plain_total=$(echo "$plain_total + $t1 - $t0" | bc)
	acso_total=$(echo "$acso_total + $t2 - $t1b" | bc)
	printf 'build round %d: plain make %.1f s, acso build %.1f s\n' "$i" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1b" | bc)"
done
ratio=$(echo "scale=3; $acso_total / $plain_total" | bc)
printf 'build: acso build / plain make -j2 bindeb-pkg = %s (target <= 1.03; %d round(s), same tree and config)\n' "$ratio" "$rounds"

qemu_built=$(jq -r .objects "$BENCH_DIR/acso-$rounds.json")
plain_built=$(grep -c '^  CC ' "$BENCH_DIR/plain-$rounds.log" || true)
printf 'objects, method check (qemu profile): make -n counts %s; the real builds compiled %s (acso build) and %s (plain make)\n' \
	"$qemu_counted" "$qemu_built" "$plain_built"

# Objects: Debian's 6.1 config through acso config, then with --trim.
dcfg=/usr/src/linux-config-6.1/config.amd64_none_amd64.xz
if [ ! -r "$dcfg" ]; then
	echo "objects: $dcfg is missing (apt-get install linux-config-6.1)"
	exit 1
fi
xz -dc "$dcfg" >"$BENCH_DIR/debian.config"
clean_tree
"$ACSO" --work-dir "$BENCH_DIR/w2" config --source-dir "$src" --base "$BENCH_DIR/debian.config" --no-compile-check >/dev/null 2>&1
full=$(count_objects full)
clean_tree
"$ACSO" --work-dir "$BENCH_DIR/w2" config --source-dir "$src" --base "$BENCH_DIR/debian.config" --trim \
	--no-compile-check --json 2>/dev/null >"$BENCH_DIR/trim.json"
trim=$(count_objects trim)
kept=$(jq -r 'if .trim.running_kernel_has_modules then "\(.trim.modules_kept) modules kept (\(.trim.loaded) loaded, \(.trim.from_pci) for PCI devices)" else "no module kept: the running kernel has no loadable modules" end' "$BENCH_DIR/trim.json")
printf 'objects (counted with make -n): Debian 6.1 config %s, with --trim %s: %.1fx fewer (%s; targets make -k could not follow: %s and %s)\n' \
	"$full" "$trim" "$(echo "scale=2; $full / $trim" | bc)" "$kept" "$(cat "$BENCH_DIR/full.missed")" "$(cat "$BENCH_DIR/trim.missed")"
