#!/usr/bin/env bash
# Documentation stays true to the code: every command of the command table
# has its README section and man page section, every option of every command
# is in the man page, docs/acso.1 is what scripts/gen-man assembles, and every
# exit code is in the README.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
ACSO=$ACSO scripts/gen-man "$T/acso.1" 2>"$T/err" || t_fail "gen-man runs" "$(cat "$T/err")"
if cmp -s "$T/acso.1" docs/acso.1; then t_pass "docs/acso.1 is up to date (scripts/gen-man)"; else
	t_fail "docs/acso.1 is up to date (scripts/gen-man)" "$(diff "$T/acso.1" docs/acso.1 | head)"; fi
for c in $("$ACSO" --list-commands); do
	grep -qE "^#+ .*acso $c( |\`|$)" README.md || t_fail "README documents acso $c"
	grep -q "^\.SS $c\$" docs/acso.1 || t_fail "man page documents $c"
	for o in $("$ACSO" "$c" --list-options); do
		case $o in --list-options|--root|--json|--verbose|--quiet|--color|--dry-run|--work-dir|--config|--help) continue ;; esac
		grep -q -- "${o//-/\\\\-}\|$o" docs/acso.1 || t_fail "man page names $c $o"
	done
done
t_pass "every command and option is documented"
for code in 0 1 2 3 4 5 6 7 8 9; do
	grep -q "^| $code |" README.md || t_fail "README lists exit code $code"
done
t_pass "README lists every exit code"
t_done
