#!/usr/bin/env bash
# tests/pgp-corpus.sh OUT — generate the differential corpus of OpenPGP
# cases that tests/integration/pgp-differential.sh runs through acso, gpgv and
# sqv. Throwaway keys in a private GNUPGHOME (ed25519, and rsa2048 where
# SHA-1 needs it), past times with --faked-system-time; no network.
#
# OUT/cases holds one line per case:
#   NAME DATA SIG KEYRING GPGV-KEYRING ROLE
# KEYRING is what acso and sqv read (armored; for "superseded" two exports of
# one key, the older first); GPGV-KEYRING is a binary keyring gpgv reads (gpg's
# merge of the same exports: gpgv reads only the first block of a key).
# ROLE is acso verify-signature's --role. The real kernel.org cases are added
# by the test itself, which knows where the shipped keys are.
set -eu
OUT=$1
mkdir -p "$OUT"
export GNUPGHOME=$OUT/gnupg
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true' EXIT
G=(gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '')
cd "$OUT"
printf 'linux-6.6.5.tar: the data every case signs\n' >data
printf 'linux-6.6.5.tar: the data every case signs, changed\n' >data-changed
: >cases
fpr() { "${G[@]}" --with-colons --list-keys "$1" | awk -F: '$1=="fpr"{print $10; exit}'; }
subfpr() { "${G[@]}" --with-colons --list-keys "$1" | awk -F: '$1=="sub"{s=1} s&&$1=="fpr"{print $10; exit}'; }
exp_keys() { # NAME UID... — NAME.asc (armored) and NAME.gpg (binary)
	local n=$1; shift
	"${G[@]}" --armor --export "$@" >"$n.asc"
	"${G[@]}" --export "$@" >"$n.gpg"
}
case_() { echo "$*" >>cases; }

# A good ed25519 key, and the plain cases around it.
"${G[@]}" --quick-gen-key 'Good <good@test.invalid>' ed25519 sign never
exp_keys good good@test.invalid
"${G[@]}" -u good@test.invalid --detach-sign -o good.sig data
case_ good data good.sig good.asc good.gpg any
case_ wrong-data data-changed good.sig good.asc good.gpg any
"${G[@]}" -u good@test.invalid --digest-algo SHA256 --detach-sign -o good256.sig data
case_ good-sha256 data good256.sig good.asc good.gpg any
# A key that is not the signer's.
"${G[@]}" --quick-gen-key 'Other <other@test.invalid>' ed25519 sign never
exp_keys other other@test.invalid
case_ no-key data good.sig other.asc other.gpg any

# SHA-1 over the data (RSA: gpg will not pair EdDSA with a 160-bit hash).
"${G[@]}" --quick-gen-key 'Rsa <rsa@test.invalid>' rsa2048 sign never
exp_keys rsa rsa@test.invalid
"${G[@]}" -u rsa@test.invalid --digest-algo SHA256 --detach-sign -o rsa.sig data
case_ rsa-sha256 data rsa.sig rsa.asc rsa.gpg any
"${G[@]}" -u rsa@test.invalid --digest-algo SHA1 --detach-sign -o rsa-sha1.sig data
case_ sha1 data rsa-sha1.sig rsa.asc rsa.gpg any

# Expired: a key made on 2020-01-01 for one day, a signature made while it
# was valid (it has expired since).
T0=20200101T000000
"${G[@]}" --faked-system-time $T0 --quick-gen-key 'Expired <expired@test.invalid>' ed25519 sign 1d
exp_keys expired expired@test.invalid
"${G[@]}" --faked-system-time 20200101T120000 -u expired@test.invalid --detach-sign -o expired.sig data
case_ expired data expired.sig expired.asc expired.gpg any
# Expired before it signed: made without expiry, a signature on 2020-01-03,
# then a newer self-signature that ends the key on 2020-01-02.
"${G[@]}" --faked-system-time $T0 --quick-gen-key 'Lapsed <lapsed@test.invalid>' ed25519 sign never
"${G[@]}" --faked-system-time 20200103T000000 -u lapsed@test.invalid --detach-sign -o lapsed.sig data
"${G[@]}" --faked-system-time 20200101T000100 --quick-set-expire "$(fpr lapsed@test.invalid)" 1d
exp_keys lapsed lapsed@test.invalid
case_ expired-before-signature data lapsed.sig lapsed.asc lapsed.gpg any

# Revoked: a key with its revocation certificate (reason 0, no reason: hard).
"${G[@]}" --quick-gen-key 'Revoked <revoked@test.invalid>' ed25519 sign never
"${G[@]}" -u revoked@test.invalid --detach-sign -o revoked.sig data
F=$(fpr revoked@test.invalid)
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$F.rev" >revoked.rev
"${G[@]}" --import revoked.rev
exp_keys revoked revoked@test.invalid
case_ revoked data revoked.sig revoked.asc revoked.gpg any

# A signing subkey: good; then the same with the subkey revoked.
"${G[@]}" --quick-gen-key 'Sub <sub@test.invalid>' ed25519 cert never
F=$(fpr sub@test.invalid)
"${G[@]}" --quick-add-key "$F" ed25519 sign never
exp_keys sub sub@test.invalid
"${G[@]}" -u sub@test.invalid --detach-sign -o sub.sig data
case_ subkey data sub.sig sub.asc sub.gpg any
"${G[@]}" --quick-gen-key 'Subrev <subrev@test.invalid>' ed25519 cert never
F=$(fpr subrev@test.invalid)
"${G[@]}" --quick-add-key "$F" ed25519 sign never
"${G[@]}" -u subrev@test.invalid --detach-sign -o subrev.sig data
printf 'key 1\nrevkey\ny\n0\n\ny\nsave\n' |
	"${G[@]}" --command-fd 0 --status-fd 2 --edit-key "$F" 2>/dev/null
exp_keys subrev subrev@test.invalid
case_ subkey-revoked data subrev.sig subrev.asc subrev.gpg any

# Superseded binding: a subkey bound without expiry on 2020-01-01, a
# signature by it on 2020-01-03, then (2020-01-04) a newer binding that made
# the subkey expire on 2020-01-02. The file holds the old export first.
"${G[@]}" --faked-system-time $T0 --quick-gen-key 'Super <super@test.invalid>' ed25519 cert never
F=$(fpr super@test.invalid)
"${G[@]}" --faked-system-time $T0 --quick-add-key "$F" ed25519 sign never
S=$(subfpr super@test.invalid)
"${G[@]}" --armor --export super@test.invalid >super-old.asc
"${G[@]}" --faked-system-time 20200103T000000 -u super@test.invalid --detach-sign -o super.sig data
"${G[@]}" --faked-system-time 20200101T000100 --quick-set-expire "$F" 1d "$S"
"${G[@]}" --armor --export super@test.invalid >super-new.asc
cat super-old.asc super-new.asc >super.asc
"${G[@]}" --export super@test.invalid >super.gpg
case_ superseded data super.sig super.asc super.gpg any
# The same two exports, the newer first: the same verdict.
cat super-new.asc super-old.asc >super-rev.asc
case_ superseded-newer-first data super.sig super-rev.asc super.gpg any
