#!/usr/bin/env bash
# acso grub against the corpus of real-world /etc/default/grub* files
# (tests/grub-corpus/): for each, the effective command line (evaluated here
# the way grub-mkconfig does, independently of acso) holds each parameter
# exactly once, every other value is unchanged, a second run changes nothing,
# --remove restores the files byte for byte. Then the faults: not valid shell,
# read-only and full /etc/default, update-grub failing, kill -9 mid-run.
# A stub `chroot` on PATH records the regeneration command (acso runs
# `chroot ROOT update-grub` for --root); nothing touches the host's /boot.
. "$(dirname "$0")/../lib.sh"

CORPUS=$TOP/tests/grub-corpus
mkdir -p "$T/bin"
cat >"$T/bin/chroot" <<EOF
#!/bin/sh
echo "\$*" >>"$T/calls"
[ -n "\${STUB_SLEEP:-}" ] && sleep "\$STUB_SLEEP"
[ -e "$T/fail-update" ] && { echo "update-grub: /boot/grub/grub.cfg.new: No space left on device" >&2; exit 1; }
exit 0
EOF
chmod +x "$T/bin/chroot"
export PATH=$T/bin:$PATH
PARAMS="pcie_acs_override=downstream intel_iommu=on"

# mkroot CASE DIR — a fixture root: the corpus files, an Intel CPU, update-grub.
mkroot() {
	rm -rf "$2"
	mkdir -p "$2/proc" "$2/usr/sbin"
	cp -a "$CORPUS/$1/." "$2/"
	printf 'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7\n' >"$2/proc/cpuinfo"
	[ -e "$2/usr/sbin/grub-mkconfig" ] || touch "$2/usr/sbin/update-grub"
}

