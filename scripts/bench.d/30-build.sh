#!/usr/bin/env bash
# scripts/bench.d/30-build.sh — what acso adds to a kernel build, and what
# --trim saves.
#
# 1. `acso build` against a plain `make -j2 bindeb-pkg` on the same tree and
#    config (Debian's linux-source-6.1, the qemu profile), each from a clean
#    tree, alternating, BENCH_ROUNDS times (default 1). Target: ratio <= 1.03.
# 2. Objects a build compiles with the running-kernel config (Debian's 6.1
#    config) versus the same after `acso config --trim`: estimated from each
#    config by `acso build --dry-run --json` (objects_estimate, calibrated on
#    the qemu profile: 536 symbols -> 968 objects measured).
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
plain_total=0 acso_total=0
for i in $(seq 1 "$rounds"); do
	clean_tree
	t0=$(now)
	(cd "$src" && nice make -j2 bindeb-pkg LOCALVERSION=-acso KDEB_PKGVERSION=6.1.192-acso-$i >"$BENCH_DIR/plain-$i.log" 2>&1)
	t1=$(now)
	clean_tree
	nice "$ACSO" --work-dir "$BENCH_DIR/work" -q build --allow-root --jobs 2 --source-dir "$src" >/dev/null
	t2=$(now)
	plain_total=$(echo "$plain_total + $t1 - $t0" | bc)
	acso_total=$(echo "$acso_total + $t2 - $t1" | bc)
	printf 'build round %d: plain make %.1f s, acso build %.1f s\n' "$i" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
done
ratio=$(echo "scale=3; $acso_total / $plain_total" | bc)
printf 'build: acso build / plain make -j2 bindeb-pkg = %s (target <= 1.03; %d round(s), same tree and config)\n' "$ratio" "$rounds"

# Objects: Debian's 6.1 config versus --trim.
dcfg=$(ls /usr/src/linux-config-6.1/config.amd64_none_amd64.xz 2>/dev/null || true)
if [ -z "$dcfg" ]; then
	echo "objects: /usr/src/linux-config-6.1 is not installed (apt-get install linux-config-6.1)"
	exit 0
fi
clean_tree
xz -dc "$dcfg" >"$src/.config"
(cd "$src" && make -s olddefconfig >/dev/null 2>&1)
full=$("$ACSO" --work-dir "$BENCH_DIR/w2" build --allow-root --dry-run --json --source-dir "$src" | jq -r .objects_estimate)
if "$ACSO" config --list-options 2>/dev/null | grep -q -- '--trim'; then
	xz -dc "$dcfg" >"$BENCH_DIR/debian.config"
	"$ACSO" --work-dir "$BENCH_DIR/w2" config --source-dir "$src" --base "$BENCH_DIR/debian.config" --trim --no-compile-check >/dev/null
	trim=$("$ACSO" --work-dir "$BENCH_DIR/w2" build --allow-root --dry-run --json --source-dir "$src" | jq -r .objects_estimate)
	printf 'objects (estimated): Debian 6.1 config %s, with --trim %s (%.1fx fewer)\n' "$full" "$trim" "$(echo "scale=2; $full / $trim" | bc)"
else
	printf 'objects (estimated): Debian 6.1 config %s; --trim: acso config --trim is not in this build (patch branch)\n' "$full"
fi
