#!/usr/bin/env bash
# acso install / uninstall against throwaway roots: real dpkg --root for a
# bare tree, a stub chroot for a system image; the checks that refuse (a
# missing DEB, not a .deb, not a kernel package, the running release, a full
# /boot, the last kernel) leave the root untouched.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/stubs/setup.sh"
"$ACSO" --work-dir "$W" build --allow-root --source-dir "$SRC" >/dev/null 2>&1 || t_fail "stub build for the install tests"
D=$W/build/6.1.192-acso
IMG=$D/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb
HDR=$D/linux-headers-6.1.192-acso_6.1.192-acso-1_amd64.deb
LIBC=$D/linux-libc-dev_6.1.192-acso-1_amd64.deb

R=$T/root
mkroot "$R"
I=("$ACSO" --work-dir "$W" --root "$R")

t_exit 0 "--dry-run shows the plan" "${I[@]}" install --dry-run
t_grep "plan names the image" '^  linux-image-6\.1\.192-acso +6\.1\.192-acso-1' "$T/.out"
t_grep "plan names the headers" '^  linux-headers-6\.1\.192-acso ' "$T/.out"
t_grep "linux-libc-dev skipped by default" 'skipped: linux-libc-dev \(pass --with-libc-dev\)' "$T/.out"
t_ok "--dry-run installs nothing" test ! -e "$R/boot/vmlinuz-6.1.192-acso"

t_exit 1 "a DEB that does not exist" "${I[@]}" install "$T/nope.deb"
t_grep "missing DEB is named" "nope.deb'.*No such file" "$T/.err"
echo "not a package" >"$T/junk.deb"
t_exit 1 "a file that is not a .deb" "${I[@]}" install "$IMG" "$T/junk.deb"
t_grep "not a .deb is said" "junk.deb'.*not a Debian package" "$T/.err"
mkdir -p "$T/other/DEBIAN"
printf 'Package: hello\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@e.org>\nDescription: x\n' >"$T/other/DEBIAN/control"
dpkg-deb --root-owner-group --build "$T/other" "$T/hello.deb" >/dev/null
t_exit 1 "a package that is not a kernel" "${I[@]}" install "$IMG" "$T/hello.deb"
t_grep "non-kernel package is named" "'hello' is not a kernel image or headers package" "$T/.err"
t_exit 1 "headers alone: no image" "${I[@]}" install "$HDR"
t_ok "refused installs left the root alone" test ! -e "$R/boot/vmlinuz-6.1.192-acso"
t_nogrep "refused installs wrote nothing to dpkg's database" 'linux-' "$R/var/lib/dpkg/status"

# The running kernel's release is refused.
echo 6.1.192-acso >"$R/proc/sys/kernel/osrelease"
t_exit 1 "the running release is refused" "${I[@]}" install "$IMG" "$HDR"
t_grep "running release is explained" "'6.1.192-acso' is the release of the running kernel" "$T/.err"
echo 6.1.0-13-amd64 >"$R/proc/sys/kernel/osrelease"

# A real install into the bare root (dpkg --root), from the last build's manifest.
t_exit 0 "install from the last build's manifest" "${I[@]}" install --json
cp "$T/.out" "$T/install.json"
t_ok "vmlinuz landed in the root" test -s "$R/boot/vmlinuz-6.1.192-acso"
t_ok "the modules directory landed" test -d "$R/lib/modules/6.1.192-acso"
t_grep "dpkg knows the image" '^Package: linux-image-6\.1\.192-acso$' "$R/var/lib/dpkg/status"
t_grep "dpkg knows the headers" '^Package: linux-headers-6\.1\.192-acso$' "$R/var/lib/dpkg/status"
t_nogrep "linux-libc-dev not installed" '^Package: linux-libc-dev$' "$R/var/lib/dpkg/status"
[ "$(jq -r '.packages | length' "$T/install.json")" = 2 ] && t_pass "JSON lists two packages" || t_fail "JSON lists two packages" "$(cat "$T/install.json")"
[ "$(jq -r '.skipped[0]' "$T/install.json")" = "linux-libc-dev (pass --with-libc-dev)" ] && t_pass "JSON lists the skipped package" || t_fail "JSON skipped"
[ "$(jq -r '.installed[0].release' "$R/var/lib/acso/installed.json")" = 6.1.192-acso ] && t_pass "state records the release" || t_fail "state records the release"
[ "$(jq -r '.installed[0].root' "$R/var/lib/acso/installed.json")" = "$R" ] && t_pass "state records the root" || t_fail "state records the root"

# A package changed after the build does not match the manifest.
R2=$T/root2
mkroot "$R2"
cp "$IMG" "$T/img.bak"
printf 'x' >>"$IMG"
t_exit 1 "a package changed since the build is refused" "$ACSO" --work-dir "$W" --root "$R2" install
t_grep "changed package: says so" "changed since the build" "$T/.err"
cp "$T/img.bak" "$IMG"

