# tests/e2e/lib/image.sh — the throwaway Debian system that stands in for the
# user's machine: a raw disk image (MBR, one ext4 partition) holding a
# debootstrap minbase of the host's own release with grub-pc and the runtime
# libraries acso links, booted by QEMU through the image's own GRUB.
# Source after tests/lib.sh. Needs root (debootstrap, loop devices, mounts).
#
# Every loop device, partition mapping and mount made here is registered with
# t_on_exit the moment it exists, so every exit path undoes it.
#
# FIELD-NOTES §8: grub-install onto a loop device does not work here, so the
# image's GRUB is not installed in its MBR: QEMU loads it as a Linux kernel
# (lnxboot.img followed by a core image made by the image's grub-mkimage, with
# GRUB's modules copied to /boot/grub), and it reads the image's grub.cfg.
# losetup -P makes no partition device here; partx -a does.

E2E_IMAGE_SIZE=${E2E_IMAGE_SIZE:-3G}
E2E_INIT=/usr/local/sbin/acso-e2e-init
# The disk's MBR identifier, fixed so that the root partition's PARTUUID is
# known in advance: the kernel finds its root by PARTUUID without an
# initramfs, and grub-probe cannot work it out for a loop device here.
E2E_DISK_ID=ac50e2e0
E2E_ROOT_PARTUUID=$E2E_DISK_ID-01
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# e2e_host_release — the host's "ID CODENAME" from /etc/os-release. The image
# is the host's own release so that the acso built here runs in it.
e2e_host_release() {
	(. /etc/os-release && echo "$ID ${VERSION_CODENAME:-}")
}

# e2e_apt_mirror CODENAME — the URL of the host's apt source for CODENAME's
# main component (one-line sources.list entries and deb822 .sources files).
# Read at run time: no mirror host name is written into the tests.
# E2E_APT_DIR (default /etc/apt) is for the tests of this function.
e2e_apt_mirror() {
	local codename=$1 f apt=${E2E_APT_DIR:-/etc/apt}
	for f in "$apt/sources.list" "$apt"/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$codename" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == s) { print $i; exit }
			}' "$f"
	done | head -1 | grep . && return 0
	for f in "$apt"/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uris != "")
					{ split(uris, u, " "); print u[1]; found = 1; exit }
				types = suites = uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			tolower($1) == "types:" { $1 = ""; types = $0 }
			tolower($1) == "suites:" { $1 = ""; suites = $0 }
			tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
			END { if (!found) flush() }' "$f"
	done | head -1 | grep .
}

# e2e_runtime_packages BINARY — the packages holding the shared libraries
# BINARY links (libc6 left out: every image has it).
e2e_runtime_packages() {
	local lib pkg
	ldd "$1" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
		pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
			dpkg -S "/usr$lib" 2>/dev/null) || { echo "e2e: no package holds $lib" >&2; return 1; }
		pkg=${pkg%%:*}
		[ "$pkg" = libc6 ] || echo "$pkg"
	done | sort -u
}

# e2e_loop_attach IMG — loop device + partition mapping for IMG. Sets
# E2E_LOOP (the partition is ${E2E_LOOP}p1). Undone at exit.
# The exit handlers check the loop device still maps IMG: once detached, its
# number may belong to someone else's image.
e2e_loop_attach() {
	local img
	img=$(readlink -f "$1")
	E2E_LOOP=$(losetup -f --show "$img") || return 1
	local mine="[ \"\$(losetup -n -O BACK-FILE $E2E_LOOP 2>/dev/null)\" = '$img' ]"
	t_on_exit "$mine && losetup -d $E2E_LOOP"
	# A partition the kernel still lists for this number from an earlier,
	# detached user (a partx -d that met a busy device) makes partx -a fail
	# with "error adding partition 1": the device was free, so it is stale.
	partx -d "$E2E_LOOP" 2>/dev/null
	partx -a "$E2E_LOOP" || return 1
	t_on_exit "$mine && partx -d $E2E_LOOP"
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -b "${E2E_LOOP}p1" ] && return 0; sleep 0.2; done
	echo "# e2e: ${E2E_LOOP}p1 did not appear" >&2
	return 1
}

