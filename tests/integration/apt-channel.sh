#!/usr/bin/env bash
# The prebuilt channel as a signed APT repository, end to end: `acso publish`
# makes a flat repository of small fake kernel packages (dpkg-deb, no kernel
# build) signed with a throwaway gpg key, lighttpd serves it on 127.0.0.1,
# and `acso --root IMAGE prebuilt` installs from it with the apt of a Debian
# minbase image (debootstrap, apt run in it through chroot). Then: a newer
# publish is picked up by `apt upgrade` in the image; a tampered Packages, a
# Release signed by another key, an expired Valid-Until and an older
# re-signed repository are each refused with nothing installed.
#
# The image is the real thing rather than the host's apt with -o RootDir: acso
# runs apt inside a --root through chroot, and that path (the image's own apt,
# gpgv, dpkg and maintainer scripts) is what must be proven. debootstrap takes
# about a minute; ACSO_TEST_MINBASE_CACHE=FILE.tar (a developer's shortcut,
# unset in CI) reuses one, and ACSO_TEST_LOCK=FILE runs debootstrap under
# flock FILE on a shared machine.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/e2e/lib/image.sh"

for tool in debootstrap apt-ftparchive gpg gpgv dpkg-deb lighttpd xz; do
	command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$tool" >/dev/null || { t_fail "$tool is installed (scripts/install-deps)"; t_done; }
done

# --- the image: a Debian minbase of the host's release, with apt and gpgv
R=$T/image
mkdir -p "$R"
read -r _ codename < <(e2e_host_release)
cache=${ACSO_TEST_MINBASE_CACHE:-}
if [ -n "$cache" ] && [ -s "$cache" ]; then
	tar -C "$R" --numeric-owner -xpf "$cache" && t_pass "minbase image (from $cache)" || t_fail "minbase image from the cache"
else
	mirror=$(e2e_apt_mirror "$codename") || { t_fail "the host's apt mirror for $codename"; t_done; }
	lock=(); [ -n "${ACSO_TEST_LOCK:-}" ] && lock=(flock "$ACSO_TEST_LOCK")
	if "${lock[@]}" debootstrap --variant=minbase "$codename" "$R" "$mirror" >"$T/debootstrap.log" 2>&1; then
		t_pass "debootstrap minbase $codename"
		if [ -n "$cache" ]; then tar -C "$R" --numeric-owner -cpf "$cache.part" . && mv "$cache.part" "$cache"; fi
	else
		t_fail "debootstrap minbase $codename" "$(tail -5 "$T/debootstrap.log")"; t_done
	fi
fi
cp /etc/resolv.conf "$R/etc/" 2>/dev/null
snap=$T/image-clean.tar
tar -C "$R" --numeric-owner -cpf "$snap" .
fresh_image() { rm -rf "$R" && mkdir "$R" && tar -C "$R" --numeric-owner -xpf "$snap"; }

# --- two releases of fake kernel packages, a throwaway key
fake_kernel() { # RELEASE: linux-image-RELEASE and linux-headers-RELEASE in $C/RELEASE/
	local rel=$1 kind p
	for kind in image headers; do
		p=$T/pkg/$kind-$rel
		mkdir -p "$p/DEBIAN" "$p/boot" "$C/$rel"
		[ $kind = image ] && echo "fake kernel $rel" >"$p/boot/vmlinuz-$rel"
		[ $kind = headers ] && mkdir -p "$p/usr/src/linux-headers-$rel" && echo "$rel" >"$p/usr/src/linux-headers-$rel/version"
		printf 'Package: linux-%s-%s\nVersion: %s-1\nArchitecture: %s\nMaintainer: t <t@example.org>\nSection: kernel\nDescription: fake %s\n' \
			$kind "$rel" "$rel" "$(dpkg --print-architecture)" "$rel" >"$p/DEBIAN/control"
		dpkg-deb --root-owner-group -b "$p" "$C/$rel/linux-${kind}-${rel}_${rel}-1_$(dpkg --print-architecture).deb" >/dev/null
	done
}
C=$T/www/repo
fake_kernel 6.1.5-acso
fake_kernel 6.1.7-acso
export GNUPGHOME=$T/gpg
mkdir -m 700 "$GNUPGHOME" "$T/gpg2"
t_on_exit "gpgconf --homedir '$GNUPGHOME' --kill gpg-agent; gpgconf --homedir '$T/gpg2' --kill gpg-agent"
gpg --batch --passphrase '' --quick-gen-key 'acso test channel <channel@example.org>' ed25519 sign never 2>/dev/null
gpg --homedir "$T/gpg2" --batch --passphrase '' --quick-gen-key 'someone else <else@example.org>' ed25519 sign never 2>/dev/null

