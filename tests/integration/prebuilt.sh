#!/usr/bin/env bash
# acso publish + acso prebuilt end to end: a channel signed with a throwaway
# gpg key, served by lighttpd on 127.0.0.1, installed into a throwaway root;
# and every bad index (bad signature, unknown key, wrong hash, unknown field,
# missing architecture, not a .deb, control version != index) refused with
# nothing installed and nothing unverified left in the download directory.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"

"$ACSO" --work-dir "$W" build --allow-root --source-dir "$SRC" >/dev/null 2>&1 || t_fail "stub build for the channel"
C=$T/channel
mkdir -p "$C/6.1.192-acso"
cp "$W"/build/6.1.192-acso/*.deb "$C/6.1.192-acso/"

export GNUPGHOME=$T/gpg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'acso test channel <channel@example.org>' ed25519 sign never 2>/dev/null
gpg --armor --export channel@example.org >"$T/channel.asc"
mkdir -m 700 "$T/gpg2"
gpg --homedir "$T/gpg2" --batch --passphrase '' --quick-gen-key 'someone else <else@example.org>' ed25519 sign never 2>/dev/null
[ -s "$T/channel.asc" ] && t_pass "a throwaway signing key" || t_fail "a throwaway signing key"

# publish
t_exit 1 "publish of a directory without packages" "$ACSO" publish "$T/src"
t_exit 0 "publish writes and signs the index" "$ACSO" publish --gpg-home "$GNUPGHOME" --distro debian-12 "$C"
t_grep "publish reports the kernel" '6\.1\.192-acso amd64 \(debian-12, ACS patch acso-' "$T/.out"
t_ok "index.json is there" test -s "$C/index.json"
t_ok "index.json.asc is a good signature (gpg agrees)" gpg --verify "$C/index.json.asc" "$C/index.json"
t_ok "no .part left by signing" test ! -e "$C/index.json.asc.part"
jq -e '.format == "acso-prebuilt/1" and (.kernels | length) == 1' "$C/index.json" >/dev/null && t_pass "index format and one kernel" || t_fail "index format and one kernel"
jq -e '.kernels[0] | .release == "6.1.192-acso" and .version == "6.1.192" and .architecture == "amd64" and .distro == "debian-12" and (.acs_patch | startswith("acso-"))' "$C/index.json" >/dev/null && t_pass "kernel fields" || t_fail "kernel fields" "$(cat "$C/index.json")"
jq -e '[.kernels[0].packages[].package] | sort == ["linux-headers-6.1.192-acso", "linux-image-6.1.192-acso", "linux-libc-dev"]' "$C/index.json" >/dev/null && t_pass "every package listed (libc-dev joined by version)" || t_fail "every package listed"
f=$(jq -r '.kernels[0].packages[] | select(.package == "linux-image-6.1.192-acso") | .file' "$C/index.json")
[ "$(jq -r '.kernels[0].packages[] | select(.package == "linux-image-6.1.192-acso") | .sha256' "$C/index.json")" = "$(sha256sum "$C/$f" | cut -d' ' -f1)" ] && t_pass "package SHA-256 in the index" || t_fail "package SHA-256 in the index"
t_exit 1 "publish without a secret key fails clearly" "$ACSO" publish --gpg-home "$T/nokeys" "$C"
t_grep "no key: hint" "create a signing key" "$T/.err"
gpg --armor --detach-sign --yes -o "$C/index.json.asc" "$C/index.json" 2>/dev/null # restore a good signature

# Variants of the channel: index edited with jq and re-signed (or not).
variant() {
	local name=$1 filter=$2 home=${3:-$GNUPGHOME}
	mkdir -p "$C/v/$name"
	ln -sfn ../../6.1.192-acso "$C/v/$name/6.1.192-acso"
	jq "$filter" "$C/index.json" >"$C/v/$name/index.json"
	gpg --homedir "$home" --batch --yes --armor --detach-sign -o "$C/v/$name/index.json.asc" "$C/v/$name/index.json" 2>/dev/null
}
variant badsig '.'
sed -i 's/"debian-12"/"debian-13"/' "$C/v/badsig/index.json"            # changed after signing
variant unknownkey '.' "$T/gpg2"
variant wronghash '(.kernels[0].packages[] | select(.package | startswith("linux-image")) | .sha256) |= "0000000000000000000000000000000000000000000000000000000000000000"'
variant unknownfield '.kernels[0].mirror = "http://elsewhere/"'
variant otherversion '(.kernels[0].packages[] | select(.package | startswith("linux-image")) | .version) |= "6.1.192-acso-7"'
mkdir -p "$C/junk"
head -c 3000 /dev/urandom >"$C/junk/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb"
jsha=$(sha256sum "$C/junk/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb" | cut -d' ' -f1)
variant notadeb "(.kernels[0].packages[] | select(.package | startswith(\"linux-image\"))) |= (.file = \"junk/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb\" | .size = 3000 | .sha256 = \"$jsha\")"
ln -sfn ../../junk "$C/v/notadeb/junk"

read -r port pid < <("$TOP/tests/mirror/serve" "$C")
t_track_pid "$pid"
U=http://127.0.0.1:$port
R=$T/root
mkroot "$R"
P=("$ACSO" --work-dir "$W" --root "$R" prebuilt --key "$T/channel.asc")
D=$W/downloads/prebuilt/6.1.192-acso

# The driver's --timeout reaches prebuilt's transfers: an index that drips
# one byte a second is given up after 2 s (without it: 30 s, three times).
read -r hport hpid < <("$TOP/tests/mirror/hostile-server" "$C")
t_track_pid "$hpid"
start=$SECONDS
t_exit 1 "--timeout 2 gives up on a dripping index" timeout 40 "${P[@]}" --dry-run --timeout 2 --retries 0 \
	--index "http://127.0.0.1:$hport/drip/index.json"
[ $((SECONDS - start)) -lt 20 ] && t_pass "... within seconds ($((SECONDS - start)) s)" ||
	t_fail "... within seconds" "took $((SECONDS - start)) s"

nothing_installed() {
	if grep -q '^Package: linux-image-6.1.192-acso$' "$R/var/lib/dpkg/status" || [ -e "$R/boot/vmlinuz-6.1.192-acso" ]; then
		t_fail "$1: nothing installed"
	else
		t_pass "$1: nothing installed"
	fi
	if ls "$D"/*.part >/dev/null 2>&1; then t_fail "$1: no .part left"; else t_pass "$1: no .part left"; fi
}

t_exit 1 "no channel configured" "$ACSO" --work-dir "$W" --root "$R" prebuilt
t_grep "no channel: README hint" "prebuilt_index" "$T/.err"
t_exit 5 "a bad signature: exit 5" "${P[@]}" --index "$U/v/badsig/index.json"
t_grep "bad signature is said" "signature of .*index.json" "$T/.err"
nothing_installed "bad signature"
[ ! -e "$D" ] && t_pass "bad signature: no package downloaded" || t_fail "bad signature: no package downloaded"
t_exit 6 "an index signed by another key: exit 6" "${P[@]}" --index "$U/v/unknownkey/index.json"
nothing_installed "unknown key"
t_exit 1 "a wrong hash in the index" "${P[@]}" --index "$U/v/wronghash/index.json"
t_grep "wrong hash: says which" "SHA-256 [0-9a-f]{64}, the index says 0000" "$T/.err"
nothing_installed "wrong hash"
t_exit 1 "an unknown field in the index" "${P[@]}" --index "$U/v/unknownfield/index.json"
t_grep "unknown field is named" "unknown field 'mirror'" "$T/.err"
t_exit 1 "a missing architecture" "${P[@]}" --index "$U/index.json" --arch arm64
t_grep "missing architecture is explained" "for amd64 only, not for arm64" "$T/.err"
t_exit 1 "a package that is not a .deb" "${P[@]}" --index "$U/v/notadeb/index.json"
t_grep "not a .deb is said" "not a Debian package" "$T/.err"
nothing_installed "not a .deb"
t_exit 1 "control version differs from the index" "${P[@]}" --index "$U/v/otherversion/index.json"
t_grep "version mismatch is said" "6.1.192-acso-1 \(amd64\), the index says linux-image-6.1.192-acso 6.1.192-acso-7" "$T/.err"
nothing_installed "control version"
t_exit 1 "a version the index does not have" "${P[@]}" --index "$U/index.json" 5.15

# The good channel, picked by the running series (6.1 from 6.1.0-13-amd64).
t_exit 0 "--dry-run shows the pick" "${P[@]}" --index "$U/index.json" --dry-run
t_grep "dry run names the release" "would download and install 6.1.192-acso" "$T/.out"
nothing_installed "dry run"
t_exit 0 "prebuilt installs the running series' kernel" "${P[@]}" --index "$U/index.json"
t_ok "vmlinuz from the channel landed" test -s "$R/boot/vmlinuz-6.1.192-acso"
t_grep "dpkg knows the image" '^Package: linux-image-6\.1\.192-acso$' "$R/var/lib/dpkg/status"
t_grep "dpkg knows the headers" '^Package: linux-headers-6\.1\.192-acso$' "$R/var/lib/dpkg/status"
t_nogrep "linux-libc-dev not taken" '^Package: linux-libc-dev$' "$R/var/lib/dpkg/status"
t_ok "verified packages kept in WORK/downloads/prebuilt" test -s "$D/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb"
[ "$(jq -r --arg r "$R" '.installed[] | select(.root == $r) | .release' "$R/var/lib/acso/installed.json")" = 6.1.192-acso ] && t_pass "recorded like acso install" || t_fail "recorded like acso install"
t_done
