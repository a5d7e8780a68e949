#!/usr/bin/env bash
# acso fetch against the local mirror (tests/mirror/): a verified tree, the
# cache, X.Y tarball names, local tarballs, and every hostile case of the
# issue refused with a clear message, leaving no tree and no stray files.
. "$(dirname "$0")/../lib.sh"
M=$TOP/tests/mirror
t_mirror "$T/m"
W=$T/w
F=("$ACSO" --work-dir "$W" fetch --keyring "$K" --retries 0 --timeout 3)

t_exit 0 "fetch 6.6.5 verifies and extracts" "${F[@]}" --mirror "$U" --json 6.6.5
cp "$T/.out" "$T/good.json"
t_ok "the tree is in src/linux-6.6.5" test -f "$W/src/linux-6.6.5/Makefile"
t_ok "the top directory was stripped" test -f "$W/src/linux-6.6.5/drivers/pci/quirks.c"
t_ok "symlinks inside the tree are kept" test -L "$W/src/linux-6.6.5/scripts/pci.h"
t_ok "hard links inside the tree are kept" test "$W/src/linux-6.6.5/README" -ef "$W/src/linux-6.6.5/README.hardlink"
t_ok "src/current points at it" test "$(readlink "$W/src/current")" = linux-6.6.5
t_ok "JSON names the version" jq -e '.version == "6.6.5"' "$T/good.json"
signer=$(awk '/^signer/ {print $2}' "$T/m/fingerprints")
auto=$(awk '/^autosigner/ {print $2}' "$T/m/fingerprints")
t_ok "JSON reports the tarball signer" jq -e --arg f "$signer" '.signers[] | select(.role == "tarball") | .fingerprint == $f and (.name | test("Test Stable Signer"))' "$T/good.json"
t_ok "JSON reports the sha256sums signer" jq -e --arg f "$auto" '.signers[] | select(.role == "sha256sums") | .fingerprint == $f' "$T/good.json"
t_ok "JSON sha256 is the tarball's" test "$(jq -r .sha256 "$T/good.json")" = "$(sha256sum <"$T/m/pub/linux/kernel/v6.x/linux-6.6.5.tar.xz" | cut -d' ' -f1)"
t_ok "JSON from_cache is false for a download" jq -e '.from_cache == false' "$T/good.json"
t_ok "the verified tarball is kept" test -f "$W/downloads/linux-6.6.5.tar.xz"
t_nogrep "no staging directory left" 'stage' <(ls -a "$W/src")

# The cache: no download (the server is told to fail every request). The
# tree it replaces is made big (100,000 files, as a built kernel tree has):
# it is deleted in the background, so right after the fetch returns it is
# still there, moved aside, and a moment later it is gone.
python3 -c 'import os, sys
d = sys.argv[1]; os.mkdir(d)
for i in range(100000): open(os.path.join(d, str(i)), "w").close()' "$W/src/linux-6.6.5/many"
t_exit 0 "a cached tarball is re-extracted" "${F[@]}" --mirror "$H/status/500" --json 6.6.5
t_jq "... from the cache" '.from_cache == true' "$T/.out"
t_jq "... and verified again (signers reported)" '.signers | length == 2' "$T/.out"
t_ok "the replaced tree is deleted after the fetch returns, not before" \
	test -n "$(find "$W/src" -maxdepth 1 -name '.linux-6.6.5.old-*')"
t_ok "the new tree is in place at once" test ! -e "$W/src/linux-6.6.5/many"
for _ in $(seq 120); do [ -z "$(find "$W/src" -maxdepth 1 -name '.linux-6.6.5.old-*')" ] && break; sleep 0.5; done
t_ok "... and the replaced tree is gone a moment later" test -z "$(find "$W/src" -maxdepth 1 -name '.linux-6.6.5.old-*')"
printf 'x' >>"$W/downloads/linux-6.6.5.tar.xz"
t_exit 5 "a cached tarball that changed is refused" "${F[@]}" --mirror "$H/status/500" 6.6.5
t_grep "... by the SHA-256 check" 'SHA-256 check failed' "$T/.err"
t_ok "... and dropped from the cache" test ! -e "$W/downloads/linux-6.6.5.tar.xz"
t_ok "... the tree from before is kept" test -f "$W/src/linux-6.6.5/Makefile"

t_exit 0 "fetch 6.8 (tarball named linux-6.8.tar.xz)" "${F[@]}" --mirror "$U" 6.8
t_ok "6.8 tree" test -f "$W/src/linux-6.8/Makefile"
t_ok "src/current follows the last fetch" test "$(readlink "$W/src/current")" = linux-6.8

t_exit 0 "--dry-run" "$ACSO" --work-dir "$T/dry" fetch --dry-run --mirror "$U" --keyring "$K" 6.6.4
t_grep "--dry-run says what it would do" 'would download .*linux-6.6.4.tar.xz' "$T/.out"
t_ok "--dry-run changes nothing" test ! -e "$T/dry/src"

# Bad input: each refused, nothing left behind.
clean() { test ! -e "$1/src/linux-6.6.5" && test -z "$(ls -A "$1/src" 2>/dev/null)" &&
	test -z "$(find "$1/downloads" -name '*.tar.xz*' 2>/dev/null)"; }
