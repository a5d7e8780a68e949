#!/usr/bin/env bash
# verify-signature: the real kernel.org signatures in tests/data/kernel.org
# are identified and matched to keys/ exactly as its README says; tampered
# data is BAD; gpg-made RSA and Ed25519 signatures (binary, text, cleartext,
# SHA-1/256/512) agree with gpgv; every kind of bad input has its exit code.
. "$(dirname "$0")/../lib.sh"
export ACSO_DATADIR=$TOP
KO=$TOP/tests/data/kernel.org
GREG=647F28654894E3BD457199BE38DBBDC86092693E
LINUS=ABAF11C65A2970B130ABE3C479BE3E4300411886
AUTO=B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1
command -v gpg >/dev/null && command -v gpgv >/dev/null || { t_fail "gpg and gpgv are installed (test dependency)"; t_done; }

# jf FILE KEY... — a field of the JSON report ("a.b" for nested).
jf() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=(d or {}).get(k)
print("" if d is None else d)' "$@"; }

# ---- the real kernel.org cleartext signature
t_exit 0 "v4.x sha256sums.asc verifies GOOD" "$ACSO" verify-signature "$KO/v4.x-sha256sums.asc"
t_grep "good signature names the autosigner" "^Good signature from 'Kernel.org checksum autosigner" "$T/.out"
t_grep "good signature shows the fingerprint" "fingerprint +$AUTO" "$T/.out"
t_grep "good signature shows hash and created" "RSA, SHA256" "$T/.out"
t_exit 0 "v4.x sha256sums.asc --json" "$ACSO" --json verify-signature "$KO/v4.x-sha256sums.asc"
cp "$T/.out" "$T/sums.json"
[ "$(jf "$T/sums.json" status)/$(jf "$T/sums.json" kind)/$(jf "$T/sums.json" signer.fingerprint)/$(jf "$T/sums.json" hash)" = "good/cleartext/$AUTO/SHA256" ] &&
	t_pass "JSON report: good, cleartext, autosigner, SHA256" || t_fail "JSON report: good, cleartext, autosigner, SHA256" "$(cat "$T/sums.json")"

# The reports, pinned: text and JSON, good and BAD (relative paths keep them stable).
(cd "$KO" && "$ACSO" verify-signature v4.x-sha256sums.asc) >"$T/good.txt" 2>&1
t_golden "text report of a good signature" verify-signature/good.txt "$T/good.txt"
(cd "$KO" && "$ACSO" --json verify-signature v4.x-sha256sums.asc) >"$T/good.json" 2>&1
t_golden "JSON report of a good signature" verify-signature/good.json "$T/good.json"
(cd "$KO" && "$ACSO" --json verify-signature README.md sign/linux-4.6.1.tar.sign) >"$T/bad.json" 2>"$T/bad.err"
t_golden "JSON report of a BAD signature" verify-signature/bad.json "$T/bad.json"
t_golden "error and hint of a BAD signature" verify-signature/bad.err "$T/bad.err"