# e2e_image_attach IMG MNT — mount the image's root partition at MNT.
e2e_image_attach() {
	mkdir -p "$2"
	e2e_loop_attach "$1" || return 1
	mount "${E2E_LOOP}p1" "$2" || return 1
	t_on_exit "umount -R $2"
}

# e2e_image_detach MNT — unmount everything under MNT and free the loop device.
e2e_image_detach() {
	local mnt=$1
	sync
	umount -R "$mnt" || return 1
	# udev may still hold the partition just unmounted: wait, then retry
	local i
	for i in 1 2 3 4 5; do
		udevadm settle 2>/dev/null
		partx -d "$E2E_LOOP" 2>/dev/null && [ ! -b "${E2E_LOOP}p1" ] && break
		sleep 0.5
	done
	losetup -d "$E2E_LOOP"
	E2E_LOOP=
}

# e2e_chroot_mounts MNT — /dev, /proc and /sys inside the mounted image, for
# dpkg and update-grub (grub-probe) run in a chroot. Undone by umount -R.
e2e_chroot_mounts() {
	local mnt=$1
	mount --bind /dev "$mnt/dev" && t_on_exit "umount $mnt/dev" &&
		mount -t proc proc "$mnt/proc" && t_on_exit "umount $mnt/proc" &&
		mount -t sysfs sysfs "$mnt/sys" && t_on_exit "umount $mnt/sys"
}

# e2e_chroot_umounts MNT — undo e2e_chroot_mounts (the image stays mounted).
e2e_chroot_umounts() {
	umount "$1/sys" "$1/proc" "$1/dev"
}

