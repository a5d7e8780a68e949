#!/usr/bin/env bash
# pgp-differential: acso verify-signature against gpgv and sqv on one corpus
# (issue 15 C13): the real kernel.org files in tests/data/kernel.org, and the
# cases tests/pgp-corpus.sh generates (expired, revoked, subkey, revoked
# subkey, superseded binding in either order, SHA-1, wrong data, unknown
# key). acso's verdict (good or not) equals both referees' on every case,
# except where the table below names why acso is stricter:
#   sha1     gpgv's defaults accept SHA-1 over data; sqv refuses it; acso too
#   expired  sqv accepts a signature made while the key was alive; gpgv says
#            EXPKEYSIG (which apt treats as not good); acso refuses as gpgv
#   roles    both accept any key in the keyring; acso pins kernel.org's
#            checksum autosigner to sha256sums.asc and the release signers to
#            tarballs (issue 15 C9)
# and one case where acso is less strict than sqv, as gpgv:
#   sha1-self  sqv refuses the shipped autosigner key itself: its only user-ID
#            self-signature (2013) uses SHA-1, which Sequoia's policy no longer
#            accepts on keys since 2023-02-01. acso and gpgv read SHA-1
#            self-signatures (acso trusts the key because it ships it; a
#            self-signature only states its validity); refusing them would
#            refuse every real sha256sums.asc.
# A refusal must also say why (the reason in acso's message; "-": none).
# gpgv's verdict is read the way apt reads it: good only with GOODSIG and
# without EXPKEYSIG/REVKEYSIG/EXPSIG/BADSIG/ERRSIG on the status fd.
. "$(dirname "$0")/../lib.sh"
export ACSO_DATADIR=$TOP
KO=$TOP/tests/data/kernel.org
for tool in gpg gpgv sqv python3; do
	command -v $tool >/dev/null || { t_fail "$tool is installed (test dependency: apt-get install gpgv sqv)"; t_done; }
done

bash "$TOP/tests/pgp-corpus.sh" "$T/c" >"$T/corpus.log" 2>&1 &&
	[ "$(wc -l <"$T/c/cases")" -ge 13 ] && t_pass "the corpus generator made $(wc -l <"$T/c/cases") cases" ||
	{ t_fail "the corpus generator ran" "$(tail -5 "$T/corpus.log")"; t_done; }
t_on_exit "GNUPGHOME=$T/c/gnupg gpgconf --kill gpg-agent"

# Verdicts: "good" or "no".
gpgv_says() { # KEYRING-GPG SIG [DATA]
	local st
	st=$(gpgv --status-fd 1 --keyring "$@" 2>/dev/null)
	if grep -q '^\[GNUPG:\] GOODSIG' <<<"$st" && ! grep -qE '^\[GNUPG:\] (EXPKEYSIG|REVKEYSIG|EXPSIG|BADSIG|ERRSIG)' <<<"$st"
	then echo good; else echo no; fi
}
sqv_says() { # KEYRING SIG DATA — sqv's message in $T/s.err
	sqv --keyring "$1" "$2" "$3" >/dev/null 2>"$T/s.err" && echo good || echo no
}
said() { # FILE PATTERN|- — the message matches, or "-": there is none
	if [ "$2" = - ]; then [ ! -s "$1" ]; else grep -qE "$2" "$1"; fi
}
acso_says() { # ROLE KEYRING|- DATA SIG — sets a (the verdict) and rc; the message in $T/a.err
	local role=$1 kr=$2; shift 2
	if [ "$kr" = - ]; then
		"$ACSO" verify-signature --role "$role" "$@" >/dev/null 2>"$T/a.err"
	else
		"$ACSO" verify-signature --no-default-keys --keyring "$kr" --role "$role" "$@" >/dev/null 2>"$T/a.err"
	fi
	rc=$?
	a=no
	[ $rc -eq 0 ] && a=good
}

