#!/usr/bin/env bash
# The driver: help from the command table (wrapped to the terminal, global
# options once), version, usage errors, --root, config files, exit codes, and
# what the command table declares: root (exit 9 with the command to run), the
# work dir lock (exit 8), -q.
. "$(dirname "$0")/../lib.sh"

t_exit 0 "--help exits 0" "$ACSO" --help
t_grep "--help lists every command" '^  verify-signature ' "$T/.out"
for c in $("$ACSO" --list-commands); do
	"$ACSO" "$c" --help >"$T/h" 2>&1 || t_fail "$c --help exits 0"
	grep -q "^Usage: acso $c" "$T/h" || t_fail "$c --help prints its usage"
done
t_pass "every command has --help"
t_exit 0 "--version" "$ACSO" --version
t_grep "--version prints acso and a version" '^acso [0-9]+\.[0-9]+' "$T/.out"
t_exit 2 "unknown command is a usage error" "$ACSO" frobnicate
t_grep "unknown command says so" "'frobnicate' is not an acso command" "$T/.err"
t_exit 2 "no command is a usage error" "$ACSO"
t_exit 2 "unknown option is a usage error" "$ACSO" groups --frob
t_exit 2 "bad --color value" "$ACSO" --color=sometimes groups
t_exit 2 "too many arguments" "$ACSO" groups extra
t_exit 1 "missing --root" "$ACSO" --root "$T/nope" groups
t_grep "missing --root is explained" "--root '.*nope': No such file or directory" "$T/.err"
t_exit 1 "--root after the command is honoured" "$ACSO" groups --root "$T/nope"
t_exit 0 "options after a positional argument are parsed" "$ACSO" snapshot "$T/snap.tar.gz" --root "$FIXTURES/seed"

mkdir -p "$HOME/.config/acso"
printf 'mirorr = x\n' >"$HOME/.config/acso/acso.conf"
"$ACSO" --root "$T/nope" groups >/dev/null 2>"$T/err"
t_grep "unknown config key is reported with its origin" 'acso.conf:1: unknown key .mirorr.' "$T/err"
printf 'junk\n' >"$HOME/.config/acso/acso.conf"
t_exit 1 "malformed config file is an error" "$ACSO" groups
t_grep "malformed config names file and line" "acso.conf:1: expected 'key = value'" "$T/.err"
t_exit 1 "explicit --config that does not exist" "$ACSO" --config "$T/none.conf" groups
rm -f "$HOME/.config/acso/acso.conf"

# ---- help: wrapped to COLUMNS (80 when not a terminal), global options once
wide=""
for c in $("$ACSO" --list-commands); do
	COLUMNS=80 "$ACSO" "$c" --help >"$T/h"
	w=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$T/h")
	[ "$w" -le 80 ] || wide="$wide $c($w)"
	grep -q -- "--work-dir" "$T/h" && t_fail "$c --help does not repeat the global options"
	grep -q "^Global options: see 'acso --help'" "$T/h" || t_fail "$c --help points to acso --help"
	"$ACSO" "$c" --help | cmp -s - "$T/h" || t_fail "$c --help is 80 columns wide when stdout is not a terminal"
done
[ -z "$wide" ] && t_pass "COLUMNS=80: no help line over 80 columns" || t_fail "COLUMNS=80: no help line over 80 columns" "$wide"
COLUMNS=60 "$ACSO" --help >"$T/h"
[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/h")" -le 60 ] && t_pass "COLUMNS=60 is honoured" || t_fail "COLUMNS=60 is honoured"
t_grep "hanging indent for option help" '^ {31}\(default /\)$' "$T/h"
COLUMNS=80 "$ACSO" --help >"$T/h"
[ "$(grep -c -- '--work-dir DIR' "$T/h")" = 1 ] && t_pass "acso --help lists the global options" || t_fail "acso --help lists the global options"

# ---- messages carry the command's name
t_exit 2 "a bad number" "$ACSO" build --jobs 0
t_grep "range error names command, option and range" "^acso: build: --jobs '0': expected a number from 1 to 4096$" "$T/.err"
t_exit 2 "unknown option" "$ACSO" groups --frob
t_grep "unknown option names the command" "^acso: groups: unknown option or missing argument '--frob'" "$T/.err"
t_exit 2 "bad --color" "$ACSO" groups --color=sometimes
t_grep "enum error lists the words" "^acso: groups: --color 'sometimes': expected auto, always or never$" "$T/.err"

