#!/usr/bin/env bash
# acso build with a stub `make` on PATH (tests/stubs/make records its argv):
# the command line, the packages read back into manifest.json, the Debian
# version bump, --reuse-key, refusal as root, the preflight, and a diagnosis
# for each known failure class.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/stubs/setup.sh"
STUB_DIR=$T/bin
B=("$ACSO" --work-dir "$W" build --source-dir "$SRC")

# As plain root: refused, nothing run.
if [ "$(id -u)" -eq 0 ]; then
	t_exit 1 "as plain root without --allow-root: refused" "${B[@]}"
	t_grep "refusal says why and what to do" "refusing to build the kernel as root" "$T/.err"
	t_grep "refusal hints at --allow-root" "allow-root" "$T/.err"
	[ ! -e "$STUB_DIR/make.argv" ] && t_pass "refused build ran no make" || t_fail "refused build ran no make"
else
	t_fail "the build tests must run as root (they test the refusal)"
fi

# Dry run: the plan, no make.
t_exit 0 "--dry-run exits 0" "${B[@]}" --allow-root --dry-run
t_grep "--dry-run shows the make command" "make -C $SRC -j[0-9]+ bindeb-pkg LOCALVERSION=-acso KDEB_PKGVERSION=6.1.192-acso-1" "$T/.out"
[ ! -e "$STUB_DIR/make.argv" ] && t_pass "--dry-run runs no make" || t_fail "--dry-run runs no make"

# A good build.
t_exit 0 "build succeeds" "${B[@]}" --allow-root --jobs 3 --json
cp "$T/.out" "$T/build.json"
t_grep "make -j3" '^-j3$' "$STUB_DIR/make.argv"
t_grep "make bindeb-pkg" '^bindeb-pkg$' "$STUB_DIR/make.argv"
t_grep "LOCALVERSION=-acso" '^LOCALVERSION=-acso$' "$STUB_DIR/make.argv"
t_grep "KDEB_PKGVERSION digit first, -1" '^KDEB_PKGVERSION=6\.1\.192-acso-1$' "$STUB_DIR/make.argv"
t_nogrep "no nokerneldbg profile for a 6.1 tree" 'DEB_BUILD_PROFILES' "$STUB_DIR/make.argv"
t_nogrep "no compiler wrapper by default" '^CC=' "$STUB_DIR/make.argv"
t_grep "the child gets LC_ALL=C" '^env LC_ALL=C$' "$STUB_DIR/make.argv"
[ "$(jq -r .release "$T/build.json")" = 6.1.192-acso ] && t_pass "JSON release" || t_fail "JSON release" "$(cat "$T/build.json")"
[ "$(jq -r '.packages | length' "$T/build.json")" = 3 ] && t_pass "JSON lists the three packages" || t_fail "JSON lists the three packages"
img=$(jq -r '.packages[] | select(.package == "linux-image-6.1.192-acso") | .file' "$T/build.json")
want=$(sha256sum "$W/build/6.1.192-acso/$img" | cut -d' ' -f1)
got=$(jq -r '.packages[] | select(.package == "linux-image-6.1.192-acso") | .sha256' "$T/build.json")
[ -n "$img" ] && [ "$want" = "$got" ] && t_pass "image package moved to WORK/build/<release> with its SHA-256" || t_fail "image sha256" "$want vs $got"
[ "$(jq -r '.packages[0].version' "$T/build.json")" = 6.1.192-acso-1 ] && t_pass "version read from the package" || t_fail "version read from the package"
[ "$(jq -r '.packages[0].size' "$T/build.json")" -gt 0 ] && t_pass "size listed" || t_fail "size listed"
t_ok "manifest.json written beside the debs" test -s "$W/build/6.1.192-acso/manifest.json"
[ "$(jq -r .manifest "$T/build.json")" = "$W/build/6.1.192-acso/manifest.json" ] && t_pass "JSON names the manifest" || t_fail "JSON names the manifest"
log=$(jq -r .log "$T/build.json")
t_grep "the full output is in the log" '^  CC      kernel/fork.o$' "$log"
case $log in "$W"/logs/build-*.log) t_pass "log in WORK/logs" ;; *) t_fail "log in WORK/logs" "$log" ;; esac
[ "$(readlink "$W/build/current")" = 6.1.192-acso ] && t_pass "WORK/build/current points at the release" || t_fail "build/current"
[ -z "$(ls "$T/src"/*.deb 2>/dev/null)" ] && t_pass "no package left beside the tree" || t_fail "no package left beside the tree"