# --- publish
t_exit 1 "publish without a secret key fails clearly" "$ACSO" publish --gpg-home "$T/gpg2/none" "$C"
t_grep "no key: hint" "create a signing key" "$T/.err"
t_ok "no repository files left by a failed publish" test ! -e "$C/Release" -a ! -e "$C/InRelease"
t_exit 0 "publish makes the repository" "$ACSO" publish "$C"
t_grep "publish lists the newest release first" '^  6\.1\.7-acso' "$T/.out"
for f in Packages Packages.gz Packages.xz Release Release.gpg InRelease acso-prebuilt.gpg; do
	[ -s "$C/$f" ] && t_pass "publish wrote $f" || t_fail "publish wrote $f"
done
t_ok "InRelease verifies against the exported key (gpgv)" gpgv --keyring "$C/acso-prebuilt.gpg" "$C/InRelease"
t_ok "Release.gpg verifies against the exported key (gpgv)" gpgv --keyring "$C/acso-prebuilt.gpg" "$C/Release.gpg" "$C/Release"
t_grep "Release has a Date" '^Date: .* (\+0000|UTC)$' "$C/Release"
until_s=$(date -d "$(sed -n 's/^Valid-Until: //p' "$C/Release")" +%s)
days=$(((until_s - $(date +%s) + 3600) / 86400))
[ "$days" = 30 ] && t_pass "Valid-Until 30 days ahead by default" || t_fail "Valid-Until 30 days ahead by default" "$days days"
t_grep "Release hashes Packages.xz" "^ [0-9a-f]{64} +[0-9]+ Packages\.xz$" "$C/Release"
t_nogrep "Release lists no signature files" "InRelease|Release\.gpg" "$C/Release"
t_grep "the series' metapackage" '^Package: linux-image-acso-6\.1$' "$C/Packages"
t_ok "no stage left behind" sh -c "! ls -d '$C'/.acso-publish-* 2>/dev/null"
t_exit 0 "publish --dry-run" "$ACSO" --dry-run publish --keep 1 "$C"
t_grep "dry run: --keep would prune 6.1.5" '6\.1\.5-acso .*--keep' "$T/.out"
t_ok "dry run: 6.1.5 still there" test -d "$C/6.1.5-acso" -a -n "$(ls "$C/6.1.5-acso")"

read -r port pid < <("$TOP/tests/mirror/serve" "$T/www")
t_track_pid "$pid"
U=http://127.0.0.1:$port

# --- refused channels, each into a fresh image: nothing installed
variant() { # NAME: a copy of the repository to spoil
	rm -rf "$T/www/$1" && cp -a "$C" "$T/www/$1" && rm -rf "$T/www/$1/.lighttpd"
}
variant older # the first publish, kept for the rollback below
variant tampered
sed -i 's/^Description: fake 6.1.7-acso$/Description: evil/' "$T/www/tampered/Packages"
(cd "$T/www/tampered" && rm -f Packages.gz Packages.xz && gzip -9nk Packages && xz -k Packages)
variant otherkey
"$ACSO" publish --gpg-home "$T/gpg2" "$T/www/otherkey" >/dev/null 2>&1 || t_fail "re-sign with the other key"
variant expired
sed -i 's/^Valid-Until: .*/Valid-Until: Sat, 01 Jan 2000 00:00:00 UTC/; s/^Date: .*/Date: Fri, 31 Dec 1999 00:00:00 UTC/' "$T/www/expired/Release"
(cd "$T/www/expired" && gpg --batch --yes --clearsign -o InRelease Release && gpg --batch --yes -a --detach-sign -o Release.gpg Release) 2>/dev/null

