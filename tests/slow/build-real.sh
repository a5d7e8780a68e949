#!/usr/bin/env bash
# A REAL `acso build` of Debian's 6.1 source: linux-image and linux-headers
# for 6.1.N-acso listed with their hashes; their install into a throwaway
# root (dpkg --root) with vmlinuz and the modules directory landing there.
# The build goes through a distccd on 127.0.0.1 and its log shows the jobs
# went through distcc; then an incremental rebuild after touching
# drivers/pci/quirks.c. One tree, one full build of a deliberately small
# config (tinyconfig, PCI with its quirks, modules and one module: about 490
# objects, where the qemu profile has 1170): what this test proves is acso
# build's own work, and the e2e already builds the whole qemu profile.
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
# The small config: tinyconfig and this fragment (64-bit, PCI and
# drivers/pci/quirks.c, one module so that lib/modules has something).
FRAG=$T/small.frag
printf 'CONFIG_%s\n' 64BIT=y PCI=y PCI_QUIRKS=y MODULES=y PRINTK=y BINFMT_ELF=y CRC_ITU_T=m >"$FRAG"
(cd "$K" && make -s tinyconfig && ./scripts/kconfig/merge_config.sh -m .config "$FRAG" && make -s olddefconfig) >"$T/config.log" 2>&1 \
	&& t_pass "small config configured" || t_fail "small config configured" "$(tail -5 "$T/config.log")"

# One full build, through a distccd on 127.0.0.1: switching CC later would
# recompile every object, so the distcc check shares the one build.
port=$(t_free_port)
distccd --no-detach --daemon --allow 127.0.0.1 --listen 127.0.0.1 --port "$port" --user nobody --log-stderr \
	2>"$T/distccd.log" &
t_track_pid $!
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
B=(nice "$ACSO" --work-dir "$W" build --allow-root --source-dir "$K" --distcc "127.0.0.1:$port/2" --json)

start=$SECONDS
t_exit 0 "a real acso build of the 6.1 tree (through distcc)" "${B[@]}"
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
objects=$(jq -r .objects "$T/build.json")
[ "$objects" -gt 300 ] && t_pass "objects counted from the build output ($objects)" || t_fail "objects counted" "$objects"
log=$(jq -r .log "$T/build.json")
t_grep "the log has the whole make output" '^  LD      vmlinux' "$log"
t_grep "make ran with CC=distcc" 'CC=distcc gcc' "$log"
t_grep "the log shows jobs went through distcc" '^acso: distcc: [1-9][0-9]* jobs compiled on distcc hosts' "$log"
jobs=$(jq -r .distcc_jobs "$T/build.json")
[ $((jobs * 2)) -gt "$objects" ] && t_pass "most compile jobs went through distcc ($jobs distcc jobs, $objects objects)" ||
	t_fail "most compile jobs went through distcc" "$jobs distcc jobs, $objects objects"

# Install into a throwaway root through dpkg --root.
R=$T/root
mkroot "$R"
t_exit 0 "install of the built packages into a throwaway root" "$ACSO" --work-dir "$W" --root "$R" install
t_ok "vmlinuz-$rel landed in the root" test -s "$R/boot/vmlinuz-$rel"
t_ok "lib/modules/$rel landed in the root" test -d "$R/lib/modules/$rel"
t_ok "modules.dep generated for the new kernel" test -s "$R/lib/modules/$rel/modules.dep"
t_nogrep "linux-libc-dev was not installed" '^Package: linux-libc-dev$' "$R/var/lib/dpkg/status"

# A rebuild after touching quirks.c: incremental, and a newer Debian version.
touch "$K/drivers/pci/quirks.c"
t_exit 0 "a rebuild after touching quirks.c" "${B[@]}"
cp "$T/.out" "$T/rebuild.json"
[ "$(jq -r .debian_version "$T/rebuild.json")" = "${rel}-2" ] && t_pass "the rebuild bumped the Debian version" || t_fail "rebuild bumped the version" "$(jq -r .debian_version "$T/rebuild.json")"
[ "$(jq -r .objects "$T/rebuild.json")" -lt 100 ] && t_pass "the rebuild compiled only what changed" || t_fail "the rebuild compiled only what changed" "$(jq -r .objects "$T/rebuild.json")"
t_done