# The table: the verdicts of acso, gpgv, sqv, and acso's message (a refusal
# names its reason) for each case.
declare -A want=(
	[good]="good good good -"
	[good-sha256]="good good good -"
	[rsa-sha256]="good good good -"
	[subkey]="good good good -"
	[wrong-data]="no no no BAD signature from 'Good"
	[no-key]="no no no no public key"
	[sha1]="no good no uses SHA-1, which is broken"
	[expired]="no no good whose key [0-9A-F]{16} expired on 2020-01-02"
	[expired-before-signature]="no no no whose key [0-9A-F]{16} expired on 2020-01-02"
	[revoked]="no no no whose key [0-9A-F]{16} was revoked on"
	[subkey-revoked]="no no no whose subkey [0-9A-F]{16} was revoked on"
	[superseded]="no no no whose subkey [0-9A-F]{16} expired on 2020-01-02"
	[superseded-newer-first]="no no no whose subkey [0-9A-F]{16} expired on 2020-01-02"
)
seen=0 a= rc=
while read -r name data sig kr krg role; do
	seen=$((seen + 1))
	c=$T/c
	acso_says "$role" "$c/$kr" "$c/$data" "$c/$sig"
	g=$(gpgv_says "$c/$krg" "$c/$sig" "$c/$data")
	s=$(sqv_says "$c/$kr" "$c/$sig" "$c/$data")
	read -r wa wg ws wmsg <<<"${want[$name]:-? ? ? ?}"
	if [ "$a $g $s" = "$wa $wg $ws" ] && said "$T/a.err" "$wmsg"; then
		t_pass "$name: acso $a, gpgv $g, sqv $s$([ "$a" = no ] && echo " ($(sed -n 's/^acso: verify [^:]*: //p' "$T/a.err" | cut -c1-60))")"
	else
		t_fail "$name: acso/gpgv/sqv want '$wa $wg $ws', got '$a $g $s'" "acso exit $rc: $(cat "$T/a.err")"
	fi