P=("$ACSO" --root "$R" prebuilt --key "$C/acso-prebuilt.gpg")
nothing_installed() {
	if grep -qE '^Package: linux-(image|headers)-' "$R/var/lib/dpkg/status" || ls "$R"/boot/vmlinuz-* >/dev/null 2>&1; then
		t_fail "$1: nothing installed" "$(grep -E '^Package: linux-' "$R/var/lib/dpkg/status")"
	else
		t_pass "$1: nothing installed"
	fi
}
fresh_image
t_exit 1 "a tampered Packages is refused" "${P[@]}" --repo "$U/tampered" 6.1
t_grep "... apt says why (hash)" "Hash Sum mismatch|File has unexpected size" "$T/.err"
nothing_installed "tampered Packages"
fresh_image
t_exit 1 "a Release signed by another key is refused" "${P[@]}" --repo "$U/otherkey" 6.1
t_grep "... apt says why (key)" "NO_PUBKEY|is not signed" "$T/.err"
nothing_installed "another key"
fresh_image
t_exit 1 "an expired Valid-Until is refused" "${P[@]}" --repo "$U/expired" 6.1
t_grep "... apt says why (expired)" "is expired" "$T/.err"
nothing_installed "expired"

# --- the good channel
fresh_image
lists() { ls "$R/var/lib/apt/lists" | grep -E '_(Packages|InRelease|Release)$' | grep -v 127.0.0.1; }
lists >"$T/lists.before"
t_exit 1 "no channel configured" "$ACSO" --root "$R" prebuilt 6.1
t_grep "no channel: hint" "prebuilt_repo" "$T/.err"
t_exit 0 "--dry-run shows the source and the apt commands" "${P[@]}" --repo "$U/repo" --dry-run --timeout 7 6.1
t_grep "dry run: the source" "^URIs: $U/repo/$" "$T/.out"
t_grep "dry run: update of the channel alone, with --timeout" "chroot $R apt-get .*Dir::Etc::sourceparts=- .*-oAcquire::http::Timeout=7 .*update" "$T/.out"
t_grep "dry run: install of the series' metapackages" "apt-get .*install linux-image-acso-6.1 linux-headers-acso-6.1" "$T/.out"
nothing_installed "dry run"
t_ok "dry run: no source written" test ! -e "$R/etc/apt/sources.list.d/acso-prebuilt.sources"
t_exit 1 "a series the channel does not have" "${P[@]}" --repo "$U/repo" 5.15
t_grep "... names what it has" "it has 6\.1\.7-acso" "$T/.err"
nothing_installed "unknown series"
t_exit 0 "prebuilt installs the newest 6.1 through apt" "${P[@]}" --repo "$U/repo" --json 6.1
t_jq "... reports the release" '.release == "6.1.7-acso" and .follows_series' "$T/.out"
t_grep "the source file" '^Signed-By: /etc/apt/keyrings/acso-prebuilt.gpg$' "$R/etc/apt/sources.list.d/acso-prebuilt.sources"
t_ok "the pinned key" cmp "$C/acso-prebuilt.gpg" "$R/etc/apt/keyrings/acso-prebuilt.gpg"
t_grep "dpkg: the image of 6.1.7" '^Package: linux-image-6\.1\.7-acso$' "$R/var/lib/dpkg/status"
t_grep "dpkg: the headers of 6.1.7" '^Package: linux-headers-6\.1\.7-acso$' "$R/var/lib/dpkg/status"
t_nogrep "dpkg: not the older 6.1.5" '^Package: linux-image-6\.1\.5-acso$' "$R/var/lib/dpkg/status"
t_ok "the kernel file landed" test -s "$R/boot/vmlinuz-6.1.7-acso"
t_grep "apt downloaded it into its own root-owned cache" '^0 ' <(stat -c '%u %n' "$R"/var/cache/apt/archives/linux-image-6.1.7-acso_*.deb)
t_grep "the Date seen is remembered" '^[0-9]+$' "$R/var/lib/acso/prebuilt-date"
lists >"$T/lists.after"
if [ -s "$T/lists.before" ] && cmp -s "$T/lists.before" "$T/lists.after"; then t_pass "the other sources' lists stay"; else
	t_fail "the other sources' lists stay" "$(diff "$T/lists.before" "$T/lists.after")"; fi

