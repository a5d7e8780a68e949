#!/usr/bin/env bash
# The driver: help from the command table, version, usage errors, --root,
# config files, exit codes.
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
t_done
