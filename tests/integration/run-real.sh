#!/usr/bin/env bash
# acso run with the REAL step commands end to end: a local kernel.org mirror
# (tests/mirror), a throwaway root (a bare dpkg root with Debian 12's
# /etc/default/grub), stub make and chroot on PATH. Every step runs in order;
# the ACS kernel's packages end up installed in the root and the override in
# GRUB's drop-in; a second run does nothing. Then a power cut (kill -9 of the
# whole session) at deterministic points inside every step, each followed by
# a run that must end exactly where the uninterrupted run ended.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stubs/setup.sh"

"$TOP/tests/mirror/make-mirror" "$T/m" --no-hostile >"$T/make-mirror.log" 2>&1 || { t_fail "make-mirror" "$(tail -5 "$T/make-mirror.log")"; t_done; }
read -r port spid < <("$TOP/tests/mirror/serve" "$T/m")
[ -n "${spid:-}" ] || { t_fail "serve the mirror"; t_done; }
t_track_pid "$spid"
printf 'keyring = %s\n' "$T/m/keyring.gpg" >"$T/acso.conf"
STEPS="resolve fetch patch config build snapshot install grub"

# mkroot (tests/stubs/setup.sh) plus what the steps read: GRUB's defaults,
# an Intel CPU, an update-grub to regenerate through (the stub chroot), the
# running kernel's config (the config step's base).
realroot() {
	rm -rf "$1"
	mkroot "$1"
	cp -a "$TOP/tests/grub-corpus/debian-12/." "$1/"
	printf 'vendor_id\t: GenuineIntel\n' >"$1/proc/cpuinfo"
	mkdir -p "$1/usr/sbin"
	touch "$1/usr/sbin/update-grub"
	printf 'CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_LOCALVERSION=""\n' >"$1/boot/config-6.1.0-13-amd64"
}
run_argv() { RUN=("$ACSO" --config "$T/acso.conf" --work-dir "$1" --root "$2" run --mirror "http://127.0.0.1:$port" --allow-root); }
# "step state" per line, in the state file's order
states() { jq -r '.steps | to_entries[] | "\(.key) \(.value.state)"' "$1"; }
# the ACS kernel's packages as dpkg knows them: name, version, status
packages() { dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' 'linux-*' 2>/dev/null | sort; }
# What a run leaves, one line per fact, each led by what it is about:
#   state    each step and its state
#   report   each step's report, normalized (below), work dir and root replaced
#   package  the ACS kernel's packages in the root (name, Debian version, status)
#   file     the kernel's files in the root, the drop-in's SHA-256
#   tree     every file of the kernel tree with its SHA-256
#   work     every name in the work directory but the logs (their names carry times)
#   root     every name in the root (with work: what a cut-off write left behind)
fingerprint() {
	local w=$1 r=$2 rel=6.1.192-acso
	jq -r --arg W "$w" --arg R "$r" -f /dev/stdin "$w/state/auto.json" <<'JQ'
.steps as $steps
| ($steps | to_entries | sort_by(.key) | .[] | "state \(.key) \(.value.state)"),
  ($steps | with_entries(.value |= .outputs)
  # The only report fields normalized are those that describe what one
  # invocation did, not what it left behind:
  # where the mirror's releases.json came from (the network, or the cache of
  # the run that was cut off): the resolved target is compared
  | del(.resolve.releases_cached)
  # whether the verified tarball was downloaded now or by the cut-off run:
  # its URL and SHA-256 are compared
  | del(.fetch.from_cache)
  # what this invocation changed in the tree: a run after a cut finds the
  # override, or its code without the documentation, already placed (the
  # tree itself is compared file by file)
  | if .patch.override.state == "already-acso" then .patch.override.state = "placed" else . end
  | if .patch.override.documentation == "present" then .patch.override.documentation = "placed" else . end
  | del(.patch.override.table_line, .patch.override.entry_line, .patch.override.code_line,
        .patch.override.callback, .patch.override.doc_line, .patch.files_changed, .patch.files_written)
  # how long the config step's compile check took
  | del(.config.compile_check.seconds)
  # timings, the name of the build's log (a timestamp), whether this
  # invocation built or reported the build its cut-off attempt finished, and
  # the key acso run gave the attempt (new for every attempt but the
  # resumption of one that was cut off); the packages, their SHA-256 (the
  # stub builds reproducibly) and the versions are compared
  | del(.build.seconds, .build.built_at, .build.log, .build.reused, .build.reuse_key)
  # the archive stores the time it was taken: its compressed size changes by
  # a byte or two from one snapshot to the next (the file counts are compared)
  | del(.snapshot.bytes)
  # what acso grub changed this time differs after an interruption; the
  # result (and the drop-in's bytes, compared below) must not
  | .grub |= {parameters, method, file, cmdline, boot_manager}
  | to_entries[] | "report \(.key) \(.value | tojson | split($W) | join("W") | split($R) | join("R"))")
JQ
	packages "$r" | sed 's/^/package /'
	echo "file vmlinuz $(stat -c %s "$r/boot/vmlinuz-$rel" 2>&1)"
	echo "file modules $(test -d "$r/lib/modules/$rel" && echo directory)"
	echo "file drop-in $(sha256sum <"$r/etc/default/grub.d/99-acso.cfg" 2>&1)"
	(cd "$w/src/linux-6.1.192" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sed 's/^/tree /'
	(cd "$w" && find . \( -path ./logs -o -path ./build/logs \) -prune -o -print) | sort | sed 's/^/work /'
	(cd "$r" && find . -print) | sort | sed 's/^/root /'
}

# ---- the uninterrupted run --------------------------------------------------
W=$T/ref-work R=$T/ref-root
realroot "$R"
run_argv "$W" "$R"
t_exit 0 "run with the real steps exits 0" "${RUN[@]}"
cp "$T/.err" "$T/ref.err"
[ "$(sed -n 's/^==> //p' "$T/ref.err" | tr '\n' ' ')" = "$STEPS " ] &&
	t_pass "every step ran, in order" || t_fail "every step ran, in order" "$(cat "$T/ref.err")"
[ "$(states "$W/state/auto.json" | tr '\n' ' ')" = "$(for s in $STEPS; do printf '%s done ' "$s"; done)" ] &&
	t_pass "every step exited 0 and is recorded done" || t_fail "every step done" "$(states "$W/state/auto.json")"
t_grep "resolve matched the root's running 6.1.0-13-amd64 to 6.1.192" '"target":"6\.1\.192"' <(jq -c '.steps.resolve.outputs' "$W/state/auto.json")
packages "$R" >"$T/ref-packages"
printf '%s\n' 'linux-headers-6.1.192-acso 6.1.192-acso-1 ii ' 'linux-image-6.1.192-acso 6.1.192-acso-1 ii ' >"$T/want-packages"
cmp -s "$T/want-packages" "$T/ref-packages" && t_pass "dpkg in the root: image and headers of 6.1.192-acso installed, version -1, no linux-libc-dev" ||
	t_fail "packages installed in the root" "$(cat "$T/ref-packages")"
t_ok "vmlinuz-6.1.192-acso is in the root's /boot" test -s "$R/boot/vmlinuz-6.1.192-acso"
t_ok "/lib/modules/6.1.192-acso is in the root" test -d "$R/lib/modules/6.1.192-acso"
t_grep "the drop-in sets pcie_acs_override=downstream" 'pcie_acs_override=downstream' "$R/etc/default/grub.d/99-acso.cfg"
t_grep "grub.cfg was regenerated by update-grub inside the root" '^update-grub$' "$T/bin/chroot.argv"
fingerprint "$W" "$R" >"$T/ref-print" || t_fail "fingerprint of the uninterrupted run"
t_grep "the tree carries the override" 'pcie_acs_overrides' "$W/src/linux-6.1.192/drivers/pci/quirks.c"

# A second run: nothing to do, no step runs, nothing is rewritten.
stamp() { stat -c '%n %s %.9Y' "$W/state/auto.json" "$W"/logs/auto/*.log; }
stamp >"$T/stamp1"
cp "$W/state/auto.json" "$T/state1"
start=$(date +%s%N)
t_exit 0 "a second run exits 0" "${RUN[@]}"
ms=$((($(date +%s%N) - start) / 1000000))
t_grep "a second run says there is nothing to do" '^Nothing to do: every step is done' "$T/.out"
t_nogrep "a second run runs no step" '^==> ' "$T/.err"
stamp >"$T/stamp2"
cmp -s "$T/stamp1" "$T/stamp2" && cmp -s "$T/state1" "$W/state/auto.json" && t_pass "a second run rewrites no step log and leaves the state file alone" ||
	t_fail "a second run rewrites nothing" "$(diff "$T/stamp1" "$T/stamp2")"
[ $ms -lt 2000 ] && t_pass "a second run returns within 2 s ($ms ms)" || t_fail "a second run returns within 2 s" "$ms ms"

# ---- power cuts --------------------------------------------------------------
# The state before each step, made once with `run --only STEP` in the paths
# every cut uses (the state file holds absolute paths): a cut inside step S
# starts from the state before S, so each cut costs S and the steps after it.
KW=$T/kill-work KR=$T/kill-root
run_argv "$KW" "$KR"
KRUN=("${RUN[@]}")
realroot "$KR"
for s in $STEPS; do
	mkdir -p "$T/before/$s"
	cp -a "$KW" "$T/before/$s/work" 2>/dev/null || mkdir -p "$T/before/$s/work"
	cp -a "$KR" "$T/before/$s/root"
	"${KRUN[@]}" --only "$s" >/dev/null 2>"$T/only.err" || t_fail "prepare the state before the step after $s" "$(tail -3 "$T/only.err")"
done
cc -shared -fPIC -o "$T/crashpoint.so" "$TOP/tests/stubs/crashpoint.c" -ldl || t_fail "build tests/stubs/crashpoint.c"

# cut STEP HOW ARG — start a run from the state before STEP, wait until it
# holds at the point HOW/ARG names, kill -9 its whole session, then run
# again and compare with the uninterrupted run. HOW:
#   rename PROC:N  the N-th rename (file commit) of the acso process PROC
#                  (a step, or "run": the orchestrator saves the state file
#                  once when a step starts and once when it is done) does
#                  not happen (tests/stubs/crashpoint.c)
#   make TARGET    the stub make holds in TARGET (bindeb-pkg: after the image package)
#   chroot CMD     the stub chroot holds in CMD (update-grub)
#   postinst       the image package's postinst holds (dpkg is configuring it)
ncut=0
cut() {
	local step=$1 how=$2 arg=${3:-} held pid bad="" env=()
	ncut=$((ncut + 1))
	rm -rf "$KW" "$KR"
	cp -a "$T/before/$step/work" "$KW"
	cp -a "$T/before/$step/root" "$KR"
	rm -f "$T/held" "$T/bin/make.hold" "$T/bin/make.held" "$T/bin/chroot.hold" "$T/bin/chroot.held"
	case $how in
	rename) held=$T/held env=(LD_PRELOAD="$T/crashpoint.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" ACSO_CRASH_STEP="${arg%:*}" ACSO_CRASH_AT="${arg#*:}" ACSO_CRASH_HELD="$T/held") ;;
	make) held=$T/bin/make.held; echo "$arg" >"$T/bin/make.hold" ;;
	chroot) held=$T/bin/chroot.held; echo "$arg" >"$T/bin/chroot.hold" ;;
	postinst) held=$KR/acso-test-held; : >"$KR/acso-test-hold" ;;
	esac
	env "${env[@]}" setsid "${KRUN[@]}" >"$T/cut.out" 2>&1 </dev/null &
	pid=$!
	# Not a process group leader, so setsid made the session in place: its
	# id (and the process group's) is $pid. Should the test end before the
	# cut, the exit handler cuts it; the flag keeps it from signalling a
	# reused id once the session is gone.
	: >"$T/.session-$pid"
	t_on_exit "[ -e '$T/.session-$pid' ] && kill -9 -- -$pid"
	for _ in $(seq 600); do [ -e "$held" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	if [ -e "$held" ]; then
		kill -9 -- -$pid
	else
		bad="never-reached-the-point"
		kill -9 -- -$pid 2>/dev/null
	fi
	wait $pid 2>/dev/null
	rm -f "$T/.session-$pid"
	# Nothing of the session may live on (zombies waiting for init are dead).
	local alive
	for _ in $(seq 100); do
		alive=$(ps -s $pid -o pid=,stat= | awk '$2 !~ /^Z/ {print $1}')
		[ -z "$alive" ] && break
		sleep 0.05
	done
	[ -z "$alive" ] || bad="$bad survivors-of-the-cut($alive)"
	local what
	what=$(sed -E 's#(^| )[^ ]*/#\1#g' "$T/held" 2>/dev/null || echo "$how${arg:+ $arg}")
	rm -f "$T/bin/make.hold" "$T/bin/chroot.hold" "$KR/acso-test-hold" "$KR/acso-test-held"
	# The cut happened inside STEP: the state file says it is running.
	[ "$(jq -r ".steps.$step.state" "$KW/state/auto.json" 2>/dev/null)" = running ] || bad="$bad not-inside-$step($(states "$KW/state/auto.json" 2>/dev/null | tr '\n' ' '))"

	"${KRUN[@]}" >"$T/cut.out" 2>"$T/cut.err" || bad="$bad rerun-failed($(grep -v '^==>' "$T/cut.err" | head -3))"
	[ "$(sed -n 's/^==> //p' "$T/cut.err" | head -1)" = "$step" ] || bad="$bad did-not-resume-at-$step($(sed -n 's/^==> //p' "$T/cut.err" | tr '\n' ' '))"
	# every step done, the same packages, kernel files, drop-in, reports,
	# tree, and no other name in the work dir or the root
	fingerprint "$KW" "$KR" >"$T/k-print" 2>&1
	cmp -s "$T/ref-print" "$T/k-print" || bad="$bad differs-in($(diff "$T/ref-print" "$T/k-print" | sed -n 's/^[<>] \([a-z]*\) .*/\1/p' | sort -u | tr '\n' ' '))"
	"${KRUN[@]}" >"$T/cut.out" 2>&1 && grep -q '^Nothing to do' "$T/cut.out" || bad="$bad a-further-run-does-something"
	if [ -z "$bad" ]; then
		t_pass "cut #$ncut in $step ($what): the next run resumes at $step and ends as the uninterrupted run"
	else
		t_fail "cut #$ncut in $step ($what)" "$bad" "$(diff "$T/ref-print" "$T/k-print" | head -30)"
	fi
}

# resolve: before it caches releases.json, after it printed its report (every
# "run:2" below: the step's work is done, the run has not recorded it)
cut resolve rename resolve:1
cut resolve rename run:2
# fetch: before the verified tarball leaves .part (rename 2 is the move aside
# of an older tree, none here), before the extracted tree is renamed into
# place, before src/current, after its report
cut fetch rename fetch:1
cut fetch rename fetch:3
cut fetch rename fetch:4
cut fetch rename run:2
# patch: before quirks.c, between quirks.c and the documentation, after its report
cut patch rename patch:1
cut patch rename patch:2
cut patch rename run:2
# config: before .config, in make olddefconfig, after its report
cut config rename config:1
cut config make olddefconfig
cut config rename run:2
# build: in make (the image package written), between the packages' moves
# into WORK/build, before manifest.json, before build/current, after its report
cut build make bindeb-pkg
cut build rename build:2
cut build rename build:4
cut build rename build:5
cut build rename run:2
# snapshot: before the archive is renamed into place, after its report
cut snapshot rename snapshot:1
cut snapshot rename run:2
# install: while dpkg configures the image, before installed.json, after its report
cut install postinst
cut install rename install:1
cut install rename run:2
# grub: before the pending mark, before grub.d (made with the drop-in in
# it) is renamed into place, in update-grub, after its report
cut grub rename grub:4
cut grub rename grub:6
cut grub chroot update-grub
cut grub rename run:2
t_done