# ---- -q: no progress or info, results still printed
t_exit 0 "snapshot" "$ACSO" --root "$FIXTURES/seed" snapshot "$T/s1.tar.gz"
t_grep "without -q: the info line" "^wrote " "$T/.err"
t_exit 0 "snapshot -q" "$ACSO" --root "$FIXTURES/seed" snapshot -q "$T/s2.tar.gz"
[ ! -s "$T/.err" ] && t_pass "-q after the command: nothing on stderr" || t_fail "-q after the command: nothing on stderr" "$(cat "$T/.err")"
t_grep "-q: the result is still printed" "s2.tar.gz" "$T/.out"
t_exit 0 "acso -q snapshot" "$ACSO" -q --root "$FIXTURES/seed" snapshot "$T/s3.tar.gz"
[ ! -s "$T/.err" ] && t_pass "-q before the command: nothing on stderr" || t_fail "-q before the command: nothing on stderr" "$(cat "$T/.err")"

# ---- the work dir lock: fetch, patch and config are refused while another
# command holds it (exit 8, naming the holder); --dry-run takes no lock
W=$T/w
mkdir -p "$W"
printf 'pid 4242 (acso build, since 2026-01-01 00:00:00 UTC)\n' >"$W/lock"
flock "$W/lock" sleep 60 &
t_track_pid $!
for _ in $(seq 50); do flock -n "$W/lock" true 2>/dev/null || break; sleep 0.1; done
t_exit 8 "fetch while the work dir is locked" "$ACSO" --work-dir "$W" fetch --tarball /nonexistent.tar.xz --sha256 00
t_grep "locked: names the holder" "^acso: fetch: work directory: '$W/lock' is held by pid 4242 \(acso build" "$T/.err"
t_exit 8 "patch while the work dir is locked" "$ACSO" --work-dir "$W" patch --source-dir "$T/none"
t_exit 8 "config while the work dir is locked" "$ACSO" --work-dir "$W" config --source-dir "$T/none"
"$ACSO" --work-dir "$W" patch --dry-run --source-dir "$T/none" >/dev/null 2>"$T/err"
[ $? -ne 8 ] && t_pass "patch --dry-run takes no lock" || t_fail "patch --dry-run takes no lock"

# ---- root: one check, one wording, exit 9 and the exact command
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME HOME=/nonexistent)
	chmod 755 "$T" # nobody reaches $T/own
	for c in "grub --iommu-pt" "setup" "install /x.deb" "uninstall" "prebuilt"; do
		t_exit 9 "acso $c as a normal user: exit 9" "${AS_NOBODY[@]}" "$ACSO" --work-dir "$T/nw" --root "$FIXTURES/seed" $c
		t_grep "acso $c: one wording" "^acso: ${c%% *}: changes the system and needs root$" "$T/.err"
		t_grep "acso $c: the exact command" "^hint: run: sudo acso --work-dir $T/nw --root $FIXTURES/seed $c$" "$T/.err"
	done
	"${AS_NOBODY[@]}" "$ACSO" --work-dir "$T/nw" --root "$FIXTURES/seed" grub --dry-run >/dev/null 2>&1
	[ $? -ne 9 ] && t_pass "grub --dry-run needs no root" || t_fail "grub --dry-run needs no root"
	mkdir -p "$T/own" && cp -a "$FIXTURES/seed/." "$T/own/" && chown -R 65534:65534 "$T/own"
	"${AS_NOBODY[@]}" "$ACSO" --work-dir "$T/nw" --root "$T/own" grub --no-update >/dev/null 2>"$T/err"
	[ $? -ne 9 ] && t_pass "a --root DIR the user owns needs no root" || t_fail "a --root DIR the user owns needs no root" "$(cat "$T/err")"
	t_exit 9 "verify --make-default as a normal user" "${AS_NOBODY[@]}" "$ACSO" --work-dir "$T/nw" --root "$FIXTURES/seed" verify --make-default
	t_grep "an option that needs root says which" "^acso: verify: --make-default changes the system and needs root$" "$T/.err"
	t_grep "the exact command, with the option" "^hint: run: sudo acso --work-dir $T/nw --root $FIXTURES/seed verify --make-default$" "$T/.err"
else
	t_fail "setpriv can drop to nobody (tests run as root)"
fi
t_done
