#!/usr/bin/env bash
# acso grub with systemd-boot (/etc/kernel/cmdline, read by kernel-install)
# against fixture roots: --remove restores exactly what was there before
# acso's first add — the file's absence, its spacing, its missing newline, its
# mode, a parameter the user had already — and keeps a change the user made
# after the add (only acso's words go); --dry-run changes nothing; a second
# add does not rewrite the file; a run killed between the record and the file
# is read right.
. "$(dirname "$0")/../lib.sh"

# mkroot DIR — systemd-boot on the ESP (its loader entries; kernel-install
# alone does not count), an Intel CPU (intel_iommu=on is added), a running
# kernel's command line; no /etc/kernel/cmdline.
mkroot() {
	rm -rf "$1"
	mkdir -p "$1/usr/bin" "$1/proc" "$1/etc/kernel" "$1/var/lib" "$1/boot/efi/loader/entries"
	touch "$1/usr/bin/kernel-install"
	printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"
	printf 'BOOT_IMAGE=/vmlinuz-6.1.0-13-amd64 root=UUID=abcd ro quiet initrd=\\initrd.img\n' >"$1/proc/cmdline"
}
# tree ROOT — every file and directory under etc and var with its mode and checksum
tree() { (cd "$1" && find etc var -printf '%p %m %y\n' 2>/dev/null | sort; find etc var -type f -exec md5sum {} + 2>/dev/null | sort); }
# ident FILE — inode and modification time: a rewrite changes the inode (rename)
ident() { stat -c '%i %Y' "$1"; }
KC=etc/kernel/cmdline
G=("$ACSO" grub)

# 1. No /etc/kernel/cmdline before: the add creates it, --remove deletes it.
R=$T/absent
mkroot "$R"
tree "$R" >"$T/before"
t_exit 0 "absent: add exits 0" "${G[@]}" --root "$R"
t_grep "absent: the file is the running command line plus the parameters" \
	'^root=UUID=abcd ro quiet pcie_acs_override=downstream intel_iommu=on$' "$R/$KC"
t_exit 0 "absent: --remove exits 0" "${G[@]}" --root "$R" --remove
t_grep "absent: --remove says it deleted the file acso created" "^Deleted /etc/kernel/cmdline: acso had created it$" "$T/.out"
[ ! -e "$R/$KC" ] && t_pass "absent: the file is gone again" || t_fail "absent: the file is gone again" "$(cat "$R/$KC")"
tree "$R" >"$T/after"
if diff "$T/before" "$T/after" >"$T/d"; then t_pass "absent: nothing of acso's left (no backup, no record)"; else
	t_fail "absent: nothing of acso's left" "$(cat "$T/d")"; fi

# /usr/lib/kernel/cmdline is what kernel-install uses before /proc/cmdline.
mkdir -p "$R/usr/lib/kernel"
printf 'root=/dev/vda2 rw\n' >"$R/usr/lib/kernel/cmdline"
t_exit 0 "absent, /usr/lib/kernel/cmdline: add exits 0" "${G[@]}" --root "$R"
t_grep "absent: the base is /usr/lib/kernel/cmdline when it exists" '^root=/dev/vda2 rw pcie_acs_override=downstream intel_iommu=on$' "$R/$KC"
t_exit 0 "absent, /usr/lib/kernel/cmdline: --remove" "${G[@]}" --root "$R" --remove
[ ! -e "$R/$KC" ] && t_pass "absent, /usr/lib/kernel/cmdline: the file is gone again" || t_fail "absent, /usr/lib/kernel/cmdline: gone again"

# No /etc/kernel either: acso creates the directory and takes it back.
R=$T/nodir
mkroot "$R"
rmdir "$R/etc/kernel"
tree "$R" >"$T/before"
t_exit 0 "no /etc/kernel: add exits 0" "${G[@]}" --root "$R"
t_ok "no /etc/kernel: the file is written" test -s "$R/$KC"
t_exit 0 "no /etc/kernel: --remove exits 0" "${G[@]}" --root "$R" --remove
tree "$R" >"$T/after"
if diff "$T/before" "$T/after" >"$T/d"; then t_pass "no /etc/kernel: the directory acso created is gone too"; else
	t_fail "no /etc/kernel: tree as before" "$(cat "$T/d")"; fi