# A rebuild bumps the Debian version; text output lists hashes.
t_exit 0 "rebuild succeeds" "${B[@]}" --allow-root
t_grep "rebuild bumps KDEB_PKGVERSION" '^KDEB_PKGVERSION=6\.1\.192-acso-2$' "$STUB_DIR/make.argv"
t_grep "text report names the release" '^built 6\.1\.192-acso .*6\.1\.192-acso-2' "$T/.out"
t_grep "text report lists hashes" '^    [0-9a-f]{64}$' "$T/.out"
[ "$(jq -r .debian_version "$W/build/6.1.192-acso/manifest.json")" = 6.1.192-acso-2 ] && t_pass "manifest updated" || t_fail "manifest updated"

# --reuse-key (acso run resuming a cut-off build): the same key, the same
# .config and intact packages report that build without make and without a
# bump; another key, a changed package or a changed .config build again.
M=$W/build/6.1.192-acso/manifest.json
t_exit 0 "a build with --reuse-key" "${B[@]}" --allow-root --reuse-key k1 --json
[ "$(jq -r '.debian_version, .reuse_key, .reused' "$T/.out" | tr '\n' ' ')" = "6.1.192-acso-3 k1 false " ] &&
	t_pass "--reuse-key: built (-3) and the key recorded" || t_fail "--reuse-key recorded" "$(cat "$T/.out")"
t_ok "--reuse-key: the manifest records the key" jq -e '.reuse_key == "k1" and (.config_sha256 | length) == 64' "$M"
cp "$M" "$T/manifest.k1"
rm -f "$STUB_DIR/make.argv"
ln -sfn elsewhere "$W/build/current"
t_exit 0 "same key: exits 0" "${B[@]}" --allow-root --reuse-key k1 --json
[ ! -e "$STUB_DIR/make.argv" ] && t_pass "same key: make does not run" || t_fail "same key: make does not run"
[ "$(jq -r '.debian_version, .reused' "$T/.out" | tr '\n' ' ')" = "6.1.192-acso-3 true " ] &&
	t_pass "same key: the same build is reported (no bump), as reused" || t_fail "same key: reported" "$(cat "$T/.out")"
jq -e --slurpfile m "$T/manifest.k1" '.packages == $m[0].packages and .built_at == $m[0].built_at' "$T/.out" >/dev/null &&
	t_pass "same key: the report is the build's (packages, hashes, time)" || t_fail "same key: the build's report"
cmp -s "$M" "$T/manifest.k1" && t_pass "same key: the manifest is left alone" || t_fail "same key: manifest left alone"
[ "$(readlink "$W/build/current")" = 6.1.192-acso ] && t_pass "same key: WORK/build/current points at the build again" || t_fail "same key: build/current"
t_exit 0 "same key, text report" "${B[@]}" --allow-root --reuse-key k1
t_grep "same key: the text report says reused" '^reused the build of 6\.1\.192-acso \(Debian version 6\.1\.192-acso-3\)' "$T/.out"
t_exit 0 "another key builds" "${B[@]}" --allow-root --reuse-key k2 --json
t_grep "another key: make runs, the version goes up" '^KDEB_PKGVERSION=6\.1\.192-acso-4$' "$STUB_DIR/make.argv"
[ "$(jq -r .reused "$T/.out")" = false ] && t_pass "another key: not reused" || t_fail "another key: not reused"
img4=$W/build/6.1.192-acso/linux-image-6.1.192-acso_6.1.192-acso-4_amd64.deb
printf 'x' >>"$img4"
rm -f "$STUB_DIR/make.argv"
t_exit 0 "same key, a package changed since: builds" "${B[@]}" --allow-root --reuse-key k2
t_grep "a changed package: make runs, the version goes up" '^KDEB_PKGVERSION=6\.1\.192-acso-5$' "$STUB_DIR/make.argv"
cp "$SRC/.config" "$T/config.save"
echo 'CONFIG_NR_CPUS=8' >>"$SRC/.config"
rm -f "$STUB_DIR/make.argv"
t_exit 0 "same key, .config changed since: builds" "${B[@]}" --allow-root --reuse-key k2
t_grep "a changed .config: make runs, the version goes up" '^KDEB_PKGVERSION=6\.1\.192-acso-6$' "$STUB_DIR/make.argv"
cp "$T/config.save" "$SRC/.config"
t_exit 2 "an empty --reuse-key" "${B[@]}" --allow-root --reuse-key ''

