#!/usr/bin/env bash
# acso fetch --source git:PATH@TAG: a signed tag verified with the keyring,
# an unsigned or lightweight tag refused, a tag by an unknown key refused, a
# ref that points at another signed tag refused, and
# a bad spec or missing tag refused, each leaving no tree.
. "$(dirname "$0")/../lib.sh"
export GNUPGHOME=$T/gnupg
mkdir -m 700 "$GNUPGHOME"
t_on_exit "GNUPGHOME=$GNUPGHOME gpgconf --kill gpg-agent"
G=(gpg --batch --quiet --pinentry-mode loopback --passphrase '')
"${G[@]}" --quick-gen-key 'Tag Signer <tag@test.invalid>' ed25519 sign never 2>/dev/null
"${G[@]}" --quick-gen-key 'Other <other@test.invalid>' ed25519 sign never 2>/dev/null
"${G[@]}" --armor --export tag@test.invalid >"$T/tag.asc"
"${G[@]}" --armor --export other@test.invalid >"$T/other.asc"
g() { git -C "$T/repo" -c user.name=t -c user.email=t@test.invalid "$@"; }
git init -q "$T/repo"
printf 'VERSION = 6\nPATCHLEVEL = 6\nSUBLEVEL = 7\nEXTRAVERSION =\n' >"$T/repo/Makefile"
mkdir -p "$T/repo/drivers/pci" && echo quirks >"$T/repo/drivers/pci/quirks.c"
g add . && g commit -qm init
g -c user.signingkey=tag@test.invalid tag -s v6.6.7 -m v6.6.7
g tag -a v6.6.7-unsigned -m unsigned
F=("$ACSO" --work-dir "$T/w" fetch)

t_exit 0 "a signed tag is verified and checked out" "${F[@]}" --keyring "$T/tag.asc" --json --source "git:$T/repo@v6.6.7"
t_jq "JSON names the tag signer" '.signers[0].role == "tag" and (.signers[0].name | test("Tag Signer")) and .version == "6.6.7"' "$T/.out"
t_jq "JSON names the commit" --arg c "$(g rev-parse 'v6.6.7^{commit}')" '.commit == $c and .sha256 == null' "$T/.out"
t_ok "the tree is checked out" test -f "$T/w/src/linux-6.6.7-git/drivers/pci/quirks.c"
t_ok "src/current points at it" test "$(readlink "$T/w/src/current")" = linux-6.6.7-git
t_ok "the bare cache is under WORK/git" test -n "$(ls -A "$T/w/git")"
t_exit 6 "a tag by a key not in the keyring is refused" "$ACSO" --work-dir "$T/w2" fetch --keyring "$T/other.asc" --source "git:$T/repo@v6.6.7"
t_grep "... saying so" "tag signature check failed: signed by key" "$T/.err"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w2/src" 2>/dev/null)"
t_exit 1 "an unsigned tag is refused" "$ACSO" --work-dir "$T/w3" fetch --keyring "$T/other.asc" --source "git:$T/repo@v6.6.7-unsigned"
t_grep "... saying so and what to do" "tag 'v6.6.7-unsigned' is not signed: acso uses only a tree it verified" "$T/.err"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w3/src" 2>/dev/null)"
g tag v6.6.7-light
t_exit 1 "a lightweight tag is refused" "$ACSO" --work-dir "$T/w3" fetch --keyring "$T/tag.asc" --source "git:$T/repo@v6.6.7-light"
t_grep "... saying so" "'v6.6.7-light' is not an annotated tag, so it carries no signature" "$T/.err"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w3/src" 2>/dev/null)"
t_exit 1 "a missing tag is an error" "$ACSO" --work-dir "$T/w4" fetch --keyring "$T/tag.asc" --source "git:$T/repo@v9.9"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w4/src" 2>/dev/null)"
t_exit 1 "a spec without @TAG is an error" "$ACSO" --work-dir "$T/w5" fetch --keyring "$T/tag.asc" --source "git:$T/repo"
t_grep "... explained" "expected git:URL@TAG" "$T/.err"
# A hostile ref (issue 15 C10): refs/tags/v6.6.8 points at the genuinely
# signed tag object named v6.6.7. The signature holds, but it covers the
# name v6.6.7: refused, nothing checked out.
g update-ref refs/tags/v6.6.8 v6.6.7
[ "$(g cat-file -t v6.6.8)" = tag ] || t_fail "test setup: v6.6.8 points at the tag object"
t_exit 1 "a ref that points at another release's signed tag is refused" "$ACSO" --work-dir "$T/w7" fetch --keyring "$T/tag.asc" --source "git:$T/repo@v6.6.8"
t_grep "... naming the tag it points at" "the ref 'v6.6.8' points at the tag named 'v6.6.7'" "$T/.err"
t_nogrep "... never reported as verified" "Verified" "$T/.out"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w7/src" 2>/dev/null)"
t_exit 2 "an unknown --source is a usage error" "$ACSO" --work-dir "$T/w6" fetch --source svn:x
t_done