done <"$T/c/cases"
[ $seen -eq ${#want[@]} ] && t_pass "every case of the table was generated ($seen)" ||
	t_fail "every case of the table was generated" "generated $seen, table ${#want[@]}"

# ---- the real kernel.org files. gpgv and sqv get the shipped keys as one
# binary keyring (gpg's export; three of the files start with plain text).
export GNUPGHOME=$T/real
mkdir -m 700 "$GNUPGHOME"
t_on_exit "GNUPGHOME=$T/real gpgconf --kill gpg-agent"
for k in "$TOP"/keys/*.asc; do gpg --batch --quiet --import "$k" 2>/dev/null; done
gpg --batch --export >"$T/kernel.gpg"
[ -s "$T/kernel.gpg" ] || t_fail "the shipped keys exported for gpgv and sqv"
# sha256sums.asc is cleartext-signed; sqv checks detached signatures only, so
# it gets the signature block and the text as signed (dash-escaping undone,
# trailing blanks stripped, CRLF between lines, none after the last).
split_clear() { # FILE TEXT-OUT SIG-OUT
	python3 - "$@" <<'PY'
import re, sys
src = open(sys.argv[1], 'rb').read().decode()
head, rest = src.split('\n\n', 1)
text, sig = rest.split('-----BEGIN PGP SIGNATURE-----', 1)
lines = text.split('\n')[:-1]
lines = [re.sub(r'[ \t\r]+$', '', l[2:] if l.startswith('- ') else l) for l in lines]
open(sys.argv[2], 'wb').write('\r\n'.join(lines).encode())
open(sys.argv[3], 'w').write('-----BEGIN PGP SIGNATURE-----' + sig)
PY
}
real() { # NAME ROLE WANT-ACSO WANT-GPGV WANT-SQV MESSAGE GPGV-ARGS... -- SQV-SIG SQV-DATA -- ACSO-ARGS...
	local name=$1 role=$2 wa=$3 wg=$4 ws=$5 wmsg=$6; shift 6
	local gargs=() sargs=()
	while [ "$1" != -- ]; do gargs+=("$1"); shift; done; shift
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
	local g s
	acso_says "$role" - "$@"
	g=$(gpgv_says "$T/kernel.gpg" "${gargs[@]}")
	s=$(sqv_says "$T/kernel.gpg" "${sargs[@]}")
	if [ "$a $g $s" = "$wa $wg $ws" ] && said "$T/a.err" "$wmsg"; then
		t_pass "real $name: acso $a, gpgv $g, sqv $s"
	else
		t_fail "real $name: acso/gpgv/sqv want '$wa $wg $ws', got '$a $g $s'" "acso exit $rc: $(cat "$T/a.err")"
	fi
}
S=$KO/v4.x-sha256sums.asc
split_clear "$S" "$T/sums.txt" "$T/sums.sig"
real sha256sums.asc auto good good no - "$S" -- "$T/sums.sig" "$T/sums.txt" -- "$S"
t_grep "  ... sqv's refusal is the autosigner key's SHA-1 self-signature (sha1-self)" \
	"SHA1 is not considered secure" "$T/s.err"
python3 - "$S" "$T/changed.asc" <<'PY'
import sys
t = open(sys.argv[1]).read()
i = t.index('  linux-4.9.tar.xz') - 64
open(sys.argv[2], 'w').write(t[:i] + ('0' if t[i] != '0' else '1') + t[i + 1:])
PY
split_clear "$T/changed.asc" "$T/changed.txt" "$T/changed.sig"
real "sha256sums.asc, one digit changed" auto no no no "BAD signature from 'Kernel.org checksum autosigner" \
	"$T/changed.asc" -- "$T/changed.sig" "$T/changed.txt" -- "$T/changed.asc"
# Roles: the autosigner's signature asked to vouch for a release, and the
# same signature presented as a tarball's .tar.sign (a stolen autosigner key
# would make exactly that): gpgv accepts it, acso refuses it (sqv refuses
# the key itself, sha1-self above).
real "sha256sums.asc as a release (roles)" release no good no "signs the checksum files, not releases" \
	"$S" -- "$T/sums.sig" "$T/sums.txt" -- "$S"
cp "$T/sums.sig" "$T/linux-4.9.tar.sign"
real "autosigner signature as a .tar.sign (roles)" auto no good no "signs the checksum files, not releases" \
	"$T/linux-4.9.tar.sign" "$T/sums.txt" -- "$T/linux-4.9.tar.sign" "$T/sums.txt" -- "$T/sums.txt" "$T/linux-4.9.tar.sign"
# Real release signatures over data that is not theirs: not good for anyone
# (Greg SHA-256 by fingerprint, Greg SHA-256 by key id, Linus SHA-1).
echo "not the tarball" >"$T/other"
for f in linux-6.6.tar.sign linux-4.6.1.tar.sign linux-4.18.tar.sign; do
	real "$f over other data" auto no no no "BAD signature from" \
		"$KO/sign/$f" "$T/other" -- "$KO/sign/$f" "$T/other" -- "$T/other" "$KO/sign/$f"
done

# ---- fetch pins the roles too: a .tar.sign by the autosigner is refused
# before anything is extracted (fetch --tarball verifies as a download does).
xz -c "$T/sums.txt" >"$T/linux-4.9.tar.xz"
sum=$(sha256sum "$T/linux-4.9.tar.xz" | cut -d' ' -f1)
t_exit 1 "fetch refuses a .tar.sign made by the checksum autosigner" \
	"$ACSO" --work-dir "$T/w" fetch --tarball "$T/linux-4.9.tar.xz" --sha256 "$sum" --sign "$T/linux-4.9.tar.sign"
t_grep "  ... and says which role the key has" "signs the checksum files, not releases" "$T/.err"
t_done
