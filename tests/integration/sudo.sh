#!/usr/bin/env bash
# The sudo path: acso run as root with SUDO_USER/SUDO_UID/SUDO_GID naming an
# existing unprivileged account (nobody, uid 65534: no user is added, /etc is
# not touched) and an explicit --work-dir of that account's.
#   acso build: make runs as the user; the log, WORK/build/<release>/, the
#     manifest, the packages and the lock belong to the user, who can build
#     again without sudo;
#   acso run (stubbed steps, tests/integration/stubs/acso-steps; then the real
#     acso build as its build step): resolve…build as the user, snapshot,
#     install and grub as root; what the run creates in the work directory
#     belongs to the user;
#   a work directory that is not the user's: the warning, and the build steps
#     really run as root (the build refuses without --allow-root);
#   SUDO_USER naming no user: build's error, nothing run;
#   an explicit --work-dir is kept under sudo; --dry-run creates nothing.
# The environment is sudo's: HOME is root's (here a directory only root can
# enter) and no XDG_* variables.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"

U=nobody
UID_U=$(id -u "$U")
GID_U=$(id -g "$U")
SUDO=(env SUDO_USER=$U SUDO_UID=$UID_U SUDO_GID=$GID_U)
# as the user, without sudo
AS_USER=(setpriv --reuid="$UID_U" --regid="$GID_U" --clear-groups env HOME=/nonexistent)
[ "$(id -u)" -eq 0 ] || { t_fail "the sudo tests must run as root"; t_done; }

chmod 755 "$T"                       # the user must reach the work dir, the tree, the stubs
chown "$U" "$T/bin"                  # the stub make writes make.uid beside itself
chown -R "$UID_U:$GID_U" "$T/src"
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
mkdir -m 700 "$T/roothome"
export HOME=$T/roothome
unset XDG_CONFIG_HOME XDG_CACHE_HOME
owner() { stat -c %u "$1"; }
# owned_by UID NAME PATH... — every path exists and belongs to UID
owned_by() {
	local want=$1 name=$2 bad=""
	shift 2
	for p in "$@"; do [ -e "$p" ] && [ "$(owner "$p")" = "$want" ] || bad+=" $p($(stat -c %u "$p" 2>&1))"; done
	[ -z "$bad" ] && t_pass "$name" || t_fail "$name" "not owned by $want:$bad"
}

# ---- acso build under sudo ----------------------------------------------------
t_exit 0 "sudo build: exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$W" build --source-dir "$SRC" --json
cp "$T/.out" "$T/build.json"
[ "$(cat "$T/bin/make.uid" 2>/dev/null)" = "$UID_U" ] && t_pass "sudo build: make ran as SUDO_USER ($UID_U)" ||
	t_fail "sudo build: make ran as SUDO_USER" "make.uid: $(cat "$T/bin/make.uid" 2>&1)"
REL=$W/build/6.1.192-acso
owned_by "$UID_U" "sudo build: the log belongs to the user" "$(jq -r .log "$T/build.json")"
owned_by "$UID_U" "sudo build: WORK/logs, WORK/build and WORK/build/<release> belong to the user" "$W/logs" "$W/build" "$REL"
owned_by "$UID_U" "sudo build: the manifest belongs to the user" "$REL/manifest.json"
mapfile -t debs < <(jq -r '.packages[].file' "$T/build.json" | sed "s|^|$REL/|")
[ "${#debs[@]}" = 3 ] && owned_by "$UID_U" "sudo build: the three packages belong to the user" "${debs[@]}" ||
	t_fail "sudo build: three packages" "$(cat "$T/build.json")"
owned_by "$UID_U" "sudo build: the work directory lock belongs to the user" "$W/lock"
rm -f "$T/bin/make.uid"
t_exit 0 "after sudo build, the user builds again without sudo" "${AS_USER[@]}" "$ACSO" --work-dir "$W" build --source-dir "$SRC"
[ "$(cat "$T/bin/make.uid" 2>/dev/null)" = "$UID_U" ] && t_pass "the user's own build ran make" || t_fail "the user's own build ran make"

# SUDO_USER that names no user: build's error, no make.
rm -f "$T/bin/make.uid"
t_exit 1 "SUDO_USER naming no user: exit 1" env SUDO_USER=acso-no-such-user SUDO_UID=4242 SUDO_GID=4242 \
	"$ACSO" --work-dir "$W" build --source-dir "$SRC"
t_grep "SUDO_USER naming no user: says so" "^acso: build: SUDO_USER 'acso-no-such-user' is not a user of this system" "$T/.err"
[ ! -e "$T/bin/make.uid" ] && t_pass "SUDO_USER naming no user: make not run" || t_fail "SUDO_USER naming no user: make not run"

# An explicit --work-dir under root's home stays the work directory (only the
# default follows SUDO_USER); nothing is written there.
NOWHERE=$(getent passwd 0 | cut -d: -f6)/acso-sudo-test-$$-absent
t_exit 1 "--work-dir in root's home under sudo: install finds no build there" "${SUDO[@]}" "$ACSO" --work-dir "$NOWHERE" install --dry-run
t_grep "--work-dir in root's home under sudo: the given directory is the one read" "$NOWHERE/build" "$T/.err"
[ ! -e "$NOWHERE" ] && t_pass "--work-dir in root's home: nothing created" || { t_fail "--work-dir in root's home: nothing created"; rm -rf "$NOWHERE"; }

