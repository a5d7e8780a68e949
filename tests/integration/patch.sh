#!/usr/bin/env bash
# acso patch on a small stand-in tree: the override placed in the right
# table, a second run changing nothing, --dry-run and --emit-diff, extra
# patches (files, a directory, a git repository) all or nothing, and bad
# input (read-only files, no table, bad hunks, garbage headers, CRLF, a tree
# that already carries an override) leaving nothing half-written.
. "$(dirname "$0")/../lib.sh"

export PATH=$FIXTURES/stub-bin:$PATH
Q=drivers/pci/quirks.c
D=Documentation/admin-guide/kernel-parameters.txt

fresh() { rm -rf "$T/k"; cp -R "$FIXTURES/kernel-mini" "$T/k"; }
sums() { (cd "$T/k" && find . -type f ! -name '.stub-*' -print0 | sort -z | xargs -0 sha256sum); }

# --- the override ---
fresh
t_exit 0 "patch places the override" "$ACSO" patch --source-dir "$T/k"
t_grep "text report names the table and lines" '^override: placed in drivers/pci/quirks.c: code at line [0-9]+, entry at line [0-9]+ of pci_dev_acs_enabled\[\]' "$T/.out"
t_grep "unconfigured tree: compile check skipped with a reason" "^compile check: skipped: the tree is not configured yet" "$T/.out"
# The entry is the line right before the { 0 } of pci_dev_acs_enabled[],
# and the decoy table is untouched.
awk '/pci_dev_acs_enabled\[\] = \{/{t=1} t&&/\{ 0 \}/{print prev; exit} {prev=$0}' "$T/k/$Q" >"$T/before-term"
t_grep "entry sits just before the ACS table's terminator" '^	\{ PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides \},$' "$T/before-term"
awk '/pci_dev_reset_methods\[\] = \{/{t=1} t{print} t&&/^\};/{exit}' "$T/k/$Q" >"$T/decoy"
t_nogrep "decoy table untouched" 'pcie_acs_overrides' "$T/decoy"
[ "$(grep -c 'PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides' "$T/k/$Q")" = 1 ] && t_pass "exactly one entry" || t_fail "exactly one entry"
awk '/^static int pcie_acs_overrides/{f=NR} /^\/\* The table of devices/{c=NR} END{exit !(f && c && f < c)}' "$T/k/$Q" \
	&& t_pass "code before the table and its comment" || t_fail "code before the table and its comment"
t_grep "boot warning text exact" 'pr_warn\("Warning: PCIe ACS overrides enabled; This may allow non-IOMMU protected peer-to-peer DMA\\n"\)' "$T/k/$Q"
awk '/^\tpcie_acs_override=/{o=NR} /^\tpcie_aspm=/{a=NR} /^\tpci=/{p=NR} END{exit !(p < o && o < a)}' "$T/k/$D" \
	&& t_pass "documentation entry in its alphabetical place" || t_fail "documentation entry in its alphabetical place"

sums >"$T/sum1"
t_exit 0 "second run succeeds" "$ACSO" patch --source-dir "$T/k" --json
t_grep "second run: already placed by acso" '"state":"already-acso"' "$T/.out"
t_grep "second run: nothing written" '"files_written":0' "$T/.out"
sums >"$T/sum2"
cmp -s "$T/sum1" "$T/sum2" && t_pass "second run changes nothing" || t_fail "second run changes nothing"

# --- dry run and emitted diff ---
fresh
sums >"$T/sum0"
t_exit 0 "--dry-run" "$ACSO" patch --source-dir "$T/k" --dry-run
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "--dry-run writes nothing" || t_fail "--dry-run writes nothing"
t_grep "--dry-run prints a unified diff" '^\+\+\+ b/drivers/pci/quirks.c$' "$T/.out"
t_grep "--dry-run says nothing was written (on stderr)" "^dry run: 2 file\\(s\\) would change, nothing written" "$T/.err"
cp -R "$FIXTURES/kernel-mini" "$T/k3"
cp "$T/.out" "$T/dry.diff"
t_ok "--dry-run's stdout is a clean diff that applies" patch -d "$T/k3" -p1 -i "$T/dry.diff"
t_exit 0 "--emit-diff" "$ACSO" patch --source-dir "$T/k" --dry-run --emit-diff "$T/acs.patch"
cp -R "$FIXTURES/kernel-mini" "$T/k2"
t_ok "the emitted diff applies with patch(1)" patch -d "$T/k2" -p1 -i "$T/acs.patch"
t_exit 0 "patch after --emit-diff" "$ACSO" patch --source-dir "$T/k"
diff -r -x '.stub-*' "$T/k" "$T/k2" >/dev/null && t_pass "emitted diff = what acso writes" || t_fail "emitted diff = what acso writes"

