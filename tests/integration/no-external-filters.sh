#!/usr/bin/env bash
# libarchive must not start external decompressors (issue 15, item 8):
# archive_read_support_filter_all also registers lrzip, lzop, grzip, ... which
# libarchive runs as programs found on PATH. A .deb whose control.tar member
# is lrzip data and a "compressed" file for verify-signature must be refused
# without any program being run. A fake lrzip/lzop/grzip on PATH records it.
. "$(dirname "$0")/../lib.sh"
export ACSO_DATADIR=$TOP
mkdir -p "$T/bin"
for p in lrzip lzop grzip lz4 zstd xz gzip bzip2; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/ran"\ncat >/dev/null\nexit 1\n' "$p" "$T" >"$T/bin/$p"
	chmod +x "$T/bin/$p"
done
export PATH=$T/bin:$PATH
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/boot" "$R/proc/sys/kernel" "$R/tmp"
: >"$R/var/lib/dpkg/status"
echo 6.1.0-13-amd64 >"$R/proc/sys/kernel/osrelease"
# lrzip's magic (LRZI, major 0, minor 6) then junk: enough for libarchive's bidder.
lrz() { printf 'LRZI\000\006'; head -c 2048 /dev/zero; }
mkdir -p "$T/deb"
printf '2.0\n' >"$T/deb/debian-binary"
lrz >"$T/deb/control.tar.lrz"
lrz >"$T/deb/data.tar.lrz"
(cd "$T/deb" && ar qc "$T/evil.deb" debian-binary control.tar.lrz data.tar.lrz) 2>/dev/null ||
	python3 - "$T/deb" "$T/evil.deb" <<'P'
import os, sys
d, out = sys.argv[1:3]
with open(out, 'wb') as f:
    f.write(b'!<arch>\n')
    for n in ('debian-binary', 'control.tar.lrz', 'data.tar.lrz'):
        b = open(os.path.join(d, n), 'rb').read()
        f.write(('%-16s%-12d%-6d%-6d%-8s%-10d`\n' % (n, 0, 0, 0, '100644', len(b))).encode())
        f.write(b + (b'\n' if len(b) % 2 else b''))
P
t_exit 1 "install --dry-run of a .deb with an lrzip control.tar is refused" \
	"$ACSO" --work-dir "$T/w" --root "$R" install --dry-run "$T/evil.deb"
t_grep "... saying why" "control\.tar" "$T/.err"
t_ok "... and no external decompressor ran" test ! -e "$T/ran"
rm -f "$T/ran"

lrz >"$T/linux-6.6.5.tar.xz"
# a real kernel.org signature (tests/data/kernel.org/README.md says where from):
# parsed before any byte of the data is read
cp "$TOP/tests/data/kernel.org/sign/linux-3.10.tar.sign" "$T/linux-6.6.5.tar.sign"
"$ACSO" verify-signature "$T/linux-6.6.5.tar.xz" "$T/linux-6.6.5.tar.sign" >"$T/vs.out" 2>&1
t_ok "verify-signature of lrzip data named .tar.xz fails" test $? -ne 0
t_ok "... and no external decompressor ran" test ! -e "$T/ran"
rm -f "$T/ran"

# What a .deb really uses still works (xz, gzip, zstd), built in.
for c in xz gzip zstd; do
	rm -rf "$T/g" && mkdir -p "$T/g/c" && printf 'Package: linux-image-6.6.5-acso\nVersion: 6.6.5-1\nArchitecture: amd64\n' >"$T/g/c/control"
	case $c in xz) ext=xz ;; gzip) ext=gz ;; zstd) ext=zst ;; esac
	command -p "$c" --version >/dev/null 2>&1 || { t_fail "$c is installed for the test"; continue; }
	tar -C "$T/g/c" -cf - ./control | command -p "$c" -c >"$T/g/control.tar.$ext"
	printf '2.0\n' >"$T/g/debian-binary"
	(cd "$T/g" && ar qc "$T/g/good.deb" debian-binary "control.tar.$ext")
	"$ACSO" --work-dir "$T/w" --root "$R" --json install --dry-run "$T/g/good.deb" >"$T/good.out" 2>&1
	t_grep "a $c control.tar is read (built in)" 'linux-image-6\.6\.5-acso' "$T/good.out"
done
t_ok "no external program ran for them" test ! -e "$T/ran"
t_done