# 2. The user's own spacing, no trailing newline, mode 0600: byte for byte back.
R=$T/odd
mkroot "$R"
printf '  root=UUID=abcd   rw\tquiet splash' >"$R/$KC"
chmod 0600 "$R/$KC"
cp -p "$R/$KC" "$T/odd.orig"
t_exit 0 "odd spacing: add exits 0" "${G[@]}" --root "$R"
t_grep "odd spacing: the parameters are appended" '^root=UUID=abcd rw quiet splash pcie_acs_override=downstream intel_iommu=on$' "$R/$KC"
t_ok "odd spacing: the file before acso is kept as cmdline.acso-bak" cmp "$R/$KC.acso-bak" "$T/odd.orig"
# --dry-run of the remove: nothing changes.
tree "$R" >"$T/s1"
t_exit 0 "--dry-run --remove exits 0" "${G[@]}" --root "$R" --remove --dry-run
t_grep "--dry-run --remove says what it would restore" '^Would restore /etc/kernel/cmdline as it was before acso' "$T/.out"
tree "$R" >"$T/s2"
cmp -s "$T/s1" "$T/s2" && t_pass "--dry-run --remove changes nothing" || t_fail "--dry-run --remove changes nothing" "$(diff "$T/s1" "$T/s2")"
t_exit 0 "odd spacing: --remove exits 0" "${G[@]}" --root "$R" --remove
t_grep "odd spacing: --remove says it restored the file" '^Restored /etc/kernel/cmdline as it was before acso' "$T/.out"
if cmp "$R/$KC" "$T/odd.orig" >"$T/d" 2>&1; then t_pass "odd spacing: byte-identical after --remove"; else
	t_fail "odd spacing: byte-identical after --remove" "$(cat "$T/d")" "$(od -c "$R/$KC" | head -3)"; fi
[ "$(stat -c %a "$R/$KC")" = 600 ] && t_pass "odd spacing: the mode is kept" || t_fail "odd spacing: the mode is kept" "$(stat -c %a "$R/$KC")"
[ ! -e "$R/var/lib/acso/kernel-cmdline" ] && t_pass "odd spacing: the record is gone after --remove" || t_fail "odd spacing: record gone"
t_exit 0 "a second --remove exits 0" "${G[@]}" --root "$R" --remove
t_grep "a second --remove has nothing to do" '^Nothing to remove: acso had added nothing$' "$T/.out"
t_ok "a second --remove leaves the file alone" cmp "$R/$KC" "$T/odd.orig"

# 3. intel_iommu=on was there before acso: --remove keeps it.
R=$T/had
mkroot "$R"
printf 'root=UUID=abcd intel_iommu=on  quiet\n' >"$R/$KC"
cp "$R/$KC" "$T/had.orig"
t_exit 0 "pre-existing intel_iommu=on: add exits 0" "${G[@]}" --root "$R"
[ "$(grep -o 'intel_iommu=on' "$R/$KC" | wc -l)" = 1 ] && t_pass "pre-existing intel_iommu=on: once on the line" || t_fail "intel_iommu=on once" "$(cat "$R/$KC")"
# --dry-run of an add: nothing changes.
tree "$R" >"$T/s1"
t_exit 0 "--dry-run add exits 0" "${G[@]}" --root "$R" --iommu-pt --dry-run
t_grep "--dry-run add shows the line" '^Would write /etc/kernel/cmdline: .* iommu=pt$' "$T/.out"
tree "$R" >"$T/s2"
cmp -s "$T/s1" "$T/s2" && t_pass "--dry-run add changes nothing" || t_fail "--dry-run add changes nothing" "$(diff "$T/s1" "$T/s2")"
# A second add with the same parameters does not rewrite anything.
before=$(ident "$R/$KC") rbefore=$(ident "$R/var/lib/acso/kernel-cmdline")
sleep 1.1
t_exit 0 "second add exits 0" "${G[@]}" --root "$R"
t_grep "second add says nothing changes" '^Already registered: no file changes$' "$T/.out"
[ "$(ident "$R/$KC")" = "$before" ] && [ "$(ident "$R/var/lib/acso/kernel-cmdline")" = "$rbefore" ] &&
	t_pass "second add rewrites neither the file nor the record" || t_fail "second add rewrites nothing"
t_exit 0 "pre-existing intel_iommu=on: --remove exits 0" "${G[@]}" --root "$R" --remove
t_ok "pre-existing intel_iommu=on: byte-identical after --remove" cmp "$R/$KC" "$T/had.orig"