hostile() { # hostile CASE EXIT PATTERN
	local w=$T/h-$1
	t_exit "$2" "hostile $1 is refused (exit $2)" "$ACSO" --work-dir "$w" fetch --keyring "$K" --retries 0 \
		--mirror "$U/hostile/$1" 6.6.5
	t_grep "hostile $1 says why" "$3" "$T/.err"
	t_ok "hostile $1 leaves no tree and no stray files" clean "$w"
}
hostile onebyte 5 "SHA-256 check failed: the file has [0-9a-f]{64}, expected"
hostile wrongsum 5 "SHA-256 check failed"
hostile unlisted 1 "sha256sums.asc does not list 'linux-6.6.5.tar.xz'"
hostile sums-unknownkey 6 "sha256sums.asc check failed: signed by key [0-9A-F]{40}, which is not in the keyring"
hostile sums-tampered 5 "sha256sums.asc check failed: BAD signature by Test Autosigner"
hostile unknownkey 6 "\.tar\.sign check failed: signed by key [0-9A-F]{40}, which is not in the keyring"
hostile otherdata 5 "\.tar\.sign check failed: BAD signature by Test Stable Signer"
hostile badcrc 1 "\.tar\.sign check failed: .*CRC"
hostile truncsig 1 "\.tar\.sign check failed: .*(truncated|short)"
hostile tar-dotdot 1 "path with '\.\.' refused"
hostile tar-absolute 1 "absolute path refused"
hostile tar-symlink-write 1 "write through the symlink 'out' refused"
hostile tar-hardlink-out 1 "hard link to '/etc/passwd' outside the tree refused"
hostile tar-device 1 "device node refused"
hostile tar-huge 1 "claims 1099511627776 bytes"
t_ok "nothing was written outside the work dir" bash -c "! ls /tmp/acso-evil-* $T/acso-evil-* >/dev/null 2>&1"

t_exit 1 "404 is an error" "${F[@]}" --mirror "$U/nothing-here" 6.6.5
t_grep "404 is named" "HTTP 404" "$T/.err"
t_exit 1 "500 is an error" "${F[@]}" --mirror "$H/status/500/nowhere" 6.6.6
t_grep "500 is named" "HTTP 500" "$T/.err"
t_exit 1 "a redirect to plain http is refused" "${F[@]}" --mirror "$H/redirect-http" 6.6.6
t_grep "the redirect is named" "redirect to 'http://192.0.2.1/.*' refused" "$T/.err"
t_exit 1 "a redirect loop ends" "${F[@]}" --mirror "$H/redirect-loop" 6.6.6
t_grep "the loop is named" "more than 5 redirects" "$T/.err"
start=$SECONDS
t_exit 1 "a server that drips one byte a second is given up" "$ACSO" --work-dir "$T/drip" fetch --keyring "$K" \
	--retries 0 --timeout 2 --mirror "$H/drip" 6.6.5
t_grep "the stall is named" "too slow or stalled" "$T/.err"
[ $((SECONDS - start)) -lt 20 ] && t_pass "the drip is given up quickly" || t_fail "the drip is given up quickly"
t_ok "the drip leaves no tree" clean "$T/drip"
t_exit 2 "plain http to a host that is not loopback is refused" "${F[@]}" --mirror http://example.invalid 6.6.5
t_grep "the policy is named" "https only" "$T/.err"

# A transfer cut off mid-way: kept as .part, resumed with Range next time.
t_exit 1 "a cut transfer fails without retries" "$ACSO" --work-dir "$T/cut" fetch --keyring "$K" --retries 0 \
	--mirror "$H/cut" 6.6.5
t_ok "... and keeps the .part for resuming" test -s "$T/cut/downloads/linux-6.6.5.tar.xz.part"
t_ok "... and no tree" test ! -e "$T/cut/src/linux-6.6.5"
t_exit 0 "the next fetch resumes it" "$ACSO" --work-dir "$T/cut" fetch --keyring "$K" --retries 0 --json \
	--mirror "$H/cut" 6.6.5
t_ok "the resumed tarball is whole" cmp "$T/cut/downloads/linux-6.6.5.tar.xz" "$T/m/pub/linux/kernel/v6.x/linux-6.6.5.tar.xz"
t_ok "no .part remains" test ! -e "$T/cut/downloads/linux-6.6.5.tar.xz.part"
t_exit 0 "a cut transfer is resumed within one run (retries)" "$ACSO" --work-dir "$T/cut2" fetch --keyring "$K" \
	--retries 1 --mirror "$H/cut" 6.6.4

# Local tarballs.
tb=$T/m/pub/linux/kernel/v6.x/linux-6.6.4.tar.xz
sum=$(sha256sum <"$tb" | cut -d' ' -f1)
t_exit 0 "--tarball with its --sha256" "$ACSO" --work-dir "$T/loc" fetch --keyring "$K" --tarball "$tb" --sha256 "$sum" --json
t_jq "the local tarball's .tar.sign is verified too" '.signers[0].role == "tarball" and .version == "6.6.4"' "$T/.out"
t_exit 5 "--tarball with a wrong --sha256" "$ACSO" --work-dir "$T/loc2" fetch --keyring "$K" --tarball "$tb" \
	--sha256 "$(printf '0%.0s' $(seq 64))"
t_ok "... leaves nothing" test -z "$(ls -A "$T/loc2/src" 2>/dev/null)"
t_exit 2 "--tarball needs --sha256" "$ACSO" --work-dir "$T/loc3" fetch --tarball "$tb"
t_exit 2 "a garbage version is a usage error" "${F[@]}" --mirror "$U" 6.x.garbage
t_grep "the garbage is named" "'6.x.garbage' is not a kernel version" "$T/.err"
t_exit 1 "release candidates have no signed tarball" "${F[@]}" --mirror "$U" 6.9-rc2
t_exit 1 "an empty keyring is refused" env ACSO_DATADIR="$T/nodata" "$ACSO" --work-dir "$T/nokeys" fetch --mirror "$U" 6.6.5
t_grep "the empty keyring is explained" "keyring: no keys" "$T/.err"
t_done