# Changing any digit of a sum line makes it BAD: a spread of lines, first and last included.
mapfile -t sumlines < <(grep -nE '^[0-9a-f]{64}  ' "$KO/v4.x-sha256sums.asc" | cut -d: -f1)
bad=0 tried=0
for i in 0 1 7 50 123 300 444 600 777 $((${#sumlines[@]} - 1)); do
	ln=${sumlines[$i]}
	for col in 1 33 64; do
		sed "${ln}s/^\(.\{$((col - 1))\}\)\(.\)/\1\2/" "$KO/v4.x-sha256sums.asc" >/dev/null
		python3 - "$KO/v4.x-sha256sums.asc" "$T/t.asc" "$ln" "$col" <<'PY'
import sys
src, dst, ln, col = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = open(src, 'rb').read().split(b'\n')
l = bytearray(lines[ln - 1]); c = l[col - 1]
l[col - 1] = ord('0') if c != ord('0') else ord('1')
lines[ln - 1] = bytes(l)
open(dst, 'wb').write(b'\n'.join(lines))
PY
		tried=$((tried + 1))
		"$ACSO" verify-signature "$T/t.asc" >/dev/null 2>"$T/t.err"
		rc=$?
		if [ $rc -eq 5 ] && grep -q "BAD signature from 'Kernel.org checksum autosigner" "$T/t.err"; then bad=$((bad + 1)); fi
	done
done
[ $bad -eq $tried ] && t_pass "a changed digit in any of $tried sum-line positions is BAD (exit 5)" ||
	t_fail "a changed digit in a sum line is BAD" "$bad of $tried were BAD"
# Trailing white space and dash-escaping do not change the signed text.
sed 's/^\([0-9a-f]\{64\}  linux-4.9.tar.xz\)$/\1   /' "$KO/v4.x-sha256sums.asc" >"$T/ws.asc"
cmp -s "$T/ws.asc" "$KO/v4.x-sha256sums.asc" && t_fail "test setup: trailing spaces added" ||
	t_exit 0 "trailing spaces added to a line still verify (stripped)" "$ACSO" verify-signature "$T/ws.asc"
sed 's/^\([0-9a-f]\{64\}  linux-4.9.tar.xz\)$/- \1/' "$KO/v4.x-sha256sums.asc" >"$T/de.asc"
t_exit 0 "a dash-escaped line still verifies" "$ACSO" verify-signature "$T/de.asc"
sed 's/^\([0-9a-f]\{64\}  linux-4.9.tar.xz\)$/\1\r/' "$KO/v4.x-sha256sums.asc" >"$T/crlf.asc"
t_exit 0 "CRLF line endings still verify" "$ACSO" verify-signature "$T/crlf.asc"
sed 's/^Hash: SHA256/Hash: SHA512/' "$KO/v4.x-sha256sums.asc" >"$T/hh.asc"
t_exit 7 "a Hash: header that does not match the signature is malformed" "$ACSO" verify-signature "$T/hh.asc"

# ---- every real detached signature: issuer, hash and key exactly as the README says;
# against data that is not its tarball: BAD by that key, never "no key", never good.
echo "not the tarball" >"$T/other"
want() { # name -> "key hash issuer"
	case $1 in
	linux-3.*.tar.sign|linux-4.1.tar.sign|linux-4.1[1-8].tar.sign|linux-4.6.tar.sign|linux-4.8.tar.sign) echo "$LINUS SHA1 keyid" ;;
	linux-4.20.tar.sign|linux-5.*.tar.sign|linux-6.6.tar.sign) echo "$GREG SHA256 fingerprint" ;;
	linux-4.5.*.tar.sign|linux-4.6.*.tar.sign) echo "$GREG SHA256 keyid" ;;
	patch-3.*.sign) echo "$GREG SHA1 any" ;;
	*) echo "unknown" ;;
	esac
}
n=0 good=0 msgs=()
for f in "$KO"/sign/*.sign; do
	b=$(basename "$f")
	n=$((n + 1))
	read -r key hash issuer <<<"$(want "$b")"
	"$ACSO" --json verify-signature "$T/other" "$f" >"$T/j" 2>/dev/null
	rc=$?
	got="$rc $(jf "$T/j" status) $(jf "$T/j" signer.fingerprint) $(jf "$T/j" hash) $(jf "$T/j" issuer)"
	[ "$issuer" = any ] && issuer=$(jf "$T/j" issuer)
	if [ "$got" = "5 bad $key $hash $issuer" ]; then good=$((good + 1)); else msgs+=("$b: want '5 bad $key $hash $issuer' got '$got'"); fi
done
[ $n -ge 40 ] && [ $good -eq $n ] && t_pass "all $n real .sign files: issuer, hash, key as documented; BAD over other data" ||
	t_fail "real .sign files identified as documented" "${msgs[@]:0:5}"
t_exit 5 "text report of a BAD signature exits 5" "$ACSO" verify-signature "$T/other" "$KO/sign/linux-6.6.tar.sign"
t_grep "BAD names the signer and fingerprint" "BAD signature from 'Greg Kroah-Hartman .*$GREG" "$T/.err"
t_nogrep "BAD prints nothing on stdout" "." "$T/.out"

# ---- generated vectors: gpg makes keys and signatures, gpgv is the referee
export GNUPGHOME=$T/gnupg
mkdir -m 700 "$GNUPGHOME"
G() { gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
G --quick-gen-key 'Test RSA <rsa@example.org>' rsa2048 sign never 2>/dev/null
G --quick-gen-key 'Test Ed <ed@example.org>' ed25519 sign never 2>/dev/null
G --quick-gen-key 'Stranger <stranger@example.org>' ed25519 sign never 2>/dev/null
G --armor --export rsa@example.org ed@example.org >"$T/keys.asc"
G --export rsa@example.org ed@example.org >"$T/keys.gpg"
mkdir "$T/kdir" && G --armor --export rsa@example.org >"$T/kdir/rsa.asc" && G --export ed@example.org >"$T/kdir/ed.gpg"
[ -s "$T/keys.asc" ] && t_pass "gpg made test keys" || t_fail "gpg made test keys"
printf 'line one  \nline two\t\n- dash\n\nFrom the start\r\nlast line without EOL  ' >"$T/doc.txt"
head -c 300000 /dev/urandom >"$T/doc.bin"
agree=0 total=0 msgs=()
check() { # expected-acso-rc gpgv-should-pass(0/1) SIG [DATA] (gpgv's order)
	local want=$1 gv=$2; shift 2
	total=$((total + 1))
	if [ $# -eq 2 ]; then
		"$ACSO" verify-signature --keyring "$T/keys.asc" "$2" "$1" >/dev/null 2>"$T/c.err"
	else
		"$ACSO" verify-signature --keyring "$T/keys.asc" "$1" >/dev/null 2>"$T/c.err"
	fi
	local rc=$? gok=0
	gpgv --keyring "$T/keys.gpg" "$@" >/dev/null 2>&1 && gok=1
	if [ $rc -eq "$want" ] && [ $gok = "$gv" ]; then
		agree=$((agree + 1))
	else msgs+=("acso $rc (want $want) gpgv good=$gok (want $gv): $*"); fi
}
for k in rsa ed; do
	for h in SHA1 SHA256 SHA512; do
		G -u $k@example.org --digest-algo $h --detach-sign -o "$T/$k-$h.bin.sig" "$T/doc.bin"
		G -u $k@example.org --digest-algo $h --armor --detach-sign -o "$T/$k-$h.bin.asc" "$T/doc.bin"
		G -u $k@example.org --digest-algo $h --textmode --detach-sign -o "$T/$k-$h.txt.sig" "$T/doc.txt"
		G -u $k@example.org --digest-algo $h --clearsign -o "$T/$k-$h.clear" "$T/doc.txt"
		# SHA-1 over data: gpgv's defaults accept it, acso refuses it (exit
		# 5) as sqv does (issue 15 C12; pgp-differential.sh has the three)
		want_rc=0
		[ $h = SHA1 ] && want_rc=5
		check $want_rc 1 "$T/$k-$h.clear"
		check $want_rc 1 "$T/$k-$h.bin.sig" "$T/doc.bin"
		check $want_rc 1 "$T/$k-$h.bin.asc" "$T/doc.bin"
		check $want_rc 1 "$T/$k-$h.txt.sig" "$T/doc.txt"
		# tampered: one byte of the data, or one letter of the cleartext
		cp "$T/doc.bin" "$T/doc2.bin" && printf 'X' | dd of="$T/doc2.bin" bs=1 seek=150000 conv=notrunc 2>/dev/null
		check 5 0 "$T/$k-$h.bin.sig" "$T/doc2.bin"
		sed 's/^line two/line Two/' "$T/doc.txt" >"$T/doc2.txt"
		check 5 0 "$T/$k-$h.txt.sig" "$T/doc2.txt"
		sed 's/^line two/line Two/' "$T/$k-$h.clear" >"$T/tamper.clear"
		check 5 0 "$T/tamper.clear"
	done
done
[ $agree -eq $total ] && t_pass "acso agrees with gpgv on $total RSA/Ed25519 binary/text/cleartext SHA-256/512 cases, refuses SHA-1" ||
	t_fail "acso agrees with gpgv" "${msgs[@]:0:6}"
# a text signature is over canonical line endings: CRLF data verifies too
python3 -c 'import sys; d=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n").replace(b"\n",b"\r\n"); open(sys.argv[2],"wb").write(d)' "$T/doc.txt" "$T/doc-crlf.txt"
t_exit 0 "text signature verifies over CRLF data" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc-crlf.txt" "$T/rsa-SHA256.txt.sig"
t_exit 0 "--keyring DIR with .asc and .gpg files" "$ACSO" verify-signature --no-default-keys -k "$T/kdir" "$T/ed-SHA512.clear"
t_exit 0 "--keyring binary .gpg file" "$ACSO" verify-signature --no-default-keys -k "$T/keys.gpg" "$T/doc.bin" "$T/rsa-SHA256.bin.sig"
t_exit 0 "signature found next to FILE (FILE.asc)" cp "$T/rsa-SHA256.bin.asc" "$T/doc.bin.asc"
t_exit 0 "SIG omitted: FILE.asc is used" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc.bin"
t_grep "good report names the test key" "Good signature from 'Test RSA <rsa@example.org>'" "$T/.out"

# a signing subkey: the report names the primary key and shows the subkey
primary=$(gpg --batch --with-colons --list-keys ed@example.org | awk -F: '/^fpr/ {print $10; exit}')
G --quick-add-key "$primary" ed25519 sign never 2>/dev/null
sub=$(gpg --batch --with-colons --list-keys ed@example.org | awk -F: '/^fpr/ {n++; if (n == 2) print $10}')
G --armor --export ed@example.org >"$T/edsub.asc"
G -u "$sub!" --detach-sign -o "$T/sub.sig" "$T/doc.bin"
t_exit 0 "a signature by a signing subkey verifies" "$ACSO" verify-signature --no-default-keys -k "$T/edsub.asc" "$T/doc.bin" "$T/sub.sig"
t_grep "subkey report: the primary's fingerprint" "fingerprint +$primary" "$T/.out"
t_grep "subkey report: the subkey's key id" "subkey +${sub:24}" "$T/.out"
t_exit 6 "the subkey is unknown with the keys exported before it existed" "$ACSO" verify-signature --no-default-keys -k "$T/keys.asc" "$T/doc.bin" "$T/sub.sig"
G -u rsa@example.org --digest-algo SHA384 --detach-sign -o "$T/384.sig" "$T/doc.bin"
t_exit 0 "SHA-384 signature verifies" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc.bin" "$T/384.sig"

# ---- a compressed tarball and a signature over the uncompressed tar (kernel.org's .tar.sign)
mkdir -p "$T/src/linux-9.9" && echo hello >"$T/src/linux-9.9/README"
tar -C "$T/src" -cf "$T/linux-9.9.tar" linux-9.9
G -u rsa@example.org --armor --detach-sign -o "$T/linux-9.9.tar.sign" "$T/linux-9.9.tar"
xz -k "$T/linux-9.9.tar" && gzip -k "$T/linux-9.9.tar" && rm "$T/linux-9.9.tar"
t_exit 0 ".tar.xz with its .tar.sign found and verified over the decompressed tar" "$ACSO" --json verify-signature -k "$T/keys.asc" "$T/linux-9.9.tar.xz"
[ "$(jf "$T/.out" decompressed)" = xz ] && t_pass "JSON says the stream was decompressed (xz)" || t_fail "JSON says decompressed xz" "$(cat "$T/.out")"
t_exit 0 ".tar.gz with an explicit .tar.sign" "$ACSO" verify-signature -k "$T/keys.asc" "$T/linux-9.9.tar.gz" "$T/linux-9.9.tar.sign"
# flip every bit of byte 100: writing a fixed 'Z' changed nothing when that
# byte already was one, and the check then failed on an intact file (about
# 1 run in 256; the tar's mtime makes the bytes differ from run to run)
cp "$T/linux-9.9.tar.xz" "$T/bad.tar.xz"
b=$(od -An -tu1 -j100 -N1 "$T/bad.tar.xz" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 255)))" | dd of="$T/bad.tar.xz" bs=1 seek=100 conv=notrunc 2>/dev/null
cmp -s "$T/linux-9.9.tar.xz" "$T/bad.tar.xz" && t_fail "the .tar.xz was corrupted for the next check"
"$ACSO" verify-signature -k "$T/keys.asc" "$T/bad.tar.xz" "$T/linux-9.9.tar.sign" >/dev/null 2>&1
rc=$?
[ $rc -eq 5 ] || [ $rc -eq 7 ] && t_pass "a corrupted .tar.xz is refused (exit $rc)" || t_fail "a corrupted .tar.xz is refused" "exit $rc"

# ---- bad input
t_exit 6 "signature by a key not in the keyring: exit 6" "$ACSO" verify-signature "$T/rsa-SHA256.clear"
t_grep "no-key names the key id" "no public key [0-9A-F]{16,40}" "$T/.err"
t_grep "no-key hint says --keyring" "hint: .*--keyring" "$T/.err"
G -u stranger@example.org --detach-sign -o "$T/stranger.sig" "$T/doc.bin"
t_exit 6 "stranger's key with --keyring of others: exit 6" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc.bin" "$T/stranger.sig"
head -c 2000 /dev/urandom >"$T/garbage"
t_exit 7 "garbage signature: exit 7" "$ACSO" verify-signature "$T/doc.bin" "$T/garbage"
t_exit 7 "garbage file and no signature: exit 7" "$ACSO" verify-signature "$T/garbage"
# wrong CRC24: change the checksum line of an armored signature
python3 - "$T/rsa-SHA256.bin.asc" "$T/crc.asc" <<'PY'
import sys
t = open(sys.argv[1]).read().split('\n')
i = [n for n, l in enumerate(t) if l.startswith('=') and len(l) == 5][0]
t[i] = '=' + ('AAAA' if t[i][1:] != 'AAAA' else 'BBBB')
open(sys.argv[2], 'w').write('\n'.join(t))
PY
t_exit 7 "armor with a wrong CRC24: exit 7" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc.bin" "$T/crc.asc"
t_grep "wrong CRC is named" "CRC24 checksum mismatch" "$T/.err"
# binary mutations of a good signature packet
mut() { python3 - "$T/rsa-SHA256.bin.sig" "$T/m.sig" "$1" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); how = sys.argv[3]
# new or old format header: find the body start
if d[0] & 0x40:
    hl = 2 if d[1] < 192 else 3 if d[1] < 224 else 6
else:
    hl = 1 + {0: 1, 1: 2, 2: 4}[d[0] & 3]
if how == 'truncate': d = d[:len(d) - 10]
elif how == 'oversize': d = bytes([0xC2, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF]) + d[hl:]
elif how == 'partial': d = bytes([0xC2, 0xE5]) + d[hl:]
elif how == 'version': d[hl] = 5
elif how == 'v3': d[hl] = 3
elif how == 'pkalgo': d[hl + 2] = 17
elif how == 'hashalgo': d[hl + 3] = 1
elif how == 'sigtype': d[hl + 1] = 0x13
elif how == 'tag': d[0] = 0xC0 | 11 if d[0] & 0x40 else (d[0] & 0xC3) | (11 << 2)
open(sys.argv[2], 'wb').write(d)
PY
}
for m in truncate oversize partial version v3 pkalgo hashalgo sigtype tag; do
	mut $m
	t_exit 7 "signature packet mutated ($m): exit 7" "$ACSO" verify-signature -k "$T/keys.asc" "$T/doc.bin" "$T/m.sig"
done
head -c 70000 /dev/zero >"$T/huge.sig"
t_exit 7 "an oversized signature file is refused: exit 7" "$ACSO" verify-signature "$T/doc.bin" "$T/huge.sig"
t_exit 7 "a public key given as the signature: exit 7" "$ACSO" verify-signature "$T/doc.bin" "$T/keys.asc"
t_exit 1 "a missing FILE: exit 1" "$ACSO" verify-signature "$T/nope" "$T/rsa-SHA256.bin.sig"
t_exit 1 "a missing FILE without SIG: exit 1" "$ACSO" --json verify-signature "$T/nope"
[ "$(jf "$T/.out" status)" = error ] && t_pass "JSON status error for a missing FILE" || t_fail "JSON status error for a missing FILE" "$(cat "$T/.out")"
t_grep "a missing FILE is named" "verify '.*nope': No such file or directory" "$T/.err"
t_exit 7 "no signature next to FILE: exit 7" "$ACSO" --json verify-signature "$T/doc.txt"
t_grep "no signature next to FILE: the hint names SIG" "hint: name the signature" "$T/.err"
t_exit 1 "a --keyring that is not a key: exit 1" "$ACSO" verify-signature -k "$T/garbage" "$T/rsa-SHA256.clear"
t_grep "a bad --keyring is named" "load --keyring '.*garbage'" "$T/.err"
t_exit 1 "no keys at all: exit 1" env ACSO_DATADIR="$T/empty" "$ACSO" verify-signature "$T/rsa-SHA256.clear"
t_exit 2 "no FILE: usage error" "$ACSO" verify-signature
t_exit 7 "--json on malformed input still reports" "$ACSO" --json verify-signature "$T/doc.bin" "$T/garbage"
[ "$(jf "$T/.out" status)" = malformed ] && t_pass "JSON status malformed" || t_fail "JSON status malformed" "$(cat "$T/.out")"
t_done