# 4. The user changed the file after acso's add: --remove keeps the change.
R=$T/edit
mkroot "$R"
printf 'root=UUID=abcd intel_iommu=on quiet\n' >"$R/$KC"
t_exit 0 "user edit: add exits 0" "${G[@]}" --root "$R"
sed -i 's/quiet/quiet  mitigations=off/' "$R/$KC"
t_exit 0 "user edit: --remove exits 0" "${G[@]}" --root "$R" --remove --json
t_grep "user edit: the warning says only acso's parameters were taken out" "changed since acso wrote it: took out only acso's parameters \(pcie_acs_override=downstream\)" "$T/.err"
[ "$(jq -r .undo "$T/.out")" = parameters ] && t_pass "user edit: JSON undo is 'parameters'" || t_fail "user edit: JSON undo" "$(cat "$T/.out")"
t_grep "user edit: the user's change is kept, acso's parameter gone, intel_iommu=on (the user's) kept where it was" \
	'^root=UUID=abcd intel_iommu=on quiet  mitigations=off$' "$R/$KC"
[ ! -e "$R/var/lib/acso/kernel-cmdline" ] && t_pass "user edit: the record is gone after --remove" || t_fail "user edit: record gone"
# An add on top of a user's change, then --remove: the change stays.
printf 'root=UUID=abcd quiet\n' >"$R/$KC"
t_exit 0 "user edit 2: add" "${G[@]}" --root "$R"
printf 'root=UUID=abcd quiet pcie_acs_override=downstream intel_iommu=on mine=1\n' >"$R/$KC"
t_exit 0 "user edit 2: add again after the user's change" "${G[@]}" --root "$R" --iommu-pt
t_exit 0 "user edit 2: --remove" "${G[@]}" --root "$R" --remove
t_grep "user edit 2: --remove keeps the change made between two adds" '^root=UUID=abcd quiet mine=1$' "$R/$KC"

# 5. Killed after the record was written but before the file: the next add
# and --remove still give back the original.
R=$T/killed
mkroot "$R"
printf 'root=UUID=abcd  quiet' >"$R/$KC"
cp "$R/$KC" "$T/killed.orig"
t_exit 0 "killed: add" "${G[@]}" --root "$R"
cp "$R/var/lib/acso/kernel-cmdline" "$T/record"
t_exit 0 "killed: --remove" "${G[@]}" --root "$R" --remove
mkdir -p "$R/var/lib/acso"
cp "$T/record" "$R/var/lib/acso/kernel-cmdline"
t_exit 0 "killed: --remove with only the record written" "${G[@]}" --root "$R" --remove
t_ok "killed: the file is left as it was" cmp "$R/$KC" "$T/killed.orig"
mkdir -p "$R/var/lib/acso"
cp "$T/record" "$R/var/lib/acso/kernel-cmdline"
t_exit 0 "killed: add with only the record written" "${G[@]}" --root "$R"
t_exit 0 "killed: then --remove" "${G[@]}" --root "$R" --remove
t_ok "killed: byte-identical after add and --remove" cmp "$R/$KC" "$T/killed.orig"
K=$R

# acso setup registers intel_iommu=on through the same code and reports
# itself: its --json is one document.
R=$T/setup
mkroot "$R"
mkdir -p "$R/var/lib/dpkg"
: >"$R/var/lib/dpkg/status"
printf 'ID=debian\nVERSION_ID="12"\n' >"$R/etc/os-release"
t_exit 0 "setup --json on systemd-boot exits 0" "$ACSO" setup --root "$R" --json --no-packages --no-group
jq -e -s 'length == 1 and .[0].ok' "$T/.out" >/dev/null && t_pass "setup --json on systemd-boot is one JSON document" ||
	t_fail "setup --json on systemd-boot is one JSON document" "$(cat "$T/.out")"
t_grep "setup: intel_iommu=on in /etc/kernel/cmdline" 'intel_iommu=on$' "$R/$KC"

# A record that is not acso's: refused, nothing changed.
R=$K
mkdir -p "$R/var/lib/acso"
printf 'not a record\n' >"$R/var/lib/acso/kernel-cmdline"
t_exit 1 "a foreign record: exit 1" "${G[@]}" --root "$R" --remove
t_grep "a foreign record: names it" "'/var/lib/acso/kernel-cmdline' is not a record acso wrote" "$T/.err"
t_ok "a foreign record: the file is untouched" cmp "$R/$KC" "$T/killed.orig"
t_done