# Suffix, ccache, distcc, icecc reach make.
t_exit 0 "--localversion" "${B[@]}" --allow-root --localversion -vfio
t_grep "--localversion reaches make" '^LOCALVERSION=-vfio$' "$STUB_DIR/make.argv"
t_ok "--localversion names the release directory" test -s "$W/build/6.1.192-vfio/manifest.json"
t_exit 0 "--ccache" "${B[@]}" --allow-root --ccache
t_grep "--ccache sets CC" '^CC=ccache gcc$' "$STUB_DIR/make.argv"
t_exit 0 "--distcc" "${B[@]}" --allow-root --distcc "127.0.0.1:3632/3 127.0.0.2/5"
t_grep "--distcc sets CC" '^CC=distcc gcc$' "$STUB_DIR/make.argv"
t_grep "--distcc sets DISTCC_HOSTS" '^env DISTCC_HOSTS=127.0.0.1:3632/3 127.0.0.2/5$' "$STUB_DIR/make.argv"
t_grep "--distcc takes -j from the hosts" '^-j8$' "$STUB_DIR/make.argv"
t_exit 2 "--distcc with a bad host list" "${B[@]}" --allow-root --distcc 'b@d'
t_exit 2 "--jobs 0" "${B[@]}" --allow-root --jobs 0
t_exit 2 "--localversion with a slash" "${B[@]}" --allow-root --localversion /x
t_exit 2 "--distcc and --icecc together" "${B[@]}" --allow-root --distcc h --icecc

# On a terminal: a progress line with the phase and objects out of an estimate.
if command -v script >/dev/null; then
	script -qec "'$ACSO' --work-dir '$W' build --source-dir '$SRC' --allow-root" "$T/tty.out" >/dev/null 2>&1
	t_grep "tty: progress line with phase, objects, estimate and ETA" 'build: (prepare|compile|link|modules|package) +[0-9]+/~[0-9]+ objects +[0-9:]+ +ETA' "$T/tty.out"
else
	t_fail "script(1) is needed for the tty progress test"
fi

# Under sudo: the build runs as SUDO_USER (make records its uid).
chmod 755 "$T"
chmod 777 "$T/bin" "$T/src" "$SRC"
rm -f "$STUB_DIR/make.uid" "$STUB_DIR/make.argv"
SUDO_USER=nobody t_exit 0 "under sudo: builds without --allow-root" "${B[@]}"
[ "$(cat "$STUB_DIR/make.uid")" = "$(id -u nobody)" ] && t_pass "under sudo: make ran as SUDO_USER" || t_fail "under sudo: make ran as SUDO_USER" "uid $(cat "$STUB_DIR/make.uid")"
t_exit 1 "SUDO_USER that does not exist" env SUDO_USER=no-such-user-x "${B[@]}"