# e2e_image_create IMG MNT ACSO — build the image and leave it mounted at MNT.
# ACSO is the binary whose runtime libraries go into the image. With
# ACSO_E2E_ROOTFS_CACHE=FILE.tar (a developer's shortcut; CI leaves it unset
# and builds from scratch) the debootstrap result is read from / saved to FILE.
e2e_image_create() {
	local img=$1 mnt=$2 acso=$3 id codename mirror pkgs
	read -r id codename < <(e2e_host_release)
	[ -n "$codename" ] || { echo "# e2e: no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	mirror=$(e2e_apt_mirror "$codename") ||
		{ echo "# e2e: no apt source for '$codename' on this host" >&2; return 1; }
	pkgs=$(e2e_runtime_packages "$acso" | tr '\n' ,) || return 1
	# kmod: the kernel package's postinst runs depmod, as on any real system.
	# mokutil, sbsigntool: acso sign asks mokutil whether the MOK is enrolled
	# and checks an image with sbverify (the Secure Boot guest, secureboot.sh).
	pkgs="grub-pc,pciutils,kmod,mokutil,sbsigntool,${pkgs%,}"
	pkgs=${pkgs%,}

	rm -f "$img"
	truncate -s "$E2E_IMAGE_SIZE" "$img" &&
		printf 'label: dos\nlabel-id: 0x%s\nstart=2048, type=83, bootable\n' "$E2E_DISK_ID" | sfdisk -q "$img" || return 1
	e2e_loop_attach "$img" || return 1
	mkfs.ext4 -q -F -L acso-e2e "${E2E_LOOP}p1" || return 1
	mkdir -p "$mnt"
	mount "${E2E_LOOP}p1" "$mnt" || return 1
	t_on_exit "umount -R $mnt"

	local cache=${ACSO_E2E_ROOTFS_CACHE:-}
	if [ -n "$cache" ] && [ -s "$cache" ] && [ "$(cat "$cache.pkgs" 2>/dev/null)" = "$codename $pkgs" ]; then
		echo "# e2e: root file system from the cache $cache"
		tar -C "$mnt" --numeric-owner -xpf "$cache" || return 1
	else
		echo "# e2e: debootstrap $id $codename (minbase + $pkgs) from $mirror"
		debootstrap --variant=minbase --include="$pkgs" "$codename" "$mnt" "$mirror" \
			>"$T/debootstrap.log" 2>&1 ||
			{ echo "# e2e: debootstrap failed:"; tail -20 "$T/debootstrap.log" | sed 's/^/#   /'; return 1; }
		if [ -n "$cache" ]; then
			tar -C "$mnt" --numeric-owner -cpf "$cache.part" . && mv "$cache.part" "$cache" &&
				echo "$codename $pkgs" >"$cache.pkgs"
		fi
	fi
	e2e_image_prepare_boot "$mnt"
}

# e2e_image_prepare_boot MNT — the TEST's side of booting: the guest init,
# the GRUB settings a VM without a screen needs, GRUB's modules and the
# lnxboot+core image QEMU loads (written to MNT/boot/grub/qemu-boot.img).
# /etc/default/grub itself stays Debian's default: the test's settings are a
# drop-in that sorts before anything acso writes.
e2e_image_prepare_boot() {
	local mnt=$1
	install -D -m 0755 "$E2E_LIB/guest-init" "$mnt$E2E_INIT" || return 1
	mkdir -p "$mnt/etc/default/grub.d"
	cat >"$mnt/etc/default/grub.d/10-acso-e2e.cfg" <<EOF
# Written by acso's e2e test setup (not by acso): boot the VM's serial
# console straight into the test's init, root by PARTUUID (no initramfs).
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can miss its ticks and panic ("timer doesn't work through
# Interrupt-remapped IO-APIC", seen in a make check); VMs skip it.
GRUB_TIMEOUT=0
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_LINUX_PARTUUID=false
GRUB_DEVICE_PARTUUID=$E2E_ROOT_PARTUUID
GRUB_DISABLE_RECOVERY=true
GRUB_CMDLINE_LINUX="\$GRUB_CMDLINE_LINUX console=ttyS0,115200 no_timer_check init=$E2E_INIT"
EOF
	mkdir -p "$mnt/boot/grub/i386-pc"
	cp "$mnt"/usr/lib/grub/i386-pc/*.mod "$mnt"/usr/lib/grub/i386-pc/*.lst "$mnt/boot/grub/i386-pc/" || return 1
	chroot "$mnt" grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -o /boot/grub/core.img \
		-p '(hd0,msdos1)/boot/grub' biosdisk part_msdos ext2 normal configfile linux \
		search search_fs_uuid search_fs_file echo test serial terminal || return 1
	cat "$mnt/usr/lib/grub/i386-pc/lnxboot.img" "$mnt/boot/grub/core.img" >"$mnt/boot/grub/qemu-boot.img"
}

# e2e_image_install_debs MNT DEB... — install kernel packages into the image
# with dpkg inside it (image and headers in one transaction, FIELD-NOTES §6),
# then update-grub there. Used before `acso run` exists, and by the demo.
e2e_image_install_debs() {
	local mnt=$1 d
	shift
	mkdir -p "$mnt/tmp/e2e-debs"
	for d in "$@"; do cp "$d" "$mnt/tmp/e2e-debs/" || return 1; done
	e2e_chroot_mounts "$mnt" || return 1
	chroot "$mnt" sh -c 'dpkg -i /tmp/e2e-debs/*.deb && update-grub' >"$T/dpkg.log" 2>&1
	local rc=$?
	e2e_chroot_umounts "$mnt"
	rm -rf "$mnt/tmp/e2e-debs"
	[ $rc -eq 0 ] || { tail -20 "$T/dpkg.log" | sed 's/^/#   /'; return 1; }
}

# e2e_image_set_override MNT VALUE — the stand-in for acso grub before `acso
# run` exists: pcie_acs_override=VALUE in a drop-in, then update-grub.
e2e_image_set_override() {
	local mnt=$1 value=$2
	printf 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT pcie_acs_override=%s"\n' "$value" \
		>"$mnt/etc/default/grub.d/99-e2e-override.cfg"
	e2e_chroot_mounts "$mnt" || return 1
	chroot "$mnt" update-grub >"$T/update-grub.log" 2>&1
	local rc=$?
	e2e_chroot_umounts "$mnt"
	return $rc
}

# e2e_image_drop_override MNT — the control: the same image, its grub.cfg with
# every pcie_acs_override= parameter taken out (nothing else changed).
e2e_image_drop_override() {
	local cfg=$1/boot/grub/grub.cfg
	sed -i 's/ pcie_acs_override=[^ ]*//g' "$cfg" && ! grep -q 'pcie_acs_override=' "$cfg"
}