# --- trees acso must not touch ---
fresh
chmod 0444 "$T/k/$Q"
sums >"$T/sum0"
t_exit 1 "read-only quirks.c fails" "$ACSO" patch --source-dir "$T/k"
t_grep "read-only is named" "'drivers/pci/quirks.c' is read-only" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "read-only: neither file changed" || t_fail "read-only: neither file changed"
chmod 0644 "$T/k/$Q"
chmod 0555 "$T/k/Documentation/admin-guide"
t_exit 1 "read-only documentation directory fails" "$ACSO" patch --source-dir "$T/k"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "read-only doc dir: quirks.c not changed either" || t_fail "read-only doc dir: quirks.c not changed either"
chmod 0755 "$T/k/Documentation/admin-guide"

fresh
sed -i '/pci_dev_acs_enabled\[\] = {/,/^};/d; /^static const struct pci_dev_acs_enabled {/,/^\t.*acs_enabled)/d' "$T/k/$Q"
sums >"$T/sum0"
t_exit 1 "tree without the table fails" "$ACSO" patch --source-dir "$T/k"
t_grep "missing table is named" "no definition of the table 'pci_dev_acs_enabled\[\]'" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "no table: nothing written" || t_fail "no table: nothing written"

fresh
sed -i '/pci_dev_acs_enabled\[\] = {/,/^};/{/{ 0 }/d}' "$T/k/$Q"
t_exit 1 "table without terminator fails" "$ACSO" patch --source-dir "$T/k"
t_grep "missing terminator is named" "does not end with a \{ 0 \} terminator" "$T/.err"

fresh
sed -i '1i early_param("pcie_acs_override", pcie_acs_override_setup);' "$T/k/$Q"
sums >"$T/sum0"
t_exit 0 "vendor tree with an override" "$ACSO" patch --source-dir "$T/k"
t_grep "vendor override detected" 'already in the tree \(from another patch or a vendor tree\)' "$T/.out"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "vendor tree: nothing written" || t_fail "vendor tree: nothing written"

t_exit 1 "not a kernel tree" "$ACSO" patch --source-dir "$T"
t_grep "not a kernel tree is explained" "is not a kernel source tree: no 'drivers/pci/quirks.c'" "$T/.err"
t_exit 1 "default tree missing" "$ACSO" patch
t_grep "hint to fetch" "hint: run 'acso fetch' first" "$T/.err"

# --- extra patches (libgit2 parses and applies them) ---
mkpatch() { # NAME: the patch text on stdin
	cat >"$T/$1"
}
fresh
mkpatch good.patch <<'EOF'
From: a@b
Subject: [PATCH] add a device

---
diff --git a/drivers/pci/quirks.c b/drivers/pci/quirks.c
--- a/drivers/pci/quirks.c
+++ b/drivers/pci/quirks.c
@@ -22,4 +22,5 @@
 	return -ENOTTY;
 }
 
+/* added by good.patch */
 /* The table of devices whose ACS behaviour is known without a capability. */
-- 
2.39.2
EOF
# a plain unified diff (no "diff --git" line), as diff -u and quilt write it
mkpatch new-file.patch <<'EOF'
--- /dev/null
+++ b/drivers/pci/NEWFILE
@@ -0,0 +1 @@
+hello
EOF
t_exit 0 "--patch applies, then the override" "$ACSO" patch --source-dir "$T/k" --patch "$T/good.patch" --patch "$T/new-file.patch"
t_grep "hunk reported with its line" "drivers/pci/quirks.c: hunk 1 at line 22$" "$T/.out"
t_grep "patched line present" '^/\* added by good.patch \*/$' "$T/k/$Q"
t_grep "plain unified diff: new file created" '^hello$' "$T/k/drivers/pci/NEWFILE"
t_grep "override still placed after the patch" 'PCI_ANY_ID, PCI_ANY_ID, pcie_acs_overrides' "$T/k/$Q"

