#!/usr/bin/env bash
# acso sign RELEASE: a kernel image in a fixture root signed with a
# throwaway MOK (made by acso, or Ubuntu's made here with openssl) through
# the real sbsign, checked with the real sbverify; left alone when signed;
# refused with the reason for a world-readable key, a key that is not the
# certificate's, a certificate without code signing, an image that is no
# PE file, a missing sbsign, and a full /boot (the original untouched);
# setup mode said. The images are tiny EFI applications made with objcopy.
. "$(dirname "$0")/../lib.sh"
REL=6.1.192-acso
GUID=8be4df61-93ca-11d2-aa0d-00e098032b8c

for tool in sbsign sbverify openssl objcopy jq; do
	command -v "$tool" >/dev/null || t_fail "$tool is installed (apt install sbsigntool openssl binutils jq)"
done

# mkroot DIR [SECUREBOOT SETUPMODE]: a root with efivars and a PE image.
mkroot() {
	local d=$1 sb=${2:-1} setup=${3:-0}
	mkdir -p "$d/boot" "$d/sys/firmware/efi/efivars"
	printf "\\006\\000\\000\\000\\00$sb" >"$d/sys/firmware/efi/efivars/SecureBoot-$GUID"
	printf "\\006\\000\\000\\000\\00$setup" >"$d/sys/firmware/efi/efivars/SetupMode-$GUID"
	cp "$T/pe" "$d/boot/vmlinuz-$REL"
}
# verified ROOT IMAGE: sbverify accepts ROOT/boot/IMAGE with the DKMS MOK.
verified() {
	openssl x509 -inform DER -in "$1/var/lib/dkms/mok.pub" -out "$T/cert.pem" &&
		sbverify --cert "$T/cert.pem" "$1/boot/$2" >/dev/null 2>&1
}

(cd "$T" && echo 'void _start(void){}' >t.c && cc -c -fPIC -O2 t.c -o t.o &&
	ld -shared -Bsymbolic -nostdlib t.o -o t.so &&
	objcopy -j .text -j .dynamic -j .data -j .rela --target efi-app-x86_64 t.so pe) ||
	t_fail "a PE image made with objcopy"

R=$T/root
mkroot "$R"
sum=$(sha256sum <"$R/boot/vmlinuz-$REL")

t_exit 0 "dry run" "$ACSO" --root "$R" sign --dry-run "$REL"
t_grep "dry run: would sign" "^would sign /boot/vmlinuz-$REL" "$T/.out"
t_grep "dry run: would make a MOK" "would make a new MOK" "$T/.out"
t_ok "dry run: no key made" test ! -e "$R/var/lib/dkms/mok.key"
t_ok "dry run: image unchanged" test "$(sha256sum <"$R/boot/vmlinuz-$REL")" = "$sum"

t_exit 0 "sign with a new MOK" "$ACSO" --root "$R" sign "$REL"
t_grep "signed" "^signed /boot/vmlinuz-$REL" "$T/.out"
t_grep "says Secure Boot is on" "Secure Boot: +on" "$T/.out"
t_grep "says which key" "mok.key \\(made by acso where Debian's DKMS looks\\)" "$T/.out"
t_grep "no enrolment from another root, says why" "not enrolled from here" "$T/.out"
t_ok "the key is root's alone" test "$(stat -c %a "$R/var/lib/dkms/mok.key")" = 600
t_ok "sbverify accepts the image with the MOK" verified "$R" "vmlinuz-$REL"
t_nogrep "no temporary file left in /boot" "acso-tmp" <(ls -A "$R/boot")
ino=$(stat -c %i "$R/boot/vmlinuz-$REL")

"$ACSO" --root "$R" sign --json "$REL" >"$T/s.json" 2>"$T/s.err"
t_jq "second run: already signed" '.outcome == "already signed"' "$T/s.json"
t_jq "json: the key and its origin" '.key.origin == "dkms" and .key.created == false and (.key.sha1 | length) == 40' "$T/s.json"
t_jq "json: Secure Boot and enrolment" '.secure_boot == "on" and .setup_mode == false and .enrol == "not asked"' "$T/s.json"
t_ok "second run: the image is left alone" test "$(stat -c %i "$R/boot/vmlinuz-$REL")" = "$ino"

# A second image, unsigned, for the refusals: it must stay as it is.
cp "$T/pe" "$R/boot/vmlinuz-b-acso"
sum=$(sha256sum <"$R/boot/vmlinuz-b-acso")
unchanged() { test "$(sha256sum <"$R/boot/vmlinuz-b-acso")" = "$sum"; }

