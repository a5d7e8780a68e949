# tests/stubs/setup.sh — sourced by the build tests after lib.sh: the stub
# programs on PATH ($T/bin, where they also record their argv), a private
# work dir $W and a fake 6.1.192 kernel tree $SRC (Makefile and .config only).
mkdir -p "$T/bin"
cp "$TOP/tests/stubs/make" "$TOP/tests/stubs/chroot" "$T/bin/"
export PATH="$T/bin:$PATH"
unset SUDO_USER
W=$T/work
SRC=$T/src/linux-6.1.192
mkdir -p "$SRC"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n' >"$SRC/Makefile"
printf 'CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_LOCALVERSION=""\n' >"$SRC/.config"

# mkroot DIR — a bare throwaway root for dpkg --root: dpkg's database, a
# busybox shell for the maintainer scripts (dpkg runs them chrooted into
# DIR), a "running" 6.1.0-13-amd64 kernel and its vmlinuz.
mkroot() {
	local r=$1
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/bin" "$r/tmp" "$r/boot" "$r/proc/sys/kernel"
	: >"$r/var/lib/dpkg/status"
	: >"$r/var/lib/dpkg/available"
	cp "$(command -v busybox)" "$r/bin/busybox"
	ln -sf busybox "$r/bin/sh"
	ln -sf busybox "$r/bin/run-parts"
	echo 6.1.0-13-amd64 >"$r/proc/sys/kernel/osrelease"
	touch "$r/boot/vmlinuz-6.1.0-13-amd64"
}