fresh
mkpatch bad-hunk.patch <<'EOF'
--- a/drivers/pci/quirks.c
+++ b/drivers/pci/quirks.c
@@ -10,3 +10,3 @@
 {
-	return 1234;
+	return 0;
 }
EOF
sums >"$T/sum0"
t_exit 1 "a hunk that does not apply fails" "$ACSO" patch --source-dir "$T/k" --patch "$T/new-file.patch" --patch "$T/bad-hunk.patch"
t_grep "failed hunk is reported with its file and line" "bad-hunk.patch: does not apply to 'drivers/pci/quirks.c': hunk at line 10 did not apply" "$T/.err"
t_grep "nothing-written hint" "hint: nothing was written" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "all or nothing: the earlier good patch is not written" || t_fail "all or nothing: the earlier good patch is not written"
[ ! -e "$T/k/drivers/pci/NEWFILE" ] && t_pass "no new file left behind" || t_fail "no new file left behind"

# All or nothing across a set cut between files: the third patch's first
# file (the docs) applies, its second (quirks.c) does not; then the same
# set with the third patch cut off in the middle. Neither leaves a trace.
{
	printf 'diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -1 +1,2 @@\n+Added by two-files.patch.\n' "$D" "$D" "$D" "$D"
	head -n 1 "$T/k/$D" | sed 's/^/ /'
} >"$T/doc-only.patch"
cp "$T/doc-only.patch" "$T/two-files.patch"
mkpatch quirks-part <<'EOF'
diff --git a/drivers/pci/quirks.c b/drivers/pci/quirks.c
--- a/drivers/pci/quirks.c
+++ b/drivers/pci/quirks.c
@@ -3,2 +3,2 @@
-no such line
+nor this one
 nor a context like this
EOF
cat "$T/quirks-part" >>"$T/two-files.patch"
t_exit 0 "the 3rd patch's first file alone applies (the control)" "$ACSO" patch --source-dir "$T/k" --dry-run --patch "$T/doc-only.patch"
t_exit 1 "3 patches, the 3rd's second file does not apply" "$ACSO" patch --source-dir "$T/k" --patch "$T/good.patch" --patch "$T/new-file.patch" --patch "$T/two-files.patch"
t_grep "... the 3rd patch and its file named" "two-files.patch: does not apply to 'drivers/pci/quirks.c'" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "... the tree untouched (not even the 3rd patch's first file)" || t_fail "... the tree untouched (not even the 3rd patch's first file)"
head -c "$(($(wc -c <"$T/doc-only.patch") + 60))" "$T/two-files.patch" >"$T/cut.patch"
t_exit 1 "3 patches, the 3rd cut in the middle" "$ACSO" patch --source-dir "$T/k" --patch "$T/good.patch" --patch "$T/new-file.patch" --patch "$T/cut.patch"
t_grep "... the cut patch named, and why" "cut.patch: a file header without its diff \\(is the patch cut short\\?\\)" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "... the tree untouched" || t_fail "... the tree untouched"
head -c "$(($(wc -c <"$T/two-files.patch") - 30))" "$T/two-files.patch" >"$T/cut2.patch"
t_exit 1 "3 patches, the 3rd cut inside its last hunk" "$ACSO" patch --source-dir "$T/k" --patch "$T/good.patch" --patch "$T/new-file.patch" --patch "$T/cut2.patch"
t_grep "... the cut patch named" "cut2.patch: " "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "... the tree untouched" || t_fail "... the tree untouched"

# libgit2 applies a hunk at the line its header names: context found
# elsewhere (patch(1)'s offsets, or fuzz) is refused.
mkpatch offset.patch <<'EOF'
--- a/drivers/pci/quirks.c
+++ b/drivers/pci/quirks.c
@@ -25,4 +25,5 @@
 	return -ENOTTY;
 }
 
