#!/usr/bin/env bash
# The bash completion (scripts/acso.bash-completion), driven the way bash
# drives it (COMP_WORDS/COMP_CWORD, then COMPREPLY): commands, options from
# the command table without internal ones, directories, files, fixed words,
# GPU addresses below --root, run's steps; and every option that takes a
# value (from each command's --help) has a case in the script.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
mkdir -p "$T/bin" "$T/cwd/adir" && touch "$T/cwd/afile"
ln -s "$ACSO" "$T/bin/acso"
FIX=$TOP/tests/fixtures/desktop-clean

# comp WORD... — complete the last word; prints COMPREPLY one per line.
comp() {
	(cd "$T/cwd" && PATH="$T/bin:$PATH" bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _acso; [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' \
		"$TOP/scripts/acso.bash-completion" "$@")
}
# expect NAME "WANTED (sorted, space separated)" WORD...
expect() {
	local name=$1 want=$2; shift 2
	local got
	got=$(comp "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] && t_pass "$name" || t_fail "$name" "got '$got', want '$want'"
}

expect "command names" "verify verify-signature" acso veri
expect "global options before the command" "--color --config" acso --co
expect "command options, no internal ones" "--from" acso run --fr
comp acso run --li >"$T/o"; [ ! -s "$T/o" ] && t_pass "no --list-options/--list-steps offered" || t_fail "no --list-options/--list-steps offered" "$(cat "$T/o")"
comp acso groups - >"$T/o"; grep -qx -- --gpu "$T/o" && ! grep -q -- "--list" "$T/o" && t_pass "groups options" || t_fail "groups options" "$(cat "$T/o")"
expect "directories after --root" "adir" acso --root a
expect "directories after --work-dir" "adir" acso check --work-dir a
expect "files after --config" "adir afile" acso --config a
expect "--color values" "always auto never" acso --color ""
expect "--acs modes" "auto downstream downstream,multifunction id: multifunction" acso grub --acs ""
expect "--acs after a prefix" "downstream downstream,multifunction" acso run --acs d
expect "GPU addresses below --root after --gpu" "0000:01:00.0" acso --root "$FIX" groups --gpu ""
expect "GPU addresses with --root=DIR" "0000:01:00.0" acso groups --root="$FIX" --gpu 0000
expect "vfio GPU addresses below --root" "0000:01:00.0" acso --root "$FIX" vfio ""
expect "steps after --from" "build" acso run --from bu
expect "run's --update" "--update" acso run --upd
expect "run's --no-ccache" "--no-ccache" acso run --no-cc
expect "steps after --only" "config" acso run --only co
expect "no command names after --root" "" acso --root chec
expect "no files after --timeout" "" acso fetch --timeout a

# every option that takes a value has a case in the script
for c in $("$ACSO" --list-commands); do
	COLUMNS=200 "$ACSO" "$c" --help | grep -oE -- '--[a-z-]+ [A-Z]' | sed 's/ .*//' | sort -u >"$T/valued"
	while read -r o; do
		grep -qE -- "(^|[[:space:]|])$o([|)]|$)" scripts/acso.bash-completion || t_fail "completion knows the value of $c $o"
	done <"$T/valued"
done
t_pass "every option that takes a value has a case"
t_done
