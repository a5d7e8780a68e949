#!/usr/bin/env bash
# acso fetch against what issue 15 (B, items 5-7) found: nothing unverified is
# usable. A fake tarball with a set-user-id root binary and a dripping tail is
# staged privately, without the set-id bit, and removed on Ctrl-C (SIGINT, SIGTERM); a
# decompression bomb stops at the SHA-256 check the moment the download ends,
# and extraction is bounded (fetch_max_tree, the free space); data after the
# tar end marker is refused; an endless stream neither runs away nor poisons
# the next fetch; a server dripping above the low-speed limit meets the
# deadline (download_deadline).
. "$(dirname "$0")/../lib.sh"
M=$TOP/tests/mirror
t_mirror "$T/m"
v6=$T/m/pub/linux/kernel/v6.x
conf() { printf '%s\n' "$@" >"$T/acso.conf"; }
conf ''
A=("$ACSO" --config "$T/acso.conf")

# ---- 5. a fake tarball with a setuid binary, its tail dripping -------------
W=$T/w5
"${A[@]}" --work-dir "$W" fetch --keyring "$K" --retries 0 --timeout 30 \
	--mirror "$H/drip-tail/hostile/fake-setuid" 6.6.5 >"$T/5.out" 2>&1 &
fpid=$!
t_track_pid "$fpid"
stage=
for _ in $(seq 300); do
	stage=$(find "$W/src" -maxdepth 1 -name '.6.6.5.stage-*' 2>/dev/null | head -1)
	[ -n "$stage" ] && [ -e "$stage/evil-suid" ] && break
	sleep 0.1
done
if [ -n "$stage" ] && [ -e "$stage/evil-suid" ]; then
	t_pass "the fake tarball is being extracted while its tail drips"
	t_ok "the staging directory is private (0700)" test "$(stat -c %a "$stage")" = 700
	t_ok "the binary lost its set-user-id bit" test ! -u "$stage/evil-suid"
	t_ok "the directory lost its set-group-id bit and others' write" test "$(stat -c %a "$stage/evil-sgid-dir")" = 755
	t_ok "the binary belongs to the extracting user, as the archive says nothing" test "$(stat -c %u "$stage/evil-suid")" = "$(id -u)"
else
	t_fail "the fake tarball is being extracted while its tail drips" "no staging directory with evil-suid in $W/src"
fi
# SIGTERM: a background job of a script has SIGINT ignored (and acso keeps an
# ignored signal ignored, as nohup wants); Ctrl-C takes the same path.
kill -TERM "$fpid"
for _ in $(seq 50); do kill -0 "$fpid" 2>/dev/null || break; sleep 0.1; done
wait "$fpid"; rc=$?
t_ok "SIGTERM ends the fetch with a failure" test "$rc" -ne 0
t_grep "... saying it was interrupted" 'interrupted by signal 15' "$T/5.out"
t_ok "... and removes the staging directory" test -z "$(ls -A "$W/src" 2>/dev/null)"

# ---- 6. a decompression bomb: 1.5 MB of xz, 10 GB of tar -------------------
# Concatenated xz streams (each a tar header, or 100 MB of zeros compressed
# once): made here, in a second.
python3 - "$T/bomb.tar.xz" <<'P'
import lzma, sys, tarfile
top = 'linux-6.6.5/'
def hdr(name, size):
    ti = tarfile.TarInfo(top + name); ti.size = size; ti.mtime = 1700000000; ti.mode = 0o644
    return lzma.compress(ti.tobuf(tarfile.GNU_FORMAT), preset=0)
mk = b'VERSION = 6\nPATCHLEVEL = 6\nSUBLEVEL = 5\n'
zeros = lzma.compress(bytes(100 << 20), preset=0)
with open(sys.argv[1], 'wb') as f:
    f.write(hdr('Makefile', len(mk)) + lzma.compress(mk + bytes(512 - len(mk)), preset=0))
    for i in range(100):
        f.write(hdr('zero%03d' % i, 100 << 20) + zeros)
    f.write(lzma.compress(bytes(1024), preset=0))