+/* added three lines off */
 /* The table of devices whose ACS behaviour is known without a capability. */
EOF
t_exit 1 "context 3 lines off the header's line is refused" "$ACSO" patch --source-dir "$T/k" --patch "$T/offset.patch"
t_grep "... named with the header's line" "offset.patch: does not apply to 'drivers/pci/quirks.c': hunk at line 25 did not apply" "$T/.err"
t_exit 2 "--fuzz is gone" "$ACSO" patch --source-dir "$T/k" --fuzz 1

fresh
printf -- '--- a/drivers/pci/quirks.c\n@@ -1 +1 @@\n-a\n+b\n' >"$T/garbage.patch"
t_exit 1 "garbage header fails" "$ACSO" patch --source-dir "$T/k" --patch "$T/garbage.patch"
t_grep "garbage header explained" "garbage.patch: invalid hunk header" "$T/.err"
printf 'this is not a patch\n' >"$T/empty.patch"
t_exit 1 "no diff in a patch fails" "$ACSO" patch --source-dir "$T/k" --patch "$T/empty.patch"
t_grep "no diff explained" "empty.patch: no patch found" "$T/.err"
sed 's/$/\r/' "$T/good.patch" >"$T/crlf.patch"
t_exit 1 "CRLF patch on an LF tree fails" "$ACSO" patch --source-dir "$T/k" --patch "$T/crlf.patch"
t_grep "CRLF explained" "CRLF line endings" "$T/.err"
printf -- '--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n' >"$T/escape.patch"
t_exit 1 "a path out of the tree is refused" "$ACSO" patch --source-dir "$T/k" --patch "$T/escape.patch"
t_grep "... and named" "escape.patch: " "$T/.err"
t_exit 1 "missing patch file" "$ACSO" patch --source-dir "$T/k" --patch "$T/none.patch"
t_grep "missing patch named" "read '.*none.patch': No such file" "$T/.err"
sums >"$T/sum1"
cmp -s "$T/sum0" "$T/sum1" && t_pass "bad patches: tree untouched" || t_fail "bad patches: tree untouched"

# --patches DIR and a git repository, in name order
mkdir -p "$T/pdir"
cp "$T/good.patch" "$T/pdir/0001-good.patch"
cp "$T/new-file.patch" "$T/pdir/0002-new.patch"
t_exit 0 "--patches DIR" "$ACSO" patch --source-dir "$T/k" --patches "$T/pdir"
t_grep "--patches DIR applies in name order" "^patch '.*/pdir/0001-good.patch'" "$T/.out"
fresh
git init -q -b main "$T/prepo"
mkdir "$T/prepo/patches"
cp "$T/pdir"/*.patch "$T/prepo/patches/"
git -C "$T/prepo" add . && git -C "$T/prepo" -c user.name=t -c user.email=t@t commit -qm p && git -C "$T/prepo" tag v1
git -C "$T/prepo" rm -q patches/0002-new.patch && git -C "$T/prepo" -c user.name=t -c user.email=t@t commit -qm drop
t_exit 0 "--patches git:PATH@REF" "$ACSO" patch --source-dir "$T/k" --patches "git:$T/prepo@v1"
t_grep "patches read from the tag" "prepo:patches/0002-new.patch" "$T/.out"
[ -e "$T/k/drivers/pci/NEWFILE" ] && t_pass "the tag's patch set was applied" || t_fail "the tag's patch set was applied"
[ -d "$HOME/.cache/acso/git" ] && t_pass "repository cached under WORK/git" || t_fail "repository cached under WORK/git"
fresh
t_exit 1 "--patches with an unknown ref" "$ACSO" patch --source-dir "$T/k" --patches "$T/prepo@v9"
t_grep "unknown ref named" "no ref 'v9'" "$T/.err"
t_exit 1 "--patches git:// refused" "$ACSO" patch --source-dir "$T/k" --patches "git:git://example.invalid/x"
t_grep "git:// refusal explained" "neither authenticated nor encrypted" "$T/.err"
# allow_http is read by the one yes/no parser: `allow_http = true` lets
# --patches git:http:// through to the network as it does for fetch (it was
# refused: only the spelling "yes" counted here), "no" refuses, and a value
# that is neither is an error naming the key and the file.
printf 'allow_http = no\n' >"$T/http-no.conf"
t_exit 1 "allow_http = no: plain http git refused" "$ACSO" --config "$T/http-no.conf" patch --source-dir "$T/k" --patches "git:http://example.invalid/x"
t_grep "allow_http = no: refusal explained" "is plain http" "$T/.err"
for v in true yes On 1; do
	printf 'allow_http = %s\n' "$v" >"$T/http-yes.conf"
	t_exit 1 "allow_http = $v: no server there" "$ACSO" --config "$T/http-yes.conf" patch --source-dir "$T/k" --patches "git:http://example.invalid/x"
	t_nogrep "allow_http = $v: plain http allowed for --patches" "is plain http" "$T/.err"
done
printf 'allow_http = maybe\n' >"$T/http-bad.conf"
t_exit 2 "allow_http = maybe: a usage error" "$ACSO" --config "$T/http-bad.conf" patch --source-dir "$T/k" --patches "git:http://example.invalid/x"
t_grep "bad yes/no value: key and file named" "^acso: patch: config: 'allow_http' in .*/http-bad.conf:1: 'maybe' is not a yes/no value" "$T/.err"
t_grep "bad yes/no value: hint" "hint: set allow_http = yes or allow_http = no" "$T/.err"

