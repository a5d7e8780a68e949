#!/usr/bin/env bash
# acso fetch --source distro against fixture roots: what it would install
# (Debian's, Ubuntu's and Linux Mint's package names), what it refuses (not Debian/Ubuntu; package missing inside --root; a
# tarball dpkg does not vouch for). The real 6.1 extraction is in tests/slow/.
. "$(dirname "$0")/../lib.sh"
mkroot() { # mkroot DIR ID OSRELEASE [ID_LIKE]
	mkdir -p "$1/etc" "$1/proc/sys/kernel"
	printf 'ID=%s\nPRETTY_NAME="x"\n' "$2" >"$1/etc/os-release"
	[ -z "${4:-}" ] || printf 'ID_LIKE="%s"\n' "$4" >>"$1/etc/os-release"
	printf '%s\n' "$3" >"$1/proc/sys/kernel/osrelease"
}
mkroot "$T/deb" debian 6.1.0-21-amd64
mkroot "$T/ubu" ubuntu 5.15.0-91-generic
mkroot "$T/fed" fedora 6.11.4-301.fc41.x86_64
# Linux Mint takes its kernels, and linux-source, from Ubuntu's archive.
# Its /etc/os-release (Mint 21): 'ID=linuxmint', 'ID_LIKE="ubuntu debian"';
# Mint 21 runs Ubuntu 22.04's 5.15.0-N-generic kernels.
mkroot "$T/mint" linuxmint 5.15.0-91-generic "ubuntu debian"
# Any key will do for the keyring: no signature is checked on this path.
K=(--keyring "$T/k.asc")
export GNUPGHOME=$T/gnupg; mkdir -m 700 "$GNUPGHOME"
t_on_exit "GNUPGHOME=$GNUPGHOME gpgconf --kill gpg-agent"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'K <k@test.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export k@test.invalid >"$T/k.asc"
D=("$ACSO" --work-dir "$T/w" fetch "${K[@]}" --source distro)

t_exit 0 "--dry-run on Debian says which package it would install" "${D[@]}" --root "$T/deb" --dry-run
t_grep "... linux-source-6.1" "would run: apt-get install -y linux-source-6.1$" "$T/.out"
t_exit 0 "--dry-run on Ubuntu names Ubuntu's package" "${D[@]}" --root "$T/ubu" --dry-run
t_grep "... linux-source-5.15.0" "apt-get install -y linux-source-5.15.0$" "$T/.out"
t_exit 0 "--dry-run on Linux Mint names Ubuntu's package" "${D[@]}" --root "$T/mint" --dry-run
t_grep "... linux-source-5.15.0 (Mint)" "apt-get install -y linux-source-5.15.0$" "$T/.out"
t_exit 0 "an explicit series" "${D[@]}" --root "$T/deb" --dry-run 6.12
t_grep "... is used" "linux-source-6.12$" "$T/.out"
t_exit 1 "Fedora is not supported" "${D[@]}" --root "$T/fed"
t_grep "... and says so" "knows Debian and Ubuntu, not 'fedora'" "$T/.err"
t_exit 1 "a package missing inside --root is not installed there" "${D[@]}" --root "$T/deb"
t_grep "... and says so" "linux-source-6.1.tar.xz is not installed in" "$T/.err"
# A tarball dpkg does not know: dpkg --verify cannot vouch for it.
mkdir -p "$T/deb/usr/src" "$T/deb/var/lib/dpkg/info" "$T/deb/var/lib/dpkg/updates"
: >"$T/deb/var/lib/dpkg/status"
cp "$TOP/tests/mirror/craft-tar" "$T/deb/usr/src/linux-source-6.1.tar.xz"
t_exit 5 "a tarball dpkg does not vouch for is refused" "${D[@]}" --root "$T/deb"
t_grep "... by dpkg --verify" "dpkg --verify linux-source-6.1" "$T/.err"
t_ok "... leaving no tree" test -z "$(ls -A "$T/w/src" 2>/dev/null)"
t_done
