# tests/e2e/lib/secureboot.sh — the Secure Boot scenario of issue 13: the
# ACS kernel the e2e built and installed, signed by `acso sign` with a test
# MOK, booted by OVMF with Secure Boot enforced through Debian's signed shim
# and GRUB; and the same kernel unsigned, refused. Source after qemu.sh,
# image.sh and scenario.sh. Functions only; e2e.sh asserts.
#
# The firmware: Debian's ovmf, OVMF_CODE_4M.secboot.fd (read-only pflash,
# SMM, secure flash) with a private copy of OVMF_VARS_4M.fd, the varstore
# with no keys at all: the firmware is in setup mode, Secure Boot is off.
#
# The enrolment: the test is the platform owner and enrols its keys the way
# an owner does from a running OS (sbctl, efi-updatevar): in setup mode,
# through efivarfs, db first, then KEK, then PK last, which ends setup mode.
# The firmware itself checks each write (an authenticated variable made on
# the host with efitools' sign-efi-sig-list); no varstore byte is edited by
# hand. The keys:
#   PK and KEK  a throwaway "acso e2e platform key" made here;
#   db          the test MOK's certificate (so shim trusts the kernel acso
#               signed: shim checks db as well as its MOK list) and the
#               SHA-256 Authenticode hash of Debian's signed shim (there is
#               no Microsoft CA in this db, so the firmware would refuse shim
#               otherwise).
# The hash comes from shim-unsigned's shimx64.efi: hash-to-efi-sig-list
# cannot read the signed file (its certificate table is padded: it prints a
# hash of zeros), and Debian's shim-signed is Microsoft's signature on exactly
# that build (the versions are checked to match; the firmware starting shim
# is the proof that the hash is right).
# The boots, all with the same varstore file:
#   sb-enrol     the kernel acso signed, handed to the firmware with -kernel
#                (QEMU's fw_cfg; Secure Boot is off in setup mode); the guest
#                hook writes db, KEK and PK and reports SetupMode before and
#                after;
#   sb-signed    the ESP first in the boot order: the firmware starts
#                Debian's shim (its hash is in db), shim starts Debian's
#                signed GRUB (trusted through shim's built-in Debian CA), GRUB
#                reads \EFI\debian\grub.cfg (its embedded config looks there)
#                and boots /boot/vmlinuz-REL from the e2e image, checked by
#                shim against db. The guest hook reports the SecureBoot
#                variable, `acso check` and `acso sign --dry-run` (which asks
#                mokutil whether the MOK is enrolled: "is already in db");
#   sb-unsigned  the same, with the image's kernel put back as it was before
#                acso signed it: refused ("bad shim signature"), QEMU is
#                stopped at the refusal.
#
# The ESP is a GPT disk with one FAT partition, made with mkfs.vfat + mcopy
# (no loop mount), on q35's own AHCI controller: the guest's PCI topology
# (qemu.sh) stays the same.

