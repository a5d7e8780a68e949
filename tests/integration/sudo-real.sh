#!/usr/bin/env bash
# Plain `sudo acso ...` from a real unprivileged account through the real
# sudo program (issue 12 item 3), not SUDO_* variables set by hand:
#   - `sudo acso run` (stubbed steps, tests/integration/stubs/acso-steps; the
#     real `acso grub`) works in the user's own ~/.cache/acso (home from the
#     password database), the build steps run as the user, the privileged
#     ones as root, and what the run makes there belongs to the user;
#   - `sudo acso fetch` leaves the user's tree, not a root-owned one;
#   - the user builds on without sudo in the same work directory.
# THE ONE PLACE A TEST TOUCHES /etc: it adds a throwaway account (useradd,
# removed with userdel -r on exit) and a sudoers drop-in for that account
# only (/etc/sudoers.d/acso-test-USER, removed on exit). Nothing else.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { t_fail "the sudo tests must run as root"; t_done; }
command -v sudo >/dev/null || { t_fail "sudo is installed (scripts/install-deps)"; t_done; }
command -v useradd >/dev/null || { t_fail "useradd is installed"; t_done; }

U=acsot$$
useradd -m -s /bin/sh "$U" || { t_fail "useradd $U"; t_done; }
t_on_exit "userdel -r $U >/dev/null 2>&1"
UH=$(getent passwd "$U" | cut -d: -f6)
UID_U=$(id -u "$U")
DROPIN=/etc/sudoers.d/acso-test-$U
t_on_exit "rm -f $DROPIN"
printf '%s ALL=(root) NOPASSWD: ALL\n' "$U" >"$DROPIN.new"
chmod 440 "$DROPIN.new"
visudo -cqf "$DROPIN.new" && mv "$DROPIN.new" "$DROPIN" || { rm -f "$DROPIN.new"; t_fail "a valid sudoers drop-in"; t_done; }

# the account reaches the binary, the fixtures and the stubs
chmod 755 "$T"
mkdir -p "$T/bin"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/chroot"
chmod 755 "$T/bin" "$T/bin/chroot"
# as the user, in a login-like environment (no SUDO_*, the user's HOME)
as_user() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups env -i PATH=/usr/bin:/bin HOME="$UH" USER="$U" "$@"; }
# the files below DIR that do not belong to the user (but the logs of the
# steps root ran, which stay root's: tests/integration/sudo.sh)
not_users() { find "$1" ! -user "$U" ! -regex '.*/logs/auto/\(snapshot\|install\|grub\)\.log' -printf '%p(%u) ' 2>/dev/null; }

R=$T/root
mkdir -p "$R/proc" "$R/usr/sbin"
cp -a "$TOP/tests/grub-corpus/debian-12/." "$R/"
printf 'vendor_id\t: GenuineIntel\n' >"$R/proc/cpuinfo"
touch "$R/usr/sbin/update-grub"
: >"$T/steps"
: >"$T/uids"
chmod 666 "$T/steps" "$T/uids"
STUBENV=(env PATH="$T/bin:/usr/sbin:/usr/bin:/sbin:/bin" ACSO_RUN_STEP_PROGRAM="$TOP/tests/integration/stubs/acso-steps"
	REAL_ACSO="$ACSO" STUB_LOG="$T/steps" STUB_UIDS="$T/uids")

W=$UH/.cache/acso
t_exit 0 "sudo acso run: exits 0" as_user sudo -n "${STUBENV[@]}" "$ACSO" --root "$R" run --json
t_jq "sudo acso run: the state is in the user's ~/.cache/acso" --arg w "$W" '.state_file == ($w + "/state/auto.json")' "$T/.out"
[ -d "$W" ] && [ -z "$(not_users "$UH/.cache")" ] && t_pass "sudo acso run: ~/.cache/acso, its state and snapshot belong to the user" ||
	t_fail "sudo acso run: the work dir belongs to the user" "$(not_users "$UH/.cache")"
[ "$(grep -E '^(resolve|fetch|patch|config|build) ' "$T/uids" | cut -d' ' -f2 | sort -u)" = "$UID_U" ] &&
	t_pass "sudo acso run: resolve ... build ran as the user" || t_fail "sudo acso run: build steps as the user" "$(cat "$T/uids")"
[ "$(grep -E '^(snapshot|install|grub) ' "$T/uids" | cut -d' ' -f2 | sort -u)" = 0 ] &&
	t_pass "sudo acso run: snapshot, install and grub ran as root" || t_fail "sudo acso run: privileged steps as root" "$(cat "$T/uids")"
t_grep "sudo acso run: the boot step registered the parameter" 'pcie_acs_override=' "$R/etc/default/grub.d/99-acso.cfg"

# sudo acso fetch: the tree is the user's
"$TOP/tests/mirror/make-mirror" "$T/m" --no-hostile >"$T/mm.log" 2>&1 || { t_fail "make-mirror" "$(tail -3 "$T/mm.log")"; t_done; }
chmod -R a+rX "$T/m"
TB=$T/m/pub/linux/kernel/v6.x/linux-6.6.5.tar.xz
SUM=$(sha256sum <"$TB" | cut -d' ' -f1)
t_exit 0 "sudo acso fetch: exits 0" as_user sudo -n "$ACSO" fetch --keyring "$T/m/keyring.asc" --tarball "$TB" --sha256 "$SUM" --json
[ -f "$W/src/linux-6.6.5/Makefile" ] && t_pass "sudo acso fetch: the tree is in the user's work dir" || t_fail "sudo acso fetch: the tree" "$(cat "$T/.err")"
bad=$(not_users "$UH/.cache")
[ -z "$bad" ] && t_pass "sudo acso fetch: no root-owned file in the user's work dir" || t_fail "sudo acso fetch: root-owned files" "${bad:0:600}"
t_exit 0 "the user works on without sudo: acso clean" as_user "$ACSO" clean
t_done
