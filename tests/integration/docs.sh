#!/usr/bin/env bash
# Documentation stays true to the code: every command of the command table
# has its section in the guide (docs/guide.md) and the man page, every option
# of every command is in the man page, docs/acso.1 is what scripts/gen-man
# assembles, every exit code is in the README, and the README stays an
# entrance (at most 300 lines) that links to the reference.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
ACSO=$ACSO scripts/gen-man "$T/acso.1" 2>"$T/err" || t_fail "gen-man runs" "$(cat "$T/err")"
if cmp -s "$T/acso.1" docs/acso.1; then t_pass "docs/acso.1 is up to date (scripts/gen-man)"; else
	t_fail "docs/acso.1 is up to date (scripts/gen-man)" "$(diff "$T/acso.1" docs/acso.1 | head)"; fi
for c in $("$ACSO" --list-commands); do
	grep -qE "^#+ .*acso $c( |\`|$)" docs/guide.md || t_fail "docs/guide.md documents acso $c"
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
n=$(wc -l <README.md)
if [ "$n" -le 300 ]; then t_pass "README is an entrance of at most 300 lines ($n)"; else
	t_fail "README is an entrance of at most 300 lines" "it has $n"; fi
for f in docs/guide.md docs/demo.md docs/development.md docs/acso.1; do
	grep -q "($f)" README.md || t_fail "README links to $f"
done
t_pass "README links to the reference"
t_done