# --- compile check with a configured tree (stub make) ---
fresh
printf 'CONFIG_PCI=y\n' >"$T/k/.config"
t_exit 0 "configured tree: compile check runs" "$ACSO" patch --source-dir "$T/k"
t_grep "compile check passed" "^compile check: passed" "$T/.out"
t_grep "only quirks.o is built, niced, with -j2" "^make -j2 drivers/pci/quirks.o$" "$T/k/.stub-log"
fresh
printf 'CONFIG_PCI=y\n' >"$T/k/.config"
touch "$T/k/.stub-cc-fail"
t_exit 1 "a compile failure fails the command" "$ACSO" patch --source-dir "$T/k" --json
t_grep "compile failure reported in JSON" '"status":"failed"' "$T/.out"
t_grep "compiler error quoted" "error: expected ';'" "$T/.out"
t_grep "compile failure: files put back (JSON)" '"files_restored":2' "$T/.out"
cmp -s "$FIXTURES/kernel-mini/$Q" "$T/k/$Q" && t_pass "compile failure: quirks.c byte for byte as before" ||
	t_fail "compile failure: quirks.c byte for byte as before"
cmp -s "$FIXTURES/kernel-mini/$D" "$T/k/$D" && t_pass "compile failure: the docs as before" ||
	t_fail "compile failure: the docs as before"
t_exit 1 "a compile failure, in text" "$ACSO" patch --source-dir "$T/k"
t_grep "compile failure: the tree is said to be unchanged" "^put back 2 file\(s\) as they were: the tree is unchanged" "$T/.out"
t_grep "compile failure: the hint says it was taken out" "hint: the override or a patch does not compile in this tree \(it was taken out again\)" "$T/.err"

# --- a tree shaped like 4.9: the docs in Documentation/kernel-parameters.txt ---
fresh
mv "$T/k/$D" "$T/k/Documentation/kernel-parameters.txt"
rmdir "$T/k/Documentation/admin-guide"
t_exit 0 "4.9-shaped tree: patch succeeds" "$ACSO" patch --source-dir "$T/k" --json
t_grep "4.9-shaped tree: the doc entry is placed" '"documentation":"placed"' "$T/.out"
t_grep "4.9-shaped tree: the old docs file documents the parameter" '^	pcie_acs_override=' "$T/k/Documentation/kernel-parameters.txt"
[ ! -e "$T/k/Documentation/admin-guide" ] && t_pass "4.9-shaped tree: no admin-guide/ made up" ||
	t_fail "4.9-shaped tree: no admin-guide/ made up"

t_done