# --with-libc-dev adds it, in the same transaction.
t_exit 0 "--with-libc-dev" "$ACSO" --work-dir "$W" --root "$R2" install --with-libc-dev "$IMG" "$HDR" "$LIBC"
t_grep "linux-libc-dev installed when asked" '^Package: linux-libc-dev$' "$R2/var/lib/dpkg/status"

# /boot too small.
R3=$T/root3
mkroot "$R3"
if mount -t tmpfs -o size=1m tmpfs "$R3/boot" 2>/dev/null; then
	t_on_exit "umount '$R3/boot'"
	t_exit 1 "a full /boot is refused" "$ACSO" --work-dir "$W" --root "$R3" install "$IMG" "$HDR"
	t_grep "full /boot: free and needed" "not enough space on /boot: .* free, about .* needed" "$T/.err"
	t_nogrep "full /boot: nothing installed" 'linux-' "$R3/var/lib/dpkg/status"
else
	t_fail "mount a small tmpfs on /boot (needs root)"
fi

# A system image with its own dpkg goes through chroot; the packages are
# staged inside and removed afterwards.
R4=$T/image
mkroot "$R4"
mkdir -p "$R4/usr/bin"
printf '#!/bin/sh\n' >"$R4/usr/bin/dpkg"
chmod +x "$R4/usr/bin/dpkg"
t_exit 0 "install into an image goes through chroot" "$ACSO" --work-dir "$W" --root "$R4" install "$IMG" "$HDR"
t_grep "chroot into the image" "^$R4\$" "$T/bin/chroot.argv"
t_grep "dpkg -i inside the chroot" '^-i$' "$T/bin/chroot.argv"
t_grep "one transaction: the image by its staged path" '^/var/cache/acso/install/linux-image-6\.1\.192-acso_6\.1\.192-acso-1_amd64\.deb$' "$T/bin/chroot.argv"
t_grep "one transaction: the headers too" '^/var/cache/acso/install/linux-headers-6\.1\.192-acso_' "$T/bin/chroot.argv"
t_grep "the packages were staged inside the image" 'linux-image-6\.1\.192-acso_' "$T/bin/chroot.staged"
t_ok "the staged copies are removed afterwards" test ! -e "$R4/var/cache/acso/install"

# Not root: exit 9 with the command to run.
if command -v setpriv >/dev/null; then
	chmod 755 "$T" "$W"
	t_exit 9 "install as a normal user needs root" setpriv --reuid=65534 --regid=65534 --clear-groups "$ACSO" --work-dir "$W" --root "$R2" install "$IMG" "$HDR"
	t_grep "needs root: the exact command" "^hint: run: sudo acso --work-dir $W --root $R2 install $IMG $HDR\$" "$T/.err"
else
	t_fail "setpriv is needed for the not-root test"
fi

# Uninstall.
t_exit 1 "uninstall of a release acso did not install" "${I[@]}" uninstall 6.1.0-13-amd64
t_grep "unknown release: only what acso installed" "acso did not install '6.1.0-13-amd64'" "$T/.err"
echo 6.1.192-acso >"$R/proc/sys/kernel/osrelease"
t_exit 1 "uninstall of the running kernel is refused" "${I[@]}" uninstall
t_grep "running kernel is said" "'6.1.192-acso' is the running kernel" "$T/.err"
echo 6.1.0-13-amd64 >"$R/proc/sys/kernel/osrelease"
mv "$R/boot/vmlinuz-6.1.0-13-amd64" "$T/vmlinuz.save"
t_exit 1 "uninstall of the last kernel is refused" "${I[@]}" uninstall
t_grep "last kernel is said" "is the last kernel" "$T/.err"
mv "$T/vmlinuz.save" "$R/boot/vmlinuz-6.1.0-13-amd64"
t_exit 0 "uninstall --dry-run" "${I[@]}" uninstall --dry-run
t_ok "--dry-run removes nothing" test -e "$R/boot/vmlinuz-6.1.192-acso"
t_exit 0 "uninstall removes the packages" "${I[@]}" uninstall --json
t_jq "uninstall --json output is JSON only" '.release == "6.1.192-acso" and .last_acs_kernel' "$T/.out"
t_ok "vmlinuz is gone" test ! -e "$R/boot/vmlinuz-6.1.192-acso"
t_nogrep "dpkg forgot the packages" '^Package: linux-image-6\.1\.192-acso$' "$R/var/lib/dpkg/status"
t_ok "the other kernel is kept" test -e "$R/boot/vmlinuz-6.1.0-13-amd64"
[ "$(jq -r --arg r "$R" '[.installed[] | select(.root == $r)] | length' "$R/var/lib/acso/installed.json")" = 0 ] && t_pass "state forgets the release" || t_fail "state forgets the release"
t_done