# ---- acso run under sudo -----------------------------------------------------
# A fresh work directory of the user's: what the run makes in it is new.
W=$T/runwork
mkdir -p "$W" && chown "$UID_U:$GID_U" "$W"
CORPUS=$TOP/tests/grub-corpus
export ACSO_RUN_STEP_PROGRAM=$TOP/tests/integration/stubs/acso-steps REAL_ACSO=$ACSO STUB_LOG=$T/steps STUB_UIDS=$T/uids
unset STUB_SLEEP STUB_FAIL STUB_REAL_BUILD
: >"$T/steps"
: >"$T/uids"
chmod 666 "$T/steps" "$T/uids"
R=$T/root
mkdir -p "$R/proc" "$R/usr/sbin"
cp -a "$CORPUS/debian-12/." "$R/"
printf 'vendor_id\t: GenuineIntel\n' >"$R/proc/cpuinfo"
touch "$R/usr/sbin/update-grub"
# uid_of STEP — the uid the stub recorded for STEP's last run
uid_of() { awk -v s="$1" '$1 == s { u = $2 } END { print u }' "$T/uids"; }
# step_uids WANT NAME STEPS... — each step ran as WANT
step_uids() {
	local want=$1 name=$2 bad=""
	shift 2
	for s in "$@"; do [ "$(uid_of "$s")" = "$want" ] || bad+=" $s:$(uid_of "$s")"; done
	[ -z "$bad" ] && t_pass "$name" || t_fail "$name" "expected uid $want:$bad" "$(cat "$T/uids")"
}
BUILD_STEPS="resolve fetch patch config build"
ROOT_STEPS="snapshot install grub"

t_exit 0 "sudo run: exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$W" run --root "$R"
step_uids "$UID_U" "sudo run: resolve, fetch, patch, config, build ran as SUDO_USER" $BUILD_STEPS
step_uids 0 "sudo run: snapshot, install, grub ran as root" $ROOT_STEPS
t_grep "sudo run: the grub step registered the parameter" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
owned_by "$UID_U" "sudo run: the build steps' logs belong to the user" $(for s in $BUILD_STEPS; do echo "$W/logs/auto/$s.log"; done)
owned_by 0 "sudo run: the root steps' logs stay root's" $(for s in $ROOT_STEPS; do echo "$W/logs/auto/$s.log"; done)
owned_by "$UID_U" "sudo run: the directories the run made belong to the user (logs, state)" \
	"$W/logs" "$W/logs/auto" "$W/state" "$W/state/lock"
t_exit 0 "after sudo run, the user's own acso run finds nothing to do" "${AS_USER[@]}" "$ACSO" --work-dir "$W" run --root "$R"
t_grep "the user's run: nothing to do" '^Nothing to do' "$T/.out"

# The real acso build as the build step, run by the dropped child: its log
# goes into the WORK/logs the run made, its config is read from the user's home.
mkdir -p "$W/src/linux-6.1.192"
cp "$SRC/Makefile" "$SRC/.config" "$W/src/linux-6.1.192/"
chown -R "$UID_U:$GID_U" "$W/src"
rm -f "$T/bin/make.uid"
STUB_REAL_BUILD=1 t_exit 0 "sudo run, real build step: exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$W" run --root "$R" --from build
[ "$(cat "$T/bin/make.uid" 2>/dev/null)" = "$UID_U" ] && t_pass "sudo run, real build step: make ran as SUDO_USER" ||
	t_fail "sudo run, real build step: make ran as SUDO_USER" "$(tail -5 "$W/logs/auto/build.log" 2>&1)"
step_uids 0 "sudo run, real build step: install and grub as root after it" install grub

# ---- a work directory that is not SUDO_USER's --------------------------------
W2=$T/rootwork
mkdir -p "$W2"
: >"$T/uids"
t_exit 0 "root's work dir: sudo run exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$W2" run --root "$R"
t_grep "root's work dir: the warning" "^acso: warning: run: work directory '$W2' does not belong to SUDO_USER \(uid $UID_U\): the build steps run as root" "$T/.err"
step_uids 0 "root's work dir: every step ran as root" $BUILD_STEPS $ROOT_STEPS
# The real build step: plain root, so it refuses without --allow-root...
mkdir -p "$W2/src/linux-6.1.192"
cp "$SRC/Makefile" "$SRC/.config" "$W2/src/linux-6.1.192/"
rm -f "$T/bin/make.uid"
STUB_REAL_BUILD=1 t_exit 1 "root's work dir, real build: refused without --allow-root" "${SUDO[@]}" "$ACSO" --work-dir "$W2" run --root "$R" --from build
t_grep "root's work dir, real build: the build says it will not build as root" 'refusing to build the kernel as root' "$T/.err"
[ ! -e "$T/bin/make.uid" ] && t_pass "root's work dir, real build: no make ran" || t_fail "root's work dir: no make ran" "uid $(cat "$T/bin/make.uid")"
# ...and builds as root with it.
STUB_REAL_BUILD=1 t_exit 0 "root's work dir, real build with --allow-root: exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$W2" run --root "$R" --from build --allow-root
[ "$(cat "$T/bin/make.uid" 2>/dev/null)" = 0 ] && t_pass "root's work dir, --allow-root: make ran as root" ||
	t_fail "root's work dir, --allow-root: make ran as root" "make.uid: $(cat "$T/bin/make.uid" 2>&1)"
owned_by 0 "root's work dir: nothing given to the user" "$W2/build" "$W2/logs" "$W2/state"

# --dry-run under sudo creates nothing.
t_exit 0 "sudo run --dry-run exits 0" "${SUDO[@]}" "$ACSO" --work-dir "$T/not-yet" run --root "$R" --dry-run
[ ! -e "$T/not-yet" ] && t_pass "sudo run --dry-run: the work directory is not created" || t_fail "sudo run --dry-run creates nothing" "$(ls -la "$T/not-yet")"
t_done
