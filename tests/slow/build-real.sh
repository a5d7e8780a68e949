#!/usr/bin/env bash
# A REAL `acso build` of Debian's 6.1 source with the qemu profile (the
# tinyconfig-based config of FIELD-NOTES §8): linux-image and linux-headers
# for 6.1.N-acso listed with their hashes; their install into a throwaway
# root (dpkg --root) with vmlinuz and the modules directory landing there;
# then a rebuild after touching drivers/pci/quirks.c through a distccd on
# 127.0.0.1, whose log shows the jobs went through distcc. One tree, one
# full build (about 3-5 minutes on 2 cores).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"
PATH=${PATH#"$T/bin:"} # the real make, not the stub

TARBALL=/usr/src/linux-source-6.1.tar.xz
[ -r "$TARBALL" ] || { t_fail "needs $TARBALL (apt-get install linux-source-6.1)"; t_done; }
for p in distcc distccd dpkg-deb busybox; do
	command -v "$p" >/dev/null || t_fail "needs $p (scripts/install-deps)"
done
mkdir -p "$T/src"
tar -C "$T/src" -xJf "$TARBALL"
K=$T/src/linux-source-6.1
# The qemu profile: kconfig/qemu.config when the tree has it, else the same
# symbols inline (FIELD-NOTES §8).
FRAG=$TOP/kconfig/qemu.config
if [ ! -r "$FRAG" ]; then
	FRAG=$T/qemu.frag
	printf 'CONFIG_%s=y\n' 64BIT ACPI PCI PCI_MSI PCI_MMCONFIG PCI_QUIRKS PCIEPORTBUS IOMMU_SUPPORT \
		INTEL_IOMMU IRQ_REMAP X86_X2APIC PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD \
		BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS MODULES VFIO VFIO_PCI >"$FRAG"
fi
(cd "$K" && make -s tinyconfig && ./scripts/kconfig/merge_config.sh -m .config "$FRAG" && make -s olddefconfig) >"$T/config.log" 2>&1 \
	&& t_pass "qemu profile configured" || t_fail "qemu profile configured" "$(tail -5 "$T/config.log")"

start=$SECONDS
t_exit 0 "a real acso build of the 6.1 tree" nice "$ACSO" --work-dir "$W" build --allow-root --source-dir "$K" --json
echo "# build took $((SECONDS - start)) s"
cp "$T/.out" "$T/build.json"
rel=$(jq -r .release "$T/build.json")
case $rel in 6.1.*-acso) t_pass "release is 6.1.N-acso ($rel)" ;; *) t_fail "release is 6.1.N-acso" "$rel" ;; esac
for p in image headers; do
	f=$(jq -r --arg p "linux-$p-$rel" '.packages[] | select(.package == $p) | .file' "$T/build.json")
	h=$(jq -r --arg p "linux-$p-$rel" '.packages[] | select(.package == $p) | .sha256' "$T/build.json")
	if [ -n "$f" ] && [ "$(sha256sum "$W/build/$rel/$f" | cut -d' ' -f1)" = "$h" ]; then
		t_pass "linux-$p-$rel built and listed with its SHA-256"
	else
		t_fail "linux-$p-$rel built and listed with its SHA-256" "$(cat "$T/build.json")"
	fi
done
[ "$(jq -r .objects "$T/build.json")" -gt 500 ] && t_pass "objects counted from the build output" || t_fail "objects counted"
t_grep "the log has the whole make output" '^  LD      vmlinux' "$(jq -r .log "$T/build.json")"

# Install into a throwaway root through dpkg --root.
R=$T/root
mkroot "$R"
t_exit 0 "install of the built packages into a throwaway root" "$ACSO" --work-dir "$W" --root "$R" install
t_ok "vmlinuz-$rel landed in the root" test -s "$R/boot/vmlinuz-$rel"
t_ok "lib/modules/$rel landed in the root" test -d "$R/lib/modules/$rel"
t_ok "modules.dep generated for the new kernel" test -s "$R/lib/modules/$rel/modules.dep"
t_nogrep "linux-libc-dev was not installed" '^Package: linux-libc-dev$' "$R/var/lib/dpkg/status"

# Rebuild through a distccd on 127.0.0.1 after touching quirks.c.
port=$(t_free_port)
distccd --no-detach --daemon --allow 127.0.0.1 --listen 127.0.0.1 --port "$port" --user nobody --log-stderr \
	2>"$T/distccd.log" &
t_track_pid $!
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
touch "$K/drivers/pci/quirks.c"
t_exit 0 "a rebuild through distcc" nice "$ACSO" --work-dir "$W" build --allow-root --source-dir "$K" --distcc "127.0.0.1:$port/2" --json
cp "$T/.out" "$T/distcc.json"
log=$(jq -r .log "$T/distcc.json")
t_grep "the rebuild ran make with CC=distcc" 'CC=distcc gcc' "$log"
t_grep "the log shows jobs went through distcc" '^acso: distcc: [1-9][0-9]* jobs compiled on distcc hosts' "$log"
[ "$(jq -r .distcc_jobs "$T/distcc.json")" -ge 1 ] && t_pass "JSON counts distcc jobs" || t_fail "JSON counts distcc jobs"
[ "$(jq -r .debian_version "$T/distcc.json")" = "${rel}-2" ] && t_pass "the rebuild bumped the Debian version" || t_fail "rebuild bumped the version" "$(jq -r .debian_version "$T/distcc.json")"
t_done
