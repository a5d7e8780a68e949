#!/usr/bin/env bash
# acso uninstall trusts only the ledger root keeps (issue 15, item 3): the
# record of what acso installed is ROOT/var/lib/acso/installed.json, and
# every name in it must be a package acso installs. A hostile
# WORK/state/installed.json (the user's, writable by the user) or a ledger
# naming an option or another package passes nothing to dpkg: stubs of
# dpkg and chroot on PATH record any argv they get. Kernels from acso's APT
# channel are apt's: uninstall points to `acso prebuilt --remove --purge`.
. "$(dirname "$0")/../lib.sh"
mkdir -p "$T/bin"
for p in dpkg chroot; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/dpkg.argv"\n' "$p" "$T" >"$T/bin/$p"
	chmod +x "$T/bin/$p"
done
export PATH=$T/bin:$PATH
R=$T/root
W=$T/work
mkdir -p "$R/boot" "$R/proc/sys/kernel" "$R/var/lib/dpkg" "$W/state"
echo 6.1.0-13-amd64 >"$R/proc/sys/kernel/osrelease"
touch "$R/boot/vmlinuz-6.1.0-13-amd64" "$R/boot/vmlinuz-6.1.192-acso"
# ledger RELEASE PACKAGE... — an installed.json as acso writes it
ledger() {
	local rel=$1 pk=""
	shift
	for p; do pk+="${pk:+,}{\"package\": \"$p\", \"version\": \"1\"}"; done
	printf '{"installed": [{"release": "%s", "root": "%s", "installed_at": "", "packages": [%s]}]}\n' "$rel" "$R" "$pk"
}
U=(env PATH="$PATH" "$ACSO" --work-dir "$W" --root "$R")

# the user's copy in the work dir is never read
ledger 6.1.192-acso --force-remove-essential libc6 >"$W/state/installed.json"
t_exit 1 "a ledger in the work dir only: nothing acso installed" "${U[@]}" uninstall 6.1.192-acso
t_grep "says where acso keeps its record" "/var/lib/acso/installed.json" "$T/.err"
[ ! -e "$T/dpkg.argv" ] && t_pass "the work dir's ledger: nothing passed to dpkg" || t_fail "nothing passed to dpkg" "$(cat "$T/dpkg.argv")"

# a ledger beneath the root that names an option or another package
mkdir -p "$R/var/lib/acso"
for bad in --force-remove-essential libc6 linux-image-6.1.0-13-amd64; do
	ledger 6.1.192-acso linux-image-6.1.192-acso "$bad" >"$R/var/lib/acso/installed.json"
	t_exit 1 "root's ledger naming '$bad': refused" "${U[@]}" uninstall 6.1.192-acso
	t_grep "'$bad': says it is not acso's" "'$bad' of release '6.1.192-acso' is not a package acso installs" "$T/.err"
done
ledger 6.1.0-13-amd64 linux-image-6.1.0-13-amd64 >"$R/var/lib/acso/installed.json"
t_exit 1 "a release without acso's local version: refused" "${U[@]}" uninstall 6.1.0-13-amd64
[ ! -e "$T/dpkg.argv" ] && t_pass "hostile ledgers: nothing passed to dpkg" || t_fail "hostile ledgers: nothing passed to dpkg" "$(cat "$T/dpkg.argv")"

# acso's own record: its packages, and only they, are purged
ledger 6.1.192-acso linux-image-6.1.192-acso linux-headers-6.1.192-acso >"$R/var/lib/acso/installed.json"
t_exit 0 "root's ledger of acso's packages: uninstall goes on" "${U[@]}" uninstall 6.1.192-acso
t_grep "dpkg --purge gets exactly acso's packages" "--purge linux-image-6.1.192-acso linux-headers-6.1.192-acso$" "$T/dpkg.argv"
jq -e '.installed == []' "$R/var/lib/acso/installed.json" >/dev/null && t_pass "the ledger forgets the release" ||
	t_fail "the ledger forgets the release" "$(cat "$R/var/lib/acso/installed.json")"

# a kernel from acso's APT channel is apt's: uninstall names the way out
printf 'linux-image-6.6.66-acso\nlinux-headers-6.6.66-acso\n' >"$R/var/lib/acso/prebuilt-installed"
t_exit 1 "a channel kernel: not uninstall's" "${U[@]}" uninstall 6.6.66-acso
t_grep "a channel kernel: the hint names it and acso prebuilt --remove --purge" \
	"hint: the kernels from acso's APT channel \(linux-image-6.6.66-acso linux-headers-6.6.66-acso\) are apt's: 'acso prebuilt --remove --purge'" "$T/.err"
t_done
