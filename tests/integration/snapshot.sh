#!/usr/bin/env bash
# acso snapshot: the archive replays with --root (unpacked or directly) to
# the same reports; hostile archives are refused; written atomically.
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed

t_exit 0 "snapshot FILE" "$ACSO" snapshot --root "$FIXTURES/seed" "$T/s.tar.gz"
t_ok "archive exists" test -s "$T/s.tar.gz"
tar tzf "$T/s.tar.gz" >"$T/list"
for p in 'sys/bus/pci/devices/0000:01:00.0' 'sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/config' \
	'sys/kernel/iommu_groups/1/devices/0000:02:00.3' proc/cpuinfo proc/cmdline proc/version \
	proc/version_signature proc/sys/kernel/osrelease etc/default/grub etc/os-release var/log/dmesg; do
	t_grep "archive holds $p" "^$p\$" "$T/list"
done
t_nogrep "archive holds no /etc/passwd" '^etc/passwd' "$T/list"
tar xzf "$T/s.tar.gz" -C "$(mkdir -p "$T/x" && echo "$T/x")"
t_ok "sysfs links stay relative" test "$(readlink "$T/x/sys/bus/pci/devices/0000:01:00.0")" = "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"
for c in groups check; do
	"$ACSO" $c --json --root "$FIXTURES/seed" >"$T/a.json" 2>/dev/null
	"$ACSO" $c --json --root "$T/x" >"$T/b.json" 2>/dev/null
	t_ok "$c: unpacked snapshot replays the same" cmp -s "$T/a.json" "$T/b.json"
	"$ACSO" $c --json --root "$T/s.tar.gz" >"$T/c.json" 2>/dev/null
	t_ok "$c: --root ARCHIVE replays the same" cmp -s "$T/a.json" "$T/c.json"
done
t_grep "kernel log kept: DMAR lines" 'DMAR: IOMMU enabled' "$T/x/var/log/dmesg"
t_nogrep "kernel log: ACPI FACS is not an ACS line" 'FACS' "$T/x/var/log/dmesg"
export TMPDIR=$T/tmp; mkdir -p "$TMPDIR"
"$ACSO" groups --root "$T/s.tar.gz" >/dev/null 2>&1
t_ok "--root ARCHIVE leaves no temp dir" test -z "$(ls -A "$TMPDIR")"

# Default names in the work dir; --before; --dry-run writes nothing.
t_exit 0 "snapshot default path" "$ACSO" --work-dir "$T/w" snapshot --root "$FIXTURES/seed"
t_grep "default name snapshot-<UTC>.tar.gz" "/snapshots/snapshot-[0-9]{8}T[0-9]{6}Z\.tar\.gz$" "$T/.out"
t_exit 0 "snapshot --dry-run" "$ACSO" --work-dir "$T/w3" --dry-run snapshot --root "$FIXTURES/seed"
t_ok "--dry-run wrote nothing" test ! -e "$T/w3"
t_exit 0 "snapshot --json" "$ACSO" --json snapshot --root "$FIXTURES/seed" "$T/j.tar.gz"
t_ok "snapshot --json path" test "$(jq -r .path "$T/.out")" = "$T/j.tar.gz"
t_ok "no temp file left next to it" test "$(ls -a "$T" | grep -c '^\.j\.tar\.gz')" = 0
t_exit 2 "FILE and --before together" "$ACSO" snapshot --before "$T/x.tar.gz"
t_exit 1 "snapshot into an unwritable place" "$ACSO" snapshot --root "$FIXTURES/seed" /proc/nope/s.tar.gz

# Hostile archives given to --root.
mkdir -p "$T/h/sys"; ln -s /etc "$T/h/sys/evil"
python3 - "$T" <<'PY'
import sys, tarfile, io
T = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{T}/{name}", "w:gz") as t:
        for m, data in members:
            if data is not None:
                m.size = len(data)
                t.addfile(m, io.BytesIO(data))
            else:
                t.addfile(m)
a = tarfile.TarInfo("../escape"); mk("dotdot.tar.gz", [(a, b"x")])
b = tarfile.TarInfo("/abs"); mk("abs.tar.gz", [(b, b"x")])
c = tarfile.TarInfo("dev/null2"); c.type = tarfile.CHRTYPE; mk("dev.tar.gz", [(c, None)])
l = tarfile.TarInfo("sys/evil"); l.type = tarfile.SYMTYPE; l.linkname = "/tmp"
f = tarfile.TarInfo("sys/evil/owned"); mk("through-link.tar.gz", [(l, None), (f, b"x")])
big = tarfile.TarInfo("big"); mk("big.tar.gz", [(big, b"\0" * (2 << 20))])
PY
for h in dotdot abs dev through-link big; do
	t_exit 1 "hostile archive refused: $h" "$ACSO" groups --root "$T/$h.tar.gz"
done
t_ok "nothing written outside through the link" test ! -e /tmp/owned
printf 'not an archive' >"$T/junk.tar.gz"
t_exit 1 "garbage archive refused" "$ACSO" groups --root "$T/junk.tar.gz"
t_grep "garbage archive explained" "--root '.*junk.tar.gz': " "$T/.err"
t_done