# --- a newer publish reaches the image by apt upgrade
sleep 1 # a later Date
fake_kernel 6.1.8-acso
t_exit 0 "publish of a third release keeps the old ones" "$ACSO" publish "$C"
t_grep "... 6.1.5 still published" '^Package: linux-image-6\.1\.5-acso$' "$C/Packages"
t_ok "apt update in the image" chroot "$R" apt-get -q update
t_exit 0 "status in the image" "$ACSO" --root "$R" status
t_grep "... says the channel has a newer 6.1" '^channel: 6\.1\.8-acso is newer than 6\.1\.7-acso' "$T/.out"
t_exit 0 "apt upgrade in the image" chroot "$R" env DEBIAN_FRONTEND=noninteractive apt -y upgrade
t_grep "apt upgrade installed 6.1.8" '^Package: linux-image-6\.1\.8-acso$' "$R/var/lib/dpkg/status"
t_exit 0 "prebuilt sees the new Date" "${P[@]}" --repo "$U/repo" 6.1

# --- rollback: the first publish's repository, re-signed now with the right key
(cd "$T/www/older" && gpg --batch --yes --clearsign -o InRelease Release && gpg --batch --yes -a --detach-sign -o Release.gpg Release) 2>/dev/null
t_ok "... the older repository is validly signed" gpgv --keyring "$C/acso-prebuilt.gpg" "$T/www/older/InRelease"
cp "$R/var/lib/dpkg/status" "$T/status.before"
t_exit 1 "an older (re-signed) repository is refused" "${P[@]}" --repo "$U/older" 6.1
t_grep "... as a rollback" "older than the .* seen before: a rollback" "$T/.err"
t_ok "... nothing installed or removed" cmp "$T/status.before" "$R/var/lib/dpkg/status"

# --- --keep prunes, --remove takes the channel away, --purge the kernels
t_exit 0 "publish --keep 1" "$ACSO" publish --keep 1 "$C"
t_ok "... 6.1.5 and 6.1.7 pruned" test ! -e "$C/6.1.5-acso/linux-image-6.1.5-acso_6.1.5-acso-1_$(dpkg --print-architecture).deb" -a ! -e "$C/6.1.7-acso/linux-image-6.1.7-acso_6.1.7-acso-1_$(dpkg --print-architecture).deb"
t_nogrep "... and gone from Packages" '^Package: linux-image-6\.1\.[57]-acso$' "$C/Packages"
t_exit 0 "prebuilt --remove" "$ACSO" --root "$R" prebuilt --remove
t_ok "... source and key gone" test ! -e "$R/etc/apt/sources.list.d/acso-prebuilt.sources" -a ! -e "$R/etc/apt/keyrings/acso-prebuilt.gpg"
t_grep "... the kernels stay" '^Package: linux-image-6\.1\.7-acso$' "$R/var/lib/dpkg/status"
t_exit 0 "prebuilt again, then --remove --purge" "${P[@]}" --repo "$U/repo" 6.1
t_exit 0 "prebuilt --remove --purge" "$ACSO" --root "$R" prebuilt --remove --purge
t_nogrep "... the metapackage purged" '^Package: linux-image-acso-6\.1$' "$R/var/lib/dpkg/status"
t_nogrep "... the kernel acso installed purged" '^Package: linux-image-6\.1\.7-acso$' "$R/var/lib/dpkg/status"
t_exit 2 "--purge without --remove" "$ACSO" --root "$R" prebuilt --purge
t_done
