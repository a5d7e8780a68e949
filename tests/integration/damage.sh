#!/usr/bin/env bash
# Property test of the sysfs reader: randomly damaged copies of the fixture
# trees (files deleted, truncated, garbled; symlinks made dangling or
# looping; directories replaced). For every copy, groups, check and verify
# must not crash (no sanitizer report under the ASan build) and must exit
# with 0, 1, 3 or 4. DAMAGE_SEED=N replays a run; DAMAGE_ROUNDS sets its size.
. "$(dirname "$0")/../lib.sh"
export ACSO_PCI_IDS=$FIXTURES/pci.ids USER=seed
seed=${DAMAGE_SEED:-$RANDOM}
rounds=${DAMAGE_ROUNDS:-25}
echo "# DAMAGE_SEED=$seed"

damage() { # damage SRC DST ROUND
	python3 - "$1" "$2" "$seed" "$3" <<'PY'
import os, random, shutil, sys
src, dst, seed, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed * 1000 + rnd)
shutil.copytree(src, dst, symlinks=True)
files, links, dirs = [], [], []
for root, ds, fs in os.walk(dst):
    for f in fs:
        p = os.path.join(root, f)
        (links if os.path.islink(p) else files).append(p)
    for d in ds:
        p = os.path.join(root, d)
        (links if os.path.islink(p) else dirs).append(p)
for _ in range(rng.randint(1, 8)):
    op = rng.choice(['delete', 'truncate', 'garble', 'dangle', 'loop', 'rmdir', 'emptydir', 'hexjunk'])
    try:
        if op == 'delete' and files:
            os.unlink(rng.choice(files))
        elif op == 'truncate' and files:
            f = rng.choice(files)
            os.truncate(f, rng.randint(0, max(0, os.path.getsize(f))))
        elif op == 'garble' and files:
            f = rng.choice(files)
            n = os.path.getsize(f)
            with open(f, 'r+b') as h:
                for _ in range(rng.randint(1, 16)):
                    h.seek(rng.randint(0, max(0, n - 1)))
                    h.write(bytes([rng.randint(0, 255)]))
        elif op == 'hexjunk' and files:
            with open(rng.choice(files), 'w') as h:
                h.write(rng.choice(['0x', '0xffffffffff', '-1', '', 'garbage', '0x10de\n0x10de', '\0\0']))
        elif op == 'dangle' and links:
            l = rng.choice(links); os.unlink(l); os.symlink('../nowhere/at/all', l)
        elif op == 'loop' and links:
            l = rng.choice(links); os.unlink(l); os.symlink(os.path.basename(l), l)
        elif op == 'rmdir' and dirs:
            shutil.rmtree(rng.choice(dirs), ignore_errors=True)
        elif op == 'emptydir':
            os.makedirs(os.path.join(dst, 'sys/kernel/iommu_groups', str(rng.randint(0, 99)), 'devices'), exist_ok=True)
    except OSError:
        pass
PY
}

fixtures=(seed seed-after-override desktop-clean amd-chipset-shared laptop-3d port-has-acs iommu-off)
bad=0
for ((i = 0; i < rounds; i++)); do
	f=${fixtures[$((i % ${#fixtures[@]}))]}
	rm -rf "$T/d"
	damage "$FIXTURES/$f" "$T/d" "$i"
	for c in groups "groups --json" "groups --tree" check verify; do
		# shellcheck disable=SC2086
		"$ACSO" --work-dir "$T/w" $c --root "$T/d" >/dev/null 2>"$T/err"
		rc=$?
		case $rc in 0|1|3|4) ;; *) bad=1; t_fail "round $i ($f): $c exited $rc" "$(tail -5 "$T/err")" ;; esac
		if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err"; then
			bad=1; t_fail "round $i ($f): $c sanitizer report" "$(grep -m3 -E 'ERROR|runtime error' "$T/err")"
		fi
	done
done
[ $bad = 0 ] && t_pass "$rounds damaged trees x 5 commands: no crash, exit codes in {0,1,3,4}"
t_done
