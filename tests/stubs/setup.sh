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