# Bad trees.
t_exit 1 "--source-dir that does not exist" "$ACSO" --work-dir "$W" build --allow-root --source-dir "$T/nope"
t_grep "missing tree says what to do" "acso fetch" "$T/.err"
mkdir -p "$T/noconf"
cp "$SRC/Makefile" "$T/noconf/"
t_exit 1 "tree without .config" "$ACSO" --work-dir "$W" build --allow-root --source-dir "$T/noconf"
t_grep "no .config hints at acso config" "acso config" "$T/.err"
mkdir -p "$T/notkernel"
echo 'all:' >"$T/notkernel/Makefile"
t_exit 1 "not a kernel tree" "$ACSO" --work-dir "$W" build --allow-root --source-dir "$T/notkernel"
t_grep "not a kernel tree is said" "not a kernel tree" "$T/.err"

# Each known failure class: exit 1, the error lines, the diagnosis, the log.
check_failure() {
	local mode=$1 line=$2 fix=$3
	rm -rf "$W/build/6.1.192-acso.fail"
	echo "$mode" >"$STUB_DIR/make.mode"
	t_exit 1 "failure '$mode' exits 1" "${B[@]}" --allow-root
	t_grep "failure '$mode': the first real error line" "$line" "$T/.err"
	t_grep "failure '$mode': the fix" "$fix" "$T/.err"
	t_grep "failure '$mode': the log path" "full log: $W/logs/build-" "$T/.err"
	t_nogrep "failure '$mode': not the consequential make line first" '^  \| make\[1\]: \*\*\* \[' "$T/.err"
}
before=$(jq -r .debian_version "$W/build/6.1.192-acso/manifest.json")
check_failure certs "No rule to make target 'debian/canonical-certs.pem'" 'set-str SYSTEM_TRUSTED_KEYS ""'
check_failure revoked "canonical-revoked-certs.pem" 'SYSTEM_REVOCATION_KEYS ""'
check_failure pahole "pahole \(pahole\) is not available" "apt-get install dwarves"
check_failure bc "bc: not found" "apt-get install bc"
check_failure nospace "No space left on device" "free space"
check_failure compile "quirks.c:5000:1: error" "read the error lines"
[ "$(jq -r .debian_version "$W/build/6.1.192-acso/manifest.json")" = "$before" ] && t_pass "failed builds leave the last manifest alone" || t_fail "failed builds leave the manifest alone"

echo wrongversion >"$STUB_DIR/make.mode"
t_exit 1 "a package with another version than asked is refused" "${B[@]}" --allow-root
rm "$STUB_DIR/make.mode"
t_grep "version mismatch is named" "says version '9.9.9-1'" "$T/.err"

# Preflight: a missing build tool (PATH without bc) gives the exact apt-get line.
mkdir -p "$T/minbin"
cp "$T/bin/make" "$T/minbin/"
STUB_DIR=$T/minbin
for p in gcc rsync cpio bison flex fakeroot dpkg-buildpackage dpkg-deb sha256sum mktemp id sed cat rm mkdir env bash; do
	ln -sf "$(command -v "$p")" "$T/minbin/$p"
done
PATH=$T/minbin t_exit 1 "missing bc stops the build before make" "${B[@]}" --allow-root
t_grep "missing tool: exact apt-get line" 'sudo apt-get install -y bc$' "$T/.err"

# Preflight: too little disk for the tree.
mkdir -p "$T/small"
if mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	t_on_exit "umount '$T/small'"
	mkdir -p "$T/small/linux-6.1.192"
	cp "$SRC/Makefile" "$SRC/.config" "$T/small/linux-6.1.192/"
	STUB_DIR=$T/bin
	: >"$STUB_DIR/make.argv"
	t_exit 1 "too little disk stops the build" "$ACSO" --work-dir "$W" build --allow-root --source-dir "$T/small/linux-6.1.192"
	t_grep "disk: says how much is free and needed" "not enough disk space .* free, about .* needed" "$T/.err"
	[ ! -s "$STUB_DIR/make.argv" ] && t_pass "no make after the disk check failed" || t_fail "no make after the disk check failed"
else
	t_fail "mount a small tmpfs for the disk test (needs root)"
fi
t_done