# effective ROOT — every GRUB_* value after sourcing like grub-mkconfig.
effective() {
	(cd "$1" && env -i PATH="$PATH" sh -c '
		set -a
		. ./etc/default/grub
		if [ ! -e usr/sbin/grub-mkconfig ] || grep -q "default/grub.d" usr/sbin/grub-mkconfig; then
			for f in ./etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done
		fi
		env' | grep '^GRUB_' | LC_ALL=C sort)
}
val() { sed -n "s/^$1=//p" "$2"; }
# words of a value without the parameters acso manages
others() { tr ' \t' '\n\n' | grep -v -E '^(pcie_acs_override|intel_iommu)(=|$)' | grep -v '^$' | tr -d '\r'; }
# one word a line; the words of the parameters acso manages as their names
words() { tr ' \t\r' '\n\n\n' | grep -v '^$'; }
shape() { words | sed -E 's/^(pcie_acs_override|intel_iommu)(=.*)?$/\1/'; }
tree_sum() { (cd "$1" && find etc/default -type f ! -name '*.acso-bak' -printf '%p %s %T@\n' | sort; find etc/default -type f ! -name '*.acso-bak' -exec md5sum {} + | sort); }

for dir in "$CORPUS"/*/; do
	c=$(basename "$dir")
	R=$T/r/$c
	mkroot "$c" "$R"
	cp -a "$R/etc/default" "$T/orig-$c"
	effective "$R" >"$T/before"
	: >"$T/calls"
	t_exit 0 "$c: acso grub exits 0" "$ACSO" grub --root "$R"
	effective "$R" >"$T/after"
	cmd="$(val GRUB_CMDLINE_LINUX "$T/after") $(val GRUB_CMDLINE_LINUX_DEFAULT "$T/after")"
	ok=1
	for p in $PARAMS; do
		n=$(printf '%s\n' $cmd | grep -c -x -F "$p")
		all=$(printf '%s\n' $cmd | grep -c -E "^${p%%=*}(=|$)")
		[ "$n" = 1 ] && [ "$all" = 1 ] || { ok=0; t_fail "$c: $p exactly once" "effective: $cmd"; }
	done
	[ $ok = 1 ] && t_pass "$c: each parameter exactly once in the effective command line"
	if diff <(grep -v -E '^GRUB_CMDLINE_LINUX(_DEFAULT)?=' "$T/before") \
		<(grep -v -E '^GRUB_CMDLINE_LINUX(_DEFAULT)?=' "$T/after") >"$T/d"; then
		t_pass "$c: every other variable unchanged"
	else
		t_fail "$c: every other variable unchanged" "$(cat "$T/d")"
	fi
	for v in GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT; do
		if [ "$(val $v "$T/before" | others)" = "$(val $v "$T/after" | others)" ]; then :; else
			t_fail "$c: other words of $v kept" "before: $(val $v "$T/before")" "after: $(val $v "$T/after")"
		fi
	done
	t_pass "$c: the other words of both command-line variables are kept in order"
	# Issue 17: a parameter stays where the user put it. When no managed name
	# appears twice, each variable keeps its words in place (another value is
	# replaced where it is), GRUB_CMDLINE_LINUX gains nothing, and a
	# GRUB_CMDLINE_LINUX whose managed words are all right stays byte for byte.
	bl=$(val GRUB_CMDLINE_LINUX "$T/before") bd=$(val GRUB_CMDLINE_LINUX_DEFAULT "$T/before")
	al=$(val GRUB_CMDLINE_LINUX "$T/after") ad=$(val GRUB_CMDLINE_LINUX_DEFAULT "$T/after")
	if [ -z "$(printf '%s\n%s\n' "$bl" "$bd" | shape | grep -x -E 'pcie_acs_override|intel_iommu' | sort | uniq -d)" ]; then
		nbd=$(printf '%s' "$bd" | shape | wc -l)
		if [ "$(printf '%s' "$bl" | shape)" = "$(printf '%s' "$al" | shape)" ] &&
			[ "$(printf '%s' "$bd" | shape)" = "$(printf '%s' "$ad" | shape | head -n "$nbd")" ]; then
			t_pass "$c: each parameter already set stays in its variable and place"
		else
			t_fail "$c: each parameter already set stays in its variable and place" \
				"before: LINUX='$bl' DEFAULT='$bd'" "after: LINUX='$al' DEFAULT='$ad'"
		fi
		if [ -z "$(printf '%s' "$bl" | words | grep -E '^(pcie_acs_override|intel_iommu)(=|$)' | grep -v -x -F "$(printf '%s\n' $PARAMS)")" ]; then
			[ "$al" = "$bl" ] && t_pass "$c: GRUB_CMDLINE_LINUX, already right, is untouched" ||
				t_fail "$c: GRUB_CMDLINE_LINUX, already right, is untouched" "before: '$bl'" "after: '$al'"
		fi
	fi
	if [ -e "$R/usr/sbin/update-grub" ]; then want="$R update-grub"; else want="$R grub-mkconfig -o /boot/grub/grub.cfg"; fi
	if [ "$(cat "$T/calls")" = "$want" ]; then t_pass "$c: regenerated once with '$want'"; else
		t_fail "$c: regenerated once" "calls: $(cat "$T/calls")"
	fi
	[ ! -e "$R/var/lib/acso/grub-pending" ] && t_pass "$c: nothing pending after regeneration" || t_fail "$c: pending mark cleared"

	tree_sum "$R" >"$T/sum1"
	: >"$T/calls"
	sleep 0.01
	t_exit 0 "$c: second run exits 0" "$ACSO" grub --root "$R"
	t_grep "$c: second run says nothing changed" 'Already registered' "$T/.out"
	tree_sum "$R" >"$T/sum2"
	if cmp -s "$T/sum1" "$T/sum2" && [ ! -s "$T/calls" ]; then t_pass "$c: second run changes nothing"; else
		t_fail "$c: second run changes nothing" "$(diff "$T/sum1" "$T/sum2")" "calls: $(cat "$T/calls")"
	fi

	t_exit 0 "$c: --remove exits 0" "$ACSO" grub --root "$R" --remove
	if diff -r -x '*.acso-bak' "$T/orig-$c" "$R/etc/default" >"$T/d"; then
		t_pass "$c: --remove restores the files byte for byte"
	else
		t_fail "$c: --remove restores the files byte for byte" "$(head -20 "$T/d")"
	fi
done

# The method chosen where it matters.
R=$T/r/cloud
mkroot cloudimg-22.04 "$R"
"$ACSO" grub --root "$R" --json >"$T/j" 2>"$T/e"
t_grep "cloud image: drop-in used" '"method":"drop-in"' <(tr -d ' \n' <"$T/j")
t_grep "cloud image: the drop-in exists" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
R=$T/r/late
mkroot late-override "$R"
"$ACSO" grub --root "$R" >"$T/o" 2>"$T/e"
t_grep "late override: falls back to an edit and says so" 'later file assigns GRUB_CMDLINE_LINUX_DEFAULT again.*99-zlocal.cfg' "$T/e"
[ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "late override: no useless drop-in" || t_fail "late override: no useless drop-in"
R=$T/r/old
mkroot old-grub-no-dropins "$R"
"$ACSO" grub --root "$R" >"$T/o" 2>"$T/e"
t_grep "grub.d not read: says so" 'does not read /etc/default/grub.d' "$T/e"
t_grep "grub.d not read: /etc/default/grub edited" 'acso boot parameters' "$R/etc/default/grub"
R=$T/r/crlf
mkroot user-crlf "$R"
"$ACSO" grub --root "$R" >"$T/o" 2>"$T/e"
t_grep "CRLF: warned" 'CRLF line endings' "$T/e"

# Options: --dry-run changes nothing and prints the drop-in; --acs; iommu=pt; AMD.
R=$T/r/opts
mkroot debian-12 "$R"
tree_sum "$R" >"$T/s1"
: >"$T/calls"
t_exit 0 "--dry-run exits 0" "$ACSO" grub --root "$R" --dry-run --acs id:10de:1e07,downstream --iommu-pt
t_grep "--dry-run prints the drop-in" '^for acso_param in pcie_acs_override=id:10de:1e07,downstream intel_iommu=on iommu=pt; do$' "$T/.out"
t_grep "--dry-run prints the effective command line" '^Kernel command line after: +quiet pcie_acs_override=id:10de:1e07,downstream intel_iommu=on iommu=pt$' "$T/.out"
tree_sum "$R" >"$T/s2"
cmp -s "$T/s1" "$T/s2" && [ ! -s "$T/calls" ] && t_pass "--dry-run changes nothing" || t_fail "--dry-run changes nothing"
for bad in 'upstream' 'id:10de:1e0' 'id:10de:1e07x' 'downstream,,multifunction' 'downstream ' ',downstream' 'id:zzzz:0000'; do
	t_exit 2 "--acs '$bad' is refused" "$ACSO" grub --root "$R" --acs "$bad"
done
ids=$(for i in $(seq 1 16); do printf 'id:10de:%04x,' "$i"; done)
t_exit 2 "--acs with 16 ids is refused" "$ACSO" grub --root "$R" --acs "${ids%,}"
t_grep "16 ids: says the limit" 'at most 15' "$T/.err"
printf 'vendor_id\t: AuthenticAMD\n' >"$R/proc/cpuinfo"
t_exit 0 "AMD CPU: exits 0" "$ACSO" grub --root "$R" --no-update
t_nogrep "AMD CPU: no intel_iommu=on" 'intel_iommu' "$R/etc/default/grub.d/99-acso.cfg"
t_nogrep "AMD CPU: never amd_iommu=on" 'amd_iommu' "$R/etc/default/grub.d/99-acso.cfg"
[ -e "$R/var/lib/acso/grub-pending" ] && t_pass "--no-update leaves the change marked pending" || t_fail "--no-update marks pending"
: >"$T/calls"
t_exit 0 "a pending change is regenerated by the next run" "$ACSO" grub --root "$R"
[ "$(cat "$T/calls")" = "$R update-grub" ] && t_pass "pending: update-grub ran although no file changed" || t_fail "pending regen" "$(cat "$T/calls")"

# --once needs GRUB_DEFAULT=saved; --set-default-saved provides it.
R=$T/r/once
mkroot debian-12 "$R"
t_grub_cfg "$R/boot/grub/grub.cfg" 1234 6.1.192-acso 6.1.0-26-amd64
t_exit 1 "--once without GRUB_DEFAULT=saved fails" "$ACSO" grub --root "$R" --once 6.1.192-acso
t_grep "--once: says GRUB_DEFAULT=saved is needed and offers the option" 'set-default-saved' "$T/.err"
: >"$T/calls"
t_exit 0 "--once --set-default-saved" "$ACSO" grub --root "$R" --once 6.1.192-acso --set-default-saved
t_grep "--once runs grub-reboot with the entry path" "^$R grub-reboot gnulinux-advanced-1234>gnulinux-6.1.192-acso-advanced-1234\$" "$T/calls"
t_grep "--set-default-saved writes GRUB_DEFAULT=saved" '^GRUB_DEFAULT=saved$' "$R/etc/default/grub.d/99-acso.cfg"
t_exit 1 "--once for a kernel not in grub.cfg" "$ACSO" grub --root "$R" --once 9.9.9 --set-default-saved
t_grep "--once: unknown kernel named" 'no boot entry for kernel 9.9.9' "$T/.err"

# Other boot managers.
R=$T/r/pop
mkroot popos-22.04 "$R"
rm -rf "$R/etc/default"
touch "$R/usr/sbin/kernelstub"
: >"$T/calls"
t_exit 0 "kernelstub: exits 0" "$ACSO" grub --root "$R"
t_grep "kernelstub: -a with the parameters, never -o" "^$R kernelstub -a pcie_acs_override=downstream intel_iommu=on\$" "$T/calls"
t_grep "kernelstub: the parameters given are recorded" '^pcie_acs_override=downstream intel_iommu=on$' "$R/var/lib/acso/boot-params"
t_exit 0 "kernelstub: a second add with --iommu-pt" "$ACSO" grub --root "$R" --iommu-pt
t_exit 0 "kernelstub: --remove" "$ACSO" grub --root "$R" --remove
t_grep "kernelstub: --remove takes out with -d what acso added" "^$R kernelstub -d pcie_acs_override=downstream intel_iommu=on iommu=pt\$" "$T/calls"
: >"$T/calls"
t_exit 0 "kernelstub: a second --remove" "$ACSO" grub --root "$R" --remove
t_grep "kernelstub: a second --remove has nothing to do" '^Nothing to remove: acso had added nothing$' "$T/.out"
[ ! -s "$T/calls" ] && t_pass "kernelstub: a second --remove runs nothing" || t_fail "kernelstub: a second --remove runs nothing" "$(cat "$T/calls")"
R=$T/r/fedora
mkroot debian-12 "$R"
touch "$R/usr/sbin/grubby"
: >"$T/calls"
touch "$T/fail-update"
t_exit 1 "grubby failing: exit 1" "$ACSO" grub --root "$R"
rm -f "$T/fail-update"
[ ! -e "$R/var/lib/acso/boot-params" ] && t_pass "grubby failing: nothing recorded" || t_fail "grubby failing: nothing recorded"
t_exit 0 "grubby: exits 0" "$ACSO" grub --root "$R"
t_grep "grubby: --args for all kernels" "^$R grubby --update-kernel=ALL --args=pcie_acs_override=downstream intel_iommu=on\$" "$T/calls"
t_exit 0 "grubby: --remove" "$ACSO" grub --root "$R" --remove
t_grep "grubby: --remove-args with the names acso added" "^$R grubby --update-kernel=ALL --remove-args=pcie_acs_override intel_iommu\$" "$T/calls"
[ ! -e "$R/var/lib/acso/boot-params" ] && t_pass "grubby: the record is gone after --remove" || t_fail "grubby: the record is gone after --remove"
R=$T/r/sdboot
mkdir -p "$R/etc/kernel" "$R/proc"
printf 'vendor_id\t: GenuineIntel\n' >"$R/proc/cpuinfo"
printf 'root=UUID=abcd rw quiet intel_iommu=off\n' >"$R/etc/kernel/cmdline"
t_exit 0 "systemd-boot: exits 0" "$ACSO" grub --root "$R"
t_grep "systemd-boot: /etc/kernel/cmdline edited, old value replaced where it is" '^root=UUID=abcd rw quiet intel_iommu=on pcie_acs_override=downstream$' "$R/etc/kernel/cmdline"
# Issue 17: parameters already right stay as they are: the file is not rewritten.
R=$T/r/sdboot-right
mkdir -p "$R/etc/kernel" "$R/proc"
printf 'vendor_id\t: GenuineIntel\n' >"$R/proc/cpuinfo"
printf 'root=UUID=abcd  intel_iommu=on rw pcie_acs_override=downstream quiet' >"$R/etc/kernel/cmdline"
cp "$R/etc/kernel/cmdline" "$T/sdboot-right"
t_exit 0 "systemd-boot, already right: exits 0" "$ACSO" grub --root "$R"
t_grep "systemd-boot, already right: says so" '^Already registered' "$T/.out"
cmp -s "$T/sdboot-right" "$R/etc/kernel/cmdline" && t_pass "systemd-boot, already right: the file is byte for byte as it was" ||
	t_fail "systemd-boot, already right: the file is unchanged" "$(cat "$R/etc/kernel/cmdline")"

# Bad input: not valid shell — nothing changed, nothing run.
R=$T/r/bad
mkroot debian-12 "$R"
printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet\n' >>"$R/etc/default/grub"
tree_sum "$R" >"$T/s1"
: >"$T/calls"
t_exit 1 "not valid shell: exit 1" "$ACSO" grub --root "$R"
t_grep "not valid shell: says so" "not valid shell" "$T/.err"
tree_sum "$R" >"$T/s2"
cmp -s "$T/s1" "$T/s2" && [ ! -s "$T/calls" ] && t_pass "not valid shell: nothing changed" || t_fail "not valid shell: nothing changed"
R=$T/r/nogrub
mkdir -p "$R/etc/default" "$R/proc"
: >"$T/calls"
t_exit 1 "no boot manager at all: exit 1" "$ACSO" grub --root "$R"
t_grep "no boot manager: says what to add by hand" 'add these to your boot loader' "$T/.err"
t_exit 0 "no boot manager: --remove has nothing to do" "$ACSO" grub --root "$R" --remove
t_grep "no boot manager: --remove says so" 'Nothing to remove' "$T/.out"

# update-grub fails: every file back as it was.
R=$T/r/upfail
mkroot cloudimg-22.04 "$R"
tree_sum "$R" >"$T/s1"
touch "$T/fail-update"
t_exit 1 "update-grub failing: exit 1" "$ACSO" grub --root "$R"
rm -f "$T/fail-update"
t_grep "update-grub failing: says the files were put back" 'put back as it was' "$T/.err"
t_grep "update-grub failing: names the failing command" "update-grub' exited with status 1|update-grub.*status 1" "$T/.err"
tree_sum "$R" >"$T/s2"
if cmp -s "$T/s1" "$T/s2"; then t_pass "update-grub failing: files identical to before"; else t_fail "update-grub failing: files identical" "$(diff "$T/s1" "$T/s2")"; fi
[ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "update-grub failing: no drop-in left" || t_fail "update-grub failing: no drop-in left"

# Read-only /etc/default (a read-only bind mount) and a full disk (tiny tmpfs).
R=$T/r/ro
mkroot cloudimg-22.04 "$R"
if mount --bind "$R/etc/default" "$R/etc/default" && mount -o remount,bind,ro "$R/etc/default"; then
	t_on_exit "umount '$R/etc/default'"
	t_exit 1 "read-only /etc/default: exit 1" "$ACSO" grub --root "$R"
	t_grep "read-only /etc/default: says why" 'Read-only file system' "$T/.err"
	umount "$R/etc/default"
	[ ! -e "$R/etc/default/grub.d/99-acso.cfg" ] && t_pass "read-only: nothing written" || t_fail "read-only: nothing written"
else
	t_fail "read-only /etc/default: cannot bind-mount read-only (tests need root)"
fi
R=$T/r/full
mkroot cloudimg-22.04 "$R"
cp -a "$R/etc/default" "$T/full-orig"
if mount -t tmpfs -o size=16k tmpfs "$R/etc/default"; then
	t_on_exit "umount '$R/etc/default'"
	cp -a "$T/full-orig/." "$R/etc/default/"
	dd if=/dev/zero of="$R/etc/default/filler" bs=1k count=64 2>/dev/null
	t_exit 1 "full disk: exit 1" "$ACSO" grub --root "$R"
	t_grep "full disk: says why" 'No space left on device' "$T/.err"
	rm -f "$R/etc/default/filler"
	if diff -r "$T/full-orig" "$R/etc/default" >/dev/null && [ -z "$(find "$R/etc/default" -name '.*acso-tmp*')" ]; then
		t_pass "full disk: no half-written file, no temp file left"
	else
		t_fail "full disk: nothing left behind" "$(find "$R/etc/default")"
	fi
	t_exit 0 "full disk: the next run succeeds once there is space" "$ACSO" grub --root "$R"
	umount "$R/etc/default"
else
	t_fail "full disk: cannot mount a tmpfs (tests need root)"
fi

# kill -9 at random points: every file whole and valid shell, and the next
# run ends in the same state as an uninterrupted one.
for c in cloudimg-22.04 late-override; do
	R=$T/r/ref-$c
	mkroot $c "$R"
	"$ACSO" grub --root "$R" >/dev/null 2>&1
	(cd "$R" && find etc/default -type f ! -name '*.acso-bak' -exec md5sum {} + | sort) >"$T/ref-$c"
done
for i in $(seq 1 20); do
	if [ $((i % 2)) = 0 ]; then c=cloudimg-22.04; else c=late-override; fi
	R=$T/r/kill
	mkroot $c "$R"
	STUB_SLEEP=0.05 "$ACSO" grub --root "$R" >/dev/null 2>&1 &
	pid=$!
	t_track_pid $pid
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	bad=""
	for f in "$R"/etc/default/grub "$R"/etc/default/grub.d/*.cfg; do
		sh -n "$f" 2>/dev/null || bad="$bad $f"
	done
	# a temp file of an interrupted write may remain, never as *.cfg (not sourced)
	[ -z "$(find "$R/etc/default" -name '*.cfg' -name '.*acso-tmp*')" ] || bad="$bad temp-file-sourced"
	effective "$R" >"$T/k"
	n=$(printf '%s\n' $(val GRUB_CMDLINE_LINUX "$T/k") $(val GRUB_CMDLINE_LINUX_DEFAULT "$T/k") | grep -c -x 'pcie_acs_override=downstream')
	[ "$n" -le 1 ] || bad="$bad twice"
	"$ACSO" grub --root "$R" >/dev/null 2>&1 || bad="$bad rerun-failed"
	[ -z "$(find "$R/etc/default" -name '.*acso-tmp*')" ] || bad="$bad temp-file-left-after-rerun"
	(cd "$R" && find etc/default -type f ! -name '*.acso-bak' -exec md5sum {} + | sort) >"$T/k-md5"
	cmp -s "$T/ref-$c" "$T/k-md5" || bad="$bad differs-from-uninterrupted"
	[ ! -e "$R/var/lib/acso/grub-pending" ] || bad="$bad still-pending"
	[ -z "$bad" ] && t_pass "kill -9 #$i ($c): consistent, re-run completes to the same files" || t_fail "kill -9 #$i" "$bad"
done
t_done