chmod 644 "$R/var/lib/dkms/mok.key"
t_exit 1 "world-readable key: refused" "$ACSO" --root "$R" sign b-acso
t_grep "world-readable key: says why" "readable by others" "$T/.err"
t_ok "world-readable key: image unchanged" unchanged
chmod 600 "$R/var/lib/dkms/mok.key"

cp -p "$R/var/lib/dkms/mok.key" "$T/good.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$R/var/lib/dkms/mok.key" 2>/dev/null
chmod 600 "$R/var/lib/dkms/mok.key"
t_exit 1 "key and certificate do not match: refused" "$ACSO" --root "$R" sign b-acso
t_grep "mismatch: says so" "does not belong to the certificate" "$T/.err"
t_ok "mismatch: image unchanged" unchanged

cp -p "$R/var/lib/dkms/mok.pub" "$T/good.pub"
openssl req -new -x509 -key "$R/var/lib/dkms/mok.key" -outform DER -out "$R/var/lib/dkms/mok.pub" \
	-days 1 -subj /CN=tls -addext extendedKeyUsage=serverAuth 2>/dev/null
t_exit 1 "certificate without code signing: refused" "$ACSO" --root "$R" sign b-acso
t_grep "no code signing: says so" "code signing is not among the uses" "$T/.err"
t_ok "no code signing: image unchanged" unchanged
cp -p "$T/good.key" "$R/var/lib/dkms/mok.key"
cp -p "$T/good.pub" "$R/var/lib/dkms/mok.pub"

head -c 8192 /dev/zero >"$R/boot/vmlinuz-bios-acso"
t_exit 1 "not a PE image: refused" "$ACSO" --root "$R" sign bios-acso
t_grep "not PE: names EFI_STUB" "CONFIG_EFI_STUB" "$T/.err"
t_exit 1 "no such image" "$ACSO" --root "$R" sign none-acso
t_exit 1 "a release that is a path" "$ACSO" --root "$R" sign ../../etc/passwd
t_grep "a path: refused as a release" "is not a kernel release" "$T/.err"

# sbsign missing: refused before a key is made.
N=$T/nosb
mkroot "$N"
mkdir -p "$T/nosbin"
for p in $(echo "$PATH" | tr : ' '); do
	for f in "$p"/*; do
		case ${f##*/} in sbsign|sbverify) ;; *) [ -e "$T/nosbin/${f##*/}" ] || ln -s "$f" "$T/nosbin/" 2>/dev/null ;; esac
	done
done
t_exit 1 "sbsign missing: refused" env PATH="$T/nosbin" "$ACSO" --root "$N" sign "$REL"
t_grep "sbsign missing: names sbsigntool" "sbsigntool" "$T/.err"
t_ok "sbsign missing: no key made" test ! -e "$N/var/lib/dkms/mok.key"

# A full /boot: sbsign cannot write the signed image; the original stays.
F=$T/full
mkroot "$F"
mkdir -p "$F/var/lib/dkms" && cp -p "$T/good.key" "$T/good.pub" "$F/var/lib/dkms/" &&
	mv "$F/var/lib/dkms/good.key" "$F/var/lib/dkms/mok.key" && mv "$F/var/lib/dkms/good.pub" "$F/var/lib/dkms/mok.pub"
rm -rf "$F/boot" && mkdir "$F/boot"
if mount -t tmpfs -o size=64k tmpfs "$F/boot"; then
	t_on_exit "umount '$F/boot'"
	cp "$T/pe" "$F/boot/vmlinuz-$REL"
	head -c $(( $(stat -f -c '%a*%S' "$F/boot") - 1024 )) /dev/zero >"$F/boot/filler" 2>/dev/null
	fsum=$(sha256sum <"$F/boot/vmlinuz-$REL")
	t_exit 1 "full /boot: refused" "$ACSO" --root "$F" sign "$REL"
	t_grep "full /boot: hint names /boot" "df -h /boot" "$T/.err"
	t_ok "full /boot: original untouched" test "$(sha256sum <"$F/boot/vmlinuz-$REL")" = "$fsum"
	t_nogrep "full /boot: no temporary file left" "acso-tmp" <(ls -A "$F/boot")
else
	t_fail "a small tmpfs for /boot (mount -t tmpfs)"
fi

# Setup mode: signed, and said that nothing checks it yet.
S=$T/setup
mkroot "$S" 0 1
mkdir -p "$S/var/lib/dkms" && cp -p "$T/good.key" "$S/var/lib/dkms/mok.key" && cp -p "$T/good.pub" "$S/var/lib/dkms/mok.pub"
t_exit 0 "setup mode: signed" "$ACSO" --root "$S" sign "$REL"
t_grep "setup mode: said" "setup mode: nothing checks signatures" "$T/.err"

