#!/usr/bin/env bash
# Root inside a tree the user owns (issue 15, part A): under sudo the work
# directory is the user's, who can plant symlinks in it while root works.
#   A1: `ln -s DECOY WORK/logs`, then root's `acso run --target etc` must
#       refuse, and DECOY/etc (a stand-in for /etc, never the real one) keeps
#       its owner; a symlink only root could have made is still followed;
#   A4: `acso clean --all` as root refuses a work directory that is a
#       symlink the user planted, and removes nothing at its target;
#   the lock: root takes WORK/lock and WORK/state/lock beneath the checked
#       work directory: a link the user planted on the way (WORK/state, or
#       the work directory itself in the user's directory) is refused and no
#       lock file appears at its target.
# The user is nobody (uid 65534: no account is added, /etc is not touched);
# the run's steps are the stub tests/integration/stubs/acso-steps.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"

t_as_sudo_nobody
[ "$(id -u)" -eq 0 ] || { t_fail "these tests must run as root"; t_done; }
chmod 755 "$T"
mkdir -m 700 "$T/roothome"
export HOME=$T/roothome
unset XDG_CONFIG_HOME XDG_CACHE_HOME

export ACSO_RUN_STEP_PROGRAM=$TOP/tests/integration/stubs/acso-steps REAL_ACSO=$ACSO STUB_LOG=$T/steps
unset STUB_SLEEP STUB_FAIL STUB_REAL_BUILD STUB_UIDS
: >"$T/steps"
chmod 666 "$T/steps"
R=$T/root
t_grub_root "$R"

# ---- A1: WORK/logs -> DECOY, root's run never chowns through it --------------
DECOY=$T/decoy
mkdir -p "$DECOY/etc" && echo 'root:x:0:0' >"$DECOY/etc/passwd"
W=$T/w1
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
"${AS_USER[@]}" ln -s "$DECOY" "$W/logs"
t_exit 1 "WORK/logs is the user's symlink: root's run refuses" "${SUDO[@]}" "$ACSO" --work-dir "$W" run --root "$R" --target etc
t_grep "the refusal names the link and why" "'logs' in '$W/logs/etc' is a symlink in a directory another user can write" "$T/.err"
t_grep "the hint says what to do" '^hint: root does not follow links' "$T/.err"
[ "$(stat -c %u "$DECOY/etc")" = 0 ] && [ "$(stat -c %u "$DECOY/etc/passwd")" = 0 ] &&
	t_pass "the decoy /etc still belongs to root" || t_fail "the decoy /etc still belongs to root" "$(ls -ln "$DECOY/etc")"
[ "$(ls -A "$DECOY/etc")" = passwd ] && [ "$(ls -A "$DECOY")" = etc ] && t_pass "nothing written into the decoy" ||
	t_fail "nothing written into the decoy" "$(ls -lAR "$DECOY")"
[ ! -s "$T/steps" ] && t_pass "no step ran" || t_fail "no step ran" "$(cat "$T/steps")"

# Deeper: WORK/logs/etc -> DECOY/etc (the link one level down).
W=$T/w2
mkdir -p "$W/logs" && chown -R "$UID_U:$GID_U" "$W"
"${AS_USER[@]}" ln -s "$DECOY/etc" "$W/logs/etc"
t_exit 1 "WORK/logs/etc is the user's symlink: refused" "${SUDO[@]}" "$ACSO" --work-dir "$W" run --root "$R" --target etc
[ "$(stat -c %u "$DECOY/etc")" = 0 ] && [ ! -e "$DECOY/etc/resolve.log" ] && t_pass "the link one level down: decoy untouched" ||
	t_fail "the link one level down: decoy untouched" "$(ls -lnA "$DECOY/etc")"

