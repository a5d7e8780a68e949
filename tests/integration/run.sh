#!/usr/bin/env bash
# acso run / status / clean with stubbed steps (tests/integration/stubs/acso-steps,
# through ACSO_RUN_STEP_PROGRAM) and the real `acso grub` as the boot step,
# against fixture roots: every step in order, state after each step, a second
# run does nothing, the build's attempt key, --from/--only, a failing step
# resumes, garbage state, two concurrent runs, no root (exit 9 and the exact
# command), kill -9 at 24 random points, and clean.
. "$(dirname "$0")/../lib.sh"

CORPUS=$TOP/tests/grub-corpus
mkdir -p "$T/bin"
cat >"$T/bin/chroot" <<EOF
#!/bin/sh
echo "\$*" >>"$T/chroot-calls"
exit 0
EOF
chmod +x "$T/bin/chroot"
export PATH=$T/bin:$PATH
export ACSO_RUN_STEP_PROGRAM=$TOP/tests/integration/stubs/acso-steps REAL_ACSO=$ACSO STUB_LOG=$T/steps
unset STUB_SLEEP STUB_FAIL

mkroot() {
	rm -rf "$1"
	mkdir -p "$1/proc" "$1/usr/sbin"
	cp -a "$CORPUS/debian-12/." "$1/"
	printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"
	touch "$1/usr/sbin/update-grub"
}
# steps and their state from a state file: "resolve done" ...
states() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print(k, v["state"]) for k, v in d["steps"].items()]' "$1"; }
# the step reports with the work dir and root replaced, for comparisons
reports() { python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
out={k: v.get("outputs") for k, v in d["steps"].items()}
# what acso grub changed this time differs after an interruption; the result must not
g=out.get("grub") or {}
out["grub"]={k: g.get(k) for k in ("parameters", "method", "file", "cmdline", "boot_manager")}
s=json.dumps(out, sort_keys=True)
print(s.replace(sys.argv[2], "W").replace(sys.argv[3], "R"))' "$1" "$2" "$3"; }

ALL="resolve fetch patch config build snapshot install grub"
R=$T/root
W=$T/work
mkroot "$R"
: >"$T/steps"
t_exit 0 "run: every step runs and exits 0" "$ACSO" --work-dir "$W" run --root "$R"
[ "$(cut -d' ' -f1 "$T/steps" | tr '\n' ' ')" = "$ALL " ] && t_pass "run: steps in order" || t_fail "run: steps in order" "$(cat "$T/steps")"
t_grep "run: fetch gets the resolved version" '^fetch 6\.1\.192$' "$T/steps"
t_grep "run: patch/config/build get the fetched tree; build a key for its attempt" "^build --source-dir=$W/src/linux-6.1.192( --ccache)? --reuse-key=[0-9a-f]{16}\$" "$T/steps"
t_grep "run: the snapshot is taken with --before" '^snapshot --before$' "$T/steps"
t_grep "run: says reboot and verify" "reboot into 6.1.192-acso, then run 'acso verify'" "$T/.out"
t_grep "run: the boot step registered the parameter" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
t_grep "run: the boot step regenerated grub.cfg" "^$R update-grub\$" "$T/chroot-calls"
[ "$(states "$W/state/auto.json" | grep -c ' done$')" = 8 ] && t_pass "state: every step done" || t_fail "state: every step done" "$(states "$W/state/auto.json")"
for s in $ALL; do [ -s "$W/logs/auto/$s.log" ] || [ "$s" = grub ] || [ -e "$W/logs/auto/$s.log" ] || t_fail "log for $s"; done
t_pass "state: a log per step in WORK/logs/auto/"
reports "$W/state/auto.json" "$W" "$R" >"$T/ref-reports"
cp "$R/etc/default/grub.d/99-acso.cfg" "$T/ref-dropin"

# A second run does nothing, quickly.
: >"$T/steps"
start=$(date +%s%N)
t_exit 0 "second run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
ms=$((($(date +%s%N) - start) / 1000000))
t_grep "second run says nothing to do" '^Nothing to do' "$T/.out"
[ ! -s "$T/steps" ] && t_pass "second run runs no step" || t_fail "second run runs no step" "$(cat "$T/steps")"
[ $ms -lt 2000 ] && t_pass "second run returns within 2 s ($ms ms)" || t_fail "second run is quick" "$ms ms"

# A package gone from WORK/build/<release>: the build is not intact and runs again.
mv "$W/build/6.1.192-acso/linux-image-6.1.192-acso_6.1.192-acso-1_amd64.deb" "$T/deb.save"
: >"$T/steps"
t_exit 0 "a package removed: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
[ "$(head -1 "$T/steps" | cut -d' ' -f1)" = build ] && t_pass "a package removed: the run resumes at build" || t_fail "a package removed: resume at build" "$(cat "$T/steps")"
: >"$T/steps"
t_exit 0 "after the rebuild, a run does nothing" "$ACSO" --work-dir "$W" run --root "$R"
[ ! -s "$T/steps" ] && t_pass "after the rebuild, no step runs" || t_fail "after the rebuild, no step runs" "$(cat "$T/steps")"
rm -f "$T/deb.save"

# A build cut off after its work (its record still says running) goes on
# under the key of that attempt, so that acso build can report what it
# finished; any other run of the step (--from) is a new attempt, a new key.
key1=$(jq -r .steps.build.reuse_key "$W/state/auto.json")
jq '.steps.build.state = "running"' "$W/state/auto.json" >"$T/st" && mv "$T/st" "$W/state/auto.json"
: >"$T/steps"
t_exit 0 "a build left running: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
t_grep "a build left running resumes under its attempt's key" "^build .* --reuse-key=$key1\$" "$T/steps"
: >"$T/steps"
t_exit 0 "--from build" "$ACSO" --work-dir "$W" run --root "$R" --from build
t_grep "--from build: a new key" "^build .* --reuse-key=[0-9a-f]{16}\$" "$T/steps"
t_nogrep "--from build: not the old attempt's key" "--reuse-key=$key1" "$T/steps"

# status
t_exit 0 "status exits 0" "$ACSO" --work-dir "$W" status
t_grep "status shows each step with state, time and log" "^  build +done +[0-9T:-]+Z +[0-9.]+  $W/logs/auto/build.log\$" "$T/.out"
t_exit 0 "status --json" "$ACSO" --work-dir "$W" status --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["targets"]["auto"]["steps"]["grub"]["state"]=="done"' "$T/.out" &&
	t_pass "status --json carries the state" || t_fail "status --json"
t_exit 1 "status of an unknown target" "$ACSO" --work-dir "$W" status nosuch

# --from and --only
: >"$T/steps"
t_exit 0 "--from install" "$ACSO" --work-dir "$W" run --root "$R" --from install
[ "$(cut -d' ' -f1 "$T/steps" | tr '\n' ' ')" = "install grub " ] && t_pass "--from install reruns install and grub only" || t_fail "--from" "$(cat "$T/steps")"
: >"$T/steps"
t_exit 0 "--only build" "$ACSO" --work-dir "$W" run --root "$R" --only build
[ "$(cut -d' ' -f1 "$T/steps")" = "build" ] && t_pass "--only build runs build alone" || t_fail "--only" "$(cat "$T/steps")"
: >"$T/steps"
t_exit 0 "--only config --base --profile" "$ACSO" --work-dir "$W" run --root "$R" --only config --base tinyconfig --profile qemu
t_grep "--base and --profile reach the config step" "^config --source-dir=$W/src/linux-6.1.192 --base=tinyconfig --profile=qemu\$" "$T/steps"
t_exit 2 "--from with an unknown step" "$ACSO" --work-dir "$W" run --root "$R" --from frobnicate

# A failing step: the error names it and its log; the next run resumes there.
: >"$T/steps"
STUB_FAIL=config t_exit 1 "failing step: exit 1" "$ACSO" --work-dir "$W" run --root "$R" --from patch
t_grep "failing step: named, with its log" "step 'config' failed.*status 1" "$T/.err"
t_grep "failing step: the log's last lines are shown" 'stub: config failed on purpose' "$T/.err"
t_grep "failing step: says it resumes" "resumes at 'config'" "$T/.err"
states "$W/state/auto.json" >"$T/st"
t_grep "failing step: recorded as failed" '^config failed$' "$T/st"
: >"$T/steps"
t_exit 0 "after the failure: the next run succeeds" "$ACSO" --work-dir "$W" run --root "$R"
[ "$(head -1 "$T/steps" | cut -d' ' -f1)" = config ] && t_pass "after the failure: resumes at config, not before" || t_fail "resume at config" "$(cat "$T/steps")"

# Garbage in the state file.
printf 'garbage{"steps":' >"$W/state/auto.json"
: >"$T/steps"
t_exit 0 "garbage state: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
t_grep "garbage state: says so" 'not a valid state record' "$T/.err"
[ -e "$W/state/auto.json.bad" ] && t_pass "garbage state: moved aside" || t_fail "garbage state: moved aside"
[ "$(wc -l <"$T/steps")" = 8 ] && t_pass "garbage state: every step ran again" || t_fail "garbage state reruns" "$(cat "$T/steps")"
head -c 100 "$W/state/auto.json" >"$T/half" && cp "$T/half" "$W/state/auto.json"
t_exit 0 "truncated state: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"

# Two concurrent runs: the second says who holds the lock.
W2=$T/work2 R2=$T/root2
mkroot "$R2"
STUB_SLEEP=1 "$ACSO" --work-dir "$W2" run --root "$R2" >/dev/null 2>&1 &
bg=$!
t_track_pid $bg
for _ in $(seq 50); do [ -s "$W2/state/lock" ] && break; sleep 0.1; done
t_exit 8 "a second concurrent run exits 8" "$ACSO" --work-dir "$W2" run --root "$R2"
t_grep "the second run says who holds the lock" "held by pid $bg \(acso run" "$T/.err"
wait $bg
t_exit 0 "after the first run ends, a run works" "$ACSO" --work-dir "$W2" run --root "$R2"

# Without root: the unprivileged steps, then exit 9 and the exact command.
W3=$T/work3 R3=$T/root3
mkroot "$R3"
chmod 755 "$R3"
mkdir -p "$W3"
chmod 777 "$T" "$W3"
chmod 666 "$T/steps"
chmod 755 "$TOP/tests/integration/stubs/acso-steps" 2>/dev/null
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	: >"$T/steps"
	t_exit 9 "no root: exit 9" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$W3" "$ACSO" --work-dir "$W3" run --root "$R3"
	t_grep "no root: says which step needs root" "step 'snapshot' changes the system and needs root" "$T/.err"
	t_grep "no root: prints the exact command" "^  sudo .* --work-dir $W3 run --root $R3\$" "$T/.err"
	[ "$(cut -d' ' -f1 "$T/steps" | tr '\n' ' ')" = "resolve fetch patch config build " ] && t_pass "no root: built, nothing installed" || t_fail "no root: steps" "$(cat "$T/steps")"
	[ ! -e "$R3/var/lib/stub-dpkg/installed" ] && t_pass "no root: the system is untouched" || t_fail "no root: untouched"
	: >"$T/steps"
	t_exit 0 "then as root: the privileged steps" "$ACSO" --work-dir "$W3" run --root "$R3"
	[ "$(cut -d' ' -f1 "$T/steps" | tr '\n' ' ')" = "snapshot install grub " ] && t_pass "as root: only snapshot, install, grub ran" || t_fail "as root: steps" "$(cat "$T/steps")"
else
	t_fail "no root: setpriv cannot drop to nobody (tests need root)"
fi

# --dry-run runs nothing.
: >"$T/steps"
t_exit 0 "--dry-run exits 0" "$ACSO" --work-dir "$T/work4" run --root "$R" --dry-run
t_grep "--dry-run shows the first step's command" '^resolve +would run: ' "$T/.out"
[ ! -s "$T/steps" ] && [ ! -e "$T/work4/state/auto.json" ] && t_pass "--dry-run runs and records nothing" || t_fail "--dry-run runs nothing"

# kill -9 at random points (the whole process group: power loss), then the
# next run ends in the same state as the uninterrupted one.
for i in $(seq 1 24); do
	Wk=$T/wk Rk=$T/rk
	rm -rf "$Wk"
	mkroot "$Rk"
	: >"$T/steps"
	STUB_SLEEP=0.08 setsid "$ACSO" --work-dir "$Wk" run --root "$Rk" >/dev/null 2>&1 &
	pid=$!
	t_track_pid $pid
	sleep "0.$(printf '%02d' $((RANDOM % 100)))"
	kill -9 -- -$pid 2>/dev/null || kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	sleep 0.05
	donebefore=""
	[ -e "$Wk/state/auto.json" ] && donebefore=$(states "$Wk/state/auto.json" 2>/dev/null | awk '$2=="done"{print $1}' | tr '\n' ' ')
	killed_at=$(wc -l <"$T/steps")
	bad=""
	"$ACSO" --work-dir "$Wk" run --root "$Rk" >/dev/null 2>"$T/kerr" || bad="rerun-failed($(head -3 "$T/kerr"))"
	rerun=$(tail -n +$((killed_at + 1)) "$T/steps" | cut -d' ' -f1 | tr '\n' ' ')
	for s in $donebefore; do case " $rerun" in *" $s "*) bad="$bad reran-done-step-$s" ;; esac; done
	reports "$Wk/state/auto.json" "$Wk" "$Rk" >"$T/k-reports" 2>/dev/null
	cmp -s "$T/ref-reports" "$T/k-reports" || bad="$bad reports-differ"
	[ "$(states "$Wk/state/auto.json" | grep -c ' done$')" = 8 ] || bad="$bad not-all-done"
	cmp -s "$T/ref-dropin" "$Rk/etc/default/grub.d/99-acso.cfg" || bad="$bad dropin-differs"
	[ "$(cat "$Rk/var/lib/stub-dpkg/installed" 2>/dev/null)" = linux-image-6.1.192-acso ] || bad="$bad not-installed"
	[ -z "$bad" ] && t_pass "kill -9 #$i after $killed_at step(s): rerun resumes (done: ${donebefore:-none}) and ends the same" ||
		t_fail "kill -9 #$i" "$bad"
done

# clean: trees go, verified downloads stay, the next run re-extracts.
mkdir -p "$W/downloads" && echo tar >"$W/downloads/linux-6.1.192.tar.xz"
t_exit 0 "clean exits 0" "$ACSO" --work-dir "$W" clean
[ ! -e "$W/src" ] && [ -e "$W/downloads/linux-6.1.192.tar.xz" ] && t_pass "clean: src trees removed, downloads kept" || t_fail "clean: src/downloads" "$(ls "$W")"
: >"$T/steps"
t_exit 0 "after clean: run exits 0" "$ACSO" --work-dir "$W" run --root "$R"
[ "$(head -1 "$T/steps" | cut -d' ' -f1)" = fetch ] && t_pass "after clean: resumes at fetch (its tree is gone)" || t_fail "after clean" "$(cat "$T/steps")"
t_exit 0 "clean --dry-run" "$ACSO" --work-dir "$W" clean --dry-run
t_grep "clean --dry-run lists the tree" "src" "$T/.out"
[ -d "$W/src" ] && t_pass "clean --dry-run removes nothing" || t_fail "clean --dry-run removes nothing"
t_done