P
bsize=$(stat -c %s "$T/bomb.tar.xz")
[ "$bsize" -lt 2000000 ] && t_pass "the bomb is small ($bsize bytes)" || t_fail "the bomb is small" "$bsize bytes"
# A 1 GiB tmpfs as the work dir: a runaway extraction cannot touch the disk.
mkdir -p "$T/tmpfs"
if mount -t tmpfs -o size=1g acso-test "$T/tmpfs"; then
	t_on_exit "umount '$T/tmpfs'"
	B=$T/m/hostile/bomb/pub/linux/kernel/v6.x
	mkdir -p "$B" && cp "$T/bomb.tar.xz" "$B/linux-6.6.5.tar.xz" && cp "$v6/sha256sums.asc" "$v6/linux-6.6.5.tar.sign" "$B/"
	start=$SECONDS
	# The tmpfs's peak use while it runs: what the extraction wrote before
	# the SHA-256 stopped it (today's code fills all 1 GiB).
	timeout 60 "${A[@]}" --work-dir "$T/tmpfs/w6" fetch --keyring "$K" --retries 0 \
		--mirror "$U/hostile/bomb" 6.6.5 >"$T/6.out" 2>&1 &
	bpid=$!
	peak=0
	while kill -0 "$bpid" 2>/dev/null; do
		used=$(df -Pk "$T/tmpfs" | awk 'NR==2 {print $3}')
		[ "$used" -gt "$peak" ] && peak=$used
		sleep 0.05
	done
	wait "$bpid"; rc=$?
	t_ok "a bomb behind the real sums is refused (exit 5)" test "$rc" = 5
	t_grep "... with the SHA-256 message" 'SHA-256 check failed' "$T/6.out"
	[ $((SECONDS - start)) -lt 30 ] && t_pass "... within seconds" || t_fail "... within seconds" "$((SECONDS - start)) s"
	[ "$peak" -lt $((256 << 10)) ] && t_pass "... at once: less than 256 MiB was ever written (${peak} KiB)" ||
		t_fail "... at once: less than 256 MiB was ever written" "peak ${peak} KiB"
	t_ok "... leaving no tree, no staging and no download" test -z "$(ls -A "$T/tmpfs/w6/src" 2>/dev/null)$(ls -A "$T/tmpfs/w6/downloads" 2>/dev/null | grep tar.xz)"
	sum=$(sha256sum <"$T/bomb.tar.xz" | cut -d' ' -f1)
	conf 'fetch_max_tree = 300M'
	t_exit 1 "a bomb with its own SHA-256 stops at fetch_max_tree" timeout 60 "${A[@]}" --work-dir "$T/tmpfs/w6b" \
		fetch --keyring "$K" --tarball "$T/bomb.tar.xz" --sha256 "$sum"
	t_grep "... saying which limit" 'more than 314572800 bytes in all \(limit fetch_max_tree\)' "$T/.err"
	t_ok "... and leaves nothing" test -z "$(ls -A "$T/tmpfs/w6b/src" 2>/dev/null)"
	conf ''
	t_exit 1 "without a ceiling, the free space bounds it" timeout 60 "${A[@]}" --work-dir "$T/tmpfs/w6c" \
		fetch --keyring "$K" --tarball "$T/bomb.tar.xz" --sha256 "$sum"
	t_grep "... with a clear message" "the tree needs more than the [0-9]+ MiB free in '.*'" "$T/.err"
	t_ok "... and leaves nothing" test -z "$(ls -A "$T/tmpfs/w6c/src" 2>/dev/null)"
	conf 'fetch_max_tree = lots'
	t_exit 2 "a bad fetch_max_tree is a usage error" "${A[@]}" --work-dir "$T/w6d" fetch --keyring "$K" --mirror "$U" 6.6.5
	t_grep "... naming the key" "config 'fetch_max_tree = lots': expected a size in bytes" "$T/.err"
	conf ''
else
	t_fail "mount a tmpfs for the bomb" "mount -t tmpfs failed (the test runs as root)"
fi

# ---- 7. data after the end marker, an endless stream, a dripping server ----
xz -dc "$v6/linux-6.6.5.tar.xz" >"$T/tail.tar"
head -c $((4 << 20)) /dev/zero | tr '\0' 'x' >>"$T/tail.tar"
xz -T1 -0 -c "$T/tail.tar" >"$T/tail.tar.xz"
sum=$(sha256sum <"$T/tail.tar.xz" | cut -d' ' -f1)
t_exit 1 "4 MiB after the tar end marker is refused" "${A[@]}" --work-dir "$T/w7" fetch --keyring "$K" \
	--tarball "$T/tail.tar.xz" --sha256 "$sum"
t_grep "... saying so" 'more than 1048576 bytes after the end of the archive' "$T/.err"
t_ok "... and leaves nothing" test -z "$(ls -A "$T/w7/src" 2>/dev/null)"

conf 'fetch_max_download = 2M'
timeout 60 "${A[@]}" --work-dir "$T/w7e" fetch --keyring "$K" --retries 0 --mirror "$H/endless" 6.6.5 >"$T/7e.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && t_pass "an endless stream of zeros is refused" ||
	t_fail "an endless stream of zeros is refused" "exit $rc"
# whichever stops it first: the download limit, the tail after the end marker, the SHA-256
t_grep "... by a bound" 'limit of 2097152 bytes|after the end of the archive|SHA-256 check failed' "$T/7e.out"
t_ok "... and keeps no .part to resume" test -z "$(find "$T/w7e/downloads" -name '*.part' -size +0 2>/dev/null)"
conf ''
t_exit 0 "the next fetch from a good mirror succeeds" "${A[@]}" --work-dir "$T/w7e" fetch --keyring "$K" --retries 0 --mirror "$U" 6.6.5
# A .part an older acso left (1 MiB of junk, as the endless stream did):
# resumed, it fails the SHA-256, and one fresh download follows.
head -c $((1 << 20)) /dev/zero >"$T/w7p.part"
mkdir -p "$T/w7p/downloads" && mv "$T/w7p.part" "$T/w7p/downloads/linux-6.6.5.tar.xz.part"
t_exit 0 "a poisoned .part is not taken for tampering by a good mirror" "${A[@]}" --work-dir "$T/w7p" fetch \
	--keyring "$K" --retries 0 --mirror "$U" 6.6.5
t_ok "... the tarball is the good one" cmp "$T/w7p/downloads/linux-6.6.5.tar.xz" "$v6/linux-6.6.5.tar.xz"

conf 'download_deadline = 3'
start=$SECONDS
t_exit 1 "a server dripping 2 KB/s (above the low-speed limit) meets the deadline" timeout 60 "${A[@]}" \
	--work-dir "$T/w7d" fetch --keyring "$K" --retries 2 --mirror "$H/drip-rate/2048" 6.6.5
t_grep "... named" 'not done within the deadline of 3 s \(download_deadline\)' "$T/.err"
[ $((SECONDS - start)) -lt 10 ] && t_pass "... within seconds, retries included" || t_fail "... within seconds" "$((SECONDS - start)) s"
t_ok "... leaves no tree" test -z "$(ls -A "$T/w7d/src" 2>/dev/null)"
conf 'download_deadline = soon'
t_exit 2 "a bad download_deadline is a usage error" "${A[@]}" --work-dir "$T/w7d" fetch --keyring "$K" --mirror "$U" 6.6.5
t_done