E2E_SB_CODE=${E2E_SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
E2E_SB_VARS=${E2E_SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
E2E_SB_SHIM=/usr/lib/shim/shimx64.efi.signed
E2E_SB_SHIM_UNSIGNED=/usr/lib/shim/shimx64.efi
E2E_SB_GRUB=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
E2E_SB_GUID=8be4df61-93ca-11d2-aa0d-00e098032b8c
E2E_SB_DB_GUID=d719b2cb-3d3a-4596-a3bc-dad00e67656f
# Where the enrolment boot finds the variables to write, in the image.
E2E_SB_KEYS=/root/acso-e2e-sb
# A refusal on the console: the boot is over, QEMU is stopped at once.
E2E_SB_REFUSED='bad shim signature|Access Denied|No bootable option or device was found|you need to load the kernel first'

# e2e_sb_missing — the tools and files the scenario needs that are not
# here, space-separated (empty when all are).
e2e_sb_missing() {
	local t f missing=""
	for t in mkfs.vfat mcopy sfdisk sbsign sbverify openssl cert-to-efi-sig-list \
		hash-to-efi-sig-list sign-efi-sig-list; do
		command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 ||
			missing="$missing $t"
	done
	for f in "$E2E_SB_CODE" "$E2E_SB_VARS" "$E2E_SB_SHIM" "$E2E_SB_SHIM_UNSIGNED" "$E2E_SB_GRUB"; do
		[ -e "$f" ] || missing="$missing $f"
	done
	echo "${missing# }"
}

# e2e_sb_mok MNT DIR — the test MOK, where Debian's DKMS keeps it in the
# image (/var/lib/dkms/mok.key root-only, mok.pub DER), as on a machine that
# signs its NVIDIA modules; its certificate as PEM in DIR/mok.pem for db.
e2e_sb_mok() {
	local mnt=$1 dir=$2
	mkdir -p "$dir" && install -d -m 0700 "$mnt/var/lib/dkms" || return 1
	(umask 077 && openssl req -new -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj "/CN=acso e2e test MOK/" -addext extendedKeyUsage=codeSigning \
		-addext keyUsage=digitalSignature -keyout "$mnt/var/lib/dkms/mok.key" \
		-outform DER -out "$mnt/var/lib/dkms/mok.pub") >"$dir/openssl.log" 2>&1 || return 1
	chmod 0644 "$mnt/var/lib/dkms/mok.pub"
	openssl x509 -inform DER -in "$mnt/var/lib/dkms/mok.pub" -out "$dir/mok.pem"
}

# e2e_sb_sign MNT REL DIR — keep the unsigned kernel aside (DIR/vmlinuz.unsigned,
# the negative control), then sign the image's kernel with acso, output in
# DIR/sign.log. Returns acso's exit status.
e2e_sb_sign() {
	local mnt=$1 rel=$2 dir=$3
	cp -p "$mnt/boot/vmlinuz-$rel" "$dir/vmlinuz.unsigned" || return 1
	echo "\$ $ACSO --root $mnt sign --no-enrol $rel" >"$dir/sign.log"
	"$ACSO" --root "$mnt" sign --no-enrol "$rel" >>"$dir/sign.log" 2>&1 </dev/null
}

# e2e_sb_var DIR NAME ESL KEY CERT OUT — OUT: the authenticated variable NAME
# holding ESL, signed with KEY/CERT, as efivarfs takes it: the attributes
# (non-volatile, boot and runtime access, time-based authenticated write:
# 0x27, little-endian) and then the EFI_VARIABLE_AUTHENTICATION_2 data.
e2e_sb_var() {
	local dir=$1 name=$2 esl=$3 key=$4 cert=$5 out=$6
	sign-efi-sig-list -k "$key" -c "$cert" "$name" "$esl" "$dir/$name.auth" >>"$dir/sign-efi-sig-list.log" 2>&1 &&
		{ printf '\047\000\000\000' && cat "$dir/$name.auth"; } >"$out"
}

# e2e_sb_keys MNT DIR — the platform key, the signature lists and the three
# variables for the enrolment boot, in MNT$E2E_SB_KEYS (see the header).
e2e_sb_keys() {
	local mnt=$1 dir=$2 owner signed unsigned
	# One version, or the hash of the unsigned build is not the signed file's.
	signed=$(dpkg-query -W -f='${Version}' shim-signed 2>/dev/null)
	unsigned=$(dpkg-query -W -f='${Version}' shim-unsigned 2>/dev/null)
	[ -n "$unsigned" ] && [ "${signed##*+}" = "$unsigned" ] ||
		{ echo "# e2e: shim-signed $signed is not shim-unsigned $unsigned signed"; return 1; }
	(umask 077 && openssl req -new -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj "/CN=acso e2e platform key/" -keyout "$dir/pk.key" -out "$dir/pk.pem") \
		>>"$dir/openssl.log" 2>&1 || return 1
	owner=$(cat /proc/sys/kernel/random/uuid)
	cert-to-efi-sig-list -g "$owner" "$dir/pk.pem" "$dir/pk.esl" >/dev/null &&
		cert-to-efi-sig-list -g "$owner" "$dir/mok.pem" "$dir/mok.esl" >/dev/null &&
		hash-to-efi-sig-list "$E2E_SB_SHIM_UNSIGNED" "$dir/shim.esl" >"$dir/shim-hash.log" 2>&1 &&
		cat "$dir/mok.esl" "$dir/shim.esl" >"$dir/db.esl" || return 1
	install -d -m 0700 "$mnt$E2E_SB_KEYS" &&
		e2e_sb_var "$dir" db "$dir/db.esl" "$dir/pk.key" "$dir/pk.pem" "$mnt$E2E_SB_KEYS/db.var" &&
		e2e_sb_var "$dir" KEK "$dir/pk.esl" "$dir/pk.key" "$dir/pk.pem" "$mnt$E2E_SB_KEYS/KEK.var" &&
		e2e_sb_var "$dir" PK "$dir/pk.esl" "$dir/pk.key" "$dir/pk.pem" "$mnt$E2E_SB_KEYS/PK.var"
}

# e2e_sb_cmdline MNT REL — the kernel command line acso registered for REL
# in the image's grub.cfg (the BIOS boots use it as it is).
e2e_sb_cmdline() {
	awk -v k="/boot/vmlinuz-$2" '$1 == "linux" && $2 == k { $1 = $2 = ""; sub(/^ +/, ""); print; exit }' \
		"$1/boot/grub/grub.cfg" | grep .
}

# e2e_sb_fat_disk IMG SRC — IMG: a GPT disk with one FAT partition (type ESP)
# holding the tree SRC; the partition is made as a file with mkfs.vfat and
# filled with mcopy, then written into place: no loop device, no mount.
e2e_sb_fat_disk() {
	local img=$1 src=$2 part=$1.part
	rm -f "$img" "$part"
	truncate -s 34M "$img" && truncate -s 32M "$part" || return 1
	printf 'label: gpt\nstart=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n' |
		sfdisk -q "$img" || return 1
	PATH=$PATH:/usr/sbin:/sbin mkfs.vfat -n ACSO-E2E "$part" >/dev/null || return 1
	mcopy -s -i "$part" "$src"/* ::/ || return 1
	dd if="$part" of="$img" bs=1M seek=1 conv=notrunc status=none && rm -f "$part"
}

# e2e_sb_esp MNT REL DIR — DIR/esp.img: Debian's signed shim as the
# removable-media loader \EFI\BOOT\BOOTX64.EFI, its signed GRUB beside it
# (where shim looks), and the grub.cfg that boots the image's kernel.
e2e_sb_esp() {
	local mnt=$1 rel=$2 dir=$3 tree=$3/esp cmdline
	cmdline=$(e2e_sb_cmdline "$mnt" "$rel") ||
		{ echo "# e2e: no 'linux /boot/vmlinuz-$rel' line in the image's grub.cfg"; return 1; }
	mkdir -p "$tree/EFI/BOOT" "$tree/EFI/debian" || return 1
	cp "$E2E_SB_SHIM" "$tree/EFI/BOOT/BOOTX64.EFI" && cp "$E2E_SB_GRUB" "$tree/EFI/BOOT/grubx64.efi" || return 1
	cat >"$tree/EFI/debian/grub.cfg" <<EOF
# Written by acso's e2e test (tests/e2e/lib/secureboot.sh): the image's
# kernel with the command line acso registered in the image's grub.cfg.
echo "acso-e2e: Debian's signed GRUB read \\EFI\\debian\\grub.cfg"
search --no-floppy --file --set=root /boot/vmlinuz-$rel
linux /boot/vmlinuz-$rel $cmdline
boot
EOF
	e2e_sb_fat_disk "$dir/esp.img" "$tree"
}

# e2e_sb_hook MNT REL — the guest's Secure Boot report (guest-init runs
# $E2E_HOOK before its own): SetupMode and SecureBoot through efivarfs; when
# the enrolment's variables are in the image, it writes them (db, KEK, PK)
# and reports SetupMode again; otherwise acso check and acso sign --dry-run.
e2e_sb_hook() {
	cat >"$1$E2E_HOOK" <<EOF
#!/bin/sh
# Written by acso's e2e test (tests/e2e/lib/secureboot.sh), not by acso.
V=/sys/firmware/efi/efivars
val() { od -An -tu1 "\$V/\$1-$E2E_SB_GUID" 2>/dev/null | awk '{ print \$5 }'; }
echo "=== acso-e2e secureboot begin ==="
mount -t efivarfs efivarfs \$V
echo "sb-setupmode: \$(val SetupMode)"
echo "sb-efivar: \$(val SecureBoot)"
# The kernel's own words (the console is quiet: pr_info is in dmesg only).
line=\$(dmesg | grep -F -e 'Secure boot enabled' -e 'Secure boot disabled' | head -1)
echo "sb-kernel: \${line:-none}"
if [ -f $E2E_SB_KEYS/PK.var ]; then
	# One write each (cat writes a file this small in one call), as
	# efivarfs wants; PK last: it ends setup mode.
	cat $E2E_SB_KEYS/db.var >\$V/db-$E2E_SB_DB_GUID && echo "sb-enrol-db: ok"
	cat $E2E_SB_KEYS/KEK.var >\$V/KEK-$E2E_SB_GUID && echo "sb-enrol-KEK: ok"
	cat $E2E_SB_KEYS/PK.var >\$V/PK-$E2E_SB_GUID && echo "sb-enrol-PK: ok"
	echo "sb-setupmode-after: \$(val SetupMode)"
else
	echo "--- sb-check ---"
	acso check --json
	echo
	echo "--- end sb-check ---"
	echo "--- sb-sign ---"
	acso sign --dry-run --json $2
	echo
	echo "--- end sb-sign ---"
fi
echo "=== acso-e2e secureboot end ==="
EOF
	chmod 0755 "$1$E2E_HOOK"
}

# e2e_sb_field LOG KEY — "KEY: value" from the hook's report.
e2e_sb_field() {
	e2e_hook_field "$1" secureboot "$2"
}

# e2e_sb_json LOG SECTION FILTER — jq FILTER on the JSON in the hook's
# section (sb-check, sb-sign).
e2e_sb_json() {
	tr -d '\r' <"$1" | sed -n "/^--- $2 ---\$/,/^--- end $2 ---\$/{//!p}" | jq -r "$3" 2>/dev/null
}

# e2e_sb_boot NAME IMG MNT DIR LOG [KERNEL APPEND] — boot the image under
# OVMF with Secure Boot, the varstore DIR/vars.fd (made from the empty one on
# the first boot, kept for the next); with KERNEL, that kernel through
# fw_cfg (the enrolment boot), otherwise the ESP first in the boot order.
# Unmounts the image for the boot and mounts it again. Returns
# e2e_qemu_boot's status (0 the report, 3 a refusal).
e2e_sb_boot() {
	local name=$1 img=$2 mnt=$3 dir=$4 log=$5 kernel=${6:-} append=${7:-} rc
	[ -f "$dir/vars.fd" ] || cp "$E2E_SB_VARS" "$dir/vars.fd" || return 1
	E2E_QEMU_MACHINE=,smm=on
	E2E_QEMU_EXTRA=(-global driver=cfi.pflash01,property=secure,value=on
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$E2E_SB_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd")
	# The ESP first; the system disk second, or OVMF leaves it
	# unconnected and GRUB cannot see /boot.
	[ -n "$kernel" ] || E2E_QEMU_EXTRA+=(-drive "file=$dir/esp.img,format=raw,if=none,id=esp"
		-device ide-hd,drive=esp,bus=ide.1,bootindex=1)
	[ -n "$kernel" ] || E2E_QEMU_DISK=,bootindex=2
	E2E_QEMU_STOP=$E2E_SB_REFUSED
	e2e_image_detach "$mnt" || return 1
	e2e_qemu_boot "$name" "$img" "$kernel" "$log" "$append"
	rc=$?
	E2E_QEMU_MACHINE= E2E_QEMU_DISK= E2E_QEMU_STOP= E2E_QEMU_EXTRA=()
	e2e_image_attach "$img" "$mnt" || return 1
	return $rc
}

# e2e_sb_prepare MNT REL DIR — everything before the boots: the test MOK in
# the image, the kernel signed by acso (TAP lines for it), the keys and
# variables of the enrolment, the ESP and the guest's report hook.
e2e_sb_prepare() {
	local mnt=$1 rel=$2 dir=$3
	mkdir -p "$dir" && e2e_sb_mok "$mnt" "$dir" ||
		{ t_fail "Secure Boot: a test MOK where DKMS keeps it" "$(cat "$dir/openssl.log")"; return 1; }
	if e2e_sb_sign "$mnt" "$rel" "$dir" && grep -q "^signed /boot/vmlinuz-$rel" "$dir/sign.log"; then
		t_pass "Secure Boot: acso --root IMAGE sign $rel signs the installed kernel with the DKMS MOK"
	else
		t_fail "Secure Boot: acso --root IMAGE sign $rel signs the installed kernel" "$(tail -5 "$dir/sign.log")"
		return 1
	fi
	sed 's/^/#   /' "$dir/sign.log"
	sbverify --cert "$dir/mok.pem" "$mnt/boot/vmlinuz-$rel" >/dev/null 2>&1 &&
		! sbverify --cert "$dir/mok.pem" "$dir/vmlinuz.unsigned" >/dev/null 2>&1 ||
		{ t_fail "Secure Boot: sbverify accepts the signed kernel and not the one kept aside"; return 1; }
	e2e_sb_keys "$mnt" "$dir" ||
		{ t_fail "Secure Boot: db, KEK and PK as authenticated variables" "$(tail -5 "$dir/sign-efi-sig-list.log" 2>/dev/null)"; return 1; }
	e2e_sb_esp "$mnt" "$rel" "$dir" || { t_fail "Secure Boot: the ESP with Debian's signed shim and GRUB"; return 1; }
	e2e_sb_hook "$mnt" "$rel"
}

# e2e_sb_check_enrol LOG — the enrolment boot: setup mode, Secure Boot off,
# the three writes taken, and setup mode over.
e2e_sb_check_enrol() {
	local log=$1 v
	v="$(e2e_sb_field "$log" sb-setupmode) $(e2e_sb_field "$log" sb-efivar)"
	[ "$v" = "1 0" ] && t_pass "Secure Boot: the empty varstore boots in setup mode, Secure Boot off" ||
		t_fail "Secure Boot: the empty varstore boots in setup mode, Secure Boot off" "SetupMode SecureBoot: '$v'"
	v="$(e2e_sb_field "$log" sb-enrol-db) $(e2e_sb_field "$log" sb-enrol-KEK) $(e2e_sb_field "$log" sb-enrol-PK)"
	[ "$v" = "ok ok ok" ] && t_pass "Secure Boot: the guest enrols db (MOK + shim's hash), KEK, then PK" ||
		t_fail "Secure Boot: the guest enrols db (MOK + shim's hash), KEK, then PK" "db KEK PK: '$v'"
	v=$(e2e_sb_field "$log" sb-setupmode-after)
	[ "$v" = 0 ] && t_pass "Secure Boot: the platform key ends setup mode" ||
		t_fail "Secure Boot: the platform key ends setup mode" "SetupMode after: '${v:-nothing}'"
}

# e2e_sb_check_signed LOG — the signed kernel's boot: the firmware started
# shim, shim GRUB, GRUB the kernel; the kernel saw Secure Boot; acso in the
# guest read it; the override and the groups as in the BIOS boot.
e2e_sb_check_signed() {
	local log=$1 v
	t_grep "Secure Boot: the firmware starts shim (its hash in db), shim starts Debian's GRUB" \
		"acso-e2e: Debian's signed GRUB read" "$log"
	v=$(e2e_sb_field "$log" sb-kernel)
	case $v in
	*"Secure boot enabled") t_pass "Secure Boot: the kernel's log says 'Secure boot enabled'" ;;
	*) t_fail "Secure Boot: the kernel's log says 'Secure boot enabled'" "found: ${v:-nothing}" ;;
	esac
	v="$(e2e_sb_field "$log" sb-setupmode) $(e2e_sb_field "$log" sb-efivar)"
	[ "$v" = "0 1" ] && t_pass "Secure Boot: the guest reads SetupMode=0 SecureBoot=1 from efivarfs" ||
		t_fail "Secure Boot: the guest reads SetupMode=0 SecureBoot=1 from efivarfs" "read: '$v'"
	v=$(e2e_sb_json "$log" sb-check '.. | objects | select(.id? == "secure_boot") | "\(.status) \(.summary)"')
	case $v in
	"pass on: acso install signs the new kernel with /var/lib/dkms/mok.pub (Debian's DKMS MOK), enrolled")
		t_pass "Secure Boot: acso check in the guest: on, signs with the DKMS MOK, enrolled (pass)" ;;
	*) t_fail "Secure Boot: acso check in the guest: on, signs with the DKMS MOK, enrolled (pass)" "found: '${v:-none}'" ;;
	esac
	v=$(e2e_sb_json "$log" sb-sign '"\(.outcome) \(.secure_boot) \(.setup_mode) \(.key.origin) \(.mok_enrolled)"')
	case $v in
	"already signed "*" false "*" enrolled")
		t_pass "Secure Boot: acso sign --dry-run in the guest: already signed, MOK enrolled (mokutil: in db)" ;;
	*) t_fail "Secure Boot: acso sign --dry-run in the guest: already signed, MOK enrolled" "$v" ;;
	esac
	v=$(e2e_result_field "$log" override-line)
	case $v in
	*"PCIe ACS overrides enabled"*) t_pass "Secure Boot: the signed kernel's log has the override line" ;;
	*) t_fail "Secure Boot: the signed kernel's log has the override line" "found: ${v:-nothing}" ;;
	esac
	v=$(e2e_gpu_group_foreign "$log")
	[ -z "$v" ] && t_pass "Secure Boot: the GPU stand-in's group holds only its own functions" ||
		t_fail "Secure Boot: the GPU stand-in's group holds only its own functions" "$v"
	v=$(e2e_result_field "$log" verify-exit)
	[ "$v" = 0 ] && t_pass "Secure Boot: acso verify in the guest exits 0" ||
		t_fail "Secure Boot: acso verify in the guest exits 0" "exit ${v:-none}"
}

# e2e_sb_check_unsigned LOG RC — the unsigned kernel's boot: shim and GRUB
# ran (the firmware trusts them now), GRUB refused the kernel through shim,
# no kernel started; RC 3 means QEMU was stopped at the refusal.
e2e_sb_check_unsigned() {
	local log=$1 rc=$2
	t_grep "Secure Boot, unsigned kernel: shim and Debian's GRUB run" "acso-e2e: Debian's signed GRUB read" "$log"
	t_grep "Secure Boot, unsigned kernel: refused ('bad shim signature')" 'bad shim signature' "$log"
	if grep -qE 'Linux version|EFI stub|=== acso-e2e begin' "$log"; then
		t_fail "Secure Boot, unsigned kernel: it never starts" "$(grep -E 'Linux version|EFI stub' "$log" | head -3)"
	else
		t_pass "Secure Boot, unsigned kernel: it never starts"
	fi
	[ "$rc" = 3 ] && t_pass "Secure Boot, unsigned kernel: QEMU stopped at the refusal" ||
		t_fail "Secure Boot, unsigned kernel: QEMU stopped at the refusal" "boot status $rc"
}

# e2e_sb_scenario IMG MNT REL — the whole scenario, TAP lines; every guest's
# console goes into the e2e's log as comments. The image is left with the
# signed kernel and without the hook and the enrolment's files.
e2e_sb_scenario() {
	local img=$1 mnt=$2 rel=$3 dir=$T/sb missing rc
	missing=$(e2e_sb_missing)
	if [ -n "$missing" ]; then
		t_fail "Secure Boot: OVMF, shim, GRUB and the key tools are installed" "missing: $missing (scripts/install-deps)"
		return
	fi
	e2e_time sb-prepare e2e_sb_prepare "$mnt" "$rel" "$dir" || return
	cp "$mnt/boot/vmlinuz-$rel" "$dir/vmlinuz.signed" || return
	e2e_time boot-sb-enrol e2e_sb_boot sb-enrol "$img" "$mnt" "$dir" "$T/boot-sb-enrol.log" \
		"$dir/vmlinuz.signed" "$(e2e_sb_cmdline "$mnt" "$rel")"
	echo "# Secure Boot, enrolment: boot status $? (${E2E_BOOT_SECONDS}s)"
	e2e_console sb-enrol "$T/boot-sb-enrol.log"
	e2e_sb_check_enrol "$T/boot-sb-enrol.log"
	rm -rf "${mnt:?}$E2E_SB_KEYS"

	e2e_time boot-sb-signed e2e_sb_boot sb-signed "$img" "$mnt" "$dir" "$T/boot-sb-signed.log"
	echo "# Secure Boot, signed kernel: boot status $? (${E2E_BOOT_SECONDS}s)"
	e2e_console sb-signed "$T/boot-sb-signed.log"
	e2e_sb_check_signed "$T/boot-sb-signed.log"
	rm -f "$mnt$E2E_HOOK"

	cp -p "$dir/vmlinuz.unsigned" "$mnt/boot/vmlinuz-$rel" || return
	e2e_time boot-sb-unsigned e2e_sb_boot sb-unsigned "$img" "$mnt" "$dir" "$T/boot-sb-unsigned.log"
	rc=$?
	echo "# Secure Boot, unsigned kernel: boot status $rc (${E2E_BOOT_SECONDS}s)"
	e2e_console sb-unsigned "$T/boot-sb-unsigned.log"
	e2e_sb_check_unsigned "$T/boot-sb-unsigned.log" $rc
	cp -p "$dir/vmlinuz.signed" "$mnt/boot/vmlinuz-$rel"
}
