#!/usr/bin/env bash
# Inputs below --root that are not regular files (issue 15, item 18): a FIFO
# as a device's sysfs `config` must not hang groups, check, verify or
# snapshot, and a block device node there must not be read into a snapshot.
# sysfs attributes are regular files: anything else is skipped.
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed
cfg=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/config
test -f "$FIXTURES/seed/$cfg" || { t_fail "the seed fixture has $cfg"; t_done; }

R=$T/fifo
cp -a "$FIXTURES/seed" "$R"
rm "$R/$cfg" && mkfifo "$R/$cfg"
# Each command under a timeout: today's code blocks in open() for ever.
for c in groups check verify snapshot; do
	args=("$c" --root "$R")
	[ "$c" = snapshot ] && args+=("$T/fifo-snap.tar.gz")
	timeout 20 "$ACSO" --work-dir "$T/w" "${args[@]}" >"$T/$c.out" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] && t_pass "$c with a FIFO config does not hang" ||
		t_fail "$c with a FIFO config does not hang" "killed by the 20 s timeout"
	[ "$rc" -lt 64 ] && [ -s "$T/$c.out" ] && t_pass "$c with a FIFO config still reports" ||
		t_fail "$c with a FIFO config still reports" "exit $rc" "$(tail -3 "$T/$c.out")"
done
timeout 20 "$ACSO" groups --root "$R" >"$T/g.txt" 2>&1
t_grep "groups still lists the device behind the FIFO" '01:00\.0' "$T/g.txt"
tar tzf "$T/fifo-snap.tar.gz" >"$T/list" 2>/dev/null
t_nogrep "the FIFO is not in the snapshot" "^$cfg\$" "$T/list"

# A block device node holding "the host's disk": a loop device over a file
# with a marker. Its bytes must not land in the snapshot.
B=$T/blk
cp -a "$FIXTURES/seed" "$B"
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"HOST-DISK-BYTES-4f1c" * 205)' "$T/disk.img"
if loop=$(losetup -f --show "$T/disk.img" 2>/dev/null); then
	t_on_exit "losetup -d $loop"
	rm "$B/$cfg" && mknod "$B/$cfg" b "$((16#$(stat -c %t "$loop")))" "$((16#$(stat -c %T "$loop")))"
	t_exit 0 "snapshot with a block device as config" timeout 20 "$ACSO" snapshot --root "$B" "$T/blk.tar.gz"
	mkdir -p "$T/bx" && tar xzf "$T/blk.tar.gz" -C "$T/bx"
	t_ok "the block device's bytes are not in the snapshot" bash -c "! grep -rq HOST-DISK-BYTES '$T/bx'"
	t_ok "the block device is not in the snapshot" test ! -e "$T/bx/$cfg"
	t_ok "the other config files are" test -s "$T/bx/sys/devices/pci0000:00/0000:00:01.0/config"
else
	t_fail "a loop device for the block-device case" "losetup -f failed (root and loop support are needed)"
fi

# A char device as an attribute is not read either (a watchdog is armed by open).
C=$T/chr
cp -a "$FIXTURES/seed" "$C"
rm "$C/$cfg" && mknod "$C/$cfg" c 1 3
t_exit 0 "snapshot with a character device as config" timeout 20 "$ACSO" snapshot --root "$C" "$T/chr.tar.gz"
tar tzf "$T/chr.tar.gz" >"$T/clist"
t_nogrep "the character device is not in the snapshot" "^$cfg\$" "$T/clist"
t_done
