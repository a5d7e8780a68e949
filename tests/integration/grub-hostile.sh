#!/usr/bin/env bash
# acso grub against roots that are not this system (issue 15, part D):
# their GRUB files are shell that must not run on the host (also under
# --dry-run, as a normal user, and for a snapshot through verify
# --make-default); a symlink in grub.d must not carry a host file into the
# image; two runs cannot overlap; --remove takes back everything acso made;
# --acs is checked as the patch parses it. A stub `chroot` on PATH stands in
# for the regeneration (acso runs `chroot ROOT update-grub` for --root).
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed

CORPUS=$TOP/tests/grub-corpus
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$*" >>"%s/calls"\n' "$T" >"$T/bin/chroot"
chmod +x "$T/bin/chroot"
export PATH=$T/bin:$PATH
# A directory anyone may write: a command the files run as nobody, outside
# a read-only sandbox, would leave its mark here.
chmod 755 "$T"
M=$T/marks
mkdir -p "$M" && chmod 1777 "$M"

# hostile DIR TAG — /etc/default/grub runs commands three ways.
hostile() {
	cat >>"$1/etc/default/grub" <<EOF
GRUB_CMDLINE_LINUX_DEFAULT="quiet \$(touch $M/$2-subst 2>/dev/null || :; echo splash)"
GRUB_TIMEOUT=\`touch $M/$2-backtick 2>/dev/null || :; echo 5\`
touch $M/$2-bare 2>/dev/null || :
EOF
}
no_marks() { # NAME TAG
	local left
	left=$(ls "$M" | grep "^$2-")
	[ -z "$left" ] && t_pass "$1" || t_fail "$1" "the host got: $left"
}

# ---- D14: the files of another root run nothing on the host ----
R=$T/r/hostile
t_grub_root "$R"
hostile "$R" grub
t_exit 0 "hostile image: acso grub exits 0" "$ACSO" --work-dir "$T/w" --root "$R" grub --no-update
no_marks "hostile image: \$(...), backticks and commands ran nothing on the host" grub
t_grep "hostile image: still evaluated as the shell does" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
t_grep "hostile image: the values the files compute are seen" '^Kernel command line after: +quiet splash pcie_acs_override=downstream intel_iommu=on$' "$T/.out"

R=$T/r/dry
t_grub_root "$R"
hostile "$R" dry
t_exit 0 "hostile image, --dry-run: exits 0" "$ACSO" --work-dir "$T/w" --root "$R" grub --dry-run
no_marks "hostile image, --dry-run: nothing ran on the host" dry

R=$T/open/user
mkdir -p "$T/open" && chmod 755 "$T/open"
t_grub_root "$R"
hostile "$R" user
chmod -R a+rX "$R"
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME HOME=/nonexistent)
t_exit 0 "hostile image, normal user, --dry-run: exits 0" "${AS_NOBODY[@]}" "$ACSO" --work-dir "$M/nw" --root "$R" grub --dry-run
no_marks "hostile image, normal user: nothing ran, even where that user may write" user

# verify --make-default --dry-run on a snapshot of a hostile machine.
R=$T/r/snap
rm -rf "$R"; cp -a "$FIXTURES/seed-after-override" "$R"
t_grub_cfg "$R/boot/grub/grub.cfg" d00d 5.3.0-24-generic 5.3.18-acso
mkdir -p "$R/etc/default/grub.d"
printf 'GRUB_DEFAULT=saved\nX=$(touch %s/snap-subst 2>/dev/null || :; echo x)\n' "$M" >"$R/etc/default/grub.d/50-saved.cfg"
t_exit 0 "snapshot of the hostile machine" "$ACSO" --work-dir "$T/ws" --root "$R" snapshot "$T/snap.tar.gz"
rm -f "$M"/snap-*
# a snapshot holds no grub.cfg: the step after GRUB_DEFAULT's evaluation stops
t_exit 1 "verify --make-default --dry-run on the snapshot" "$ACSO" --work-dir "$T/ws" --root "$T/snap.tar.gz" --dry-run verify --make-default
t_grep "the snapshot's GRUB_DEFAULT=saved was evaluated" "make-default: cannot read '/boot/grub" "$T/.err"
no_marks "snapshot: its files ran nothing on the host" snap

# ---- D15: a symlink in the image never carries a host file into it ----
R=$T/r/link
t_grub_root "$R"
mkdir -p "$R/etc/default/grub.d"
echo 'HOST-SECRET-15' >"$T/host-secret"
ln -s "$T/host-secret" "$R/etc/default/grub.d/99-acso.cfg"
t_exit 0 "absolute symlink as the drop-in: exits 0" "$ACSO" --work-dir "$T/w" --root "$R" grub --no-update
if grep -r -q HOST-SECRET-15 "$R"; then
	t_fail "absolute symlink: no host file copied into the image" "$(grep -r -l HOST-SECRET-15 "$R")"
else
	t_pass "absolute symlink: no host file copied into the image"
fi
[ -L "$R/etc/default/grub.d/99-acso.cfg.acso-bak" ] && t_pass "absolute symlink: backed up as the link it was" ||
	t_fail "absolute symlink: backed up as the link it was"
[ "$(cat "$T/host-secret")" = HOST-SECRET-15 ] && t_pass "absolute symlink: the host file is untouched" ||
	t_fail "absolute symlink: the host file is untouched"

# ---- D16: the lock, and --remove takes back what acso made ----
R=$T/r/lock
t_grub_root "$R"
mkdir -p "$T/wl"
(
	flock 9
	"$ACSO" --work-dir "$T/wl" --root "$R" grub --no-update >"$T/lock.out" 2>&1
	echo "exit $?" >>"$T/lock.out"
) 9>"$T/wl/lock"
t_grep "a second acso grub while one runs: refused (exit 8)" '^exit 8$' "$T/lock.out"
[ ! -e "$R/etc/default/grub.d" ] && t_pass "the refused run wrote nothing" || t_fail "the refused run wrote nothing"

R=$T/r/remove
t_grub_root "$R"
t_exit 0 "grub: creates grub.d and the drop-in" "$ACSO" --work-dir "$T/w" --root "$R" grub --no-update
t_exit 0 "grub again with another mode: the drop-in is rewritten" "$ACSO" --work-dir "$T/w" --root "$R" grub --no-update --acs multifunction
t_ok "the rewrite kept a backup of the drop-in" test -e "$R/etc/default/grub.d/99-acso.cfg.acso-bak"
t_exit 0 "grub --remove" "$ACSO" --work-dir "$T/w" --root "$R" grub --remove --no-update
[ ! -e "$R/etc/default/grub.d" ] && t_pass "--remove: the drop-in, its backup and the grub.d acso made are gone" ||
	t_fail "--remove: grub.d acso made is gone" "$(ls -A "$R/etc/default/grub.d")"
cmp -s "$CORPUS/debian-12/etc/default/grub" "$R/etc/default/grub" && t_pass "--remove: /etc/default/grub as it was" ||
	t_fail "--remove: /etc/default/grub as it was"

# ---- D17: --acs as the patch parses it ----
R=$T/r/acs
t_grub_root "$R"
t_exit 2 "--acs '' is refused" "$ACSO" --work-dir "$T/w" --root "$R" grub --acs ''
t_grep "--acs '': says why" "^acso: grub: --acs '': empty" "$T/.err"
t_exit 2 "--acs id:ffff:ffff is refused (the patch ignores vendor ffff)" "$ACSO" --work-dir "$T/w" --root "$R" grub --acs id:ffff:ffff
t_grep "id:ffff:ffff: names the vendor" "vendor ffff is not a valid PCI vendor" "$T/.err"
t_exit 2 "--acs id:0000:1234 is refused" "$ACSO" --work-dir "$T/w" --root "$R" grub --acs id:0000:1234
[ ! -e "$R/etc/default/grub.d" ] && t_pass "refused modes wrote nothing" || t_fail "refused modes wrote nothing"
t_done
