#!/usr/bin/env bash
# `make install PREFIX=/usr DESTDIR=D` gives a binary that finds its data
# (keys/, patches/, kconfig/) under its own prefix, whatever PREFIX it was
# compiled with: the installed binary verifies a real kernel.org signature
# with the keys it was installed with, from D/usr/bin, with no ACSO_DATADIR.
. "$(dirname "$0")/../lib.sh"
unset ACSO_DATADIR
D=$T/dest
# -o: install the binary under test as it is, never relink it here
make -s -C "$TOP" -o "$ACSO" install PREFIX=/usr DESTDIR="$D" ACSO_BIN="$ACSO" >"$T/make.log" 2>&1 ||
	t_fail "make install PREFIX=/usr DESTDIR=..." "$(tail -5 "$T/make.log")"
[ -x "$D/usr/bin/acso" ] && [ -d "$D/usr/share/acso/keys" ] && [ -f "$D/usr/share/man/man1/acso.1" ] &&
	t_pass "installed under DESTDIR/usr" || t_fail "installed under DESTDIR/usr" "$(cd "$D" && find . | head)"
# run it from elsewhere: no source checkout above it, no data in the cwd
cd "$T"
t_exit 0 "the installed binary verifies with its own keys" "$D/usr/bin/acso" verify-signature "$TOP/tests/data/kernel.org/v4.x-sha256sums.asc"
t_grep "it names the signer from its keys" "^Good signature from 'Kernel.org checksum autosigner" "$T/.out"
# and the keys are the installed ones: take them away and it cannot verify
mv "$D/usr/share/acso/keys" "$D/usr/share/acso/keys.away"
t_exit 1 "without the installed keys it cannot verify" "$D/usr/bin/acso" verify-signature "$TOP/tests/data/kernel.org/v4.x-sha256sums.asc"
t_done