# Ubuntu's MOK (shim-signed's place, DER certificate) is used when it is there.
U=$T/ubuntu
mkroot "$U"
mkdir -p "$U/var/lib/shim-signed/mok"
openssl req -new -x509 -newkey rsa:2048 -nodes -keyout "$U/var/lib/shim-signed/mok/MOK.priv" \
	-outform DER -out "$U/var/lib/shim-signed/mok/MOK.der" -days 36500 -subj "/CN=Ubuntu test MOK" \
	-addext extendedKeyUsage=codeSigning 2>/dev/null
chmod 600 "$U/var/lib/shim-signed/mok/MOK.priv"
t_exit 0 "Ubuntu's MOK: signed" "$ACSO" --root "$U" sign "$REL"
t_grep "Ubuntu's MOK: says which" "MOK.priv \\(Ubuntu's" "$T/.out"
openssl x509 -inform DER -in "$U/var/lib/shim-signed/mok/MOK.der" -out "$T/u.pem"
t_ok "Ubuntu's MOK: sbverify accepts it" sbverify --cert "$T/u.pem" "$U/boot/vmlinuz-$REL"

# Completion offers the releases in /boot below --root.
got=$(PATH="$(dirname "$ACSO"):$PATH" bash -c '. "$1"; COMP_WORDS=(acso --root "$2" sign 6.1); COMP_CWORD=4; _acso; echo "${COMPREPLY[*]}"' _ "$TOP/scripts/acso.bash-completion" "$R")
[ "$got" = "$REL" ] && t_pass "completion: the releases in /boot" || t_fail "completion: the releases in /boot" "got '$got'"

# acso install with Secure Boot on signs the new kernel and writes the
# hook; with it off, neither. A bare root for dpkg --root (as
# tests/stubs/setup.sh makes one) and a linux-image package holding the PE.
dpkgroot() {
	mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/bin" "$1/tmp" "$1/proc/sys/kernel"
	: >"$1/var/lib/dpkg/status"
	: >"$1/var/lib/dpkg/available"
	cp "$(command -v busybox)" "$1/bin/busybox" && ln -sf busybox "$1/bin/sh" && ln -sf busybox "$1/bin/run-parts"
	echo 6.1.0-13-amd64 >"$1/proc/sys/kernel/osrelease"
	touch "$1/boot/vmlinuz-6.1.0-13-amd64"
	rm -f "$1/boot/vmlinuz-$REL"
}
mkdir -p "$T/pkg/DEBIAN" "$T/pkg/boot"
cp "$T/pe" "$T/pkg/boot/vmlinuz-$REL"
printf 'Package: linux-image-%s\nVersion: %s-1\nArchitecture: amd64\nMaintainer: t <t@e.org>\nDescription: x\n' "$REL" "$REL" >"$T/pkg/DEBIAN/control"
DEB=$T/linux-image-${REL}_${REL}-1_amd64.deb
dpkg-deb --root-owner-group --build "$T/pkg" "$DEB" >/dev/null || t_fail "a linux-image package"

I1=$T/inst-on
mkroot "$I1"
dpkgroot "$I1"
t_exit 0 "install --dry-run with Secure Boot on: says it would sign" "$ACSO" --work-dir "$T/w" --root "$I1" install --dry-run "$DEB"
t_grep "dry run: would sign" "Secure Boot is on: would sign /boot/vmlinuz-$REL" "$T/.out"
t_exit 0 "install with Secure Boot on" "$ACSO" --work-dir "$T/w" --root "$I1" install --json "$DEB"
t_jq "install json: signed with a new MOK" '.secure_boot == true and .signed.created == true and .signed.image == "/boot/vmlinuz-'"$REL"'"' "$T/.out"
t_ok "install: sbverify accepts the installed kernel" verified "$I1" "vmlinuz-$REL"
t_ok "install: the kernel hook is there, executable" test -x "$I1/etc/kernel/postinst.d/zz-acso-sign"
t_grep "install: says the MOK must be enrolled" "sudo acso sign $REL' enrols it" "$T/.err"

I2=$T/inst-off
mkroot "$I2" 0
dpkgroot "$I2"
t_exit 0 "install with Secure Boot off" "$ACSO" --work-dir "$T/w2" --root "$I2" install --json "$DEB"
t_jq "install json: Secure Boot off, nothing signed" '.secure_boot == false and .signed == null' "$T/.out"
t_ok "Secure Boot off: no key made, no hook" test ! -e "$I2/var/lib/dkms/mok.key" -a ! -e "$I2/etc/kernel/postinst.d/zz-acso-sign"
t_done