# A symlink only root could have planted (in a root-owned directory nobody
# else may write) is as trustworthy as that directory: followed.
W=$T/w3real
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
ln -s "$W" "$T/w3"
: >"$T/steps"
t_exit 0 "a root-owned symlink to the work directory: the run goes on" "${SUDO[@]}" "$ACSO" --work-dir "$T/w3" run --root "$R" --target etc
[ "$(stat -c %u "$W/logs/etc")" = "$UID_U" ] && t_pass "through root's link: the logs belong to the user" ||
	t_fail "through root's link: the logs belong to the user" "$(ls -lnR "$W/logs")"

# ---- A4: acso clean --all through the user's symlink ------------------------
VICTIM=$T/victim
mkdir -p "$VICTIM/src/linux-6.1.192" "$VICTIM/build" "$VICTIM/logs" "$VICTIM/state"
echo keep >"$VICTIM/build/keep"
UD=$T/userdir
mkdir -p "$UD" && chown "$UID_U:$GID_U" "$UD"
"${AS_USER[@]}" ln -s "$VICTIM" "$UD/work"
t_exit 1 "clean --all: a work directory that is the user's symlink is refused" "$ACSO" --work-dir "$UD/work" clean --all
t_grep "clean --all: says why" "'work' in '$UD/work' is a symlink in a directory another user can write" "$T/.err"
[ -e "$VICTIM/src/linux-6.1.192" ] && [ -e "$VICTIM/build/keep" ] && [ -d "$VICTIM/logs" ] && [ -d "$VICTIM/state" ] &&
	t_pass "clean --all: nothing removed at the link's target" || t_fail "clean --all: nothing removed at the target" "$(ls -lAR "$VICTIM")"
[ ! -e "$VICTIM/lock" ] && [ ! -e "$VICTIM/state/lock" ] && t_pass "clean --all: no lock file made at the target" ||
	t_fail "clean --all: no lock file made at the target"
# the user's own clean of the same link is the user's business: it goes on
t_exit 0 "clean --all by a real work directory still works as root" "$ACSO" --work-dir "$T/w3real" clean --all
[ ! -e "$T/w3real/logs" ] && t_pass "clean --all: removed the logs of a real work directory" || t_fail "clean --all: removed logs"
# ---- the lock files: never made through the user's links ---------------------
LD=$T/lockdecoy
mkdir -p "$LD"
W=$T/w5
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
"${AS_USER[@]}" ln -s "$LD" "$W/state"
t_exit 1 "clean: WORK/state is the user's symlink: the run lock is refused" "${SUDO[@]}" "$ACSO" --work-dir "$W" clean
t_grep "the lock refusal names the link" "'state' in '$W/state' is a symlink in a directory another user can write" "$T/.err"
[ -z "$(ls -A "$LD")" ] && t_pass "no lock file made through WORK/state" || t_fail "no lock file made through WORK/state" "$(ls -lnA "$LD")"
UD2=$T/userdir2
mkdir -p "$UD2" && chown "$UID_U:$GID_U" "$UD2"
"${AS_USER[@]}" ln -s "$LD" "$UD2/work"
t_exit 1 "grub: a work directory that is the user's symlink: the lock is refused" "${SUDO[@]}" "$ACSO" --work-dir "$UD2/work" --root "$R" grub
t_grep "the driver's lock refusal names the link" "'work' in '$UD2/work' is a symlink in a directory another user can write" "$T/.err"
[ -z "$(ls -A "$LD")" ] && t_pass "no lock file made through the work directory's link" ||
	t_fail "no lock file made through the work directory's link" "$(ls -lnA "$LD")"
# the lock itself planted as a hard link to a root file: not chowned, refused
W=$T/w6
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
echo secret >"$T/rootfile" && chmod 600 "$T/rootfile"
ln "$T/rootfile" "$W/lock"
t_exit 1 "grub: WORK/lock is a hard link to a root file: refused" "${SUDO[@]}" "$ACSO" --work-dir "$W" --root "$R" grub
[ "$(stat -c %u "$T/rootfile")" = 0 ] && [ "$(cat "$T/rootfile")" = secret ] && t_pass "the linked root file keeps its owner and content" ||
	t_fail "the linked root file keeps its owner and content" "$(ls -ln "$T/rootfile")"
t_done
